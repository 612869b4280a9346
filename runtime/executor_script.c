/*
** Scripted flows: a flow described in JSON instead of compiled, so the
** executor runs end to end (tests, the crash test) without the VM. The
** file is the line FLOW_SCRIPT_MAGIC, then one object:
**
**   {"name": "shop_to_ledger",
**    "id": "id", "key": "name", "time": "updated_at",   record fields
**    "updates": "apply" | "again" | "ignore" | "settings.NAME",
**    "settings": [{"name": "invoice_mode", "type": "draft | booked",
**                  "default": "draft", "doc": "..."}],
**    "when": {"field": "status", "in": ["paid"], "location": "f:3:1"},
**    "steps": [{"name": "invoice", "use": "books", "system": "ledger",
**               "op": "invoice.create", "writes": true,
**               "location": "f:9:1", "if": "settings.send",
**               "map": {"reference": "{name}", "total": "{total!}",
**                       "text": "Order {name}"}}]}
**
** In "map", a string that is exactly "{path}" is that value (null when
** missing; "{path!}" fails the transfer, E_MAPPING at the step's
** location, when it is missing or null); other strings interpolate paths
** as text; objects and lists are mapped member by member. A path starts
** at `settings`, at an earlier step's result (by step name), or else at
** the source record. "if" runs the step only when the path is truthy.
*/
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"
#include "runtime/executor.h"
#include "runtime/json_value.h"

typedef struct ScriptStep {
  Str name, use, system, op, location, cond;
  OpEffect effect;
  Value map;
} ScriptStep;

typedef struct Script {
  Arena arena; /* everything below lives here */
  Value when_in;
  Str when_field, when_location;
  ScriptStep *steps;
  size_t n_steps;
  FlowSetting *settings;
  const char *updates_setting; /* "updates": "settings.NAME": NAME */
} Script;

static const char *cstr_of(Arena *a, Value rec, const char *key,
                           const char *dflt) {
  const Value *v = value_field(rec, str_from_cstr(key), NULL);
  if (!v || value_kind(*v) != VAL_STRING) return dflt;
  Str s = value_as_str(*v);
  return arena_strndup(a, s.ptr, s.len);
}

static Str str_of(Arena *a, Value rec, const char *key) {
  const char *s = cstr_of(a, rec, key, "");
  return str_from_cstr(s);
}

/* ---- Evaluating paths and maps ----------------------------------------- */

typedef struct Eval {
  Arena *a;
  Value record, settings;
  const Script *sc;
  Str *result_names; /* steps run so far */
  Value *results;
  size_t n_results;
} Eval;

/* The value at `path` ("a.b.c"), or NULL. */
static const Value *lookup(const Eval *ev, Str path) {
  size_t dot = 0;
  while (dot < path.len && path.ptr[dot] != '.') dot++;
  Str first = str_make(path.ptr, dot);
  const Value *cur = NULL;
  Value root;
  bool rooted = false;
  if (str_eq_cstr(first, "settings")) {
    root = ev->settings;
    rooted = true;
  } else {
    for (size_t i = 0; i < ev->n_results; i++)
      if (str_eq(ev->result_names[i], first)) {
        root = ev->results[i];
        rooted = true;
      }
  }
  size_t at = 0;
  if (rooted) {
    at = dot < path.len ? dot + 1 : dot;
    if (at >= path.len) {
      Value *copy = arena_alloc(ev->a, sizeof *copy);
      *copy = root;
      return copy;
    }
  } else {
    root = ev->record;
  }
  Value here = root;
  while (at < path.len) {
    size_t end = at;
    while (end < path.len && path.ptr[end] != '.') end++;
    if (value_kind(here) != VAL_RECORD) return NULL;
    cur = value_field(here, str_make(path.ptr + at, end - at), NULL);
    if (!cur) return NULL;
    here = *cur;
    at = end + 1;
  }
  return cur;
}

