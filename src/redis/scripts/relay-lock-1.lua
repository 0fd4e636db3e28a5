--[[
  Takes a partition's outbox relay lock: when it is free, or when it is held by this worker's own
  identity (`owner` prefix of the token): a previous process under the same worker id is gone (ids
  are claimed by one live process at a time), and its lock must not stall the relay until it expires.

  Input:
    KEYS[1] the lock

    ARGV[1] this relay's token (`<owner>/<random>`)
    ARGV[2] the lock's lifetime (ms)
    ARGV[3] the owner prefix of tokens of this worker ('' = none: only a free lock is taken)

  Output:
    1 taken, 0 held by another worker
]]
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if ARGV[3] ~= '' then
  local cur = redis.call('GET', KEYS[1])
  if cur and string.sub(cur, 1, #ARGV[3]) == ARGV[3] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
  end
end
return 0
