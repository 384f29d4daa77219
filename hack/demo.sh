#!/usr/bin/env bash
# demo.sh: what `make demo` runs, the main journey on local defaults.
# It installs what it needs, brings up the local test bed (registry and a
# real single-node Kubernetes with the ML operators), then, with fair:
#   builds a Go program into an image without Docker, and rebuilds it (0 bytes);
#   appends a Python folder onto a base image, Fairing style;
#   trains on the cluster with a GPU request, logs streamed back;
#   runs a distributed PyTorchJob (1 master + 2 workers) on the real operator;
#   serves a Go model over the Open Inference Protocol and asks it a prediction
#   with fair predict;
#   runs a Go notebook through Jupyter whose %%kf train cell trains on the
#   cluster, and builds the same notebook from the CLI.
# The test bed keeps running afterwards; `make testbed-down` stops it.
#   FAIR_TESTBED=off  stop after the image builds (no cluster)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=/usr/local/go/bin:$PATH
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

hack/deps.sh
step "building fair"
go build -o bin/fair ./cmd/fair
fair() { bin/fair "$@"; }
fair version

if [ "${FAIR_TESTBED:-}" = off ]; then
	step "starting a local registry (FAIR_TESTBED=off: no cluster)"
	hack/registry.sh start
	export FAIR_REGISTRY=${FAIR_LOCAL_REGISTRY:-127.0.0.1:5056}/demo
else
	step "bringing up the local test bed (first time: a few minutes to compile Kubernetes)"
	hack/testbed/install-deps.sh
	hack/testbed/testbed up
	eval "$(hack/testbed/testbed env)"
	export FAIR_REGISTRY=$FAIR_REGISTRY/demo
fi

step "fair build ./examples/hello   (Go main package -> image, no Docker)"
ref=$(fair build ./examples/hello)
echo "$ref"

step "fair build ./examples/hello again   (no change: nothing is uploaded)"
fair build ./examples/hello

step "fair base debian --packages python3-minimal --repo $FAIR_REGISTRY/python   (a base from Debian packages: no Docker, no chroot)"
pyref=$(fair base debian --packages python3-minimal --repo "$FAIR_REGISTRY/python")
echo "$pyref"

step "fair build ./examples/train-py --base $pyref --cmd 'python3 train.py'   (a folder appended onto a base)"
fair build ./examples/train-py --base "$pyref" --cmd "python3 train.py" -v

step "fair build ./examples/hello --platform linux/amd64,linux/arm64   (an image index)"
fair build ./examples/hello --platform linux/amd64,linux/arm64 --tag multi

if [ "${FAIR_TESTBED:-}" = off ]; then
	echo "demo done (no cluster). Stop the registry with: hack/registry.sh stop" >&2
	exit 0
fi

# A rerun starts from a clean slate.
for run in demo-train demo-dist demo-serve demo-model; do fair delete "$run" >/dev/null 2>&1 || true; done

step "fair train ./examples/train-go --gpus 1   (a Job with nvidia.com/gpu; logs stream back)"
fair train ./examples/train-go --gpus 1 --name demo-train --ttl 10m

step "fair train ./examples/train-go --kind pytorchjob --workers 3 --model demo-lr   (Training Operator: master + 2 workers; rank 0 saves the model)"
fair train ./examples/train-go --kind pytorchjob --workers 3 --name demo-dist --env EPOCHS=3 --model demo-lr

step "fair models ls demo-lr   (the trained model, kept in the registry)"
fair models ls demo-lr

if [ "${FAIR_TESTBED_KATIB:-}" != 0 ]; then
	step "fair sweep ./examples/sweep-go -p lr=0.001..0.1 -p layers=1..5 --objective loss --trials 4 --parallel 2   (Katib: trials as Jobs, the best one and its command)"
	fair sweep delete demo-sweep >/dev/null 2>&1 || true
	fair sweep ./examples/sweep-go --name demo-sweep -p lr=0.001..0.1 -p layers=1..5 --objective loss --trials 4 --parallel 2
fi

step "fair ps"
fair ps

step "fair serve ./examples/serve-go --kind deployment   (Open Inference Protocol v2 endpoint)"
fair serve ./examples/serve-go --kind deployment --name demo-serve

step "fair predict demo-serve -d @examples/serve-go/input.json   (through a port-forward)"
fair predict demo-serve -d @examples/serve-go/input.json

step "fair serve ./examples/serve-trained --model demo-lr:demo-dist   (KServe on the test bed; the server reads the trained weights)"
fair serve ./examples/serve-trained --model demo-lr:demo-dist --name demo-model

step "fair predict demo-model   (the trained model's answer)"
fair predict demo-model -d '{"inputs":[{"name":"input-0","datatype":"FP32","shape":[1,2],"data":[[1,-1]]}]}'

step "jupyter nbconvert --execute examples/notebooks/train.ipynb   (%%kf train --gpus 1 from a Go notebook)"
jp=$(mktemp -d)
fair kernel install --prefix "$jp" >/dev/null 2>&1
(cd examples/notebooks && JUPYTER_PATH="$jp/share/jupyter" FAIR_TTL=10m \
	jupyter nbconvert --to markdown --execute --ExecutePreprocessor.kernel_name=fair \
	--ExecutePreprocessor.timeout=600 --NbConvertBase.display_data_priority="['text/plain']" \
	--stdout train.ipynb 2>/dev/null) | sed -n '/^%%kf train/,$p'
rm -rf "$jp"

step "fair build examples/notebooks/train.ipynb   (the same notebook from the CLI: the same digest as the magic)"
fair build examples/notebooks/train.ipynb

step "cleaning up the demo's runs"
fair delete demo-train || true
fair delete demo-dist || true
fair delete demo-serve || true
fair delete demo-model || true
[ "${FAIR_TESTBED_KATIB:-}" = 0 ] || fair sweep delete demo-sweep || true
echo "demo done. The test bed keeps running: eval \"\$(hack/testbed/testbed env)\" to use it, make testbed-down to stop it." >&2
