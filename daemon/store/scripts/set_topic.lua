-- set_topic: a staff member sets a conversation's topic. A waiting conversation moves to the
-- topic's team's queue. The patron's words become a training example in `topic:examples`,
-- which every daemon's classifier reads (the `topic.learned` event tells them to look).
-- ARGV: 1 now ms, 2 conversation id, 3 scope, 4 topic, 5 the topic's team, 6 user name,
-- 7 examples kept.
local now, id, scope, topic, team, user = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local c, err = load_conversation(id, scope)
if not c then return err end
if c.topic == topic then return ok_record(with_conversation(id)) end

-- What the patron wrote, up to a few messages: that is what the topic was about.
local words, size = {}, 0
for _, mid in ipairs(redis.call('LRANGE', 'conversation:' .. id .. ':messages', 0, 19)) do
  local m = redis.call('HMGET', 'message:' .. mid, 'direction', 'text')
  if m[1] == 'in' and m[2] and m[2] ~= '' and size < 2000 then
    words[#words + 1] = m[2]
    size = size + #m[2]
  end
end
local example = ''
if #words > 0 then
  example = redis.call('XADD', 'topic:examples', 'MAXLEN', '~', ARGV[7], '*',
    'text', table.concat(words, '\n'), 'topic', topic, 'conversation', id, 'by', user)
end

redis.call('HSET', 'conversation:' .. id, 'topic', topic, 'topic_source', 'staff',
  'topic_confidence', 1, 'topic_why', 'set by ' .. user)
-- Only a waiting conversation moves; one somebody holds stays in their team.
local moves = team ~= '' and team ~= c.team and c.status == 'queued'
if moves then
  move_to_team(c, team, now, tonumber(c.waiting_since) or now, 'moved')
else
  touch(id, now)
end
local r = with_conversation(id)
-- The old team's dashboards learn it left, the new team's that it arrived.
emit_record('conversation.updated', id, c.team, r)
if moves then emit_record('conversation.updated', id, team, r) end
if example ~= '' then emit('topic.learned', id, moves and team or c.team, {example = example}) end
return ok_record(r)
