-- Renews a sliding TTL after a read, only if the key holds the Redis type
-- its declaration stores: a read that failed with WRONGTYPE must not give
-- someone else's key our TTL. Returns 1 if it renewed.
--
-- KEYS[1]  the key read
-- ARGV[1]  TTL in milliseconds
-- ARGV[2]  the declared Redis type ("hash", "list", "set", "zset", "string")
if redis.call('TYPE', KEYS[1])['ok'] == ARGV[2] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 0
