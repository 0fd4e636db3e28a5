--[[
  One chunk of a hash's scan (src/engine/idle-backfill.ts), with the identity of the Redis process
  that ran it. A scan cursor means something only to the process that produced it (a restart
  draws a new hash seed, a replica promoted or a slot's new node built its own table): resumed
  elsewhere it skips an arbitrary set of fields. So the cursor is resumed only on the process
  that produced it, and the scan starts again from 0 anywhere else. One script: the identity and
  the scan come from the same node at the same moment.

  Input:
    KEYS[1] the hash

    ARGV[1] the run_id of the process that produced the cursor ('': unknown)
    ARGV[2] the cursor
    ARGV[3] COUNT

  Output:
    { this process's run_id, the cursor used, the next cursor, field, value, … }
    The run_id is '-' where INFO shows none or is refused (renamed away): '-' stored, '-' read,
    the cursor is resumed — no identity to go by, as before the node was kept.
]]
local info = redis.pcall('INFO', 'server')
local id = type(info) == 'string' and info:match('run_id:(%w+)') or '-'
local cursor = ARGV[2]
if id ~= ARGV[1] then cursor = '0' end
local r = redis.call('HSCAN', KEYS[1], cursor, 'COUNT', ARGV[3])
return { id, cursor, r[1], r[2] }
