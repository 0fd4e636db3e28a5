--[[
  Appends a body's records (POST /v1/events) to the two input streams in the body's order: each
  entry's id comes from one sequence across both streams — Redis's clock (TIME) or, when either
  stream's last id is at or past it, that id, then +1 per record — so the router, which merges the
  streams by entry id, applies a user's login and the activity after it in that order (with `*`
  each stream numbers its entries of one millisecond on its own: 0, 1 … on one, 30, 31 … on the
  other). Ids above both streams' last generated ids (an entry deleted since included), as `*`
  would give, so no XADD of a body fails halfway.

  Once per chunk: the caller names each chunk it writes with a marker of its own, written with the
  entries. A chunk whose reply was lost (the connection dropped after this ran) and that the
  client sent again — ioredis resends unanswered commands when it reconnects — finds its marker
  and appends nothing. On a Redis Cluster with the streams in different slots the caller runs
  this once per stream (both keys that stream, each record 1), with a marker in its slot.

  Input:
    KEYS[1] the chunk's marker (in the streams' slot)
    KEYS[2] the login stream
    KEYS[3] the activity stream

    ARGV[1] the marker's lifetime (ms)
    ARGV[2…] per record: the stream (1 or 2), the number of field values n, then the n values
            (field, value, …)

  Output:
    the ids, in order; false when the chunk was appended already (its marker is there)
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
-- The stream's last generated id (not its newest entry: one deleted or trimmed away still counts,
-- as for XADD's own check); 0-0 for a stream that does not exist.
local function top(key)
  local ok, info = pcall(redis.call, 'XINFO', 'STREAM', key)
  if not ok then return 0, -1 end
  local id
  for j = 1, #info, 2 do
    if info[j] == 'last-generated-id' then id = info[j + 1] end
  end
  if not id then return 0, -1 end
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end

local streams = { KEYS[2], KEYS[3] }
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seq = -1
for k = 1, 2 do
  local m, s = top(streams[k])
  if m > ms then
    ms, seq = m, s
  elseif m == ms and s > seq then
    seq = s
  end
end
local prefix = string.format('%.0f', ms) .. '-'
local ids = {}
local i = 2
while i <= #ARGV do
  local k = tonumber(ARGV[i])
  local n = tonumber(ARGV[i + 1])
  seq = seq + 1
  local id = prefix .. string.format('%.0f', seq)
  redis.call('XADD', streams[k], id, unpack(ARGV, i + 2, i + 1 + n))
  ids[#ids + 1] = id
  i = i + 2 + n
end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return ids
