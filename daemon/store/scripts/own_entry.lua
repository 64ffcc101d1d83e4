-- own_entry: just before a lane sends an entry, checks that this consumer still holds it (no
-- other daemon adopted, sent and acknowledged it meanwhile) and resets its idle time, so
-- another daemon adopts it only after this send had its whole send timeout.
-- Keys and arguments: calls::own_entry (calls.hpp).
-- Returns 1 when the entry is this consumer's to send, else 0.
local pending = redis.call('XPENDING', K.stream, A.group, A.entry, A.entry, 1, A.consumer)
if #pending == 0 then return 0 end
redis.call('XCLAIM', K.stream, A.group, A.consumer, 0, A.entry, 'JUSTID')
return 1
