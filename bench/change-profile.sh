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
# Each further round (ROUNDS) toggles the same flags back (even rounds: removed; odd
# rounds: added again), delivers 0.1 % new messages again and times one more change
# re-sync.
# With COMPARE=BINARY, a second uidsync binary is timed in the same run: its own
# initial sync (into a second Maildir, after the first), and every change round
# alternates between the binaries on the one Maildir and state (rounds 1 and 4 with
# UIDSYNC, 2 and 3 with COMPARE, and so on), so both see the same machine load and
# both flag directions.
# With PROFILER=perf or PROFILER=heaptrack, one more change (flags toggled) is synced
# under `perf record -g` or heaptrack, and the top of its report is printed; that run
# is not timed.
#
# Environment: WORK (scratch dir, default /tmp/uidsync-change; must be reachable by
# Dovecot's users), INBOX_N (35000), ROUNDS (1), PROFILER (none|perf|heaptrack), SEED
# (42), GAP (seconds slept before a re-sync, 1.5), UIDSYNC (the binary; default:
# build/release, built first), COMPARE (unset).
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
COMPARE=${COMPARE:-}
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
if [ -n "$COMPARE" ]; then
  [ -x "$COMPARE" ] || die "COMPARE=$COMPARE is not an executable"
fi

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

# timed RUN PHASE [BINARY]: one uidsync run (BINARY, default UIDSYNC) on RUN's
# Maildir, its line printed.
timed() {
  local run=$1 phase=$2 binary=${3:-$UIDSYNC} main=$UIDSYNC
  UIDSYNC=$binary
  run_peer "$run" uidsync "$phase" "$LOGS/$phase"
  UIDSYNC=$main
  printf '%-10s %6.2f s %8d KiB  exit %s  verified %s  %s\n' "$phase" "$SECS" "$RSS" "$STATUS" \
    "$VERIFIED" "$binary"
  [ "$STATUS" = 0 ] && [ "$VERIFIED" = ok ] || die "$phase failed: see $LOGS/$phase.*"
}

# change ROUND: the server change of that round.
change() {
  if (($1 % 2 == 1)); then
    flag_every_100th add
  else
    flag_every_100th remove
  fi
  # Other messages each round: the same ones again would be duplicates by Message-ID.
  deliver_new "$N" small "$RUN/new-mail-$1" $((N + ($1 - 1) * (N / 1000)))
  say "round $1: \\Flagged $( (($1 % 2 == 1)) && echo added to || echo removed from) every 100th message, $((N / 1000)) new"
  sleep "$GAP"
}

say "INBOX_N=$INBOX_N: corpus of $N messages; uidsync $UIDSYNC${COMPARE:+, compared with $COMPARE}"
timed "$RUN" initial
if [ -n "$COMPARE" ]; then
  configure "$WORK/run-compare"
  timed "$WORK/run-compare" initial-cmp "$COMPARE"
fi
for ((round = 1; round <= ROUNDS; round++)); do
  change "$round"
  binary=$UIDSYNC
  if [ -n "$COMPARE" ] && ((round % 4 == 2 || round % 4 == 3)); then
    binary=$COMPARE
  fi
  timed "$RUN" "change$round" "$binary"
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
    heaptrack_print "$WORK"/heaptrack.*zst 2>/dev/null | sed -n '/^PEAK MEMORY CONSUMERS/,/^MOST TEMPORARY/p' | head -n 80
    heaptrack_print "$WORK"/heaptrack.*zst 2>/dev/null | grep -E '^(peak heap memory|peak RSS|total memory leaked)'
    ;;
  esac
fi
say "done; logs in $LOGS"
