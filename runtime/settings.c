/*
** Typed settings checked against the flow's declarations
** (runtime/settings.h). JSON goes through runtime/json_value.h so that
** money stays an exact decimal.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/decimal.h"
#include "runtime/json_value.h"
#include "runtime/settings.h"

const char *setting_type_text(const FlowSetting *s, Arena *a) {
  switch (s->type) {
  case SETTING_STRING: return "string";
  case SETTING_INT: return "int";
  case SETTING_MONEY: return "money";
  case SETTING_BOOL: return "bool";
  case SETTING_TABLE: return "table";
  case SETTING_COUNT: return "int >= 0";
  case SETTING_LIST:
  case SETTING_CHOICE: {
    Buf b;
    buf_init(&b, 0);
    if (s->type == SETTING_LIST) buf_printf(&b, "list of %s", s->n_choices ? "" : "values");
    for (size_t i = 0; i < s->n_choices; i++)
      buf_printf(&b, "%s%s", i ? " | " : "", s->choices[i]);
    char *t = arena_strndup(a, buf_cstr(&b), b.len);
    buf_fini(&b);
    return t;
  }
  }
  return "?";
}

/* The runtime's own settings. One table, so that `iex settings`, the
** checks and the documentation (docs/runtime.md) cannot disagree. */
#define JSON_OF(x) JSON_OF_(x)
#define JSON_OF_(x) #x
static const FlowSetting builtins[] = {
    {SETTING_INCLUDED_ORDERS, SETTING_COUNT, NULL, 0,
     JSON_OF(SETTING_INCLUDED_ORDERS_DEFAULT),
     "orders a month the plan includes; beyond them, extra orders"},
};
#define N_BUILTINS (sizeof builtins / sizeof builtins[0])

const FlowSetting *settings_builtins(size_t *n) {
  *n = N_BUILTINS;
  return builtins;
}

const FlowSetting *setting_builtin(const char *name) {
  for (size_t i = 0; i < N_BUILTINS; i++)
    if (strcmp(builtins[i].name, name) == 0) return &builtins[i];
  return NULL;
}

const FlowSetting *setting_find(const FlowSetting *decl, size_t n,
                                const char *name) {
  /* The built-in first: its name means the same in every integration,
  ** also under a flow compiled before iexc refused the name. */
  const FlowSetting *b = setting_builtin(name);
  if (b) return b;
  for (size_t i = 0; i < n; i++)
    if (strcmp(decl[i].name, name) == 0) return &decl[i];
  return NULL;
}

/* `text` as a JSON string literal, in `a`. */
static const char *quoted_json(const char *text, Arena *a) {
  return jsonv_encode_arena(value_string(text, strlen(text)), a);
}

