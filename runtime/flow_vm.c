/*
** Compiled flows (.iexb) as the executor's `Flow` (runtime/executor.h):
** the VM (runtime/vm.h) behind the Flow interface, so that `iex run` and
** `iex serve` run what `iexc -o` made.
**
** What the executor needs besides running the flow comes from the
** program: its settings (declared type, default, doc), and from the
** trigger's system and record the fields that identify a source record,
** name it for people and date its changes (the table below: the shapes
** of the connectors' schemas). `updates:` is an expression (usually
** `settings.on_update`); it is evaluated with the defaults at load and
** again with the integration's settings whenever the executor asks
** (Flow.updates, before every run), so a changed setting applies to the
** very next run. Lua files the flow uses
** travel in the .iexb and are loaded with it (runtime/lua_bridge.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/util.h"
#include "runtime/bytecode.h"
#include "runtime/executor.h"
#include "runtime/json_value.h"
#include "runtime/lua_bridge.h"
#include "runtime/vm.h"

/* The fields of a trigger record, by system and record type. */
static const struct {
  const char *system, *record, *id, *key, *time;
} record_fields[] = {
    {"shopify", "order", "id", "name", "updated_at"},
    {"shopify", "refund", "id", NULL, "created_at"},
    {"shopify", "customer", "id", "email", "updated_at"},
    {"shopify", "product", "id", "title", "updated_at"},
    {"woocommerce", "order", "id", "number", "date_modified_gmt"},
    {"woocommerce", "refund", "id", NULL, "date_created_gmt"},
    {"woocommerce", "customer", "id", "email", "date_modified_gmt"},
    {"woocommerce", "product", "id", "sku", "date_modified_gmt"},
};

typedef struct VmFlow {
  Program *prog;
  Vm *vm;
  Arena arena;         /* FlowInfo strings and settings */
  FlowSetting *settings;
} VmFlow;

static const char *cstr(Arena *a, Str s) { return arena_strndup(a, s.ptr, s.len); }

static SettingType setting_type(const ProgSetting *ps) {
  switch ((SettingKind)ps->kind) {
  case SETK_BOOL: return SETTING_BOOL;
  case SETK_INT: return SETTING_INT;
  case SETK_DECIMAL:
  case SETK_MONEY: return SETTING_MONEY;
  case SETK_ENUM: return SETTING_CHOICE;
  case SETK_LIST: return SETTING_LIST;
  case SETK_TABLE: return SETTING_TABLE;
  default: return SETTING_STRING;
  }
}

/* The value of the trigger's `updates:` expression with the VM's
** current settings. */
static FlowUpdates eval_updates(VmFlow *f) {
  const Program *p = f->prog;
  if (!p->has_trigger || p->trigger.updates == PROG_NONE)
    return FLOW_UPDATES_APPLY;
  Value v;
  Err e;
  err_init(&e);
  vm_begin(f->vm);
  if (!vm_eval_block(f->vm, p->trigger.updates, value_null(), &v, &e) ||
      value_kind(v) != VAL_STRING)
    return FLOW_UPDATES_APPLY;
  Str s = value_as_str(v);
  if (str_eq_cstr(s, "again")) return FLOW_UPDATES_AGAIN;
  if (str_eq_cstr(s, "ignore")) return FLOW_UPDATES_IGNORE;
  return FLOW_UPDATES_APPLY;
}

/* Give the VM the integration's settings (declared defaults elsewhere). */
static bool set_settings(VmFlow *f, Value settings, Err *err) {
  char why[512];
  vm_reset_settings(f->vm);
  for (uint32_t i = 0; i < f->prog->n_settings; i++) {
    Str name = f->prog->settings[i].name;
    const Value *v = value_field(settings, name, NULL);
    if (!v || value_kind(*v) == VAL_NULL) continue;
    if (!vm_set_setting(f->vm, name, *v, why, sizeof why)) {
      err_set(err, IEX_E_INVALID, "%s", why);
      return false;
    }
  }
  return true;
}

