-- wrk script: POST /api/v1/access/check for the demo accounts from a Hong Kong address,
-- opening exposure in crypto perpetuals (the gate's common question; each is recorded).
local counter = 0
local accounts = {"acc-sg", "acc-hk", "acc-gb"}

function init(args)
  wrk.headers["Content-Type"] = "application/json"
end

request = function()
  counter = counter + 1
  return wrk.format("POST", nil, nil, string.format(
    '{"account_id":"%s","client_ip":"203.198.7.66","product_class":"crypto_perp",' ..
    '"action":"open"}', accounts[(counter % #accounts) + 1]))
end
