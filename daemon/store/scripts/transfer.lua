-- transfer: hands a conversation to a team's queue or to a person (who then holds it), with an
-- optional internal note, all at once. Staff move what they hold or what waits in their
-- teams; only supervisors and admins take a conversation from someone else's hands. A person
-- must belong to the conversation's (new) team unless they are a supervisor or admin.
-- A.team: '' keeps the team (checked by the caller); A.user: '' for the team's queue.
-- Keys and arguments: calls::transfer (calls.hpp).
local now, id, team, user = tonumber(A.now), A.id, A.team, A.user
local actor, supervisor, note = A.actor, A.supervisor == '1', A.note
local c, err = load_conversation(id, A.scope)
if not c then return err end
if c.status == 'closed' then return fail('conflict', 'conversation ' .. id .. ' is closed') end
if c.assignee ~= '' and c.assignee ~= actor and not supervisor then
  return fail('conflict', 'conversation ' .. id .. ' is held by ' .. c.assignee .. '; they or a supervisor can transfer it')
end
local from = c.team
if team == '' then team = c.team end
if user ~= '' then
  local u = redis.call('HMGET', K.to_user, 'name', 'disabled', 'teams', 'role')
  if not u[1] or u[2] == '1' then return fail('invalid', 'no active staff member ' .. user) end
  if u[4] == 'staff' and not in_scope(u[3] or '', team) then
    return fail('invalid', user .. ' is not in team ' .. team)
  end
end

if note ~= '' then
  local _, m = append_message(c, 'note', actor, A.actor_name, note, A.preview, now)
  emit_record('message.created', id, from, with_message_fields(m, with_conversation()))
end
if c.assignee ~= '' then redis.call('SREM', K.holder, id) end
-- Into the team's queue as a new arrival; a named person then takes it from there.
move_to_team(c, team, now, now, 'moved')
c.team = team
if user ~= '' then
  assign(c, user, now, K.to_queue)
else
  redis.call('HSET', K.conversation, 'status', 'queued', 'assignee', '', 'waiting_since', now)
end
local r = with_conversation()
emit_record('conversation.updated', id, from, r)
if team ~= from then emit_record('conversation.updated', id, team, r) end
return ok_record(r)
