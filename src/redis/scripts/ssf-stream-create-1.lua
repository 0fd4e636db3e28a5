--[[
  Stores a new SSF stream unless its owner already has `max` streams (checked atomically).

  Input:
    KEYS[1] streams hash (stream id -> JSON)

    ARGV[1] owner ('' = none)
    ARGV[2] max streams per owner
    ARGV[3] stream id
    ARGV[4] stream JSON

  Output:
    1 stored (or stored already by this very call: the client's resend of it — ioredis resends a
    command whose reply a dropped connection lost — finds the stream's JSON it wrote, which counts
    toward the limit now), 0 refused (the owner's limit is reached)
]]
if redis.call('HGET', KEYS[1], ARGV[3]) == ARGV[4] then return 1 end
local n = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
  local ok, s = pcall(cjson.decode, v)
  if ok and type(s) == 'table' and s.owner == ARGV[1] then n = n + 1 end
end
if n >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
return 1
