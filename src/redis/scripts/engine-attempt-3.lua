--[[
  Counts attempts at a partition's committed position (src/engine/poison-guard.ts): never on the
  hot path — only when an owner takes the partition, when its step or commit failed because of
  the data, while the partition is isolated before each item is tried alone, and when an owner
  hands the partition over cleanly (released, its work committed: no crash at the position).

  Fields of the position hash (beside `pos`), each `<position>|<count>`: a count kept for another
  position than the committed one is stale, and starts again at 1.
    attempts  owners that started at the position, and failures there
    tries     attempts of the one item after the position, tried alone
    trying    JSON {pos, by}: the tries at `pos` counted by each owner token, so that an owner whose
              try ended in no failure of the data (its lease lost, the partition handed over) can
              take its own try back — a lease loss is no try, only a failure or a crash is
    isolate   the position up to which the partition is applied one item at a time (an entry id)

  Input:
    KEYS[1] the partition's lease
    KEYS[2] the partition's position hash
    KEYS[3] the partition stream
    ARGV[1] the owner's fencing token
    ARGV[2] 'start' (the owner took the partition), 'fail' (a step or commit failed because of the
            data), 'try' (the item after the position is about to be tried alone), 'untry' (that
            try ended in no failure of the data: the lease lost, or handed over; allowed without
            the lease, it takes back one try this token counted at the position, if any) or
            'clear' (the owner hands the partition over cleanly: the attempts at the position are
            forgotten)
    ARGV[3] the attempts after which the partition is isolated

  Output:
    -1 when the lease is not the caller's (nothing written; never for `untry`); else {position,
    count, isolate}: count the attempts (`start`, `fail`) or tries (`try`, `untry`) at the
    position, this one included (`untry`: -1 when this token had no try there to take back);
    isolate the position the partition is isolated up to ('' none). Reaching the limit, isolation
    is set up to the stream's last entry (what the failed attempts may have read).
]]
if ARGV[2] ~= 'untry' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local pos = redis.call('HGET', KEYS[2], 'pos') or '0-0'

local function bump(field)
  local v = redis.call('HGET', KEYS[2], field)
  local n = 1
  if v then
    local at, c = string.match(v, '^(.*)|(%d+)$')
    if at == pos then n = tonumber(c) + 1 end
  end
  redis.call('HSET', KEYS[2], field, pos .. '|' .. n)
  return n
end

local function below(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if not am or not bm then return false end
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end

local iso = redis.call('HGET', KEYS[2], 'isolate') or ''
if iso ~= '' and not below(pos, iso) then iso = '' end
-- The tries at the position counted by each token (a record of another position is stale).
local function trying()
  local v = redis.call('HGET', KEYS[2], 'trying')
  local ok, t = pcall(cjson.decode, v or '')
  if ok and type(t) == 'table' and t.pos == pos and type(t.by) == 'table' then return t end
  return { pos = pos, by = {} }
end

if ARGV[2] == 'try' then
  local t = trying()
  t.by[ARGV[1]] = (tonumber(t.by[ARGV[1]]) or 0) + 1
  redis.call('HSET', KEYS[2], 'trying', cjson.encode(t))
  return { pos, bump('tries'), iso }
end
if ARGV[2] == 'untry' then
  local t = trying()
  local mine = tonumber(t.by[ARGV[1]]) or 0
  local v = redis.call('HGET', KEYS[2], 'tries')
  local at, c = string.match(v or '', '^(.*)|(%d+)$')
  if mine < 1 or at ~= pos or tonumber(c) < 1 then return { pos, -1, iso } end
  t.by[ARGV[1]] = mine > 1 and mine - 1 or nil
  redis.call('HSET', KEYS[2], 'trying', cjson.encode(t), 'tries', pos .. '|' .. (tonumber(c) - 1))
  return { pos, tonumber(c) - 1, iso }
end
if ARGV[2] == 'clear' then
  local v = redis.call('HGET', KEYS[2], 'attempts')
  if v and string.match(v, '^(.*)|%d+$') == pos then redis.call('HDEL', KEYS[2], 'attempts') end
  return { pos, 0, iso }
end

local n = bump('attempts')
if n >= tonumber(ARGV[3]) and iso == '' then
  local top = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
  if top[1] and below(pos, top[1][1]) then
    iso = top[1][1]
    redis.call('HSET', KEYS[2], 'isolate', iso)
  end
end
return { pos, n, iso }
