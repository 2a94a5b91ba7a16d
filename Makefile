# crossings — the two commands: `make run` (the daemon on the bundled config) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# Two installs: what the daemon needs (`make run`, `make demo`), and everything (the test,
# dev and datasette extras: `make test` and the rest). A stamp per install and pyproject.
SUM    := $(shell cksum pyproject.toml | cut -d' ' -f1)
RUN_STAMP := $(VENV)/.installed-run-$(SUM)
STAMP  := $(VENV)/.installed-all-$(SUM)
CONFIG ?= crossings.toml
# `make image`: the image name, its Python base, and buildah's storage (vfs works anywhere,
# also inside containers; podman must then be given the same --storage-driver).
IMAGE          ?= crossings:latest
BASE_IMAGE     ?= python:3.11-slim
STORAGE_DRIVER ?= vfs
IMAGE_HINT     := echo "Image not built. If the base image could not be pulled (no registry \
  access), make one from Debian packages: .ci/base-image, then \
  make image BASE_IMAGE=localhost/crossings-base:bookworm (see docs/container.md)" >&2

.PHONY: run test lint format check demo image image-check bench clean browser \
        bench-checks bench-csv bench-rules bench-queries bench-daemon bench-polling bench-xlsx bench-scaleout

$(RUN_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@rm -f $(VENV)/.installed-run-*
	@touch $@

$(STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,dev,datasette]'
	@rm -f $(VENV)/.installed-all-* $(VENV)/.installed-[0-9]*
	@touch $@

## run: set up, then run the daemon on the bundled config (real sources, database in ./data/);
##      the first time, `crossings init .` writes that config to ./crossings.toml to edit
run: $(RUN_STAMP)
	@test -f $(CONFIG) || $(BIN)/crossings init $(dir $(CONFIG))
	@echo "The web pages: the address after 'web pages at' in the first log line (set by"
	@echo "listen in $(CONFIG)). Ctrl-C stops the daemon."
	$(BIN)/crossings --config $(CONFIG) run

## test: set up, then lint, type-check (mypy, configured in pyproject.toml) and run the
##       whole test suite
test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

## browser: headless Chromium for the web-page tests (Debian package). Says what it installs
##          first; `make test SKIP_BROWSER=1` skips it (the browser tests are then skipped).
browser:
	@if [ -n "$(SKIP_BROWSER)" ]; then \
	  echo "SKIP_BROWSER is set: Chromium not installed; the browser tests will be skipped"; \
	elif command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Chromium for the web-page tests: the Debian package chromium with apt-get"; \
	  echo "(about 130 packages, some 300 MB). To skip it: make test SKIP_BROWSER=1"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	  || echo "chromium could not be installed: the browser tests will be skipped"; \
	else \
	  echo "chromium is not installed (as root, make test installs it): browser tests skipped"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## demo: the offline demo (local site, mail catcher, webhook receiver)
demo: $(RUN_STAMP)
	$(BIN)/crossings demo

## image: build the container image with Docker if its engine answers, else with buildah
image:
	@if docker info >/dev/null 2>&1; then \
	  echo "Building $(IMAGE) with Docker (base $(BASE_IMAGE))"; \
	  docker build --build-arg BASE_IMAGE=$(BASE_IMAGE) -t $(IMAGE) . || { $(IMAGE_HINT); exit 1; }; \
	else \
	  command -v buildah >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah >/dev/null; } || \
	    { echo "No Docker engine and no buildah: install one (Debian: apt-get install buildah)"; \
	      exit 1; }; \
	  echo "No Docker engine answers: building $(IMAGE) with buildah (base $(BASE_IMAGE))"; \
	  buildah --storage-driver $(STORAGE_DRIVER) bud --format docker --isolation chroot \
	    --build-arg BASE_IMAGE=$(BASE_IMAGE) -t $(IMAGE) . || { $(IMAGE_HINT); exit 1; }; \
	fi

## image-check: build the image, then run `crossings check` and the daemon's /healthz in it as
##              the image's own user (opt-in, not part of `make test`; docs/container.md)
image-check: image
	STORAGE_DRIVER=$(STORAGE_DRIVER) .ci/image-check $(IMAGE)

## bench: every benchmark, side by side with urlwatch and pandas (see bench/README.md);
##        results in bench/results/*.json. QUICK=1 for a short run of each.
BENCH_ARGS := $(if $(QUICK),--quick,)
bench: bench-checks bench-csv bench-rules bench-queries bench-daemon bench-polling bench-xlsx bench-scaleout

bench-checks: $(STAMP)
	$(BIN)/python bench/checks.py $(BENCH_ARGS)

bench-csv: $(STAMP)
	$(BIN)/python bench/csv_ingest.py $(BENCH_ARGS)

bench-xlsx: $(STAMP)
	$(BIN)/python bench/xlsx_read.py $(BENCH_ARGS)

bench-rules: $(STAMP)
	$(BIN)/python bench/rules.py $(BENCH_ARGS)

bench-queries: $(STAMP)
	$(BIN)/python bench/queries.py $(BENCH_ARGS)

bench-daemon: $(STAMP)
	$(BIN)/python bench/daemon.py $(BENCH_ARGS)

bench-polling: $(STAMP)
	$(BIN)/python bench/polling.py

bench-scaleout: $(STAMP)
	$(BIN)/python bench/scaleout.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
