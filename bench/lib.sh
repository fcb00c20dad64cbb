# SPDX-License-Identifier: GPL-3.0-or-later
# bench/lib.sh: shell functions shared by the side-by-side benchmarks (peers.sh,
# wan.sh). Sourced, never run. Expects SRC (the source tree), FIXTURE (the Dovecot
# fixture script), SEED and T0 ($EPOCHREALTIME at start); sets UIDSYNC when unset.

say() { printf '[%5.0fs] %s\n' "$(awk "BEGIN{print $EPOCHREALTIME-$T0}")" "$*" >&2; }
die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# check_tools PEERS...: dies when a tool or a peer is missing.
check_tools() {
  local tool peer
  for tool in dovecot doveadm /usr/bin/time python3; do
    command -v "$tool" >/dev/null || die "missing $tool"
  done
  for peer in "$@"; do
    case $peer in
    mbsync | offlineimap) command -v "$peer" >/dev/null || die "missing $peer (apt-get install isync offlineimap3)" ;;
    uidsync) ;;
    *) die "unknown peer $peer" ;;
    esac
  done
}

# build_uidsync PEERS...: with uidsync among the peers and UIDSYNC unset, builds the
# release preset and uses its binary; a given UIDSYNC is used as it is.
build_uidsync() {
  if [[ " $* " != *" uidsync "* ]]; then
    return
  fi
  if [ -n "${UIDSYNC:-}" ]; then
    [ -x "$UIDSYNC" ] || die "UIDSYNC=$UIDSYNC is not an executable"
    return
  fi
  say "building uidsync (release preset)"
  cmake --preset release -DUIDSYNC_TESTS=OFF >/dev/null
  cmake --build build/release -j2 --target uidsync >/dev/null
  UIDSYNC=$SRC/build/release/uidsync
}

# load_corpus RUN N PROFILE: starts Dovecot in RUN/dovecot (sets DOV and the IMAP_*
# and MAIL_DIR variables of its fixture.env), writes N messages of PROFILE with
# bench/make-corpus (its summary in RUN/corpus.json), indexes them and warms the
# page cache for every peer alike.
load_corpus() {
  local run=$1 n=$2 profile=$3
  DOV=$run/dovecot
  mkdir -p "$run"
  "$FIXTURE" start "$DOV"
  # shellcheck disable=SC1091
  . "$DOV/fixture.env"
  say "n=$n: writing the corpus ($profile)"
  "$SRC/bench/make-corpus" "$MAIL_DIR" "$n" --seed "$SEED" --profile "$profile" >"$run/corpus.json"
  say "n=$n: $(cat "$run/corpus.json")"
  "$FIXTURE" doveadm "$DOV" force-resync -u "$IMAP_USER" '*'
  "$FIXTURE" doveadm "$DOV" index -u "$IMAP_USER" '*' 2>/dev/null || true
  find "$MAIL_DIR" -type f -path '*/cur/*' -exec cat {} + >/dev/null
}

# Writes the three peers' configurations for the running instance ($IMAP_* from fixture.env).
configure() {
  local run=$1
  # mbsync refuses a Maildir root that does not exist yet.
  mkdir -p "$run/cfg" "$run/mbsync" "$run/offlineimap" "$run/uidsync"
  cat >"$run/cfg/mbsyncrc" <<EOF
IMAPAccount bench
Host $IMAP_HOST
Port $IMAP_PORT
User $IMAP_USER
Pass $IMAP_PASS
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path $run/mbsync/
Inbox $run/mbsync/INBOX
SubFolders Verbatim

Channel bench
Far :remote:
Near :local:
Patterns *
Create Both
SyncState *
EOF
  cat >"$run/cfg/offlineimaprc" <<EOF
[general]
accounts = bench
metadata = $run/offlineimap-state

[Account bench]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = $run/offlineimap

[Repository remote]
type = IMAP
remotehost = $IMAP_HOST
remoteport = $IMAP_PORT
remoteuser = $IMAP_USER
remotepass = $IMAP_PASS
ssl = no
starttls = no
EOF
  cat >"$run/cfg/uidsync.toml" <<EOF
[general]
state_dir = "$run/uidsync-state"

[accounts.bench]
host = "$IMAP_HOST"
port = $IMAP_PORT
tls = "none"
allow_plaintext = true
user = "$IMAP_USER"
password = "$IMAP_PASS"
maildir = "$run/uidsync"
EOF
  chmod 0600 "$run/cfg/uidsync.toml"
}

