-- Runs one write command of a counter or collection and applies the
-- written key's TTL in the same atomic step, so that the key never exists
-- without its declared expiry, even if the client goes away.
--
-- KEYS[1]  the key written, whose TTL is applied; KEYS[2..] other keys the
--          command reads (declared for Redis Cluster routing)
-- ARGV[1]  TTL in milliseconds
-- ARGV[2]  "r": refresh the TTL; "f": fixed, apply it only when the key has
--          none yet (PEXPIRE ... NX: counted from the key's creation)
-- ARGV[3]  "" when the command goes in one call (the common case, decided
--          by the client); else h, how many of the following arguments
--          form the command head (command name, keys and flags), the rest
--          being items (members, field-value pairs, score-member pairs)
--          sent in chunks
-- ARGV[4]  how replies combine when the items are sent in several chunks:
--          "sum" (counts: SADD, HSET, ZADD) or "last" (lengths: RPUSH); or
--          "hget": the reply is the hash field ARGV[7] read back as text
--          (HINCRBY: a Lua number is a double, exact only up to 2^53)
-- ARGV[5..] the command: head, then items
--
-- Items go in chunks of at most 4096 arguments, so a write of any size
-- stays under Lua's unpack limit; chunks keep the items' order, so the
-- result equals one command's.
local r
if ARGV[3] == '' then
  r = redis.call(unpack(ARGV, 5))
else
  local head, n = tonumber(ARGV[3]), #ARGV
  local cmd = {}
  for i = 1, head do cmd[i] = ARGV[4 + i] end
  for i = 5 + head, n, 4096 do
    local c = {unpack(cmd)}
    for j = i, math.min(i + 4095, n) do c[#c + 1] = ARGV[j] end
    local x = redis.call(unpack(c))
    if r and ARGV[4] == 'sum' then r = r + x else r = x end
  end
end
if ARGV[4] == 'hget' then
  r = redis.call('HGET', KEYS[1], ARGV[7])
end
if ARGV[2] == 'f' then
  redis.call('PEXPIRE', KEYS[1], ARGV[1], 'NX')
else
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return r