IexStatus setting_parse(const FlowSetting *s, const char *text, Arena *a,
                        const char **json_out, Err *err) {
  const char *type = setting_type_text(s, a);
  switch (s->type) {
  case SETTING_STRING:
    *json_out = quoted_json(text, a);
    if (!*json_out)
      return err_set(err, IEX_E_INVALID,
                     "setting %s: the value is not valid UTF-8", s->name);
    return IEX_OK;
  case SETTING_INT:
  case SETTING_COUNT: {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    bool count = s->type == SETTING_COUNT;
    if (!*text || *end || errno || (count && (v < 0 || text[0] == '-')))
      return err_set(err, IEX_E_INVALID,
                     count ? "setting %s is a whole number, 0 or more; `%s` "
                             "is not one"
                           : "setting %s is an int; `%s` is not a whole number",
                     s->name, text);
    *json_out = arena_printf(a, "%lld", v);
    return IEX_OK;
  }
  case SETTING_MONEY: {
    Decimal d;
    if (decimal_parse(str_from_cstr(text), &d, NULL) != DECIMAL_OK)
      return err_set(err, IEX_E_INVALID,
                     "setting %s is money; `%s` is not an amount like 0.05",
                     s->name, text);
    char buf[DECIMAL_TEXT_SIZE];
    decimal_format(d, buf);
    *json_out = arena_strndup(a, buf, strlen(buf));
    return IEX_OK;
  }
  case SETTING_BOOL:
    if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
      *json_out = text[0] == 't' ? "true" : "false";
      return IEX_OK;
    }
    return err_set(err, IEX_E_INVALID,
                   "setting %s is a bool; `%s` is not one of: true, false",
                   s->name, text);
  case SETTING_CHOICE:
    for (size_t i = 0; i < s->n_choices; i++)
      if (strcmp(s->choices[i], text) == 0) {
        *json_out = quoted_json(text, a);
        return IEX_OK;
      }
    {
      Buf b;
      buf_init(&b, 0);
      for (size_t i = 0; i < s->n_choices; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", s->choices[i]);
      err_set(err, IEX_E_INVALID,
              "setting %s: `%s` is not allowed; allowed values: %s", s->name,
              text, buf_cstr(&b));
      buf_fini(&b);
      return IEX_E_INVALID;
    }
  case SETTING_LIST: {
    /* `paid,partially_paid` or `["paid", "partially_paid"]`. */
    Value v;
    JsonvError je;
    Buf b;
    buf_init(&b, 0);
    if (text[0] == '[') {
      if (!jsonv_decode(a, str_from_cstr(text), NULL, &v, &je) ||
          value_kind(v) != VAL_LIST) {
        buf_fini(&b);
        return err_set(err, IEX_E_INVALID,
                       "setting %s is a %s; give it as a JSON list like "
                       "[\"a\", \"b\"] or as a,b", s->name, type);
      }
      buf_puts(&b, text);
    } else {
      buf_putc(&b, '[');
      const char *p = text;
      for (int k = 0; *p; k++) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        while (p < end && *p == ' ') p++;
        const char *last = end;
        while (last > p && last[-1] == ' ') last--;
        char *item = arena_strndup(a, p, (size_t)(last - p));
        const char *q = quoted_json(item, a);
        if (!q) {
          buf_fini(&b);
          return err_set(err, IEX_E_INVALID,
                         "setting %s: the value is not valid UTF-8", s->name);
        }
        buf_printf(&b, "%s%s", k ? "," : "", q);
        p = *end ? end + 1 : end;
      }
      buf_putc(&b, ']');
      if (!jsonv_decode(a, str_make(buf_cstr(&b), b.len), NULL, &v, &je)) {
        buf_fini(&b);
        return err_set(err, IEX_E_INVALID, "setting %s: `%s` is not a list",
                       s->name, text);
      }
    }
    for (uint32_t i = 0; i < v.len && s->n_choices; i++) {
      Value e = v.as.items[i];
      bool ok = false;
      for (size_t c = 0; c < s->n_choices && !ok; c++)
        ok = value_kind(e) == VAL_STRING &&
             str_eq_cstr(value_as_str(e), s->choices[c]);
      if (!ok) {
        buf_reset(&b);
        for (size_t c = 0; c < s->n_choices; c++)
          buf_printf(&b, "%s%s", c ? ", " : "", s->choices[c]);
        err_set(err, IEX_E_INVALID,
                "setting %s: element %u of `%s` is not allowed; allowed "
                "values: %s", s->name, i + 1, text, buf_cstr(&b));
        buf_fini(&b);
        return IEX_E_INVALID;
      }
    }
    *json_out = arena_strndup(a, buf_cstr(&b), b.len);
    buf_fini(&b);
    return IEX_OK;
  }
  case SETTING_TABLE: {
    Value v;
    JsonvError je;
    if (!jsonv_decode(a, str_from_cstr(text), NULL, &v, &je) ||
        value_kind(v) != VAL_RECORD)
      return err_set(err, IEX_E_INVALID,
                     "setting %s is a %s; give it as a JSON object like "
                     "{\"key\": 1}",
                     s->name, type);
    *json_out = arena_strndup(a, text, strlen(text));
    return IEX_OK;
  }
  }
  return err_set(err, IEX_E_INTERNAL, "setting %s has an unknown type",
                 s->name);
}

/* The stored settings object, decoded; an empty record when none. */
static IexStatus stored_values(Store *st, int64_t integration_id, Arena *a,
                               Value *out, Err *err) {
  const char *json;
  IexStatus rc = store_settings_get(st, integration_id, a, &json, err);
  if (rc != IEX_OK) return rc;
  JsonvError je;
  if (!jsonv_decode(a, str_from_cstr(json), NULL, out, &je) ||
      value_kind(*out) != VAL_RECORD)
    return err_set(err, IEX_E_INVALID_JSON,
                   "the stored settings of integration %lld are not an "
                   "object",
                   (long long)integration_id);
  return IEX_OK;
}

static void list_names(const FlowSetting *decl, size_t n, Buf *b) {
  for (size_t i = 0; i < n; i++)
    buf_printf(b, "%s%s", i ? ", " : "", decl[i].name);
  if (n == 0) buf_puts(b, "(none)");
  buf_puts(b, "; built-in: ");
  for (size_t i = 0; i < N_BUILTINS; i++)
    buf_printf(b, "%s%s", i ? ", " : "", builtins[i].name);
}

