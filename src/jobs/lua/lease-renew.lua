--[[
  Renews the bridge lease if it is still this holder's; takes it back if it lapsed and nobody
  took a newer generation since; sets it back if Redis lost it with the counter (restarted
  empty). Either way the counter is left at least at the holder's generation.

  Input:
    KEYS[1] the lease (keys.ts `lease`)
    KEYS[2] the generation counter (keys.ts `generation`)

    ARGV[1] the lease value as the holder took it (exact string)
    ARGV[2] the holder's generation
    ARGV[3] lease duration, ms

  Output:
    1 still ours, extended; 2 lapsed and taken back; 3 Redis had lost the lease and the
    counter, both set back; 0 not ours (another holds it, or took a newer generation)
]]
local cur = redis.call('GET', KEYS[1])
local counter = redis.call('GET', KEYS[2])
local gen = tonumber(ARGV[2])
local answer
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  answer = 1
elseif cur then
  return 0
elseif counter and tonumber(counter) > gen then
  return 0
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  if counter then answer = 2 else answer = 3 end
end
if not counter or tonumber(counter) < gen then redis.call('SET', KEYS[2], gen) end
return answer
