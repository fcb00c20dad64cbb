#!/usr/bin/env bash
# bench/fetch-all.sh: time the IMAP client core fetching every message of an account
# (bodies discarded), optionally side by side with a baseline command, alternating
# runs so both see the same machine state. Prints each run and the medians.
#
#   IMAP_HOST=127.0.0.1 IMAP_PORT=21143 IMAP_USER=bench IMAP_PASS=bench \
#   BASELINE='python3 other-fetch-all.py --port 21143' bench/fetch-all.sh [REPS] [-- TOOL ARGS]
#
# Env: IMAP_HOST IMAP_PORT IMAP_USER IMAP_PASS (required), BASELINE (a command that
# prints one JSON line with "seconds"), JOBS (connections, default 1),
# BUILD_DIR (default build/bench; built RelWithDebInfo if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-5}
: "${IMAP_HOST:?}" "${IMAP_PORT:?}" "${IMAP_USER:?}" "${IMAP_PASS:?}"
BUILD_DIR=${BUILD_DIR:-build/bench}
JOBS=${JOBS:-1}

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUIDSYNC_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" --target uidsync_bench_fetch_all >/dev/null
TOOL=$BUILD_DIR/bench/uidsync_bench_fetch_all

seconds() { sed -n 's/.*"seconds": *\([0-9.]*\).*/\1/p'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

ours=()
base=()
for r in $(seq 1 "$REPS"); do
  if [ -n "${BASELINE:-}" ]; then
    line=$(bash -c "$BASELINE")
    echo "baseline run $r: $line"
    base+=("$(echo "$line" | seconds)")
  fi
  line=$("$TOOL" "$IMAP_HOST" "$IMAP_PORT" "$IMAP_USER" "$IMAP_PASS" -j "$JOBS")
  echo "uidsync  run $r: $line"
  ours+=("$(echo "$line" | seconds)")
done
m_ours=$(printf '%s\n' "${ours[@]}" | median)
echo "median uidsync: ${m_ours} s (connections: $JOBS)"
if [ ${#base[@]} -gt 0 ]; then
  m_base=$(printf '%s\n' "${base[@]}" | median)
  echo "median baseline: ${m_base} s"
  awk -v a="$m_ours" -v b="$m_base" 'BEGIN { printf "ratio uidsync/baseline: %.2f\n", a / b }'
fi
