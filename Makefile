# flaskstack.deploy — every command a developer or CI needs. `make help` lists them.
# On a fresh Debian machine, as root, `make lab` and `make test` install everything they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV ?= .venv
PYTHON ?= python3
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# The collection is resolved by FQCN from this checkout through .cache/collections.
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Scenarios live in the top-level molecule/ folder (DESIGN.md), not extensions/molecule.
export MOLECULE_GLOB := molecule/*/molecule.yml
export ANSIBLE_FORCE_COLOR ?= $(if $(CI),0,1)
export PY_COLORS ?= $(if $(CI),0,1)

COLLECTION_LINK := .cache/collections/ansible_collections/flaskstack/deploy
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := build/flaskstack-deploy-$(VERSION).tar.gz
SCENARIOS := $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))
S ?= $(SCENARIOS)

.PHONY: help
help: ## List the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: venv
venv: ## Create or reuse the project venv (.venv) from the pinned requirements
	@VENV=$(VENV) PYTHON=$(PYTHON) tests/testbed/venv.sh
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn ../../../.. $(COLLECTION_LINK)

.PHONY: host-deps
host-deps: ## Install the Debian packages the controller needs (root on Debian)
	@tests/testbed/testbed.sh host-deps

.PHONY: testbed
testbed: host-deps ## Docker engine, arm64 emulation and the base images (reused while unchanged)
	@tests/testbed/testbed.sh docker
	@tests/testbed/testbed.sh images

.PHONY: lint
lint: venv ## yamllint, ansible-lint (production profile), changelog fragments
	@echo "==> yamllint"
	@yamllint --strict .
	@echo "==> ansible-lint (production profile)"
	@ansible-lint --offline
	@echo "==> antsibull-changelog lint"
	@antsibull-changelog lint

.PHONY: unit
unit: venv host-deps ## pytest unit tests (plugins, test-bed scripts)
	@echo "==> pytest tests/unit"
	@pytest tests/unit

# Every sanity test runs (no --skip-test); ansible-test itself skips shellcheck, with a warning, where the
# shellcheck binary is not installed. PyPI is the only network it needs: the get-pip bootstrap it would
# download from ci-files.testing.ansible.com is replaced by tests/sanity/get_pip.py (see tests/sanity/run.sh).
.PHONY: sanity
sanity: venv ## ansible-test sanity (pinned ansible-core, the venv's Python, --venv) on a copy of the tree
	@echo "==> ansible-test sanity (tests/sanity/run.sh: a copy in ~/.cache/flaskstack-sanity, sanity venvs in ~/.ansible/test)"
	@start=$$SECONDS; VENV=$(VENV) tests/sanity/run.sh; echo "==> sanity passed in $$((SECONDS - start)) s"

# ansible-core releases meta/runtime.yml accepts besides the pinned one (2.20 and 2.21, on Python 3.12 and
# 3.13, each with its own `ansible` package): tests/compat/run.sh says which.
.PHONY: compat
compat: venv ## The unit tests that run ansible-playbook, on ansible-core 2.20 and 2.21 (venvs in .cache/compat)
	@tests/compat/run.sh

.PHONY: build
build: venv ## Build the Galaxy tarball into build/
	@echo "==> Building $(TARBALL)"
	@mkdir -p build
	@tests/galaxy/build.sh build >/dev/null
	@ls -l $(TARBALL)

.PHONY: galaxy-check
galaxy-check: build ## Install the tarball into a temporary path and use it by FQCN from outside the tree
	@tests/galaxy/check.sh $(TARBALL)

.PHONY: molecule
molecule: venv testbed ## Molecule scenarios (all, or S=name), MOLECULE_JOBS=2 side by side
	@tests/testbed/molecule-all.sh $(S)

.PHONY: lab
lab: venv testbed ## Start the lab containers and run site.yml against them
	@echo "==> Lab containers (tests/testbed/lab.yml)"
	@ansible-playbook tests/testbed/lab.yml
	@echo "==> site.yml"
	@ansible-playbook site.yml
	@echo "==> The lab answers on http://127.0.0.1:$${LAB_PORT:-8080}/ (through lb1's nginx):"
	@python3 tests/testbed/lab_requests.py http://127.0.0.1:$${LAB_PORT:-8080}/ 10

.PHONY: bench
bench: venv host-deps ## Benchmark the running lab with wrk; writes docs/benchmarks/stack.md (never fails on a number)
	@python3 -m pip install -q --disable-pip-version-check -r benchmarks/requirements.txt
	@python3 benchmarks/stack.py

.PHONY: lab-down
lab-down: venv ## Remove the lab containers and network
	@ansible-playbook tests/testbed/lab.yml -e lab_state=absent

.PHONY: test
test: ## Everything CI runs: lint, unit, sanity, Galaxy build-and-install check beside the Molecule scenarios
	@tests/all.sh

.PHONY: clean
clean: ## Remove build output and caches (keeps .venv and the images)
	rm -rf build .cache .pytest_cache
