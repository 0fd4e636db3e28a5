--[[
  Indexes a user's sessions and devices. One user's keys only: atomic, Cluster-safe.
  Adds sessions, drops expired members, trims to `max` (soonest-expiring first); the zset
  expires with its last session. Keeps each device's latest entry; caps devices to `max` (least
  recently seen out); the registry expires `device ttl` after its last write.

  Input:
    KEYS[1] user sessions zset (score: expires_at)
    KEYS[2] user devices hash

    ARGV[1] one JSON array — now, max, device ttl, [expires_at, session id, …],
            [device id, last_seen, json, …] — every value a string (no number passes through
            Lua's float formatting; one packed argument costs the client far less than dozens)
    ARGV[2] the longest TTL riskstream sets (ms; MAX_TTL_MS in src/redis/ttl.ts)

  Output:
    the session ids trimmed past `max`
]]
local a = cjson.decode(ARGV[1])
local maxTtl = tonumber(ARGV[2])
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
if last[2] then redis.call('PEXPIRE', KEYS[1], math.min(maxTtl, math.max(1, math.ceil(tonumber(last[2]) - now)))) end
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
