-- ingest: makes one inbound message durable, once. Stores it in the `inbound` stream unless
-- its (connector, external id) was stored before, and remembers that pair for DEDUP_SECONDS.
-- Keys and arguments: calls::ingest (calls.hpp); A.fields are the entry's field/value pairs.
-- Returns {1, entry id} when stored now, {0, entry id} when it was a duplicate.
local seen = redis.call('HGET', K.dedup, 'entry')
if seen then return {0, seen} end
local id = redis.call('XADD', K.inbound, '*', unpack(A.fields))
redis.call('HSET', K.dedup, 'entry', id)
redis.call('EXPIRE', K.dedup, DEDUP_SECONDS)
return {1, id}
