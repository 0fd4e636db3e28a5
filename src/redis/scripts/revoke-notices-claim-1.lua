--[[
  Claims a partition's revocation notices that no teller has held for a while: a revoker that
  crashed after deleting a session and before telling of it (audit entry, session-revoked SETs)
  left its notice behind (src/redis/scripts/session-revoke-6.lua). A notice claimed less than
  `stale` ms ago is being told (by its revoker, or another drain): left alone.

  Input:
    KEYS[1] the partition's revocation notices (hash: revocation id → JSON with `claimed_at`)

    ARGV[1] now (epoch ms)
    ARGV[2] stale (ms)
    ARGV[3] most notices claimed

  Output:
    the claimed notices, flat: id, JSON (its `claimed_at` set to now), …
]]
local now, stale, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  if #out >= 2 * max then break end
  local ok, n = pcall(cjson.decode, all[i + 1])
  if not ok or type(n) ~= 'table' then
    -- Unreadable: nothing could ever tell it; dropped.
    redis.call('HDEL', KEYS[1], all[i])
  elseif (tonumber(n.claimed_at) or 0) <= now - stale then
    n.claimed_at = now
    local json = cjson.encode(n)
    redis.call('HSET', KEYS[1], all[i], json)
    out[#out + 1] = all[i]
    out[#out + 1] = json
  end
end
return out
