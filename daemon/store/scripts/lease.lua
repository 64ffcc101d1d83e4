-- lease: takes or renews a lease that only one daemon may hold at a time (one poller per
-- SMS account or mailbox). It expires by itself when its holder stops renewing it.
-- ARGV: 1 key, 2 holder (unique per daemon process), 3 lease ms.
-- Returns 1 when `holder` holds it now, else 0.
local key, holder, ms = ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('GET', key)
if current and current ~= holder then return 0 end
redis.call('SET', key, holder, 'PX', ms)
return 1
