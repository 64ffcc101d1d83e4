-- apply_inbound: turns one stored inbound message into its conversation: finds or creates the
-- patron, continues the thread's conversation or starts one, appends the message and emits
-- the events. Idempotent: a message already applied (by connector and external id) changes
-- nothing and returns what it became, so the hub may redo an entry after a crash.
--
-- ARGV: 1 now ms, 2 team, 3 topic, 4 reopen window ms (a closed conversation continues when
-- its thread writes again within it), 5 connector, 6 channel, 7 external id, 8 thread,
-- 9 sender address, 10 sender name, 11 text, 12 preview, 13 attachments JSON, 14 facts JSON,
-- 15 sent at ms, 16 received at ms, 17 topic confidence (0..1), 18 topic source ("rule",
-- "classifier", "default"), 19 why that topic, 20 '1' when the team is closed (a new or
-- reopened conversation is marked after-hours: it waits at the top of the queue), 21 the
-- patron's consent on this channel: 'out' (an opt-out keyword such as SMS STOP), 'in' or '', 22 references JSON
-- ([[header, key], ...]: earlier messages this one answers, most telling first), 23 reply facts
-- JSON (what a reply needs to stay in the patron's thread; '' for none: the conversation keeps
-- the last it was given).
-- A reference joins the conversation it names (our own email Message-IDs carry it as
-- "askdesk.<conversation>.…") or the one its key was a thread of, only when that conversation
-- is this patron's on this connector; the message records which header matched (joined_by).
-- Returns {outcome, conversation id, message id, patron id, team}, outcome one of
-- "created" (a new conversation), "continued", "reopened" or "duplicate".
local now, team, topic, reopen_ms = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4])
local connector, channel, external_id, thread = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local sender, sender_name, text, preview = ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local attachments, facts, sent_at, received_at = ARGV[13], ARGV[14], ARGV[15], ARGV[16]
local topic_confidence, topic_source, topic_why = ARGV[17], ARGV[18], ARGV[19]
local after_hours, consent, references, reply_facts = ARGV[20] == '1', ARGV[21], ARGV[22], ARGV[23]

local dedup = 'dedup:' .. connector .. ':' .. external_id
local done = redis.call('HMGET', dedup, 'conversation', 'message')
if done[2] then
  local c = redis.call('HMGET', 'conversation:' .. done[1], 'patron', 'team')
  return {'duplicate', done[1], done[2], c[1] or '', c[2] or ''}
end

-- The patron, known by their address on this channel.
local address_key = 'address:' .. channel .. ':' .. sender
local patron = redis.call('GET', address_key)
if not patron then
  patron = tostring(redis.call('INCR', 'seq:patron'))
  redis.call('SET', address_key, patron)
  redis.call('HSET', 'patron:' .. patron, 'id', patron, 'created_at', now, 'name', sender_name)
end
local given = cjson.decode(facts)
local form = type(given) == 'table' and given.offline_form == '1'
if sender_name ~= '' then
  -- A web form names whoever the visitor typed: it may name a new patron, never rename one.
  if form then
    local current = redis.call('HGET', 'patron:' .. patron, 'name')
    if not current or current == '' then redis.call('HSET', 'patron:' .. patron, 'name', sender_name) end
  else
    redis.call('HSET', 'patron:' .. patron, 'name', sender_name)
  end
end
redis.call('HSET', 'patron:' .. patron, 'updated_at', now)
if type(given) == 'table' then
  for _, field in ipairs({'email', 'phone'}) do  -- the patron's own fields (lint: not a channel)
    if type(given[field]) == 'string' and given[field] ~= '' then
      redis.call('HSET', 'patron:' .. patron, field, given[field])
    end
  end
end
redis.call('HSET', 'patron:' .. patron .. ':addresses', channel .. ':' .. sender, now)
if consent == 'out' then
  redis.call('SET', 'optout:' .. channel .. ':' .. sender, now)
elseif consent == 'in' then
  redis.call('DEL', 'optout:' .. channel .. ':' .. sender)
end

-- The conversation: the one a reference or the thread names, while it is open or closed
-- within the window, and only when it is this patron's on this connector.
-- Returns 'continued' or 'reopened' and the conversation's team, or nil.
local function usable(id)
  if not id then return nil end
  local state = redis.call('HMGET', 'conversation:' .. id, 'status', 'closed_at', 'patron',
    'connector', 'team')
  if state[3] ~= patron or state[4] ~= connector then return nil end
  if state[1] ~= 'closed' then return 'continued', state[5] end
  if reopen_ms > 0 and now - (tonumber(state[2]) or 0) <= reopen_ms then
    return 'reopened', state[5]
  end
  return nil
