--[[
  Throttle gate of one receiver (server clock). A 429 pause (`pause_until`) blocks everyone
  (nothing reserved); otherwise GCRA with a one-second burst reserves the next slot for this
  caller (`tat` advances) so waiting jobs are spaced out, not herded.

  Input:
    KEYS[1] receiver throttle hash (pause_until, tat)

    ARGV[1] rate (SETs/s, 0 = unlimited)

  Output:
    {wait ms, reserved (1/0)}
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause = tonumber(redis.call('HGET', KEYS[1], 'pause_until') or '0')
if pause > now then return {pause - now, 0} end
local rate = tonumber(ARGV[1])
if rate <= 0 then return {0, 0} end
local interval = 1000 / rate
local tat = math.max(tonumber(redis.call('HGET', KEYS[1], 'tat') or '0'), now)
local wait = math.ceil(tat - now - (1000 - interval))
redis.call('HSET', KEYS[1], 'tat', tostring(tat + interval))
redis.call('PEXPIRE', KEYS[1], math.ceil(tat + interval - now) + 60000)
if wait > 0 then return {wait, 1} end
return {0, 1}
