-- swap_stream: privacy (store/privacy.hpp). The daemon copied a stream's entries up to A.after
-- into K.copy, leaving out those holding erased patron text; this copies what was added since
-- and puts the copy in the stream's place, atomically. A stream's deleted entries keep their
-- bytes in its nodes (and so in RDB and AOF files), so erasing means a new stream, not XDEL.
-- The copy keeps the stream's last id, so ids keep growing. Streams without consumer groups.
-- Keys and arguments: calls::swap_stream (calls.hpp).
local last = '0-0'
if redis.call('EXISTS', K.stream) == 1 then
  local info = redis.call('XINFO', 'STREAM', K.stream)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then last = info[i + 1] end
  end
  local since = redis.call('XRANGE', K.stream, '(' .. A.after, '+')
  for _, e in ipairs(since) do redis.call('XADD', K.copy, e[1], unpack(e[2])) end
end
if redis.call('EXISTS', K.copy) == 0 then
  if last == '0-0' then return redis.call('DEL', K.stream) end
  -- Nothing kept: an empty stream that remembers its last id.
  redis.call('XADD', K.copy, 'MAXLEN', '0', last, 'swap', '1')
else
  redis.call('XSETID', K.copy, last)
end
redis.call('RENAME', K.copy, K.stream)
return 1
