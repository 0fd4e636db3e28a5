--[[
  The router's read of one input stream, fenced: reads with the consumer group (without blocking)
  only while the stream's fence key holds the caller's router token, so a paused router that lost
  its lease can never take entries its successor will not see (the successor writes its token to
  every stream's fence, router-fence-1.lua, before its first read, then re-reads the group's
  pending entries in order). The fence key shares the stream's hash slot, so on a Redis Cluster
  this is one script on one slot. Also returns Redis's clock: a stream that returned fewer than
  COUNT entries holds nothing older than this moment that was not returned.

  A read whose reply the router never got (a dropped connection: the client resends the script,
  and the first run already delivered entries) would leave those entries pending and unseen, and
  let later ones overtake them. So the router passes the group's last-delivered id it last saw
  (from the previous reply); when the group moved past it meanwhile, nothing is read and -2 tells
  the router to re-read its pending entries first.

  Input:
    KEYS[1] the stream's router fence (value: the current router's fencing token)
    KEYS[2] the stream

    ARGV[1] fencing token
    ARGV[2] group
    ARGV[3] consumer
    ARGV[4] COUNT
    ARGV[5] id (`>` or a pending cursor)
    ARGV[6] (optional) the last-delivered id the router expects ('' = unknown: not checked)

  Output:
    -1 when fenced; -2 when the group's last-delivered id is not the one expected; else
    { {seconds, microseconds}, the stream's entries (XREADGROUP rows, possibly empty), last-delivered id }
    (the group's last-delivered id after the read: asked of XINFO GROUPS at most once per call)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end

local function lastDelivered()
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[2])) do
    local f = {}
    for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
    if f['name'] == ARGV[2] then return f['last-delivered-id'] end
  end
  return ''
end

local expected = ARGV[6] and ARGV[6] ~= '' and ARGV[6] or nil
if expected and lastDelivered() ~= expected then return -2 end
local t = redis.call('TIME')
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4], 'STREAMS', KEYS[2], ARGV[5])
local rows = {}
if reply and reply[1] then rows = reply[1][2] end
-- The last-delivered id after the read, without asking again when it is known: a read of new
-- entries (`>`) moves it to the last entry returned; any other read, or one returning nothing,
-- leaves it where the check found it.
local after
if ARGV[5] == '>' and #rows > 0 then
  after = rows[#rows][1]
elseif expected then
  after = expected
else
  after = lastDelivered()
end
return { t, rows, after }
