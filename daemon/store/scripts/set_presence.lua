-- set_presence: a staff member says whether they take conversations now (A.presence:
-- 'available', 'away' or 'offline', checked by the caller); staff.updated tells the
-- supervisors' live view.
-- Keys and arguments: calls::set_presence (calls.hpp).
local before = redis.call('HGET', K.staff, 'presence')
redis.call('HSET', K.staff, 'presence', A.presence)
if before ~= A.presence then emit('staff.updated', '', '', {user = A.user, presence = A.presence}) end
return 1
