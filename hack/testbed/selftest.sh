#!/usr/bin/env bash
# selftest.sh: checks of the test bed's own lifecycle, on a live machine.
#   1. up twice in a row is harmless: the second up starts nothing and
#      keeps every PID;
#   2. down leaves none of our processes (nor containerd shims) and none of
#      our mounts;
#   3. up again brings the node back to Ready (a warm start).
# It leaves the test bed up if it was up before, down otherwise.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB=$HERE/testbed
T=${FAIR_TESTBED_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fair/testbed}
fail() { echo "selftest: FAIL: $*" >&2; exit 1; }
pids() { cat "$T"/run/*.pid 2>/dev/null | sort -n | tr '\n' ' '; }

was_up=0
"$TB" status >/dev/null 2>&1 && was_up=1

# registry, etcd, containerd, the five Kubernetes components, CoreDNS, the
# Training Operator, and Argo's workflow controller unless left out.
want=11
[ "${FAIR_TESTBED_ARGO:-1}" != 0 ] || want=10
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

if [ $was_up = 1 ]; then
	start=$(date +%s.%N)
	"$TB" up
	echo "selftest: warm up took $(echo "$(date +%s.%N) - $start" | bc)s in all; node Ready after $(cat "$T/run/node-ready-seconds")s"
fi
echo "selftest: PASS"
