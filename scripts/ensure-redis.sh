#!/usr/bin/env bash
# Makes sure a Redis answers on $REDIS_URL's host:port (default 127.0.0.1:6379): if none does,
# installs Debian's redis-server when missing (apt-get) and starts it without persistence.
set -euo pipefail
url="${REDIS_URL:-redis://127.0.0.1:6379}"
hostport="${url#redis://}"; hostport="${hostport##*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=6379

up() { (exec 3<>"/dev/tcp/$host/$port" && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3 | grep -q PONG) 2>/dev/null; }

up && exit 0
if [ -n "${REDIS_URL:-}" ] && [ "$host" != "127.0.0.1" ] && [ "$host" != "localhost" ]; then
  echo "ensure-redis: $url does not answer" >&2; exit 1
fi
echo "ensure-redis: no Redis on $host:$port; starting one" >&2
if ! command -v redis-server >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq redis-server >/dev/null
fi
mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --dir /tmp --logfile /tmp/riskstream-redis.log
for _ in $(seq 1 50); do up && exit 0; sleep 0.2; done
echo "ensure-redis: Redis did not start (see /tmp/riskstream-redis.log)" >&2
exit 1
