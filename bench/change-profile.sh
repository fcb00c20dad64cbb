#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/change-profile.sh: the cost of uidsync's change re-sync of one big folder.
#
#   bench/change-profile.sh
#
# Starts a private Dovecot, writes a "small" corpus (bench/make-corpus: plain text of
# 1-8 KB, 70 % of it in INBOX) sized so that INBOX holds INBOX_N messages, runs
# `uidsync sync` once (initial), then changes the server as bench/peers.sh does
# (\Flagged added to 1 % of every folder's messages, 0.1 % new messages, through
# doveadm) and times the change re-sync. Both runs are timed with /usr/bin/time
# (wall seconds, peak RSS) and the Maildir is checked against the server's
# (bench/verify-maildir) after each.
# Each further round (ROUNDS) toggles the same flags back (even rounds: removed, no new
# mail; odd rounds: as the first change) and times one more change re-sync.
# With PROFILER=perf or PROFILER=heaptrack, one more change (flags toggled) is synced
# under `perf record -g` or heaptrack, and the top of its report is printed; that run
# is not timed.
#
# Environment: WORK (scratch dir, default /tmp/uidsync-change; must be reachable by
# Dovecot's users), INBOX_N (35000), ROUNDS (1), PROFILER (none|perf|heaptrack), SEED
# (42), GAP (seconds slept before a re-sync, 1.5), UIDSYNC (the binary; default:
# build/release, built first).
# Output: one line per timed run on stdout, logs in $WORK/logs.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
SRC=$(pwd)

if [ $# -gt 0 ]; then
  sed -n '4,5p' "$0" | sed 's/^# //' >&2
  exit 2
fi
WORK=${WORK:-/tmp/uidsync-change}
INBOX_N=${INBOX_N:-35000}
ROUNDS=${ROUNDS:-1}
PROFILER=${PROFILER:-none}
SEED=${SEED:-42}
GAP=${GAP:-1.5}
# make-corpus puts 70 % of the messages in INBOX.
N=$((INBOX_N * 10 / 7))
FIXTURE=$SRC/tests/support/dovecot-fixture
LOGS=$WORK/logs
T0=$EPOCHREALTIME

# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
check_tools uidsync
case $PROFILER in
none) ;;
perf | heaptrack) command -v "$PROFILER" >/dev/null || die "missing $PROFILER" ;;
*) die "PROFILER must be none, perf or heaptrack" ;;
esac
build_uidsync uidsync

if [ -d "$WORK/run/dovecot" ]; then
  "$FIXTURE" stop "$WORK/run/dovecot" || true
fi
rm -rf "$WORK"
mkdir -p "$WORK" "$LOGS"
chmod 0755 "$WORK"

DOV=
cleanup() { if [ -n "$DOV" ]; then "$FIXTURE" stop "$DOV" || true; fi; }
trap cleanup EXIT

RUN=$WORK/run
load_corpus "$RUN" "$N" small
configure "$RUN"

# timed PHASE: one uidsync run, its line printed.
timed() {
  local phase=$1
  run_peer "$RUN" uidsync "$phase" "$LOGS/$phase"
  printf '%-10s %6.2f s %8d KiB  exit %s  verified %s\n' "$phase" "$SECS" "$RSS" "$STATUS" \
    "$VERIFIED"
  [ "$STATUS" = 0 ] && [ "$VERIFIED" = ok ] || die "$phase failed: see $LOGS/$phase.*"
}

# unflag: removes \Flagged again from the messages mutate flagged.
unflag() {
  flag_every_100th remove
  say "server changed: \\Flagged removed again"
}

# change ROUND: the server change of that round.
change() {
  if (($1 % 2 == 1)); then
    mutate "$N" small "$RUN"
  else
    unflag
  fi
  sleep "$GAP"
}

say "INBOX_N=$INBOX_N: corpus of $N messages; uidsync $UIDSYNC"
timed initial
for ((round = 1; round <= ROUNDS; round++)); do
  change "$round"
  timed "change$round"
done

if [ "$PROFILER" != none ]; then
  change $((ROUNDS + 1))
  peer_command "$RUN" uidsync
  case $PROFILER in
  perf)
    perf record -g -o "$WORK/perf.data" -- "${CMD[@]}" >"$LOGS/profile.log" 2>&1
    perf report -i "$WORK/perf.data" --stdio --no-children -g none --percent-limit 1 2>/dev/null |
      grep -v '^$' | head -n 80
    ;;
  heaptrack)
    heaptrack -o "$WORK/heaptrack" "${CMD[@]}" >"$LOGS/profile.log" 2>&1
    heaptrack_print "$WORK"/heaptrack.*zst 2>/dev/null | sed -n '/^MOST MEMORY CONSUMED/,/^MOST TEMPORARY/p' | head -n 80
    heaptrack_print "$WORK"/heaptrack.*zst 2>/dev/null | grep -E '^(peak heap memory|peak RSS|total memory leaked)'
    ;;
  esac
fi
say "done; logs in $LOGS"
