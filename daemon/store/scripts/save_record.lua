-- save_record: replaces a connector's small record (a poller's cursor, a web chat session),
-- optionally only while a lease is still held with the fence it was granted with: a poller
-- that paused past its lease must not move a cursor another daemon now owns.
-- ARGV: 1 key, 2 seconds to keep it (0: always), 3 lease key ('' when not fenced), 4 holder,
-- 5 fence, 6... field, value pairs.
-- Returns ok({}) or fail('lease_lost', why).
local key, ttl, lease = ARGV[1], tonumber(ARGV[2]), ARGV[3]
if lease ~= '' and (redis.call('GET', lease) ~= ARGV[4] or redis.call('GET', lease .. ':fence') ~= ARGV[5]) then
  return fail('lease_lost', 'the lease ' .. lease .. ' is no longer held by ' .. ARGV[4])
end
redis.call('DEL', key)
if #ARGV >= 7 then redis.call('HSET', key, unpack(ARGV, 6)) end
if ttl > 0 then redis.call('EXPIRE', key, ttl) end
return ok({})
