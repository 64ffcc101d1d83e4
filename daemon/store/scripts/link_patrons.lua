-- link_patrons: staff link two patron records (A.op 'link', with A.record: who, when and how the
-- patron consented, as JSON) or unlink them ('unlink'), on both sides at once. askdesk never
-- links records by itself (docs/privacy.md). A patron whose identifiers were purged or erased
-- cannot be linked.
-- Keys and arguments: calls::link_patrons (calls.hpp).
for i, key in ipairs({K.patron_a, K.patron_b}) do
  local p = redis.call('HMGET', key, 'id', 'redacted_at')
  local id = i == 1 and A.a or A.b
  if not p[1] then return fail('not_found', 'patron ' .. id .. ' does not exist') end
  if A.op == 'link' and p[2] then
    return fail('conflict', 'patron ' .. id .. ' was erased: there is nobody to link')
  end
end
if A.op == 'link' then
  redis.call('HSET', K.links_a, A.b, A.record)
  redis.call('HSET', K.links_b, A.a, A.record)
else
  redis.call('HDEL', K.links_a, A.b)
  redis.call('HDEL', K.links_b, A.a)
end
return 1
