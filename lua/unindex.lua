-- Removes a stale member from an instance index: only if none of the
-- instance's known keys exists, so that a write landing meanwhile (which
-- adds the member back in its own atomic step) is never undone.
--
-- KEYS[1]   the index set
-- KEYS[2..] the instance's known names (its keys and nested index keys)
-- ARGV[1]   the member
if #KEYS > 1 and redis.call('EXISTS', unpack(KEYS, 2)) > 0 then
  return 0
end
return redis.call('SREM', KEYS[1], ARGV[1])