IexStatus settings_set(Store *st, int64_t integration_id,
                       const FlowSetting *decl, size_t n, const char *name,
                       const char *text, Err *err) {
  const FlowSetting *s = setting_find(decl, n, name);
  if (!s) {
    Buf b;
    buf_init(&b, 0);
    list_names(decl, n, &b);
    err_set(err, IEX_E_INVALID,
            "the flow declares no setting `%s`; its settings: %s", name,
            buf_cstr(&b));
    buf_fini(&b);
    return IEX_E_INVALID;
  }
  Arena a;
  arena_init(&a);
  const char *json;
  Value old, nv;
  IexStatus rc = setting_parse(s, text, &a, &json, err);
  if (rc == IEX_OK) rc = stored_values(st, integration_id, &a, &old, err);
  if (rc == IEX_OK && !jsonv_decode(&a, str_from_cstr(json), NULL, &nv, NULL))
    rc = err_set(err, IEX_E_INTERNAL, "setting %s: bad JSON made", name);
  if (rc == IEX_OK) {
    RecordBuilder rb;
    record_builder_init(&rb, &a, old.len + 1);
    bool replaced = false;
    for (uint32_t i = 0; i < old.len; i++) {
      const Field *f = value_field_at(old, i);
      if (str_eq_cstr(f->key, name)) {
        record_builder_add(&rb, f->key, nv);
        replaced = true;
      } else {
        record_builder_add(&rb, f->key, f->value);
      }
    }
    if (!replaced) record_builder_add(&rb, str_from_cstr(name), nv);
    Value rec = record_builder_finish(&rb);
    Buf b;
    buf_init(&b, 0);
    if (!jsonv_encode(rec, &b, NULL))
      rc = err_set(err, IEX_E_INTERNAL, "setting %s: cannot encode", name);
    else
      rc = store_settings_set(st, integration_id, buf_cstr(&b), err);
    buf_fini(&b);
  }
  arena_fini(&a);
  return rc;
}

IexStatus settings_values(Store *st, int64_t integration_id,
                          const FlowSetting *decl, size_t n, Arena *a,
                          Value *out, Err *err) {
  Value stored;
  IexStatus rc = stored_values(st, integration_id, a, &stored, err);
  if (rc != IEX_OK) return rc;
  RecordBuilder rb;
  record_builder_init(&rb, a, (uint32_t)n);
  for (size_t i = 0; i < n; i++) {
    Str key = str_from_cstr(decl[i].name);
    const Value *v = value_field(stored, key, NULL);
    Value dv = value_null();
    if (!v && decl[i].default_json &&
        !jsonv_decode(a, str_from_cstr(decl[i].default_json), NULL, &dv, NULL))
      return err_set(err, IEX_E_INVALID,
                     "the default of setting %s is not valid JSON",
                     decl[i].name);
    record_builder_add(&rb, key, v ? *v : dv);
  }
  *out = record_builder_finish(&rb);
  return IEX_OK;
}

IexStatus settings_builtin_values(Store *st, int64_t integration_id, Arena *a,
                                  Value *out, Err *err) {
  return settings_values(st, integration_id, builtins, N_BUILTINS, a, out,
                         err);
}

IexStatus settings_included_orders(Store *st, int64_t integration_id,
                                   int64_t *out, Err *err) {
  Arena a;
  arena_init(&a);
  Value vals;
  IexStatus rc = settings_builtin_values(st, integration_id, &a, &vals, err);
  if (rc == IEX_OK) {
    const Value *v = value_field(vals, STR_LIT(SETTING_INCLUDED_ORDERS), NULL);
    if (v && value_kind(*v) == VAL_INT && v->as.i >= 0)
      *out = v->as.i;
    else
      rc = err_set(err, IEX_E_INVALID,
                   "integration %lld: the stored %s is not a whole number, "
                   "0 or more; set it with `iex settings set INTEGRATION %s N`",
                   (long long)integration_id, SETTING_INCLUDED_ORDERS,
                   SETTING_INCLUDED_ORDERS);
  }
  arena_fini(&a);
  return rc;
}

bool settings_is_set(const char *stored_json, const char *name, Arena *a) {
  Value v;
  if (!stored_json ||
      !jsonv_decode(a, str_from_cstr(stored_json), NULL, &v, NULL) ||
      value_kind(v) != VAL_RECORD)
    return false;
  return value_field(v, str_from_cstr(name), NULL) != NULL;
}
