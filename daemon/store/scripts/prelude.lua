-- The askdesk function library, shared part (daemon/store/scripts.cpp builds the library:
-- this prelude, then each function of scripts/*.lua registered as a Redis Function). Every
-- state change in askdesk is one of these functions: Redis runs each atomically, so a change
-- and the event that tells the dashboards about it are stored together or not at all.
--
-- Every key a function touches is declared by the daemon (FCALL's keys, named in
-- store/calls.hpp and built by store/keys.hpp, whose catalogue says what each holds); no
-- function builds a key name. A function's first line (generated) names them in K and its
-- arguments in A, which the helpers below read: functions run one at a time.
--
-- What the daemon read to choose the keys (a conversation's team, holder, patron, offer)
-- can change before the function runs; a function that finds it changed answers {'stale'}
-- and the daemon reads again (store/calls.hpp, conversation_state).

local EVENTS_MAX_LENGTH = @EVENTS_MAX_LENGTH@
local DEDUP_SECONDS = @DEDUP_SECONDS@
@RECORD_FIELDS@
-- The running function's keys and arguments by name (set by its first line); reading a name
-- it did not declare is an error, not a nil that would build a wrong key.
local K, A = {}, {}
-- What the running function measured for the daemon's metrics: each first staff member on a
-- wait and each first reply ("<assigned|replied>:<wait start>:<at>:<team>:<channel>"); its
-- answer carries them as x.first (store/calls.cpp hands them to the metrics).
local FIRSTS = {}
local DECLARED = {__index = function(_, name) error('askdesk: ' .. name .. ' was not declared', 2) end}
-- `n` items of `list` from `from` (a list of keys or arguments; unpack has a size limit).
local function slice(list, from, n)
  local t = {}
  for i = 1, n do t[i] = list[from + i - 1] end
  return t
end

local ARRAY, RAW = {}, {}
-- A Lua table that must encode as a JSON array even when empty.
local function array(t) return setmetatable(t or {}, ARRAY) end

-- A string as JSON. Most strings need no escaping: those are quoted here, which is what
-- cjson.encode gives for them, without a C call.
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

-- Milliseconds since the epoch -> "2026-11-22T09:30:00.250Z"; nil or "" -> null.
local function iso(ms)
  ms = tonumber(ms)
  if not ms then return cjson.null end
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
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
    math.floor(secs / 3600), math.floor(secs % 3600 / 60), secs % 60, milli)
end

local function hash(key)
  local flat = redis.call('HGETALL', key)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
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

-- Records (daemon/store/records.hpp): what a function hands the daemon instead of JSON, a
-- flat list of keys and values: c.<field> of the conversation, m.<field> of a message,
-- j.<name> a JSON value, s.<name> a string. The daemon writes the JSON.

-- Appends key and value to record `r`; returns `r`.
local function put(r, key, value)
  r[#r + 1] = key
  r[#r + 1] = value
  return r
end

-- Appends the fields of the conversation at `key` (its tags at `tags`) to record `r` (a new
-- one when nil); nil when it does not exist.
local function record_of(key, tags, r)
  local v = redis.call('HMGET', key, unpack(CONVERSATION_FIELDS))
  if not v[1] then return nil end
  r = r or {}
  local n = #r
  for i = 1, #CONVERSATION_FIELDS do
    r[n + 1] = CONVERSATION_FIELDS_KEY[CONVERSATION_FIELDS[i]]
    r[n + 2] = v[i] or ''
    n = n + 2
  end
  local t = redis.call('SMEMBERS', tags)
  if #t > 0 then
    table.sort(t)
    put(r, 'c.tags', encode(array(t)))
  end
  return r
end

-- The running function's own conversation (K.conversation, K.tags).
local function with_conversation(r) return record_of(K.conversation, K.tags, r) end

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

-- Scripts called by the API answer {'ok', JSON}, {'ok', record} or {error code, message}.
local function ok(value) return {'ok', encode(value)} end
local function ok_record(r)
  for _, f in ipairs(FIRSTS) do put(r, 'x.first', f) end
  return {'ok', r}
end
local function fail(code, message) return {code, message} end
local STALE = {'stale', 'what the daemon read changed: it reads again'}

-- `scope` is '*' (supervisors and admins) or ',team,team,' (a staff member's teams).
local function in_scope(scope, team)
  return scope == '*' or string.find(scope, ',' .. team .. ',', 1, true) ~= nil
end

-- What the daemon saw of a conversation when it chose the keys (calls.hpp, `seen`).
local function fingerprint(c, offer_to)
  return (c.team or '') .. '\n' .. (c.assignee or '') .. '\n' .. (c.patron or '') .. '\n' ..
    (c.connector or '') .. '\n' .. (c.channel or '') .. '\n' .. (c.address or '') .. '\n' ..
    (offer_to or '')
end

-- The running function's conversation (K.conversation, K.offer) when it exists, is as the
-- daemon saw it (A.seen) and the caller may act on it (A.scope); else nil and the answer.
local function load_conversation(id, scope)
  local c = hash(K.conversation)
  if fingerprint(c, redis.call('HGET', K.offer, 'to')) ~= A.seen then return nil, STALE end
  if not c.id then return nil, fail('not_found', 'conversation ' .. id .. ' does not exist') end
  if scope and not in_scope(scope, c.team) then
    return nil, fail('forbidden', 'conversation ' .. id .. ' belongs to team ' .. c.team)
  end
  return c
end

-- The social desk's list for a conversation in `status` ('triage', 'dismissed', 'abuse') of
-- its team (K.social_new, K.social_dismissed, K.social_abuse), a sorted set by time.
local function social_list(status)
  if status == 'triage' then return K.social_new end
  if status == 'dismissed' then return K.social_dismissed end
  return K.social_abuse
end
local SOCIAL = {triage = true, dismissed = true, abuse = true}

-- The refusal for acting on a social item as on a conversation ('triage', 'dismissed',
-- 'abuse': staff decide on the social desk first), or nil.
local function social_item_refusal(c)
  if not SOCIAL[c.status] then return nil end
  return fail('conflict', 'conversation ' .. c.id .. ' is a social item (' .. c.status ..
    '): reply to it from the social desk first')
end

local function touch(key, id, now)
  redis.call('HSET', key, 'updated_at', now)
  redis.call('ZADD', K.conversations, now, id)
end

-- Appends an event that every dashboard sees, its data a small Lua table (as JSON); returns
-- its id.
local function emit(type, conversation_id, team, data)
  return redis.call('XADD', K.events, 'MAXLEN', '~', EVENTS_MAX_LENGTH, '*',
    'type', type, 'conversation', conversation_id, 'team', team, 'data', encode(data))
end

-- The same with the data as record `r` (the daemon writes its JSON).
local function emit_record(type, conversation_id, team, r)
  return redis.call('XADD', K.events, 'MAXLEN', '~', EVENTS_MAX_LENGTH, '*',
    'type', type, 'conversation', conversation_id, 'team', team, unpack(r))
end

-- Splits ',a,b,' (or 'a,b') into its names.
local function names_of(list)
  local out = {}
  for name in string.gmatch(list or '', '[^,]+') do out[#out + 1] = name end
  return out
end

-- Withdraws a conversation's offer (at `offer`; its people's offer sets `offers_keys`, in
-- the order of its `to`), telling those it was offered to why ('taken', 'closed', 'moved',
-- 'timeout', 'overflow'); returns their names.
local function clear_offer(offer, offers_keys, id, team, reason)
  local to = redis.call('HGET', offer, 'to')
  local people = array()
  if not to then return people end
  for i, name in ipairs(names_of(to)) do
    people[#people + 1] = name
    redis.call('SREM', offers_keys[i], id)
  end
  redis.call('DEL', offer)
  emit('offer.ended', id, team, {conversation = id, to = people, reason = reason})
  return people
end

-- A conversation's facts for the reports (a hash: `facts`, usually K.facts; store/report.hpp
-- reads them): times, counts and names of staff, never a patron's name, address or words.
-- Waits are numbered from 1: a reopened conversation starts wait n + 1, so it never stretches
-- the first. wait.<n>.start, .team, .after_hours; .assigned (and .assigned_by): the first
-- staff member on it; .replied (and .replied_by): the first human reply (automatic messages
-- are not replies). `staff` lists everyone who took or answered it.
local function facts_wait(facts, now, team, after_hours)
  local n = redis.call('HINCRBY', facts, 'waits', 1)
  local w = 'wait.' .. n .. '.'
  redis.call('HSET', facts, w .. 'start', now, w .. 'team', team,
    w .. 'after_hours', after_hours and '1' or '', 'status', 'open')
end
local function facts_started(facts, index, c, now, after_hours)
  redis.call('HSET', facts, 'id', c.id, 'channel', c.channel, 'connector', c.connector,
    'team', c.team, 'topic', c.topic or '', 'created_at', now)
  redis.call('ZADD', index, now, c.id)
  facts_wait(facts, now, c.team, after_hours)
end
-- The current wait's `field` (assigned, replied), set once with who did it.
local function facts_first(facts, field, user, now)
  local n = redis.call('HGET', facts, 'waits')
  if not n then return end
  local w = 'wait.' .. n .. '.'
  if redis.call('HSETNX', facts, w .. field, now) == 1 then
    redis.call('HSET', facts, w .. field .. '_by', user)
    local f = redis.call('HMGET', facts, w .. 'start', w .. 'team', 'channel')
    FIRSTS[#FIRSTS + 1] = table.concat({field, f[1] or '', now, f[2] or '', f[3] or ''}, ':')
  end
  local staff = redis.call('HGET', facts, 'staff') or ''
  if user ~= '' and not string.find(',' .. staff .. ',', ',' .. user .. ',', 1, true) then
    redis.call('HSET', facts, 'staff', staff == '' and user or (staff .. ',' .. user))
  end
end
local function facts_moved(facts, team)
  if redis.call('EXISTS', facts) == 0 then return end
  redis.call('HINCRBY', facts, 'handoffs', 1)
  redis.call('HSET', facts, 'team', team)
end

-- Moves waiting conversation `c` (the running function's) from its team's queue (K.queue) to
-- `team`'s (K.to_queue) at `score` (its place there), withdrawing its offer (`reason`) and
-- forgetting who declined it; the new team's overflow clock starts now. The caller tells
-- both teams' dashboards.
local function move_to_team(c, team, now, score, reason)
  clear_offer(K.offer, K.offers, c.id, c.team, reason)
  redis.call('DEL', K.declined)
  redis.call('ZREM', K.queue, c.id)
  redis.call('HSET', K.conversation, 'team', team, 'team_since', now)
  facts_moved(K.facts, team)
  redis.call('ZADD', K.to_queue, score, c.id)
  touch(K.conversation, c.id, now)
end

-- Takes or renews the lease `key` for `holder` for `ms`; false while another holds it.
local function take_lease(key, holder, ms)
  local current = redis.call('GET', key)
  if current and current ~= holder then return false end
  redis.call('SET', key, holder, 'PX', ms)
  return true
end

-- Gives the running function's conversation `c` to `user` (their K.staff and K.assigned),
-- taking it off its queue (`queue`), its offer and its previous holder (K.holder); remembers
-- who helped the patron last (K.patron: routing offers them the patron's next question).
local function assign(c, user, now, queue)
  clear_offer(K.offer, K.offers, c.id, c.team, 'taken')
  redis.call('DEL', K.declined)
  redis.call('HSET', K.staff, 'last_assigned', now)
  redis.call('HSET', K.patron, 'last_helper', user, 'last_helped_at', now)
  if c.assignee ~= nil and c.assignee ~= '' then redis.call('SREM', K.holder, c.id) end
  redis.call('HSET', K.conversation, 'status', 'assigned', 'assignee', user, 'assigned_at', now)
  facts_first(K.facts, 'assigned', user, now)
  redis.call('ZREM', queue or K.queue, c.id)
  redis.call('SADD', K.assigned, c.id)
  touch(K.conversation, c.id, now)
end

-- Adds a staff message ('out' reply, 'note' or 'auto') to the running function's conversation
-- `c`, as message A.message (K.message, the id the daemon took); replies and automatic
-- messages are queued on their connector's lane (K.outbound). Returns the message id and its
-- fields (no need to read the hash back).
local function append_message(c, kind, user, author_name, text, preview, now)
  local id = c.id
  local message = A.message
  local fields = {
    id = message, conversation = id, direction = kind, text = text, channel = c.channel,
    connector = c.connector, author = user, author_name = author_name, sent_at = now,
    received_at = now, status = kind == 'note' and 'note' or 'pending'}
  hset_all(K.message, fields)
  redis.call('RPUSH', K.messages, message)
  redis.call('HINCRBY', K.conversation, 'messages', 1)
  touch(K.conversation, id, now)
  if kind == 'out' then
    -- Lists show the last exchange between people, not notes or automatic messages.
    redis.call('HSET', K.conversation, 'last_at', now, 'last_direction', kind, 'preview', preview)
    if c.first_response_at == nil or c.first_response_at == '' then
      redis.call('HSET', K.conversation, 'first_response_at', now)
    end
    facts_first(K.facts, 'replied', user, now)
  end
  if kind ~= 'note' then
    redis.call('XADD', K.outbound, '*', 'message', message, 'conversation', id,
      'connector', c.connector, 'to', c.address, 'thread', c.thread,
      'patron_name', c.patron_name or '', 'text', text, 'automatic', kind == 'auto' and '1' or '0',
      'facts', c.reply_facts or '{}')
  end
  return message, fields
end

-- How far along a message is: a status never goes back to an earlier one.
local STATUS_RANK = {pending = 0, queued = 1, accepted = 1, sending = 1, sent = 2, failed = 3,
                     undelivered = 3, delivered = 3, read = 4}
local function status_rank(s) return STATUS_RANK[s] or 0 end

-- Sets the status (and error) of the outgoing message at K.message (of K.conversation)
-- unless it is already as far or further, and tells the dashboards. Returns 'applied' or
-- 'unchanged'.
local function record_delivery(status, code, why, now)
  local m = redis.call('HMGET', K.message, 'conversation', 'status')
  if not m[1] then return 'unchanged' end
  if m[2] == status or (m[2] ~= 'pending' and status_rank(status) <= status_rank(m[2])) then
    return 'unchanged'
  end
  redis.call('HSET', K.message, 'status', status, 'status_at', now, 'error_code', code,
    'error', why)
  local r = with_conversation()
  if not r then return 'applied' end
  with_message_fields(hash(K.message), r)
  emit_record('message.updated', m[1], redis.call('HGET', K.conversation, 'team'), r)
  return 'applied'
end
