# vigil — run `make help` for the targets.
GO      ?= go
BIN     := bin/vigil
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
PKGS    := ./...

.PHONY: help build run test test-unit test-integration bench eval lint fmt update-golden docker check clean

help: ## Show this help.
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-18s %s\n", $$1, $$2}'

build: ## Build bin/vigil (static, no cgo).
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/vigil

run: build ## Demo: the daemon on a bundled config against live simulated traffic (dry-run firewall).
	$(BIN) demo

test: ## Full suite: unit, scenario and (as root, or under CI=true) system tests, with the race detector.
	$(GO) test -race -count=1 -timeout 12m $(PKGS)

test-unit: ## Fast run without the race detector (as non-root, system tests skip).
	$(GO) test -count=1 $(PKGS)

test-integration: ## System tests only (root: network namespaces, iptables, ipset, nginx).
	$(GO) test -race -count=1 -run 'System|Netns|E2E|Nginx' $(PKGS)

bench: ## Go benchmarks (figures go in docs/BENCHMARKS.md).
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s $(PKGS)

eval: ## Detection quality on ../shared/corpus and the held-out set (docs/DETECTION.md).
	$(GO) test -count=1 -run 'TestCorpusEval' -v ./internal/detect/

lint: ## go vet, gofmt and the package-boundary check (exec only in internal/firewall and the netns test helpers).
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@bad=$$(grep -rl '"os/exec"' --include='*.go' internal cmd | grep -v '_test.go' | grep -v -e '^internal/firewall/' -e '^internal/netns/' || true); \
	  if [ -n "$$bad" ]; then echo "os/exec outside internal/firewall: $$bad"; exit 1; fi

fmt: ## Format the code.
	gofmt -w $$(git ls-files '*.go')

update-golden: ## Rewrite golden files (scenario decisions, parser samples, docs/CONFIG.md).
	$(GO) test -count=1 ./internal/replay/ ./internal/parse/ ./internal/config/ -args -update

docker: ## Build the container image (needs a Docker engine).
	docker build -t vigil:$(VERSION) .

check: lint test ## Everything CI runs.

clean: ## Remove build outputs.
	rm -rf bin
