-- claim: gives a conversation to the caller, atomically: of two claims at once (from two
-- browsers or two daemons) the first wins and the second gets 'conflict'.
-- Keys and arguments: calls::claim (calls.hpp).
local now, id, user, force = tonumber(A.now), A.id, A.user, A.force == '1'
local c, err = load_conversation(id, A.scope)
if not c then return err end
if c.status == 'closed' then return fail('conflict', 'conversation ' .. id .. ' is closed') end
local social = social_item_refusal(c)
if social then return social end
if c.assignee ~= '' and c.assignee ~= user and not force then
  return fail('conflict', 'conversation ' .. id .. ' is assigned to ' .. c.assignee)
end
if c.assignee ~= user then
  assign(c, user, now)
  emit_record('conversation.updated', id, c.team, with_conversation())
end
return ok_record(with_conversation())
