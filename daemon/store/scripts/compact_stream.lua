-- compact_stream: privacy (store/privacy.hpp). A stream read by a consumer group (inbound, an
-- outbound lane) deletes each entry once done, but the node of its last entries keeps their
-- bytes until the next entry comes, so an idle stream keeps the last messages' text. With no
-- entry left, trimming to nothing frees that node; its groups and last id stay. Returns 1 when
-- it trimmed, 0 when entries are waiting (their node goes once they are done).
-- Keys and arguments: calls::compact_stream (calls.hpp).
if redis.call('EXISTS', K.stream) == 0 or redis.call('XLEN', K.stream) > 0 then return 0 end
redis.call('XTRIM', K.stream, 'MAXLEN', 0)
return 1
