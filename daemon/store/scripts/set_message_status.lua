-- set_message_status: records what the channel said about an outgoing message ('sent',
-- 'failed', later 'delivered'...) and tells the dashboards.
-- ARGV: 1 now ms, 2 message id, 3 status, 4 provider id, 5 error code, 6 error text.
local now, id, status, provider_id, code, why = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local m = redis.call('HMGET', 'message:' .. id, 'conversation', 'status')
if not m[1] then return fail('not_found', 'message ' .. id .. ' does not exist') end
if m[2] == status then return ok({}) end
redis.call('HSET', 'message:' .. id, 'status', status, 'status_at', now, 'provider_id', provider_id,
  'error_code', code, 'error', why)
local team = redis.call('HGET', 'conversation:' .. m[1], 'team')
emit('message.updated', m[1], team, {conversation = conversation_json(m[1]), message = message_json(id)})
return ok({})
