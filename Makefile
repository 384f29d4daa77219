# fair: build Go and ML code into images without Docker and run it on Kubernetes.
GO ?= go
export PATH := /usr/local/go/bin:$(PATH)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/fair-go/fair/internal/cli.Version=$(VERSION)

.PHONY: all build install test test-short demo bench lint fuzz clean notebook-ext
all: build

build: ## build bin/fair
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/fair ./cmd/fair

install: ## install fair into GOBIN
	$(GO) install -trimpath -ldflags "$(LDFLAGS)" ./cmd/fair

test: ## install what the tests need, bring up the test bed, run every test
	hack/test.sh

test-short: ## Go tests only, against whatever is already running
	$(GO) test ./...

demo: ## the main journey end to end on local defaults
	hack/demo.sh

bench: ## benchmarks against the named peers (docs/benchmarks.md)
	hack/bench.sh

lint:
	$(GO) vet ./...
	$${FAIR_TOOLS:-$$HOME/.cache/fair/tools}/bin/staticcheck ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 60s ./builder/ignore

notebook-ext: ## npm ci, build the notebook panel into notebook-ext/dist (embedded in fair), unit tests
	cd notebook-ext && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build && npm test --silent

clean:
	rm -rf bin

-include hack/testbed/Makefile.inc
