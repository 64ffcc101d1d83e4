-- login_attempt: counts failed logins per user and per address within a window, so that
-- password guessing slows down. With ARGV[4] = 'check' it only reads.
-- ARGV: 1 user name, 2 address, 3 window seconds, 4 'check' or 'fail'.
-- Returns {failures (the larger count), seconds until the window ends}.
local keys = {'login:fail:user:' .. ARGV[1], 'login:fail:addr:' .. ARGV[2]}
local worst, ttl = 0, 0
for _, key in ipairs(keys) do
  local n
  if ARGV[4] == 'fail' then
    n = redis.call('INCR', key)
    if n == 1 then redis.call('EXPIRE', key, tonumber(ARGV[3])) end
  else
    n = tonumber(redis.call('GET', key) or '0')
  end
  if n > worst then worst = n; ttl = redis.call('TTL', key) end
end
return {worst, ttl}
