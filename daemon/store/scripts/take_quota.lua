-- take_quota: counts one use of a connector's quota (offline forms an hour); the window
-- (A.window ms) starts at its first use.
-- Keys and arguments: calls::take_quota (calls.hpp).
-- Returns 1 when within the quota (A.limit), 0 when it is spent.
local n = redis.call('INCR', K.quota)
if n == 1 then redis.call('PEXPIRE', K.quota, A.window) end
return n <= tonumber(A.limit) and 1 or 0
