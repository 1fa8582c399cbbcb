-- wrk script for the ingest benchmark (bench/ingest.ts): POSTs the contract's sample events,
-- each with a fresh random id and one of 10,000 customers, and prints one JSON line of results.
-- Arguments (after wrk's `--`): the templates file, a seed, the bearer token.
-- Templates are one JSON event a line, with @ID@ and @CUSTOMER@ where the id and customer go.

local templates = {}
local n = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then templates[#templates + 1] = line end
  end
  assert(#templates > 0, "no templates in " .. args[1])
  math.randomseed(tonumber(args[2]))
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[3]
end

-- A version 4 UUID from the seeded generator: random, as the integrator's ids are.
local function uuid()
  local r = math.random
  return string.format("%08x-%04x-4%03x-%04x-%04x%08x",
    r(0, 0xffffffff), r(0, 0xffff), r(0, 0xfff), r(0x8000, 0xbfff), r(0, 0xffff), r(0, 0xffffffff))
end

function request()
  n = n + 1
  local body = templates[n % #templates + 1]
  body = string.gsub(body, "@ID@", uuid(), 1)
  body = string.gsub(body, "@CUSTOMER@", string.format("C-%05d", math.random(0, 9999)), 1)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'FOOTFALL-RESULT {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,' ..
      '"statusErrors":%d,"socketErrors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.status, e.connect + e.read + e.write, e.timeout))
end
