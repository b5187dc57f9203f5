-- One GET, as given on wrk's command line (path, -H headers); only the report is added.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local report = require("report")
done = report.done
