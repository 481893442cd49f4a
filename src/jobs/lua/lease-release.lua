--[[
  Gives the bridge lease up, if it is still this holder's (a successor's is left alone).

  Input:
    KEYS[1] the lease (keys.ts `lease`)

    ARGV[1] the lease value as the holder took it (exact string)

  Output:
    1 released; 0 it was not ours
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