static bool truthy(const Value *v) {
  if (!v) return false;
  switch (value_kind(*v)) {
  case VAL_NULL: return false;
  case VAL_BOOL: return v->as.b;
  case VAL_STRING: return v->len > 0;
  default: return true;
  }
}

static void append_text(Buf *b, Value v) {
  if (value_kind(v) == VAL_STRING) {
    buf_append_str(b, value_as_str(v));
  } else if (value_kind(v) != VAL_NULL) {
    jsonv_encode(v, b, NULL);
  }
}

static bool map_value(const Eval *ev, const ScriptStep *st, Value in,
                      Value *out, Err *err);

static bool map_string(const Eval *ev, const ScriptStep *st, Str s,
                       Value *out, Err *err) {
  /* Exactly "{path}" or "{path!}": the value itself. */
  if (s.len >= 2 && s.ptr[0] == '{' && s.ptr[s.len - 1] == '}' &&
      !memchr(s.ptr + 1, '{', s.len - 2)) {
    Str path = str_make(s.ptr + 1, s.len - 2);
    bool required = path.len && path.ptr[path.len - 1] == '!';
    if (required) path.len--;
    const Value *v = lookup(ev, path);
    if (required && (!v || value_is_null(*v))) {
      err_set(err, IEX_E_MAPPING, "step %.*s: the record has no %.*s",
              STR_FMT(st->name), STR_FMT(path));
      char loc[128];
      snprintf(loc, sizeof loc, "%.*s", STR_FMT(st->location));
      err_set_location(err, loc);
      return false;
    }
    *out = v ? *v : value_null();
    return true;
  }
  if (!memchr(s.ptr, '{', s.len)) {
    *out = value_string(s.ptr, s.len);
    return true;
  }
  Buf b;
  buf_init(&b, 0);
  for (size_t i = 0; i < s.len; i++) {
    const char *close = s.ptr[i] == '{' ? memchr(s.ptr + i, '}', s.len - i) : NULL;
    if (!close) {
      buf_putc(&b, s.ptr[i]);
      continue;
    }
    Str path = str_make(s.ptr + i + 1, (size_t)(close - s.ptr - i - 1));
    const Value *v = lookup(ev, path);
    if (v) append_text(&b, *v);
    i = (size_t)(close - s.ptr);
  }
  Str t = arena_str(ev->a, buf_str(&b));
  buf_fini(&b);
  *out = value_string(t.ptr, t.len);
  return true;
}

static bool map_value(const Eval *ev, const ScriptStep *st, Value in,
                      Value *out, Err *err) {
  switch (value_kind(in)) {
  case VAL_STRING:
    return map_string(ev, st, value_as_str(in), out, err);
  case VAL_RECORD: {
    RecordBuilder rb;
    record_builder_init(&rb, ev->a, in.len);
    for (uint32_t i = 0; i < in.len; i++) {
      const Field *f = value_field_at(in, i);
      Value v;
      if (!map_value(ev, st, f->value, &v, err)) return false;
      record_builder_add(&rb, f->key, v);
    }
    *out = record_builder_finish(&rb);
    return true;
  }
  case VAL_LIST: {
    ListBuilder lb;
    list_builder_init(&lb, ev->a, in.len);
    for (uint32_t i = 0; i < in.len; i++) {
      Value v;
      if (!map_value(ev, st, in.as.items[i], &v, err)) return false;
      list_builder_push(&lb, v);
    }
    *out = list_builder_finish(&lb);
    return true;
  }
  default:
    *out = in;
    return true;
  }
}

/* ---- Running --------------------------------------------------------- */

