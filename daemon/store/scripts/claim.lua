-- claim: gives a conversation to the caller, atomically: of two claims at once (from two
-- browsers or two daemons) the first wins and the second gets 'conflict'.
-- ARGV: 1 now ms, 2 conversation id, 3 user, 4 scope, 5 '1' to take it from another holder.
local now, id, user, scope, force = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1'
local c, err = load_conversation(id, scope)
if not c then return err end
if c.status == 'closed' then return fail('conflict', 'conversation ' .. id .. ' is closed') end
local social = social_item_refusal(c)
if social then return social end
if c.assignee ~= '' and c.assignee ~= user and not force then
  return fail('conflict', 'conversation ' .. id .. ' is assigned to ' .. c.assignee)
end
if c.assignee ~= user then
  assign(c, user, now)
  emit_record('conversation.updated', id, c.team, with_conversation(id))
end
return ok_record(with_conversation(id))
