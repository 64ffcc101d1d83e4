-- authenticate: the user behind a session cookie or an API token, for one request. A session
-- lives session_hours after its last use; a disabled user's sessions and tokens stop working.
-- ARGV: 1 'session' or 'token', 2 sha256 of the secret, 3 session lifetime in seconds.
-- Returns {'ok', user JSON, csrf token ('' for tokens)} or {'unauthenticated', why}.
local kind, digest, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local name, csrf
if kind == 'session' then
  local s = redis.call('HMGET', 'session:' .. digest, 'user', 'csrf')
  if not s[1] then return fail('unauthenticated', 'not logged in, or the session expired') end
  name, csrf = s[1], s[2]
  redis.call('EXPIRE', 'session:' .. digest, ttl)
else
  name = redis.call('GET', 'token:' .. digest)
  if not name then return fail('unauthenticated', 'unknown or revoked API token') end
  csrf = ''
end
local u = hash('user:' .. name)
if not u.name or u.disabled == '1' then return fail('unauthenticated', 'user ' .. name .. ' is disabled') end
return {'ok', encode({name = u.name, display_name = u.display_name, role = u.role, teams = u.teams}), csrf}
