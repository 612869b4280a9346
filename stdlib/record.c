/*
** Records and values (stdlib.def, "Records and values"): field names,
** presence, the first non-null value, and JSON text.
*/
#include <inttypes.h>

#include "runtime/json_value.h"
#include "stdlib/std_int.h"

bool std_keys(StdCall *call, Value *out) {
  Value v = call->args[0];
  char shown[STD_SHOW_SIZE];
  if (value_is_null(v)) return *out = value_list(NULL, 0), true;
  if (value_kind(v) != VAL_RECORD)
    return std_fail(call, "keys() needs a record, not %s", std_show(v, shown));
  Value *names = arena_alloc(call->arena, ((size_t)v.len + 1) * sizeof *names);
  if (!names) return std_fail_memory(call);
  for (uint32_t i = 0; i < v.len; i++) {
    Str key = value_field_at(v, i)->key;
    names[i] = value_string(key.ptr, key.len);
  }
  *out = value_list(names, v.len);
  return true;
}

bool std_has(StdCall *call, Value *out) {
  Str field;
  if (!std_arg_str(call, 1, "field", &field)) return false;
  Value v = call->args[0];
  const Value *f = value_kind(v) == VAL_RECORD ? value_field(v, field, NULL) : NULL;
  *out = value_bool(f && !value_is_null(*f));
  return true;
}

bool std_coalesce(StdCall *call, Value *out) {
  const Value *items;
  uint32_t n;
  if (!std_arg_list(call, 0, "values", &items, &n)) return false;
  *out = value_null();
  for (uint32_t i = 0; i < n; i++) {
    if (!value_is_null(items[i])) return *out = items[i], true;
  }
  return true;
}

bool std_to_json(StdCall *call, Value *out) {
  Buf b;
  JsonvError err;
  buf_init(&b, STD_MAX_TEXT_BYTES);
  bool ok;
  if (!jsonv_encode(call->args[0], &b, &err) && buf_ok(&b))
    ok = std_fail(call, "cannot write the value as JSON: %s", err.message);
  else
    ok = std_return_buf(call, &b, out);
  buf_fini(&b);
  return ok;
}
