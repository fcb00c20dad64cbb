#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/peers.sh: uidsync side by side with mbsync and OfflineIMAP, all against one
# private Dovecot per corpus, in one run.
#
#   bench/peers.sh [--quick]
#
# Corpora (bench/make-corpus, deterministic): N_INITIAL (10,000, "full" profile, about
# 310 MiB) for the initial sync; N_SMALL (2,000) and N_LARGE (50,000, "small" profile:
# plain text of 1-8 KB) for the initial, no-op and change re-syncs. Per corpus and peer:
#   initial  sync into an empty Maildir: wall time and peak RSS (/usr/bin/time)
#   noop     re-sync with nothing changed
#   change   re-sync after the server changed: \Flagged added to 1 % of the messages
#            and 0.1 % new messages (doveadm), the same change seen by every peer
# Each peer's Maildir is checked message by message against the server's after the
# initial sync and after the change (bench/verify-maildir: bytes and flags).
# Peers use their defaults: mbsync (Sync All, Create Both, FSync yes), OfflineIMAP
# (two-way, fsync), uidsync (build/release, default settings); plain IMAP on loopback.
# --quick: small corpora (300 / 200 / 1,000) to check the script in a few minutes;
# RESULTS.md is then left alone.
#
# Environment: WORK (scratch dir, default /tmp/uidsync-peers; must be reachable by
# Dovecot's users), PEERS (default "mbsync offlineimap uidsync"), N_INITIAL, N_SMALL,
# N_LARGE, UIDSYNC (the binary; default: build/release, built first), OFFLINEIMAP_MAX
# (largest corpus OfflineIMAP is run on, default 10000: it takes far longer than the
# others at 50,000), SEED (42), GAP (seconds slept before a re-sync, default 1.5:
# mbsync waits a second itself after a recent Maildir change).
# Output: $WORK/results.tsv, $WORK/summary.md, logs in $WORK/logs; the summary is
# printed and (without --quick) replaces the peers section of bench/RESULTS.md.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
SRC=$(pwd)

QUICK=no
if [ "${1:-}" = --quick ]; then
  QUICK=yes
elif [ $# -gt 0 ]; then
  sed -n '4,6p' "$0" | sed 's/^# //' >&2
  exit 2
fi
WORK=${WORK:-/tmp/uidsync-peers}
PEERS=${PEERS:-"mbsync offlineimap uidsync"}
SEED=${SEED:-42}
GAP=${GAP:-1.5}
OFFLINEIMAP_MAX=${OFFLINEIMAP_MAX:-10000}
if [ "$QUICK" = yes ]; then
  N_INITIAL=${N_INITIAL:-300} N_SMALL=${N_SMALL:-200} N_LARGE=${N_LARGE:-1000}
else
  N_INITIAL=${N_INITIAL:-10000} N_SMALL=${N_SMALL:-2000} N_LARGE=${N_LARGE:-50000}
fi
FIXTURE=$SRC/tests/support/dovecot-fixture
RES=$WORK/results.tsv
LOGS=$WORK/logs
T0=$EPOCHREALTIME

# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
check_tools $PEERS
build_uidsync $PEERS

if [ -d "$WORK" ]; then
  for d in "$WORK"/n*/dovecot; do [ -d "$d" ] && "$FIXTURE" stop "$d"; done
  rm -rf "$WORK"
fi
mkdir -p "$WORK" "$LOGS"
chmod 0755 "$WORK"
printf 'n\tpeer\tphase\tseconds\tmax_rss_kb\tstatus\tverified\n' >"$RES"

DOV=
cleanup() { if [ -n "$DOV" ]; then "$FIXTURE" stop "$DOV" || true; fi; }
trap cleanup EXIT

# timed N PEER PHASE: runs the peer once, appends a row to results.tsv.
timed() {
  local n=$1 peer=$2 phase=$3
  run_peer "$WORK/n$n" "$peer" "$phase" "$LOGS/n$n.$peer.$phase"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$peer" "$phase" "$SECS" "$RSS" "$STATUS" "$VERIFIED" >>"$RES"
  say "n=$n $peer $phase: ${SECS} s, ${RSS} KB, exit $STATUS, verified $VERIFIED"
}

skipped() {
  printf '%s\t%s\t%s\t-\t-\tskipped\t-\n' "$1" "$2" "$3" >>"$RES"
  say "n=$1 $2 $3: skipped ($4)"
}

# corpus N PROFILE PHASES...: one Dovecot with N messages; every peer runs the phases.
corpus() {
  local n=$1 profile=$2 run=$WORK/n$1
  shift 2
  load_corpus "$run" "$n" "$profile"
  configure "$run"
  local peers=() peer phase
  for peer in $PEERS; do
    if [ "$peer" = offlineimap ] && [ "$n" -gt "$OFFLINEIMAP_MAX" ]; then
      for phase in "$@"; do
        skipped "$n" "$peer" "$phase" "OfflineIMAP above OFFLINEIMAP_MAX=$OFFLINEIMAP_MAX messages"
      done
      continue
    fi
    peers+=("$peer")
  done
  for phase in "$@"; do
    case $phase in
    initial) for peer in "${peers[@]}"; do timed "$n" "$peer" initial; done ;;
    noop) for peer in "${peers[@]}"; do sleep "$GAP"; timed "$n" "$peer" noop; done ;;
    change)
      mutate "$n" "$profile" "$run"
      for peer in "${peers[@]}"; do sleep "$GAP"; timed "$n" "$peer" change; done
      ;;
    esac
  done
  "$FIXTURE" stop "$DOV"
  DOV=
}


