--[[
  Appends to a capped list (the SETs held while an SSF stream is paused): beyond `max` the
  oldest entries are dropped.

  Input:
    KEYS[1] list

    ARGV[1] max
    ARGV[2…] items

  Output:
    how many of the oldest were dropped
]]
local n = redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
local max = tonumber(ARGV[1])
if n <= max then return 0 end
redis.call('LTRIM', KEYS[1], n - max, -1)
return n - max
