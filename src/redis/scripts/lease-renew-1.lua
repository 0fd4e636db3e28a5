--[[
  Renews a lease (or a claimed worker identity): PEXPIRE only while the key still holds our value.

  Input:
    KEYS[1] lease key

    ARGV[1] our value (fencing token, or pid for a worker identity)
    ARGV[2] ttl (ms)

  Output:
    1 renewed, 0 expired or held by someone else (lost)
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
