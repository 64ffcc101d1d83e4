-- lease: takes, renews or gives up a lease that only one daemon may hold at a time (one
-- poller per SMS account or mailbox, one sender per outbound lane). It expires by itself when
-- its holder stops renewing it. Each time it is taken afresh its fence (KEY:fence) grows, so
-- writes made under an older grant can be refused (save_record).
-- ARGV: 1 key, 2 holder (the daemon's name, host:port, the same after a restart, so a daemon
-- that was killed takes its work back at once), 3 lease ms ('0': give it up).
-- Returns the fence (> 0) when `holder` holds it now, else 0.
local key, holder = ARGV[1], ARGV[2]
local current = redis.call('GET', key)
if current and current ~= holder then return 0 end
if ARGV[3] == '0' then
  if current then redis.call('DEL', key) end
  return 0
end
if not current then redis.call('INCR', key .. ':fence') end
take_lease(key, holder, ARGV[3])
return tonumber(redis.call('GET', key .. ':fence'))
