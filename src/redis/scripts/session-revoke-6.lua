--[[
  Revokes one stored copy of a session at once: deletes it, takes it out of the partition's
  indexes and the user's, leaves its tombstone, and records the revocation as a notice still to
  tell (audit entry, session-revoked SETs), in one step. A commit storing the same session id in
  between would otherwise find neither the session nor a tombstone, and store it again; a crash
  before the telling would otherwise leave a session deleted that nobody was told of (the notice
  is told by a later drain, src/sessions/revoke.ts).

  Input:
    KEYS[1] the session (string)
    KEYS[2] the partition's sessions by login (sorted set)
    KEYS[3] the partition's sessions by expiry (sorted set)
    KEYS[4] the user's sessions (sorted set)
    KEYS[5] the session's tombstone (string)
    KEYS[6] the partition's revocation notices (hash)

    ARGV[1] the stored session id (index member)
    ARGV[2] the tombstone (JSON; it holds a per-call id, so only this call's resend matches it)
    ARGV[3] its lifetime (ms)
    ARGV[4] the notice's field (the revocation id; '' = no notice: a caller that tells nobody)
    ARGV[5] the notice (JSON; its `claimed_at` is set here, by Redis's clock)

  Output:
    the revoked session's JSON, or false when it was gone already (revoked by another caller:
    then nothing is written), or 1 when this very call revoked it already: the client's resend of
    it (ioredis resends a command whose reply a dropped connection lost; the first send had
    landed) finds the tombstone it wrote — its JSON holds the revocation's time, actor and reason
]]
local raw = redis.call('GETDEL', KEYS[1])
if not raw and redis.call('GET', KEYS[5]) == ARGV[2] then return 1 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if raw then
  redis.call('SET', KEYS[5], ARGV[2], 'PX', ARGV[3])
  if ARGV[4] ~= '' then
    -- Claimed now, by Redis's clock (the one a drain compares with: never a client's).
    local notice = cjson.decode(ARGV[5])
    local t = redis.call('TIME')
    notice.claimed_at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    redis.call('HSET', KEYS[6], ARGV[4], cjson.encode(notice))
  end
end
return raw
