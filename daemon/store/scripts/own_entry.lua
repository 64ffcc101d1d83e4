-- own_entry: just before a lane sends an entry, checks that this consumer still holds it (no
-- other daemon adopted, sent and acknowledged it meanwhile) and resets its idle time, so
-- another daemon adopts it only after this send had its whole send timeout.
-- ARGV: 1 lane stream, 2 group, 3 consumer, 4 entry id.
-- Returns 1 when the entry is this consumer's to send, else 0.
local pending = redis.call('XPENDING', ARGV[1], ARGV[2], ARGV[4], ARGV[4], 1, ARGV[3])
if #pending == 0 then return 0 end
redis.call('XCLAIM', ARGV[1], ARGV[2], ARGV[3], 0, ARGV[4], 'JUSTID')
return 1
