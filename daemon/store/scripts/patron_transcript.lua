-- patron_transcript: what a patron's widget shows when it (re)connects: their open
-- conversation on this thread and its messages after the last one the widget saw. Internal
-- notes are never part of it.
-- ARGV: 1 connector, 2 thread, 3 the last message id the widget has ('' for all).
local id = redis.call('GET', 'thread:' .. ARGV[1] .. ':' .. ARGV[2])
if not id then return ok({conversation = cjson.null, messages = array()}) end
local c = redis.call('HMGET', 'conversation:' .. id, 'status')
if not c[1] or c[1] == 'closed' then return ok({conversation = cjson.null, messages = array()}) end
local after = tonumber(ARGV[3]) or 0
local messages = {}
for _, m in ipairs(redis.call('LRANGE', 'conversation:' .. id .. ':messages', 0, -1)) do
  if tonumber(m) > after then
    local fields = hash('message:' .. m)
    if fields.id and fields.direction ~= 'note' then
      messages[#messages + 1] = with_message_fields(fields)
    end
  end
end
return ok_record({'j.conversation', encode({id = id, status = c[1]}), 'ms.messages', messages})
