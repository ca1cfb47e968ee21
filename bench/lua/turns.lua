-- wrk script: POST activities to /api/messages as fast as the server answers.
--
--   wrk -t1 -c16 -d10s -s bench/lua/turns.lua http://127.0.0.1:PORT/api/messages \
--       -- NONCE TEMPLATE [TEMPLATE ...]
--
-- Each TEMPLATE is a JSON activity file; requests take them in turn. Every
-- "{{UNIQUE}}" in a template becomes 32 hex digits never used before (NONCE, an
-- 8-hex-digit value new for each wrk run, the thread and a counter): Teams gives
-- every activity its own id, and a coaching form submit needs a new form_id, or
-- Waypoint would (rightly) treat the request as a redelivery.
-- done() prints one line, "WRK_RESULT {json}", for bench/wrk.py to read.

local templates = {}
local nonce = "00000000"
local counter = 0
local threads = {}
-- Set by setup() in each thread's own Lua state (a global, so thread:set reaches it).
thread_number = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  -- args[0] is the URL; ours follow it.
  nonce = args[1]
  for i = 2, #args do
    local file = assert(io.open(args[i], "rb"))
    templates[#templates + 1] = file:read("*a")
    file:close()
  end
  assert(#templates > 0, "give at least one activity template")
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  counter = counter + 1
  local unique = string.format("%s%04x%020x", nonce, thread_number, counter)
  local body = templates[(counter - 1) % #templates + 1]:gsub("{{UNIQUE}}", unique)
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
