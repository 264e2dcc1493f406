-- wrk script: POST /api/v1/pretrade/check with a fresh order_id per request, spread over
-- the demo accounts allowed to trade AAPL-PERP from a Hong Kong address.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  prefix = "w" .. id .. "-" .. math.random(1, 1000000000)
  counter = 0
  batch = tonumber(os.getenv("BATCH") or "1")
  accounts = {"acc-sg", "acc-hk", "acc-gb"}
  wrk.headers["Content-Type"] = "application/json"
end

local function order()
  counter = counter + 1
  return string.format(
    '{"order_id":"%s-%d","account_id":"%s","instrument":"AAPL-PERP","side":"buy",' ..
    '"quantity":"0.01","price":"230.00","order_type":"limit","client_ip":"203.198.7.66"}',
    prefix, counter, accounts[(counter % #accounts) + 1])
end

request = function()
  if batch == 1 then
    return wrk.format("POST", nil, nil, order())
  end
  local orders = {}
  for i = 1, batch do orders[i] = order() end
  return wrk.format("POST", nil, nil, '{"orders":[' .. table.concat(orders, ",") .. ']}')
end
