--[[
  Takes one call from an owner's allowance of SSF stream management calls: a token bucket
  (GCRA, server clock, so every worker on the prefix shares it) of `burst` calls refilled at
  `rate` calls/s. A refused call takes nothing; the first refusal in `warn` ms says so (one log
  line per owner per interval).

  Input:
    KEYS[1] the owner's bucket (hash: tat, warned)

    ARGV[1] rate (calls/s, > 0)
    ARGV[2] burst (calls, >= 1)
    ARGV[3] warn interval (ms)

  Output:
    {0, 0, 0} taken; {1, ms until a call is taken, warn (1/0)} refused
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = 1000 / tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local warnMs = tonumber(ARGV[3])
local tat = math.max(tonumber(redis.call('HGET', KEYS[1], 'tat') or '0'), now)
local allowAt = tat + interval - burst * interval
if allowAt > now then
  local warn = 0
  if now - tonumber(redis.call('HGET', KEYS[1], 'warned') or '0') >= warnMs then
    warn = 1
    redis.call('HSET', KEYS[1], 'warned', string.format('%.0f', now))
  end
  redis.call('PEXPIRE', KEYS[1], math.ceil(tat - now + warnMs))
  return {1, math.ceil(allowAt - now), warn}
end
redis.call('HSET', KEYS[1], 'tat', string.format('%.3f', tat + interval))
redis.call('PEXPIRE', KEYS[1], math.ceil(tat + interval - now + warnMs))
return {0, 0, 0}
