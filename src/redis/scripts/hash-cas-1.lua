--[[
  Compare-and-set of one hash field: writes it only if it still holds the value read (an SSF
  stream's JSON; a receiver's settings fingerprint, which several workers reloading at once
  compare, so that only one of them audits the change).

  Input:
    KEYS[1] hash

    ARGV[1] field
    ARGV[2] expected value ('': the field is absent)
    ARGV[3] new value ('': delete the field)

  Output:
    1 written, 0 changed meanwhile (nothing written)
]]
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  if cur then return 0 end
elseif cur ~= ARGV[2] then
  return 0
end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
return 1