static HostAnswer script_run(void *ctx, Arena *a, Value record,
                             Value settings, const Host *host, Err *err) {
  const Script *sc = ctx;
  Eval ev = {.a = a, .record = record, .settings = settings, .sc = sc};
  ev.result_names = arena_alloc(a, sizeof(Str) * (sc->n_steps + 1));
  ev.results = arena_alloc(a, sizeof(Value) * (sc->n_steps + 1));
  if (sc->when_field.len) {
    const Value *v = lookup(&ev, sc->when_field);
    bool ok = false;
    for (uint32_t i = 0; v && i < sc->when_in.len; i++)
      ok = ok || value_equal(*v, sc->when_in.as.items[i]);
    if (!ok) {
      Buf b;
      buf_init(&b, 0);
      if (v) append_text(&b, *v);
      err_set(err, IEX_SKIP_STATE,
              "Order not in allowed states (%.*s is `%s`)",
              STR_FMT(sc->when_field), buf_cstr(&b));
      buf_fini(&b);
      char loc[128];
      snprintf(loc, sizeof loc, "%.*s", STR_FMT(sc->when_location));
      err_set_location(err, loc);
      return HOST_SKIP;
    }
  }
  for (size_t i = 0; i < sc->n_steps; i++) {
    const ScriptStep *st = &sc->steps[i];
    if (st->cond.len && !truthy(lookup(&ev, st->cond))) continue;
    Value input;
    if (!map_value(&ev, st, st->map, &input, err)) return HOST_FAIL;
    if (host->stage) {
      char name[160];
      snprintf(name, sizeof name, "mapped:%.*s", STR_FMT(st->name));
      host->stage(host->ctx, name, input);
    }
    char loc[128];
    snprintf(loc, sizeof loc, "%.*s", STR_FMT(st->location));
    RecordBuilder pb;
    record_builder_init(&pb, a, 0);
    OpCall call = {
        .arena = a,
        .step = st->name,
        .connection = st->use,
        .system = st->system,
        .operation = st->op,
        .effect = st->effect,
        .params = record_builder_finish(&pb),
        .input = input,
        .effect_key = st->name,
        .location = arena_strndup(a, loc, strlen(loc)),
    };
    Value result = value_null();
    HostAnswer ans = host->operation(host->ctx, &call, &result, err);
    if (ans != HOST_DONE) {
      if (err && !err->location[0]) err_set_location(err, loc);
      return ans;
    }
    ev.result_names[ev.n_results] = st->name;
    ev.results[ev.n_results++] = result;
  }
  return HOST_DONE;
}

static void script_close(void *ctx) {
  Script *sc = ctx;
  arena_fini(&sc->arena);
  free(sc);
}

static SettingType parse_type(Arena *a, const char *t, FlowSetting *s) {
  static const struct { const char *name; SettingType type; } names[] = {
      {"string", SETTING_STRING}, {"int", SETTING_INT},
      {"money", SETTING_MONEY},   {"bool", SETTING_BOOL},
      {"table", SETTING_TABLE}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(t, names[i].name) == 0) return names[i].type;
  /* "a | b | c": a choice. */
  size_t n = 1;
  for (const char *p = t; *p; p++) n += *p == '|';
  const char **choices = arena_alloc(a, sizeof *choices * n);
  size_t k = 0;
  const char *p = t;
  while (*p) {
    while (*p == ' ') p++;
    const char *end = p;
    while (*end && *end != '|') end++;
    const char *last = end;
    while (last > p && last[-1] == ' ') last--;
    choices[k++] = arena_strndup(a, p, (size_t)(last - p));
    p = *end ? end + 1 : end;
  }
  s->choices = choices;
  s->n_choices = k;
  return SETTING_CHOICE;
}

static FlowUpdates updates_of(const char *text) {
  return strcmp(text, "again") == 0    ? FLOW_UPDATES_AGAIN
         : strcmp(text, "ignore") == 0 ? FLOW_UPDATES_IGNORE
                                       : FLOW_UPDATES_APPLY;
}

/* "updates": "settings.NAME": the setting's value in this run. */
static FlowUpdates script_updates(void *ctx, Value settings) {
  const Script *sc = ctx;
  const Value *v = value_field(settings, str_from_cstr(sc->updates_setting), NULL);
  if (!v || value_kind(*v) != VAL_STRING) return FLOW_UPDATES_APPLY;
  char text[16];
  Str s = value_as_str(*v);
  snprintf(text, sizeof text, "%.*s", STR_FMT(s));
  return updates_of(text);
}

