-- set_presence: a staff member says whether they take conversations now (A.presence:
-- 'available', 'away' or 'offline', checked by the caller).
-- Keys and arguments: calls::set_presence (calls.hpp).
redis.call('HSET', K.staff, 'presence', A.presence)
return 1
