-- post_message: a staff reply, an internal note or an automatic message, added to its
-- conversation. Replies and automatic messages are also queued on their connector's lane;
-- they start 'pending'. A reply to a waiting conversation claims it. A.override: the caller
-- may answer a conversation someone else holds (supervisors); A.opt_out and A.opt_in: the
-- channel's keywords to name when the patron opted out ('' when unknown).
-- Keys and arguments: calls::post_message (calls.hpp).
local now, id, user, kind = tonumber(A.now), A.id, A.user, A.kind
local c, err = load_conversation(id, A.scope)
if not c then return err end
local claimed = false
if kind == 'out' then
  if c.status == 'closed' then return fail('conflict', 'conversation ' .. id .. ' is closed') end
  local social = social_item_refusal(c)
  if social then return social end
  local opted_out = redis.call('GET', K.optout)
  if opted_out then
    local said = A.opt_out ~= '' and (' (' .. A.opt_out .. ')') or ''
    local until_ = A.opt_in ~= '' and (' (' .. A.opt_in .. ')') or ''
    return fail('conflict', 'the patron opted out' .. said .. ' on ' .. iso(opted_out) ..
      ': nothing can be sent to ' .. c.address .. ' until they opt in again' .. until_)
  end
  if c.assignee ~= '' and c.assignee ~= user and A.override ~= '1' then
    return fail('conflict', 'conversation ' .. id .. ' is assigned to ' .. c.assignee)
  end
  if c.status == 'queued' then
    assign(c, user, now)
    claimed = true
  end
end

local _, m = append_message(c, kind, user, A.author_name, A.text, A.preview, now)

-- The conversation read once, for the events and the answer.
local r = with_conversation()
if claimed then emit_record('conversation.updated', id, c.team, r) end
with_message_fields(m, r)
emit_record('message.created', id, c.team, r)
return ok_record(r)
