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
source "$ROOT/hack/go-native.sh"
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

# Kernelspecs in a private Jupyter path; the install links the kernel's
# host into a private shared folder, as it does for a user.
export FAIR_KERNEL_SHARED="$WORK/fair-shared"
rm -rf "$WORK"/fair-work* "$WORK"/fair-shared*
"$WORK/bin/fair" kernel install --prefix "$WORK/prefix" --name fair 2>/dev/null
# The same kernel building cells with go build, as before the direct build,
# to show what that lever gives in the same run; both trace their phases.
"$WORK/bin/fair" kernel install --prefix "$WORK/prefix" --name fair-gobuild --prepare=false 2>/dev/null
"$PY" - "$WORK/prefix/share/jupyter/kernels" <<'PY'
import json, sys
for name, env in (("fair", {"FAIR_KERNEL_TRACE": "1"}), ("fair-gobuild", {"FAIR_KERNEL_TRACE": "1", "FAIR_KERNEL_GOBUILD": "1"})):
    p = f"{sys.argv[1]}/{name}/kernel.json"
    spec = json.load(open(p))
    spec.setdefault("env", {}).update(env)
    json.dump(spec, open(p, "w"), indent=1)
PY
mkdir -p "$WORK/prefix/share/jupyter/kernels/gonb" "$WORK/prefix/share/jupyter/kernels/gophernotes"
cat >"$WORK/prefix/share/jupyter/kernels/gonb/kernel.json" <<EOF
{"argv": ["$WORK/bin/gonb", "--kernel", "{connection_file}", "--raw_error"], "display_name": "GoNB", "language": "go"}
EOF
cat >"$WORK/prefix/share/jupyter/kernels/gophernotes/kernel.json" <<EOF
{"argv": ["$WORK/bin/gophernotes", "{connection_file}"], "display_name": "gophernotes", "language": "go"}
EOF

export JUPYTER_PATH="$WORK/prefix/share/jupyter" PATH="$WORK/bin:$PATH"
export FAIR_KERNEL_WORKDIR="$WORK/fair-work" PYDEVD_DISABLE_FILE_VALIDATION=1

"$PY" - "$ROUNDS" "$WORK" 2>"$WORK/kernels.log" <<'PY'
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
DECLS = "var x0, acc int\nfunc sq(n int) int { return n * n }\n"
# The small compiled cells users write, in turn: a declaration, an
# assignment, a loop, a call of an earlier function.
SMALL = ["v{i} := {i}", "x0 = {i}", "for j := 0; j < {i}; j++ {\n\tacc += j\n}", "fmt.Println(sq({i}))"]
TYPE = "type P{i} struct{ X, Y int }\n\nfunc (p P{i}) Sum() int { return p.X + p.Y }"
# A package new to the notebook, from a module in the module cache (the
# first one adds gonum to the notebook's module).
IMPORTS = ["floats", "stat", "mat", "graph/simple"]
IMPORT = 'import "gonum.org/v1/gonum/{p}"\n\nvar _ = {n}.{s}'
SYMS = {"floats": "Sum", "stat": "Mean", "mat": "NewDense", "graph/simple": "NewUndirectedGraph"}

def cells(name):
    gonb = name == "gonb"
    pre = "%%\n" if gonb else ""
    first = 'import (\n\t"fmt"\n\t"time"\n)\n' + DECLS + pre + 'fmt.Println("ready")'
    small = [pre + SMALL[i % len(SMALL)].replace("{i}", str(i + 2)) + ("\n_ = v%d" % (i + 2) if gonb and i % len(SMALL) == 0 else "") for i in range(rounds)]
    types = [TYPE.replace("{i}", str(i)) for i in range(rounds)]
    imports = [IMPORT.replace("{p}", p).replace("{n}", p.split("/")[-1]).replace("{s}", SYMS[p]) for p in IMPORTS]
    return {"first": [first], "trivial": [pre + "fmt.Println(1)"] * rounds, "small": small, "type": types,
            "import": imports, "compute": [pre + LOOP]}

def text(cell):
    return "".join("".join(o.get("text", "")) for o in cell.outputs if o.output_type == "stream")

KINDS = ["first", "trivial", "small", "type", "import", "compute"]
rows = {}
# fair runs three times: in a new work folder with nothing shared (a
# kernel installed with --prepare=false, or whose install could not link:
# the host is linked while the first cell compiles), in another new work
# folder with the shared folder the install prepared (the first kernel of
# any notebook folder: it copies the host), then again in that folder, as
# every later kernel there (a restart, the notebook opened again) runs:
# that last run is the "fair" row.
import os
shared = os.environ["FAIR_KERNEL_SHARED"]
RUNS = [("fair, nothing shared", "fair", "fair-work-1", shared + "-none"), ("fair, new work folder", "fair", "fair-work-2", shared),
        ("fair", "fair", "fair-work-2", shared), ("fair-gobuild", "fair-gobuild", "fair-work-2", shared),
        ("gonb", "gonb", "", ""), ("gophernotes", "gophernotes", "", "")]
