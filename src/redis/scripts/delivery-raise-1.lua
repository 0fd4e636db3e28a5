--[[
  Raises a version counter: HSET field = max(old, value).

  Input:
    KEYS[1] hash (receiver -> version)

    ARGV[1] field
    ARGV[2] value

  Output:
    the new value
]]
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local v = tonumber(ARGV[2])
if v > old then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return v end
return old
