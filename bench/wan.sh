#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/wan.sh: uidsync, mbsync and OfflineIMAP side by side over an emulated WAN
# link: a private Dovecot behind uidsync_netem (one-way delay each way, bandwidth cap).
#
#   bench/wan.sh [--quick]
#
# One corpus (bench/make-corpus, "full" profile, N messages; N=2,000 is about 62 MiB).
# Per peer, each through a fresh proxy (so its statistics are the run's alone):
#   initial  sync into an empty Maildir
#   noop     re-sync with nothing changed
#   change   re-sync after the server changed: \Flagged on 1 % of the messages and
#            0.1 % new messages (doveadm), the same change seen by every peer
# Each peer's Maildir is checked message by message against the server's after every
# phase but the no-op (bench/verify-maildir: bytes and flags). Per run: wall time,
# bytes each way, connections and `exchanges` (times the direction of traffic turned
# from client to server and back: round trips) from the proxy's --stats.
# Peers use their defaults, as in peers.sh (plain IMAP, LOGIN/PLAIN).
# --quick: N=200 to check the script in a few minutes; RESULTS.md is then left alone.
#
# Environment: WORK (scratch dir, default /tmp/uidsync-wan), PEERS (default "mbsync
# offlineimap uidsync"), N, DELAY_MS (one way, default 25: 50 ms RTT), RATE_KBIT (each
# direction, default 100000), SEED (42), GAP (seconds slept before a re-sync, 1.5),
# UIDSYNC (the binary; default: build/release, built first), NETEM (the proxy; default
# build/release/tests/uidsync_netem, else build/dev/tests/uidsync_netem).
# Output: $WORK/results.tsv, $WORK/summary.md, logs in $WORK/logs; the summary is
# printed and (without --quick) replaces the WAN section of bench/RESULTS.md.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
SRC=$(pwd)

QUICK=no
if [ "${1:-}" = --quick ]; then
  QUICK=yes
