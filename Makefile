# fair: build Go and ML code into images without Docker and run it on Kubernetes.
GO ?= go
export PATH := /usr/local/go/bin:$(PATH)
# The Go that builds and checks fair: Go 1.26.8 has standard-library
# vulnerabilities fair's code reaches (fixed in 1.26.10 and 1.27.3), and
# the module proxy serves go1.27.3, so the go command fetches it once
# (about 76 MB). go.mod still accepts Go 1.26.8 for `go install`.
GOTOOLCHAIN ?= go1.27.3
export GOTOOLCHAIN
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/fair-go/fair/internal/cli.Version=$(VERSION)

.PHONY: all build install test test-short demo bench lint vulncheck fuzz clean notebook-ext
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

vulncheck: ## govulncheck: fails when fair's code reaches a known vulnerability
	hack/deps.sh
	hack/vulncheck.sh

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 60s ./builder/ignore

notebook-ext: ## npm ci, build the notebook panel into notebook-ext/dist (embedded in fair), unit tests
	cd notebook-ext && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build && npm test --silent

clean:
	rm -rf bin

-include hack/testbed/Makefile.inc
