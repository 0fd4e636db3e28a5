--[[
  The rows of a sorted set that come after a position in reverse order (score descending, then
  member descending by bytes), read at one moment: the position is found by rank, so members
  added, removed or moved elsewhere in the set never shift the rows returned (as an offset
  would between two reads of one walk).

  Input:
    KEYS[1] sorted set

    ARGV[1] the position's score ('': from the top)
    ARGV[2] the position's member (need not be in the set; '': after every member of that score)
    ARGV[3] most rows to return

  Output:
    member, score, member, score, … (as ZREVRANGE … WITHSCORES)
]]
local key, count = KEYS[1], tonumber(ARGV[3])

-- a < b by their bytes, as a sorted set orders members of one score (never the locale's collation)
local function before(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local start = 0
if ARGV[1] ~= '' then
  local s, m = ARGV[1], ARGV[2]
  -- rows above the score, then the score's ties (member descending): the first tie before m by bytes
  local lo = redis.call('ZCOUNT', key, '(' .. s, '+inf')
  local hi = lo + redis.call('ZCOUNT', key, s, s)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if before(redis.call('ZREVRANGE', key, mid, mid)[1], m) then hi = mid else lo = mid + 1 end
  end
  start = lo
end
return redis.call('ZREVRANGE', key, start, start + count - 1, 'WITHSCORES')
