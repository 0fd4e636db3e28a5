--[[
  The router's read, fenced by its lease: reads input streams with the consumer group (without
  blocking) only while the caller holds the router lease, so a paused router that lost its lease
  can never take entries its successor will not see (its successor re-reads the group's pending
  entries, in order). Also returns Redis's clock: a stream that returned fewer than COUNT entries
  holds nothing older than this moment that was not returned.

  A read whose reply the router never got (a dropped connection: the client resends the script,
  and the first run already delivered entries) would leave those entries pending and unseen, and
  let later ones overtake them. So the router passes, per stream, the group's last-delivered id
  it last saw (from the previous reply); when the group moved past it meanwhile, nothing is read
  and -2 tells the router to re-read its pending entries first.

  Input:
    KEYS[1] the router lease (value: the owner's fencing token)

    ARGV[1] fencing token
    ARGV[2] group
    ARGV[3] consumer
    ARGV[4] COUNT
    ARGV[5] n, the number of streams; then n stream names, then n ids (`>` or a pending cursor),
            then (optional) n last-delivered ids the router expects ('' = unknown: not checked)

  Output:
    -1 when fenced; -2 when a group's last-delivered id is not the one expected; else
    { {seconds, microseconds}, XREADGROUP reply or false, {last-delivered id per stream} }
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local n = tonumber(ARGV[5])

local function lastDelivered(stream)
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local f = {}
    for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
    if f['name'] == ARGV[2] then return f['last-delivered-id'] end
  end
  return ''
end

for i = 1, n do
  local expected = ARGV[5 + 2 * n + i]
  if expected and expected ~= '' and lastDelivered(ARGV[5 + i]) ~= expected then return -2 end
end
local args = { 'XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4], 'STREAMS' }
for i = 1, 2 * n do args[#args + 1] = ARGV[5 + i] end
local t = redis.call('TIME')
local reply = redis.call(unpack(args))
local last = {}
for i = 1, n do last[i] = lastDelivered(ARGV[5 + i]) end
return { t, reply, last }
