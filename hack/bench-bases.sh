#!/usr/bin/env bash
# bench-bases.sh: framework bases from Debian packages (fair base debian),
# written to docs/bench/bases.md.
#  1. A base of PACKAGES (default python3-numpy): cold (empty fair cache:
#     indexes, downloads, unpack, push to a new repository) and warm
#     (cached layer, registry has it); seconds and MiB pushed.
#  2. A Python folder onto that base after a one-line change, RUNS times
#     each, in the same run: fair's own builder (--base, --cmd) against a
#     BuildKit Dockerfile build (FROM base, COPY, CMD) through fair
#     --dockerfile with a real buildkitd. Medians and the ratio.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=${RUNS:-5}
PACKAGES=${PACKAGES:-python3-numpy}
TOOLS=${FAIR_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/fair/tools}
hack/deps.sh bench >/dev/null
go build -o bin/fair ./cmd/fair
FAIR=$PWD/bin/fair
export FAIR_LOCAL_REGISTRY=127.0.0.1:5058
hack/registry.sh start
WORK=$(mktemp -d /tmp/bench-bases-XXXX)
BK=
cleanup() {
	[ -z "$BK" ] || kill "$BK" 2>/dev/null || true
	hack/registry.sh stop
	rm -rf "$WORK"
}
trap cleanup EXIT
REG=$FAIR_LOCAL_REGISTRY
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
pushed() { sed -n 's/^uploaded \([0-9.]* [KMG]*i*B\).*/\1/p' "$1" | tail -1; }

# 1. The base, cold then warm.
repo=$REG/bases/py-$(date +%s)
t0=$(now)
XDG_CACHE_HOME=$WORK/cache "$FAIR" base debian --packages "$PACKAGES" --repo "$repo" >"$WORK/ref" 2>"$WORK/cold.log"
cold=$(echo "$(now) - $t0" | bc)
t0=$(now)
XDG_CACHE_HOME=$WORK/cache "$FAIR" base debian --packages "$PACKAGES" --repo "$repo" >/dev/null 2>"$WORK/warm.log"
warm=$(echo "$(now) - $t0" | bc)
base=$(cat "$WORK/ref")
npkg=$(sed -n 's/^\([0-9]*\) packages (.*/\1/p' "$WORK/cold.log")

# 2. The folder onto it: fair's builder against BuildKit.
bkdir=$(mktemp -d /tmp/bk-XXXX)
printf '[registry."%s"]\n  http = true\n  insecure = true\n[worker.containerd]\n  enabled = false\n[worker.oci]\n  enabled = true\n' "$REG" >"$bkdir/buildkitd.toml"
"$TOOLS/bin/buildkitd" --root "$bkdir/root" --addr "unix://$bkdir/sock" --config "$bkdir/buildkitd.toml" >"$bkdir/log" 2>&1 &
BK=$!
for _ in $(seq 1 100); do [ -S "$bkdir/sock" ] && break; sleep 0.1; done
mkdir -p "$WORK/app"
cp examples/train-py/train.py "$WORK/app/train.py"
printf 'FROM %s\nWORKDIR /app\nCOPY train.py /app/\nCMD ["python3", "train.py"]\n' "$base" >"$WORK/app/Dockerfile"
printf 'Dockerfile\n' >"$WORK/app/.fairignore"
fair_t=() bk_t=()
for i in $(seq 0 "$RUNS"); do
	echo "# change $i" >>"$WORK/app/train.py"
	t0=$(now)
	"$FAIR" build "$WORK/app" --base "$base" --cmd "python3 train.py" --repo "$REG/app-fair" >/dev/null 2>&1
	tf=$(echo "$(now) - $t0" | bc)
	t0=$(now)
	"$FAIR" build "$WORK/app" --dockerfile Dockerfile --buildkit "unix://$bkdir/sock" --repo "$REG/app-bk" >/dev/null 2>"$WORK/bk.log" ||
		{ cat "$WORK/bk.log" >&2; exit 1; }
	tb=$(echo "$(now) - $t0" | bc)
	# The first round warms both (BuildKit pulls the base); it is not counted.
	if [ "$i" -gt 0 ]; then fair_t+=("$tf") bk_t+=("$tb"); fi
done
mf=$(printf '%s\n' "${fair_t[@]}" | median)
mb=$(printf '%s\n' "${bk_t[@]}" | median)
rm -rf "$bkdir"

out=docs/bench/bases.md
{
	echo "# Bases from Debian packages"
	echo
	echo "Measured $(date -u +%Y-%m-%d) by \`hack/bench-bases.sh\` on $(nproc) cores (load $(cut -d' ' -f1 /proc/loadavg)), RUNS=$RUNS, medians in seconds."
	echo
	echo "| what | time | pushed |"
	echo "|---|---|---|"
	printf '| `fair base debian --packages %s` (%s packages), cold: empty cache, new repository | %.1f s | %s |\n' "$PACKAGES" "$npkg" "$cold" "$(pushed "$WORK/cold.log")"
	printf '| the same, warm | %.1f s | %s |\n' "$warm" "$(grep -q 'already in the registry' "$WORK/warm.log" && echo '0 B' || pushed "$WORK/warm.log")"
	printf '| a Python folder onto it after a one-line change: fair (`--base`, `--cmd`) | %.2f s | |\n' "$mf"
	printf '| the same as a Dockerfile (`FROM base`, `COPY`) built by BuildKit | %.2f s | |\n' "$mb"
	printf '| ratio fair / BuildKit | **%.2f** | |\n' "$(echo "$mf / $mb" | bc -l)"
	echo
	echo "runs: fair ${fair_t[*]}; BuildKit ${bk_t[*]}"
} >"$out"
cat "$out"
