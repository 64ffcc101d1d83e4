-- Prepended to every askdesk script (daemon/store/scripts.cpp). Every state change in askdesk
-- is one of these scripts: Redis runs each atomically, so a change and the event that tells
-- the dashboards about it are stored together or not at all. The JSON shapes of a
-- conversation and a message are defined here once, for events and API answers alike
-- (docs/api.md describes them).
--
-- Key layout:
--   inbound, events                    streams
--   outbound:<connector>               stream: the connector's outbound lane (group dispatch)
--   outbound:<connector>:dead          list: JSON of sends that failed for good (dead letters)
--   dedup:<connector>:<external id>    hash: entry, conversation, message
--   seq:<kind>                         id counters
--   patron:<id>                        hash: name, email, phone, last_helper and last_helped_at
--                                      (routing), acked:<team> (the period of the last automatic
--                                      acknowledgement); :addresses hash "<channel>:<address>" ->
--                                      last seen ms; :conversations zset by creation
--   optout:<channel>:<address>         ms the patron opted out (a channel's opt-out keyword,
--                                      such as SMS STOP) until they opt in
--   lease:<what>                       the daemon that routes now (lease:routing), that polls
--                                      an account or mailbox, or that sends a lane
--                                      (lease:lane:<connector>); expires unless renewed
--   lease:<what>:fence                 grows each time the lease changes hands
--   <type>:<connector>:<name>          a connector's records (connector_host.hpp): cursors,
--                                      web chat sessions (webchat:<id>:<sha256 of token>)
--   <type>:<connector>:quota:<name>    a connector's quotas (offline forms an hour)
--   twilio:<connector>:cursor          hash: date (YYYY-MM-DD, UTC), sid: newest message polled
--   email:<connector>:cursor           hash: validity (UIDVALIDITY), uid (the last one taken),
--                                      floor (the last UID of a fresh start's list)
--   email:<connector>:pending          zset: a fresh start's unseen UIDs (score = UID)
--   transcripts:to:<address>           transcripts emailed to an address in the last day
--   transcripts:hour:<connector>       transcripts a webchat connector sent this hour
--   provider:<connector>:<id>          the message id of a channel's message id (delivery
--                                      statuses); :early hash: a status that came first
--   address:<channel>:<address>        patron id
--   conversation:<id>                  hash (after_hours, busy_acked: its busy acknowledgement's
--                                      period, reply_facts: JSON a reply needs on its channel,
--                                      ...); :messages list of message ids; :tags set
--   topic:examples                     stream of staff corrections: text, topic, conversation, by
--   thread:<connector>:<thread>        the latest conversation id of a channel thread (email:
--                                      of each message's Message-ID)
--   message:<id>                       hash (provider_id: the channel's id of an outgoing one;
--                                      joined_by: the header that threaded an inbound one)
--   conversations                      zset of every conversation id by last update
--   queue:<team>                       zset of waiting conversation ids by queue order
--   assigned:<user>                    set of the open conversations a staff member holds
--   staff:<user>                       hash: presence (available|away|offline), left_at (ms the
--                                      last dashboard closed), last_assigned (ms)
--   sockets:<user>                     zset: the user's dashboard sockets -> expiry ms
--   offer:<conversation>               hash: to (",ann,bo,"), expires ms; offers:<user> set
--   conversation:<id>:declined         set of staff who declined it or let its offer time out
--   user:<name>                        hash: name, display_name, role, teams (",a,b,"), password
--                                      (Argon2id string), disabled; `users` set of names
--   session:<sha256 of cookie>         hash: user, csrf; expires after auth.session_hours idle
--   token:<sha256 of token>            API token -> user name; user:<name>:tokens set
--   login:fail:<user|addr>:<x>         failed logins in the current window
--   presence:<team>                    zset: staff socket -> expiry ms
--   webchat:<connector>:<sha256 token> hash: address (the patron's session id), team

local EVENTS_MAX_LENGTH = @EVENTS_MAX_LENGTH@
local DEDUP_SECONDS = @DEDUP_SECONDS@

local ARRAY, RAW = {}, {}
-- A Lua table that must encode as a JSON array even when empty.
local function array(t) return setmetatable(t or {}, ARRAY) end
-- Text that is already JSON, spliced in as it is.
local function raw(json) return setmetatable({json}, RAW) end

-- A string as JSON. Most strings need no escaping: those are quoted here, which is what
-- cjson.encode gives for them, without a C call (encoding is most of an event's cost).
local function quote(s)
  if not string.find(s, '[%c"\\/]') then return '"' .. s .. '"' end
  return cjson.encode(s)
end

local function encode(v)
  local t = type(v)
  if t == 'string' then return quote(v) end
  if t == 'number' then
    if v == math.floor(v) and v > -1e15 and v < 1e15 then return string.format('%d', v) end
    return cjson.encode(v)
  end
  if t == 'boolean' then return v and 'true' or 'false' end
  if t ~= 'table' then return 'null' end
  local mt = getmetatable(v)
  if mt == RAW then return v[1] end
  local parts = {}
  if mt == ARRAY then
    for i = 1, #v do parts[i] = encode(v[i]) end
    return '[' .. table.concat(parts, ',') .. ']'
  end
  for k, x in pairs(v) do parts[#parts + 1] = quote(k) .. ':' .. encode(x) end
  return '{' .. table.concat(parts, ',') .. '}'
end

-- Milliseconds since the epoch -> "2026-11-22T09:30:00.250Z"; nil or "" -> null. A script
-- mostly formats the same few times (its `now`), so each is formatted once per call.
local iso_done = {}
local function iso(ms)
  ms = tonumber(ms)
  if not ms then return cjson.null end
  local done = iso_done[ms]
  if done then return done end
  local s = math.floor(ms / 1000)
  local milli = ms - s * 1000
  local days = math.floor(s / 86400)
  local secs = s - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  done = string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
    math.floor(secs / 3600), math.floor(secs % 3600 / 60), secs % 60, milli)
  iso_done[ms] = done
  return done
end

local function hash(key)
  local flat = redis.call('HGETALL', key)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

-- "" and nil become JSON null.
local function opt(s)
  if s == nil or s == '' then return cjson.null end
  return s
end

@RECORD_FIELDS@
-- Records (daemon/store/records.hpp): what a script hands the daemon instead of JSON, a flat
-- list of keys and values: c.<field> of the conversation, m.<field> of a message, j.<name> a
-- JSON value, s.<name> a string. The daemon writes the JSON of events and answers.

-- Appends key and value to record `r`; returns `r`.
local function put(r, key, value)
  r[#r + 1] = key
  r[#r + 1] = value
  return r
end

-- Appends the conversation's fields to record `r` (a new one when nil); nil when it does not
-- exist.
local function with_conversation(id, r)
  local v = redis.call('HMGET', 'conversation:' .. id, unpack(CONVERSATION_FIELDS))
  if not v[1] then return nil end
  r = r or {}
  local n = #r
  for i = 1, #CONVERSATION_FIELDS do
    r[n + 1] = CONVERSATION_FIELDS_KEY[CONVERSATION_FIELDS[i]]
    r[n + 2] = v[i] or ''
    n = n + 2
  end
  local tags = redis.call('SMEMBERS', 'conversation:' .. id .. ':tags')
  if #tags > 0 then
    table.sort(tags)
    put(r, 'c.tags', encode(array(tags)))
  end
  return put(r, 'c.patron_name', redis.call('HGET', 'patron:' .. v[8], 'name') or '')
end

-- Appends a message's fields `m` (a table, as stored in its hash) to record `r` (a new one
-- when nil), under `prefix` ('m.' unless given).
local function with_message_fields(m, r, prefix)
  r = r or {}
  for k, v in pairs(m) do
    local key = MESSAGE_FIELDS_KEY[k]
    if key then
      if type(v) == 'number' then v = string.format('%d', v) end
      put(r, prefix and (prefix .. k) or key, v)
    end
  end
  return r
end

-- Appends message `id`'s fields to record `r`; nil when it does not exist.
local function with_message(id, r, prefix)
  local m = hash('message:' .. id)
  if not m.id then return nil end
  return with_message_fields(m, r, prefix)
end

-- HSET of every field of table `t` (string keys) on `key`.
local function hset_all(key, t)
  local flat = {}
  for k, v in pairs(t) do
    flat[#flat + 1] = k
    flat[#flat + 1] = v
  end
  redis.call('HSET', key, unpack(flat))
end

-- Scripts called by the API answer {'ok', JSON}, {'ok', record} or {error code, message}.
local function ok(value) return {'ok', encode(value)} end
local function ok_record(r) return {'ok', r} end
local function fail(code, message) return {code, message} end

-- `scope` is '*' (supervisors and admins) or ',team,team,' (a staff member's teams).
local function in_scope(scope, team)
  return scope == '*' or string.find(scope, ',' .. team .. ',', 1, true) ~= nil
end

-- The conversation hash when it exists and the caller may act on it; else nil and the answer.
local function load_conversation(id, scope)
  local c = hash('conversation:' .. id)
  if not c.id then return nil, fail('not_found', 'conversation ' .. id .. ' does not exist') end
  if not in_scope(scope, c.team) then
    return nil, fail('forbidden', 'conversation ' .. id .. ' belongs to team ' .. c.team)
  end
  return c
end

-- The social desk's list for a conversation in `status` ('triage', 'dismissed', 'abuse') of
-- `team`: a sorted set by time.
local SOCIAL_STATE = {triage = 'new', dismissed = 'dismissed', abuse = 'abuse'}
local function social_list(status, team) return 'social:' .. SOCIAL_STATE[status] .. ':' .. team end

-- The refusal for acting on a social item as on a conversation ('triage', 'dismissed',
-- 'abuse': staff decide on the social desk first), or nil.
local function social_item_refusal(c)
  if SOCIAL_STATE[c.status] == nil then return nil end
  return fail('conflict', 'conversation ' .. c.id .. ' is a social item (' .. c.status ..
    '): reply to it from the social desk first')
end

local function touch(id, now)
  redis.call('HSET', 'conversation:' .. id, 'updated_at', now)
  redis.call('ZADD', 'conversations', now, id)
end

-- Appends an event that every dashboard sees, its data a small Lua table (as JSON); returns
-- its id.
local function emit(type, conversation_id, team, data)
  return redis.call('XADD', 'events', 'MAXLEN', '~', EVENTS_MAX_LENGTH, '*',
    'type', type, 'conversation', conversation_id, 'team', team, 'data', encode(data))
end

-- The same with the data as record `r` (the daemon writes its JSON).
local function emit_record(type, conversation_id, team, r)
  return redis.call('XADD', 'events', 'MAXLEN', '~', EVENTS_MAX_LENGTH, '*',
    'type', type, 'conversation', conversation_id, 'team', team, unpack(r))
end

-- Withdraws a conversation's offer, if it has one, telling the people it was offered to why
-- ('taken', 'closed', 'moved', 'timeout', 'overflow'); returns their names.
local function clear_offer(id, team, reason)
  local to = redis.call('HGET', 'offer:' .. id, 'to')
  local people = array()
  if not to then return people end
  for name in string.gmatch(to, '[^,]+') do
    people[#people + 1] = name
    redis.call('SREM', 'offers:' .. name, id)
  end
  redis.call('DEL', 'offer:' .. id)
  emit('offer.ended', id, team, {conversation = id, to = people, reason = reason})
  return people
end

-- Moves waiting conversation `c` to `team`'s queue at `score` (its place there), withdrawing
-- its offer (`reason`) and forgetting who declined it; the new team's overflow clock starts
-- now. The caller tells both teams' dashboards.
local function move_to_team(c, team, now, score, reason)
  clear_offer(c.id, c.team, reason)
  redis.call('DEL', 'conversation:' .. c.id .. ':declined')
  redis.call('ZREM', 'queue:' .. c.team, c.id)
  redis.call('HSET', 'conversation:' .. c.id, 'team', team, 'team_since', now)
  redis.call('ZADD', 'queue:' .. team, score, c.id)
  touch(c.id, now)
end

-- Takes or renews the lease `key` for `holder` for `ms`; false while another holds it.
local function take_lease(key, holder, ms)
  local current = redis.call('GET', key)
  if current and current ~= holder then return false end
  redis.call('SET', key, holder, 'PX', ms)
  return true
end

-- Gives a conversation to `user`, taking it off its queue, its offer and a previous holder;
-- remembers who helped the patron last (routing offers them the patron's next question).
local function assign(c, user, now)
  clear_offer(c.id, c.team, 'taken')
  redis.call('DEL', 'conversation:' .. c.id .. ':declined')
  redis.call('HSET', 'staff:' .. user, 'last_assigned', now)
  redis.call('HSET', 'patron:' .. c.patron, 'last_helper', user, 'last_helped_at', now)
  if c.assignee ~= nil and c.assignee ~= '' then redis.call('SREM', 'assigned:' .. c.assignee, c.id) end
  redis.call('HSET', 'conversation:' .. c.id, 'status', 'assigned', 'assignee', user, 'assigned_at', now)
  redis.call('ZREM', 'queue:' .. c.team, c.id)
  redis.call('SADD', 'assigned:' .. user, c.id)
  touch(c.id, now)
end

-- Adds a staff message ('out' reply, 'note' or 'auto') to conversation `c`; replies and
-- automatic messages are queued on their connector's lane `outbound:<connector>`. Returns the
-- message id and its fields (no need to read the hash back).
local function append_message(c, kind, user, author_name, text, preview, now)
  local id = c.id
  local message = tostring(redis.call('INCR', 'seq:message'))
  local fields = {
    id = message, conversation = id, direction = kind, text = text, channel = c.channel,
    connector = c.connector, author = user, author_name = author_name, sent_at = now,
    received_at = now, status = kind == 'note' and 'note' or 'pending'}
  hset_all('message:' .. message, fields)
  redis.call('RPUSH', 'conversation:' .. id .. ':messages', message)
  redis.call('HINCRBY', 'conversation:' .. id, 'messages', 1)
  touch(id, now)
  if kind == 'out' then
    -- Lists show the last exchange between people, not notes or automatic messages.
    redis.call('HSET', 'conversation:' .. id, 'last_at', now, 'last_direction', kind, 'preview', preview)
    if c.first_response_at == nil or c.first_response_at == '' then
      redis.call('HSET', 'conversation:' .. id, 'first_response_at', now)
    end
  end
  if kind ~= 'note' then
    local patron_name = redis.call('HGET', 'patron:' .. c.patron, 'name') or ''
    local reply_facts = c.reply_facts or '{}'
    redis.call('XADD', 'outbound:' .. c.connector, '*', 'message', message, 'conversation', id,
      'connector', c.connector, 'to', c.address, 'thread', c.thread, 'patron_name', patron_name,
      'text', text, 'automatic', kind == 'auto' and '1' or '0', 'facts', reply_facts)
  end
  return message, fields
end

-- How far along a message is: a status never goes back to an earlier one.
local STATUS_RANK = {pending = 0, queued = 1, accepted = 1, sending = 1, sent = 2, failed = 3,
                     undelivered = 3, delivered = 3, read = 4}
local function status_rank(s) return STATUS_RANK[s] or 0 end

-- Sets an outgoing message's status (and error) unless it is already as far or further, and
-- tells the dashboards. Returns 'applied' or 'unchanged'.
local function record_delivery(id, status, code, why, now)
  local m = redis.call('HMGET', 'message:' .. id, 'conversation', 'status')
  if not m[1] then return 'unchanged' end
  if m[2] == status or (m[2] ~= 'pending' and status_rank(status) <= status_rank(m[2])) then
    return 'unchanged'
  end
  redis.call('HSET', 'message:' .. id, 'status', status, 'status_at', now, 'error_code', code,
    'error', why)
  local r = with_message(id, with_conversation(m[1]))
  emit_record('message.updated', m[1], redis.call('HGET', 'conversation:' .. m[1], 'team'), r)
  return 'applied'
end

local function patron_json(id)
  local p = hash('patron:' .. id)
  if not p.id then return nil end
  local addresses = array()
  local flat = redis.call('HGETALL', 'patron:' .. id .. ':addresses')
  for i = 1, #flat, 2 do
    local channel, address = string.match(flat[i], '^([^:]*):(.*)$')
    local opted_out = redis.call('GET', 'optout:' .. flat[i])
    addresses[#addresses + 1] = {channel = channel, address = address, last_seen = iso(flat[i + 1]),
                                 opted_out_at = iso(opted_out)}
  end
  return {id = p.id, name = opt(p.name), email = opt(p.email), phone = opt(p.phone),
          created_at = iso(p.created_at),
          addresses = addresses}
end


