--[[
  Moves up to N items of a list into a stream (field `event`), atomically: a crash loses and
  duplicates nothing. Redis Cluster: both keys must share a hash tag.

  Input:
    KEYS[1] list
    KEYS[2] stream

    ARGV[1] max items
    ARGV[2] max bytes (optional): the move stops before the item that would take it past this,
            always moving one item at least. Each item is read when its turn comes (LINDEX), so a
            list of large items costs Redis what is moved, never a whole batch of them at once.

  Output:
    {moved, left in list}. If an XADD fails (wrong key type, OOM) the items already added are
    trimmed from the list before the error is returned, so a retry duplicates nothing.
]]
local max = tonumber(ARGV[1])
local budget = tonumber(ARGV[2] or '') or math.huge
local n, bytes = 0, 0
while n < max do
  local item = redis.call('LINDEX', KEYS[1], n)
  if not item or (n > 0 and bytes + #item > budget) then break end
  local ok, err = pcall(redis.call, 'XADD', KEYS[2], '*', 'event', item)
  if not ok then
    if n > 0 then redis.call('LTRIM', KEYS[1], n, -1) end
    local msg = type(err) == 'table' and err.err or tostring(err)
    return redis.error_reply('BRIDGE moved ' .. n .. ' then failed: ' .. msg)
  end
  n = n + 1
  bytes = bytes + #item
end
if n == 0 then return {0, 0} end
redis.call('LTRIM', KEYS[1], n, -1)
return {n, redis.call('LLEN', KEYS[1])}
