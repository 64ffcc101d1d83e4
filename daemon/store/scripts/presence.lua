-- presence: a staff dashboard socket joins, refreshes or leaves its teams' presence. Members
-- expire by themselves, so a daemon that dies does not leave staff online forever.
-- ARGV: 1 now ms, 2 expiry ms, 3 member (socket id), 4 'join', 'refresh' or 'leave', 5... teams.
-- Emits presence.updated for each team whose number of staff online changed.
local now, expiry, member, op = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
for i = 5, #ARGV do
  local key = 'presence:' .. ARGV[i]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local before = redis.call('ZCARD', key)
  if op == 'leave' then redis.call('ZREM', key, member) else redis.call('ZADD', key, expiry, member) end
  local after = redis.call('ZCARD', key)
  if after ~= before then emit('presence.updated', '', ARGV[i], {team = ARGV[i], online = after}) end
end
return 1
