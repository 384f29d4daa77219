#!/usr/bin/env bash
# test.sh: what `make test` runs. Installs what the tests need, brings up
# the local test bed (registry, Kubernetes, operators) when its scripts are
# present, runs every Go test and a short fuzz pass, and stops what it
# started, also on failure.
#   FAIR_TESTBED=off  skip the cluster (cluster tests then skip, saying why)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=/usr/local/go/bin:$PATH
TOOLS=${FAIR_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/fair/tools}
export FAIR_TOOLS=$TOOLS
log() { printf '%s test: %s\n' "$(date +%T)" "$*" >&2; }

hack/deps.sh
started_testbed=
cleanup() {
	if [ -n "$started_testbed" ]; then
		log "stopping the test bed"
		hack/testbed/testbed down || true
	fi
}
trap cleanup EXIT
if [ "${FAIR_TESTBED:-}" != off ] && [ -x hack/testbed/testbed ]; then
	hack/testbed/install-deps.sh
	log "starting the test bed"
	hack/testbed/testbed up
	started_testbed=1
	eval "$(hack/testbed/testbed env)"
fi

log "go vet and staticcheck"
go vet ./...
"$TOOLS/bin/staticcheck" ./...
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	log "gofmt would change: $unformatted"
	exit 1
fi

log "go test"
# -p 1: packages share the test bed; each package still runs its own tests in parallel.
go test -p 1 -count=1 -timeout 40m ./...

log "fuzzing briefly"
go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 15s ./builder/ignore
for target in $(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./builder/ignore/' | xargs -r -n1 dirname | sort -u); do
	for f in $(grep -h '^func Fuzz' "$target"/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do
		go test -run '^$' -fuzz "^$f\$" -fuzztime 15s "$target"
	done
done
log "all tests passed"
