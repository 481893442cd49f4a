--[[
  Takes the bridge lease, with a new generation, if it is free or already this process's.

  Input:
    KEYS[1] the lease (keys.ts `lease`): JSON {token, generation, pid, host}
    KEYS[2] the generation counter (keys.ts `generation`)

    ARGV[1] token of the taking process
    ARGV[2] lease duration, ms
    ARGV[3] pid of the taking process
    ARGV[4] host of the taking process
    ARGV[5] the highest generation this process has seen: the new one is past it even if
            Redis lost the counter, so numbers stay monotonic

  Output:
    {generation, lease value} taken; {0, lease value} another process holds it
]]
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, held = pcall(cjson.decode, cur)
  if not ok or type(held) ~= 'table' or held.token ~= ARGV[1] then return {0, cur} end
end
local gen = redis.call('INCR', KEYS[2])
local least = tonumber(ARGV[5])
if gen <= least then
  gen = least + 1
  redis.call('SET', KEYS[2], gen)
end
local value = cjson.encode({token = ARGV[1], generation = gen, pid = tonumber(ARGV[3]), host = ARGV[4]})
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return {gen, value}
