-- social_item: what staff decide about a social item in triage (A.action).
--   reply:   it becomes a conversation, queued and routed like any other (also from dismissed,
--            and from abuse: a mistake undone, the sender no longer muted);
--   dismiss: no answer needed; it leaves triage and is kept for statistics;
--   abuse:   hidden from the queue and triage, and its sender muted for the library: their
--            later posts go straight to the abuse list.
-- Keys and arguments: calls::social_item (calls.hpp).
-- Returns {'ok', {conversation}} or an error: not_found, forbidden, conflict (not a social item
-- in a state the action applies to).
local now, id, action, user = tonumber(A.now), A.id, A.action, A.user
local c, err = load_conversation(id, A.scope)
if not c then return err end
local from = {reply = {triage = true, dismissed = true, abuse = true}, dismiss = {triage = true},
              abuse = {triage = true, dismissed = true, queued = true}}
if not from[action][c.status] then
  return fail('conflict', 'conversation ' .. id .. ' is ' .. c.status .. ': it cannot be ' ..
    (action == 'reply' and 'replied to from triage' or action == 'dismiss' and 'dismissed' or 'marked as abuse'))
end
if c.status ~= 'queued' then redis.call('ZREM', social_list(c.status), id) end
if action == 'reply' then
  redis.call('HSET', K.conversation, 'status', 'queued', 'waiting_since', now, 'closed_at', '',
    'triaged_by', user)
  redis.call('ZADD', K.queue, now, id)
  if c.status == 'abuse' then
    redis.call('HDEL', K.patron, 'muted', 'muted_at', 'muted_by')
  end
elseif action == 'dismiss' then
  redis.call('HSET', K.conversation, 'status', 'dismissed', 'closed_at', now, 'triaged_by', user)
  redis.call('ZADD', K.social_dismissed, now, id)
else
  if c.status == 'queued' then
    redis.call('ZREM', K.queue, id)
    clear_offer(K.offer, K.offers, id, c.team, 'closed')
  end
  redis.call('HSET', K.conversation, 'status', 'abuse', 'closed_at', now, 'triaged_by', user)
  redis.call('ZADD', K.social_abuse, now, id)
  redis.call('HSET', K.patron, 'muted', '1', 'muted_at', now, 'muted_by', user)
end
touch(K.conversation, id, now)
local r = with_conversation()
emit_record('conversation.updated', id, c.team, r)
return ok_record(r)
