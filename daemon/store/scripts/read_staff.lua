-- read_staff: a staff member's routing state for their dashboard: the presence they chose,
-- how many dashboards they have open, what they hold, and the offers waiting for them.
-- ARGV: 1 now ms, 2 user, 3 capacity (the largest of their teams'; 0 when they have none).
local now, user, capacity = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', 'sockets:' .. user, '-inf', now)
local offers = {}
for _, id in ipairs(redis.call('SMEMBERS', 'offers:' .. user)) do
  local expires = tonumber(redis.call('HGET', 'offer:' .. id, 'expires'))
  if expires and expires > now then
    offers[#offers + 1] = put(with_conversation(id), 'j.expires', encode(iso(expires)))
  end
end
return ok_record({'s.presence', redis.call('HGET', 'staff:' .. user, 'presence') or 'available',
  'j.dashboards', tostring(redis.call('ZCARD', 'sockets:' .. user)),
  'j.open', tostring(redis.call('SCARD', 'assigned:' .. user)), 'j.capacity', encode(capacity),
  'rs.offers', offers})
