--[[
  The router's read, fenced by its lease: reads input streams with the consumer group (without
  blocking) only while the caller holds the router lease, so a paused router that lost its lease
  can never take entries its successor will not see (its successor re-reads the group's pending
  entries, in order). Also returns Redis's clock: a stream that returned fewer than COUNT entries
  holds nothing older than this moment that was not returned.

  Input:
    KEYS[1] the router lease (value: the owner's fencing token)

    ARGV[1] fencing token
    ARGV[2] group
    ARGV[3] consumer
    ARGV[4] COUNT
    ARGV[5] n, the number of streams; then n stream names, then n ids (`>` or a pending cursor)

  Output:
    -1 when fenced; else { {seconds, microseconds}, XREADGROUP reply or false }
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local n = tonumber(ARGV[5])
local args = { 'XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4], 'STREAMS' }
for i = 1, 2 * n do args[#args + 1] = ARGV[5 + i] end
local t = redis.call('TIME')
return { t, redis.call(unpack(args)) }
