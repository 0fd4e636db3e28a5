--[[
  Appends one dead letter unless this source entry was dead-lettered already (a router or owner that
  crashed after writing it and before acking or committing reads the entry again): the marker and
  the entry are written together, so an entry is dead-lettered once — and never lost. The audit
  log writes an entry once with it too (AuditLog.writeOnce: a `session.revoked` entry its teller
  wrote before a crash is not written again by the drain that tells it after).

  Input:
    KEYS[1] the dead-letter stream
    KEYS[2] the source entry's marker (same hash tag as the stream: `{<stream>}:seen:…`)

    ARGV[1] the marker's lifetime (ms)
    ARGV[2] approximate MAXLEN of the stream ('' = none)
    ARGV[3…] the dead letter's fields and values

  Output:
    the new entry's id, or false when the entry was dead-lettered already
]]
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
-- The entry first: a failed XADD (a wrong key type …) leaves no marker behind, and the retry writes it.
local id
if ARGV[2] ~= '' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
else
  id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return id
