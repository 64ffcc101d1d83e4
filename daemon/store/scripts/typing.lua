-- typing: tells the other side someone is typing. A patron's socket knows its thread, a
-- staff member's the conversation id.
-- ARGV: 1 conversation id or '', 2 connector, 3 thread, 4 who ('patron' or 'staff'), 5 name.
local id = ARGV[1]
if id == '' then id = redis.call('GET', 'thread:' .. ARGV[2] .. ':' .. ARGV[3]) end
if not id then return 0 end
local c = redis.call('HMGET', 'conversation:' .. id, 'team', 'status', 'connector', 'address')
if not c[1] or c[2] == 'closed' then return 0 end
emit('typing', id, c[1], {conversation = id, who = ARGV[4], name = ARGV[5], connector = c[3], address = c[4]})
return 1