for label, name, workdir, sh in RUNS:
    if workdir:
        os.environ["FAIR_KERNEL_WORKDIR"], os.environ["FAIR_KERNEL_SHARED"] = os.path.join(work, workdir), sh
    groups = cells(name)
    srcs, kind_of = [], []
    for k in KINDS:
        srcs += groups[k]
        kind_of += [k] * len(groups[k])
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": name, "display_name": name, "language": "go"}})
    nb.cells = [nbformat.v4.new_code_cell(c) for c in srcs]
    began, took = {}, {}
    def on_execute(cell, cell_index, **kw):
        began[cell_index] = time.perf_counter()
    def on_executed(cell, cell_index, **kw):
        took[cell_index] = time.perf_counter() - began[cell_index]
    client = NotebookClient(nb, kernel_name=name, timeout=600, startup_timeout=300, allow_errors=True,
                            on_cell_execute=on_execute, on_cell_executed=on_executed)
    print(f"== {label}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    try:
        client.execute()
    except Exception as e:  # report and go on with the others
        print(f"{label}: failed: {e}", file=sys.stderr)
        continue
    failed = set()
    for i, c in enumerate(nb.cells):
        for o in c.outputs:
            if o.output_type == "error":
                failed.add(kind_of[i])
                print(f"{label}: cell {i+1} ({kind_of[i]}) failed: {o.evalue}", file=sys.stderr)
    if any(text(c).strip() != "1" for c, k in zip(nb.cells, kind_of) if k == "trivial"):
        print(f"{label}: a trivial cell did not print 1", file=sys.stderr)
    loop = float(text(nb.cells[-1]).split()[-1]) if text(nb.cells[-1]).strip() else float("nan")
    med = {k: statistics.median(took[i] for i in range(len(srcs)) if kind_of[i] == k) for k in KINDS}
    rows[label] = (began[0] - t0, med, loop, failed)

print(f"| kernel | start (s) | first cell (s) | trivial cell (s) | small compiled cell (s) | type with a method (s) | new third-party import (s) | compute cell (s) | sum 1..1e7 loop (s) |")
print("|---|---|---|---|---|---|---|---|---|")
for name, (start, med, loop, failed) in rows.items():
    cols = ["%.3f%s" % (med[k], " (failed)" if k in failed else "") for k in KINDS]
    print(f"| {name} | {start:.2f} | " + " | ".join(cols) + f" | {loop:.4f} |")
print(f"\nMedians of {rounds} cells a kind (trivial, small, type), of {len(IMPORTS)} imports; first and compute: one cell.")
if "fair" in rows and "gonb" in rows:
    f, g = rows["fair"][1], rows["gonb"][1]
    print("\nfair / GoNB: " + ", ".join(f"{k} {f[k] / g[k]:.2f}" for k in KINDS if k != "compute"))
for label, what in [("fair, new work folder", "a new notebook folder"), ("fair, nothing shared", "a new notebook folder, nothing shared")]:
    if label in rows and "gonb" in rows:
        print(f"first cell of {what} / GoNB: {rows[label][1]['first'] / rows['gonb'][1]['first']:.2f}")
if "fair-gobuild" in rows and "gonb" in rows:
    f, g = rows["fair-gobuild"][1], rows["gonb"][1]
    print("fair with go build / GoNB: " + ", ".join(f"{k} {f[k] / g[k]:.2f}" for k in ["small", "type"]))
if "fair" in rows and "gophernotes" in rows and rows["fair"][2] > 0:
    print(f"compute loop, gophernotes / fair: {rows['gophernotes'][2] / rows['fair'][2]:.0f}x")
PY
# Where a compiled cell's time goes in fair (FAIR_KERNEL_TRACE lines).
"$PY" - "$WORK/kernels.log" <<'PY'
import re, statistics, sys
phases = {}
section = None
for line in open(sys.argv[1]):
    if line.startswith("== "):
        section = line[3:].strip()
        continue
    m = re.match(r"fair kernel: In\[\d+\] (.*)", line)
    if not m or section not in ("fair", "fair-gobuild"):
        continue
    for part in m.group(1).split():
        k, v = part.split("=")
        phases.setdefault((section, k), []).append(float(v.rstrip("ms")))
if phases:
    print("\n| kernel | phase | median (ms) | cells |")
    print("|---|---|---|---|")
    for (sec, k), v in phases.items():
        print(f"| {sec} | {k} | {statistics.median(v):.1f} | {len(v)} |")
PY
grep -E ': (failed|cell [0-9]+ .*failed)' "$WORK/kernels.log" >&2 || true
