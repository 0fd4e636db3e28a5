--[[
  Drops the head of a paused stream's held list once its SETs are queued: only when the list
  still starts with exactly those items (a capped push may have dropped some of them and shifted
  the rest meanwhile; the caller then reads the head again).

  Input:
    KEYS[1] list

    ARGV[1…] the items read from the head, in order

  Output:
    1 dropped, 0 the head changed (nothing dropped)
]]
local n = #ARGV
local head = redis.call('LRANGE', KEYS[1], 0, n - 1)
if #head ~= n then return 0 end
for i = 1, n do
  if head[i] ~= ARGV[i] then return 0 end
end
redis.call('LTRIM', KEYS[1], n, -1)
return 1
