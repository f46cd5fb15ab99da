#!/usr/bin/env bash
# Screenshots of the real studio window for docs/user-guide.md, taken under Xvfb (a virtual X display) with
# ImageMagick's `import`. Needs Xvfb, ImageMagick and the xcb libraries (libxcb-cursor0); no desktop is involved.
#
#   docs/take_screenshots.sh            # one command, rerunnable: writes docs/screenshots/NN-*.png
#
# The demo set (`goodsad-studio demo`, 512 px, about 10 s) is made once in $DEMO; every run works on a fresh copy of
# it, because the steps fit models into the dataset and save a repaired mask. The steps and their checks are in
# docs/take_screenshots.py. Environment: PY (python, default .venv/bin/python), DEMO (where the demo set is kept),
# OUT (default docs/screenshots), SCREEN (an X display number such as :91; default: a free one Xvfb picks).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DEMO=${DEMO:-${TMPDIR:-/tmp}/goodsad-studio-docs/demo}
OUT=${OUT:-docs/screenshots}
STARTED=$(date +%s)

if [ ! -f "$DEMO/DEMO.json" ]; then
    "$PY" -m goodsad_studio demo "$DEMO"
fi
WORK=$(mktemp -d)
XVFB=""
trap '[ -z "$XVFB" ] || kill "$XVFB" 2>/dev/null; rm -rf "$WORK"' EXIT
cp -r "$DEMO" "$WORK/demo"  # the studio's state (models, caches, journal) starts empty each run

# the main window is 1500x940; the screen is taller so the whole shortcuts dialog fits
if [ -n "${SCREEN:-}" ]; then
    Xvfb "$SCREEN" -screen 0 1600x1300x24 -nolisten tcp >/dev/null 2>&1 &
    XVFB=$!
else
    Xvfb -displayfd 3 -screen 0 1600x1300x24 -nolisten tcp 3>"$WORK/display" >/dev/null 2>&1 &
    XVFB=$!
    for _ in $(seq 50); do [ -s "$WORK/display" ] && break; sleep 0.1; done
    SCREEN=":$(cat "$WORK/display")"
fi
sleep 1
kill -0 $XVFB 2>/dev/null || { echo "Xvfb did not start on $SCREEN" >&2; exit 1; }

# fresh settings and studio data, so the layout is the default one and nothing of the user's leaks in
DISPLAY=$SCREEN XDG_CONFIG_HOME=$WORK/config GOODSAD_STUDIO_DATA=$WORK/data PYTHONDONTWRITEBYTECODE=1 \
    "$PY" docs/take_screenshots.py "$WORK/demo" "$OUT"
echo "done in $(( $(date +%s) - STARTED )) s"
