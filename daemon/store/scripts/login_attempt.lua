-- login_attempt: counts failed logins per user and per address within a window (A.window
-- seconds), so that password guessing slows down. With A.op = 'check' it only reads.
-- Keys and arguments: calls::login_attempt (calls.hpp).
-- Returns {failures (the larger count), seconds until the window ends}.
local worst, ttl = 0, 0
for _, key in ipairs({K.by_user, K.by_address}) do
  local n
  if A.op == 'fail' then
    n = redis.call('INCR', key)
    if n == 1 then redis.call('EXPIRE', key, tonumber(A.window)) end
  else
    n = tonumber(redis.call('GET', key) or '0')
  end
  if n > worst then worst = n; ttl = redis.call('TTL', key) end
end
return {worst, ttl}
