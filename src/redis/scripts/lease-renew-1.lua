--[[
  Renews a lease (or a claimed worker identity): PEXPIRE only while the key still holds our value.

  Input:
    KEYS[1] lease key

    ARGV[1] our value (fencing token, or pid for a worker identity)
    ARGV[2] ttl (ms)

  Output:
    1 renewed; else (lost) the current value, '' when the key expired
]]
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return cur or ''
