#!/usr/bin/env bash
# bench-build.sh: fair build against ko build and plain go build, same Go
# package, same local registry, same run. Prints medians and ratios and
# writes docs/bench/build.md.
#   RUNS=5 (runs per case)
# Cases: (a) cold: empty fair/ko caches, warm Go build cache, new repository;
#        (b) rebuild with no change; (c) rebuild after a one-line change.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=/usr/local/go/bin:$PATH
RUNS=${RUNS:-5}
TOOLS=${FAIR_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/fair/tools}
hack/deps.sh bench
go build -o bin/fair ./cmd/fair
FAIR=$PWD/bin/fair
KO=$TOOLS/bin/ko

export FAIR_LOCAL_REGISTRY=127.0.0.1:5057
hack/registry.sh start
trap 'hack/registry.sh stop' EXIT
REG=$FAIR_LOCAL_REGISTRY
WORK=$(mktemp -d)
trap 'hack/registry.sh stop; rm -rf "$WORK"' EXIT

# The package: a small model server, about the size of a typical job binary.
mkdir -p "$WORK/app"
cat >"$WORK/app/go.mod" <<'GO'
module example.com/app

go 1.22
GO
cat >"$WORK/app/main.go" <<'GO'
package main

import (
	"encoding/json"
	"log"
	"net/http"
)

var version = "v0"

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"version": version})
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
GO
( cd "$WORK/app" && go build -o /dev/null . ) # warm the Go build cache

# Both tools build on the same static base, published by fair.
BASE=$("$FAIR" base push "$REG/static" --tag latest 2>/dev/null)
printf 'defaultBaseImage: %s\n' "$BASE" >"$WORK/app/.ko.yaml"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
change() { sed -i "s/^var version = .*/var version = \"v$RANDOM$RANDOM\"/" "$WORK/app/main.go"; }

declare -A T
run_case() { # label cmd...
	local label=$1; shift
	local s e
	s=$(now); "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err"; exit 1; }; e=$(now)
	T[$label]+="$(echo "$e - $s" | bc) "
}
fair_build() { FAIR_CACHE_DIR=$1 "$FAIR" build "$WORK/app" --repo "$REG/$2"; }
ko_build() { ( cd "$WORK/app" && KO_DOCKER_REPO=$REG/$1 KOCACHE=$2 "$KO" build --bare --sbom=none --platform=linux/amd64 . ); }

for i in $(seq 1 "$RUNS"); do
	echo "run $i/$RUNS" >&2
	fc=$WORK/fair-cache-$i kc=$WORK/ko-cache-$i
	# (a) cold: empty caches, new repository
	run_case fair_a fair_build "$fc" "fair-$i"
	run_case ko_a ko_build "ko-$i" "$kc"
	# (b) no change
	run_case fair_b fair_build "$fc" "fair-$i"
	summary=$(tail -1 "$WORK/err")
	run_case ko_b ko_build "ko-$i" "$kc"
	# (c) one-line change (each tool sees its own fresh change)
	change; run_case fair_c fair_build "$fc" "fair-$i"
	change; run_case ko_c ko_build "ko-$i" "$kc"
	change; run_case go_c bash -c "cd '$WORK/app' && CGO_ENABLED=0 GOOS=linux go build -trimpath -o '$WORK/app.bin' ."
done


m() { printf '%.2f' "$(echo "${T[$1]}" | tr ' ' '\n' | grep . | median)"; }
r() { echo "scale=2; $1 / $2" | bc; }
out=docs/bench/build.md
mkdir -p docs/bench
{
	echo "# Image build benchmark"
	echo
	echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores by \`make bench\` (\`hack/bench-build.sh\`, RUNS=$RUNS, medians in seconds)."
	echo "Same Go package (a small net/http program), same local registry (Debian docker-registry on loopback), both tools on fair's static base;"
	echo "ko $("$KO" version 2>/dev/null) with \`--bare --sbom=none --platform=linux/amd64\`; Go build cache warm."
	echo
	echo "| case | fair | ko | fair/ko | go build | fair/go build |"
	echo "|---|---|---|---|---|---|"
	echo "| (a) cold (empty tool caches, new repo) | $(m fair_a) | $(m ko_a) | $(r "$(m fair_a)" "$(m ko_a)") | | |"
	echo "| (b) rebuild, no change | $(m fair_b) | $(m ko_b) | $(r "$(m fair_b)" "$(m ko_b)") | | |"
	echo "| (c) rebuild, one-line change | $(m fair_c) | $(m ko_c) | $(r "$(m fair_c)" "$(m ko_c)") | $(m go_c) | $(r "$(m fair_c)" "$(m go_c)") |"
	echo
	echo "fair's own line for a rebuild with no change: \`$summary\`"
	echo
	echo "Load average while measuring: $(cut -d' ' -f1-3 /proc/loadavg)."
} >"$out"
cat "$out"
