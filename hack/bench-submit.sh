#!/usr/bin/env bash
# bench-submit: time from command start to the pod Running, for
#   fair train --image REF            (fair's whole submit path: kubeconfig,
#                                      render, server-side apply, then following)
#   kubectl create job NAME --image=REF
# with the same image on the same cluster in the same run, alternating which
# goes first. Prints each sample, the medians and the ratio fair/kubectl.
#
# Usage: hack/bench-submit.sh [RUNS]      (default 7)
# Needs the test bed up (hack/testbed/testbed up). kubectl is the test bed's
# kube binary (`kube kubectl`), or $KUBECTL. The image is test/e2e/testdata/echo,
# built by fair itself; a server that never exits, so Running is observable.
set -euo pipefail

RUNS=${1:-7}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
eval "$("$REPO/hack/testbed/testbed" env)"
T=$FAIR_TESTBED_DIR
KUBECTL=${KUBECTL:-"$T/bin/kube kubectl"}
NS=fair-bench-$$
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; $KUBECTL delete namespace $NS --wait=false >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

now() { date +%s.%N; }

echo "building fair and the image..." >&2
(cd "$REPO" && go build -o "$WORK/fair" ./cmd/fair)
REF=$(cd "$REPO" && "$WORK/fair" build ./test/e2e/testdata/echo --repo "$FAIR_REGISTRY/fair-bench/echo")
echo "image $REF" >&2
$KUBECTL create namespace $NS >/dev/null
until $KUBECTL -n $NS get serviceaccount default >/dev/null 2>&1; do sleep 0.2; done

# running_at NAME FILE: watch the Job's pods; write the time the first one is
# Running into FILE. The watch is established before the command starts.
running_at() {
	$KUBECTL -n $NS get pods -l job-name="$1" -w --no-headers -o custom-columns=P:.status.phase 2>/dev/null |
		while read -r phase; do
			if [ "$phase" = Running ]; then
				now >"$2"
				break
			fi
		done
}

sample() { # TOOL I -> seconds
	local tool=$1 i=$2 name="$1-$2" t0 wp
	rm -f "$WORK/t"
	running_at "$name" "$WORK/t" &
	wp=$!
	sleep 1.5
	t0=$(now)
	if [ "$tool" = fair ]; then
		"$WORK/fair" train --image "$REF" --name "$name" -n $NS --kubeconfig "$KUBECONFIG" >/dev/null 2>&1 &
		local fp=$!
	else
		$KUBECTL -n $NS create job "$name" --image="$REF" >/dev/null
	fi
	for _ in $(seq 600); do [ -s "$WORK/t" ] && break; sleep 0.05; done
	[ -s "$WORK/t" ] || { echo "$tool: pod of $name never Running" >&2; exit 1; }
	if [ "$tool" = fair ]; then kill -INT "$fp" 2>/dev/null || true; wait "$fp" 2>/dev/null || true; fi
	kill "$wp" 2>/dev/null || true
	echo "$(cat "$WORK/t") - $t0" | bc
	$KUBECTL -n $NS delete job "$name" --wait=false >/dev/null 2>&1 || true
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

: >"$WORK/fair.txt"
: >"$WORK/kubectl.txt"
for i in $(seq "$RUNS"); do
	if [ $((i % 2)) = 1 ]; then order="fair kubectl"; else order="kubectl fair"; fi
	for tool in $order; do
		s=$(sample "$tool" "$i")
		echo "$s" >>"$WORK/$tool.txt"
		printf 'run %d %-8s %.3f s\n' "$i" "$tool" "$s"
	done
done
mf=$(median <"$WORK/fair.txt")
mk=$(median <"$WORK/kubectl.txt")
printf '\nmedian to pod Running over %d runs: fair train %.3f s, kubectl create job %.3f s, ratio %.2f (target <= 1.2)\n' \
	"$RUNS" "$mf" "$mk" "$(echo "$mf / $mk" | bc -l)"
