# SchedExt — every target is documented in README.md ("Make targets").
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIG ?= Release
IMAGE ?= schedext:dev
KIND_CLUSTER ?= schedext
BENCH_FILTER ?= *

.PHONY: build test run bench image kind-up e2e deploy clean manifests

build:
	$(DOTNET) build SchedExt.sln -c $(CONFIG) -warnaserror

# Runs every test project; e2e tests skip with one line when no cluster is reachable.
test:
	$(DOTNET) test SchedExt.sln -c $(CONFIG) --logger "console;verbosity=minimal"

bench:
	$(DOTNET) run -c Release --project tests/SchedExt.Benchmarks -- --filter '$(BENCH_FILTER)'

clean:
	$(DOTNET) clean SchedExt.sln -c $(CONFIG) >/dev/null
	rm -rf out artifacts BenchmarkDotNet.Artifacts
