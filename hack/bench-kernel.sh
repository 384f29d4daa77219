#!/usr/bin/env bash
# bench-kernel.sh: compare fair's Go kernel with GoNB v0.11.1 (compiled
# cells) and gophernotes v0.7.5 (interpreted) on the same cells, in one run,
# through the real Jupyter client (nbclient, as jupyter nbconvert --execute): kernel
# start, first cell, median round trip of a trivial cell,
# a small cell that declares a variable (compiled by fair), and a compute
# loop (sum 1..10,000,000; its own duration and the cell's round trip).
#
# Needs: go, gcc, python3 with nbclient (Debian: python3-nbclient),
# the Go module proxy (to fetch GoNB and gophernotes sources once).
# Usage: hack/bench-kernel.sh [ROUNDS]   (figures go to stdout as Markdown)
set -euo pipefail

ROUNDS=${1:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_WORK:-${TMPDIR:-/tmp}/fair-bench-kernel}
mkdir -p "$WORK/bin" "$WORK/jupyter/kernels"
log() { echo "bench-kernel: $*" >&2; }
# A python3 with nbclient (Debian's, when another python3 comes first).
PY=python3
$PY -c 'import nbclient' 2>/dev/null || PY=/usr/bin/python3

# fair, built from this checkout.
log "building fair"
(cd "$ROOT" && go build -o "$WORK/bin/fair" ./cmd/fair)

