--[[
  Records a batch's logins of one source IP for password_spray and reads back what the batch
  needs to judge. One IP's key only: atomic, Cluster-safe.

  Input:
    KEYS[1] the IP's logins zset (score: event time ms; member: ["f"|"s", user, event id])

    ARGV[1] one JSON array, every value a string — trim below (drop scores < this), max members,
            TTL ms, read from, read to, then [score, member, …] to add

  Output:
    ZRANGEBYSCORE from to WITHSCORES after the adds and trims (flat member, score, …)
]]
local a = cjson.decode(ARGV[1])
for i = 6, #a, 2 do
  redis.call('ZADD', KEYS[1], a[i], a[i + 1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. a[1])
local max = tonumber(a[2])
local count = redis.call('ZCARD', KEYS[1])
if count > max then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, count - max - 1)
end
redis.call('PEXPIRE', KEYS[1], a[3])
return redis.call('ZRANGEBYSCORE', KEYS[1], a[4], a[5], 'WITHSCORES')
