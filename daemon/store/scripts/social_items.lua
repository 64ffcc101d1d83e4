-- social_items: the social desk's items in one state, newest first, for one team or every team
-- the caller sees: 'new' (waiting in triage for staff to reply, dismiss or mark as abuse),
-- 'dismissed' (no answer needed; kept for statistics) or 'abuse' (hidden from the queue; the
-- sender is muted). Each item is its conversation and its first message, the post.
-- ARGV: 1 scope, 2 state, 3 team ('' for all), 4 limit, 5 the teams the caller may see (',a,b,').
local scope, state, team, limit = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
if team ~= '' and not in_scope(scope, team) then
  return fail('forbidden', 'team ' .. team .. ' is not one of yours')
end
local teams = {}
if team ~= '' then
  teams[1] = team
else
  for t in string.gmatch(ARGV[5], '[^,]+') do teams[#teams + 1] = t end
end
local all = {}
for _, t in ipairs(teams) do
  local flat = redis.call('ZREVRANGE', 'social:' .. state .. ':' .. t, 0, limit - 1, 'WITHSCORES')
  for i = 1, #flat, 2 do all[#all + 1] = {flat[i], tonumber(flat[i + 1])} end
end
table.sort(all, function(a, b) return a[2] > b[2] or (a[2] == b[2] and tonumber(a[1]) > tonumber(b[1])) end)
local items = {}
for i = 1, math.min(limit, #all) do
  local r = with_conversation(all[i][1])
  if r then
    local first = redis.call('LINDEX', 'conversation:' .. all[i][1] .. ':messages', 0)
    if not (first and with_message(first, r, 'post.')) then put(r, 'j.post', 'null') end
    items[#items + 1] = r
  end
end
return ok_record({'s.state', state, 'rs.items', items})
