-- dead_letters: a supervisor's view of and action on the sends that failed for good, per
-- connector lane (docs/api.md, "Dead letters"). 'retry' puts the send back on its lane as a
-- new entry (its message shows 'pending' again), unless the patron opted out since
-- (conflict); 'discard' drops it (the message stays failed).
-- ARGV: 1 'list' | 'retry' | 'discard', 2 now ms, 3 the dead letter's id ('' for list),
-- 4... the lanes' connectors.
-- Returns ok({dead_letters = [...]}) for list, ok({}), or fail('not_found' | 'conflict', why).
local action, now, wanted = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local all = array()
for i = 4, #ARGV do
  local stream = 'outbound:' .. ARGV[i]
  for _, raw_letter in ipairs(redis.call('LRANGE', stream .. ':dead', 0, -1)) do
    local letter = cjson.decode(raw_letter)
    if action == 'list' then
      all[#all + 1] = letter
    elseif letter.id == wanted then
      if action == 'retry' then
        -- Never past an opt-out that came since (an SMS STOP).
        local m = letter.entry.message
        local c = redis.call('HMGET', 'conversation:' .. (letter.entry.conversation or ''), 'channel', 'address')
        if c[1] and c[2] and redis.call('EXISTS', 'optout:' .. c[1] .. ':' .. c[2]) == 1 then
          return fail('conflict', 'the patron opted out since: message ' .. m .. ' cannot be sent to ' .. c[2])
        end
      end
      redis.call('LREM', stream .. ':dead', 1, raw_letter)
      if action == 'retry' then
        local fields = {}
        for k, v in pairs(letter.entry) do
          if k ~= 'attempt' then
            fields[#fields + 1] = k
            fields[#fields + 1] = v
          end
        end
        redis.call('XADD', stream, '*', unpack(fields))
        local m = letter.entry.message
        local c = redis.call('HGET', 'message:' .. m, 'conversation')
        if c then
          redis.call('HSET', 'message:' .. m, 'status', 'pending', 'status_at', now, 'error_code', '', 'error', '')
          emit_record('message.updated', c, redis.call('HGET', 'conversation:' .. c, 'team'),
            with_message(m, with_conversation(c)))
        end
      end
      return ok({})
    end
  end
end
if action == 'list' then return ok({dead_letters = all}) end
return fail('not_found', 'there is no dead letter ' .. wanted)
