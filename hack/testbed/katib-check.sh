#!/usr/bin/env bash
# katib-check.sh [ALGORITHM...]: run a Katib Experiment on the test bed for
# each ALGORITHM (default: random tpe cmaes) and print how it ended.
#
# Each Experiment: objective loss, minimized; two double parameters x and y;
# 4 trials, 2 at a time; the StdOut metrics collector; a batch Job trial
# whose container prints loss=(x-1)^2+(y-2)^2. The trial image is Debian's
# static busybox (apt-get install busybox-static), built by fair onto the
# static base and pushed to the test bed's registry. The sleep keeps the
# trial's main process alive until Katib's metrics collector sidecar has
# found it (it fails the trial otherwise).
#
# Runs in the namespace katib-check (made, labelled for Katib's Pod webhook,
# and deleted at the end unless KEEP=1). Exit status 0 when every
# Experiment ends Succeeded with a currentOptimalTrial.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
T=${FAIR_TESTBED_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fair/testbed}
REGISTRY=${FAIR_TESTBED_REGISTRY:-127.0.0.1:5055}
NS=katib-check
kc() { "$T/bin/kube" kubectl --kubeconfig "$T/admin.kubeconfig" "$@"; }
log() { printf '%s katib-check: %s\n' "$(date +%T)" "$*" >&2; }

[ -x /bin/busybox ] || { log "error: /bin/busybox missing (apt-get install busybox-static)"; exit 1; }
fair=${FAIR_BIN:-}
if [ -z "$fair" ]; then
	fair=$T/bin/fair
	(cd "$REPO" && go build -o "$fair" ./cmd/fair)
fi

# The trial image: busybox with the applets the trial uses, at /bin.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dir=$tmp/katib-check-busybox # a fixed name: it is in the image's history
mkdir -p "$dir/bin"
cp /bin/busybox "$dir/bin/"
for a in sh echo awk sleep cat; do ln -s busybox "$dir/bin/$a"; done
img=$("$fair" build "$dir" --workdir / --cmd sh --repo "$REGISTRY/fair-testbed/katib-check-busybox" --tag latest | tail -1)
log "trial image $img"

kc create namespace "$NS" --dry-run=client -o yaml | kc apply -f - >/dev/null
kc label namespace "$NS" katib.kubeflow.org/metrics-collector-injection=enabled --overwrite >/dev/null

experiment() { # NAME ALGORITHM
	cat <<EOF
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: $1, namespace: $NS}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: $2}
  parallelTrialCount: 2
  maxTrialCount: 4
  maxFailedTrialCount: 1
  parameters:
  - {name: x, parameterType: double, feasibleSpace: {min: "-2", max: "2"}}
  - {name: "y", parameterType: double, feasibleSpace: {min: "0", max: "3"}}
  metricsCollectorSpec: {collector: {kind: StdOut}}
  trialTemplate:
    primaryContainerName: training
    trialParameters:
    - {name: x, reference: x}
    - {name: "y", reference: "y"}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        backoffLimit: 0
        template:
          spec:
            restartPolicy: Never
            containers:
            - name: training
              image: $img
              # busybox's awk has no ^ (built without math)
              command: ["sh", "-c", "sleep 3; awk 'BEGIN { x = \${trialParameters.x}; y = \${trialParameters.y}; printf \"loss=%.6f\\\\n\", (x - 1) * (x - 1) + (y - 2) * (y - 2) }'"]
EOF
}

rc=0
algos=("$@")
[ ${#algos[@]} -gt 0 ] || algos=(random tpe cmaes)
for a in "${algos[@]}"; do
	kc -n "$NS" delete experiment "check-$a" --ignore-not-found --wait >/dev/null
	experiment "check-$a" "$a" | kc apply -f - >/dev/null
done
for a in "${algos[@]}"; do
	start=$SECONDS
	kc -n "$NS" wait --for=condition=Succeeded --timeout=240s "experiment/check-$a" >/dev/null 2>&1 || true
	out=$(kc -n "$NS" get experiment "check-$a" -o 'jsonpath={.status.conditions[-1].type}={.status.conditions[-1].status} ({.status.conditions[-1].reason}) trials={.status.trialsSucceeded}/{.status.trials} best={.status.currentOptimalTrial.bestTrialName} loss={.status.currentOptimalTrial.observation.metrics[0].latest} params={.status.currentOptimalTrial.parameterAssignments}')
	echo "check-$a: $out (waited $((SECONDS - start))s)"
	case $out in Succeeded=True*best=check-*) ;; *) rc=1 ;; esac
done
if [ "${KEEP:-}" != 1 ]; then kc delete namespace "$NS" --wait=false >/dev/null; fi
exit $rc
