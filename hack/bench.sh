#!/usr/bin/env bash
# bench.sh: every benchmark; each writes its figures under docs/bench/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source hack/go-native.sh
for b in hack/bench-build.sh hack/bench-serving.sh hack/bench-kernel.sh hack/bench-submit.sh hack/bench-sweep.sh hack/bench-models.sh hack/bench-bases.sh; do
	if [ -x "$b" ]; then
		echo "== $b" >&2
		"$b"
	fi
done
