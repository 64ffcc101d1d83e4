-- acknowledge: the automatic answer to a patron who wrote while their team is closed (or
-- open with nobody available), at most once per patron, team and period. It joins the
-- transcript as an automatic message and is queued on its connector's lane like a reply. Skipped when
-- the conversation is already with someone, when the patron opted out on this channel, and
-- (busy) when a member of the team is available after all.
-- ARGV: 1 now ms, 2 conversation id, 3 period ("closed:<next opening ms>", "busy:<id>"),
-- 4 text, 5 preview.
-- Returns {'sent', message id} or {'skipped', code, why}, code one of 'gone', 'taken',
-- 'opted_out', 'available', 'already'.
local now, id, period, text, preview = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local c = hash('conversation:' .. id)
if not c.id then return {'skipped', 'gone', 'conversation ' .. id .. ' does not exist'} end
if c.status ~= 'queued' then return {'skipped', 'taken', 'the conversation is ' .. c.status} end
if redis.call('EXISTS', 'optout:' .. c.channel .. ':' .. c.address) == 1 then
  return {'skipped', 'opted_out', 'the patron opted out of ' .. c.channel}
end
-- Closed periods are counted per patron and team, busy acknowledgements per conversation.
local key, field = 'patron:' .. c.patron, 'acked:' .. c.team
if string.sub(period, 1, 5) == 'busy:' then key, field = 'conversation:' .. id, 'busy_acked' end
if redis.call('HGET', key, field) == period then
  return {'skipped', 'already', 'already acknowledged in this period'}
end
if string.sub(period, 1, 5) == 'busy:' then
  for _, name in ipairs(redis.call('SMEMBERS', 'users')) do
    local u = redis.call('HMGET', 'user:' .. name, 'teams', 'disabled')
    if u[2] ~= '1' and in_scope(u[1] or '', c.team)
        and redis.call('HGET', 'staff:' .. name, 'presence') == 'available'
        and redis.call('ZCOUNT', 'sockets:' .. name, '(' .. now, '+inf') > 0 then
      return {'skipped', 'available', name .. ' is available'}
    end
  end
end
redis.call('HSET', key, field, period)
local message, m = append_message(c, 'auto', '', '', text, preview, now)
emit_record('message.created', id, c.team, with_message_fields(m, with_conversation(id)))
return {'sent', message}
