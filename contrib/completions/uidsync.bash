# bash completion for uidsync(1).
# Install as /usr/share/bash-completion/completions/uidsync (done by `cmake --install`).

# The account names of the config file in use (-c FILE, else the XDG default):
# every [accounts.NAME] table header, without its sub-tables.
_uidsync_accounts() {
  local config="${XDG_CONFIG_HOME:-$HOME/.config}/uidsync/config.toml" i
  for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
    case "${COMP_WORDS[i]}" in
      -c | --config) config="${COMP_WORDS[i + 1]}" ;;
    esac
  done
  config="${config/#\~/$HOME}"
  [ -r "$config" ] || return 0
  sed -n -E 's/^[[:space:]]*\[[[:space:]]*accounts\.("([^"]+)"|([A-Za-z0-9_-]+))[[:space:]]*\][[:space:]]*(#.*)?$/\2\3/p' "$config"
}

_uidsync() {
  local cur prev words cword
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD - 1]}"
  local global_opts="-h --help --version -c --config -v --verbose -q --quiet --json --color"
  local commands="sync folders status quarantine doctor check-config"

  case "$prev" in
    -a | --account)
      COMPREPLY=($(compgen -W "$(_uidsync_accounts)" -- "$cur"))
      return
      ;;
    -c | --config | --trace)
      COMPREPLY=($(compgen -f -- "$cur"))
      return
      ;;
    --color)
      COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
      return
      ;;
    -j | --jobs)
      COMPREPLY=($(compgen -W "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16" -- "$cur"))
      return
      ;;
    -f | --folder | --sample)
      return
      ;;
  esac

  # The command (and the quarantine action) typed so far.
  local command="" action="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      -c | --config) ((i++)) ;;
      -*) ;;
      *)
        if [ -z "$command" ]; then
          command="${COMP_WORDS[i]}"
        elif [ "$command" = quarantine ] && [ -z "$action" ]; then
          action="${COMP_WORDS[i]}"
        fi
        ;;
    esac
  done

  local opts="" words_list=""
  case "$command" in
    "")
      opts="$global_opts"
      words_list="$commands"
      ;;
    sync)
      opts="-h --help -n --dry-run -f --folder -j --jobs --allow-mass-delete --trace"
      words_list="$(_uidsync_accounts)"
      ;;
    folders)
      opts="-h --help --mutt --trace"
      words_list="$(_uidsync_accounts)"
      ;;
    status)
      opts="-h --help"
      words_list="$(_uidsync_accounts)"
      ;;
    quarantine)
      if [ -z "$action" ]; then
        opts="-h --help"
        words_list="list show retry forget expunge"
      else
        opts="-h --help -a --account"
        case "$action" in
          retry | forget) opts="$opts --all" ;;
          expunge) opts="$opts -y --yes" ;;
        esac
        words_list="$(_uidsync_accounts)"
      fi
      ;;
    doctor)
      opts="-h --help --sample"
      words_list="$(_uidsync_accounts)"
      ;;
    check-config)
      opts="-h --help"
      ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words_list" -- "$cur"))
  fi
}
complete -F _uidsync uidsync
