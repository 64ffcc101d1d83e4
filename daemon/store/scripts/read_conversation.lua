-- read_conversation: a conversation with its messages (oldest first) and its patron.
-- ARGV: 1 conversation id, 2 scope.
local id, scope = ARGV[1], ARGV[2]
local c, err = load_conversation(id, scope)
if not c then return err end
local result = conversation_json(id)
local messages = array()
for _, m in ipairs(redis.call('LRANGE', 'conversation:' .. id .. ':messages', 0, -1)) do
  messages[#messages + 1] = message_json(m)
end
result.messages = messages
result.message_count = #messages
result.patron = patron_json(c.patron)
return ok(result)
