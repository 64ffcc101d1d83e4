-- typing: tells the other side someone is typing (A.who: 'patron' or 'staff'; A.name).
-- Keys and arguments: calls::typing (calls.hpp).
local c = redis.call('HMGET', K.conversation, 'team', 'status', 'connector', 'address')
if not c[1] or c[2] == 'closed' then return 0 end
emit('typing', A.id, c[1], {conversation = A.id, who = A.who, name = A.name, connector = c[3], address = c[4]})
return 1
