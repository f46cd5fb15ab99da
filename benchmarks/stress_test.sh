#!/usr/bin/env bash
# make stress-test: the proof that the suite does not flake on a loaded machine.
#   1. the trained-method and GUI tests, ROUNDS times (default 10), each time in another random order
#      (pytest-randomly, its seed printed), with two busy processes beside them;
#   2. the whole suite twice, in random order, with the same two busy processes.
# Prints one line per run (seed, pytest's summary, wall time) and the totals; exits 1 if any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
ROUNDS=${ROUNDS:-10}
HOGS=${HOGS:-2}
LOG_DIR=${LOG_DIR:-$(mktemp -d /tmp/goodsad-stress.XXXXXX)}
mkdir -p "$LOG_DIR"
export QT_QPA_PLATFORM=offscreen

hogs=()
for _ in $(seq "$HOGS"); do
    "$PY" -c 'while True: pass' &
    hogs+=($!)
done
trap 'kill "${hogs[@]}" 2>/dev/null' EXIT
echo "stress test: $HOGS busy processes (pids ${hogs[*]}) on $(nproc) cores; logs in $LOG_DIR"

failed=0
runs=0
run() {  # run NAME SEED PATHS...
    local name=$1 seed=$2
    shift 2
    local log="$LOG_DIR/$name.log" started ended summary
    started=$(date +%s)
    "$PY" -m pytest -q -p randomly -p no:cacheprovider --randomly-seed="$seed" "$@" >"$log" 2>&1
    local rc=$?
    ended=$(date +%s)
    summary=$(grep -E '^=*.*(passed|failed|error).* in [0-9.]+s' "$log" | tail -1 | sed 's/=//g; s/^ *//')
    printf '%-9s seed %-10s %4ss  rc %s  %s\n' "$name" "$seed" "$((ended - started))" "$rc" "$summary"
    runs=$((runs + 1))
    if [ "$rc" -ne 0 ]; then
        failed=$((failed + 1))
        grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/    /'
    fi
}

begin=$(date +%s)
for round in $(seq "$ROUNDS"); do
    run "round$round" "$RANDOM$RANDOM" tests/methods_trained tests/gui
done
for pass in 1 2; do
    run "suite$pass" "$RANDOM$RANDOM" tests
done
echo "stress test: $runs runs, $failed failed, $(( $(date +%s) - begin ))s in all"
[ "$failed" -eq 0 ]
