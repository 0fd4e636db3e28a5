--[[
  Pauses every delivery to a receiver (after a 429): raises pause_until to now + ms.

  Input:
    KEYS[1] receiver throttle hash (pause_until; the rate limit's window: delivery-gate-1.lua)

    ARGV[1] pause (ms)

  Output:
    pause_until (epoch ms, server clock)
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local old = tonumber(redis.call('HGET', KEYS[1], 'pause_until') or '0')
if untilMs > old then redis.call('HSET', KEYS[1], 'pause_until', tostring(untilMs)) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[1]) + 60000 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) + 60000) end
return untilMs
