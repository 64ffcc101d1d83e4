-- route_apply: carries out the router's decisions (A.actions, JSON), each only if the
-- conversation is still in the state (status, team, holder, offer) the decision was made
-- for: a claim, transfer or topic change may have come in meanwhile.
--   {"kind":"offer","id":…,"team":…,"to":[names],"expires":"ms"}  offer a waiting conversation
--   {"kind":"expire","id":…,"offered":[names]}  an offer timed out: those it went to count as
--                                               declined
--   {"kind":"forget_declined","id":…,"team":…}  nobody is left who has not declined: start over
--   {"kind":"overflow","id":…,"team":…,"to_team":…,"offered":[names]}  move a waiting one
--   {"kind":"requeue","id":…,"team":…,"user":…,"why":…}  take it back from its holder
--   {"kind":"priority","id":…,"priority":n}          its place in the queue changed
-- Keys and arguments: calls::route_apply (calls.hpp). K.each holds, for each action in order,
-- the conversation's hash, tags, offer and declined set, its team's queue, the queue it moves
-- to, the holder's set, its facts, then the offer sets of the names it offers to or was
-- offered to.
-- Returns the number of actions carried out.
local now = tonumber(A.now)
local done, at = 0, 1

for _, a in ipairs(cjson.decode(A.actions)) do
  local ck, tk, offer, declined = K.each[at], K.each[at + 1], K.each[at + 2], K.each[at + 3]
  local queue, to_queue, holder = K.each[at + 4], K.each[at + 5], K.each[at + 6]
  local facts = K.each[at + 7]
  local names = (a.kind == 'offer' and a.to) or a.offered or {}
  local offers_keys = {}
  for i = 1, #names do offers_keys[i] = K.each[at + 7 + i] end
  at = at + 8 + #names
  local c = hash(ck)
  local waiting_here = c.status == 'queued' and (a.team == nil or a.team == c.team)
  local offer_to = redis.call('HGET', offer, 'to')
  -- The offer is the one the router saw (none, or the same people).
  local as_seen = (offer_to or '') == (#names > 0 and a.kind ~= 'offer' and
    (',' .. table.concat(names, ',') .. ',') or '')
  if a.kind == 'offer' and waiting_here and not offer_to and #a.to > 0 then
    redis.call('HSET', offer, 'to', ',' .. table.concat(a.to, ',') .. ',', 'expires', a.expires)
    for i = 1, #a.to do redis.call('SADD', offers_keys[i], a.id) end
    emit_record('offer.created', a.id, c.team, put(put(record_of(ck, tk), 'j.to',
      encode(array(a.to))), 'j.expires', encode(iso(a.expires))))
    done = done + 1
  elseif a.kind == 'expire' and offer_to and as_seen
      and tonumber(redis.call('HGET', offer, 'expires')) <= now then
    for _, name in ipairs(clear_offer(offer, offers_keys, a.id, c.team, 'timeout')) do
      redis.call('SADD', declined, name)
    end
    done = done + 1
  elseif a.kind == 'forget_declined' and waiting_here then
    redis.call('DEL', declined)
    done = done + 1
  elseif a.kind == 'overflow' and waiting_here and (not offer_to or as_seen) and a.to_team ~= c.team then
    -- The patron keeps their place (waiting_since); the new team's overflow clock starts now.
    clear_offer(offer, offers_keys, a.id, c.team, 'overflow')
    redis.call('DEL', declined)
    redis.call('ZREM', queue, a.id)
    redis.call('HSET', ck, 'team', a.to_team, 'team_since', now)
    facts_moved(facts, a.to_team)
    redis.call('ZADD', to_queue, tonumber(c.waiting_since) or now, a.id)
    touch(ck, a.id, now)
    local r = record_of(ck, tk)
    emit_record('conversation.updated', a.id, c.team, r)
    emit_record('conversation.updated', a.id, a.to_team, r)
    done = done + 1
  elseif a.kind == 'requeue' and c.status == 'assigned' and c.assignee == a.user
      and c.team == a.team then
    redis.call('SREM', holder, a.id)
    redis.call('SADD', declined, a.user)
    redis.call('HSET', ck, 'status', 'queued', 'assignee', '', 'waiting_since', now,
      'team_since', now)
    redis.call('ZADD', queue, now, a.id)
    touch(ck, a.id, now)
    emit_record('conversation.updated', a.id, c.team, put(record_of(ck, tk), 'j.requeued',
      encode({user = a.user, why = a.why})))
    done = done + 1
  elseif a.kind == 'priority' and c.status == 'queued' and (tonumber(c.priority) or 0) ~= a.priority then
    redis.call('HSET', ck, 'priority', a.priority)
    emit_record('conversation.updated', a.id, c.team, record_of(ck, tk))
    done = done + 1
  end
end
return done
