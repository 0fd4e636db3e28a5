--[[
  Moves up to N items of a list into a stream (field `event`), atomically: a crash loses and
  duplicates nothing. Redis Cluster: both keys must share a hash tag.

  Input:
    KEYS[1] list
    KEYS[2] stream

    ARGV[1] max items

  Output:
    {moved, left in list}. If an XADD fails (wrong key type, OOM) the items already added are
    trimmed from the list before the error is returned, so a retry duplicates nothing.
]]
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local n = #items
if n == 0 then return {0, 0} end
for i = 1, n do
  local ok, err = pcall(redis.call, 'XADD', KEYS[2], '*', 'event', items[i])
  if not ok then
    if i > 1 then redis.call('LTRIM', KEYS[1], i - 1, -1) end
    local msg = type(err) == 'table' and err.err or tostring(err)
    return redis.error_reply('BRIDGE moved ' .. (i - 1) .. ' then failed: ' .. msg)
  end
end
redis.call('LTRIM', KEYS[1], n, -1)
return {n, redis.call('LLEN', KEYS[1])}
