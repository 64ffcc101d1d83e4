-- acknowledge: the automatic answer to a patron who wrote while their team is closed (or
-- open with nobody available), at most once per patron, team and period (A.period:
-- "closed:<next opening ms>" or "busy:<id>"). It joins the transcript as an automatic
-- message and is queued on its connector's lane like a reply. Skipped when the conversation
-- is already with someone, when the patron opted out on this channel, and (busy) when a
-- member of the team is available after all (K.user_keys, K.staff_keys, K.socket_keys: every
-- user's, as the daemon read the users).
-- Keys and arguments: calls::acknowledge (calls.hpp).
-- Returns {'sent', message id} or {'skipped', code, why}, code one of 'taken', 'opted_out',
-- 'available', 'already' (a missing conversation: the daemon answers 'gone').
local now, id, period = tonumber(A.now), A.id, A.period
local c, err = load_conversation(id, nil)
if not c then return err end
if c.status ~= 'queued' then return {'skipped', 'taken', 'the conversation is ' .. c.status} end
if redis.call('EXISTS', K.optout) == 1 then
  return {'skipped', 'opted_out', 'the patron opted out of ' .. c.channel}
end
-- Closed periods are counted per patron and team, busy acknowledgements per conversation.
local busy = string.sub(period, 1, 5) == 'busy:'
local key, field = K.patron, 'acked:' .. c.team
if busy then key, field = K.conversation, 'busy_acked' end
if redis.call('HGET', key, field) == period then
  return {'skipped', 'already', 'already acknowledged in this period'}
end
if busy then
  for i, user_key in ipairs(K.user_keys) do
    local u = redis.call('HMGET', user_key, 'teams', 'disabled', 'name')
    if u[3] and u[2] ~= '1' and in_scope(u[1] or '', c.team)
        and redis.call('HGET', K.staff_keys[i], 'presence') == 'available'
        and redis.call('ZCOUNT', K.socket_keys[i], '(' .. now, '+inf') > 0 then
      return {'skipped', 'available', u[3] .. ' is available'}
    end
  end
end
redis.call('HSET', key, field, period)
local message, m = append_message(c, 'auto', '', '', A.text, A.preview, now)
emit_record('message.created', id, c.team, with_message_fields(m, with_conversation()))
return {'sent', message}
