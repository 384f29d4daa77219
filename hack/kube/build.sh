#!/usr/bin/env bash
# Build the all-in-one kube binary into $1 (default: the test bed's bin dir).
# The version stamps make the components report v1.32.4 instead of v0.0.0.
set -euo pipefail
cd "$(dirname "$0")"
out=${1:?usage: build.sh OUTPUT}
version=$(awk '$1=="k8s.io/kubernetes"{print $2; exit}' go.mod)
minor=$(echo "$version" | cut -d. -f2)
ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld="$ld -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
mkdir -p "$(dirname "$out")"
# Build beside the target and rename, so running components keep their file.
CGO_ENABLED=0 GOFLAGS=-mod=mod nice -n 10 go build -trimpath -ldflags="$ld" -o "$out.new" .
mv -f "$out.new" "$out"
