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
source hack/timing.sh
export FAIR_TIMINGS
FAIR_TIMINGS=$(mktemp)
gotest=$(mktemp)

# packages adds each test package's time to the table, once.
packages() {
	[ -s "$gotest" ] || return 0
	awk '/^(ok|FAIL)[ \t]+github.com\/fair-go\/fair/ && $NF ~ /s$/ { t = $NF; sub(/s$/, "", t); sub(/github.com\/fair-go\/fair\/?/, "", $2); printf "go test %s\t%s\n", ($2 == "" ? "." : $2), t }' "$gotest" >>"$FAIR_TIMINGS" 2>/dev/null || true
	: >"$gotest"
}

started_testbed=
fuzzpid=
cleanup() {
	if [ -n "$fuzzpid" ] && kill -0 "$fuzzpid" 2>/dev/null; then
		pkill -P "$fuzzpid" 2>/dev/null || true
		kill "$fuzzpid" 2>/dev/null || true
	fi
	if [ -n "$started_testbed" ]; then
		log "stopping the test bed"
		hack/testbed/testbed down || true
	fi
	# Where the time went: each step, then each test package.
	packages
	echo "where the time went:" >&2
	timings >&2
	rm -f "$FAIR_TIMINGS" "$gotest"
}
trap cleanup EXIT
timed "apt and Go tools (hack/deps.sh)" hack/deps.sh
if [ "${FAIR_TESTBED:-}" != off ] && [ -x hack/testbed/testbed ]; then
	hack/testbed/install-deps.sh
	log "starting the test bed"
	timed "test bed: up" hack/testbed/testbed up
	started_testbed=1
	eval "$(hack/testbed/testbed env)"
fi

log "notebook panel: npm ci, build, unit tests"
panel() {
	make --no-print-directory notebook-ext || return
	# The build is checked in (fair embeds it): it must match its source.
	# (status, not diff: a rebuilt Lab extension has new file names)
	local stale
	stale=$(git status --porcelain -- notebook-ext/dist)
	[ -z "$stale" ] || { log "notebook-ext/dist is stale: run make notebook-ext and commit it:"$'\n'"$stale"; return 1; }
}
timed "notebook panel: npm ci, build, vitest" panel

log "go vet and staticcheck"
# Inside a function called as timed's command, set -e does not stop at a
# failing line: each step says || return.
lint() {
	go vet ./... || return
	"$TOOLS/bin/staticcheck" ./... || return
	local unformatted
	unformatted=$(gofmt -l $(git ls-files '*.go'))
	if [ -n "$unformatted" ]; then
		log "gofmt would change: $unformatted"
		return 1
	fi
}
timed "go vet, staticcheck, gofmt" lint
timed "govulncheck (hack/vulncheck.sh)" hack/vulncheck.sh

# fuzzone runs one target for 6 s with one worker. Go 1.26's fuzz
# coordinator can end a clean run with a bare "context deadline exceeded"
# at the -fuzztime boundary (golang/go#75804, fixed in Go 1.27, which the
# Makefile uses; kept for a run with GOTOOLCHAIN=local); such a run
# wrote no failing input, so it is run once more. Any other failure fails.
fuzzone() {
	local out; out=$(mktemp)
	go test -run '^$' -fuzz "^$1\$" -fuzztime 6s -parallel 1 "$2" 2>&1 | tee "$out" && return
	if grep -q 'context deadline exceeded' "$out" && ! grep -q -e 'Failing input written' -e 'panic:' "$out"; then
		log "fuzz: $1 ended at the fuzztime boundary without an input (golang/go#75804); running it again"
		go test -run '^$' -fuzz "^$1\$" -fuzztime 6s -parallel 1 "$2"
		return
	fi
	return 1
}
fuzz() {
	fuzzone FuzzParse ./builder/ignore || return
	local target f
	for target in $(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./builder/ignore/' | xargs -r -n1 dirname | sort -u); do
		for f in $(grep -h '^func Fuzz' "$target"/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do
			fuzzone "$f" "$target" || return
		done
	done
}

log "go test, and a short fuzz pass beside it"
# Every image any test builds is scanned for files the secret defaults
# exclude (builder.ScanEnv); one found fails that build.
export FAIR_SCAN_SECRETS=1
# The fuzz pass (one worker, 6 s a target) runs while the cluster tests
# wait on the cluster; its output follows go test's.
fuzzlog=$(mktemp)
timed "(beside go test) fuzzing, 6 s a target" fuzz >"$fuzzlog" 2>&1 &
fuzzpid=$!
# -p 1: packages share the test bed. Inside a package the test bed tests
# run in parallel (t.Parallel); -parallel 4 because they mostly wait on the
# cluster, not the CPU (internal/cli: 404 s one at a time, 308 s two at a
# time, 275 s six at a time on 2 cores).
set -o pipefail
go test -p 1 -parallel 4 -count=1 -timeout 40m ./... 2>&1 | tee "$gotest"
packages

log "the fuzz pass"
fuzzrc=0
wait "$fuzzpid" || fuzzrc=$?
fuzzpid=
cat "$fuzzlog"
rm -f "$fuzzlog"
[ "$fuzzrc" -eq 0 ] || { log "the fuzz pass failed"; exit 1; }
log "all tests passed"
