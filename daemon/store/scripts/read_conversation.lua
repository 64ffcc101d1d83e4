-- read_conversation: a conversation with its messages (oldest first) and its patron.
-- ARGV: 1 conversation id, 2 scope.
local id, scope = ARGV[1], ARGV[2]
local c, err = load_conversation(id, scope)
if not c then return err end
local messages = {}
for _, m in ipairs(redis.call('LRANGE', 'conversation:' .. id .. ':messages', 0, -1)) do
  messages[#messages + 1] = with_message(m)
end
local r = put(with_conversation(id), 'root', 'c')
put(r, 'ms.messages', messages)
put(r, 'j.message_count', tostring(#messages))
return ok_record(put(r, 'j.patron', encode(patron_json(c.patron))))
