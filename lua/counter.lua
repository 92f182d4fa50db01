-- Increments a counter and applies its TTL in the same atomic step: the
-- key never exists without its declared expiry. A refused increment
-- (wrong type, overflow, a value that is not a number) raises before the
-- TTL is touched, so nothing changes. Kept minimal: it runs on every
-- increment, and a lighter script costs the server about what MULTI,
-- INCRBY, PEXPIRE, EXEC does.
--
-- KEYS[1]  the counter
-- ARGV[1]  INCRBY, DECRBY or INCRBYFLOAT
-- ARGV[2]  the delta
-- ARGV[3]  TTL in milliseconds
-- ARGV[4]  "f": fixed, apply the TTL only to a key without one (PEXPIRE
--          NX); anything else: refresh it
--
-- A Lua number is a double: an integer reply beyond 2^53 is read back
-- exactly with GET (the reply of INCRBYFLOAT is a string already).
local r = redis.call(ARGV[1], KEYS[1], ARGV[2])
if ARGV[4] == 'f' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3], 'NX')
else
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
if type(r) == 'number' and (r >= 9007199254740992 or r <= -9007199254740992) then
  r = redis.call('GET', KEYS[1])
end
return r
