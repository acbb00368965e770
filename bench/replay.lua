-- wrk script: replays one pre-signed request and counts the responses that are not 2xx.
--
--   wrk -t2 -c16 -d10s --latency -s bench/replay.lua http://127.0.0.1:PORT -- /abs/REQUEST.lua
--
-- REQUEST.lua is written by `bench/signed_request.py sign` and returns
-- { method = ..., path = ..., headers = { Host = ..., ... }, body = ... }.
-- wrk adds Content-Length itself. After the run, done() prints one line
--   BENCH non2xx=N requests=N duration_us=N connect=N read=N write=N status=N timeout=N p50_us=N p99_us=N
-- and, when some response was not 2xx, the first one as
--   BENCH_FIRST_NON2XX <status> <start of its body>

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = args[1]
  if file == nil then
    error("replay.lua: pass the request file after --, e.g. wrk ... URL -- /tmp/req.lua")
  end
  local req = dofile(file)
  wrk.method = req.method
  wrk.path = req.path
  wrk.headers = req.headers
  wrk.body = req.body
  if req.body == "" and (req.method == "GET" or req.method == "HEAD") then
    wrk.body = nil -- no Content-Length: 0 on a bodiless request
  end
  non2xx = 0
  first_non2xx = nil
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_non2xx == nil then
      local text = string.gsub(string.sub(body or "", 1, 400), "[\r\n]+", " ")
      first_non2xx = status .. " " .. text
    end
  end
end

function done(summary, latency, requests)
  local total = 0
  local first = nil
  for _, thread in ipairs(threads) do
    total = total + (thread:get("non2xx") or 0)
    if first == nil then
      first = thread:get("first_non2xx")
    end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH non2xx=%d requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d\n",
    total, summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
  if first ~= nil then
    io.write("BENCH_FIRST_NON2XX " .. first .. "\n")
  end
end
