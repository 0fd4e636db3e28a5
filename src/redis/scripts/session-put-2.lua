--[[
  Stores one session's identity unless revoked, older than the stored one, or bound to another
  user (a session id is never rebound). One session's keys only: atomic, Cluster-safe.

  Input:
    KEYS[1] session key
    KEYS[2] session tombstone (revoked)

    ARGV[1] identity JSON
    ARGV[2] PX (ms)
    ARGV[3] login_at (ms)
    ARGV[4] user

  Output:
    1 stored, 0 ignored (a newer login of this session is stored), -1 revoked, or
    {-2, owner, login_at, expires_at} refused: the id is bound to another user
]]
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
