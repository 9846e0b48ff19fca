# virtnet.failover — one entry point for setup, the main job and the tests.
# Everything this file needs is installed by `make setup` (Debian packages
# through apt-get, Python tools into .venv); nothing is expected by hand.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PYTHON ?= python3
BUILD := $(ROOT)/.build
COLLECTIONS := $(BUILD)/collections
COLL_LINK := $(COLLECTIONS)/ansible_collections/virtnet/failover
# one copy per checkout: two checkouts' sanity runs at the same time must not remove each other's copy
SANITY_ROOT ?= $(or $(TMPDIR),/tmp)/virtnet-failover-sanity-$(shell printf '%s' '$(ROOT)' | sha256sum | cut -c1-12)
SANITY_DIR := $(SANITY_ROOT)/ansible_collections/virtnet/failover
# Molecule scenarios, JOBS at a time, in this order as slots free up.
# SCENARIOS is what `make molecule` and `make test` run: the three Debian
# releases, each converged from its base image (default and debian13 save the
# converged disks other scenarios boot -- see docs/lab.md), and `migration`,
# which live-migrates the converged Debian 12 guest (QEMU >= 9.0; make setup
# installs it), and `remove`, which takes the module off the converged
# Debian 12 guest again. ALL_SCENARIOS is what `make test-full` runs: every scenario
# under molecule/, producers first, then the longest first so the two lanes
# end together. One scenario runs alone with e.g. make molecule
# SCENARIOS=reliability. tests/unit/lab/test_molecule_config.py checks both
# lists against molecule/*/.
SCENARIOS ?= default debian13 debian14 migration remove
ALL_SCENARIOS ?= default debian13 reliability migration debian14 drift remove rename_disabled fleet lab
# The host-side matrices `make test` runs one after the other beside the VM
# tier; `make test-full` adds the ansible-core matrix.
MATRICES ?= kmod-matrix
JOBS ?= 2

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0

.PHONY: help setup host-packages venv collection lint sanity units integration \
	kmod-compile kmod-matrix core-matrix images molecule test test-full demo bench clean

help:
	@echo "make demo     set up, then roll out to the lab fleet and run a drift check (main job)"
	@echo "make test     set up, then lint, sanity, units, integration, kmod-compile, kmod-matrix, molecule"
	@echo "make test-full  make test with every Molecule scenario and the ansible-core matrix (release gate)"
	@echo "make setup    Debian packages + .venv + collection path (idempotent)"
	@echo "targets: lint sanity units integration kmod-compile kmod-matrix core-matrix images molecule bench clean"

setup: host-packages venv collection

host-packages:
	@tests/tools/host_packages.sh

venv: $(VENV)/.stamp

$(VENV)/.stamp: requirements.txt constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

collection: $(COLL_LINK)

$(COLL_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(ROOT) $@

lint: setup
	cd $(ROOT) && $(BIN)/ansible-lint --profile production --strict

sanity: setup
	rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_DIR)
	cd $(ROOT) && git ls-files -co --exclude-standard -z | rsync -a --from0 --files-from=- ./ $(SANITY_DIR)/
	@# ansible-test bootstraps pip in its venvs from a CI file host that is not
	@# reachable here; give it a bootstrap script that uses ensurepip + PyPI.
	$(PY) tests/tools/install_ansible_test_get_pip.py
	cd $(SANITY_DIR) && git init -q && git add -A && \
		$(BIN)/ansible-test sanity --venv --python 3.11 --color no

units: setup
	cd $(ROOT) && $(BIN)/pytest -q -p no:cacheprovider tests/unit tests/kmod tests/ansible_core

integration: setup
	cd $(ROOT) && VIRTNET_INTEGRATION_REQUIRED=1 $(BIN)/pytest -q -rs -p no:cacheprovider tests/integration

kmod-compile: setup
	cd $(ROOT) && tests/kmod/compile-check.sh

# The module compiled against every Debian kernel series (5.10, 6.1, 6.12,
# 7.x from trixie-backports and forky), each in a cached mmdebstrap chroot of
# its own suite; docs/compatibility.md's table comes from it
# (make kmod-matrix KMOD_MATRIX_ARGS=--write-docs).
kmod-matrix: setup
	cd $(ROOT) && $(PY) tests/kmod/matrix.py check $(KMOD_MATRIX_ARGS)

# The collection against every newer ansible-core release it supports
# (sanity, units and real drift runs in network namespaces), each in a
# virtualenv in a cached Debian trixie chroot (they need Python >= 3.12); the
# release requirements.txt pins is the host's and is checked by lint, sanity,
# units and integration. docs/compatibility.md lists the releases.
core-matrix: setup
	cd $(ROOT) && $(PY) tests/ansible_core/matrix.py check $(CORE_MATRIX_ARGS)

images: setup
	cd $(ROOT) && $(PY) molecule/resources/lab/image.py build --all

molecule: setup images
	cd $(ROOT) && $(PY) molecule/resources/lab/run_scenarios.py --jobs $(JOBS) $(SCENARIOS)

# Three lanes at once: the VM tier (images, cached after the first build,
# then the Molecule scenarios of SCENARIOS), the host-side matrices of
# MATRICES (their chroots are cached the same way) and the static checks and
# host tests. The VM tier's progress lines go to the output as they come; the
# matrices' logs are printed at the end. The test fails if any lane failed.
test: setup
	@( $(MAKE) --no-print-directory images > $(BUILD)/images.log 2>&1 \
		|| { cat $(BUILD)/images.log; echo "make images failed (log above)"; exit 1; }; \
		$(MAKE) --no-print-directory molecule ) & vm=$$!; \
	( k=0; for m in $(MATRICES); do \
		$(MAKE) --no-print-directory $$m > $(BUILD)/$$m.log 2>&1 || k=1; done; exit $$k ) & mtx=$$!; \
	rc=0; $(MAKE) lint sanity units integration kmod-compile || rc=$$?; \
	mrc=0; wait $$mtx || mrc=$$?; for m in $(MATRICES); do cat $(BUILD)/$$m.log; done; \
	vrc=0; wait $$vm || vrc=$$?; \
	echo "make test: static checks and host tests exit $$rc, $(MATRICES) exit $$mrc, VM tier exit $$vrc"; \
	[ $$rc = 0 ] && [ $$mrc = 0 ] && [ $$vrc = 0 ]

# The release gate: the same three lanes with every Molecule scenario and
# both matrices (about two hours on a 2-core host; docs/lab.md).
test-full:
	$(MAKE) --no-print-directory test SCENARIOS="$(ALL_SCENARIOS)" MATRICES="kmod-matrix core-matrix"

demo: setup images
	cd $(ROOT) && $(PY) demo/run.py

bench: setup
	cd $(ROOT) && $(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(SANITY_ROOT)
