-- delivery_status: what a channel later reports about a message it accepted (Twilio's status
-- callback: queued, sent, delivered, undelivered, failed), found by the channel's id of the
-- message. A status never goes back (a late "sent" after "delivered" changes nothing). A
-- report that arrives before the outbound lane recorded the channel's id waits for it (see
-- record_delivery in settle_outbound).
-- ARGV: 1 now ms, 2 connector, 3 provider id, 4 status, 5 error code, 6 error text.
-- Returns 'applied', 'unchanged' or 'early'.
local now, connector, provider_id = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local status, code, why = ARGV[4], ARGV[5], ARGV[6]
local key = 'provider:' .. connector .. ':' .. provider_id
local id = redis.call('GET', key)
if not id then
  local early = key .. ':early'
  local held = redis.call('HGET', early, 'status')
  if not held or status_rank(status) > status_rank(held) then
    redis.call('HSET', early, 'status', status, 'code', code, 'why', why)
    redis.call('EXPIRE', early, 86400)
  end
  return 'early'
end
return record_delivery(id, status, code, why, now)
