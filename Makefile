# vigil — run `make help` for the targets.
GO ?= go
BIN := bin/vigil

.PHONY: help build test bench lint fmt run clean

help: ## Show this help.
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-18s %s\n", $$1, $$2}'

build: ## Build bin/vigil (static).
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/vigil

test: ## Run the full test suite (unit, scenario and, as root, system tests).
	$(GO) test -race -count=1 ./...

bench: ## Run the Go benchmarks.
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint: ## Run go vet and gofmt checks.
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

fmt: ## Format the code.
	gofmt -w $$(git ls-files '*.go')

clean: ## Remove build outputs.
	rm -rf bin