# GoNB v0.11.1: `go install` is refused by the proxy, so build it from the
# module source copied to a writable folder.
if [ ! -x "$WORK/bin/gonb" ]; then
  log "building GoNB v0.11.1"
  dir=$(go mod download -json github.com/janpfeifer/gonb@v0.11.1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  rm -rf "$WORK/src/gonb" && mkdir -p "$WORK/src" && cp -r "$dir" "$WORK/src/gonb" && chmod -R u+w "$WORK/src/gonb"
  (cd "$WORK/src/gonb" && GOFLAGS=-mod=mod go build -o "$WORK/bin/gonb" .)
fi
# GoNB runs goimports on every cell.
if ! command -v goimports >/dev/null && [ ! -x "$WORK/bin/goimports" ]; then
  log "building goimports"
  GOBIN="$WORK/bin" go install golang.org/x/tools/cmd/goimports@v0.52.0
fi

# gophernotes v0.7.5 panics at start-up on Go 1.26: build it with Go 1.21.
if [ ! -x "$WORK/bin/gophernotes" ]; then
  log "building gophernotes v0.7.5 with go1.21.13"
  dir=$(go mod download -json github.com/gopherdata/gophernotes@v0.7.5 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  rm -rf "$WORK/src/gophernotes" && mkdir -p "$WORK/src" && cp -r "$dir" "$WORK/src/gophernotes" && chmod -R u+w "$WORK/src/gophernotes"
  (cd "$WORK/src/gophernotes" && GOTOOLCHAIN=go1.21.13 GOFLAGS=-mod=mod go build -o "$WORK/bin/gophernotes" .)
fi

# Kernelspecs in a private Jupyter path.
"$WORK/bin/fair" kernel install --prefix "$WORK/prefix" --name fair 2>/dev/null
mkdir -p "$WORK/prefix/share/jupyter/kernels/gonb" "$WORK/prefix/share/jupyter/kernels/gophernotes"
cat >"$WORK/prefix/share/jupyter/kernels/gonb/kernel.json" <<EOF
{"argv": ["$WORK/bin/gonb", "--kernel", "{connection_file}", "--raw_error"], "display_name": "GoNB", "language": "go"}
EOF
cat >"$WORK/prefix/share/jupyter/kernels/gophernotes/kernel.json" <<EOF
{"argv": ["$WORK/bin/gophernotes", "{connection_file}"], "display_name": "gophernotes", "language": "go"}
EOF

export JUPYTER_PATH="$WORK/prefix/share/jupyter" PATH="$WORK/bin:$PATH"
export FAIR_KERNEL_WORKDIR="$WORK/fair-work" PYDEVD_DISABLE_FILE_VALIDATION=1
rm -rf "$FAIR_KERNEL_WORKDIR"

"$PY" - "$ROUNDS" "$WORK" <<'PY'
# One notebook per kernel, executed by nbclient, the engine behind `jupyter
# nbconvert --execute`; its hooks time each cell from the execute request to
# the reply. start is from starting the notebook to the first request.
import statistics, sys, time
import nbformat
from nbclient import NotebookClient

rounds, work = int(sys.argv[1]), sys.argv[2]
LOOP = """start := time.Now()
sum := 0
for i := 1; i <= 10000000; i++ {
	sum += i
}
fmt.Println(sum, time.Since(start).Seconds())"""
kernels = {
    # name: (first cell, trivial cell, compute cell, a small cell that
    # declares a new variable each round: fair compiles it)
    "fair": ('import (\n\t"fmt"\n\t"time"\n)\nfmt.Println("ready")', 'fmt.Println(1)', LOOP, 'v{i} := {i}'),
    "gonb": ('import (\n\t"fmt"\n\t"time"\n)\n%%\nfmt.Println("ready")', '%%\nfmt.Println(1)', "%%\n" + LOOP, '%%\nv{i} := {i}\n_ = v{i}'),
    "gophernotes": ('import (\n\t"fmt"\n\t"time"\n)\nfmt.Println("ready")', 'fmt.Println(1)', LOOP, 'v{i} := {i}'),
}

def text(cell):
    return "".join("".join(o.get("text", "")) for o in cell.outputs if o.output_type == "stream")

rows = []
for name, (first, trivial, compute, decl) in kernels.items():
    srcs = [first] + [trivial] * rounds + [decl.replace("{i}", str(i)) for i in range(rounds)] + [compute]
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": name, "display_name": name, "language": "go"}})
    nb.cells = [nbformat.v4.new_code_cell(c) for c in srcs]
    began, took = {}, {}
    def on_execute(cell, cell_index, **kw):
        began[cell_index] = time.perf_counter()
    def on_executed(cell, cell_index, **kw):
        took[cell_index] = time.perf_counter() - began[cell_index]
    client = NotebookClient(nb, kernel_name=name, timeout=600, startup_timeout=300, allow_errors=True,
                            on_cell_execute=on_execute, on_cell_executed=on_executed)
    t0 = time.perf_counter()
    try:
        client.execute()
    except Exception as e:  # report and go on with the others
        print(f"{name}: failed: {e}", file=sys.stderr)
        continue
    for i, c in enumerate(nb.cells):
        for o in c.outputs:
            if o.output_type == "error":
                print(f"{name}: cell {i+1} failed: {o.evalue}", file=sys.stderr)
    if any(text(c).strip() != "1" for c in nb.cells[1:1 + rounds]):
        print(f"{name}: a trivial cell did not print 1", file=sys.stderr)
    loop = float(text(nb.cells[-1]).split()[-1]) if text(nb.cells[-1]).strip() else float("nan")
    rows.append((name, began[0] - t0, took[0], statistics.median(took[i] for i in range(1, 1 + rounds)),
                 statistics.median(took[i] for i in range(1 + rounds, 1 + 2 * rounds)), took[len(srcs) - 1], loop))

print(f"| kernel | start (s) | first cell (s) | trivial cell `fmt.Println(1)`, median of {rounds} (s) | cell declaring a variable, median of {rounds} (s) | compute cell round trip (s) | sum 1..1e7 loop (s) |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print("| %s | %.2f | %.2f | %.3f | %.3f | %.2f | %.4f |" % r)
by = {r[0]: r for r in rows}
if "fair" in by and "gonb" in by:
    print(f"\ntrivial-cell round trip, fair / GoNB: {by['fair'][3] / by['gonb'][3]:.2f}")
    print(f"declaring cell round trip, fair / GoNB: {by['fair'][4] / by['gonb'][4]:.2f}")
if "fair" in by and "gophernotes" in by and by["fair"][6] > 0:
    print(f"compute loop, gophernotes / fair: {by['gophernotes'][6] / by['fair'][6]:.0f}x")
PY
