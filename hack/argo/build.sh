#!/usr/bin/env bash
# Build Argo Workflows' workflow-controller and argoexec, at the version
# pinned in go.mod, into BINDIR (default: the test bed's bin dir,
# $FAIR_TESTBED_DIR/bin). Does nothing when BINDIR/.argo records the same
# inputs (go.mod, go.sum, this script, cmd/argoexec, the Go version).
#
#   hack/argo/build.sh [BINDIR]
#   hack/argo/build.sh --goflags   print the GOFLAGS that build this module's
#                                  packages the same way (the test bed's
#                                  fair build of the executor image uses them)
#
# The module proxy's zip of argo-workflows lacks one file: Go module zips
# hold no symbolic links, and upstream's
# workflow/executor/osspecific/signal_linux.go is a link to signal_darwin.go,
# so argoexec does not compile on Linux from the zip ("undefined: Setpgid").
# The build therefore uses a copy of the module made of links into the Go
# module cache (as verified against go.sum) plus that one link, in
# $FAIR_TESTBED_DIR/src, and a go.mod beside it (-modfile) that replaces the
# module with the copy. go.mod in this folder stays as it is.
set -euo pipefail
cd "$(dirname "$0")"
T=${FAIR_TESTBED_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fair/testbed}
log() { printf '%s argo/build: %s\n' "$(date +%T)" "$*" >&2; }

module=github.com/argoproj/argo-workflows/v3
version=$(awk -v m="$module" '$1==m{print $2; exit}' go.mod)
[ -n "$version" ] || { log "error: no $module in go.mod"; exit 1; }
# The CRDs the test bed installs come from versions.sh; keep both in step.
source ../testbed/versions.sh
if [ "$ARGO" != "$module@$version" ]; then
	log "error: go.mod pins $module@$version, hack/testbed/versions.sh says $ARGO"
	exit 1
fi
src=$T/src/argo-workflows@$version
inputs="$version $(cat go.mod go.sum build.sh cmd/argoexec/main.go | sha256sum | cut -d' ' -f1) $(go env GOVERSION)"

info=
download() { # the module's go mod download -json, once
	[ -n "$info" ] || info=$(GOFLAGS=-mod=mod go mod download -json "$module@$version")
	echo "$info"
}

# source: the module copy and its go.mod, made again when the inputs change.
source_tree() {
	if [ -f "$src/.fair-inputs" ] && [ "$(cat "$src/.fair-inputs")" = "$inputs" ]; then return 0; fi
	local dir
	dir=$(download | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -f "$dir/go.mod" ] || { log "error: $module@$version not in the module cache"; exit 1; }
	rm -rf "$src" "$src.tmp"
	mkdir -p "$(dirname "$src")"
	cp -rs "$dir" "$src.tmp"
	chmod -R u+w "$src.tmp" # the module cache's folders are read-only; the links' targets stay so
	ln -s signal_darwin.go "$src.tmp/workflow/executor/osspecific/signal_linux.go"
	{
		cat go.mod
		printf '\n// Made by hack/argo/build.sh: upstream plus the link the module zip lacks.\nreplace %s => %s\n' "$module" "$src"
	} >"$src.tmp/.fair-go.mod"
	cp go.sum "$src.tmp/.fair-go.sum"
	echo "$inputs" >"$src.tmp/.fair-inputs"
	mv "$src.tmp" "$src"
}

# ldflags: stripped, with the version, commit and date of the tag as
# upstream's Makefile stamps them (the module proxy knows the tag's commit).
ldflags() {
	local commit date kv ld="-s -w"
	commit=$(download | sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]*\)".*/\1/p' | head -1)
	date=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$(download | sed -n 's/^[[:space:]]*"Info": "\(.*\)",$/\1/p')")
	for kv in version="$version" gitTag="$version" gitCommit="$commit" gitTreeState=clean buildDate="${date:-1970-01-01T00:00:00Z}"; do
		ld="$ld -X $module.$kv"
	done
	echo "$ld"
}

if [ "${1:-}" = --goflags ]; then
	source_tree
	printf -- '-modfile=%s "-ldflags=%s"\n' "$src/.fair-go.mod" "$(ldflags)"
	exit 0
fi

bin=${1:-$T/bin}
stamp=$bin/.argo
if [ -x "$bin/workflow-controller" ] && [ -x "$bin/argoexec" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
	exit 0
fi
source_tree
ld=$(ldflags)
mkdir -p "$bin"
# Build beside the targets and rename, so running processes keep their file.
# -trimpath and CGO_ENABLED=0 as fair build uses them, so that building the
# executor image afterwards (fair build ./hack/argo/cmd/argoexec) finds
# every package compiled in the Go build cache and only links.
build() { # NAME PACKAGE
	local t0=$SECONDS
	log "building $1 ($module@$version)"
	CGO_ENABLED=0 nice -n 15 go build -modfile="$src/.fair-go.mod" -trimpath -ldflags="$ld" -o "$bin/$1.new" "$2"
	mv -f "$bin/$1.new" "$bin/$1"
	log "built $bin/$1 in $((SECONDS - t0))s"
}
build workflow-controller "$module/cmd/workflow-controller"
build argoexec ./cmd/argoexec
echo "$inputs" >"$stamp"
