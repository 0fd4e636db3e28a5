import type { ChainableCommander, Redis } from 'ioredis';
import { LUA_MAX_TTL_MS } from '../redis/ttl.js';

/**
 * Lua scripts of the session store. Each touches keys of one hash tag only (one session, or one
 * user), so each is atomic and Redis-Cluster-safe on its own.
 */

/**
 * KEYS: session, tombstone. ARGV: json, px, login_at, user.
 * Returns 1 stored, 0 ignored (a newer login of this session is stored), -1 revoked, or
 * {-2, owner, login_at, expires_at} refused: the id is bound to another user (never rebound).
 */
const PUT_SESSION = `
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, d = pcall(cjson.decode, cur)
  if ok and type(d) == 'table' and type(d.user) == 'string' and d.user ~= ARGV[4] then
    return { -2, d.user, tostring(d.login_at), tostring(d.expires_at) }
  end
  if ok and type(d) == 'table' and tonumber(d.login_at) and tonumber(d.login_at) > tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/**
 * KEYS: userSessions (zset by expiry), userDevices (hash). ARGV[1]: one JSON array — now, max,
 * device ttl, [expires_at, session id, …], [device id, last_seen, json, …] — every value a string
 * (no number passes through Lua's float formatting; one packed argument costs the client far
 * less than dozens).
 * Adds sessions, drops expired members, trims to `max` (soonest-expiring first) and returns the
 * trimmed ids; the zset expires with its last session. Keeps each device's latest entry; caps
 * devices to `max` (least recently seen out); the registry expires `device ttl` after its last write.
 */
const PUT_USER = `
local a = cjson.decode(ARGV[1])
local now, max, devTtl = tonumber(a[1]), tonumber(a[2]), tonumber(a[3])
local sessions, devices = a[4], a[5]
for i = 1, #sessions, 2 do
  redis.call('ZADD', KEYS[1], 'GT', sessions[i], sessions[i + 1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', a[1])
local dropped = {}
local count = redis.call('ZCARD', KEYS[1])
if count > max then
  dropped = redis.call('ZRANGE', KEYS[1], 0, count - max - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, count - max - 1)
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIRE', KEYS[1], math.min(${LUA_MAX_TTL_MS}, math.max(1, math.ceil(tonumber(last[2]) - now)))) end
local function seen(json)
  local ok, d = pcall(cjson.decode, json)
  if ok and type(d) == 'table' then return tonumber(d.last_seen) or 0 end
  return 0
end
local touched = false
for i = 1, #devices - 2, 3 do
  local cur = redis.call('HGET', KEYS[2], devices[i])
  if not cur or seen(cur) <= tonumber(devices[i + 1]) then
    redis.call('HSET', KEYS[2], devices[i], devices[i + 2])
    touched = true
  end
end
if touched then redis.call('PEXPIRE', KEYS[2], devTtl) end
if touched and redis.call('HLEN', KEYS[2]) > max then
  local all = redis.call('HGETALL', KEYS[2])
  local list = {}
  for j = 1, #all, 2 do list[#list + 1] = { all[j], seen(all[j + 1]) } end
  table.sort(list, function(a, b) return a[2] < b[2] end)
  for j = 1, #list - max do redis.call('HDEL', KEYS[2], list[j][1]) end
end
return dropped
`;

interface SessionScripts {
  rsSessionPut(session: string, tombstone: string, json: string, px: number, loginAt: number, user: string): unknown;
  rsSessionUser(userSessions: string, userDevices: string, packed: string): unknown;
}

/** Registers the scripts on a connection (idempotent). */
export function defineSessionScripts(redis: Redis): void {
  const r = redis as Redis & Partial<SessionScripts>;
  if (typeof r.rsSessionPut === 'function') return;
  redis.defineCommand('rsSessionPut', { numberOfKeys: 2, lua: PUT_SESSION });
  redis.defineCommand('rsSessionUser', { numberOfKeys: 2, lua: PUT_USER });
}

/** The scripts as pipeline commands (call {@link defineSessionScripts} on the connection first). */
export function scripts(p: ChainableCommander): SessionScripts {
  return p as unknown as SessionScripts;
}
