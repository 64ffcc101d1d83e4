-- migrate_outbound: an upgrade from a release with one `outbound` stream for every channel
-- (K.old, and its `outbound:retry` schedule, K.old_retry) moves what still waits there onto
-- each connector's lane (K.lanes, of A.connectors), oldest first, so no reply queued before
-- the upgrade is lost. Entries of a connector this daemon does not run stay where they are,
-- for the daemon that does.
-- Keys and arguments: calls::migrate_outbound (calls.hpp).
-- Returns how many entries moved.
local lane = {}
for i, c in ipairs(A.connectors) do lane[c] = K.lanes[i] end
local moved = 0
local function move(fields)
  local connector
  for i = 1, #fields, 2 do
    if fields[i] == 'connector' then connector = fields[i + 1] end
  end
  if not connector or not lane[connector] then return false end
  redis.call('XADD', lane[connector], '*', unpack(fields))
  moved = moved + 1
  return true
end
if redis.call('TYPE', K.old)['ok'] == 'stream' then
  for _, e in ipairs(redis.call('XRANGE', K.old, '-', '+')) do
    if move(e[2]) then redis.call('XDEL', K.old, e[1]) end
  end
  if redis.call('XLEN', K.old) == 0 then redis.call('DEL', K.old) end
end
for _, member in ipairs(redis.call('ZRANGE', K.old_retry, 0, -1)) do
  if move(cjson.decode(member)) then redis.call('ZREM', K.old_retry, member) end
end
return moved
