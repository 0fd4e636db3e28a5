--[[
  Releases a lease (or a claimed worker identity): DEL only while the key still holds our value.

  Input:
    KEYS[1] lease key

    ARGV[1] our value (fencing token, or pid for a worker identity)

  Output:
    1 released, 0 expired or held by someone else
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
