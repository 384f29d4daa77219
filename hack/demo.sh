#!/usr/bin/env bash
# demo.sh: what `make demo` runs, the main journey on local defaults.
# It starts a local registry, builds fair, builds the example Go program
# into an image without Docker, rebuilds it (nothing is uploaded), and
# builds a Python folder Fairing style on top of it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=/usr/local/go/bin:$PATH
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

hack/deps.sh
step "building fair"
go build -o bin/fair ./cmd/fair
bin/fair version

step "starting a local registry"
hack/registry.sh start
export FAIR_REGISTRY=${FAIR_LOCAL_REGISTRY:-127.0.0.1:5056}/demo

step "fair build ./examples/hello   (Go main package -> image, no Docker)"
ref=$(bin/fair build ./examples/hello)
echo "$ref"

step "fair build ./examples/hello again   (no change: nothing is uploaded)"
bin/fair build ./examples/hello

step "fair build ./examples/train-py --base $ref --cmd 'python train.py'   (a folder appended onto a base)"
bin/fair build ./examples/train-py --base "$ref" --cmd "python train.py" -v

step "fair build ./examples/hello --platform linux/amd64,linux/arm64   (an image index)"
bin/fair build ./examples/hello --platform linux/amd64,linux/arm64 --tag multi

echo >&2
echo "demo done. The registry keeps running on ${FAIR_REGISTRY%%/*}; stop it with: hack/registry.sh stop" >&2
