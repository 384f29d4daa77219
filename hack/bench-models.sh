#!/usr/bin/env bash
# bench-models.sh: models on the test bed, written to docs/bench/models.md.
#  1. fair serve --model of a 100 MB model: command to Ready, against the
#     same server with a model of a few bytes, and the pull's share (the
#     init container's own timing); three runs each, medians.
#     The same 100 MB model through KServe's modelcar (--kind kserve): the
#     model image made once (its time), then command to Ready.
#  2. The ONNX runtime against the same MLP as a hand-written serving.Func
#     (Go benchmarks, a 64-row batch per Predict), medians of five.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
eval "$(hack/testbed/testbed env)"
RUNS=${RUNS:-3}
MB=${MB:-100}
out=docs/bench/models.md
fair=$(mktemp -d)/fair
go build -o "$fair" ./cmd/fair
ns=bench-models
kc() { "$FAIR_TESTBED_DIR/bin/kube" kubectl "$@"; }
kc create namespace $ns --dry-run=client -o yaml | kc apply -f - >/dev/null
reg=$FAIR_REGISTRY/bench
go run ./hack/bench/pushmodel "$reg" big "$MB" >/dev/null
go run ./hack/bench/pushmodel "$reg" small 0 >/dev/null
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now() { date +%s.%N; }
with=() without=() pulls=()
# The image is built once, so every run times deploy to Ready.
FAIR_REGISTRY=$reg "$fair" build ./examples/serve-trained >/dev/null 2>&1
for i in $(seq 1 "$RUNS"); do
	for mode in with without; do
		"$fair" delete -n $ns m >/dev/null 2>&1 || true
		model=small
		[ $mode = with ] && model=big
		t0=$(now)
		FAIR_REGISTRY=$reg "$fair" serve ./examples/serve-trained --kind deployment -n $ns --name m --model $model --timeout 3m >/dev/null 2>&1
		t=$(echo "$(now) - $t0" | bc)
		if [ $mode = with ]; then
			with+=("$t")
			p=$(kc -n $ns logs deploy/m -c fair-model 2>/dev/null | sed -n 's/.* in \([0-9.]*\)s$/\1/p' | tail -1)
			pulls+=("${p:-0}")
		else
			without+=("$t")
		fi
	done
done
"$fair" delete -n $ns m >/dev/null 2>&1 || true
kserve=() made=
for i in $(seq 1 "$RUNS"); do
	"$fair" delete -n $ns mk >/dev/null 2>&1 || true
	t0=$(now)
	log=$(FAIR_REGISTRY=$reg "$fair" serve ./examples/serve-trained --kind kserve -n $ns --name mk --model big --timeout 3m 2>&1 >/dev/null)
	kserve+=("$(echo "$(now) - $t0" | bc)")
	m=$(echo "$log" | sed -n 's/.*(made in \([0-9.]*\)s).*/\1/p')
	made=${made:-$m}
done
"$fair" delete -n $ns mk >/dev/null 2>&1 || true
mk=$(printf '%s\n' "${kserve[@]}" | median)
mw=$(printf '%s\n' "${with[@]}" | median)
mo=$(printf '%s\n' "${without[@]}" | median)
mp=$(printf '%s\n' "${pulls[@]}" | median)

bench=$(go test ./serving/onnx -run XXX -bench MLP -benchtime 2000x -count 5 2>/dev/null | grep ^Benchmark)
onnx=$(echo "$bench" | awk '/MLPONNX/ {print $3}' | median)
fn=$(echo "$bench" | awk '/MLPFunc/ {print $3}' | median)

{
	echo "# Models benchmark"
	echo
	echo "Measured $(date -u +%Y-%m-%d) by \`hack/bench-models.sh\` on $(nproc) cores (load $(cut -d' ' -f1 /proc/loadavg)), test bed."
	echo
	echo "| what | median | runs |"
	echo "|---|---|---|"
	printf '| `fair serve ./examples/serve-trained --model big` (%d MB model), command to Ready | %.1f s | %s |\n' "$MB" "$mw" "${with[*]}"
	printf '| the same with a model of a few bytes | %.1f s | %s |\n' "$mo" "${without[*]}"
	printf '| the model pull (init container: registry to /mnt/models) | %.1f s (%.0f%% of the serve with a model) | %s |\n' "$mp" "$(echo "100 * $mp / $mw" | bc -l)" "${pulls[*]}"
	printf '| `fair serve ... --kind kserve --model big` through KServe'"'"'s modelcar, command to Ready | %.1f s | %s |\n' "$mk" "${kserve[*]}"
	if [ -n "$made" ]; then
		printf '| making the modelcar image of the %d MB model (once per model) | %s s | |\n' "$MB" "$made"
	else
		printf '| making the modelcar image of the %d MB model (once per model) | made by an earlier run | |\n' "$MB"
	fi
	printf '| ONNX MLP (8-64-1, 64-row batch) Predict, pure-Go runtime | %.1f µs | |\n' "$(echo "$onnx / 1000" | bc -l)"
	printf '| the same MLP as a hand-written `serving.Func` | %.1f µs | |\n' "$(echo "$fn / 1000" | bc -l)"
	printf '| ratio ONNX / Func | **%.2f** | |\n' "$(echo "$onnx / $fn" | bc -l)"
} >"$out"
cat "$out"
