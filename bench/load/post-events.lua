-- wrk script for the ingest benchmark (bench/ingest.ts): POSTs the contract's sample events,
-- each with a fresh random id and one of 10,000 customers, and prints one JSON line of results.
-- Arguments (after wrk's `--`): the templates file, a seed, the bearer token, the pool size.
-- Templates are one JSON event a line, with @ID@ and @CUSTOMER@ where the id and customer go.
--
-- The requests are built before the clock starts: init() fills a pool of them, and request()
-- hands out the next. wrk's SCRIPTING says why: "Building a new request each time is expensive,
-- when testing a high performance server one solution is to pre-generate all requests in init()
-- and do a quick lookup in request()". Measured here: wrk's thread spent 27-31 us a request
-- building each in request(), 19-22 us taking them from the pool; on two cores that CPU is the
-- server's. No id is ever sent twice: past the pool's end, requests are built one by one again,
-- and done() reports how many were.

local templates = {}
local pool = {}
local taken = 0
local n = 0
-- A global, not a local: done() reads it from the thread's state with thread:get.
built_on_the_fly = 0

-- A version 4 UUID from the seeded generator: random, as the integrator's ids are.
local function uuid()
  local r = math.random
  return string.format("%08x-%04x-4%03x-%04x-%04x%08x",
    r(0, 0xffffffff), r(0, 0xffff), r(0, 0xfff), r(0x8000, 0xbfff), r(0, 0xffff), r(0, 0xffffffff))
end

local function build()
  n = n + 1
  local body = templates[n % #templates + 1]
  body = string.gsub(body, "@ID@", uuid(), 1)
  body = string.gsub(body, "@CUSTOMER@", string.format("C-%05d", math.random(0, 9999)), 1)
  return wrk.format(nil, nil, nil, body)
end

-- setup() and done() run in wrk's main Lua state, apart from the thread's: done() asks the
-- thread how many requests it had to build on the fly.
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then templates[#templates + 1] = line end
  end
  assert(#templates > 0, "no templates in " .. args[1])
  math.randomseed(tonumber(args[2]))
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[3]
  for i = 1, tonumber(args[4]) do pool[i] = build() end
end

function request()
  taken = taken + 1
  local req = pool[taken]
  if req then
    pool[taken] = nil -- sent: its memory can go
    return req
  end
  built_on_the_fly = built_on_the_fly + 1
  return build()
end

function done(summary, latency, requests)
  local e = summary.errors
  local onTheFly = 0
  for _, thread in ipairs(threads) do onTheFly = onTheFly + thread:get("built_on_the_fly") end
  io.write(string.format(
    'FOOTFALL-RESULT {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,' ..
      '"statusErrors":%d,"socketErrors":%d,"timeouts":%d,"builtOnTheFly":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.status, e.connect + e.read + e.write, e.timeout, onTheFly))
end