static FlowUpdates vm_flow_updates(void *ctx, Value settings) {
  VmFlow *f = ctx;
  Err e;
  err_init(&e);
  /* A setting the VM refuses fails the run itself, with its reason. */
  if (!set_settings(f, settings, &e)) return FLOW_UPDATES_APPLY;
  return eval_updates(f);
}

static HostAnswer vm_flow_run(void *ctx, Arena *a, Value record,
                              Value settings, const Host *host, Err *err) {
  VmFlow *f = ctx;
  (void)a;
  if (!set_settings(f, settings, err)) return HOST_FAIL;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  DateTime now = {.secs = ts.tv_sec, .usec = (int32_t)(ts.tv_nsec / 1000)};
  vm_set_now(f->vm, now);
  vm_begin(f->vm);
  switch (vm_run(f->vm, record, host, err)) {
  case VM_DONE: return HOST_DONE;
  case VM_SKIPPED: return HOST_SKIP;
  case VM_FAILED: break;
  }
  return HOST_FAIL;
}

static void vm_flow_close(void *ctx) {
  VmFlow *f = ctx;
  if (!f) return;
  vm_free(f->vm);
  program_free(f->prog);
  arena_fini(&f->arena);
  free(f);
}

IexStatus flow_vm_load(Str bytes, const char *origin, Flow *out, Err *err) {
  char why[512];
  Program *p = program_read(bytes.ptr, bytes.len, why, sizeof why);
  if (!p) return err_set(err, IEX_E_INVALID, "%s: %s", origin, why);
  Vm *vm = vm_new(p);
  /* The flow's Lua files, loaded now so that a broken one stops the
  ** load, not every run. */
  IexStatus rc = lua_flow_attach(vm, p, NULL, err);
  if (rc != IEX_OK) {
    vm_free(vm);
    program_free(p);
    return rc;
  }
  VmFlow *f = xcalloc(1, sizeof *f);
  f->prog = p;
  f->vm = vm;
  arena_init(&f->arena);
  Arena *a = &f->arena;

  memset(out, 0, sizeof *out);
  out->info.name = cstr(a, p->flow_name);
  out->info.id_field = "id";
  if (p->has_trigger) {
    for (size_t i = 0; i < ARRAY_LEN(record_fields); i++)
      if (str_eq_cstr(p->trigger.system, record_fields[i].system) &&
          str_eq_cstr(p->trigger.record, record_fields[i].record)) {
        out->info.id_field = record_fields[i].id;
        out->info.key_field = record_fields[i].key;
        out->info.time_field = record_fields[i].time;
      }
  }
  f->settings = arena_zalloc(a, sizeof(FlowSetting) * (p->n_settings + 1));
  for (uint32_t i = 0; i < p->n_settings; i++) {
    const ProgSetting *ps = &p->settings[i];
    FlowSetting *fs = &f->settings[i];
    fs->name = cstr(a, ps->name);
    fs->type = setting_type(ps);
    fs->doc = ps->doc.len ? cstr(a, ps->doc) : NULL;
    if (ps->n_allowed && (fs->type == SETTING_CHOICE || fs->type == SETTING_LIST)) {
      const char **ch = arena_zalloc(a, sizeof(char *) * ps->n_allowed);
      for (uint32_t k = 0; k < ps->n_allowed; k++) ch[k] = cstr(a, ps->allowed[k]);
      fs->choices = ch;
      fs->n_choices = ps->n_allowed;
    }
    if (ps->default_k != PROG_NONE)
      fs->default_json = jsonv_encode_arena(p->consts[ps->default_k], a);
  }
  out->info.settings = f->settings;
  out->info.n_settings = p->n_settings;
  out->info.updates = eval_updates(f);
  out->ctx = f;
  out->run = vm_flow_run;
  out->updates = vm_flow_updates;
  out->close = vm_flow_close;
  return IEX_OK;
}
