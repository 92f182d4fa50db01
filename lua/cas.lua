-- Sets KEYS[1] to ARGV[2], keeping its TTL, only if it still holds ARGV[1];
-- returns 1 if it did. Password upgrades and Namespace.Reencrypt use it so
-- that they never clobber a concurrent write.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
