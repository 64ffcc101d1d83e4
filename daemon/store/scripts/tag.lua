-- tag: adds and removes a conversation's tags (already checked by the caller).
-- ARGV: 1 now ms, 2 conversation id, 3 scope, 4 number of tags to add, then the tags to
-- add, then the tags to remove.
local now, id, scope, adding = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4])
local c, err = load_conversation(id, scope)
if not c then return err end
local key = 'conversation:' .. id .. ':tags'
local changed = 0
for i = 5, #ARGV do
  if i < 5 + adding then
    changed = changed + redis.call('SADD', key, ARGV[i])
  else
    changed = changed + redis.call('SREM', key, ARGV[i])
  end
end
if changed > 0 then
  touch(id, now)
  emit_record('conversation.updated', id, c.team, with_conversation(id))
end
return ok_record(with_conversation(id))
