-- wrk script: turns.lua at a constant request rate (what wrk2 does; Debian has
-- no wrk2).
--
--   wrk -t1 -c8 -d15s -s bench/lua/paced.lua URL -- RATE NONCE TEMPLATE [...]
--
-- RATE is requests per second for each wrk thread. delay() hands out send times
-- on a fixed schedule, one every 1/RATE s, shared by all the thread's
-- connections: a connection asks for the next slot when its previous answer
-- has come, and waits for it. As long as a connection is free when its slot
-- comes (connections > RATE x latency), requests leave at RATE whatever the
-- server's latency, and a slow answer cannot hold back the next request's start;
-- a late slot is sent at once (the schedule is kept, not reset). bench/wrk.py
-- reports the rate achieved next to the rate asked for.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "turns.lua")

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now_spec = ffi.new("bench_timespec[1]")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_spec)
  return tonumber(now_spec[0].tv_sec) * 1000 + tonumber(now_spec[0].tv_nsec) / 1e6
end

local interval_ms = nil
local next_slot = nil
local turns_init = init

function init(args)
  local rate = tonumber(args[1])
  assert(rate and rate > 0, "RATE must be a positive number")
  interval_ms = 1000 / rate
  local rest = { [0] = args[0] }
  for i = 2, #args do
    rest[i - 1] = args[i]
  end
  turns_init(rest)
end

function delay()
  local now = now_ms()
  if next_slot == nil then
    next_slot = now
  end
  local slot = next_slot
  next_slot = next_slot + interval_ms
  local wait = slot - now
  if wait < 0 then
    return 0
  end
  return math.floor(wait + 0.5)
end
