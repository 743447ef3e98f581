# Digit Lab. `make run` starts the app; `make test` runs the whole suite. Both install what they need.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
SHARED_MNIST := $(abspath ../shared/data/mnist.npz)
SHARED_USPS := $(abspath ../shared/data/usps)
SHARED_WRITERS := $(abspath ../shared/data/writers)

# Tests and training read MNIST, USPS and the other writers from ../shared when they are there and nothing else was set.
ifeq ($(MNIST_NPZ),)
ifneq ($(wildcard $(SHARED_MNIST)),)
export MNIST_NPZ := $(SHARED_MNIST)
endif
endif
ifeq ($(USPS_DIR),)
ifneq ($(wildcard $(SHARED_USPS)/zip.train.gz),)
export USPS_DIR := $(SHARED_USPS)
endif
endif
ifeq ($(WRITERS_DIR),)
ifneq ($(wildcard $(SHARED_WRITERS)/uji/ujipenchars2-digits.json),)
export WRITERS_DIR := $(SHARED_WRITERS)
endif
endif

.PHONY: install debian-packages run cluster cluster-down test train train-all lint screenshots bench clean

install: $(INSTALLED)

$(INSTALLED): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

# Debian's packages the tests need: Chromium drives the browser tests (`playwright install` cannot
# download here); PostgreSQL and nginx serve the replicated setup's tests, each started by the tests themselves.
DEBIAN_PACKAGES := chromium postgresql nginx
debian-packages:
	@command -v chromium >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		&& command -v nginx >/dev/null 2>&1 || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null; }

run: install
	$(PY) -m digitlab serve

# The replicated setup on loopback: PostgreSQL, two replicas and nginx on http://127.0.0.1:8080.
cluster: install debian-packages
	$(PY) deploy/cluster.py up

cluster-down:
	$(PY) deploy/cluster.py down

test: install debian-packages
	$(PY) -m pytest

train: install
	$(PY) train.py

train-all: install
	$(PY) train.py --all

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

screenshots: install debian-packages
	$(PY) -m tests.screenshots

bench: install debian-packages
	$(PY) bench/zoo_table.py
	$(PY) bench/accuracy.py
	$(PY) bench/usps.py
	$(PY) bench/drawn.py
	$(PY) bench/latency.py
	$(PY) bench/saliency.py
	$(PY) bench/read_numbers.py
	$(PY) bench/browser.py
	$(PY) bench/server_cpu.py
	$(PY) bench/first_visit.py
	$(PY) bench/classroom.py --students 30 --minutes 3 --against-bare
	$(PY) bench/classroom.py --students 60 --minutes 3 --against-bare
	$(PY) bench/classroom.py --students 30 --minutes 3 --class-wall
	$(PY) bench/soak.py
	$(PY) bench/train.py --epochs 2 --rounds 3 --interleave
	$(PY) bench/step_cost.py --change fused-batch-norm
	$(PY) bench/step_cost.py --change label-smoothing

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
