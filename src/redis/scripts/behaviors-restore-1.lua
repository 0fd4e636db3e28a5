--[[
  Puts back what a worker knows of the behaviors' on-epochs (src/engine/behavior-epochs.ts) when
  the hash was lost (a Redis restarted empty under running workers), so that the counter never goes
  back below what owners follow. A counter below the worker's (missing, or recreated from 0 since
  by a worker's start or reload: counters never go back otherwise) is raised to the worker's plus
  `margin` — far more than the epochs possible between two reads of any worker —, so that an epoch
  given after the loss is above every epoch users' states were stamped with, whatever each worker
  knew (a counter put back to a worker's own view, which may be a refresh old, could give a
  behavior turned on again an epoch some states already hold: their windows kept). Each on-epoch is
  raised to at least the worker's (never lowered: several workers doing it, in any order, leave the
  highest each knows; the first one raising the counter sets it). When the hash is missing, the
  worker's running configuration is recorded as well: each behavior off in it marked off (so that
  turning it on again is seen), each on its counting parameters' digest (so that a change of them is
  seen). Nothing is turned on again here.

  Input:
    KEYS[1] hash: 'epoch' the counter, 'on:<id>' a behavior's on-epoch, 'off:<id>' its off mark,
            'with:<id>' its counting parameters' digest

    ARGV[1] the counter the worker knows
    ARGV[2] margin
    ARGV[3] n, the number of behaviors on in its running configuration
    ARGV[4 .. 3n+3] triples: id, the on-epoch the worker knows for it, its counting parameters' digest ('' for none)
    ARGV[3n+4 ..] the ids of the behaviors off in its running configuration

  Output:
    {1 when the hash was missing, else 0; number of fields raised or written}
]]
local h = KEYS[1]
local missing = redis.call('EXISTS', h) == 0
local n = tonumber(ARGV[3])
local changed = 0
local function raise(f, v)
  local cur = redis.call('HGET', h, f)
  if cur == false or tonumber(cur) < v then
    redis.call('HSET', h, f, v)
    changed = changed + 1
  end
end
local known = tonumber(ARGV[1])
if known > 0 and tonumber(redis.call('HGET', h, 'epoch') or '0') < known then
  redis.call('HSET', h, 'epoch', known + tonumber(ARGV[2]))
  changed = changed + 1
end
for i = 4, 3 * n + 3, 3 do raise('on:' .. ARGV[i], tonumber(ARGV[i + 1])) end
if missing then
  for i = 4, 3 * n + 3, 3 do
    if ARGV[i + 2] ~= '' then
      redis.call('HSET', h, 'with:' .. ARGV[i], ARGV[i + 2])
      changed = changed + 1
    end
  end
  for i = 3 * n + 4, #ARGV do
    redis.call('HSET', h, 'off:' .. ARGV[i], 1)
    changed = changed + 1
  end
end
return {missing and 1 or 0, changed}
