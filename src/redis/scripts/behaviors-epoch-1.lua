--[[
  Records a worker's configuration of behaviors before it applies (the worker's start, a reload),
  so that a behavior turned off and on again starts afresh for every user (src/engine/behavior-epochs.ts):
  each behavior off here (configured off, or recorded before and no longer configured) is marked
  off; each on here that some worker marked off is turned on again: the epoch counter grows (once
  per call) and the behavior's on-epoch is set to it, its mark cleared. So is one on here whose
  counting parameters' digest differs from the one recorded (src/risk/counted-with.ts: what its
  window counted was counted under another rule). A behavior on here and never marked is recorded
  with on-epoch 0 (so that its removal from the file is seen), and its digest.

  Input:
    KEYS[1] hash: 'epoch' the counter, 'on:<id>' a behavior's on-epoch, 'off:<id>' its off mark,
            'with:<id>' its counting parameters' digest

    ARGV[1] n, the number of behaviors on in this configuration
    ARGV[2 .. 2n+1] pairs: id, its counting parameters' digest ('' for none)
    ARGV[2n+2 ..] the ids of the behaviors configured off

  Output:
    {epoch, number of behaviors turned on again now}
]]
local h = KEYS[1]
local n = tonumber(ARGV[1])
local on = {}
for i = 2, 2 * n + 1, 2 do on[ARGV[i]] = true end
for i = 2 * n + 2, #ARGV do redis.call('HSET', h, 'off:' .. ARGV[i], 1) end
-- Recorded before and not on here (removed from the file): off as well.
for _, f in ipairs(redis.call('HKEYS', h)) do
  if string.sub(f, 1, 3) == 'on:' and not on[string.sub(f, 4)] then redis.call('HSET', h, 'off:' .. string.sub(f, 4), 1) end
end
local epoch = tonumber(redis.call('HGET', h, 'epoch') or '0')
local again = 0
for i = 2, 2 * n + 1, 2 do
  local id, digest = ARGV[i], ARGV[i + 1]
  local was = redis.call('HGET', h, 'with:' .. id)
  if digest == '' then redis.call('HDEL', h, 'with:' .. id) else redis.call('HSET', h, 'with:' .. id, digest) end
  local recounted = was ~= false and digest ~= '' and was ~= digest
  if redis.call('HDEL', h, 'off:' .. id) == 1 or recounted then
    if again == 0 then epoch = redis.call('HINCRBY', h, 'epoch', 1) end
    again = again + 1
    redis.call('HSET', h, 'on:' .. id, epoch)
  else
    redis.call('HSETNX', h, 'on:' .. id, 0)
  end
end
return {epoch, again}
