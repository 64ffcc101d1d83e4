-- transfer: hands a conversation to a team's queue or to a person (who then holds it), with an
-- optional internal note, all at once. Staff move what they hold or what waits in their
-- teams; only supervisors and admins take a conversation from someone else's hands. A person
-- must belong to the conversation's (new) team unless they are a supervisor or admin.
-- ARGV: 1 now ms, 2 conversation id, 3 scope, 4 team ('' keeps the team; checked by the
-- caller), 5 user ('' for the team's queue), 6 caller, 7 caller's display name, 8 '1' when
-- the caller is a supervisor or admin, 9 note ('' for none), 10 the note's preview.
local now, id, scope, team, user = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local actor, actor_name, supervisor, note, preview = ARGV[6], ARGV[7], ARGV[8] == '1', ARGV[9], ARGV[10]
local c, err = load_conversation(id, scope)
if not c then return err end
if c.status == 'closed' then return fail('conflict', 'conversation ' .. id .. ' is closed') end
if c.assignee ~= '' and c.assignee ~= actor and not supervisor then
  return fail('conflict', 'conversation ' .. id .. ' is held by ' .. c.assignee .. '; they or a supervisor can transfer it')
end
local from = c.team
if team == '' then team = c.team end
if user ~= '' then
  local u = redis.call('HMGET', 'user:' .. user, 'name', 'disabled', 'teams', 'role')
  if not u[1] or u[2] == '1' then return fail('invalid', 'no active staff member ' .. user) end
  if u[4] == 'staff' and not in_scope(u[3] or '', team) then
    return fail('invalid', user .. ' is not in team ' .. team)
  end
end

if note ~= '' then
  local _, m = append_message(c, 'note', actor, actor_name, note, preview, now)
  emit_record('message.created', id, from, with_message_fields(m, with_conversation(id)))
end
if c.assignee ~= '' then redis.call('SREM', 'assigned:' .. c.assignee, id) end
-- Into the team's queue as a new arrival; a named person then takes it from there.
move_to_team(c, team, now, now, 'moved')
c.team = team
if user ~= '' then
  assign(c, user, now)
else
  redis.call('HSET', 'conversation:' .. id, 'status', 'queued', 'assignee', '', 'waiting_since', now)
end
local r = with_conversation(id)
emit_record('conversation.updated', id, from, r)
if team ~= from then emit_record('conversation.updated', id, team, r) end
return ok_record(r)
