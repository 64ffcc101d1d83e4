-- presence: a staff dashboard socket joins, refreshes or leaves its teams' presence. Members
-- expire by themselves, so a daemon that dies does not leave staff online forever.
-- ARGV: 1 now ms, 2 expiry ms, 3 member (socket id), 4 'join', 'refresh' or 'leave', 5 user,
-- 6... teams. Emits presence.updated for each team whose number of staff online changed.
-- The user's own sockets say whether they have a dashboard open (routing reads them).
local now, expiry, member, op, user = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local sockets = 'sockets:' .. user
redis.call('ZREMRANGEBYSCORE', sockets, '-inf', now)
if op == 'leave' then
  redis.call('ZREM', sockets, member)
  if redis.call('ZCARD', sockets) == 0 then redis.call('HSET', 'staff:' .. user, 'left_at', now) end
else
  redis.call('ZADD', sockets, expiry, member)
  -- Someone who never chose is available when they first open the dashboard.
  redis.call('HSETNX', 'staff:' .. user, 'presence', 'available')
end
for i = 6, #ARGV do
  local key = 'presence:' .. ARGV[i]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local before = redis.call('ZCARD', key)
  if op == 'leave' then redis.call('ZREM', key, member) else redis.call('ZADD', key, expiry, member) end
  local after = redis.call('ZCARD', key)
  if after ~= before then emit('presence.updated', '', ARGV[i], {team = ARGV[i], online = after}) end
end
return 1
