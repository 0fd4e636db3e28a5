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
    reach     the furthest entry read by the owners whose step or commit failed on the data at the
              position (what the failing steps could have held)

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
    ARGV[4] the entries an owner may hold uncommitted (the isolation's span when no failure of the
            data told how far the failing steps read: crashes)
    ARGV[5] `fail`: the last entry the owner had read when it failed ('' unknown)

  Output:
    -1 when the lease is not the caller's (nothing written; never for `untry`); else {position,
    count, isolate}: count the attempts (`start`, `fail`) or tries (`try`, `untry`) at the
    position, this one included (`untry`: -1 when this token had no try there to take back);
    isolate the position the partition is isolated up to ('' none). Reaching the limit, isolation
    is set up to what the failed attempts may have held: the furthest entry read by the failures
    of the data at the position (`reach`), else ARGV[4] entries after it (crashes); never past
    the stream's last entry. Only those are applied one at a time: the entries after them in
    ordinary steps (a poison there fails, or crashes, attempts at a later position again).
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

-- How far the failures of the data at the position read (`pos|<entry id>`).
local reach
local r = redis.call('HGET', KEYS[2], 'reach')
if r then
  local at, id = string.match(r, '^(.*)|(.*)$')
  if at == pos and below(pos, id) then reach = id end
end
if ARGV[2] == 'fail' and below(pos, ARGV[5] or '') and (not reach or below(reach, ARGV[5])) then
  reach = ARGV[5]
  redis.call('HSET', KEYS[2], 'reach', pos .. '|' .. reach)
end

local n = bump('attempts')
if n >= tonumber(ARGV[3]) and iso == '' then
  local top = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
  if top[1] and below(pos, top[1][1]) then
    iso = top[1][1]
    if reach and below(reach, iso) then
      iso = reach
    elseif not reach then
      -- No failure of the data told how far: what an owner may hold uncommitted after the position.
      local span = tonumber(ARGV[4]) or 0
      if span > 0 then
        local held = redis.call('XRANGE', KEYS[3], '(' .. pos, '+', 'COUNT', span)
        if #held > 0 and below(held[#held][1], iso) then iso = held[#held][1] end
      end
    end
    redis.call('HSET', KEYS[2], 'isolate', iso)
  end
end
return { pos, n, iso }
