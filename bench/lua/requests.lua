-- Requests read from a file, one per line: `METHOD<TAB>path<TAB>body<TAB>header: value...`
-- (fields after the path may be empty; several headers are separated by tabs). Each wrk thread
-- takes every n-th line (its own share) and cycles through it.
-- An optional rate (requests per second for the whole run) spreads requests over time,
-- so that a scenario runs at a chosen load instead of as fast as it can.
--   wrk ... -s requests.lua URL -- FILE THREADS CONNECTIONS [RATE]
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local report = require("report")

local counter = 0
function setup(thread)
   thread:set("index", counter)
   counter = counter + 1
end

local requests = {}
local position = 0
local pause_ms = 0

function init(args)
   local file, threads, connections = args[1], tonumber(args[2]), tonumber(args[3])
   local rate = tonumber(args[4] or "0") or 0
   if rate > 0 then
      -- each connection waits this long between requests: connections / rate seconds
      pause_ms = 1000 * connections / rate
   end
   local n = 0
   for line in io.lines(file) do
      if n % threads == index then
         local fields = {}
         for field in (line .. "\t"):gmatch("([^\t]*)\t") do
            table.insert(fields, field)
         end
         -- wrk.format uses these headers instead of the command line's: start from those
         local headers = {}
         for name, value in pairs(wrk.headers) do headers[name] = value end
         for i = 4, #fields do
            local name, value = fields[i]:match("^([^:]+):%s*(.*)$")
            if name then headers[name] = value end
         end
         local body = fields[3] ~= "" and fields[3] or nil
         table.insert(requests, wrk.format(fields[1], fields[2], headers, body))
      end
      n = n + 1
   end
end

function delay()
   return pause_ms
end

function request()
   position = position + 1
   if position > #requests then
      position = 1
   end
   return requests[position]
end

done = report.done
