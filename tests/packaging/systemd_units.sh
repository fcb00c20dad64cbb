#!/usr/bin/env bash
# The systemd user units verify with systemd-analyze and keep their promises.
# Usage: systemd_units.sh UIDSYNC_BINARY SOURCE_DIR
set -euo pipefail
bin=$1 src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# An instance for the account "work", pointing at the built binary.
sed "s#@UIDSYNC_EXECUTABLE@#$bin#" "$src/contrib/systemd/uidsync@.service.in" >"$dir/uidsync@work.service"
cp "$src/contrib/systemd/uidsync@.timer" "$dir/uidsync@work.timer"
out=$(cd "$dir" && systemd-analyze verify --man=no ./uidsync@work.service ./uidsync@work.timer 2>&1) || {
  echo "systemd-analyze verify failed:"; echo "$out"; exit 1; }
if [ -n "$out" ]; then echo "systemd-analyze verify warned:"; echo "$out"; exit 1; fi
expect() { grep -qxF -- "$2" "$dir/$1" || { echo "$1 lacks: $2"; exit 1; }; }
expect uidsync@work.service "Type=oneshot"
expect uidsync@work.service "ExecStart=$bin sync %i"
expect uidsync@work.service "SuccessExitStatus=3"
expect uidsync@work.service "NoNewPrivileges=true"
expect uidsync@work.service "PrivateTmp=true"
expect uidsync@work.service "ProtectSystem=strict"
expect uidsync@work.timer "OnCalendar=*:0/5"
expect uidsync@work.timer "Persistent=true"
expect uidsync@work.timer "RandomizedDelaySec=30s"
# The timer fires every 5 minutes.
next=$(systemd-analyze calendar --iterations=2 '*:0/5' | awk -F': ' '/Next elapse|Iter. #2/ { print $2 }')
[ "$(wc -l <<<"$next")" = 2 ] || { echo "cannot read the calendar: $next"; exit 1; }
first=$(sed -n 1p <<<"$next") second=$(sed -n 2p <<<"$next")
a=$(date -d "${first#* }" +%s) b=$(date -d "${second#* }" +%s)
[ $((b - a)) = 300 ] || { echo "timer period is $((b - a)) s, not 300"; exit 1; }
echo "systemd units: verified; timer period 300 s"
