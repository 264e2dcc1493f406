-- The pre-trade check's atomic step for one account on a Redis Cluster (the decision is
-- _account.lua's; KEYS and ARGV as listed there). ARGV 16 is what instrument_step.lua
-- answered for the order's tentative open-interest reservation in the instrument's slot:
-- "ok" | "held" | "exceeded" | "none"; an accepted order that adds exposure keeps it.

local early = answered_before_deciding()
if early then return early end
local verdict = ARGV[16]
return decide({
  verdict = function() return verdict end,
  keep = function() end,
})
