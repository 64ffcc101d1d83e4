-- offer_reply: a staff member accepts or declines an offer (A.answer). Accepting is a claim
-- that only the people it was offered to can make while it lasts, so two accepts give one
-- owner.
-- Keys and arguments: calls::offer_reply (calls.hpp).
local now, id, user = tonumber(A.now), A.id, A.user
local c, err = load_conversation(id, A.scope)
if not c then return err end
local offer = redis.call('HMGET', K.offer, 'to', 'expires')
local at, upto = nil, nil
if offer[1] then at, upto = string.find(offer[1], ',' .. user .. ',', 1, true) end
local mine = at ~= nil
if not mine or (tonumber(offer[2]) or 0) <= now or c.status ~= 'queued' then
  return fail('conflict', 'the offer of conversation ' .. id .. ' has ended')
end
if A.answer == 'accept' then
  assign(c, user, now)
  local r = with_conversation()
  emit_record('conversation.updated', id, c.team, r)
  return ok_record(r)
end
redis.call('SADD', K.declined, user)
redis.call('SREM', K.user_offers, id)
local rest = string.sub(offer[1], 1, at) .. string.sub(offer[1], upto + 1)
if rest == ',' then redis.call('DEL', K.offer) else redis.call('HSET', K.offer, 'to', rest) end
emit('offer.ended', id, c.team, {conversation = id, to = array({user}), reason = 'declined'})
return ok_record(with_conversation())
