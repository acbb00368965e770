-- wrk script: bench/replay.lua, with each connection waiting 1 ms between a response and its
-- next request. The load is then fixed (about 1,000 requests/s per connection, a little less
-- when responses are slower) instead of as much as the server can take: what the server
-- spends per request can be compared between servers measured side by side.
--
--   wrk -t1 -c16 -d10s -s bench/paced.lua http://127.0.0.1:PORT -- /abs/REQUEST.lua

local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "replay.lua")

function delay()
  return 1
end
