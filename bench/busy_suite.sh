#!/usr/bin/env bash
# The suite's repeatability target (issue 11): a fresh clone of this checkout's HEAD, the suite run N times
# in a row while two spin loops keep both cores busy. One line per run in OUT/busy.txt.
#   bench/busy_suite.sh [N=5] [OUT=/tmp/assist-busy]
set -u
N=${1:-5}
OUT=${2:-/tmp/assist-busy}
SRC=$(git rev-parse --show-toplevel)
mkdir -p "$OUT" && rm -rf "$OUT/clone" && git clone -q "$SRC" "$OUT/clone" && cd "$OUT/clone" || exit 1
make .venv/bin/assist >/dev/null 2>&1 || exit 1
echo "clone at $(git rev-parse --short HEAD), $(date -u +%FT%TZ)" >> "$OUT/busy.txt"
for i in $(seq 1 "$N"); do
  ( while :; do :; done ) & s1=$!
  ( while :; do :; done ) & s2=$!
  start=$(date +%s)
  .venv/bin/pytest -q -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder -p no:cacheprovider > "$OUT/run-$i.log" 2>&1
  rc=$?
  kill "$s1" "$s2"
  echo "run $i rc=$rc $(( $(date +%s) - start ))s $(tail -1 "$OUT/run-$i.log") load=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/busy.txt"
done
