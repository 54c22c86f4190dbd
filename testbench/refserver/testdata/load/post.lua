-- wrk script for the reference console's load test: POST JSON requests
-- read from a file, one per line as "PATH<TAB>BODY", cycled in order.
--
--   TOTPEMU_LOAD_REQUESTS=requests.tsv wrk -t2 -c64 -d5s --latency -s post.lua http://127.0.0.1:PORT
--
-- Each thread starts at a different line. done() prints the status
-- counts as "status CODE COUNT" lines after wrk's own summary.

local requests = {}
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("TOTPEMU_LOAD_REQUESTS")
  local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  for line in f:lines() do
    local p, body = line:match("^([^\t]+)\t(.*)$")
    if p then
      table.insert(requests, wrk.format("POST", p, {["Content-Type"] = "application/json"}, body))
    end
  end
  f:close()
  assert(#requests > 0, "no requests in " .. path)
  counter = (id * 7919) % #requests
  statuses = {}
end

function request()
  counter = counter + 1
  if counter > #requests then counter = 1 end
  return requests[counter]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, reqs)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, n in pairs(s) do
      total[code] = (total[code] or 0) + n
    end
  end
  for code, n in pairs(total) do
    io.write(string.format("status %d %d\n", code, n))
  end
end
