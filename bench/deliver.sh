#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the delivery benchmark in a Release tree and runs it.
#   bench/deliver.sh [WORKDIR] [-- extra benchmark arguments, e.g. -n 10000 --corpus DIR]
# Exits non-zero if the batched path takes more than 0.4x the per-file time.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${UIDSYNC_BENCH_BUILD:-$src/build/bench}
workdir=${1:-$(mktemp -d "${TMPDIR:-/tmp}/uidsync-bench.XXXXXX")}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DUIDSYNC_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target uidsync_bench_deliver >/dev/null
mkdir -p "$workdir"
echo "workdir: $workdir (on $(df -T "$workdir" | awk 'NR == 2 { print $2 }'))"
"$build/bench/uidsync_bench_deliver" "$workdir" "$@"
