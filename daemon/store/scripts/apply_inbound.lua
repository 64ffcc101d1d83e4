-- apply_inbound: turns one stored inbound message into its conversation: finds or creates the
-- patron, continues the thread's conversation or starts one, appends the message and emits
-- the events. The daemon read first what decides the keys (conversation_store.cpp): whether
-- the message was applied before, the address's patron, the thread's conversation and the
-- candidates its references name; this function checks that all of it still holds and
-- answers {'stale'} otherwise, so the daemon reads again.
-- Keys and arguments: calls::apply_inbound (calls.hpp). A candidate continues while it is
-- open or closed within A.reopen_ms, and only when it is this patron's on this connector.
-- Returns {outcome, conversation id, message id, patron id, team}, outcome one of
-- "created" (a new conversation), "continued", "reopened" or "rated" (the patron answered the
-- satisfaction question of their closed conversation: A.csat_score, A.csat_comment; it stays
-- closed).
local now, team, reopen_ms = tonumber(A.now), A.team, tonumber(A.reopen_ms)
local connector, channel, sender = A.connector, A.channel, A.sender
local after_hours, consent = A.after_hours == '1', A.consent
local patron = A.patron

if redis.call('HGET', K.dedup, 'message') then return STALE end
if (redis.call('GET', K.address) or '') ~= (A.new_patron == '1' and '' or patron) then return STALE end
if (redis.call('GET', K.thread) or '') ~= A.thread_seen then return STALE end

-- The first usable candidate, as the daemon chose it.
local function usable(key)
  local state = redis.call('HMGET', key, 'status', 'closed_at', 'patron', 'connector', 'team',
    'csat_asked_at', 'csat')
  if state[3] ~= patron or state[4] ~= connector then return nil end
  -- The answer to the satisfaction question it asked on closing (once).
  if state[1] == 'closed' and A.csat_score ~= '' and (state[6] or '') ~= '' and not state[7] then
    return 'rated', state[5]
  end
  if state[1] ~= 'closed' then return 'continued', state[5] end
  if reopen_ms > 0 and now - (tonumber(state[2]) or 0) <= reopen_ms then return 'reopened', state[5] end
  return nil
end
local outcome, its_team = 'created', nil
for i, key in ipairs(K.candidates) do
  local o, t = usable(key)
  if o then
    -- Its team's lists are declared: a transfer since the read makes them others.
    if A.candidate_ids[i] ~= A.conversation or t ~= A.its_team then return STALE end
    outcome, its_team = o, t
    break
  end
end
if outcome ~= A.outcome then return STALE end
local conversation = A.conversation

-- The patron, known by their address on this channel.
local given = cjson.decode(A.facts)
local form = type(given) == 'table' and given.offline_form == '1'
local fields = {'updated_at', now}
if A.new_patron == '1' then
  redis.call('SET', K.address, patron)
  fields = {'id', patron, 'created_at', now, 'updated_at', now, 'name', A.sender_name}
end
if A.sender_name ~= '' then
  -- A web form names whoever the visitor typed: it may name a new patron, never rename one.
  local current = form and redis.call('HGET', K.patron, 'name') or ''
  if not form or current == '' then put(fields, 'name', A.sender_name) end
end
if type(given) == 'table' then
  for _, field in ipairs(PATRON_CONTACT_FIELDS) do
    if type(given[field]) == 'string' and given[field] ~= '' then put(fields, field, given[field]) end
  end
end
redis.call('HSET', K.patron, unpack(fields))
redis.call('HSET', K.patron_addresses, channel .. ':' .. sender, now)
if consent == 'out' then
  redis.call('SET', K.optout, now)
elseif consent == 'in' then
  redis.call('DEL', K.optout)
end
local patron_name = redis.call('HGET', K.patron, 'name') or ''

