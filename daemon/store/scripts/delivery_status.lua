-- delivery_status: what a channel later reports about a message it accepted (Twilio's status
-- callback: queued, sent, delivered, undelivered, failed), found by the channel's id of the
-- message (K.provider holds "<conversation>:<message>", as the daemon read it: A.seen). A
-- status never goes back (a late "sent" after "delivered" changes nothing). A report that
-- arrives before the outbound lane recorded the channel's id waits for it (K.early; see
-- record_delivery in settle_outbound).
-- Keys and arguments: calls::delivery_status (calls.hpp).
-- Returns 'applied', 'unchanged' or 'early'.
local now, status = tonumber(A.now), A.status
if (redis.call('GET', K.provider) or '') ~= A.seen then return STALE end
if A.seen == '' then
  local held = redis.call('HGET', K.early, 'status')
  if not held or status_rank(status) > status_rank(held) then
    redis.call('HSET', K.early, 'status', status, 'code', A.code, 'why', A.why)
    redis.call('EXPIRE', K.early, 86400)
  end
  return 'early'
end
return record_delivery(status, A.code, A.why, now)
