#!/usr/bin/env bash
# deps.sh: the Debian packages and Go tools fair's tests, demo and
# benchmarks need. Idempotent; apt runs only for what is missing.
#   hack/deps.sh          packages for tests and demo, plus buildkitd
#   hack/deps.sh bench    also ko (the benchmark's peer)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS=${FAIR_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/fair/tools}
log() { printf '%s deps: %s\n' "$(date +%T)" "$*" >&2; }

PKGS="make git gcc libc6-dev libseccomp-dev curl bc docker-registry runc busybox-static ca-certificates
      jupyter-client python3-nbclient jupyter-nbconvert jupyter-notebook python3-ipykernel
      python3-jupyter-kernel-test python3-jupyter-server python3-jupyterlab-server chromium"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
# Node.js for the notebook panel's build and browser tests: Debian's nodejs
# and npm, unless a node and npm are there already (NodeSource's nodejs
# carries its own npm and conflicts with Debian's).
command -v node >/dev/null || missing="$missing nodejs"
command -v npm >/dev/null || missing="$missing npm"
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		log "missing Debian packages:$missing; run: sudo apt-get install$missing"
		exit 1
	fi
	log "apt-get install$missing"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	apt-get install -y --no-install-recommends $missing >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing >/dev/null; }
fi

# Go tools, pinned, into $TOOLS/bin.
BUILDKIT=github.com/moby/buildkit@v0.34.2
RUNC=github.com/opencontainers/runc@v1.3.3
KO=github.com/google/ko@v0.19.1
STATICCHECK=honnef.co/go/tools@v0.8.2
GOVULNCHECK=golang.org/x/vuln@v1.9.0
# Go's vulnerability data as a module: hack/vulncheck.sh's database where
# vuln.go.dev cannot be reached.
VULNDB=golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018
mkdir -p "$TOOLS/bin"
install_tool() { # name module@version [package path]
	local bin=$1 modv=$2 pkg=${3:-}
	local stamp="$TOOLS/bin/.$bin.version"
	if [ -x "$TOOLS/bin/$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$modv $(go env GOVERSION)" ]; then return; fi
	log "go install $modv ${pkg} with $(go env GOVERSION)"
	local target=${modv%@*}${pkg}@${modv#*@}
	GOBIN=$TOOLS/bin GOFLAGS=-mod=mod nice -n 10 go install -trimpath "$target"
	echo "$modv $(go env GOVERSION)" >"$stamp"
}
# BuildKit's go.mod has exclude directives, so `go install .../cmd/buildkitd@v`
# is refused: build it in a scratch module that requires BuildKit and copies
# its go and exclude lines (the same dependency versions as BuildKit's own).
# Without cgo it is one static file, which also runs in a pod on fair's
# static base (the test bed's in-cluster BuildKit).
install_buildkitd() { # module@version
	local modv=$1 mod=${1%@*} ver=${1#*@}
	local stamp="$TOOLS/bin/.buildkitd.version"
	if [ -x "$TOOLS/bin/buildkitd" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$modv static" ]; then return; fi
	log "go build $modv /cmd/buildkitd"
	local tmp gomod
	tmp=$(mktemp -d)
	gomod=$(cd "$tmp" && go mod download -json "$modv" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
	{
		printf 'module fair.local/buildkitd\n\n'
		grep '^go ' "$gomod"
		printf '\nrequire %s %s\n\n' "$mod" "$ver"
		awk '/^exclude \(/,/^\)/' "$gomod"
	} >"$tmp/go.mod"
	(cd "$tmp" && CGO_ENABLED=0 GOBIN=$TOOLS/bin GOFLAGS=-mod=mod nice -n 10 go install -trimpath \
		-ldflags "-X $mod/version.Version=$ver -X $mod/version.Package=$mod" "$mod/cmd/buildkitd")
	rm -rf "$tmp"
	echo "$modv static" >"$stamp"
}
# Other projects' programs build with this machine's Go, as on any machine
# (the Makefile's GOTOOLCHAIN is for fair's own code).
GOTOOLCHAIN=local install_buildkitd "$BUILDKIT"
# runc for the in-cluster BuildKit's image: its nsenter is C, so cgo,
# linked statically (glibc's libc.a, libseccomp-dev's libseccomp.a) to run
# on fair's static base; with seccomp, since buildkitd gives RUN steps its
# default profile.
install_runc() { # module@version
	local modv=$1 mod=${1%@*} ver=${1#*@}
	local stamp="$TOOLS/bin/.runc-static.version"
	if [ -x "$TOOLS/bin/runc-static" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$modv seccomp" ]; then return; fi
	log "go build $modv (static)"
	local tmp
	tmp=$(mktemp -d)
	printf 'module fair.local/runc\n\ngo 1.26\n\nrequire %s %s\n' "$mod" "$ver" >"$tmp/go.mod"
	(cd "$tmp" && CGO_ENABLED=1 GOFLAGS=-mod=mod nice -n 10 go build -trimpath -tags "seccomp netgo osusergo" \
		-ldflags "-s -w -extldflags -static -X main.version=${ver#v}" -o "$TOOLS/bin/runc-static" "$mod")
	rm -rf "$tmp"
	echo "$modv seccomp" >"$stamp"
}
GOTOOLCHAIN=local install_runc "$RUNC"
# Tools that read fair's code build with the Go that builds fair (the
# Makefile's GOTOOLCHAIN): staticcheck reads its export data.
install_tool staticcheck "$STATICCHECK" /cmd/staticcheck
install_tool govulncheck "$GOVULNCHECK" /cmd/govulncheck
install_tool indexdb "$VULNDB" /cmd/indexdb
if [ "${1:-}" = bench ]; then
	install_tool ko "$KO"
fi
log "tools in $TOOLS/bin"
