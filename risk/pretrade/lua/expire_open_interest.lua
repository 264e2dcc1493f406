-- The sweeper's release of lapsed open-interest reservations of one instrument.
-- KEYS: 1 open-interest hash, 2 its expiry index.  ARGV: 1 now_ms, 2 most to release
-- Returns: how many were released
return release_lapsed_open_interest(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]))
