-- list_conversations: one page of conversations matching the filters. Waiting ones come in
-- queue order from their team's queue; others from the most recently updated. The cursor is
-- the position in that ordering where the next page starts; a page scans at most SCAN_LIMIT
-- conversations, so a rare filter may give a short page with a next cursor.
-- ARGV: 1 scope, 2 status, 3 team, 4 channel, 5 assignee, 6 limit, 7 cursor, 8 the teams
-- the caller may see (',a,b,').
local scope, status, team, channel, assignee = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local limit, cursor = tonumber(ARGV[6]), tonumber(ARGV[7]) or 0
local SCAN_LIMIT, CHUNK = 5000, 200

if team ~= '' and not in_scope(scope, team) then
  return fail('forbidden', 'team ' .. team .. ' is not one of yours')
end

-- Where to read ids from, in order.
local sources = {}
if status == 'queued' then
  if team ~= '' then
    sources[1] = 'queue:' .. team
  else
    for t in string.gmatch(ARGV[8], '[^,]+') do sources[#sources + 1] = 'queue:' .. t end
  end
end

local function matches(c)
  if not c.id or not in_scope(scope, c.team) then return false end
  if status ~= '' and c.status ~= status then return false end
  if team ~= '' and c.team ~= team then return false end
  if channel ~= '' and c.channel ~= channel then return false end
  if assignee ~= '' and c.assignee ~= assignee then return false end
  return true
end

local items = {}
local next_cursor = cjson.null
if #sources > 0 then
  -- Queues are short: merge them by waiting time, then page.
  local all = {}
  for _, key in ipairs(sources) do
    local flat = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    for i = 1, #flat, 2 do all[#all + 1] = {flat[i], tonumber(flat[i + 1])} end
  end
  table.sort(all, function(a, b) return a[2] < b[2] or (a[2] == b[2] and tonumber(a[1]) < tonumber(b[1])) end)
  local position = cursor
  while position < #all and #items < limit do
    position = position + 1
    local c = hash('conversation:' .. all[position][1])
    if matches(c) then items[#items + 1] = with_conversation(c.id) end
  end
  if position < #all then next_cursor = tostring(position) end
else
  local position, scanned = cursor, 0
  local source = 'conversations'
  if assignee ~= '' and status == 'assigned' then source = nil end
  if source == nil then
    -- A staff member's open conversations: a small set.
    local ids = redis.call('SMEMBERS', 'assigned:' .. assignee)
    table.sort(ids, function(a, b) return tonumber(a) > tonumber(b) end)
    while position < #ids and #items < limit do
      position = position + 1
      local c = hash('conversation:' .. ids[position])
      if matches(c) then items[#items + 1] = with_conversation(c.id) end
    end
    if position < #ids then next_cursor = tostring(position) end
  else
    local done = false
    while not done and #items < limit and scanned < SCAN_LIMIT do
      local ids = redis.call('ZREVRANGE', source, position, position + CHUNK - 1)
      if #ids == 0 then done = true end
      for _, cid in ipairs(ids) do
        position = position + 1
        scanned = scanned + 1
        local c = hash('conversation:' .. cid)
        if matches(c) then
          items[#items + 1] = with_conversation(cid)
          if #items >= limit then break end
        end
      end
      if #ids < CHUNK then done = true end
    end
    if position < redis.call('ZCARD', source) then next_cursor = tostring(position) end
  end
end
return ok_record({'cs.items', items, 'j.next_cursor', encode(next_cursor)})
