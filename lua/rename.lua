-- Renames KEYS[1] to KEYS[2] (RENAMENX when ARGV[1] is "1") and gives the
-- destination its declared TTL (ARGV[2] milliseconds, "0" for none) in one
-- atomic step. Returns -1 when the source is missing, 0 when RENAMENX found
-- the destination taken, 1 on success.
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if ARGV[1] == '1' then
  if redis.call('RENAMENX', KEYS[1], KEYS[2]) == 0 then return 0 end
else
  redis.call('RENAME', KEYS[1], KEYS[2])
end
if ARGV[2] ~= '0' then redis.call('PEXPIRE', KEYS[2], ARGV[2]) else redis.call('PERSIST', KEYS[2]) end
return 1
