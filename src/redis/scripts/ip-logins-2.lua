--[[
  Records a batch's logins of one source IP for password_spray and reads back what the batch
  needs to judge. Failures and successes are kept apart (failures are few, successes many): a
  batch always needs the IP's recent failures (a success's evidence), and its successes only when
  the batch holds a failure (which may reveal earlier victims). One IP's keys only (one hash tag):
  atomic, Cluster-safe.

  Input:
    KEYS[1] the IP's failed logins zset (score: event time ms; member: ["f", user, event id])
    KEYS[2] the IP's successful logins zset (member: ["s", user, event id])

    ARGV[1] one JSON array, every value a string — trim below (drop scores < this), max members
            per set, TTL ms, read from, read to, '1' when successes are needed, then
            score, member, … to add (the member's kind says which set)

  Output:
    ZRANGEBYSCORE from to WITHSCORES of the failures, then (when asked) of the successes, after
    the adds and trims (flat member, score, …)
]]
local a = cjson.decode(ARGV[1])
for i = 7, #a, 2 do
  local key = string.sub(a[i + 1], 1, 4) == '["f"' and KEYS[1] or KEYS[2]
  redis.call('ZADD', key, a[i], a[i + 1])
end
local max = tonumber(a[2])
for k = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', '(' .. a[1])
  local count = redis.call('ZCARD', KEYS[k])
  if count > max then redis.call('ZREMRANGEBYRANK', KEYS[k], 0, count - max - 1) end
  if count > 0 then redis.call('PEXPIRE', KEYS[k], a[3]) end
end
local out = redis.call('ZRANGEBYSCORE', KEYS[1], a[4], a[5], 'WITHSCORES')
if a[6] == '1' then
  for _, v in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], a[4], a[5], 'WITHSCORES')) do out[#out + 1] = v end
end
return out
