-- offer_reply: a staff member accepts or declines an offer. Accepting is a claim that only
-- the people it was offered to can make while it lasts, so two accepts give one owner.
-- ARGV: 1 now ms, 2 conversation id, 3 user, 4 scope, 5 'accept' or 'decline'.
local now, id, user, scope, answer = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local c, err = load_conversation(id, scope)
if not c then return err end
local offer = redis.call('HMGET', 'offer:' .. id, 'to', 'expires')
local at, upto = nil, nil
if offer[1] then at, upto = string.find(offer[1], ',' .. user .. ',', 1, true) end
local mine = at ~= nil
if not mine or (tonumber(offer[2]) or 0) <= now or c.status ~= 'queued' then
  return fail('conflict', 'the offer of conversation ' .. id .. ' has ended')
end
if answer == 'accept' then
  assign(c, user, now)
  local r = with_conversation(id)
  emit_record('conversation.updated', id, c.team, r)
  return ok_record(r)
end
redis.call('SADD', 'conversation:' .. id .. ':declined', user)
redis.call('SREM', 'offers:' .. user, id)
local rest = string.sub(offer[1], 1, at) .. string.sub(offer[1], upto + 1)
if rest == ',' then redis.call('DEL', 'offer:' .. id) else redis.call('HSET', 'offer:' .. id, 'to', rest) end
emit('offer.ended', id, c.team, {conversation = id, to = array({user}), reason = 'declined'})
return ok_record(with_conversation(id))
