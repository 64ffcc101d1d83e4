-- email_transcript: a patron's chat, sent to them by email ("Email me this transcript" in the
-- widget). The text (every message but internal notes, oldest first, times in UTC) is queued on
-- the email connector's lane (`outbound:<connector>`); an internal note in the conversation says where it went,
-- and its status shows whether the mail server took it. At most 3 per conversation, 5 a day
-- to one address and ARGV[8] an hour in all, so the widget cannot be used to send mail to
-- strangers at will.
-- ARGV: 1 now ms, 2 webchat connector, 3 the patron's session (its thread), 4 email
-- connector, 5 address, 6 subject, 7 the first line of the mail, 8 the most in an hour.
-- Returns ok({message = note id}), or fail('not_found' | 'too_many', why).
local now, connector, thread, mail = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local address, subject, intro = ARGV[5], ARGV[6], ARGV[7]
local id = redis.call('GET', 'thread:' .. connector .. ':' .. thread)
if not id then return fail('not_found', 'there is no conversation to send yet') end
local c = hash('conversation:' .. id)
if (tonumber(c.transcripts) or 0) >= 3 then
  return fail('too_many', 'this conversation was already sent by email 3 times')
end
local to_key = 'transcripts:to:' .. string.lower(address)
if (tonumber(redis.call('GET', to_key)) or 0) >= 5 then
  return fail('too_many', 'this address already had 5 transcripts today: please try tomorrow')
end
local hour_key = 'transcripts:hour:' .. connector
if (tonumber(redis.call('GET', hour_key)) or 0) >= tonumber(ARGV[8]) then
  return fail('too_many', 'too many transcripts were asked for in the last hour: please try later')
end
local lines = {}
for _, m in ipairs(redis.call('LRANGE', 'conversation:' .. id .. ':messages', 0, -1)) do
  local f = redis.call('HMGET', 'message:' .. m, 'direction', 'sender_name', 'author_name', 'sent_at', 'text')
  if f[1] and f[1] ~= 'note' then
    local who = f[1] == 'in' and 'You' or f[1] == 'auto' and 'Automatic message' or
      (f[3] ~= nil and f[3] ~= '' and f[3] or 'Library')
    local at = iso(f[4])
    local when = type(at) == 'string' and (string.sub(at, 1, 10) .. ' ' .. string.sub(at, 12, 16) .. ' UTC') or ''
    lines[#lines + 1] = when .. ' ' .. who .. ':\n' .. (f[5] or '') .. '\n'
  end
end
if #lines == 0 then return fail('not_found', 'there is nothing to send yet') end
redis.call('HINCRBY', 'conversation:' .. id, 'transcripts', 1)
if redis.call('INCR', to_key) == 1 then redis.call('PEXPIRE', to_key, 86400000) end
if redis.call('INCR', hour_key) == 1 then redis.call('PEXPIRE', hour_key, 3600000) end

local note_text = 'The patron asked for this conversation by email: sent to ' .. address
local message, m = append_message(c, 'note', '', 'askdesk', note_text, note_text, now)
-- Its delivery (and a bounce) is the email connector's.
redis.call('HSET', 'message:' .. message, 'connector', mail, 'status', 'pending')
m.connector, m.status = mail, 'pending'
redis.call('XADD', 'outbound:' .. mail, '*', 'message', message, 'conversation', id, 'connector', mail,
  'to', address, 'thread', '', 'patron_name', '', 'text', intro .. '\n\n' .. table.concat(lines, '\n'),
  'automatic', '0', 'facts', encode({subject = subject}))
emit_record('message.created', id, c.team, with_message_fields(m, with_conversation(id)))
return ok({message = message})
