--[[
  Commits one partition's group of applied entries atomically, fenced by its lease: the changed
  users' states, their risk events and outbox entries, the index entries, reset results, the
  session identities of the logins applied, and the partition's input position (the last applied
  entry); then trims the partition stream below it. The writes come prepared from the client as a
  list of commands; two are procedures of this script:

    SPUT session-key tombstone-key identity-json px login_at user [by-login-key session-id]
      stores a session identity unless revoked (tombstone), older than the stored login of the
      same session (not one stored from a refresh, `from_refresh`; not one whose session ended, by
      its expires_at, at or before login_at), or bound to another user (a session id is never rebound); its outcome: 1
      stored, 0 older, -1 revoked, or {-2, owner, login_at, expires_at} refused
    SEND session-key tombstone-key identity-json login_at user by-login-key by-expiry-key user-sessions-key session-id px
      a sign-out's ended identity (`signed_out_at`): stored over the user's stored session by SPUT's
      rules (its time to live kept) and taken out of the three indexes; one kept with no login
      (`sign_out_only`: no session, binding no id, replaced by whatever comes) only where no session
      is stored, for px ms; a session it ended, over it, for px ms. Its outcome (among SPUT's): 1
      stored, 0 nothing to end (none stored, or another user's) or older, -1 revoked
    SOFF session-key by-login-key by-expiry-key user-sessions-key session-id user
      after SUSER: a session indexed by a login of this commit and ended by a later sign-out of it
      (a SEND), counted toward max_per_user as from its login on, taken out of the three indexes —
      only when what is stored is still the user's ended session (a trimmed one is gone already)
    SIDX index-key score id score id …
      the partition's session index (by login or by expiry, ZADD GT): its k-th (score, id) pair is
      the k-th indexed SPUT's (one with a by-login key), left out when that SPUT did not store the
      login (older, revoked or another user's): the index is final when the script returns
    SUSER user-sessions-key user-devices-key session-key-prefix by-login-key by-expiry-key user now max device-ttl max-ttl n expires_at id … device last_seen json …
      indexes a user's sessions (zset by expiry, but not this commit's logins SPUT did not store —
      its j-th (expires_at, id) pair is the user's j-th indexed SPUT's; trimmed to max, soonest-expiring out — deleted
      with their partition index members in this same step, when the user's: `n`: the count of
      the expires_at, id values that follow; an expires_at of `-` is no SPUT's but a sign-out's
      place among them, of a session a login of this commit indexed: trimmed to max there, it leaves
      the index if still stored ended) and devices (latest identity per device, capped,
      expiring `device-ttl` after the last write; the device, last_seen, json triples last, in
      order, none of a login SPUT refused as another user's, or revoked by another user's tombstone:
      its session_id is not the user's), every
      value a string; its outcome: the session ids trimmed

  Input (numkeys: 2 on one node; on a cluster every key the commit touches):
    KEYS[1] the partition's lease (value: the owner's fencing token `worker#epoch`)
    KEYS[2] the partition's position hash (`pos`: last applied key, `token`)
    KEYS[3…] on a Redis Cluster: every other key the commands name (src/redis/commit-keys.ts),
            the stream ARGV[4] too — never read from KEYS, declared so that Redis refuses the whole
            script up front (TRYAGAIN / ASK, nothing run) while a slot migration has moved one of
            them (or has not yet: one missing), instead of aborting it part-way with "non local
            key" after writes it keeps (a script has no rollback)

    ARGV[1] the committing owner's fencing token ('' = no lease: the session store's own writes)
    ARGV[2] MessagePack array of commands, each an array of strings
    ARGV[3] the new position ('' = unchanged)
    ARGV[4] the partition stream to trim up to the position ('' = none)
    ARGV[5] this commit's id, unique per commit (optional): a commit whose id is the last one
            recorded already ran — a client resending it after a dropped connection (ioredis
            resends unanswered commands) writes nothing twice, and answers what the first run did
            (its SPUT, SEND and SUSER outcomes, kept as `reply` beside the id: a refused rebind
            is audited from them); recorded after the commands, in the position's write
    ARGV[6] the id right after the position (optional): the stream is trimmed below it, so the
            entry at the position goes too (default: below the position)
    ARGV[7] the position the caller last committed or loaded (optional; '0-0' for none stored):
            another stored position — Redis came back with older data (restarted from an older AOF
            or RDB, failed over to a lagging replica) — refuses the commit (-3), so the owner
            re-reads the partition from what Redis holds instead of writing its memory over it
    ARGV[8] '1' on a Redis Cluster: before its first write, the script touches the one kind of key
            it derives rather than is given — the stored sessions a SUSER trim may delete (the
            members of the user's set, when the set may exceed max) — with a two-key EXISTS
            beside KEYS[2], which Redis refuses in a migrating or importing slot when the session
            is not here; so a commit either runs whole or writes nothing (the owner re-reads and
            commits again once the slot is served: src/engine/commit-send.ts). Not on one node
            (no slot moves there): its cost stays as it was

  Output:
    -1 when the lease is not (or no longer) the caller's: nothing written (a paused or
    partitioned-away owner is fenced); -3 when the stored position is not ARGV[7]: nothing written; else { number of commands, {SPUT and SEND outcomes}, {SUSER outcomes} }
    (for a repeated commit id, the first run's: its outcomes kept, the count of commands 0)
]]
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local commitId = ARGV[5] and ARGV[5] ~= '' and ARGV[5] or nil
if commitId and redis.call('HGET', KEYS[2], 'commit') == commitId then
  local kept = redis.call('HGET', KEYS[2], 'reply')
  if kept and kept ~= '' then
    local r = cmsgpack.unpack(kept)
    return { 0, r[1], r[2] }
  end
  return { 0, {}, {} }
end
if ARGV[7] and ARGV[7] ~= '' and (redis.call('HGET', KEYS[2], 'pos') or '0-0') ~= ARGV[7] then return -3 end

-- Whether identity JSON `json` is a refresh's start: its own `from_refresh`, not a field of that name
-- inside it (a claim, a device field). Decoded only when the text holds the key at all (rare).
local function fromRefresh(json)
  if not string.find(json, '"from_refresh":true', 1, true) then return false end
  local ok, d = pcall(cjson.decode, json)
  return ok and type(d) == 'table' and d.from_refresh == true
end

-- Identity JSON `json` decoded when it is a session a sign-out ended (its own `signed_out_at`), else nil.
local function signedOutRecord(json)
  if not string.find(json, '"signed_out_at":', 1, true) then return nil end
  local ok, d = pcall(cjson.decode, json)
  if ok and type(d) == 'table' and d.signed_out_at ~= nil then return d end
  return nil
end

-- Whether the session stored at `key` is still `user`'s, ended by a sign-out (a trimmed one is gone).
local function endedFor(key, user)
  local cur = redis.call('GET', key)
  local d = cur and signedOutRecord(cur)
  return d and d.user == user or false
end

-- Takes session `id` out of the partition's two indexes and the user's set.
local function unindex(byLogin, byExpiry, userSet, id)
  redis.call('ZREM', byLogin, id)
  redis.call('ZREM', byExpiry, id)
  redis.call('ZREM', userSet, id)
end

-- Whether identity JSON `json` is a sign-out kept with no login (`sign_out_only`, as fromRefresh).
local function signOutOnly(json)
  if not string.find(json, '"sign_out_only":true', 1, true) then return false end
  local ok, d = pcall(cjson.decode, json)
  return ok and type(d) == 'table' and d.sign_out_only == true
end

-- `px` nil: the key's time to live is kept (a SEND, over the stored session). Revoked (-1): the
-- tombstone's user second (nil when unreadable), so a login of another user is known refused too.
local function sput(key, tomb, json, px, loginAt, user, byLogin, sid)
  -- One read of both keys (they share the partition's slot).
  local got = redis.call('MGET', tomb, key)
  if got[1] then
    local ok, t = pcall(cjson.decode, got[1])
    return -1, (ok and type(t) == 'table' and type(t.user) == 'string') and t.user or nil
  end
  local cur = got[2]
  -- A sign-out kept with no login is no session: it binds no id, and whatever comes replaces it
  -- (the client ended what it ends: src/sessions/sign-out.ts).
  if cur and signOutOnly(cur) then cur = nil end
  local curRefresh = false
  if cur then
    local ok, d = pcall(cjson.decode, cur)
    if ok and type(d) == 'table' and type(d.user) == 'string' and d.user ~= user then
      return { -2, d.user, tostring(d.login_at), tostring(d.expires_at) }
    end
    -- A session that ended (its expires_at, event time) at or before this login's time: the login
    -- starts the id's session again, whatever the stored one was (src/sessions/baseline.ts).
    local ended = ok and type(d) == 'table' and tonumber(d.expires_at) and tonumber(d.expires_at) <= tonumber(loginAt)
    -- Older than the stored login: not stored — unless that one came from a refresh (no login seen),
    -- which the session's login, earlier in event time, replaces (the client merged the two) when
    -- that login's session reaches the refresh (else, in event-time order, the refresh started the
    -- id's session again: it stays).
    if not ended and ok and type(d) == 'table' and tonumber(d.login_at) and tonumber(d.login_at) > tonumber(loginAt) then
      if d.from_refresh ~= true then return 0 end
      local okn, n = pcall(cjson.decode, json)
      if okn and type(n) == 'table' and tonumber(n.expires_at) and tonumber(n.expires_at) <= tonumber(d.login_at) then return 0 end
    end
    -- A refresh's start never replaces an identity whose start is a login (a refresh built without
    -- the stored identity, read before that login's commit).
    if not ended and ok and type(d) == 'table' and d.from_refresh ~= true and fromRefresh(json) then return 0 end
    -- A session a sign-out ended is replaced within its window only by what keeps that end (the
    -- client extends it so), or by the earlier login of a start stored from a refresh.
    if not ended and ok and type(d) == 'table' and d.signed_out_at ~= nil and tonumber(d.login_at) and tonumber(d.login_at) <= tonumber(loginAt) and not signedOutRecord(json) then return 0 end
    curRefresh = ok and type(d) == 'table' and d.from_refresh == true
  end
  if px then redis.call('SET', key, json, 'PX', px) else redis.call('SET', key, json, 'KEEPTTL') end
  -- The start stored from a refresh, replaced by the session's earlier login: its place in the
  -- partition's by-login index moves back too (the index's ZADD GT only ever raises it).
  if curRefresh and byLogin and not fromRefresh(json) then
    redis.call('ZADD', byLogin, loginAt, sid)
  end
  return 1
end

-- A sign-out's ended identity (src/sessions/sign-out.ts): stored over the user's stored session by
-- SPUT's rules, its time to live kept, and taken out of the partition's indexes and the user's.
-- Nothing stored (0): nothing to end — no stored session, or another user's.
local function send(op)
  local cur = redis.call('GET', op[2])
  local curOnly = cur and signOutOnly(cur)
  local only = signOutOnly(op[4])
  -- A sign-out kept with no login never replaces a session (another user's: the owner held none of
  -- its user's); an ended session is stored only over one stored, or over a sign-out kept with no login.
  if only and cur and not curOnly then return 0 end
  if not only and not cur then return 0 end
  local r = sput(op[2], op[3], op[4], (not cur or curOnly) and op[11] or nil, op[5], op[6])
  if r ~= 1 then return type(r) == 'table' and 0 or r end
  unindex(op[7], op[8], op[9], op[10])
  return 1
end

-- A session ended in this commit after its login indexed it (SOFF): out of the indexes once trimmed.
local function soff(op)
  if endedFor(op[2], op[7]) then unindex(op[3], op[4], op[5], op[6]) end
end

-- The `session_id` of a device entry's JSON ('' when unreadable).
local function sessionOf(json)
  local ok, d = pcall(cjson.decode, json)
  if ok and type(d) == 'table' and type(d.session_id) == 'string' then return d.session_id end
  return ''
end

local function seen(json)
  local ok, d = pcall(cjson.decode, json)
  if ok and type(d) == 'table' then return tonumber(d.last_seen) or 0 end
  return 0
end

-- The end of the JSON object or array starting at `from` in `s` (strings and their escapes skipped).
local function valueEnd(s, from)
  local depth, i, n = 0, from, #s
  while i <= n do
    local c = string.sub(s, i, i)
    if c == '"' then
      i = i + 1
      while i <= n do
        local q = string.sub(s, i, i)
        if q == '\\' then i = i + 1 elseif q == '"' then break end
        i = i + 1
      end
    elseif c == '{' or c == '[' then
      depth = depth + 1
    elseif c == '}' or c == ']' then
      depth = depth - 1
      if depth == 0 then return i end
    end
    i = i + 1
  end
  return nil
end

-- A device's new entry without a posture keeps the posture its current entry has (a login that
-- reports none does not erase what an earlier one reported). Both are JSON.stringify's text of
-- {id, posture?, last_seen, …}: a key's quotes are bare only as a key (escaped in a string), so
-- the posture's text is moved as it is, never decoded and encoded again.
local function withPosture(json, cur)
  if not cur or string.find(json, ',"posture":', 1, true) then return json end
  local at = string.find(cur, ',"posture":{', 1, true)
  local before = string.find(json, ',"last_seen":', 1, true)
  if not at or not before then return json end
  local from = at + string.len(',"posture":')
  local to = valueEnd(cur, from)
  if not to then return json end
  return string.sub(json, 1, before - 1) .. ',"posture":' .. string.sub(cur, from, to) .. string.sub(json, before)
end

-- The key of session `id` under prefix `skey`, as keys.session() spells it: `{`, `}` and `%` as %xx.
local function sessionKey(skey, id)
  return skey .. id:gsub('[{}%%]', function(c) return string.format('%%%x', string.byte(c)) end)
end

-- A session trimmed off its user's index goes with it, atomically (a worker dying before a
-- clean-up round trip would leave it listed and revocable by id, but not among its user's). An id
-- whose stored session is another user's (a refused login's) is that user's: left alone.
local function dropSessions(ids, skey, byLogin, byExpiry, user)
  for _, id in ipairs(ids) do
    local key = sessionKey(skey, id)
    local cur = redis.call('GET', key)
    local ok, d = true, nil
    if cur then ok, d = pcall(cjson.decode, cur) end
    if not cur or (ok and type(d) == 'table' and d.user == user) then
      if cur then redis.call('DEL', key) end
      redis.call('ZREM', byLogin, id)
      redis.call('ZREM', byExpiry, id)
    end
  end
