-- post_message: a staff reply, an internal note or an automatic message, added to its
-- conversation. Replies and automatic messages are also queued on their connector's lane
-- (`outbound:<connector>`); they start 'pending'. A reply to a waiting conversation claims it.
-- ARGV: 1 now ms, 2 conversation id, 3 user ('' for automatic), 4 author's display name,
-- 5 scope, 6 kind ('out', 'note' or 'auto'), 7 text, 8 preview, 9 '1' when the caller may
-- answer a conversation someone else holds (supervisors), 10 and 11 the channel's opt-out and
-- opt-in keyword to name when the patron opted out ('' when unknown).
local now, id, user, author_name, scope = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local kind, text, preview, override = ARGV[6], ARGV[7], ARGV[8], ARGV[9] == '1'
local opt_out, opt_in = ARGV[10] or '', ARGV[11] or ''
local c, err = load_conversation(id, scope)
if not c then return err end
local claimed = false
if kind == 'out' then
  if c.status == 'closed' then return fail('conflict', 'conversation ' .. id .. ' is closed') end
  local social = social_item_refusal(c)
  if social then return social end
  local opted_out = redis.call('GET', 'optout:' .. c.channel .. ':' .. c.address)
  if opted_out then
    local said = opt_out ~= '' and (' (' .. opt_out .. ')') or ''
    local until_ = opt_in ~= '' and (' (' .. opt_in .. ')') or ''
    return fail('conflict', 'the patron opted out' .. said .. ' on ' .. iso(opted_out) ..
      ': nothing can be sent to ' .. c.address .. ' until they opt in again' .. until_)
  end
  if c.assignee ~= '' and c.assignee ~= user and not override then
    return fail('conflict', 'conversation ' .. id .. ' is assigned to ' .. c.assignee)
  end
  if c.status == 'queued' then
    assign(c, user, now)
    claimed = true
  end
end

local _, m = append_message(c, kind, user, author_name, text, preview, now)

-- The conversation read once, for the events and the answer.
local r = with_conversation(id)
if claimed then emit_record('conversation.updated', id, c.team, r) end
with_message_fields(m, r)
emit_record('message.created', id, c.team, r)
return ok_record(r)
