#!/usr/bin/env bash
# install-deps.sh: everything hack/testbed/testbed needs, idempotent.
#   - Debian packages (etcd, containerd, runc, CNI plugins, registry, tools)
#   - the all-in-one kube binary built from hack/kube into $T/bin/kube
#   - CoreDNS built from hack/coredns, the Kubeflow controllers (Training
#     Operator, Trainer v2, JobSet) from hack/kubeflow and KServe's from
#     hack/kserve, into $T/bin
#   - Argo's workflow-controller and argoexec built from hack/argo into $T/bin
#     (FAIR_TESTBED_ARGO=0 skips them)
#   - Katib's controller, DB manager, goptuna suggestion service and file
#     metrics collector built from hack/katib into $T/bin, and Debian's
#     PostgreSQL for its database (FAIR_TESTBED_KATIB=0 skips them)
# Set FAIR_TESTBED_NO_APT=1 to skip apt (e.g. when the packages come from elsewhere).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=${FAIR_TESTBED_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fair/testbed}
source "$HERE/versions.sh"
log() { printf '%s install-deps: %s\n' "$(date +%T)" "$*" >&2; }
source "$HERE/../timing.sh"

PKGS="etcd-server containerd runc containernetworking-plugins docker-registry iptables conntrack
      socat ebtables ethtool openssl curl bc iproute2 kmod procps"
# Katib's database; setpriv (util-linux) runs it as the user postgres.
[ "${FAIR_TESTBED_KATIB:-1}" = 0 ] || PKGS="$PKGS postgresql util-linux"
if [ "${FAIR_TESTBED_NO_APT:-}" != 1 ]; then
	missing=
	for p in $PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		log "apt-get install$missing"
		export DEBIAN_FRONTEND=noninteractive
		# shellcheck disable=SC2086
		aptget() {
			apt-get install -y --no-install-recommends "$@" >/dev/null ||
				{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "$@" >/dev/null; }
		}
		timed "test bed: apt-get install" aptget $missing
	fi
fi
# Debian starts these as services on install; the test bed runs its own.
for s in containerd docker-registry etcd postgresql; do
	if command -v systemctl >/dev/null && systemctl is-active -q "$s" 2>/dev/null; then
		log "note: system service $s is running; the test bed uses its own instance and ports"
	fi
done

mkdir -p "$T/bin"
# The test bed's programs are other projects': they build with this
# machine's Go, as their own go.mod files ask (the Makefile's GOTOOLCHAIN
# is for fair's code).
export GOTOOLCHAIN=local
# kube first: CoreDNS shares most of its modules (pinned to the same
# versions) and then comes largely from the Go build cache.
log "building $T/bin/kube from hack/kube"
timed "test bed: kube (compile, or the cached binary)" "$HERE/../kube/build.sh" "$T/bin/kube"
ln -sf kube "$T/bin/kubectl"

log "building $T/bin/coredns from hack/coredns (only the plugins the test bed uses)"
timed "test bed: CoreDNS" "$HERE/../coredns/build.sh" "$T/bin/coredns"

# The Training Operator, Trainer v2 and JobSet from one module: they share
# most compiled packages. Skips the build when $T/bin/.kubeflow records the
# same inputs.
log "building the Training Operator, Trainer v2 and JobSet controllers from hack/kubeflow"
timed "test bed: Kubeflow controllers (Training Operator, Trainer v2, JobSet)" "$HERE/../kubeflow/build.sh" "$T/bin"
rm -f "$T/bin/.go-tools" # the stamp of the former go install

# KServe's controller manager (RawDeployment mode), its own module: it
# builds on older Kubernetes libraries than the Kubeflow controllers.
log "building KServe's controller manager from hack/kserve"
timed "test bed: KServe controller" "$HERE/../kserve/build.sh" "$T/bin"

# Skips the build when $T/bin/.argo records the same inputs.
if [ "${FAIR_TESTBED_ARGO:-1}" != 0 ]; then
	log "building Argo's workflow-controller and argoexec ($ARGO) from hack/argo"
	timed "test bed: Argo workflow-controller and argoexec" "$HERE/../argo/build.sh" "$T/bin"
fi
# Katib (hyperparameter tuning), its own module like KServe's, with the same
# Kubernetes libraries, so most of its packages come from the build cache.
if [ "${FAIR_TESTBED_KATIB:-1}" != 0 ]; then
	log "building Katib's controller, DB manager, suggestion service and metrics collector ($KATIB) from hack/katib"
	timed "test bed: Katib" "$HERE/../katib/build.sh" "$T/bin"
fi
log "done; tools in $T/bin"
