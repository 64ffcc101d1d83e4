-- take_quota: counts one use of a connector's quota (offline forms an hour); the window starts
-- at its first use.
-- ARGV: 1 key, 2 limit, 3 window ms. Returns 1 when within the quota, 0 when it is spent.
local n = redis.call('INCR', ARGV[1])
if n == 1 then redis.call('PEXPIRE', ARGV[1], ARGV[3]) end
return n <= tonumber(ARGV[2]) and 1 or 0
