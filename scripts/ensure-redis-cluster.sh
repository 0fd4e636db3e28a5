#!/usr/bin/env bash
# Makes sure a local Redis Cluster answers for the tests, CI and the bench: six redis-server
# processes on 127.0.0.1, ports $RISKSTREAM_CLUSTER_PORTS (base, default 7000) to base+5, three
# masters each with one replica, every slot covered, state ok on every node, each replica's link up.
#
#   bash scripts/ensure-redis-cluster.sh          # healthy already: exit 0 at once; else repair or create
#   bash scripts/ensure-redis-cluster.sh --stop   # shut the six down and wipe their dir ($root below)
#
# Repair (e.g. a failover test left a master down): restart the missing nodes from their
# nodes.conf (they rejoin, a demoted master as a replica) and wait; if the cluster is still not
# healthy, shut all six down, wipe their dirs and create it again. Installs Debian's
# redis-server (apt-get) when missing. Each node: $root/<port>/ (/tmp/riskstream-cluster, or
# /tmp/riskstream-cluster-<base> for another base) (data dir,
# nodes.conf, redis.log, redis.pid); no persistence; a replica's full sync starts at once
# (repl-diskless-sync-delay 0, not 5 s: a (re)joining replica is in sync within a second).
set -euo pipefail
base="${RISKSTREAM_CLUSTER_PORTS:-7000}"
# The default cluster keeps /tmp/riskstream-cluster; another base gets its own dir.
if [ "$base" = 7000 ]; then root=/tmp/riskstream-cluster; else root="/tmp/riskstream-cluster-$base"; fi
ports=()
for i in 0 1 2 3 4 5; do ports+=("$((base + i))"); done

log() { echo "ensure-redis-cluster: $*" >&2; }
cli() { local p="$1"; shift; timeout 2 redis-cli -h 127.0.0.1 -p "$p" "$@" 2>/dev/null; }
answers() { [ "$(cli "$1" PING)" = "PONG" ]; }

# A node's view of the topology (address, flags, master, slots per node; `myself` left out).
view() { awk '$2 ~ /:[0-9]+@[0-9]+/ { sub(/myself,/, "", $3); $1 = ""; $5 = ""; $6 = ""; $7 = ""; print }' | sort; }

# Healthy: all six answer, each says cluster_state:ok with every slot ok and six known nodes,
# all see the same topology: three masters with slots and three replicas (none failed), and
# every replica's link is up.
healthy() {
  local p info nodes="" v
  for p in "${ports[@]}"; do
    info="$(printf 'CLUSTER INFO\nINFO replication\nCLUSTER NODES\n' | cli "$p" | tr -d '\r')" || return 1
    grep -q '^cluster_state:ok$' <<<"$info" || return 1
    grep -q '^cluster_slots_ok:16384$' <<<"$info" || return 1
    grep -q '^cluster_known_nodes:6$' <<<"$info" || return 1
    if grep -q '^role:slave$' <<<"$info"; then grep -q '^master_link_status:up$' <<<"$info" || return 1; fi
    v="$(view <<<"$info")"
    if [ -z "$nodes" ]; then nodes="$v"; elif [ "$v" != "$nodes" ]; then return 1; fi
  done
  [ "$(awk '$2 !~ /fail/ && $2 ~ /master/ && $4 == "connected" && NF >= 5' <<<"$nodes" | wc -l)" -eq 3 ] || return 1
  [ "$(awk '$2 !~ /fail/ && $2 ~ /slave/ && $4 == "connected"' <<<"$nodes" | wc -l)" -eq 3 ] || return 1
}

wait_healthy() { # tenths of a second
  local n="$1"
  for _ in $(seq 1 "$n"); do healthy && return 0; sleep 0.1; done
  return 1
}

start_node() {
  local p="$1" dir="$root/$1"
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$p" --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid" \
    --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" --cluster-node-timeout 2000 \
    --save "" --appendonly no --repl-diskless-sync-delay 0 --daemonize yes
}

# Kills the redis-server answering on each of our ports (by the process_id it reports; nothing
# to save) and wipes the dirs.
stop_all() {
  local p pid pids=()
  for p in "${ports[@]}"; do
    pid="$(cli "$p" INFO server | tr -d '\r' | sed -n 's/^process_id://p')" || pid=""
    [ -n "$pid" ] && pids+=("$pid")
  done
  if [ "${#pids[@]}" -gt 0 ]; then
    kill -9 "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do
      alive=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ "$alive" = 1 ] || break
      sleep 0.05
    done
  fi
  rm -rf "$root"
}

if [ "${1:-}" = "--stop" ]; then
  command -v redis-cli >/dev/null 2>&1 && stop_all || rm -rf "$root"
  exit 0
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  log "installing redis-server (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq redis-server redis-tools >/dev/null
fi

healthy && exit 0

running=()
missing=()
for p in "${ports[@]}"; do
  if answers "$p"; then running+=("$p"); else missing+=("$p"); fi
done

if [ "${#running[@]}" -gt 0 ]; then
  # Worth repairing only if the running nodes were a created cluster (all slots assigned) and
  # every missing node can rejoin from its nodes.conf.
  repairable=1
  cli "${running[0]}" CLUSTER INFO | grep -q '^cluster_slots_assigned:16384' || repairable=0
  for p in "${missing[@]}"; do [ -s "$root/$p/nodes.conf" ] || repairable=0; done
  if [ "$repairable" = 1 ]; then
    log "cluster not healthy; restarting ${#missing[@]} missing node(s): ${missing[*]:-none}"
    for p in "${missing[@]}"; do start_node "$p"; done
    wait_healthy 80 && exit 0
    log "repair failed; recreating the cluster"
  else
    log "nodes run but cannot be repaired into the cluster; recreating it"
  fi
fi
stop_all

log "creating the cluster on 127.0.0.1:${ports[0]}-${ports[5]} (dirs and logs under $root)"
for p in "${ports[@]}"; do start_node "$p"; done
for p in "${ports[@]}"; do
  for _ in $(seq 1 50); do answers "$p" && break; sleep 0.1; done
  answers "$p" || { log "redis-server on $p did not start (see $root/$p/redis.log)"; exit 1; }
done
addrs=()
for p in "${ports[@]}"; do addrs+=("127.0.0.1:$p"); done
redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$root/create.log" 2>&1 ||
  { log "redis-cli --cluster create failed:"; tail -20 "$root/create.log" >&2; exit 1; }
wait_healthy 120 && exit 0
log "the cluster did not become healthy (see $root/*/redis.log)"
exit 1
