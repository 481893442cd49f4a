--[[
  Writes the bridge's heartbeat and stats unless the heartbeat there is another run's (a
  successor's stays).

  Input:
    KEYS[1] the heartbeat (keys.ts `heartbeat`)
    KEYS[2] the stats (keys.ts `stats`)

    ARGV[1] the heartbeat (JSON)
    ARGV[2] the heartbeat's time to live, ms
    ARGV[3] the stats (JSON)
    ARGV[4] the writing run's generation

  Output:
    1 written; 0 left alone
]]
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, hb = pcall(cjson.decode, cur)
  if not ok or type(hb) ~= 'table' or tostring(hb.generation) ~= ARGV[4] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
return 1
