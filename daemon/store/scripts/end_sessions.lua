-- end_sessions: ends a user's access, and tells every daemon to forget what it remembers of
-- them (the `staff.changed` event: user_store trusts a session or token for a few seconds).
-- A.what: 'all' (every session, K.all_sessions as the daemon read them: a password change, a
-- disabled user), 'session' (K.session: a logout) or 'token' (K.token: a revoked token).
-- Keys and arguments: calls::end_sessions (calls.hpp).
-- Returns how many ended.
local user, what = A.user, A.what
local ended = 0
if what == 'all' then
  local now_there = redis.call('SMEMBERS', K.sessions)
  table.sort(now_there)
  local read = {unpack(A.digests)}
  table.sort(read)
  if table.concat(now_there, ',') ~= table.concat(read, ',') then return STALE end
  for _, key in ipairs(K.all_sessions) do redis.call('DEL', key) end
  redis.call('DEL', K.sessions)
  ended = #K.all_sessions
elseif what == 'session' then
  redis.call('SREM', K.sessions, A.digest)
  ended = redis.call('DEL', K.session)
else
  redis.call('SREM', K.tokens, A.digest)
  ended = redis.call('DEL', K.token)
end
emit('staff.changed', '', '', {user = user})
return ended