elif [ $# -gt 0 ]; then
  sed -n '6,8p' "$0" | sed 's/^# //' >&2
  exit 2
fi
WORK=${WORK:-/tmp/uidsync-wan}
PEERS=${PEERS:-"mbsync offlineimap uidsync"}
SEED=${SEED:-42}
GAP=${GAP:-1.5}
DELAY_MS=${DELAY_MS:-25}
RATE_KBIT=${RATE_KBIT:-100000}
if [ "$QUICK" = yes ]; then N=${N:-200}; else N=${N:-2000}; fi
FIXTURE=$SRC/tests/support/dovecot-fixture
RES=$WORK/results.tsv
LOGS=$WORK/logs
T0=$EPOCHREALTIME

# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
check_tools $PEERS
if [ -z "${NETEM:-}" ]; then
  for NETEM in "$SRC/build/release/tests/uidsync_netem" "$SRC/build/dev/tests/uidsync_netem"; do
    [ -x "$NETEM" ] && break
  done
fi
[ -x "$NETEM" ] || die "no uidsync_netem (build it: cmake --build build/dev --target uidsync_netem, or set NETEM)"
build_uidsync $PEERS

if [ -d "$WORK" ]; then
  [ -d "$WORK/run/dovecot" ] && "$FIXTURE" stop "$WORK/run/dovecot"
  rm -rf "$WORK"
fi
mkdir -p "$WORK" "$LOGS"
chmod 0755 "$WORK"
printf 'peer\tphase\tseconds\tstatus\tverified\tconnections\tbytes_c2s\tbytes_s2c\texchanges\n' >"$RES"

DOV=
PROXY=
cleanup() {
  if [ -n "$PROXY" ]; then kill "$PROXY" 2>/dev/null || true; fi
  if [ -n "$DOV" ]; then "$FIXTURE" stop "$DOV" || true; fi
}
trap cleanup EXIT

# proxy_start LOG: starts uidsync_netem in front of Dovecot; sets PROXY (pid) and
# PROXY_PORT, the statistics go to LOG.stats when it stops.
proxy_start() {
  local log=$1 i
  : >"$log.proxy"
  "$NETEM" --to "$DOVECOT_HOST:$DOVECOT_PORT" --listen 0 --delay-ms "$DELAY_MS" \
    --rate-kbit "$RATE_KBIT" --stats "$log.stats" >"$log.proxy" 2>&1 &
  PROXY=$!
  for ((i = 0; i < 100; i++)); do
    PROXY_PORT=$(sed -n '1s/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log.proxy")
    [ -n "$PROXY_PORT" ] && return
    kill -0 "$PROXY" 2>/dev/null || die "uidsync_netem did not start: $(cat "$log.proxy")"
    sleep 0.05
  done
  die "uidsync_netem did not say where it listens: $(cat "$log.proxy")"
}

proxy_stop() {
  kill -TERM "$PROXY"
  wait "$PROXY" || true
  PROXY=
}

# timed PEER PHASE: one run of the peer through a fresh proxy; appends a row.
timed() {
  local peer=$1 phase=$2 run=$WORK/run log=$LOGS/$1.$2 stats
  proxy_start "$log"
  IMAP_HOST=127.0.0.1 IMAP_PORT=$PROXY_PORT configure "$run"
  # The emulated link ends on loopback, where uidsync does not compress by default; a
  # real distant server is not on loopback, so uidsync runs as it would there.
  echo "compress = true" >>"$run/cfg/uidsync.toml"
  run_peer "$run" "$peer" "$phase" "$log"
  proxy_stop
  stats=$(python3 -c 'import json,sys
s=json.load(open(sys.argv[1]))
print("\t".join(str(s[k]) for k in ("connections","bytes_c2s","bytes_s2c","exchanges")))' "$log.stats")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$peer" "$phase" "$SECS" "$STATUS" "$VERIFIED" "$stats" >>"$RES"
  say "$peer $phase: ${SECS} s, exit $STATUS, verified $VERIFIED, proxy: $(echo "$stats" | tr '\t' ' ') (connections c2s s2c exchanges)"
}

load_corpus "$WORK/run" "$N" full
DOVECOT_HOST=$IMAP_HOST DOVECOT_PORT=$IMAP_PORT
say "link: ${DELAY_MS} ms each way ($((2 * DELAY_MS)) ms RTT), ${RATE_KBIT} kbit/s each way"
for peer in $PEERS; do timed "$peer" initial; done
for peer in $PEERS; do sleep "$GAP"; timed "$peer" noop; done
mutate "$N" full "$WORK/run"
for peer in $PEERS; do sleep "$GAP"; timed "$peer" change; done
"$FIXTURE" stop "$DOV"
DOV=

python3 - "$RES" "$N" "$DELAY_MS" "$RATE_KBIT" "$WORK/run/corpus.json" >"$WORK/summary.md" <<'EOF'
import csv, json, sys
res, n, delay, rate, corpus = sys.argv[1:]
rows = list(csv.DictReader(open(res), delimiter="\t"))
get = {(r["peer"], r["phase"]): r for r in rows}
peers = [p for p in ("mbsync", "offlineimap", "uidsync") if any(r["peer"] == p for r in rows)]
info = json.load(open(corpus))
size = next((info[k] for k in ("bytes", "total_bytes", "size") if k in info), None)
print(f"Corpus: {n} messages" + (f", {size / 2**20:.1f} MiB" if isinstance(size, (int, float)) else "") +
      f"; link: {delay} ms each way ({2 * int(delay)} ms RTT), {int(rate) / 1000:g} Mbit/s each way.\n")
print("| phase | " + " | ".join(peers) + " |")
print("|---|" + "---:|" * len(peers))
for phase in ("initial", "noop", "change"):
    cells = []
    for p in peers:
        r = get.get((p, phase))
        if r is None:
            cells.append("-")
            continue
        cell = (f"{float(r['seconds']):.2f} s; {r['exchanges']} exch., {r['connections']} conn.; "
                f"{int(r['bytes_c2s']) / 1024:.1f} KiB up, {int(r['bytes_s2c']) / 2**20:.2f} MiB down")
        if r["status"] != "0":
            cell += f"; exit {r['status']}"
        if r["verified"] == "FAILED":
            cell += "; NOT VERIFIED"
        cells.append(cell)
    print(f"| {phase} | " + " | ".join(cells) + " |")
print()
def seconds(p, phase):
    r = get.get((p, phase))
    return float(r["seconds"]) if r else None
print("| ratio uidsync / mbsync | time | target | met | exchanges |")
print("|---|---:|---:|---|---:|")
for phase, target in (("initial", 0.8), ("noop", 0.4), ("change", 0.5)):
    u, m = seconds("uidsync", phase), seconds("mbsync", phase)
    r = None if u is None or not m else u / m
    eu, em = get.get(("uidsync", phase)), get.get(("mbsync", phase))
    ex = f"{eu['exchanges']} vs {em['exchanges']}" if eu and em else "n/a"
    print(f"| {phase} | {'n/a' if r is None else f'{r:.2f}'} | ≤ {target} | "
          f"{'n/a' if r is None else ('yes' if r <= target else 'no')} | {ex} |")
bad = [r for r in rows if r["status"] != "0" or r["verified"] == "FAILED"]
print()
print("Every Maildir verified message by message (bytes and flags) after every phase but the no-op."
      if not bad else
      "Problems: " + "; ".join(f"{r['peer']} {r['phase']} exit {r['status']} verified {r['verified']}"
                               for r in bad))
EOF
cat "$WORK/summary.md"

if [ "$QUICK" = no ]; then
  python3 - "$SRC/bench/RESULTS.md" "$WORK/summary.md" <<'EOF'
import datetime, sys
path, summary = sys.argv[1], open(sys.argv[2]).read()
begin, end = "<!-- wan.sh: begin -->", "<!-- wan.sh: end -->"
text = open(path).read()
section = (f"{begin}\n## Over a WAN link (`bench/wan.sh`)\n\n"
           f"Run of {datetime.date.today()}: see the script's header for what each phase "
           f"does; one run, so read the ratios with the ±25 % noise in mind. \"exch.\" are "
           f"the proxy's exchanges (round trips, all connections summed).\n\n"
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
