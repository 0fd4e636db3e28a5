--[[
  Claims a worker identity `<host>-<n>` by compare-and-set: the key is taken when it holds the
  expected value ('' = absent; else the pid the caller found dead on this host), so two processes
  starting at once never get the same identity.

  Input:
    KEYS[1] identity key (value: the holder's pid)

    ARGV[1] expected current value ('' = absent)
    ARGV[2] our pid
    ARGV[3] ttl (ms)

  Output:
    {1, pid} claimed, {0, holder pid} held by another value than expected
]]
local cur = redis.call('GET', KEYS[1])
if (cur == false and ARGV[1] == '') or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', tonumber(ARGV[3]))
  return {1, ARGV[2]}
end
return {0, cur or ''}
