-- redact_conversation: privacy (store/privacy.hpp). A closed conversation past its channel's
-- transcript_days, or one whose patron asked to be erased, loses everything a patron wrote
-- or is known by: its messages (K.message_keys, as listed in K.messages), the patron's
-- address, the preview, the reply facts (email subjects, message ids), the satisfaction
-- comment, the classifier's words and its thread key (K.thread: none or one, when it still
-- points here), and the dedup and provider keys of its messages' channel ids (K.others: some
-- channels' ids name the patron). Its facts
-- (facts:{c:<id>}) stay, so the reports still count it; its patron id stays as a pseudonym.
-- Stale when the message list or the thread is not what the daemon read, or it is not closed.
-- Keys and arguments: calls::redact_conversation (calls.hpp).
local id, now = A.id, tonumber(A.now)
local c = redis.call('HMGET', K.conversation, 'status', 'thread', 'redacted_at')
if c[1] ~= 'closed' and c[1] ~= 'dismissed' and c[1] ~= 'abuse' then return STALE end
if (c[2] or '') ~= A.thread then return STALE end
if redis.call('LLEN', K.messages) ~= #K.message_keys then return STALE end
for _, key in ipairs(K.message_keys) do redis.call('DEL', key) end
for _, key in ipairs(K.others) do redis.call('DEL', key) end
redis.call('DEL', K.messages)
redis.call('HDEL', K.conversation, 'thread', 'address', 'preview', 'patron_name', 'reply_facts',
  'csat_comment', 'topic_why')
redis.call('HSET', K.conversation, 'redacted_at', now)
if #K.thread == 1 and redis.call('GET', K.thread[1]) == id then redis.call('DEL', K.thread[1]) end
return 1
