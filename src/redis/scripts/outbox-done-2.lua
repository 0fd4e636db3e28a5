--[[
  Ends an outbox relay of one user: deletes the entries it passed on, and removes the user's
  pending mark only when the outbox is then empty (a commit may have added entries and marked the
  user again since they were read, or more were left than one read takes). An empty outbox is
  deleted: an emptied stream key costs ≈ 370 bytes, for every user who ever had a change, forever,
  and the start-up recovery would scan and mark every one of them.

  Input:
    KEYS[1] the partition's pending marks (sorted set)
    KEYS[2] the user's outbox (stream)

    ARGV[1] the user
    ARGV[2…] the ids of the entries passed on (none: only the mark is looked at)

  Output:
    1 the mark removed (the outbox deleted), 0 the outbox still holds entries (marked)
]]
if #ARGV > 1 then redis.call('XDEL', KEYS[2], unpack(ARGV, 2)) end
if redis.call('XLEN', KEYS[2]) > 0 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
