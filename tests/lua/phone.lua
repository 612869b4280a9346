-- Helpers of tests/lua/phone.iexflow. tests/lua/run.sh checks line numbers.
function normalize_phone(phone, country)
  local digits = phone:gsub("[^%d]", "")
  if #digits < 8 then error("phone `" .. phone .. "` is too short") end
  return "+45" .. digits:sub(-8)
end

function net(total)
  return (total / decimal("1.25")):round(2)
end
