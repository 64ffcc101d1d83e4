-- ingest: makes one inbound message durable, once. Stores it in the `inbound` stream unless
-- its (connector, external id) was stored before, and remembers that pair for DEDUP_SECONDS.
-- ARGV[1] connector id, ARGV[2] external id, ARGV[3...] the stream entry's field/value pairs.
-- Returns {1, entry id} when stored now, {0, entry id} when it was a duplicate.
local dedup = 'dedup:' .. ARGV[1] .. ':' .. ARGV[2]
local seen = redis.call('HGET', dedup, 'entry')
if seen then return {0, seen} end
local id = redis.call('XADD', 'inbound', '*', unpack(ARGV, 3))
redis.call('HSET', dedup, 'entry', id)
redis.call('EXPIRE', dedup, DEDUP_SECONDS)
return {1, id}