peer_command() {
  local run=$1 peer=$2
  case $peer in
  mbsync) CMD=(mbsync -c "$run/cfg/mbsyncrc" -a) ;;
  offlineimap) CMD=(offlineimap -c "$run/cfg/offlineimaprc" -o -u quiet) ;;
  uidsync) CMD=("$UIDSYNC" -c "$run/cfg/uidsync.toml" sync) ;;
  esac
}

# flag_every_100th add|remove: \Flagged added to or removed from every 100th message
# (by sequence number) of each folder, through doveadm.
flag_every_100th() {
  local op=$1 folder count set i
  while IFS= read -r folder; do
    count=$("$FIXTURE" doveadm "$DOV" -f flow mailbox status -u "$IMAP_USER" messages "$folder" \
      2>/dev/null | sed -n 's/.*messages=\([0-9]*\).*/\1/p') || true
    set=
    for ((i = 1; i <= ${count:-0}; i += 100)); do set+=${set:+,}$i; done
    [ -n "$set" ] && "$FIXTURE" doveadm "$DOV" flags "$op" -u "$IMAP_USER" '\Flagged' mailbox "$folder" "$set"
  done < <("$FIXTURE" doveadm "$DOV" mailbox list -u "$IMAP_USER")
}

# \Flagged on 1 % of each folder's messages (every 100th by sequence number) and
# 0.1 % new messages (the corpus continued past N), through doveadm.
mutate() {
  local n=$1 profile=$2 run=$3
  flag_every_100th add
  deliver_new "$n" "$profile" "$run/new-mail"
  say "n=$n: server changed: \\Flagged on every 100th message, $((n / 1000 > 0 ? n / 1000 : 1)) new"
}

# deliver_new N PROFILE DIR [START]: 0.1 % of N new messages (the corpus continued
# from message START, default N; written to DIR) saved to their folders on the
# server through doveadm.
deliver_new() {
  local n=$1 profile=$2 dir=$3 start=${4:-$1} file name
  local extra=$((n / 1000))
  [ "$extra" -ge 1 ] || extra=1
  mkdir -p "$dir"
  "$SRC/bench/make-corpus" "$dir" "$extra" --seed "$SEED" --profile "$profile" --start "$start" >/dev/null
  for file in "$dir"/cur/* "$dir"/.[!.]*/cur/*; do
    [ -f "$file" ] || continue
    name=$(basename "$(dirname "$(dirname "$file")")")
    if [ "$(dirname "$(dirname "$file")")" = "$dir" ]; then name=INBOX; else name=${name#.}; name=${name//./\/}; fi
    "$FIXTURE" doveadm "$DOV" save -u "$IMAP_USER" -m "$name" <"$file"
  done
}

# run_peer RUN PEER PHASE LOG: runs the peer once under /usr/bin/time (output in
# LOG.log), then, unless PHASE is noop, checks its Maildir against the server's
# with bench/verify-maildir (LOG.verify). Sets SECS, RSS (peak, KB), STATUS (exit)
# and VERIFIED (ok, FAILED or - when not checked).
run_peer() {
  local run=$1 peer=$2 phase=$3 log=$4
  peer_command "$run" "$peer"
  set +e
  /usr/bin/time -f '%e %M' -o "$log.time" "${CMD[@]}" >"$log.log" 2>&1 </dev/null
  STATUS=$?
  set -e
  VERIFIED=-
  if [ "$phase" != noop ]; then
    if "$SRC/bench/verify-maildir" "$MAIL_DIR" "$run/$peer" >"$log.verify" 2>&1; then
      VERIFIED=ok
    else
      VERIFIED=FAILED
      say "  $(cat "$log.verify")"
    fi
  fi
  read -r SECS RSS < <(tail -n 1 "$log.time")
}
