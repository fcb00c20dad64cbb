#!/usr/bin/env bash
# `cmake --install` puts every file in its standard place, and `cpack -G DEB` builds
# a package that dpkg accepts, with its library dependencies.
# Usage: install_tree.sh BUILD_DIR
set -euo pipefail
trap 'echo "install_tree.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
build=$(cd "$1" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

DESTDIR=$dir/root cmake --install "$build" --prefix /usr >"$dir/install.log"
expected="usr/bin/uidsync
usr/lib/systemd/user/uidsync@.service
usr/lib/systemd/user/uidsync@.timer
usr/share/bash-completion/completions/uidsync
usr/share/doc/uidsync/examples/config.sample.toml
usr/share/doc/uidsync/examples/neomuttrc
usr/share/doc/uidsync/examples/post-new
usr/share/man/man1/uidsync.1
usr/share/man/man5/uidsync.toml.5
usr/share/zsh/vendor-completions/_uidsync"
got=$(cd "$dir/root" && find . -type f | sed 's#^\./##' | sort)
if [ "$got" != "$expected" ]; then
  echo "installed files differ:"; diff <(echo "$expected") <(echo "$got") || true; exit 1
fi
grep -qxF "ExecStart=/usr/bin/uidsync sync %i" "$dir/root/usr/lib/systemd/user/uidsync@.service" || {
  echo "the installed service does not run /usr/bin/uidsync"; exit 1; }
"$dir/root/usr/bin/uidsync" --version >/dev/null

# The .deb.
(cd "$dir" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$dir/pkg" >"$dir/cpack.log" 2>&1) || {
  cat "$dir/cpack.log"; exit 1; }
deb=$(ls "$dir"/pkg/*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libcurl4 libsqlite3-0 libssl3 libspdlog1.10 libfmt9; do
  grep -q "$lib" <<<"$depends" || { echo "the .deb does not depend on $lib: $depends"; exit 1; }
done
listed=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's#^\./##' | grep -v '/$' | sort)
if [ "$listed" != "$expected" ]; then
  echo "the .deb holds other files:"; diff <(echo "$expected") <(echo "$listed") || true; exit 1
fi
# dpkg itself checks the package and its dependencies against this system.
if [ "$(id -u)" = 0 ]; then
  dpkg --dry-run -i "$deb" >"$dir/dpkg.log" 2>&1 || { cat "$dir/dpkg.log"; exit 1; }
fi
echo "install: $(wc -l <<<"$expected") files in place; $(basename "$deb"): Depends: $depends"
