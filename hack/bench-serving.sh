#!/usr/bin/env bash
# Load benchmark of the serving runtime against a minimal net/http floor.
#
#   hack/bench-serving.sh            # full run (about 6 minutes on 2 cores)
#   N=2000 COUNT=1 hack/bench-serving.sh   # quick look
#
# Runs BenchmarkLoad (serving/bench_test.go): the example model served by
# the floor handler, by serving without batching and with batching, at
# client concurrency 1, 8 and 64, COUNT times each, N requests a case.
# Prints a markdown table of medians and ratios to the floor (also written
# to $TABLE when set); raw benchmark output goes to $OUT (default
# /tmp/bench-serving.txt). docs/bench/serving.md records a run and reads it.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-5000}
COUNT=${COUNT:-5}
OUT=${OUT:-/tmp/bench-serving.txt}

# One test binary, run COUNT times over the whole matrix, so that a burst
# of noise from elsewhere on the machine spreads over all servers instead
# of hitting one server's repeats.
# SUMMARIZE=1 only prints the table of an existing $OUT.
if [ -z "${SUMMARIZE:-}" ]; then
	BIN=$(mktemp -d)
	trap 'rm -rf "$BIN"' EXIT
	go test -c -o "$BIN/serving.test" ./serving
	: >"$OUT"
	for i in $(seq "$COUNT"); do
		(cd serving && "$BIN/serving.test" -test.run '^$' -test.bench "${BENCH:-Load}" \
			-test.benchtime "${N}x" -test.timeout 30m) | tee -a "$OUT" >&2
	done
fi

summary() {
echo
echo "N=$N requests per case, medians of $COUNT runs, $(nproc) CPUs, $(go env GOVERSION)"
echo
awk '
# BenchmarkLoad/model=mlp/c=8/server=fair-2  N  ns/op  p50 p50-µs  p99 p99-µs  rps req/s
/^BenchmarkLoad\// {
	split($1, parts, "/")
	model = substr(parts[2], 7); c = substr(parts[3], 3); srv = parts[4]
	sub(/^server=/, "", srv); sub(/-[0-9]+$/, "", srv)
	key = model SUBSEP c SUBSEP srv
	for (i = 3; i < NF; i++) {
		if ($(i+1) == "req/s")  rps[key, ++nr[key]] = $i
		if ($(i+1) == "p50-µs") p50[key, ++n50[key]] = $i
		if ($(i+1) == "p99-µs") p99[key, ++n99[key]] = $i
	}
	if (!(model in seenm)) { seenm[model] = 1; models[++nm] = model }
	if (!(c in seenc)) { seenc[c] = 1; cs[++nc] = c }
}
function median(arr, key, n,    i, j, t, v) {
	for (i = 1; i <= n; i++) v[i] = arr[key, i]
	for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j-1] > v[j]; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t }
	return v[int((n + 1) / 2)]
}
END {
	print "| model | clients | server | req/s | p50 µs | p99 µs | throughput / floor (range) |"
	print "|---|---:|---|---:|---:|---:|---:|"
	split("floor fair batch", srvs, " ")
	for (m = 1; m <= nm; m++) for (k = 1; k <= nc; k++) {
		fk = models[m] SUBSEP cs[k] SUBSEP "floor"
		for (s = 1; s <= 3; s++) {
			key = models[m] SUBSEP cs[k] SUBSEP srvs[s]
			if (!nr[key]) continue
			r = median(rps, key, nr[key])
			# Ratio per run (the three servers of a case run back to back),
			# then the median: steadier than a ratio of medians on a busy machine.
			for (i = 1; i <= nr[key]; i++) ratio[key, i] = rps[key, i] / rps[fk, i]
			lo = hi = ratio[key, 1]
			for (i = 2; i <= nr[key]; i++) { if (ratio[key, i] < lo) lo = ratio[key, i]; if (ratio[key, i] > hi) hi = ratio[key, i] }
			printf "| %s | %s | %s | %.0f | %.0f | %.0f | %.2f (%.2f-%.2f) |\n", models[m], cs[k], srvs[s], r, median(p50, key, n50[key]), median(p99, key, n99[key]), median(ratio, key, nr[key]), lo, hi
		}
	}
}' "$OUT"
}

if [ -n "${TABLE:-}" ]; then
	summary | tee "$TABLE"
else
	summary
fi
