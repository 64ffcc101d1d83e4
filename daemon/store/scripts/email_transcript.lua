-- email_transcript: a patron's chat, sent to them by email ("Email me this transcript" in the
-- widget). The text (every message but internal notes, oldest first, times in UTC) is queued on
-- the email connector's lane (K.mail_outbound); an internal note in the conversation says where
-- it went, and its status shows whether the mail server took it. At most 3 per conversation,
-- 5 a day to one address (K.to) and A.most an hour from the widget (K.hour), so the widget
-- cannot be used to send mail to strangers at will.
-- Keys and arguments: calls::email_transcript (calls.hpp); K.transcript are the conversation's
-- messages as the daemon read them.
-- Returns ok({message = note id}), or fail('not_found' | 'too_many', why).
local now, id, mail, address = tonumber(A.now), A.id, A.mail, A.address
local c, err = load_conversation(id, nil)
if not c then return err end
if table.concat(redis.call('LRANGE', K.messages, 0, -1), ',') ~= table.concat(A.transcript_ids, ',') then
  return STALE
end
if (tonumber(c.transcripts) or 0) >= 3 then
  return fail('too_many', 'this conversation was already sent by email 3 times')
end
if (tonumber(redis.call('GET', K.to)) or 0) >= 5 then
  return fail('too_many', 'this address already had 5 transcripts today: please try tomorrow')
end
if (tonumber(redis.call('GET', K.hour)) or 0) >= tonumber(A.most) then
  return fail('too_many', 'too many transcripts were asked for in the last hour: please try later')
end
local lines = {}
for _, key in ipairs(K.transcript) do
  local f = redis.call('HMGET', key, 'direction', 'sender_name', 'author_name', 'sent_at', 'text')
  if f[1] and f[1] ~= 'note' then
    local who = f[1] == 'in' and 'You' or f[1] == 'auto' and 'Automatic message' or
      (f[3] ~= nil and f[3] ~= '' and f[3] or 'Library')
    local at = iso(f[4])
    local when = type(at) == 'string' and (string.sub(at, 1, 10) .. ' ' .. string.sub(at, 12, 16) .. ' UTC') or ''
    lines[#lines + 1] = when .. ' ' .. who .. ':\n' .. (f[5] or '') .. '\n'
  end
end
if #lines == 0 then return fail('not_found', 'there is nothing to send yet') end
redis.call('HINCRBY', K.conversation, 'transcripts', 1)
if redis.call('INCR', K.to) == 1 then redis.call('PEXPIRE', K.to, 86400000) end
if redis.call('INCR', K.hour) == 1 then redis.call('PEXPIRE', K.hour, 3600000) end

local note_text = 'The patron asked for this conversation by email: sent to ' .. address
local message, m = append_message(c, 'note', '', 'askdesk', note_text, note_text, now)
-- Its delivery (and a bounce) is the email connector's.
redis.call('HSET', K.message, 'connector', mail, 'status', 'pending')
m.connector, m.status = mail, 'pending'
redis.call('XADD', K.mail_outbound, '*', 'message', message, 'conversation', id, 'connector', mail,
  'to', address, 'thread', '', 'patron_name', '', 'text', A.intro .. '\n\n' .. table.concat(lines, '\n'),
  'automatic', '0', 'facts', encode({subject = A.subject}))
emit_record('message.created', id, c.team, with_message_fields(m, with_conversation()))
return ok({message = message})
