-- end_sessions: ends a user's access, and tells every daemon to forget what it remembers of
-- them (the `staff.changed` event: user_store trusts a session or token for a few seconds).
-- ARGV: 1 user name, 2 what ends: 'all' (every session: a password change, a disabled
-- user), 'session' (one, ARGV[3] its digest: a logout) or 'token' (ARGV[3] its digest).
-- Returns how many ended.
local user, what, digest = ARGV[1], ARGV[2], ARGV[3]
local ended = 0
if what == 'all' then
  local key = 'user:' .. user .. ':sessions'
  local sessions = redis.call('SMEMBERS', key)
  for _, d in ipairs(sessions) do redis.call('DEL', 'session:' .. d) end
  redis.call('DEL', key)
  ended = #sessions
elseif what == 'session' then
  redis.call('SREM', 'user:' .. user .. ':sessions', digest)
  ended = redis.call('DEL', 'session:' .. digest)
else
  redis.call('SREM', 'user:' .. user .. ':tokens', digest)
  ended = redis.call('DEL', 'token:' .. digest)
end
emit('staff.changed', '', '', {user = user})
return ended
