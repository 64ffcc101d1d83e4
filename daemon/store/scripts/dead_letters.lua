-- dead_letters: a supervisor's action on a send that failed for good (docs/api.md, "Dead
-- letters"; the daemon lists them itself). A.action 'retry' puts the send back on its lane
-- (K.stream) as a new entry (its message shows 'pending' again), unless the patron opted out
-- since (conflict); 'discard' drops it (the message stays failed). A.letter: the letter as
-- the daemon read it from K.dead.
-- Keys and arguments: calls::dead_letter (calls.hpp).
-- Returns ok({}), or fail('not_found' | 'conflict', why).
local now = tonumber(A.now)
local letter = cjson.decode(A.letter)
if A.action == 'retry' and redis.call('EXISTS', K.optout) == 1 then
  return fail('conflict', 'the patron opted out since: message ' .. letter.entry.message ..
    ' cannot be sent to ' .. (letter.entry.to or ''))
end
if redis.call('LREM', K.dead, 1, A.letter) == 0 then
  return fail('not_found', 'there is no dead letter ' .. letter.id)
end
if A.action == 'retry' then
  local fields = {}
  for k, v in pairs(letter.entry) do
    if k ~= 'attempt' then
      fields[#fields + 1] = k
      fields[#fields + 1] = v
    end
  end
  redis.call('XADD', K.stream, '*', unpack(fields))
  local c = redis.call('HGET', K.message, 'conversation')
  if c then
    redis.call('HSET', K.message, 'status', 'pending', 'status_at', now, 'error_code', '', 'error', '')
    local r = with_conversation()
    if r then
      emit_record('message.updated', c, redis.call('HGET', K.conversation, 'team'),
        with_message_fields(hash(K.message), r))
    end
  end
end
return ok({})
