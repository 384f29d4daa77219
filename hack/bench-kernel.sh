#!/usr/bin/env bash
# bench-kernel.sh: compare fair's Go kernel with GoNB v0.11.1 (compiled
# cells) and gophernotes v0.7.5 (interpreted) on the same cells, in one run,
# through the real Jupyter client (jupyter_client, the library nbconvert
# drives): kernel start, first cell, median round trip of a trivial cell,
# and a compute loop (sum 1..10,000,000; its own duration and the cell's
# round trip).
#
# Needs: go, gcc, python3 with jupyter_client (Debian: python3-jupyter-client),
# the Go module proxy (to fetch GoNB and gophernotes sources once).
# Usage: hack/bench-kernel.sh [ROUNDS]   (figures go to stdout as Markdown)
set -euo pipefail

ROUNDS=${1:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_WORK:-${TMPDIR:-/tmp}/fair-bench-kernel}
mkdir -p "$WORK/bin" "$WORK/jupyter/kernels"
log() { echo "bench-kernel: $*" >&2; }
# A python3 with jupyter_client (Debian's, when another python3 comes first).
PY=python3
$PY -c 'import jupyter_client' 2>/dev/null || PY=/usr/bin/python3

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

"$PY" - "$ROUNDS" <<'PY'
import statistics, sys, time
from jupyter_client.manager import start_new_kernel

rounds = int(sys.argv[1])
LOOP = """start := time.Now()
sum := 0
for i := 1; i <= 10000000; i++ {
	sum += i
}
fmt.Println(sum, time.Since(start).Seconds())"""
cells = {
    # name: (first cell, trivial cell, compute cell)
    "fair": ('import (\n\t"fmt"\n\t"time"\n)\nfmt.Println("ready")', 'fmt.Println(1)', LOOP),
    "gonb": ('import (\n\t"fmt"\n\t"time"\n)\n%%\nfmt.Println("ready")', '%%\nfmt.Println(1)', "%%\n" + LOOP),
    "gophernotes": ('import (\n\t"fmt"\n\t"time"\n)\nfmt.Println("ready")', 'fmt.Println(1)', LOOP),
}

def run(kc, code):
    out, err = [], None
    t0 = time.perf_counter()
    msg_id = kc.execute(code)
    while True:
        m = kc.get_iopub_msg(timeout=600)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        t = m["msg_type"]
        if t == "stream":
            out.append(m["content"]["text"])
        elif t == "error":
            err = m["content"]["evalue"]
        elif t == "status" and m["content"]["execution_state"] == "idle":
            break
    kc.get_shell_msg(timeout=600)
    return time.perf_counter() - t0, "".join(out), err

rows = []
for name, (first, trivial, compute) in cells.items():
    t0 = time.perf_counter()
    try:
        km, kc = start_new_kernel(kernel_name=name, startup_timeout=300)
    except Exception as e:  # report and go on with the others
        print(f"{name}: failed to start: {e}", file=sys.stderr)
        continue
    start = time.perf_counter() - t0
    try:
        t_first, out, err = run(kc, first)
        if err:
            print(f"{name}: first cell failed: {err}", file=sys.stderr)
        trips = []
        for _ in range(rounds):
            t, out, err = run(kc, trivial)
            if err:
                print(f"{name}: trivial cell failed: {err}", file=sys.stderr)
            trips.append(t)
        t_comp, out, err = run(kc, compute)
        loop = float(out.split()[-1]) if out and not err else float("nan")
        if err:
            print(f"{name}: compute cell failed: {err}", file=sys.stderr)
        rows.append((name, start, t_first, statistics.median(trips), t_comp, loop))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

print(f"| kernel | start (s) | first cell (s) | trivial cell, median of {rounds} (s) | compute cell round trip (s) | sum 1..1e7 loop (s) |")
print("|---|---|---|---|---|---|")
for r in rows:
    print("| %s | %.2f | %.2f | %.3f | %.2f | %.4f |" % r)
by = {r[0]: r for r in rows}
if "fair" in by and "gonb" in by:
    print(f"\ntrivial-cell round trip, fair / GoNB: {by['fair'][3] / by['gonb'][3]:.2f}")
if "fair" in by and "gophernotes" in by and by["fair"][5] > 0:
    print(f"compute loop, gophernotes / fair: {by['gophernotes'][5] / by['fair'][5]:.0f}x")
PY
