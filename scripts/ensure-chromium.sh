#!/usr/bin/env bash
# Makes sure Debian's Chromium is at $CHROMIUM_PATH (default /usr/bin/chromium) for the
# browser tests (test/console): installs the `chromium` package with apt-get when missing.
# Exits 0 when Chromium is there afterwards, 1 when it could not be installed (the browser
# tests then skip with a message saying so).
set -euo pipefail
bin="${CHROMIUM_PATH:-/usr/bin/chromium}"
ok() { [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; }

ok && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $bin missing and no apt-get here; install Chromium by hand" >&2; exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
    echo "ensure-chromium: $bin missing and not root; run: apt-get install chromium" >&2; exit 1
  fi
fi
echo "ensure-chromium: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
ok && { echo "ensure-chromium: $("$bin" --version)" >&2; exit 0; }
echo "ensure-chromium: $bin still missing after apt-get install chromium" >&2
exit 1
