--[[
  Raises an input stream's routed mark (src/engine/routed-tops.ts) before a routing step sends
  its partition entries, and answers the mark as it was — once per step: the step's nonce and
  the mark it found are kept beside it, so the client's resend of this script (ioredis resends a
  command whose reply a dropped connection lost; the first run had raised the mark) answers the
  mark the first run found, not the one it raised (read so, the step's backlog entries, found
  written already, would be taken as routed before and acked unseen instead of dead-lettered).

  Input:
    KEYS[1] the stream's mark (sorted set: `top` the newest entry's ms routed; `step` the last
            step's nonce and `before` the mark it found)

    ARGV[1] the step's newest entry (ms)
    ARGV[2] the step's nonce (an integer below 2^53, random per step)

  Output:
    the mark before the step (-1: none)
]]
local key = KEYS[1]
local nonce = tonumber(ARGV[2])
if tonumber(redis.call('ZSCORE', key, 'step') or 'nan') == nonce then
  return tostring(redis.call('ZSCORE', key, 'before') or '-1')
end
local before = redis.call('ZSCORE', key, 'top') or '-1'
redis.call('ZADD', key, 'GT', ARGV[1], 'top')
redis.call('ZADD', key, before, 'before', ARGV[2], 'step')
return before
