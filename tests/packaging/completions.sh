#!/usr/bin/env bash
# The bash and zsh completions load in a shell and complete commands, options and
# the account names of the config file.
# Usage: completions.sh SOURCE_DIR
set -euo pipefail
src=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/config.toml" <<'TOML'
[accounts.work]
host = "imap.example.org"
[accounts.work.guard]
max_delete_count = 5
[ accounts."home.box" ]   # a quoted name
host = "imap.example.net"
TOML

# bash: complete_words "uidsync sync " -> the candidates, one per line.
complete_words() {
  HOME=$dir XDG_CONFIG_HOME=$dir/none bash -c '
    source "$1"
    read -ra COMP_WORDS <<<"$2"
    [[ "$2" == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    _uidsync
    printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$src/contrib/completions/uidsync.bash" "$1"
}
fail=0
check() { # check "words" "expected candidates (space separated, sorted)"
  local got
  got=$(complete_words "$1" | tr '\n' ' ' | sed 's/ $//')
  if [ "$got" != "$2" ]; then echo "bash: '$1' completes to '$got', expected '$2'"; fail=1; fi
}
check "uidsync s" "status sync"
check "uidsync -c $dir/config.toml sync " "home.box work"
check "uidsync -c $dir/config.toml sync --dr" "--dry-run"
check "uidsync -c $dir/config.toml quarantine " "expunge forget list retry show"
check "uidsync -c $dir/config.toml quarantine expunge --y" "--yes"
check "uidsync -c $dir/config.toml quarantine retry --a" "--account --all"
check "uidsync -c $dir/config.toml quarantine list -a " "home.box work"
check "uidsync -c $dir/config.toml doctor w" "work"
check "uidsync sync -j 1" "1 10 11 12 13 14 15 16"
check "uidsync --color " "always auto never"

# zsh: the function parses and loads through compinit, and lists the accounts.
if ! command -v zsh >/dev/null; then
  echo "zsh is not installed (contrib/install-deps installs it)"; exit 1
fi
got=$(cd "$dir" && ZDOTDIR=$dir zsh -f -c '
  fpath=("$1" $fpath)
  autoload -Uz compinit && compinit -u -d "$2/zcompdump"
  autoload -Uz _uidsync && functions _uidsync >/dev/null || exit 3
  # _uidsync_accounts is defined when _uidsync is first run; run it in a sandbox.
  _describe() { shift 3; print -l -- ${(P)1}; }
  words=(uidsync -c "$2/config.toml" sync)
  _uidsync_accounts() { :; }
  source "$1/_uidsync" 2>/dev/null
  _uidsync_accounts | sort' _ "$src/contrib/completions" "$dir" 2>&1) || { echo "zsh: $got"; fail=1; }
if [ "$(tr '\n' ' ' <<<"$got")" != "home.box work " ]; then
  echo "zsh: accounts listed as '$got', expected 'home.box work'"; fail=1
fi
[ $fail = 0 ] && echo "completions: bash and zsh load and complete"
exit $fail
