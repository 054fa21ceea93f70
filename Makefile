# The test command the README and CI use. GOFLAGS may add -short for a quick run.
GO ?= go
STATICCHECK_VERSION = v0.8.2

.PHONY: test lint staticcheck deps install run build fuzz bench

# Every test this machine can run; ends with one line saying what ran and
# what was skipped and why (tools/test.sh, tools/testsummary).
test: lint
	GO=$(GO) tools/test.sh

lint: staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	"$$($(GO) env GOPATH)/bin/staticcheck" ./...

# staticcheck is installed with go install when it is missing.
staticcheck:
	@[ -x "$$($(GO) env GOPATH)/bin/staticcheck" ] || { echo "== go install staticcheck@$(STATICCHECK_VERSION)"; $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); }

# What a full run needs beyond Go, Node and npm: chromium, moto, cfn-lint.
deps:
	GO=$(GO) tools/deps.sh

# lowfare on PATH ($(go env GOPATH)/bin), stamped with the git revision.
install:
	$(GO) install -buildvcs=auto ./cmd/lowfare

run:
	$(GO) run ./cmd/lowfare dev

build:
	$(GO) build -trimpath -buildvcs=auto -o bin/ ./cmd/...
