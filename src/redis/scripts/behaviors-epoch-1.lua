--[[
  Records a worker's configuration of behaviors before it applies (the worker's start, a reload),
  so that a behavior turned off and on again starts afresh for every user (src/engine/behavior-epochs.ts):
  each behavior off here (configured off, or recorded before and no longer configured) is marked
  off; each on here that some worker marked off is turned on again: the epoch counter grows (once
  per call) and the behavior's on-epoch is set to it, its mark cleared. A behavior on here and never
  marked is recorded with on-epoch 0 (so that its removal from the file is seen).

  Input:
    KEYS[1] hash: 'epoch' the counter, 'on:<id>' a behavior's on-epoch, 'off:<id>' its off mark

    ARGV[1] n, the number of behaviors on in this configuration
    ARGV[2 .. n+1] their ids
    ARGV[n+2 ..] the ids of the behaviors configured off

  Output:
    {epoch, number of behaviors turned on again now}
]]
local h = KEYS[1]
local n = tonumber(ARGV[1])
local on = {}
for i = 2, n + 1 do on[ARGV[i]] = true end
for i = n + 2, #ARGV do redis.call('HSET', h, 'off:' .. ARGV[i], 1) end
-- Recorded before and not on here (removed from the file): off as well.
for _, f in ipairs(redis.call('HKEYS', h)) do
  if string.sub(f, 1, 3) == 'on:' and not on[string.sub(f, 4)] then redis.call('HSET', h, 'off:' .. string.sub(f, 4), 1) end
end
local epoch = tonumber(redis.call('HGET', h, 'epoch') or '0')
local again = 0
for i = 2, n + 1 do
  local id = ARGV[i]
  if redis.call('HDEL', h, 'off:' .. id) == 1 then
    if again == 0 then epoch = redis.call('HINCRBY', h, 'epoch', 1) end
    again = again + 1
    redis.call('HSET', h, 'on:' .. id, epoch)
  else
    redis.call('HSETNX', h, 'on:' .. id, 0)
  end
end
return {epoch, again}
