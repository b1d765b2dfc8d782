-- Sends the signed-in session's cookie (and, for a fragment, htmx's headers) with every request.
-- bench/throughput.py sets these variables for each run of wrk.
local cookie = os.getenv("TWOWAY_COOKIE")
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end
local target = os.getenv("TWOWAY_HX_TARGET")
if target and target ~= "" then
  wrk.headers["HX-Request"] = "true"
  wrk.headers["HX-Target"] = target
end
local agent = os.getenv("TWOWAY_USER_AGENT")
if agent and agent ~= "" then
  wrk.headers["User-Agent"] = agent
end