IexStatus flow_script_load(Str bytes, const char *origin, Flow *out, Err *err) {
  size_t magic = strlen(FLOW_SCRIPT_MAGIC);
  if (bytes.len < magic || memcmp(bytes.ptr, FLOW_SCRIPT_MAGIC, magic) != 0)
    return err_set(err, IEX_E_INVALID, "%s is not a scripted flow", origin);
  Script *sc = xcalloc(1, sizeof *sc);
  arena_init(&sc->arena);
  Arena *a = &sc->arena;
  Value root;
  JsonvError je;
  if (!jsonv_decode(a, str_make(bytes.ptr + magic, bytes.len - magic), NULL,
                    &root, &je) ||
      value_kind(root) != VAL_RECORD) {
    char why[256];
    jsonv_error_text(&je, why, sizeof why);
    script_close(sc);
    return err_set(err, IEX_E_INVALID, "%s: the flow script is not a JSON "
                   "object: %s", origin, why);
  }
  memset(out, 0, sizeof *out);
  out->info.name = cstr_of(a, root, "name", "script");
  out->info.id_field = cstr_of(a, root, "id", "id");
  out->info.key_field = cstr_of(a, root, "key", NULL);
  out->info.time_field = cstr_of(a, root, "time", NULL);
  const char *upd = cstr_of(a, root, "updates", "apply");
  out->info.updates = updates_of(upd);
  if (strncmp(upd, "settings.", 9) == 0) {
    sc->updates_setting = upd + 9;
    out->updates = script_updates;
  }
  const Value *settings = value_field(root, STR_LIT("settings"), NULL);
  if (settings && value_kind(*settings) == VAL_LIST) {
    sc->settings = arena_zalloc(a, sizeof(FlowSetting) * (settings->len + 1));
    for (uint32_t i = 0; i < settings->len; i++) {
      Value s = settings->as.items[i];
      if (value_kind(s) != VAL_RECORD) continue;
      FlowSetting *fs = &sc->settings[out->info.n_settings++];
      fs->name = cstr_of(a, s, "name", "?");
      fs->type = parse_type(a, cstr_of(a, s, "type", "string"), fs);
      fs->doc = cstr_of(a, s, "doc", NULL);
      const Value *d = value_field(s, STR_LIT("default"), NULL);
      if (d) fs->default_json = jsonv_encode_arena(*d, a);
    }
    out->info.settings = sc->settings;
  }
  const Value *when = value_field(root, STR_LIT("when"), NULL);
  if (when && value_kind(*when) == VAL_RECORD) {
    sc->when_field = str_of(a, *when, "field");
    sc->when_location = str_of(a, *when, "location");
    const Value *in = value_field(*when, STR_LIT("in"), NULL);
    sc->when_in = in && value_kind(*in) == VAL_LIST ? *in : value_list(NULL, 0);
  }
  const Value *steps = value_field(root, STR_LIT("steps"), NULL);
  if (steps && value_kind(*steps) == VAL_LIST) {
    sc->steps = arena_zalloc(a, sizeof(ScriptStep) * (steps->len + 1));
    for (uint32_t i = 0; i < steps->len; i++) {
      Value s = steps->as.items[i];
      if (value_kind(s) != VAL_RECORD) continue;
      ScriptStep *st = &sc->steps[sc->n_steps++];
      st->name = str_of(a, s, "name");
      st->use = str_of(a, s, "use");
      st->system = str_of(a, s, "system");
      st->op = str_of(a, s, "op");
      st->location = str_of(a, s, "location");
      st->cond = str_of(a, s, "if");
      const Value *w = value_field(s, STR_LIT("writes"), NULL);
      st->effect = w && value_kind(*w) == VAL_BOOL && w->as.b ? OP_WRITES : OP_READS;
      const Value *m = value_field(s, STR_LIT("map"), NULL);
      st->map = m ? *m : value_null();
    }
  }
  out->ctx = sc;
  out->run = script_run;
  out->close = script_close;
  return IEX_OK;
}
