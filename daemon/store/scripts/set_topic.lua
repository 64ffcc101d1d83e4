-- set_topic: a staff member sets a conversation's topic. A waiting conversation moves to the
-- topic's team's queue (A.team, '' when the topic has none). The patron's words become a
-- training example in `topic:examples`, which every daemon's classifier reads (the
-- `topic.learned` event tells them to look). A.kept: how many examples the stream keeps.
-- Keys and arguments: calls::set_topic (calls.hpp); K.first are the conversation's first
-- messages as the daemon read them.
local now, id, topic, team, user = tonumber(A.now), A.id, A.topic, A.team, A.user
local c, err = load_conversation(id, A.scope)
if not c then return err end
if c.topic == topic then return ok_record(with_conversation()) end
local first = redis.call('LRANGE', K.messages, 0, 19)
if table.concat(first, ',') ~= table.concat(A.first_ids, ',') then return STALE end

-- What the patron wrote, up to a few messages: that is what the topic was about.
local words, size = {}, 0
for _, key in ipairs(K.first) do
  local m = redis.call('HMGET', key, 'direction', 'text')
  if m[1] == 'in' and m[2] and m[2] ~= '' and size < 2000 then
    words[#words + 1] = m[2]
    size = size + #m[2]
  end
end
local example = ''
if #words > 0 then
  example = redis.call('XADD', K.examples, 'MAXLEN', '~', A.kept, '*',
    'text', table.concat(words, '\n'), 'topic', topic, 'conversation', id, 'by', user)
end

if redis.call('EXISTS', K.facts) == 1 then redis.call('HSET', K.facts, 'topic', topic) end
redis.call('HSET', K.conversation, 'topic', topic, 'topic_source', 'staff',
  'topic_confidence', 1, 'topic_why', 'set by ' .. user)
-- Only a waiting conversation moves; one somebody holds stays in their team.
local moves = team ~= '' and team ~= c.team and c.status == 'queued'
if moves then
  move_to_team(c, team, now, tonumber(c.waiting_since) or now, 'moved')
else
  touch(K.conversation, id, now)
end
local r = with_conversation()
-- The old team's dashboards learn it left, the new team's that it arrived.
emit_record('conversation.updated', id, c.team, r)
if moves then emit_record('conversation.updated', id, team, r) end
if example ~= '' then emit('topic.learned', id, moves and team or c.team, {example = example}) end
return ok_record(r)
