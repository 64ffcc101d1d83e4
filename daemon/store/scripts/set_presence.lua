-- set_presence: a staff member says whether they take conversations now.
-- ARGV: 1 user, 2 'available', 'away' or 'offline' (checked by the caller).
redis.call('HSET', 'staff:' .. ARGV[1], 'presence', ARGV[2])
return 1
