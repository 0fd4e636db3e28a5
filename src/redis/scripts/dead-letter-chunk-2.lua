--[[
  Appends a chunk of dead letters of one HTTP ingest body (POST /v1/events: records that cannot
  be understood) once: the caller names the chunk with a marker of its own, written with the
  entries. A chunk whose reply was lost (the connection dropped after this ran) and that the
  client sent again — ioredis resends unanswered commands when it reconnects — finds its marker
  and appends nothing, as ingest-append-3.lua does for the records appended.

  Input:
    KEYS[1] the dead-letter stream
    KEYS[2] the chunk's marker (in the stream's slot)

    ARGV[1] the marker's lifetime (ms)
    ARGV[2] approximate MAXLEN of the stream ('' = none)
    ARGV[3…] per dead letter: the number of field values n, then the n values (field, value, …)

  Output:
    the new entries' ids, in order; false when the chunk was appended already (its marker is there)
]]
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
local ids = {}
local i = 3
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  if ARGV[2] ~= '' then
    ids[#ids + 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, i + 1, i + n))
  else
    ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', unpack(ARGV, i + 1, i + n))
  end
  i = i + 1 + n
end
-- The entries first: a failed XADD (a wrong key type …) leaves no marker behind.
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return ids
