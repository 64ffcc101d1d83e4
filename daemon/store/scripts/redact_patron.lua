-- redact_patron: privacy (store/privacy.hpp). A patron past identifier_days, or one who asked
-- to be erased, keeps only their id (the pseudonym their conversations' facts point to): their
-- name and contact fields, their addresses on every channel (K.address_keys, when they still
-- name this patron), opt-outs, emailed-transcript counters and connectors' records of those
-- addresses (K.others) go.
-- Their links to other records go on both sides (K.linked: the linked patrons' links hashes).
-- Stale when their addresses or links are not the ones the daemon read (A.fields, as in
-- K.addresses; A.linked_ids, as in K.links).
-- Keys and arguments: calls::redact_patron (calls.hpp).
local id, now = A.id, tonumber(A.now)
if redis.call('HLEN', K.addresses) ~= #A.fields then return STALE end
for _, field in ipairs(A.fields) do
  if redis.call('HEXISTS', K.addresses, field) == 0 then return STALE end
end
if redis.call('HLEN', K.links) ~= #A.linked_ids then return STALE end
for i, key in ipairs(K.linked) do
  if redis.call('HEXISTS', K.links, A.linked_ids[i]) == 0 then return STALE end
  redis.call('HDEL', key, A.id)
end
redis.call('DEL', K.links)
for _, key in ipairs(K.address_keys) do
  if redis.call('GET', key) == id then redis.call('DEL', key) end
end
for _, key in ipairs(K.others) do redis.call('DEL', key) end
redis.call('DEL', K.addresses)
redis.call('HDEL', K.patron, 'name', unpack(PATRON_CONTACT_FIELDS))
redis.call('HSET', K.patron, 'redacted_at', now)
return 1
