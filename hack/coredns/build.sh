#!/usr/bin/env bash
# Build CoreDNS with the test bed's plugins into $1 (default: the test bed's
# bin dir). The modules it shares with hack/kube are pinned to hack/kube's
# versions (go.mod), and the flags match hack/kube/build.sh, so after the
# kube build most of CoreDNS comes from the Go build cache. Does nothing
# when the binary was built from the same inputs.
set -euo pipefail
cd "$(dirname "$0")"
T=${FAIR_TESTBED_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fair/testbed}
out=${1:-$T/bin/coredns}
stamp=$(dirname "$out")/.coredns
inputs="$(cat go.mod go.sum main.go build.sh | sha256sum | cut -d' ' -f1) $(go env GOVERSION)"
if [ -x "$out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
	exit 0
fi
mkdir -p "$(dirname "$out")"
# Build beside the target and rename, so a running CoreDNS keeps its file.
CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off nice -n 10 go build -trimpath -ldflags="-s -w" -o "$out.new" .
mv -f "$out.new" "$out"
echo "$inputs" >"$stamp"
