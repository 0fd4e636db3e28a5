--[[
  Puts back a shared counter that Redis lost (restarted empty) under a reader that knows a higher
  value (src/ingest/spray-generation.ts): below `known`, it is set to `known + margin`. The margin
  (far more than the bumps possible between two reads of any reader) puts it above what every
  reader has seen, whatever each one knows: two readers that knew different values, one of them
  raising it first, both see a value new to them (a raise by `known` plus the bumps since would
  leave the one that knew more at a value it had seen). A reader finding it raised already leaves it.

  Input:
    KEYS[1] the counter (a string holding an integer; missing: 0)

    ARGV[1] known, the value the reader has seen
    ARGV[2] margin

  Output:
    the counter's value now
]]
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
local known = tonumber(ARGV[1])
if v < known then
  v = known + tonumber(ARGV[2])
  redis.call('SET', KEYS[1], v)
end
return v
