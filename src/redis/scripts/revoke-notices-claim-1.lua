--[[
  Claims a partition's revocation notices that no teller has held for a while: a revoker that
  crashed after deleting a session and before telling of it (audit entry, session-revoked SETs)
  left its notice behind (src/redis/scripts/session-revoke-6.lua). A notice claimed less than
  `stale` ms ago (by Redis's clock, as the revoke script writes it) is being told (by its revoker,
  or another drain): left alone. A notice's audit entry, once written, is marked by the field
  `<id>:audited` (a teller after a crash does not write it again).

  Input:
    KEYS[1] the partition's revocation notices (hash: revocation id → JSON with `claimed_at`; `<id>:audited` → 1)

    ARGV[1] stale (ms)
    ARGV[2] most notices claimed

  Output:
    the claimed notices, flat: id, JSON (its `claimed_at` set to now), '1' when audited else '0', …
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stale, max = tonumber(ARGV[1]), tonumber(ARGV[2])
local all = redis.call('HGETALL', KEYS[1])
local fields = {}
for i = 1, #all, 2 do fields[all[i]] = all[i + 1] end
local out = {}
for i = 1, #all, 2 do
  if #out >= 3 * max then break end
  local id = all[i]
  if string.sub(id, -8) == ':audited' then
    -- A mark whose notice is gone (told meanwhile): dropped.
    if not fields[string.sub(id, 1, -9)] then redis.call('HDEL', KEYS[1], id) end
  else
    local ok, n = pcall(cjson.decode, all[i + 1])
    if not ok or type(n) ~= 'table' then
      -- Unreadable: nothing could ever tell it; dropped.
      redis.call('HDEL', KEYS[1], id, id .. ':audited')
    elseif (tonumber(n.claimed_at) or 0) <= now - stale then
      n.claimed_at = now
      local json = cjson.encode(n)
      redis.call('HSET', KEYS[1], id, json)
      out[#out + 1] = id
      out[#out + 1] = json
      out[#out + 1] = fields[id .. ':audited'] and '1' or '0'
    end
  end
end
return out