corpus "$N_INITIAL" full initial
corpus "$N_SMALL" small initial noop
corpus "$N_LARGE" small initial noop change

python3 - "$RES" "$N_INITIAL" "$N_SMALL" "$N_LARGE" >"$WORK/summary.md" <<'EOF'
import csv, sys
res, n_init, n_small, n_large = sys.argv[1], *sys.argv[2:]
rows = list(csv.DictReader(open(res), delimiter="\t"))
get = {(r["n"], r["peer"], r["phase"]): r for r in rows}
def val(n, peer, phase, field="seconds"):
    r = get.get((n, peer, phase))
    return float(r[field]) if r and r[field] not in ("-", "") else None
def fmt(x, unit=""):
    return "skipped" if x is None else f"{x:g}{unit}"
print("| corpus | phase | " + " | ".join(p for p in ("mbsync", "offlineimap", "uidsync")) + " |")
print("|---|---|---:|---:|---:|")
for n, phase in ((n_init, "initial"), (n_small, "initial"), (n_small, "noop"),
                 (n_large, "initial"), (n_large, "noop"), (n_large, "change")):
    cells = []
    for p in ("mbsync", "offlineimap", "uidsync"):
        r = get.get((n, p, phase))
        if r is None or r["status"] == "skipped":
            cells.append("skipped")
            continue
        cell = f"{float(r['seconds']):.2f} s"
        if phase == "initial":
            cell += f", {int(r['max_rss_kb']) / 1024:.0f} MiB"
        if r["status"] != "0":
            cell += f", exit {r['status']}"
        if r["verified"] not in ("ok", "-"):
            cell += ", NOT VERIFIED"
        cells.append(cell)
    print(f"| {n} | {phase} | " + " | ".join(cells) + " |")
print()
def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b
checks = [
    (f"initial sync, N={n_init}: uidsync / mbsync", ratio(val(n_init, "uidsync", "initial"), val(n_init, "mbsync", "initial")), 0.33),
    (f"no-op re-sync, N={n_large}: uidsync / mbsync", ratio(val(n_large, "uidsync", "noop"), val(n_large, "mbsync", "noop")), 0.25),
    (f"no-op re-sync: uidsync N={n_large} / N={n_small}", ratio(val(n_large, "uidsync", "noop"), val(n_small, "uidsync", "noop")), 1.3),
    (f"changes re-sync, N={n_large}: uidsync / mbsync", ratio(val(n_large, "uidsync", "change"), val(n_large, "mbsync", "change")), 0.5),
    (f"peak RSS, initial N={n_large}: uidsync / mbsync", ratio(val(n_large, "uidsync", "initial", "max_rss_kb"), val(n_large, "mbsync", "initial", "max_rss_kb")), 1.5),
]
print("| ratio | measured | target | met |")
print("|---|---:|---:|---|")
for name, r, target in checks:
    print(f"| {name} | {'n/a' if r is None else f'{r:.2f}'} | ≤ {target} | "
          f"{'n/a' if r is None else ('yes' if r <= target else 'no')} |")
bad = [r for r in rows if r["status"] not in ("0", "skipped") or r["verified"] == "FAILED"]
print()
print("Every Maildir verified message by message (bytes and flags)." if not bad else
      "Problems: " + "; ".join(f"{r['peer']} n={r['n']} {r['phase']} exit {r['status']} "
                               f"verified {r['verified']}" for r in bad))
EOF
cat "$WORK/summary.md"

if [ "$QUICK" = no ]; then
  python3 - "$SRC/bench/RESULTS.md" "$WORK/summary.md" <<'EOF'
import datetime, sys
path, summary = sys.argv[1], open(sys.argv[2]).read()
begin, end = "<!-- peers.sh: begin -->", "<!-- peers.sh: end -->"
text = open(path).read()
section = (f"{begin}\n## Side by side with mbsync and OfflineIMAP (`bench/peers.sh`)\n\n"
           f"Run of {datetime.date.today()}: see the script's header for what each phase "
           f"does; one run, so read the ratios with the ±25 % noise in mind.\n\n"
           f"{summary}\n{end}")
if begin in text:
    text = text[:text.index(begin)] + section + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
EOF
  say "bench/RESULTS.md updated"
fi
say "done; results in $WORK"
