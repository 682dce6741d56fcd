# Hinterland. `make help` lists the targets.
SHELL := /bin/bash
export PATH := $(shell go env GOPATH)/bin:$(PATH)
BUILDDIR ?= $(CURDIR)/build
BINARY   := $(BUILDDIR)/hinterlandd
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/cosmos/cosmos-sdk/version.Name=hinterland \
            -X github.com/cosmos/cosmos-sdk/version.AppName=hinterlandd \
            -X github.com/cosmos/cosmos-sdk/version.Version=$(VERSION) \
            -X github.com/cosmos/cosmos-sdk/version.Commit=$(shell git rev-parse HEAD 2>/dev/null)
# Packages whose tests link the whole app are few on purpose (see README).
UNIT_PKGS := $(shell go list ./... 2>/dev/null | grep -v -e /tests/)

.DEFAULT_GOAL := help
.PHONY: help build install test test-unit test-integration test-e2e test-browser test-race test-sim test-sim-long test-fuzz \
        test-badinput test-faults \
        test-cross-arch lint proto-tools proto-gen proto-check bench bench-federated bench-lm bench-chain localnet localnet-4 localnet-stop \
        demo demo-cheat demo-annotate demo-federated demo-lm clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build build/hinterlandd
	@mkdir -p $(BUILDDIR)
	go build -ldflags '$(LDFLAGS)' -o $(BINARY) ./cmd/hinterlandd

install: ## Install hinterlandd into GOPATH/bin
	go install -ldflags '$(LDFLAGS)' ./cmd/hinterlandd

test: proto-tools ## Everything CI runs: lint, fresh protos, unit + integration + e2e + browser tests, bad input, localnet faults, short sims and fuzzing, cross-arch golden hashes
	./scripts/proto-check.sh
	./scripts/lint-determinism.sh
	$(MAKE) test-unit
	$(MAKE) test-integration
	$(MAKE) test-e2e
	$(MAKE) test-browser
	$(MAKE) test-badinput
	$(MAKE) test-faults
	$(MAKE) test-sim
	$(MAKE) test-fuzz
	$(MAKE) test-cross-arch

test-unit: ## Unit tests of every package (no app-level networks)
	go test -count=1 -timeout 20m $(UNIT_PKGS)

test-integration: ## In-process multi-validator network and full-app flows (tests/integration)
	go test -count=1 -timeout 20m ./tests/integration/...

test-e2e: build ## Black-box tests of the real binary: processes, ports on 127.0.0.1, temp homes
	HINTERLANDD=$(BINARY) go test -count=1 -timeout 30m ./tests/e2e/...

test-browser: build ## The annotator page and the explorer in headless Chromium against a localnet (SCREENSHOT=docs/annotator.png, SCREENSHOT_EXPLORER=docs/explorer.png save them)
	HINTERLANDD=$(BINARY) ANNOTATOR_SCREENSHOT=$(SCREENSHOT) EXPLORER_SCREENSHOT=$(SCREENSHOT_EXPLORER) go test -count=1 -timeout 10m -v ./tests/browser/...

test-race: ## Unit tests with the race detector
	go test -race -count=1 -timeout 30m $(UNIT_PKGS)

test-badinput: ## Bad-input corpus at CheckTx and in blocks on the in-process app (tests/badinput)
	go test -count=1 -timeout 10m -v ./tests/badinput/... -run 'Test'

test-faults: build ## Process faults on a 4-validator localnet under load: kill -9, SIGSTOP, halt, crash (tests/faults)
	HINTERLANDD=$(BINARY) go test -count=1 -timeout 20m -v ./tests/faults/...

test-sim: ## Short simulation: app-hash determinism, import/export, invariants every block (docs/RELIABILITY.md)
	go test -count=1 -timeout 20m -v ./tests/sim/... -run 'TestSim|TestGenesis' -args -short-sim

test-sim-long: ## Long simulations (see docs/RELIABILITY.md)
	go test -count=1 -timeout 3h -v ./tests/sim/... -run 'TestSim|TestGenesis' -args -long-sim

test-fuzz: ## Run every fuzz target briefly (FUZZTIME per target, default 10s)
	./scripts/fuzz.sh $${FUZZTIME:-10s}

test-cross-arch: ## Engine and dataset golden hashes under qemu (arm64, ppc64le, s390x, riscv64) and GOAMD64=v3
	./scripts/test-cross-arch.sh

lint: ## gofmt, go vet and the determinism lint of consensus code
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\(\.gw\)\?\.go$$')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	go vet ./...
	./scripts/lint-determinism.sh

proto-tools: ## Install protoc, qemu-user and the protoc plugins if missing
	./scripts/ensure-tools.sh

proto-gen: proto-tools ## Regenerate *.pb.go, *.pb.gw.go and docs/openapi from proto/ (offline)
	./scripts/protocgen.sh

proto-check: proto-tools ## Fail if the generated code is stale
	./scripts/proto-check.sh

bench: ## Engine benchmarks vs gonum, MNIST accuracy, reveal handler cost, worker overhead vs the bare engine
	./scripts/bench-engine.sh
	go test -run '^$$' -bench . -benchtime 20x ./x/verification/keeper/
	go test -run '^$$' -bench WorkerOverhead -benchtime 5x -count 3 ./worker/ # overhead-ratio = worker / bare engine time per task; goal <= 1.05

bench-federated: ## FedAvg on non-IID MNIST: fixed point (what the chain verifies) vs float64 vs centralised, per round (slow: 12-20 min)
	./scripts/bench-federated.sh

bench-lm: ## Transformer LM: training step vs float64 gonum (tokens/s, 1 and 2 cores), attention products vs gonum, validation bits per byte fixed point vs float64 on GOROOT/src (a few minutes)
	go test -run '^$$' -bench LMStep -benchtime 20x -cpu 1,2 ./testutil/reference/
	go test -run '^$$' -bench 'MatMulVsGonum/.*/attention' ./testutil/reference/
	HINTERLAND_LM_BENCH=1 go test -count=1 -timeout 60m -v -run TestLMBitsPerByte ./testutil/reference/

bench-chain: build ## Load benchmark on one node and on four validators
	./scripts/bench-chain.sh

localnet: build ## One-validator chain in a fresh home with funded test keys (Ctrl-C stops it)
	./scripts/localnet.sh

localnet-4: build ## Four validator processes on 127.0.0.1 (background; make localnet-stop)
	./scripts/localnet4.sh start

localnet-stop: ## Stop the four-validator localnet
	./scripts/localnet4.sh stop

demo: build ## The whole job: post an MNIST task, train, verify, pay, on a fresh local chain
	./scripts/ensure-tools.sh demo
	./scripts/demo.sh

demo-cheat: build ## A forging worker is caught and slashed; an honest one then completes the task
	./scripts/ensure-tools.sh demo
	./scripts/demo.sh --cheat

demo-annotate: build ## Crowdsourced labelling: 7 simulated annotators (2 spammers) label 1,000 MNIST items; spammers slashed
	./scripts/ensure-tools.sh demo
	./scripts/demo-annotate.sh

demo-lm: build ## A byte-level transformer pretrained, LoRA-fine-tuned and DPO-aligned on Go sources as three verified, paid tasks
	./scripts/ensure-tools.sh demo
	./scripts/demo-lm.sh

demo-federated: build ## Federated MNIST: 4 participants (one arm64 under qemu), 5 verified FedAvg rounds, a forger caught in round 2
	./scripts/ensure-tools.sh demo
	./scripts/demo-federated.sh

clean: ## Remove build outputs and local networks
	rm -rf $(BUILDDIR) localnet .demo
