--[[
  Acquires an engine lease with a new fencing token. Free (absent), or held by the same worker
  identity (a restarted process reclaims at once: its old token dies with the new epoch) → INCR
  the epoch, SET `workerId#epoch` PX ttl. Held by another worker → nothing changes.

  Input:
    KEYS[1] lease key (value: the token `workerId#epoch`)
    KEYS[2] epoch counter (same hash tag; never expires, so an epoch is never reused)

    ARGV[1] workerId
    ARGV[2] ttl (ms)
    ARGV[3] optional: an epoch the new one must exceed (a fence seen with a newer epoch than the
            counter's, which was lost: the counter is raised to it first)

  Output:
    {1, token} acquired, {0, current token} held by someone else
]]
local cur = redis.call('GET', KEYS[1])
if cur then
  local holder = string.match(cur, '^(.*)#%d+$')
  if holder ~= ARGV[1] then return {0, cur} end
end
local floor = tonumber(ARGV[3] or '')
if floor and (tonumber(redis.call('GET', KEYS[2]) or '0') or 0) < floor then redis.call('SET', KEYS[2], floor) end
local epoch = redis.call('INCR', KEYS[2])
local token = ARGV[1] .. '#' .. epoch
redis.call('SET', KEYS[1], token, 'PX', tonumber(ARGV[2]))
return {1, token}
