--[[
  Puts back a shared counter that Redis lost (restarted empty) under a reader that knows a higher
  value (src/ingest/spray-generation.ts): below `known`, it is set to `known` plus what it counts
  now (the bumps made since it was lost count on top, so a reader sees each of them as new).
  Atomic: several readers doing it leave one value, raised once.

  Input:
    KEYS[1] the counter (a string holding an integer; missing: 0)

    ARGV[1] known, the value the reader has seen

  Output:
    the counter's value now
]]
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
local known = tonumber(ARGV[1])
if v < known then
  v = known + v
  redis.call('SET', KEYS[1], v)
end
return v
