-- save_record: replaces a connector's small record (a poller's cursor, a web chat session),
-- optionally only while a lease is still held (K.lease: the lease and its fence, or none)
-- with the fence it was granted with: a poller that paused past its lease must not move a
-- cursor another daemon now owns. A.ttl: seconds to keep it (0: always).
-- Keys and arguments: calls::save_record (calls.hpp).
-- Returns ok({}) or fail('lease_lost', why).
local ttl = tonumber(A.ttl)
if #K.lease == 2 and (redis.call('GET', K.lease[1]) ~= A.holder or
    redis.call('GET', K.lease[2]) ~= A.fence) then
  return fail('lease_lost', 'the lease ' .. K.lease[1] .. ' is no longer held by ' .. A.holder)
end
redis.call('DEL', K.record)
if #A.fields >= 2 then redis.call('HSET', K.record, unpack(A.fields)) end
if ttl > 0 then redis.call('EXPIRE', K.record, ttl) end
return ok({})
