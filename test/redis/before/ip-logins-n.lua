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

  Output:
    per IP, in KEYS order: ZRANGEBYSCORE from to WITHSCORES of the failures, then (when asked) of
    the successes, after the adds and trims (flat member, score, …)
]]
local all = cjson.decode(ARGV[1])
local replies = {}
for ip = 1, #all do
  local a = all[ip]
  local f, s = KEYS[2 * ip - 1], KEYS[2 * ip]
  for i = 7, #a, 2 do
    local key = string.sub(a[i + 1], 1, 4) == '["f"' and f or s
    redis.call('ZADD', key, a[i], a[i + 1])
  end
  local max = tonumber(a[2])
  for _, key in ipairs({ f, s }) do
    redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. a[1])
    local count = redis.call('ZCARD', key)
    if count > max then redis.call('ZREMRANGEBYRANK', key, 0, count - max - 1) end
    if count > 0 then redis.call('PEXPIRE', key, a[3]) end
  end
  local out = redis.call('ZRANGEBYSCORE', f, a[4], a[5], 'WITHSCORES')
  if a[6] == '1' then
    for _, v in ipairs(redis.call('ZRANGEBYSCORE', s, a[4], a[5], 'WITHSCORES')) do out[#out + 1] = v end
  end
  replies[ip] = out
end
return replies