end

-- Per user, per indexed SPUT of the user's (in order): true when it did not store its login (older
-- than the stored one, revoked or another user's, SPUT 0 / -1 / -2). Kept out of the user's index,
-- where a revoked or refused one would take the slot of a session of the user's own, and an older
-- one would put its own expiry in place of the stored session's (ZADD GT).
local notStored = {}
-- Per user, the session ids of this commit's logins of the user refused (SPUT -2: the id is
-- another user's; or -1, revoked, its tombstone another user's): a device entry of such a login is
-- left out of the user's devices, which would otherwise name another user's session.
local refusedIds = {}

local function suser(op)
  local zkey, hkey, now, max, devTtl, maxTtl, n = op[2], op[3], tonumber(op[8]), tonumber(op[9]), tonumber(op[10]), tonumber(op[11]), tonumber(op[12])
  local skip = notStored[op[7]]
  local dropped = {}
  -- Over the limit: the soonest-expiring out, deleted with their partition index members.
  local function trim()
    redis.call('ZREMRANGEBYSCORE', zkey, '-inf', op[8])
    local count = redis.call('ZCARD', zkey)
    if count > max then
      local ids = redis.call('ZRANGE', zkey, 0, count - max - 1)
      redis.call('ZREMRANGEBYRANK', zkey, 0, count - max - 1)
      dropSessions(ids, op[4], op[5], op[6], op[7])
      for _, id in ipairs(ids) do dropped[#dropped + 1] = id end
    end
  end
  local list, last = {}, 0
  local function flush()
    for i = 1, last, 1000 do redis.call('ZADD', zkey, 'GT', unpack(list, i, math.min(i + 999, last))) end
    list, last = {}, 0
  end
  local j = 0
  for i = 13, 12 + n, 2 do
    if op[i] == '-' then
      -- A sign-out of a session a login of this commit indexed: it counted until then (trimmed at
      -- the logins before it, as in event-time order), and counts no more.
      flush()
      trim()
      if endedFor(sessionKey(op[4], op[i + 1]), op[7]) then redis.call('ZREM', zkey, op[i + 1]) end
    else
      j = j + 1
      if not (skip and skip[j]) then
        list[last + 1], list[last + 2] = op[i], op[i + 1]
        last = last + 2
      end
    end
  end
  flush()
  trim()
  local last = redis.call('ZRANGE', zkey, -1, -1, 'WITHSCORES')[2]
  if last then redis.call('PEXPIRE', zkey, math.min(maxTtl, math.max(1, math.ceil(tonumber(last) - now)))) end
  local touched = false
  local refused = refusedIds[op[7]]
  -- Per device (in order of first entry), its entries' indexes: one read and at most one write each,
  -- the entries applied in order in memory (a later one over an older stored one, posture carried).
  local devices, order = {}, {}
  for i = 13 + n, #op - 2, 3 do
    -- A refused login's device gets no entry: its session is another user's.
    if not (refused and refused[sessionOf(op[i + 2])]) then
      local list = devices[op[i]]
      if not list then
        list = {}
        devices[op[i]] = list
        order[#order + 1] = op[i]
      end
      list[#list + 1] = i
    end
  end
  for _, device in ipairs(order) do
    local cur = redis.call('HGET', hkey, device)
    local curSeen = cur and seen(cur)
    local changed = false
    for _, i in ipairs(devices[device]) do
      local at = tonumber(op[i + 1])
      if not cur or curSeen <= at then
        cur, curSeen, changed = withPosture(op[i + 2], cur), at, true
      end
    end
    if changed then
      redis.call('HSET', hkey, device, cur)
      touched = true
    end
  end
  if touched then redis.call('PEXPIRE', hkey, devTtl) end
  if touched and redis.call('HLEN', hkey) > max then
    local all = redis.call('HGETALL', hkey)
    local list = {}
    for j = 1, #all, 2 do list[#list + 1] = { all[j], seen(all[j + 1]) } end
    table.sort(list, function(x, y) return x[2] < y[2] end)
    for j = 1, #list - max do redis.call('HDEL', hkey, list[j][1]) end
  end
  return dropped
end

-- Per indexed SPUT (one with a by-login key), in order: true when it did not store its login.
local unindexed, anyUnindexed = {}, false

local function sidx(op)
  local members = op
  local first = 3
  if anyUnindexed then
    members, first = {}, 1
    local k = 0
    for i = 3, #op, 2 do
      k = k + 1
      if not unindexed[k] then members[#members + 1], members[#members + 2] = op[i], op[i + 1] end
    end
  end
  for i = first, #members, 2000 do redis.call('ZADD', op[2], 'GT', unpack(members, i, math.min(i + 1999, #members))) end
end

local ops = cmsgpack.unpack(ARGV[2])
-- On a cluster (ARGV[8]): every key a trim may delete is checked here before any write (see ARGV[8]).
-- A conservative superset: the set's members when its count and this commit's sessions exceed max.
if ARGV[8] == '1' then
  for i = 1, #ops do
    local op = ops[i]
    if op[1] == 'SUSER' and redis.call('ZCARD', op[2]) + tonumber(op[12]) / 2 > tonumber(op[9]) then
      for _, id in ipairs(redis.call('ZRANGE', op[2], 0, -1)) do redis.call('EXISTS', sessionKey(op[4], id), KEYS[2]) end
    end
  end
end
local puts, users = {}, {}
-- The count of indexed SPUTs per user so far.
local userPuts = {}
for i = 1, #ops do
  local op = ops[i]
  local name = op[1]
  if name == 'SPUT' then
    local r, revokedFor = sput(op[2], op[3], op[4], op[5], op[6], op[7], op[8], op[9])
    local stored = r == 1
    if op[9] then
      unindexed[#unindexed + 1] = not stored
      local j = (userPuts[op[7]] or 0) + 1
      userPuts[op[7]] = j
      if type(r) == 'table' or (revokedFor and revokedFor ~= op[7]) then
        refusedIds[op[7]] = refusedIds[op[7]] or {}
        refusedIds[op[7]][op[9]] = true
      end
      if not stored then
        anyUnindexed = true
        notStored[op[7]] = notStored[op[7]] or {}
        notStored[op[7]][j] = true
      end
    end
    puts[#puts + 1] = r
  elseif name == 'SEND' then
    puts[#puts + 1] = send(op)
  elseif name == 'SIDX' then
    sidx(op)
  elseif name == 'SUSER' then
    users[#users + 1] = suser(op)
  elseif name == 'SOFF' then
    soff(op)
  else
    redis.call(unpack(op))
  end
end
-- The commit id and the position in one write (the id last: a run that failed midway records neither),
-- with the session outcomes a resend of the commit answers ('' for none: most commits).
local reply = ''
if #puts > 0 or #users > 0 then reply = cmsgpack.pack({ puts, users }) end
if ARGV[3] ~= '' then
  if commitId then
    redis.call('HSET', KEYS[2], 'commit', commitId, 'reply', reply, 'pos', ARGV[3], 'token', ARGV[1])
  else
    redis.call('HSET', KEYS[2], 'pos', ARGV[3], 'token', ARGV[1])
  end
  if ARGV[4] ~= '' then redis.call('XTRIM', ARGV[4], 'MINID', (ARGV[6] and ARGV[6] ~= '') and ARGV[6] or ARGV[3]) end
elseif commitId then
  redis.call('HSET', KEYS[2], 'commit', commitId, 'reply', reply)
end
return { #ops, puts, users }
