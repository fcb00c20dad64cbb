#!/usr/bin/env bash
# The man pages render without warnings, and name every command, option and config key.
# Usage: man_pages.sh UIDSYNC_BINARY SOURCE_DIR BUILD_DIR
set -euo pipefail
bin=$1 src=$2 build=$3
fail=0

# 1. Rendering: groff/man warnings (bad macros, unbreakable lines) are failures.
for page in "$build/man/uidsync.1" "$build/man/uidsync.toml.5"; do
  [ -s "$page" ] || { echo "missing man page: $page"; exit 1; }
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null || true)
  if [ -n "$warnings" ]; then
    echo "$page renders with warnings:"; echo "$warnings"; fail=1
  fi
done

# 2. Every subcommand and long option of `--help` is in uidsync.1.
# check_cli PAGE: prints what PAGE misses.
check_cli() {
  local page=$1 missing=""
  local -a commands=("" sync folders status quarantine doctor check-config
                     "quarantine list" "quarantine show" "quarantine retry"
                     "quarantine forget" "quarantine expunge")
  for cmd in "${commands[@]}"; do
    # shellcheck disable=SC2086
    help=$("$bin" $cmd --help)
    for opt in $(grep -oE -- '(^|[ ,])--[a-z][a-z0-9-]*' <<<"$help" | sed 's/^[ ,]//' | sort -u); do
      grep -qF -- "*$opt" "$page" || grep -qF -- ", $opt" "$page" || missing+=" $opt(${cmd:-global})"
    done
    sub=$(sed -n '/^Subcommands:/,/^$/p' <<<"$help" | awk 'NR > 1 && NF { print $1 }')
    for s in $sub; do
      grep -qE -- "^## (${cmd:+$cmd })?$s( |\$)" "$page" || missing+=" command:${cmd:+$cmd }$s"
    done
  done
  echo "$missing"
}
missing=$(check_cli "$src/docs/man/uidsync.1.scd")
if [ -n "${missing// /}" ]; then
  echo "uidsync.1.scd does not document:$missing"; fail=1
fi

# 3. Every config key the parser knows is in uidsync.toml.5.
keys=$(grep -oE 'KeySpec\{"[a-z_0-9]+"' "$src/src/cli/config_file.cpp" | sed 's/KeySpec{"//; s/"//' | sort -u)
[ -n "$keys" ] || { echo "found no config keys in config_file.cpp"; exit 1; }
for key in $keys; do
  page="$src/docs/man/uidsync.toml.5.scd"
  # A key (*key*) or a table ([key] or [accounts.NAME.key]).
  grep -qF -- "*$key*" "$page" || grep -qF -- "[$key" "$page" || grep -qF -- ".$key]" "$page" ||
    { echo "uidsync.toml.5.scd lacks key: $key"; fail=1; }
done

# 4. The check itself can fail: a page without --dry-run must be caught.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
grep -vF -- '--dry-run' "$src/docs/man/uidsync.1.scd" >"$tmp"
missing=$(check_cli "$tmp")
if [[ "$missing" != *--dry-run* ]]; then
  echo "self-check: a man page without --dry-run was not caught"; fail=1
fi

[ $fail = 0 ] && echo "man pages: rendered cleanly, $(wc -w <<<"$keys") config keys and every option documented"
exit $fail
