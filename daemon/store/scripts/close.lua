-- close: ends a conversation, with the READ level staff chose (A.read_level, '' for none;
-- A.read_required: the team asks for one), and asks the patron how satisfied they were
-- (A.csat_question, '' when the team does not ask on this channel; message A.message).
-- Closing a closed one changes nothing.
-- Keys and arguments: calls::close (calls.hpp).
local now, id, user = tonumber(A.now), A.id, A.user
local c, err = load_conversation(id, A.scope)
if not c then return err end
if c.status ~= 'closed' and A.read_level == '' and A.read_required == '1' then
  return fail('invalid', 'team ' .. c.team .. ' asks for a READ level (1-6) on closing')
end
if c.status ~= 'closed' then
  if c.assignee ~= '' then redis.call('SREM', K.holder, id) end
  clear_offer(K.offer, K.offers, id, c.team, 'closed')
  redis.call('HSET', K.conversation, 'status', 'closed', 'closed_at', now, 'closed_by', user)
  if A.read_level ~= '' then redis.call('HSET', K.conversation, 'read_level', A.read_level) end
  if redis.call('EXISTS', K.facts) == 1 then
    redis.call('HSET', K.facts, 'status', 'closed', 'closed_at', now, 'closed_by', user)
    if A.read_level ~= '' then redis.call('HSET', K.facts, 'read_level', A.read_level) end
  end
  redis.call('ZREM', K.queue, id)
  touch(K.conversation, id, now)
  emit_record('conversation.updated', id, c.team, with_conversation())
  -- How satisfied was the patron? Asked once, on their channel; never an automated sender,
  -- a patron who opted out or one marked as abuse.
  if A.csat_question ~= '' and c.automated ~= '1' and (c.csat_asked_at or '') == ''
      and c.status ~= 'abuse' and not redis.call('GET', K.optout)
      and redis.call('HGET', K.patron, 'muted') ~= '1' then
    local _, m = append_message(c, 'auto', '', '', A.csat_question, A.csat_question, now)
    -- Marked, so that a widget can offer the five numbers as buttons.
    m.facts = '{"csat_question":"1"}'
    redis.call('HSET', K.message, 'facts', m.facts)
    redis.call('HSET', K.conversation, 'csat_asked_at', now)
    emit_record('message.created', id, c.team, with_message_fields(m, with_conversation()))
  end
end
return ok_record(with_conversation())
