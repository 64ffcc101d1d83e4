-- presence: a staff dashboard socket joins, refreshes or leaves its teams' presence (A.op:
-- 'join', 'refresh' or 'leave'; K.teams, the presence sets of A.team_ids). Members expire by
-- themselves (A.expiry), so a daemon that dies does not leave staff online forever. Emits
-- presence.updated for each team whose number of staff online changed. The user's own sockets
-- (K.sockets) say whether they have a dashboard open (routing reads them); staff.updated says
-- when that changed (their first dashboard opened, their last closed).
-- Keys and arguments: calls::presence (calls.hpp).
local now, expiry, member, op = tonumber(A.now), tonumber(A.expiry), A.member, A.op
redis.call('ZREMRANGEBYSCORE', K.sockets, '-inf', now)
local open_before = redis.call('ZCARD', K.sockets) > 0
if op == 'leave' then
  redis.call('ZREM', K.sockets, member)
  if redis.call('ZCARD', K.sockets) == 0 then redis.call('HSET', K.staff, 'left_at', now) end
else
  redis.call('ZADD', K.sockets, expiry, member)
  -- Someone who never chose is available when they first open the dashboard.
  redis.call('HSETNX', K.staff, 'presence', 'available')
end
local dashboards = redis.call('ZCARD', K.sockets)
if (dashboards > 0) ~= open_before then
  emit('staff.updated', '', '', {user = A.user, dashboards = dashboards})
end
for i, key in ipairs(K.teams) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local before = redis.call('ZCARD', key)
  if op == 'leave' then redis.call('ZREM', key, member) else redis.call('ZADD', key, expiry, member) end
  local after = redis.call('ZCARD', key)
  local team = A.team_ids[i]
  if after ~= before then emit('presence.updated', '', team, {team = team, online = after}) end
end
return 1
