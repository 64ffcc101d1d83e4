-- end_sessions: logs a user out everywhere (after a password change or when disabled).
-- ARGV: 1 user name. Returns how many sessions ended.
local key = 'user:' .. ARGV[1] .. ':sessions'
local sessions = redis.call('SMEMBERS', key)
for _, digest in ipairs(sessions) do redis.call('DEL', 'session:' .. digest) end
redis.call('DEL', key)
return #sessions
