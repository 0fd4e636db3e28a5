--[[
  Commits one partition's group of applied entries atomically, fenced by its lease: the changed
  users' states, their risk events and outbox entries, the index entries, reset results and the
  partition's input position (the last applied entry), then trims the partition stream below it.
  Every key touched belongs to the partition (or, until the cluster layout, to its users) — the
  writes come prepared from the client as a list of commands.

  Input:
    KEYS[1] the partition's lease (value: the owner's fencing token `worker#epoch`)
    KEYS[2] the partition's position hash (`pos`: last applied key, `epoch`)

    ARGV[1] the committing owner's fencing token ('' = no lease: offline tools)
    ARGV[2] MessagePack array of commands, each an array of strings (`{'HSET', key, f, v}` …)
    ARGV[3] the new position ('' = unchanged)
    ARGV[4] the partition stream to trim below the position ('' = none)

  Output:
    the number of commands run, or -1 when the lease is not (or no longer) the caller's: nothing
    written (a paused or partitioned-away owner is fenced)
]]
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local ops = cmsgpack.unpack(ARGV[2])
for i = 1, #ops do redis.call(unpack(ops[i])) end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[2], 'pos', ARGV[3], 'token', ARGV[1])
  if ARGV[4] ~= '' then redis.call('XTRIM', ARGV[4], 'MINID', ARGV[3]) end
end
return #ops
