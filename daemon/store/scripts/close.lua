-- close: ends a conversation. Closing a closed one changes nothing.
-- ARGV: 1 now ms, 2 conversation id, 3 user, 4 scope.
local now, id, user, scope = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local c, err = load_conversation(id, scope)
if not c then return err end
if c.status ~= 'closed' then
  if c.assignee ~= '' then redis.call('SREM', 'assigned:' .. c.assignee, id) end
  clear_offer(id, c.team, 'closed')
  redis.call('HSET', 'conversation:' .. id, 'status', 'closed', 'closed_at', now, 'closed_by', user)
  redis.call('ZREM', 'queue:' .. c.team, id)
  touch(id, now)
  emit_record('conversation.updated', id, c.team, with_conversation(id))
end
return ok_record(with_conversation(id))
