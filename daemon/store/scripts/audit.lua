-- audit: a staff member opened, exported or erased a patron's record (privacy: the access
-- audit). Append-only; who, what, which id, when and from where, never patron content;
-- entries older than A.keep_ms go.
-- Keys and arguments: calls::audit (calls.hpp).
local now = tonumber(A.now)
local oldest = now - tonumber(A.keep_ms)
if oldest > 0 then redis.call('XTRIM', K.audit, 'MINID', '~', oldest) end
return redis.call('XADD', K.audit, now .. '-*', 'user', A.user, 'action', A.action,
  'target', A.target, 'address', A.address)
