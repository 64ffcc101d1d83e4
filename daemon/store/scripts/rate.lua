-- rate: the patron's satisfaction with a conversation (A.score, 1-5) and their comment, given
-- once (an integration's survey; patrons' own answers come through apply_inbound).
-- Keys and arguments: calls::rate (calls.hpp).
local now, id = tonumber(A.now), A.id
local c, err = load_conversation(id, A.scope)
if not c then return err end
if (c.csat or '') ~= '' then return fail('conflict', 'conversation ' .. id .. ' was rated already') end
redis.call('HSET', K.conversation, 'csat', A.score, 'csat_comment', A.comment, 'csat_at', now)
if redis.call('EXISTS', K.facts) == 1 then redis.call('HSET', K.facts, 'csat', A.score) end
local r = with_conversation()
emit_record('conversation.updated', id, c.team, r)
return ok_record(r)
