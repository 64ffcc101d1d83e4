-- set_message_status: records what the dispatcher learned sending an outgoing message ('sent'
-- with the channel's id of it, or 'failed' with the channel's reason) and tells the
-- dashboards. A delivery status the channel reported before we knew its id is applied now.
-- ARGV: 1 now ms, 2 message id, 3 status, 4 provider id, 5 error code, 6 error text.
local now, id, status, provider_id, code, why = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local m = redis.call('HMGET', 'message:' .. id, 'conversation', 'connector')
if not m[1] then return fail('not_found', 'message ' .. id .. ' does not exist') end
if provider_id ~= '' then
  local key = 'provider:' .. m[2] .. ':' .. provider_id
  redis.call('SET', key, id, 'EX', 30 * 86400)
  redis.call('HSET', 'message:' .. id, 'provider_id', provider_id)
  local early = redis.call('HMGET', key .. ':early', 'status', 'code', 'why')
  redis.call('DEL', key .. ':early')
  record_delivery(id, status, code, why, now)
  if early[1] then record_delivery(id, early[1], early[2] or '', early[3] or '', now) end
else
  record_delivery(id, status, code, why, now)
end
return ok({})
