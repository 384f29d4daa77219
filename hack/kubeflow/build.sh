#!/usr/bin/env bash
# Build the Kubeflow controllers the test bed runs into BINDIR (default: the
# test bed's bin dir): the Training Operator (v1 jobs), the Trainer v2
# controller manager and the JobSet controller it drives. One module pins
# all three, so they share module versions (client-go, controller-runtime)
# and, in the Go build cache, most of their compiled packages: after the
# first, the others compile little more than their own code. Does nothing
# when BINDIR/.kubeflow records the same inputs.
#
#   hack/kubeflow/build.sh [BINDIR]
set -euo pipefail
cd "$(dirname "$0")"
T=${FAIR_TESTBED_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fair/testbed}
log() { printf '%s kubeflow/build: %s\n' "$(date +%T)" "$*" >&2; }

# The CRDs the test bed installs come from versions.sh; keep both in step.
source ../testbed/versions.sh
for mv in "$TRAINING_OPERATOR" "$TRAINER" "$JOBSET"; do
	if ! grep -q "^[[:space:]]*${mv%@*} ${mv#*@}\$" go.mod; then
		log "error: go.mod does not pin $mv (hack/testbed/versions.sh)"
		exit 1
	fi
done

bin=${1:-$T/bin}
stamp=$bin/.kubeflow
inputs="$(cat go.mod go.sum build.sh | sha256sum | cut -d' ' -f1) $(go env GOVERSION)"
names=(training-operator.v1 trainer-controller-manager jobset)
have=1
for n in "${names[@]}"; do [ -x "$bin/$n" ] || have=; done
if [ -n "$have" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
	exit 0
fi
mkdir -p "$bin/.new"
t0=$SECONDS
log "building ${names[*]}"
# One go build for the three: it compiles each shared package once and
# links the programs in parallel. Built beside the targets and renamed, so
# running controllers keep their files.
CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod nice -n 10 go build -trimpath -ldflags="-s -w" -o "$bin/.new/" \
	"${TRAINING_OPERATOR%@*}/cmd/training-operator.v1" \
	"${TRAINER%@*}/cmd/trainer-controller-manager" \
	"${JOBSET%@*}"
for n in "${names[@]}"; do mv -f "$bin/.new/$n" "$bin/$n"; done
rmdir "$bin/.new"
echo "$inputs" >"$stamp"
log "built in $((SECONDS - t0))s"
