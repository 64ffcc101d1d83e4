-- settle_outbound: what a lane learned sending one entry, recorded with the entry's
-- acknowledgement in one step, so a crash neither loses the outcome nor sends it again:
-- 'sent' (with the channel's id of the message) or 'failed' (with the channel's reason, shown
-- to staff, and the entry kept on the lane's dead-letter list for a supervisor to retry or
-- discard). A delivery status the channel reported before we knew its id is applied now.
-- Settling an entry already settled (the answer was lost, the lane asks again) changes
-- nothing.
-- ARGV: 1 now ms, 2 lane stream, 3 group, 4 entry id, 5 message id, 6 'sent' or 'failed',
-- 7 provider id, 8 error code, 9 error text, 10 dead letter JSON ('' for none), 11 most dead
-- letters kept.
-- Returns the lane's dead-letter count.
local now, stream, group, entry, id = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local status, provider_id, code, why = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local dead = stream .. ':dead'
if redis.call('XACK', stream, group, entry) == 0 then return redis.call('LLEN', dead) end
redis.call('XDEL', stream, entry)
local m = redis.call('HMGET', 'message:' .. id, 'conversation', 'connector')
if m[1] then
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
end
if ARGV[10] ~= '' then
  redis.call('LPUSH', dead, ARGV[10])
  redis.call('LTRIM', dead, 0, tonumber(ARGV[11]) - 1)
end
return redis.call('LLEN', dead)
