# One entry point for people and CI. Everything installs itself on a fresh Debian 12 machine.
#   make demo    the hybrid VNF service chain on the local clusters (installs and starts what it needs)
#   make test    set up, lint, type-check and run every test against the real local clusters
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
PACKAGES := cloudify_shared cloudify_kubernetes cloudify_swarm cloudify_proxy
export PYTHONWARNINGS := ignore::DeprecationWarning,ignore:pkg_resources is deprecated:UserWarning

.PHONY: setup clusters clusters-down status lint typecheck unit test demo demo-down wagon bench soak clean

setup:            ## Debian packages + .venv with the suite and pinned dependencies
	bash scripts/bootstrap

clusters: setup   ## real local Docker Swarm + Kubernetes (builds Kubernetes once per machine)
	bash scripts/local-clusters up

clusters-down:
	bash scripts/local-clusters down

status:
	bash scripts/local-clusters status

lint: setup
	$(VENV)/bin/ruff check $(PACKAGES) tests benchmarks scripts

typecheck: setup  ## mypy on the service and adapter layers (tasks modules excluded)
	$(VENV)/bin/mypy $(PACKAGES) examples --exclude '(^|/)tasks(_[a-z_]+)?\.py$$'

unit: setup
	$(PY) -m pytest tests/unit

test: clusters lint typecheck
	$(PY) -m pytest tests

demo: clusters    ## install the three example blueprints with the real cfy CLI and prove the chain
	bash scripts/demo up

demo-down:
	bash scripts/demo down

wagon: setup      ## build and validate the plugin wagon into dist/
	bash scripts/build-wagon

bench: clusters   ## plugins vs raw kubectl/docker; results in benchmarks/results/
	$(PY) -m benchmarks

soak: clusters    ## 20 install/uninstall cycles of the hybrid example with a leak check each
	bash scripts/soak 20

clean:
	rm -rf $(VENV) dist build *.egg-info .pytest_cache .mypy_cache .ruff_cache .cfy-work
