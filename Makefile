# nerve — progressive delivery for clinical Kubernetes platforms.
# `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO          ?= go
BIN         ?= bin
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w
PKG         ?= ./e2e/...
E2E_TIMEOUT ?= 40m
NERVE_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/nerve
export NERVE_CACHE

CMDS    := kubectl-nerve nerve-controller nerve-mllp-proxy nerve-conformance
PLUGINS := nerve-gatewayapi nerve-mllp nerve-prometheus nerve-web nerve-job
# built without cgo: a static binary maps no libc (the controller's RSS is ~1 MB less; Argo's
# controller and the release archives are built so too)
STATIC_CMDS := nerve-controller

.PHONY: help build test unit interop-test e2e bench bench-mllp bench-weights bench-controller lint dist \
        cluster-up cluster-down cluster-status demo demo-down clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-18s %s\n",$$1,$$2}'

build: ## build all binaries into bin/ and the plugins into bin/plugins/
	@mkdir -p $(BIN)/plugins
	@for c in $(CMDS); do case " $(STATIC_CMDS) " in *" $$c "*) cgo=0;; *) cgo=$$($(GO) env CGO_ENABLED);; esac; \
	  CGO_ENABLED=$$cgo $(GO) build -trimpath -buildvcs=auto -ldflags '$(LDFLAGS)' -o $(BIN)/$$c ./cmd/$$c || exit 1; done
	@for p in $(PLUGINS); do $(GO) build -trimpath -buildvcs=auto -ldflags '$(LDFLAGS)' -o $(BIN)/plugins/$$p ./plugins/cmd/$$p || exit 1; done

test: unit e2e ## unit tests (race), interop tests, then the whole e2e suite on the local control plane

unit: ## unit tests with the race detector (product module and interop module)
	$(GO) test -race -count=1 ./...
	$(MAKE) interop-test

interop-test: build ## tests against the real argo-rollouts v1.10.0 module (nested module interop/)
	cd interop && NERVE_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 ./...

e2e: build cluster-up ## e2e tests (build tag e2e) on the local control plane; PKG=./e2e/<area>/... for one area
	set -a && . .cluster/env && set +a && NERVE_BIN=$(CURDIR)/$(BIN) $(GO) test -v -count=1 -p 1 -tags e2e -timeout $(E2E_TIMEOUT) $(PKG)

bench: bench-mllp bench-weights ## all benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-mllp: build ## MLLP proxy vs direct vs HAProxy on loopback, plus codec benchmarks
	hack/bench/mllp.sh

bench-weights: build cluster-up ## weight change (plugin SetWeight) reaching 3 MLLP proxy replicas on the local control plane: p50/p99
	set -a && . .cluster/env && set +a && NERVE_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -tags e2e -run '^$$' \
		-bench WeightPropagation -benchtime 100x ./e2e/mllprouter/

bench-controller: build cluster-up ## nerve's loop vs Argo's controller on the local control plane
	hack/bench/controller.sh

lint: ## gofmt, go vet and the house rules
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...
	hack/verify-patterns.sh

dist: ## reproducible release archives for krew (linux/darwin x amd64/arm64) and krew/nerve.yaml
	hack/dist.sh $(VERSION)

cluster-up: ## build (cached) and start the local control plane + Prometheus; writes .cluster/kubeconfig and .cluster/env
	hack/cluster/up.sh

cluster-down: ## stop the local control plane started by cluster-up and remove its state
	hack/cluster/down.sh

cluster-status: ## show the local control plane's components
	hack/cluster/status.sh

demo: build cluster-up ## the seed scenario: mllp-listener canary 5→25→50→100 with analysis (BAD=1: a bad version that rolls back)
	hack/demo/run.sh $(if $(BAD),--bad,)

demo-down: ## stop anything the demo left running
	hack/demo/down.sh

clean: ## remove build outputs
	rm -rf $(BIN) dist
