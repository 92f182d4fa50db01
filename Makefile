# Build, lint and test tasks. `make test` is what CI runs (see .ci/run).
#
# The repository holds three modules: the library (.), the nest command
# (cmd/nest, its own module so that library users never inherit its
# dependencies) and staticcheck's pin (tools). go.work joins the first two,
# so that commands run from here see both; tools stays outside it and is
# built with GOWORK=off.
#
# Tests that need Redis start their own redis-server processes on free ports
# (internal/redistest); they never use a server on 6379. `make test` and
# `make bench` set NEST_REQUIRE_REDIS=1, so that a missing redis-server fails
# those tests instead of skipping them (and a missing chromium fails the
# browser test of `nest ui`; `make chromium` installs it).

SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/.bin
STATICCHECK := $(BIN)/staticcheck
REQUIRE_REDIS := NEST_REQUIRE_REDIS=1
# The packages of the library and of the command: in a workspace, ./...
# stops at the nested module's directory.
PKGS := ./... ./cmd/nest/...

.PHONY: test fuzz-short redis chromium lint fmt-check vet staticcheck fmt bench cover tidy-check

## test: install Redis and chromium if needed, lint, then run all tests of both modules with the race
## detector, and the package's scenario tests a second time against a 3-master Redis Cluster.
test: redis chromium lint tidy-check
	$(REQUIRE_REDIS) $(GO) test -race -count=1 $(PKGS)
	$(REQUIRE_REDIS) NEST_TEST_BACKEND=cluster $(GO) test -race -count=1 .
	$(GO) test -count=1 -run '^TestAllocations$$' .  # allocation counts differ under -race
	$(MAKE) --no-print-directory fuzz-short

## fuzz-short: a fixed number of executions of every Fuzz target (a few seconds each), starting
## from the committed seed corpus (testdata/fuzz); FUZZX=30 make fuzz-short runs 30 times as many.
## Counts, not -fuzztime durations: Go 1.26's fuzz coordinator can fail a target with a bare
## "context deadline exceeded" when a duration ends while a worker is mid-execution
## (go.dev/issue/75804, fixed in Go 1.27); a count has no deadline to race.
FUZZX ?= 1
fuzz = $(REQUIRE_REDIS) $(GO) test -run '^$$' -fuzz '^$(1)$$' -fuzztime $$(( $(3) * $(FUZZX) ))x $(2)
fuzz-short:
	$(call fuzz,FuzzDecodeJSON,.,2000)
	$(call fuzz,FuzzDecodeMsgpack,.,500)
	$(call fuzz,FuzzDecodeNative,.,1200)
	$(call fuzz,FuzzDecodeEnvelope,.,150)
	$(call fuzz,FuzzParamValue,.,5000)
	$(call fuzz,FuzzCodecRoundTrip,.,1800)
	$(call fuzz,FuzzParseTag,.,8000)
	$(call fuzz,FuzzGlobMatch,.,8000)
	$(call fuzz,FuzzCheck,./internal/msgpackguard,20000)
	$(call fuzz,FuzzUnmarshal,./internal/envelope,30000)
	$(call fuzz,FuzzOpen,./internal/seal,100000)
	$(call fuzz,FuzzParse,./internal/phc,80000)
	$(call fuzz,FuzzParse,./internal/tmpl,15000)
	$(call fuzz,FuzzEscapeGlob,./internal/tmpl,15000)
	$(call fuzz,FuzzExtract,./internal/tmpl,15000)
	$(call fuzz,FuzzOf,./internal/slot,50000)

## redis: make sure redis-server and redis-cli are in PATH (installs them with apt-get as root).
redis:
	@if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then \
		redis-server --version; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "redis-server or redis-cli missing: installing redis-server and redis-tools with apt-get"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server redis-tools; \
		redis-server --version; \
	else \
		echo "error: redis-server and redis-cli must be in PATH for the tests;" >&2; \
		echo "       install them as root, e.g. 'sudo apt-get install redis-server redis-tools'." >&2; \
		exit 1; \
	fi

## chromium: make sure Debian's chromium is in PATH, for the headless browser test of
## `nest ui` (cmd/nest/internal/web; installs it with apt-get as root).
chromium:
	@if command -v chromium >/dev/null 2>&1; then \
		chromium --version 2>/dev/null || echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "chromium missing: installing it with apt-get"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
		chromium --version; \
	else \
		echo "error: chromium must be in PATH for the browser test of nest ui;" >&2; \
		echo "       install it as root, e.g. 'sudo apt-get install chromium'." >&2; \
		exit 1; \
	fi

## lint: gofmt check, go vet and staticcheck.
lint: fmt-check vet staticcheck

fmt-check:
	@files=$$(gofmt -l .); if [ -n "$$files" ]; then echo "gofmt needed:" $$files >&2; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) $(PKGS)

# staticcheck is pinned in the separate tools module (tools/go.mod), so that
# the library's own go.mod never requires it.
$(STATICCHECK): tools/go.mod tools/go.sum
	GOWORK=off $(GO) -C tools build -o $(STATICCHECK) honnef.co/go/tools/cmd/staticcheck

## fmt: format all Go files in place.
fmt:
	gofmt -l -w .

## bench: run all benchmarks once, without tests.
bench: redis
	$(REQUIRE_REDIS) $(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKGS)

## cover: run the tests with coverage and print the total; see coverage.html.
cover: redis
	$(REQUIRE_REDIS) $(GO) test -race -count=1 -covermode=atomic -coverprofile=coverage.out $(PKGS)
	$(GO) tool cover -html=coverage.out -o coverage.html
	$(GO) tool cover -func=coverage.out | tail -n 1

## tidy-check: fail if go mod tidy would change go.mod or go.sum of any module (library,
## cmd/nest, tools), and check that the command builds outside the workspace too.
tidy-check:
	$(GO) mod tidy
	$(GO) -C cmd/nest mod tidy
	GOWORK=off $(GO) -C tools mod tidy
	git diff --exit-code -- go.mod go.sum cmd/nest/go.mod cmd/nest/go.sum tools/go.mod tools/go.sum
	GOWORK=off $(GO) -C cmd/nest build -o /dev/null .
