-- read_patron: a patron with their addresses on every channel and every conversation they had,
-- newest first (the whole patron, whichever team answered).
-- ARGV: 1 patron id.
local p = patron_json(ARGV[1])
if not p then return fail('not_found', 'patron ' .. ARGV[1] .. ' does not exist') end
local conversations = array()
for _, c in ipairs(redis.call('ZREVRANGE', 'patron:' .. ARGV[1] .. ':conversations', 0, 199)) do
  conversations[#conversations + 1] = conversation_json(c)
end
p.conversations = conversations
return ok(p)