end
local thread_key = 'thread:' .. connector .. ':' .. thread
local resurfaced = false  -- a dismissed social item back in triage
local conversation, outcome, joined_by, its_team = nil, nil, '', nil
local refs = references ~= '' and cjson.decode(references) or {}
for _, ref in ipairs(refs) do
  local id = string.match(ref[2], '^askdesk%.(%d+)%.') or redis.call('GET', 'thread:' .. connector .. ':' .. ref[2])
  outcome, its_team = usable(id)
  if outcome then
    conversation, joined_by = id, ref[1] .. ' <' .. ref[2] .. '>'
    break
  end
end
-- The thread key names the conversation, unless it already does.
local thread_named = false
if not conversation then
  conversation = redis.call('GET', thread_key)
  outcome, its_team = usable(conversation)
  if outcome then thread_named = true else conversation = nil end
end

if not conversation then
  outcome = 'created'
  conversation = tostring(redis.call('INCR', 'seq:conversation'))
  -- A social item (a public mention, a watched post: fact triage) waits in its team's triage
  -- list until staff reply, dismiss it or mark it as abuse; a muted sender's go to the abuse
  -- list. Everything else is queued.
  local status = 'queued'
  if redis.call('HGET', 'patron:' .. patron, 'muted') == '1' then
    status = 'abuse'
  elseif type(given) == 'table' and given.triage == '1' then
    status = 'triage'
  end
  redis.call('HSET', 'conversation:' .. conversation,
    'id', conversation, 'channel', channel, 'connector', connector, 'thread', thread,
    'patron', patron, 'address', sender, 'status', status, 'team', team, 'topic', topic,
    'assignee', '', 'created_at', now, 'updated_at', now, 'waiting_since', now, 'messages', 0,
    'topic_source', topic_source, 'topic_confidence', topic_confidence, 'topic_why', topic_why)
  redis.call('ZADD', 'patron:' .. patron .. ':conversations', now, conversation)
  if status == 'queued' then
    redis.call('ZADD', 'queue:' .. team, now, conversation)
  else
    redis.call('ZADD', social_list(status, team), now, conversation)
  end
  if after_hours then redis.call('HSET', 'conversation:' .. conversation, 'after_hours', '1') end
elseif outcome == 'reopened' then
  -- The hub judged the hours of the team it placed the message in; a conversation that
  -- stayed in another team is not marked.
  if its_team ~= team then after_hours = false end
  team = its_team
  redis.call('HSET', 'conversation:' .. conversation, 'status', 'queued', 'assignee', '',
    'closed_at', '', 'waiting_since', now, 'team_since', now, 'after_hours', after_hours and '1' or '')
  redis.call('DEL', 'conversation:' .. conversation .. ':declined')
  redis.call('ZADD', 'queue:' .. team, now, conversation)
else
  team = its_team
  -- A dismissed item that hears more is news again.
  if redis.call('HGET', 'conversation:' .. conversation, 'status') == 'dismissed' then
    resurfaced = true
    redis.call('HSET', 'conversation:' .. conversation, 'status', 'triage', 'closed_at', '')
    redis.call('ZREM', social_list('dismissed', team), conversation)
    redis.call('ZADD', social_list('triage', team), now, conversation)
  end
end
if not thread_named then redis.call('SET', thread_key, conversation) end
-- What a reply on this channel needs to stay in the patron's thread (email: the subject,
-- the message to answer and its references).
if reply_facts ~= '' then
  redis.call('HSET', 'conversation:' .. conversation, 'reply_facts', reply_facts)
end

local message = tostring(redis.call('INCR', 'seq:message'))
local fields = {
  id = message, conversation = conversation, direction = 'in', text = text, channel = channel,
  connector = connector, external_id = external_id, sender = sender, sender_name = sender_name,
  sent_at = sent_at, received_at = received_at, status = 'received', attachments = attachments,
  facts = facts, joined_by = joined_by}
hset_all('message:' .. message, fields)
redis.call('RPUSH', 'conversation:' .. conversation .. ':messages', message)
redis.call('HINCRBY', 'conversation:' .. conversation, 'messages', 1)
redis.call('HSET', 'conversation:' .. conversation, 'updated_at', now, 'last_in_at', now,
  'last_at', sent_at, 'last_direction', 'in', 'preview', preview)
redis.call('ZADD', 'conversations', now, conversation)
redis.call('HSET', dedup, 'conversation', conversation, 'message', message)
redis.call('EXPIRE', dedup, DEDUP_SECONDS)

-- The conversation read once, for both events.
local r = with_conversation(conversation)
if outcome == 'created' then
  emit_record('conversation.created', conversation, team, r)
elseif outcome == 'reopened' or resurfaced then
  emit_record('conversation.updated', conversation, team, r)
end
emit_record('message.created', conversation, team, with_message_fields(fields, r))
return {outcome, conversation, message, patron, team}
