--[[
  Commits one user's effects atomically, with an optimistic revision check.

  Input:
    KEYS[1] user state hash (rev, data, acked)
    KEYS[2] user risk-events stream
    KEYS[3] user outbox stream
    KEYS[4] user applied-markers zset

    ARGV[1] expected rev
    ARGV[2] state JSON
    ARGV[3] one JSON array of the rest — events MAXLEN, trim-below score, acked-below JSON
            ('' = unchanged), applied markers [score, member, …], hits, changes — every value a
            string, so no number passes through Lua's float formatting (one packed argument
            rather than a dozen: the client's cost grows with every argument of every command)

  Output:
    the new rev, or -1 when the stored rev is not the expected one (nothing written)
]]
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev ~= tonumber(ARGV[1]) then return -1 end
local m = cjson.decode(ARGV[3])
redis.call('HSET', KEYS[1], 'rev', rev + 1, 'data', ARGV[2])
if m[3] ~= '' then redis.call('HSET', KEYS[1], 'acked', m[3]) end
local applied = m[4]
for i = 1, #applied, 2 do redis.call('ZADD', KEYS[4], applied[i], applied[i + 1]) end
if #applied > 0 then redis.call('PEXPIRE', KEYS[4], 604800000) end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. m[2])
for j, kind in ipairs({'hit', 'change'}) do
  for _, data in ipairs(m[4 + j]) do
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', m[1], '*', 'kind', kind, 'data', data)
    redis.call('XADD', KEYS[3], '*', 'kind', kind, 'data', data)
  end
end
return rev + 1
