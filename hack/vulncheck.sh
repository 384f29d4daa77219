#!/usr/bin/env bash
# vulncheck.sh: govulncheck over fair's module; fails when fair's code can
# reach a known vulnerability (in a dependency or in the Go standard
# library of the toolchain that builds it).
#
# The database is Go's own (vuln.go.dev) when it answers. Where it cannot
# be reached, the same data comes from the pinned golang.org/x/vulndb
# module through the Go module proxy: its OSV files, indexed by vulndb's
# own indexdb into $TOOLS/vulndb/VERSION (hack/deps.sh installs indexdb
# and govulncheck; bump VULNDB there for newer entries). Before the scan,
# a small module that calls a function with a known vulnerability is
# scanned: if that finds nothing, the database did not load, and the check
# fails rather than pass on nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TOOLS=${FAIR_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/fair/tools}
# The vulndb version indexdb was built from (its stamp) is the data's.
VULNDB=$(cut -d" " -f1 "$TOOLS/bin/.indexdb.version")
log() { printf '%s vulncheck: %s\n' "$(date +%T)" "$*" >&2; }

canary=$(mktemp -d)
trap 'rm -rf "$canary"' EXIT

db=
if [ "${FAIR_VULNDB:-}" != snapshot ] && curl -sf --max-time 5 -o /dev/null https://vuln.go.dev/index/db.json; then
	log "database: vuln.go.dev"
else
	ver=${VULNDB#*@}
	db=$TOOLS/vulndb/$ver
	if [ ! -s "$db/index/db.json" ]; then
		src=$(cd "$canary" && GOFLAGS=-mod=mod go mod download -json "$VULNDB" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
		rm -rf "$db.new" && mkdir -p "$(dirname "$db")"
		"$TOOLS/bin/indexdb" -vulns "$src/data/osv" -out "$db.new"
		mv "$db.new" "$db"
	fi
	d=$(echo "$ver" | sed -n 's/^v[0-9.]*-\([0-9]\{4\}\)\([0-9]\{2\}\)\([0-9]\{2\}\).*/\1-\2-\3/p')
	log "database: vuln.go.dev unreachable; ${VULNDB%@*} of ${d:-$ver}, $(ls "$db/ID" | grep -c '\.json$') entries"
	db=file://$db
fi
scan() { "$TOOLS/bin/govulncheck" ${db:+-db "$db"} "$@"; }

cat >"$canary/go.mod" <<'EOF'
module fair.local/vulncheck-canary

go 1.22

require golang.org/x/text v0.3.5
EOF
cat >"$canary/go.sum" <<'EOF'
golang.org/x/text v0.3.5 h1:i6eZZ+zk0SOf0xgBpEpPD18qWcJda6q1sxt3S0kzyUQ=
golang.org/x/text v0.3.5/go.mod h1:5Zoc/QRtKVWzQhOtBMvqHzDpF6irO9z98xDceosuGiQ=
golang.org/x/tools v0.0.0-20180917221912-90fa682c2a6e/go.mod h1:n7NCudcB/nEzxVGmLbDWY5pfWTLqBcC2KZ6jyYvM4mQ=
EOF
# language.Parse before x/text v0.3.7: GO-2021-0113.
printf 'package main\n\nimport "golang.org/x/text/language"\n\nfunc main() { _, _ = language.Parse("en") }\n' >"$canary/main.go"
rc=0
(cd "$canary" && GOFLAGS=-mod=mod scan -format json ./... >"$canary/out.json") || rc=$?
if ! grep -q '"GO-2021-0113"' "$canary/out.json"; then
	log "the database found nothing in a module that calls a known vulnerability (GO-2021-0113; govulncheck exit status $rc): it did not load"
	exit 1
fi

log "govulncheck ./... with $(go env GOVERSION)"
if ! scan ./...; then
	log "fair's code reaches a known vulnerability (above): update the module (go get MODULE@FIXED) or, for the standard library, the Go toolchain (GOTOOLCHAIN in the Makefile)"
	exit 1
fi
