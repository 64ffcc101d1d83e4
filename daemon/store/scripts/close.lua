-- close: ends a conversation. Closing a closed one changes nothing.
-- Keys and arguments: calls::close (calls.hpp).
local now, id, user = tonumber(A.now), A.id, A.user
local c, err = load_conversation(id, A.scope)
if not c then return err end
if c.status ~= 'closed' then
  if c.assignee ~= '' then redis.call('SREM', K.holder, id) end
  clear_offer(K.offer, K.offers, id, c.team, 'closed')
  redis.call('HSET', K.conversation, 'status', 'closed', 'closed_at', now, 'closed_by', user)
  redis.call('ZREM', K.queue, id)
  touch(K.conversation, id, now)
  emit_record('conversation.updated', id, c.team, with_conversation())
end
return ok_record(with_conversation())
