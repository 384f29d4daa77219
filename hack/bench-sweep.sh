#!/usr/bin/env bash
# bench-sweep: the cost of running a training program as Katib trials.
#   overhead per trial: trial created -> its pod Running, against the same
#     Job created directly (kubectl create job) -> its pod Running; medians
#     and the ratio, measured in the same run on the same image;
#   the sweep's wall time against the sum of its trials' run times divided
#     by the parallelism (1.0 would be a perfect scheduler).
#
# Usage: hack/bench-sweep.sh [TRIALS] [PARALLEL]   (default 6 2)
# Needs the test bed up with Katib (hack/testbed/testbed up). The program is
# examples/sweep-go with EPOCH_SECONDS=1 (about 3 s a trial).
set -euo pipefail

TRIALS=${1:-6}
PARALLEL=${2:-2}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
eval "$("$REPO/hack/testbed/testbed" env)"
T=$FAIR_TESTBED_DIR
KUBECTL=${KUBECTL:-"$T/bin/kube kubectl"}
NS=fair-bench-sweep-$$
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; $KUBECTL delete namespace $NS --wait=false >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "building fair and the image..." >&2
(cd "$REPO" && go build -o "$WORK/fair" ./cmd/fair)
REF=$(cd "$REPO" && "$WORK/fair" build ./examples/sweep-go --repo "$FAIR_REGISTRY/fair-bench/sweep-go")
$KUBECTL create namespace $NS >/dev/null
until $KUBECTL -n $NS get serviceaccount default >/dev/null 2>&1; do sleep 0.2; done

# Watches, started before anything is created: each trial's creation and
# each trial pod's first Running, stamped with this machine's clock.
$KUBECTL -n $NS get trials.kubeflow.org -w --no-headers -o custom-columns=N:.metadata.name 2>/dev/null |
	while read -r n; do echo "$n $(now)"; done >"$WORK/created" &
$KUBECTL -n $NS get pods -l fair.dev/sweep=bench,fair.dev/trial -w --no-headers -o 'custom-columns=T:.metadata.labels.fair\.dev/trial,P:.status.phase' 2>/dev/null |
	while read -r n p; do [ "$p" = Running ] && echo "$n $(now)"; done >"$WORK/running" &
sleep 1.5

echo "sweep: $TRIALS trials, $PARALLEL at a time..." >&2
t0=$(now)
"$WORK/fair" sweep --image "$REF" --name bench -n $NS --kubeconfig "$KUBECONFIG" -p lr=0.001..0.1:log -p layers=1..5 \
	--objective loss --trials "$TRIALS" --parallel "$PARALLEL" --skip-metric-check -e EPOCH_SECONDS=1 >"$WORK/out" 2>"$WORK/err" ||
	{ cat "$WORK/err" >&2; exit 1; }
wall=$(echo "$(now) - $t0" | bc)
"$WORK/fair" sweep status bench -n $NS --kubeconfig "$KUBECONFIG" -o json >"$WORK/status.json"
sleep 1

# The same Job, created directly, TRIALS times (one at a time), timed the
# same way: from the watch's first sight of the Job to its pod Running.
for i in $(seq "$TRIALS"); do
	name=direct-$i
	rm -f "$WORK/t" "$WORK/c"
	$KUBECTL -n $NS get pods -l job-name=$name -w --no-headers -o custom-columns=P:.status.phase 2>/dev/null |
		while read -r p; do if [ "$p" = Running ]; then now >"$WORK/t"; break; fi; done &
	$KUBECTL -n $NS get jobs --field-selector metadata.name=$name -w --no-headers -o custom-columns=N:.metadata.name 2>/dev/null |
		while read -r _; do now >"$WORK/c"; break; done &
	sleep 1.5
	$KUBECTL -n $NS create -f - >/dev/null <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: $name}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: fair
        image: $REF
        env: [{name: LR, value: "0.01"}, {name: EPOCH_SECONDS, value: "1"}]
YAML
	for _ in $(seq 600); do [ -s "$WORK/t" ] && break; sleep 0.05; done
	[ -s "$WORK/t" ] && [ -s "$WORK/c" ] || { echo "direct job $name never Running" >&2; exit 1; }
	echo "$(cat "$WORK/t") - $(cat "$WORK/c")" | bc >>"$WORK/direct"
done

# Per trial: Running - created (the watch's first line of each trial).
awk '!seen[$1]++' "$WORK/created" | while read -r n c; do
	r=$(awk -v n="$n" '$1 == n {print $2; exit}' "$WORK/running")
	[ -n "$r" ] && echo "$r - $c" | bc >>"$WORK/trial"
done

trial=$(median <"$WORK/trial")
direct=$(median <"$WORK/direct")
# Sum of the trials' run times (created to completion, from the API's
# timestamps, whole seconds) over the parallelism.
ideal=$(python3 -c '
import json, sys, datetime
s = json.load(open(sys.argv[1]))
p = lambda t: datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()
tot = sum(p(t["ended"]) - p(t["created"]) for t in s["trials"] if t.get("ended"))
print(tot / s["parallel"])' "$WORK/status.json")
echo "trial created -> pod Running: $(wc -l <"$WORK/trial") trials, median ${trial}s"
echo "Job created directly -> pod Running: median ${direct}s"
echo "ratio trial/direct: $(echo "scale=2; $trial / $direct" | bc)"
echo "sweep wall ${wall}s; sum of trial times / parallelism ${ideal}s; ratio $(echo "scale=2; $wall / $ideal" | bc)"
