-- lease: takes, renews or gives up a lease that only one daemon may hold at a time (one
-- poller per SMS account or mailbox, one sender per outbound lane, one router). It expires
-- by itself when its holder stops renewing it. Each time it is taken afresh its fence
-- (K.fence) grows, so writes made under an older grant can be refused (save_record).
-- A.holder: the daemon's name (host:port, the same after a restart, so a daemon that was
-- killed takes its work back at once); A.ms: how long ('0': give it up).
-- Keys and arguments: calls::lease (calls.hpp).
-- Returns the fence (> 0) when the holder holds it now, else 0.
local current = redis.call('GET', K.lease)
if current and current ~= A.holder then return 0 end
if A.ms == '0' then
  if current then redis.call('DEL', K.lease) end
  return 0
end
if not current then redis.call('INCR', K.fence) end
take_lease(K.lease, A.holder, A.ms)
return tonumber(redis.call('GET', K.fence))
