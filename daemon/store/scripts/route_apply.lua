-- route_apply: carries out the router's decisions, each only if the conversation is still in
-- the state the decision was made for (a claim may have come in meanwhile).
-- ARGV: 1 now ms, 2 JSON list of actions:
--   {"kind":"offer","id":…,"to":[names],"expires":"ms"} offer a waiting conversation
--   {"kind":"expire","id":…}                           an offer timed out: those it went to
--                                                      count as having declined
--   {"kind":"overflow","id":…,"team":…}                move a waiting conversation to a team
--   {"kind":"requeue","id":…,"user":…,"why":…}         take it back from its holder
--   {"kind":"priority","id":…,"priority":n}            its place in the queue changed
-- Returns the number of actions carried out.
local now = tonumber(ARGV[1])
local done = 0

local function requeue(c, team, since)
  redis.call('HSET', 'conversation:' .. c.id, 'status', 'queued', 'assignee', '', 'team', team,
    'waiting_since', since)
  redis.call('ZADD', 'queue:' .. team, since, c.id)
end

for _, a in ipairs(cjson.decode(ARGV[2])) do
  local c = hash('conversation:' .. a.id)
  local offered = redis.call('EXISTS', 'offer:' .. a.id) == 1
  if a.kind == 'offer' and c.status == 'queued' and not offered and #a.to > 0 then
    redis.call('HSET', 'offer:' .. a.id, 'to', ',' .. table.concat(a.to, ',') .. ',',
      'expires', a.expires, 'team', c.team)
    for _, name in ipairs(a.to) do redis.call('SADD', 'offers:' .. name, a.id) end
    emit('offer.created', a.id, c.team, {conversation = conversation_json(a.id),
      to = array(a.to), expires = iso(a.expires)})
    done = done + 1
  elseif a.kind == 'expire' and offered
      and tonumber(redis.call('HGET', 'offer:' .. a.id, 'expires')) <= now then
    local people = clear_offer(a.id)
    for _, name in ipairs(people) do redis.call('SADD', 'conversation:' .. a.id .. ':declined', name) end
    emit('offer.ended', a.id, c.team, {conversation = a.id, to = array(people), reason = 'timeout'})
    done = done + 1
  elseif a.kind == 'overflow' and c.status == 'queued' and a.team ~= c.team then
    local people = clear_offer(a.id)
    if #people > 0 then
      emit('offer.ended', a.id, c.team, {conversation = a.id, to = array(people), reason = 'overflow'})
    end
    redis.call('ZREM', 'queue:' .. c.team, a.id)
    redis.call('DEL', 'conversation:' .. a.id .. ':declined')
    requeue(c, a.team, tonumber(c.waiting_since) or now)
    touch(a.id, now)
    local data = {conversation = conversation_json(a.id)}
    emit('conversation.updated', a.id, c.team, data)
    emit('conversation.updated', a.id, a.team, data)
    done = done + 1
  elseif a.kind == 'priority' and c.status == 'queued' and (tonumber(c.priority) or 0) ~= a.priority then
    redis.call('HSET', 'conversation:' .. a.id, 'priority', a.priority)
    emit('conversation.updated', a.id, c.team, {conversation = conversation_json(a.id)})
    done = done + 1
  elseif a.kind == 'requeue' and c.status == 'assigned' and c.assignee == a.user then
    redis.call('SREM', 'assigned:' .. a.user, a.id)
    redis.call('SADD', 'conversation:' .. a.id .. ':declined', a.user)
    requeue(c, c.team, now)
    touch(a.id, now)
    emit('conversation.updated', a.id, c.team, {conversation = conversation_json(a.id),
      requeued = {user = a.user, why = a.why}})
    done = done + 1
  end
end
return done
