-- route_snapshot: what the router needs to decide, read at one instant, for the daemon that
-- holds the routing lease (taken or renewed here). Returns nil when another daemon holds it.
-- ARGV: 1 now ms, 2 this daemon's name, 3 lease ms, 4 most conversations per team, 5 '1' for
-- the state of every held conversation (reading them all is the costly part: the router
-- asks every few seconds), 6... teams.
-- Returns JSON {"staff":[…],"queues":{team:[…]}}; each staff member's `holds` counts their
-- open conversations, `held` lists them when asked.
local now, me, lease, most = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4])
local with_held = ARGV[5] == '1'
if not take_lease('lease:routing', me, lease) then return nil end

local staff = array()
for _, name in ipairs(redis.call('SMEMBERS', 'users')) do
  local u = redis.call('HMGET', 'user:' .. name, 'teams', 'disabled')
  local s = redis.call('HMGET', 'staff:' .. name, 'presence', 'left_at', 'last_assigned')
  local held = array()
  if with_held then
    for _, id in ipairs(redis.call('SMEMBERS', 'assigned:' .. name)) do
      local c = redis.call('HMGET', 'conversation:' .. id, 'status', 'last_direction', 'last_at',
        'assigned_at')
      held[#held + 1] = {id = id, status = c[1] or '', last_direction = c[2] or '',
                         last_at = tonumber(c[3]) or 0, assigned_at = tonumber(c[4]) or 0}
    end
  end
  -- A disabled user is listed as offline, so what they held goes back to the queue.
  staff[#staff + 1] = {name = name, teams = u[1] or '',
    presence = u[2] == '1' and 'offline' or (s[1] or ''),
    left_at = tonumber(s[2]) or 0, last_assigned = tonumber(s[3]) or 0,
    sockets = redis.call('ZCOUNT', 'sockets:' .. name, '(' .. now, '+inf'),
    offers = redis.call('SCARD', 'offers:' .. name), held = held,
    holds = with_held and #held or redis.call('SCARD', 'assigned:' .. name)}
end

local queues = {}
for i = 6, #ARGV do
  local team = ARGV[i]
  local list = array()
  for _, id in ipairs(redis.call('ZRANGE', 'queue:' .. team, 0, most - 1)) do
    local c = redis.call('HMGET', 'conversation:' .. id, 'waiting_since', 'channel', 'patron', 'status',
      'priority', 'team_since', 'after_hours')
    if c[4] == 'queued' then
      local p = redis.call('HMGET', 'patron:' .. (c[3] or ''), 'last_helper', 'last_helped_at')
      local o = redis.call('HMGET', 'offer:' .. id, 'to', 'expires')
      list[#list + 1] = {id = id, waiting_since = tonumber(c[1]) or now, channel = c[2] or '',
        priority = tonumber(c[5]) or 0, team_since = tonumber(c[6]) or tonumber(c[1]) or now,
        after_hours = c[7] == '1',
        tags = array(redis.call('SMEMBERS', 'conversation:' .. id .. ':tags')),
        last_helper = p[1] or '', last_helped_at = tonumber(p[2]) or 0,
        declined = array(redis.call('SMEMBERS', 'conversation:' .. id .. ':declined')),
        offer_to = o[1] or '', offer_expires = tonumber(o[2]) or 0}
    end
  end
  queues[team] = list
end
return encode({staff = staff, queues = queues})
