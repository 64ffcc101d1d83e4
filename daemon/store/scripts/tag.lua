-- tag: adds and removes a conversation's tags (already checked by the caller).
-- Keys and arguments: calls::tag (calls.hpp).
local now, id = tonumber(A.now), A.id
local c, err = load_conversation(id, A.scope)
if not c then return err end
local changed = 0
for _, t in ipairs(A.add) do changed = changed + redis.call('SADD', K.tags, t) end
for _, t in ipairs(A.remove) do changed = changed + redis.call('SREM', K.tags, t) end
if changed > 0 then
  touch(K.conversation, id, now)
  if redis.call('EXISTS', K.facts) == 1 then
    local tags = redis.call('SMEMBERS', K.tags)
    table.sort(tags)
    redis.call('HSET', K.facts, 'tags', table.concat(tags, ','))
  end
  emit_record('conversation.updated', id, c.team, with_conversation())
end
return ok_record(with_conversation())
