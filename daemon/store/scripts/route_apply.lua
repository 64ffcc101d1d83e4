-- route_apply: carries out the router's decisions, each only if the conversation is still in
-- the state (status, team, holder) the decision was made for: a claim, transfer or topic
-- change may have come in meanwhile.
-- ARGV: 1 now ms, 2 JSON list of actions:
--   {"kind":"offer","id":…,"team":…,"to":[names],"expires":"ms"}  offer a waiting conversation
--   {"kind":"expire","id":…}              an offer timed out: those it went to count as declined
--   {"kind":"forget_declined","id":…,"team":…}  nobody is left who has not declined: start over
--   {"kind":"overflow","id":…,"team":…,"to_team":…}  move a waiting conversation to a team
--   {"kind":"requeue","id":…,"user":…,"why":…}       take it back from its holder
--   {"kind":"priority","id":…,"priority":n}          its place in the queue changed
-- Returns the number of actions carried out.
local now = tonumber(ARGV[1])
local done = 0

for _, a in ipairs(cjson.decode(ARGV[2])) do
  local c = hash('conversation:' .. a.id)
  local waiting_here = c.status == 'queued' and (a.team == nil or a.team == c.team)
  local offered = redis.call('EXISTS', 'offer:' .. a.id) == 1
  if a.kind == 'offer' and waiting_here and not offered and #a.to > 0 then
    redis.call('HSET', 'offer:' .. a.id, 'to', ',' .. table.concat(a.to, ',') .. ',',
      'expires', a.expires)
    for _, name in ipairs(a.to) do redis.call('SADD', 'offers:' .. name, a.id) end
    emit_record('offer.created', a.id, c.team, put(put(with_conversation(a.id), 'j.to',
      encode(array(a.to))), 'j.expires', encode(iso(a.expires))))
    done = done + 1
  elseif a.kind == 'expire' and offered
      and tonumber(redis.call('HGET', 'offer:' .. a.id, 'expires')) <= now then
    for _, name in ipairs(clear_offer(a.id, c.team, 'timeout')) do
      redis.call('SADD', 'conversation:' .. a.id .. ':declined', name)
    end
    done = done + 1
  elseif a.kind == 'forget_declined' and waiting_here then
    redis.call('DEL', 'conversation:' .. a.id .. ':declined')
    done = done + 1
  elseif a.kind == 'overflow' and waiting_here and a.to_team ~= c.team then
    -- The patron keeps their place (waiting_since); the new team's overflow clock starts now.
    move_to_team(c, a.to_team, now, tonumber(c.waiting_since) or now, 'overflow')
    local r = with_conversation(a.id)
    emit_record('conversation.updated', a.id, c.team, r)
    emit_record('conversation.updated', a.id, a.to_team, r)
    done = done + 1
  elseif a.kind == 'requeue' and c.status == 'assigned' and c.assignee == a.user then
    redis.call('SREM', 'assigned:' .. a.user, a.id)
    redis.call('SADD', 'conversation:' .. a.id .. ':declined', a.user)
    redis.call('HSET', 'conversation:' .. a.id, 'status', 'queued', 'assignee', '',
      'waiting_since', now, 'team_since', now)
    redis.call('ZADD', 'queue:' .. c.team, now, a.id)
    touch(a.id, now)
    emit_record('conversation.updated', a.id, c.team, put(with_conversation(a.id), 'j.requeued',
      encode({user = a.user, why = a.why})))
    done = done + 1
  elseif a.kind == 'priority' and c.status == 'queued' and (tonumber(c.priority) or 0) ~= a.priority then
    redis.call('HSET', 'conversation:' .. a.id, 'priority', a.priority)
    emit_record('conversation.updated', a.id, c.team, with_conversation(a.id))
    done = done + 1
  end
end
return done
