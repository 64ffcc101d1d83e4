-- lease: takes or renews a lease that only one daemon may hold at a time (one poller per
-- SMS account or mailbox). It expires by itself when its holder stops renewing it.
-- ARGV: 1 key, 2 holder (unique per daemon process), 3 lease ms.
-- Returns 1 when `holder` holds it now, else 0.
return take_lease(ARGV[1], ARGV[2], ARGV[3]) and 1 or 0