local resurfaced = false  -- a dismissed social item back in triage
if outcome == 'created' then
  -- A social item (a public mention, a watched post: fact triage) waits in its team's triage
  -- list until staff reply, dismiss it or mark it as abuse; a muted sender's go to the abuse
  -- list. Everything else is queued.
  local status = 'queued'
  if redis.call('HGET', K.patron, 'muted') == '1' then
    status = 'abuse'
  elseif type(given) == 'table' and given.triage == '1' then
    status = 'triage'
  end
  redis.call('HSET', K.conversation,
    'id', conversation, 'channel', channel, 'connector', connector, 'thread', A.thread_id,
    'patron', patron, 'address', sender, 'status', status, 'team', team, 'topic', A.topic,
    'assignee', '', 'created_at', now, 'updated_at', now, 'waiting_since', now, 'messages', 0,
    'topic_source', A.topic_source, 'topic_confidence', A.topic_confidence,
    'topic_why', A.topic_why, 'after_hours', after_hours and '1' or '')
  redis.call('ZADD', K.patron_conversations, now, conversation)
  facts_started(K.facts, K.facts_index, {id = conversation, channel = channel,
    connector = connector, team = team, topic = A.topic}, now, after_hours)
  if status ~= 'queued' then redis.call('HSET', K.facts, 'triage', '1') end
  if status == 'queued' then
    redis.call('ZADD', K.queue, now, conversation)
  else
    redis.call('ZADD', social_list(status), now, conversation)
  end
elseif outcome == 'reopened' then
  -- The hub judged the hours of the team it placed the message in; a conversation that
  -- stayed in another team is not marked.
  if its_team ~= team then after_hours = false end
  team = its_team
  redis.call('HSET', K.conversation, 'status', 'queued', 'assignee', '',
    'closed_at', '', 'waiting_since', now, 'team_since', now, 'after_hours', after_hours and '1' or '')
  redis.call('DEL', K.declined)
  redis.call('ZADD', K.queue, now, conversation)
  facts_wait(K.facts, now, team, after_hours)
elseif outcome == 'rated' then
  team = its_team
  redis.call('HSET', K.conversation, 'csat', A.csat_score, 'csat_comment', A.csat_comment,
    'csat_at', now)
  if redis.call('EXISTS', K.facts) == 1 then redis.call('HSET', K.facts, 'csat', A.csat_score) end
else
  team = its_team
  -- A dismissed item that hears more is news again.
  if redis.call('HGET', K.conversation, 'status') == 'dismissed' then
    resurfaced = true
    redis.call('HSET', K.conversation, 'status', 'triage', 'closed_at', '')
    redis.call('ZREM', K.social_dismissed, conversation)
    redis.call('ZADD', K.social_new, now, conversation)
  end
end
if A.thread_seen ~= conversation then redis.call('SET', K.thread, conversation) end

local message = A.message
local m = {
  id = message, conversation = conversation, direction = 'in', text = A.text, channel = channel,
  connector = connector, external_id = A.external_id, sender = sender, sender_name = A.sender_name,
  sent_at = A.sent_at, received_at = A.received_at, status = 'received',
  attachments = A.attachments, facts = A.facts, joined_by = A.joined_by}
hset_all(K.message, m)
redis.call('RPUSH', K.messages, message)
redis.call('HINCRBY', K.conversation, 'messages', 1)
-- What a reply on this channel needs to stay in the patron's thread (email: the subject,
-- the message to answer and its references); the conversation keeps the latest.
local update = {'updated_at', now, 'last_in_at', now, 'last_at', A.sent_at, 'last_direction', 'in',
  'preview', A.preview, 'patron_name', patron_name}
if A.reply_facts ~= '' then put(update, 'reply_facts', A.reply_facts) end
if A.automated == '1' then put(update, 'automated', '1') end
redis.call('HSET', K.conversation, unpack(update))
redis.call('ZADD', K.conversations, now, conversation)
redis.call('HSET', K.dedup, 'conversation', conversation, 'message', message)
redis.call('EXPIRE', K.dedup, DEDUP_SECONDS)

-- The conversation read once, for both events.
local r = with_conversation()
if outcome == 'created' then
  emit_record('conversation.created', conversation, team, r)
elseif outcome == 'reopened' or outcome == 'rated' or resurfaced then
  emit_record('conversation.updated', conversation, team, r)
end
emit_record('message.created', conversation, team, with_message_fields(m, r))
return {outcome, conversation, message, patron, team}
