--[[
  Records a push to a self-registered stream as in flight (src/ssf/stream-fence.ts): drops the
  entries that lapsed, adds this one, and keeps the set as long as its longest-lived entry — never
  shorter (a push with a shorter timeout must not expire an entry still in flight).

  Input:
    KEYS[1] the stream's in-flight set (score: when the entry lapses, epoch ms)

    ARGV[1] now, epoch ms
    ARGV[2] this entry's life, ms
    ARGV[3] this entry's member

  Output:
    the set's life, ms
]]
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local life = math.max(tonumber(ARGV[2]), tonumber(top[2]) - now)
redis.call('PEXPIRE', KEYS[1], life)
return life
