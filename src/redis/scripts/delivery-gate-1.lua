--[[
  Throttle gate of one receiver (server clock). A 429 pause (`pause_until`) blocks everyone
  (nothing reserved, a held reservation kept). Otherwise a sliding one-second window: each send
  reserves a start time at least 1 s after the latest send time of the rate-th reservation
  before it (and of every older one), so no 1-second window gets more than `rate` sends, bursts
  of `rate` included; waiting jobs are spaced out, not herded. A reservation's latest send time is
  its start + `grace` (a job comes back a little late); the last `rate` of them are a ring in the
  hash (`w<i>`; `n` the next number, `floor` the latest that left the ring, `epoch` the hash's
  creation time, `base` the first number after a rate change, `seen` when a call last asked with
  the window's own rate). A lower rate applies at once; a higher one once no call has asked with
  the lower one for 2 s (workers on both, in a rolling reload, keep the lower).

  A held reservation (`epoch:n:at`, from an earlier call) is kept while early (wait `at - now`)
  and used up to `grace` late — unless the rate changed since it was made (stale: taken again). Later, it is used if that still keeps every window (fewer than
  `rate` reserved after it: its ring entry moves to now; else the next `rate` start 1 s after
  now); otherwise it is stale and a new one is taken.

  Input:
    KEYS[1] receiver throttle hash (pause_until, epoch, n, floor, rate, base, seen, w<i>)

    ARGV[1] rate (SETs/s, 0 = unlimited)
    ARGV[2] held reservation (`epoch:n:at`), or ''
    ARGV[3] grace (ms)

  Output:
    {wait ms, new reservation (`epoch:n:at`) or ''}; wait 0 = send now
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = KEYS[1]
local pause = tonumber(redis.call('HGET', key, 'pause_until') or '0')
if pause > now then return {pause - now, ''} end
local rate = tonumber(ARGV[1])
if rate <= 0 then return {0, ''} end
local grace = tonumber(ARGV[3])
local epoch = redis.call('HGET', key, 'epoch')
if not epoch then
  epoch = tostring(now)
  redis.call('HSET', key, 'epoch', epoch, 'n', '0', 'base', '0', 'rate', tostring(rate))
end
local n = tonumber(redis.call('HGET', key, 'n'))
local floor = tonumber(redis.call('HGET', key, 'floor') or '-1e15')
local base = tonumber(redis.call('HGET', key, 'base'))
local old = tonumber(redis.call('HGET', key, 'rate'))
-- A higher rate while a worker still asks with the window's lower one (a rolling reload): the
-- lower one holds until no call has asked with it for 2 s, so workers on the two rates do not
-- rebuild the window by turns (each rebuild starts 1 s after the last send: ~1 SET/s).
if rate > old and now - tonumber(redis.call('HGET', key, 'seen') or '0') < 2000 then rate = old end
if rate == tonumber(ARGV[1]) then redis.call('HSET', key, 'seen', tostring(now)) end
if old ~= rate then
  -- Rate changed (a reload): a new ring; what the old one held still bounds the next ones.
  for i = 0, old - 1 do
    local w = redis.call('HGET', key, 'w' .. i)
    if w then
      floor = math.max(floor, tonumber(w))
      redis.call('HDEL', key, 'w' .. i)
    end
  end
  base = n
  redis.call('HSET', key, 'rate', tostring(rate), 'base', tostring(base), 'floor', tostring(floor))
end
local held_epoch, held_n, held_at = string.match(ARGV[2], '^(%d+):(%d+):(-?%d+)$')
held_n = tonumber(held_n)
-- Reserved before the rate last changed (a reload): stale, taken again at the new rate.
if held_epoch == epoch and held_n >= base then
  held_at = tonumber(held_at)
  if held_at > now then return {held_at - now, ''} end
  if now <= held_at + grace then return {0, ''} end
  -- Late: still in the ring (fewer than `rate` reserved after it), its entry moves to now; else
  -- the one `rate` after it (same entry) must start at least 1 s after now.
  local f = 'w' .. (held_n % rate)
  local w = tonumber(redis.call('HGET', key, f) or '0')
  if held_n < n and held_n >= n - rate then
    redis.call('HSET', key, f, tostring(math.max(w, now)))
    if redis.call('PTTL', key) < 61000 then redis.call('PEXPIRE', key, 61000) end
    return {0, ''}
  end
  if held_n >= n - 2 * rate and w - grace >= now + 1000 then return {0, ''} end
end
local f = 'w' .. (n % rate)
local oldest = redis.call('HGET', key, f)
if oldest then floor = math.max(floor, tonumber(oldest)) end
local at = math.max(now, floor + 1000)
redis.call('HSET', key, f, tostring(at + grace), 'n', tostring(n + 1), 'floor', tostring(floor))
local ttl = math.ceil(at - now) + 61000
if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
return {at - now, epoch .. ':' .. n .. ':' .. at}
