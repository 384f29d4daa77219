#!/usr/bin/env bash
# selftest.sh: checks of the test bed's own lifecycle, on a live machine.
#   1. up twice in a row is harmless: the second up starts nothing and
#      keeps every PID;
#   2. down leaves none of our processes (nor containerd shims) and none of
#      our mounts;
#   3. up again brings the node back to Ready (a warm start);
#   4. FAIR_SELFTEST_CYCLES (default 10) down/up cycles in a row, with pods
#      left running across them: every up's verdict matches status, and a
#      new pod runs on the node after each.
# It leaves the test bed up if it was up before, down otherwise.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB=$HERE/testbed
T=${FAIR_TESTBED_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fair/testbed}
fail() { echo "selftest: FAIL: $*" >&2; exit 1; }
pids() { cat "$T"/run/*.pid 2>/dev/null | sort -n | tr '\n' ' '; }

was_up=0
"$TB" status >/dev/null 2>&1 && was_up=1

# registry and its forwarder for pods, etcd, containerd, the five
# Kubernetes components, CoreDNS, the Training Operator, JobSet, Trainer
# v2, KServe, Katib (PostgreSQL, its DB manager, its controller) and Argo's
# workflow controller, less those left out.
want=18
[ "${FAIR_TESTBED_ARGO:-1}" != 0 ] || want=$((want - 1))
[ "${FAIR_TESTBED_KATIB:-1}" != 0 ] || want=$((want - 3))
"$TB" up
first=$(pids)
[ "$(echo "$first" | wc -w)" = "$want" ] || fail "want $want processes after up, have: $first"
"$TB" up 2>"$T/logs/selftest-up2.log"
second=$(pids)
[ "$first" = "$second" ] || fail "second up changed processes: '$first' -> '$second'"
grep -q 'started ' "$T/logs/selftest-up2.log" && fail "second up started something: $(grep 'started ' "$T/logs/selftest-up2.log")"
echo "selftest: ok: second up kept all $want processes ($second)"

"$TB" down
for p in $second; do
	[ -d "/proc/$p" ] && fail "process $p ($(tr '\0' ' ' </proc/$p/cmdline)) still runs after down"
done
left=$(pgrep -f -- "-address /run/fair-testbed/containerd.sock" || true)
[ -z "$left" ] && echo "selftest: ok: down left no containerd shim" || fail "containerd shims left: $left"
mounts=$(awk -v t="$T/" 'index($2, t)==1 || index($2, "/run/fair-testbed/")==1 {print $2}' /proc/mounts)
[ -z "$mounts" ] || fail "mounts left after down: $mounts"
echo "selftest: ok: down left no process and no mount of ours"

kc() { "$T/bin/kube" kubectl --kubeconfig "$T/admin.kubeconfig" "$@"; }
cycles=${FAIR_SELFTEST_CYCLES:-10}
pause=$(cat "$T/images/pause")
run=$(date +%s) # pod names of this run; an earlier run's pods are left running too
for i in $(seq 1 "$cycles"); do
	start=$(date +%s.%N)
	"$TB" up 2>"$T/logs/selftest-cycle.log" || fail "cycle $i: up failed: $(tail -3 "$T/logs/selftest-cycle.log")"
	took=$(echo "$(date +%s.%N) - $start" | bc)
	"$TB" status >/dev/null || fail "cycle $i: up said all up, status disagrees: $("$TB" status)"
	kc -n default run "cycle-$run-$i" --image="$pause" --restart=Never >/dev/null
	kc -n default wait --for=condition=Ready --timeout=60s "pod/cycle-$run-$i" >/dev/null ||
		fail "cycle $i: a new pod did not run: $(kc -n default get pod "cycle-$run-$i" -o wide)"
	echo "selftest: ok: cycle $i: up in ${took}s (node Ready after $(cat "$T/run/node-ready-seconds")s), status agrees, a new pod runs"
	[ "$i" = "$cycles" ] || "$TB" down >/dev/null 2>&1
done
for i in $(seq 1 "$cycles"); do kc -n default delete pod "cycle-$run-$i" --ignore-not-found --wait=false >/dev/null 2>&1 || true; done

if [ $was_up = 0 ]; then
	"$TB" down >/dev/null 2>&1
fi
echo "selftest: PASS"
