--[[
  Compare-and-set of one hash field: writes it only if it still holds the value read (an SSF
  stream's JSON; a receiver's settings fingerprint, which several workers reloading at once
  compare, so that only one of them audits the change). Once per call: a write leaves the call's
  marker beside the hash, so the client's resend of this script (ioredis resends a command whose
  reply a dropped connection lost; the first run had written) answers 1 as the first run did — not
  0, "changed meanwhile", for the value it wrote itself (the receiver change then never audited).

  Input:
    KEYS[1] hash
    KEYS[2] this call's marker (a string in the hash's slot, named by a token of the call)

    ARGV[1] field
    ARGV[2] expected value ('': the field is absent)
    ARGV[3] new value ('': delete the field)
    ARGV[4] the marker's lifetime (ms): past the client's resend

  Output:
    1 written (by this call: now, or by its first run), 0 changed meanwhile (nothing written)
]]
if redis.call('EXISTS', KEYS[2]) == 1 then return 1 end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  if cur then return 0 end
elseif cur ~= ARGV[2] then
  return 0
end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
return 1
