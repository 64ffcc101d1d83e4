-- migrate_outbound: an upgrade from a release with one `outbound` stream for every channel
-- (and its `outbound:retry` schedule) moves what still waits there onto each connector's
-- lane, oldest first, so no reply queued before the upgrade is lost. Entries of a connector
-- this daemon does not run stay where they are, for the daemon that does.
-- ARGV: the connectors this daemon runs.
-- Returns how many entries moved.
local runs = {}
for _, c in ipairs(ARGV) do runs[c] = true end
local moved = 0
local function move(fields)
  local connector
  for i = 1, #fields, 2 do
    if fields[i] == 'connector' then connector = fields[i + 1] end
  end
  if not connector or not runs[connector] then return false end
  redis.call('XADD', 'outbound:' .. connector, '*', unpack(fields))
  moved = moved + 1
  return true
end
if redis.call('TYPE', 'outbound')['ok'] == 'stream' then
  for _, e in ipairs(redis.call('XRANGE', 'outbound', '-', '+')) do
    if move(e[2]) then redis.call('XDEL', 'outbound', e[1]) end
  end
  if redis.call('XLEN', 'outbound') == 0 then redis.call('DEL', 'outbound') end
end
for _, member in ipairs(redis.call('ZRANGE', 'outbound:retry', 0, -1)) do
  if move(cjson.decode(member)) then redis.call('ZREM', 'outbound:retry', member) end
end
return moved
