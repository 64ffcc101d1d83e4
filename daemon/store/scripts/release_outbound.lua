-- release_outbound: moves the sends whose retry time has come back onto `outbound`.
-- ARGV: 1 now ms, 2 at most this many. Returns how many moved.
local due = redis.call('ZRANGEBYSCORE', 'outbound:retry', '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  redis.call('XADD', 'outbound', '*', unpack(cjson.decode(member)))
  redis.call('ZREM', 'outbound:retry', member)
end
return #due
