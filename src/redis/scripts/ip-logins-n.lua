--[[
  Records a batch's logins of source IPs for password_spray and reads back what the batch needs
  to judge, for several IPs in one call. Failures and successes are kept apart (failures are few,
  successes many): a batch always needs an IP's recent failures (a success's evidence), and its
  successes only when the batch holds a failure of that IP (which may reveal earlier victims).
  Each IP's keys share its own hash tag; on a Redis Cluster the caller groups IPs by slot (one
  call per slot), so a call is atomic and Cluster-safe.

  Input (called with numkeys = 2 × the number of IPs):
    KEYS[2i-1] IP i's failed logins zset (score: event time ms; member: ["f", user, event id])
    KEYS[2i]   IP i's successful logins zset (member: ["s", user, event id])

    ARGV[1] one JSON array holding, per IP in KEYS order, one array, every value a string — trim
            below (drop scores < this), max members per set, TTL ms, read from, read to, '1' when
            successes are needed, then score, member, … to add (the member's kind says which set)
    ARGV[2] optional: now (ms). A set over its max keeps, of the members scored after now, the
            lowest floor(max / 2) (at least 1) at most, and the newest at or before now for the
            rest (src/detect/bounded-keep.ts): a skewed source's future-stamped logins never push
            the real ones out. Without it (the old call shape), the newest max are kept.

  Output:
    per IP, in KEYS order: ZRANGEBYSCORE from to WITHSCORES of the failures, then (when asked) of
    the successes, after the adds and trims (flat member, score, …)

  Each set's adds are one ZADD; a set with no adds that does not exist costs one EXISTS only.
]]
local all = cjson.decode(ARGV[1])
local now = ARGV[2]
local replies = {}

-- One ZADD per set (of up to 500 members), in the batch's order.
local function add(key, list)
  for i = 1, #list, 1000 do redis.call('ZADD', key, unpack(list, i, math.min(i + 999, #list))) end
end

for ip = 1, #all do
  local a = all[ip]
  local f, s = KEYS[2 * ip - 1], KEYS[2 * ip]
  local adds = { [f] = {}, [s] = {} }
  for i = 7, #a, 2 do
    local list = adds[string.sub(a[i + 1], 1, 4) == '["f"' and f or s]
    list[#list + 1] = a[i]
    list[#list + 1] = a[i + 1]
  end
  local max = tonumber(a[2])
  -- A set the batch adds nothing to and that does not exist needs no trim, TTL or read (all would
  -- find it empty): one EXISTS instead.
  local exists = {}
  for _, key in ipairs({ f, s }) do
    if #adds[key] > 0 then
      add(key, adds[key])
      exists[key] = true
    else
      exists[key] = redis.call('EXISTS', key) == 1
    end
    if exists[key] then
      redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. a[1])
      local count = redis.call('ZCARD', key)
      if count > max then
        -- The bound policy (bounded-keep.ts): after now at most half, the furthest ahead go first.
        local future = now and redis.call('ZCOUNT', key, '(' .. now, '+inf') or 0
        local keepFuture = math.min(future, math.max(1, math.floor(max / 2)), max)
        local drop = count - max - (future - keepFuture)
        if future > keepFuture then redis.call('ZREMRANGEBYRANK', key, keepFuture - future, -1) end
        if drop > 0 then redis.call('ZREMRANGEBYRANK', key, 0, drop - 1) end
      end
      if count > 0 then redis.call('PEXPIRE', key, a[3]) end
    end
  end
  local out = exists[f] and redis.call('ZRANGEBYSCORE', f, a[4], a[5], 'WITHSCORES') or {}
  if a[6] == '1' and exists[s] then
    for _, v in ipairs(redis.call('ZRANGEBYSCORE', s, a[4], a[5], 'WITHSCORES')) do out[#out + 1] = v end
  end
  replies[ip] = out
end
return replies
