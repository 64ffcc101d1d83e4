-- read_patron: a patron with their addresses on every channel and every conversation they had,
-- newest first (the whole patron, whichever team answered).
-- ARGV: 1 patron id.
local p = patron_json(ARGV[1])
if not p then return fail('not_found', 'patron ' .. ARGV[1] .. ' does not exist') end
local r = {}
for k, v in pairs(p) do put(r, 'j.' .. k, encode(v)) end
local conversations = {}
for _, c in ipairs(redis.call('ZREVRANGE', 'patron:' .. ARGV[1] .. ':conversations', 0, 199)) do
  local item = with_conversation(c)
  if item then conversations[#conversations + 1] = item end
end
return ok_record(put(r, 'cs.conversations', conversations))
