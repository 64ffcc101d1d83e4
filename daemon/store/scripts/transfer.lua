-- transfer: hands a conversation to a team's queue or to a person (who then holds it).
-- ARGV: 1 now ms, 2 conversation id, 3 scope, 4 team ('' keeps the conversation's team; checked
-- by the caller), 5 user ('' for the team's queue).
local now, id, scope, team, user = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local c, err = load_conversation(id, scope)
if not c then return err end
if c.status == 'closed' then return fail('conflict', 'conversation ' .. id .. ' is closed') end
local from = c.team
if team == '' then team = c.team end
if user ~= '' then
  local u = redis.call('HMGET', 'user:' .. user, 'name', 'disabled')
  if not u[1] or u[2] == '1' then return fail('invalid', 'no active staff member ' .. user) end
end

clear_offer(id)
redis.call('DEL', 'conversation:' .. id .. ':declined')
if c.assignee ~= '' then redis.call('SREM', 'assigned:' .. c.assignee, id) end
redis.call('ZREM', 'queue:' .. from, id)
redis.call('HSET', 'conversation:' .. id, 'team', team)
c.team = team
if user ~= '' then
  assign(c, user, now)
else
  redis.call('HSET', 'conversation:' .. id, 'status', 'queued', 'assignee', '', 'waiting_since', now)
  redis.call('ZADD', 'queue:' .. team, now, id)
end
touch(id, now)
local data = {conversation = conversation_json(id)}
emit('conversation.updated', id, from, data)
if team ~= from then emit('conversation.updated', id, team, data) end
return ok(data)
