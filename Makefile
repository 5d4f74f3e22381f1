# One entry point for people and CI. Everything installs itself on a fresh Debian 12 machine.
#   make demo    the hybrid VNF service chain on the local clusters (installs and starts what it needs)
#   make demo-manager  the same chain on the real Cloudify manager (scripts/real-manager)
#   make test    set up, lint, type-check and run every test against the real local clusters
#                and the real manager
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
PACKAGES := cloudify_shared cloudify_kubernetes cloudify_swarm cloudify_proxy
export PYTHONWARNINGS := ignore::DeprecationWarning,ignore:pkg_resources is deprecated:UserWarning

.PHONY: setup clusters clusters-down manager manager-down status lint typecheck unit test demo demo-manager demo-helm demo-down wagon bench soak clean

setup:            ## Debian packages + .venv with the suite and pinned dependencies
	bash scripts/bootstrap

clusters: setup   ## real local Docker Swarm + Kubernetes (builds Kubernetes once per machine) + the real manager
	bash scripts/local-clusters up
	bash scripts/real-manager up --if-source

clusters-down: manager-down
	bash scripts/local-clusters down

manager: setup    ## the real Cloudify 7.0.5 manager from source (needs CLOUDIFY_SOURCE)
	bash scripts/real-manager up

manager-down:
	bash scripts/real-manager down

status:
	bash scripts/local-clusters status
	bash scripts/real-manager status

lint: setup       ## ruff, and the layer contracts of pyproject.toml (import-linter)
	$(VENV)/bin/ruff check $(PACKAGES) tests benchmarks scripts
	$(VENV)/bin/lint-imports

typecheck: setup  ## mypy --strict (pyproject.toml) on every module, the tasks modules included
	$(VENV)/bin/mypy $(PACKAGES) examples

unit: setup
	$(PY) -m pytest tests/unit

test: clusters lint typecheck
	bash scripts/run-tests   # the unit tests beside the integration tests, each its own session

demo: clusters    ## install the three example blueprints with the real cfy CLI and prove the chain
	bash scripts/demo up

demo-manager: clusters manager  ## the hybrid chain on the real manager, same proof
	bash scripts/demo up --manager

demo-helm: clusters  ## the same chain with the backends from a Helm chart (examples/blueprints/k8s-cluster-helm)
	bash scripts/demo up --helm

demo-down:        ## tears down the chain wherever it runs (local profile and manager)
	bash scripts/demo down

wagon: setup      ## build and validate the plugin wagon into dist/
	bash scripts/build-wagon

bench: clusters   ## plugins vs raw kubectl/docker; results in benchmarks/results/
	$(PY) -m benchmarks

soak: clusters    ## 20 install/uninstall cycles of the hybrid example with a leak check each
	bash scripts/soak 20

clean:
	rm -rf $(VENV) dist build *.egg-info .pytest_cache .mypy_cache .ruff_cache .grimp_cache .cfy-work
