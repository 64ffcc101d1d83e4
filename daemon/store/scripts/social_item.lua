-- social_item: what staff decide about a social item in triage.
--   reply:   it becomes a conversation, queued and routed like any other (also from dismissed,
--            and from abuse: a mistake undone, the sender no longer muted);
--   dismiss: no answer needed; it leaves triage and is kept for statistics;
--   abuse:   hidden from the queue and triage, and its sender muted for the library: their
--            later posts go straight to the abuse list.
-- ARGV: 1 now ms, 2 conversation id, 3 scope, 4 action, 5 the staff member's name.
-- Returns {'ok', {conversation}} or an error: not_found, forbidden, conflict (not a social item
-- in a state the action applies to).
local now, id, scope, action, user = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local c, err = load_conversation(id, scope)
if not c then return err end
local from = {reply = {triage = true, dismissed = true, abuse = true}, dismiss = {triage = true},
              abuse = {triage = true, dismissed = true, queued = true}}
if not from[action][c.status] then
  return fail('conflict', 'conversation ' .. id .. ' is ' .. c.status .. ': it cannot be ' ..
    (action == 'reply' and 'replied to from triage' or action == 'dismiss' and 'dismissed' or 'marked as abuse'))
end
local key = 'conversation:' .. id
if c.status ~= 'queued' then redis.call('ZREM', social_list(c.status, c.team), id) end
if action == 'reply' then
  redis.call('HSET', key, 'status', 'queued', 'waiting_since', now, 'closed_at', '', 'triaged_by', user)
  redis.call('ZADD', 'queue:' .. c.team, now, id)
  if c.status == 'abuse' then
    redis.call('HDEL', 'patron:' .. c.patron, 'muted', 'muted_at', 'muted_by')
  end
elseif action == 'dismiss' then
  redis.call('HSET', key, 'status', 'dismissed', 'closed_at', now, 'triaged_by', user)
  redis.call('ZADD', social_list('dismissed', c.team), now, id)
else
  if c.status == 'queued' then
    redis.call('ZREM', 'queue:' .. c.team, id)
    clear_offer(id, c.team, 'closed')
  end
  redis.call('HSET', key, 'status', 'abuse', 'closed_at', now, 'triaged_by', user)
  redis.call('ZADD', social_list('abuse', c.team), now, id)
  redis.call('HSET', 'patron:' .. c.patron, 'muted', '1', 'muted_at', now, 'muted_by', user)
end
touch(id, now)
local r = with_conversation(id)
emit_record('conversation.updated', id, c.team, r)
return ok_record(r)
