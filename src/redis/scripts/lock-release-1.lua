--[[
  Releases a lock (a SET send lock, a partition's relay lock): DEL only when it still holds our token.

  Input:
    KEYS[1] lock key

    ARGV[1] token

  Output:
    1 released, 0 held by someone else (or expired)
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
