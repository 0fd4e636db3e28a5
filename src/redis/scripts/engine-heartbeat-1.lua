--[[
  One membership heartbeat of an engine worker (server clock, so every worker agrees on who is
  live): scores the worker now, drops members silent for longer than `forget` ms, returns the rest.

  Input:
    KEYS[1] members sorted set (member = workerId, score = last heartbeat ms)

    ARGV[1] workerId
    ARGV[2] forget after (ms)

  Output:
    {now ms, member1, score1, member2, score2, ...}
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[2])))
local out = {now}
local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #all do out[#out + 1] = all[i] end
return out
