-- defer_outbound: a send that may work later leaves the `outbound` stream for the
-- `outbound:retry` schedule, atomically, so a crash neither loses nor doubles it.
-- ARGV: 1 due time ms, 2 entry id, 3 consumer group, 4... the entry's field/value pairs
-- (with its updated `attempt`).
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('ZADD', 'outbound:retry', ARGV[1], cjson.encode(fields))
redis.call('XACK', 'outbound', ARGV[3], ARGV[2])
redis.call('XDEL', 'outbound', ARGV[2])
return 1
