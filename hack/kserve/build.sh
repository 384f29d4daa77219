#!/usr/bin/env bash
# Build KServe's controller manager (cmd/manager, the version pinned in
# go.mod, which must match hack/testbed/versions.sh) into BINDIR (default:
# the test bed's bin dir) as kserve-manager. Does nothing when
# BINDIR/.kserve records the same inputs.
#
#   hack/kserve/build.sh [BINDIR]
set -euo pipefail
cd "$(dirname "$0")"
T=${FAIR_TESTBED_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fair/testbed}
log() { printf '%s kserve/build: %s\n' "$(date +%T)" "$*" >&2; }
source ../testbed/versions.sh
if ! grep -q "^require ${KSERVE%@*} ${KSERVE#*@}\$" go.mod; then
	log "error: go.mod does not pin $KSERVE (hack/testbed/versions.sh)"
	exit 1
fi
bin=${1:-$T/bin}
stamp=$bin/.kserve
inputs="$(cat go.mod go.sum build.sh | sha256sum | cut -d' ' -f1) $(go env GOVERSION)"
if [ -x "$bin/kserve-manager" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
	exit 0
fi
mkdir -p "$bin"
t0=$SECONDS
log "building kserve-manager ($KSERVE)"
CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod nice -n 10 go build -trimpath -ldflags="-s -w" -o "$bin/kserve-manager.new" "${KSERVE%@*}/cmd/manager"
mv -f "$bin/kserve-manager.new" "$bin/kserve-manager"
echo "$inputs" >"$stamp"
log "built in $((SECONDS - t0))s"
