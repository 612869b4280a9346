-- Helpers for tests/unit/test_lua_bridge.c. The tests check line numbers:
-- add new functions at the end.

function normalize_phone(phone, country)
  local digits = phone:gsub("[^%d+]", "")
  if #digits < 6 then
    -- the message names the value; Lua adds the file and line
    error("phone number `" .. phone .. "` is too short")
  end
  return digits
end

function no_position()
  error("bare message", 0)
end

local function inner(t)
  return t.missing.field
end

function outer()
  return inner({})
end

function table_error() error({code = 1}) end
