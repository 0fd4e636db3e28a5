--[[
  Compare-and-set of one SSF stream: replaces its JSON only if it is still the one read.

  Input:
    KEYS[1] streams hash (stream id -> JSON)

    ARGV[1] stream id
    ARGV[2] expected JSON
    ARGV[3] new JSON

  Output:
    1 replaced, 0 changed meanwhile (nothing written)
]]
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) return 1 end
return 0
