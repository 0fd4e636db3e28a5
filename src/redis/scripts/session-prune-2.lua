--[[
  Removes session index members the listing found expired or gone — only those still so now, in
  the same step: a commit that stored the session id again between the listing's read and this
  clean-up (a new login reusing the id, an index raised by ZADD GT) keeps its members.

  Input:
    KEYS[1] an index of the session ids (a partition's by-login index, or a user's sessions)
    KEYS[2] the partition's by-expiry index (a user's sessions again for a user's index)

    ARGV[1] now (ms)
    ARGV[2] 'expired': a member goes when its by-expiry score is absent or at or before now;
            'gone': when its stored identity is absent, unreadable, expired at now or (ARGV[4]
            given) another user's
    ARGV[3] the sessions' key prefix (keys.session(p, ''): the id follows, `{`, `}` and `%` as %xx)
    ARGV[4] the index's user ('' = any)
    ARGV[5…] the session ids

  Output: the number of ids removed

  'gone' reads session keys it derives (prefix and id), not declared: on a Redis Cluster slot being
  migrated, one of them may be on the other node — read as absent on the importing side (where the
  script runs once the indexes moved), or refused "non local key" on the migrating side after
  removals made. So each is touched first beside KEYS[1] (a two-key EXISTS, which Redis refuses in a
  migrating or importing slot when the session is not here): the call then removes nothing, and the
  next listing prunes again once the slot is served (a session absent everywhere waits that long).
]]
local now, mode, prefix, user = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]

local function sessionKey(id)
  return prefix .. id:gsub('[{}%%]', function(c) return string.format('%%%x', string.byte(c)) end)
end
if mode == 'gone' then
  for i = 5, #ARGV do redis.call('EXISTS', sessionKey(ARGV[i]), KEYS[1]) end
end

local function live(raw)
  if not raw then return false end
  local ok, d = pcall(cjson.decode, raw)
  if not ok or type(d) ~= 'table' or type(d.expires_at) ~= 'number' then return false end
  if d.expires_at <= now then return false end
  return user == '' or d.user == user
end

local n = 0
for i = 5, #ARGV do
  local id = ARGV[i]
  local gone
  if mode == 'expired' then
    local score = redis.call('ZSCORE', KEYS[2], id)
    gone = not score or tonumber(score) <= now
  else
    -- The key as keys.session() spells it.
    gone = not live(redis.call('GET', sessionKey(id)))
  end
  if gone then
    redis.call('ZREM', KEYS[1], id)
    if KEYS[2] ~= KEYS[1] then redis.call('ZREM', KEYS[2], id) end
    n = n + 1
  end
end
return n
