#!/usr/bin/env bash
# Makes Debian's log shippers available to the shipper tests (test/e2e/shippers-real.test.ts):
# rsyslog + rsyslog-hiredis and syslog-ng-core + syslog-ng-mod-redis, each unpacked with
# `apt-get download` + `dpkg -x` into .cache/shippers/<name>/ together with the libraries this
# machine lacks. Nothing is installed system-wide: the two conflict as Debian packages (both
# provide system-log-daemon), and installing one would start a system syslog daemon. The tests
# run the binaries from there with their own config, pid file and work dir.
# Idempotent: apt-get runs only when a shipper is missing. Exits non-zero if one cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="$PWD/.cache/shippers"
updated=""

# unpack <name> <glob of a file that proves it is there> <package>...
unpack() {
  local name=$1 marker=$2
  shift 2
  if compgen -G "$dest/$name/$marker" >/dev/null; then
    echo "ensure-shippers: $name ready in .cache/shippers/$name"
    return 0
  fi
  command -v apt-get >/dev/null && command -v dpkg >/dev/null || {
    echo "ensure-shippers: no apt-get/dpkg here; cannot fetch $name" >&2
    return 1
  }
  local tmp pkgs
  tmp=$(mktemp -d)
  # The packages themselves, and whatever libraries they need that are not installed here.
  # (Before an `apt-get update` on a fresh machine the simulation fails: then just the packages.)
  pkgs() { { printf '%s\n' "$@"; apt-get install -s --no-install-recommends "$@" 2>/dev/null | awk '/^Inst /{print $2}' || true; } | sort -u; }
  pkgs=$(pkgs "$@")
  if ! (cd "$tmp" && apt-get download -q $pkgs >/dev/null 2>&1); then
    if [ -z "$updated" ] && [ "$(id -u)" = 0 ]; then
      echo "ensure-shippers: apt-get update" >&2
      apt-get update -qq >/dev/null
      updated=1
      pkgs=$(pkgs "$@")
    fi
    (cd "$tmp" && apt-get download -q $pkgs >/dev/null) || {
      echo "ensure-shippers: could not download $pkgs" >&2
      rm -rf "$tmp"
      return 1
    }
  fi
  rm -rf "$dest/$name.partial"
  mkdir -p "$dest/$name.partial"
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$dest/$name.partial"; done
  rm -rf "$tmp" "$dest/$name"
  mv "$dest/$name.partial" "$dest/$name"
  echo "ensure-shippers: $name unpacked into .cache/shippers/$name ($(echo $pkgs | tr '\n' ' '))"
}

unpack rsyslog 'usr/lib/*/rsyslog/omhiredis.so' rsyslog rsyslog-hiredis
unpack syslog-ng 'usr/lib/syslog-ng/*/libredis.so' syslog-ng-core syslog-ng-mod-redis
