#!/usr/bin/env bash
# Build Katib's programs (the version pinned in go.mod, which must match
# hack/testbed/versions.sh) into BINDIR (default: the test bed's bin dir):
#   katib-controller             cmd/katib-controller/v1beta1
#   katib-db-manager             cmd/db-manager/v1beta1
#   katib-suggestion-goptuna     cmd/suggestion/goptuna/v1beta1 (random, tpe, cmaes, ...)
#   katib-file-metricscollector  cmd/metricscollector/v1beta1/file-metricscollector
# Does nothing when BINDIR/.katib records the same inputs.
#
#   hack/katib/build.sh [BINDIR]
#   hack/katib/build.sh --src    print the folder of the main packages of
#                                the two programs that run in pods
#
# The suggestion service and the metrics collector run in pods, in images
# the test bed builds with fair build (a Go main package becomes the
# image's entrypoint; Katib's sidecar gives only arguments). fair build
# compiles a main package in a folder, so this script makes one for each in
# $FAIR_TESTBED_DIR/src/katib@VERSION: a link to upstream's main.go in the
# Go module cache, beside a copy of this module's go.mod and go.sum. It
# builds both binaries from there, so the images' compile finds every
# package in the Go build cache and only links.
set -euo pipefail
cd "$(dirname "$0")"
T=${FAIR_TESTBED_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fair/testbed}
log() { printf '%s katib/build: %s\n' "$(date +%T)" "$*" >&2; }
source ../testbed/versions.sh
if ! grep -q "^require ${KATIB%@*} ${KATIB#*@}\$" go.mod; then
	log "error: go.mod does not pin $KATIB (hack/testbed/versions.sh)"
	exit 1
fi
src=$T/src/${KATIB##*/}
inputs="$(cat go.mod go.sum build.sh | sha256sum | cut -d' ' -f1) $(go env GOVERSION)"
export CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod

# NAME:UPSTREAM-PACKAGE; the last two are built from $src/NAME.
progs="katib-controller:cmd/katib-controller/v1beta1
katib-db-manager:cmd/db-manager/v1beta1
katib-suggestion-goptuna:cmd/suggestion/goptuna/v1beta1
katib-file-metricscollector:cmd/metricscollector/v1beta1/file-metricscollector"
inpods="katib-suggestion-goptuna katib-file-metricscollector"

source_tree() {
	if [ -f "$src/.fair-inputs" ] && [ "$(cat "$src/.fair-inputs")" = "$inputs" ]; then return 0; fi
	local dir p
	dir=$(go mod download -json "$KATIB" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -f "$dir/go.mod" ] || { log "error: $KATIB not in the module cache"; exit 1; }
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	cp go.mod go.sum "$src.tmp/"
	for p in $progs; do
		case " $inpods " in *" ${p%%:*} "*) ;; *) continue ;; esac
		mkdir -p "$src.tmp/${p%%:*}"
		ln -s "$dir/${p#*:}/main.go" "$src.tmp/${p%%:*}/main.go"
	done
	echo "$inputs" >"$src.tmp/.fair-inputs"
	mv "$src.tmp" "$src"
}

if [ "${1:-}" = --src ]; then
	source_tree
	echo "$src"
	exit 0
fi

bin=${1:-$T/bin}
stamp=$bin/.katib
ok=1
for p in $progs; do [ -x "$bin/${p%%:*}" ] || ok=; done
if [ -n "$ok" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
	exit 0
fi
source_tree
mkdir -p "$bin"
t0=$SECONDS
# CGO off and -trimpath as hack/kserve builds (same Kubernetes libraries,
# controller-runtime and gRPC) and as fair build compiles, so the builds
# share compiled packages. Built beside the targets and renamed, so running
# processes keep their file.
for p in $progs; do
	name=${p%%:*}
	log "building $name ($KATIB)"
	case " $inpods " in
	*" $name "*) (cd "$src/$name" && nice -n 10 go build -trimpath -ldflags="-s -w" -o "$bin/$name.new" .) ;;
	*) nice -n 10 go build -trimpath -ldflags="-s -w" -o "$bin/$name.new" "${KATIB%@*}/${p#*:}" ;;
	esac
	mv -f "$bin/$name.new" "$bin/$name"
done
echo "$inputs" >"$stamp"
log "built in $((SECONDS - t0))s"
