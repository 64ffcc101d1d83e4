-- settle_outbound: what a lane learned sending one entry, recorded with the entry's
-- acknowledgement in one step, so a crash neither loses the outcome nor sends it again:
-- 'sent' (with the channel's id of the message) or 'failed' (with the channel's reason, shown
-- to staff, and the entry kept on the lane's dead-letter list for a supervisor to retry or
-- discard). A delivery status the channel reported before we knew its id is applied now.
-- Settling an entry already settled (the answer was lost, the lane asks again) changes
-- nothing. A.letter: the dead letter's JSON ('' for none); A.most: dead letters kept.
-- Keys and arguments: calls::settle_outbound (calls.hpp); K.provider: the channel id's keys
-- (the id and an early status), none without a provider id.
-- Returns the lane's dead-letter count.
local now, status, code, why = tonumber(A.now), A.status, A.code, A.why
if redis.call('XACK', K.stream, A.group, A.entry) == 0 then return redis.call('LLEN', K.dead) end
redis.call('XDEL', K.stream, A.entry)
if redis.call('EXISTS', K.message) == 1 then
  if #K.provider == 2 then
    local key, early_key = K.provider[1], K.provider[2]
    redis.call('SET', key, A.conversation_id .. ':' .. A.message_id, 'EX', 30 * 86400)
    redis.call('HSET', K.message, 'provider_id', A.provider_id)
    local early = redis.call('HMGET', early_key, 'status', 'code', 'why')
    redis.call('DEL', early_key)
    record_delivery(status, code, why, now)
    if early[1] then record_delivery(early[1], early[2] or '', early[3] or '', now) end
  else
    record_delivery(status, code, why, now)
  end
end
if A.letter ~= '' then
  redis.call('LPUSH', K.dead, A.letter)
  redis.call('LTRIM', K.dead, 0, tonumber(A.most) - 1)
end
return redis.call('LLEN', K.dead)
