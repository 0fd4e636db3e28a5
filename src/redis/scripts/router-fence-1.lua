--[[
  Fences an input stream for a router that just took the router lease: writes its token to the
  stream's fence key unless a newer router (a higher lease epoch) already did. Reads of the stream
  (router-read-2.lua) then succeed only for this token.

  Input:
    KEYS[1] the stream's router fence

    ARGV[1] the router's fencing token `workerId#epoch`

  Output:
    1 when the fence now holds the token; the fence's token when a newer router holds it (the
    caller is stale, or its lease's epoch counter was lost: see LeaseManager.raise)
]]
local function epoch(token)
  return tonumber(string.match(token or '', '#(%d+)$') or '-1')
end
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] and epoch(cur) > epoch(ARGV[1]) then return cur end
redis.call('SET', KEYS[1], ARGV[1])
return 1
