/*
** The interpreter (vm.h): a stack machine over Values in the record's
** arena, a plain switch over runtime/opcodes.def, and the graph runner
** that takes a record through the trigger's checks and the flow's nodes.
**
** Speed comes from what is not done per instruction: the verifier
** (bytecode.c) has proven operand ranges, jump targets and stack depths,
** so the loop checks none of them; values are 16-byte structs copied by
** value with nothing to free; field reads remember where a field was in
** the last record of the same shape (the per-site cache of FIELD).
*/
#include "runtime/vm.h"

#include "common/util.h"
#include "runtime/json_value.h"
#include "stdlib/stdlib.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest text shown of a value in an error message. */
#define SHOW_CHARS 40

typedef struct Builder {
  bool is_record;
  bool may_dup;       /* later entries replace earlier ones with the same key */
  ListBuilder list;
  RecordBuilder rec;
} Builder;

struct Vm {
  const Program *p;       /* borrowed */
  Arena arena;            /* the record arena: every Value of one run */
  Arena settings_arena;   /* values given to vm_set_setting() */
  Value *settings;        /* owned; n_settings current values */
  bool *settings_set;     /* owned; set explicitly (not the default) */
  Value *slots;           /* owned; n_slots */
  Value *stack;           /* owned; max_stack + 1 */
  Builder *builders;      /* owned; max_builders + 1 */
  uint32_t *cache;        /* owned; n_cache field positions */
  Value *results;         /* owned; per node */
  Value *mapped;          /* owned; per node */
  bool *ran;              /* owned; per node */
  size_t memory_limit;
  DateTime now;
  TzDb *tz;               /* borrowed (vm_set_tz) or own_tz */
  TzDb *own_tz;           /* owned; the system's zones, read on first use */
  VmLuaFn lua;
  void *lua_ctx;
  Buf text;               /* scratch for CONCAT and messages */
  Buf call_error;         /* stdlib and Lua messages */
  Err *err;               /* of the running vm_run() */
};

/* ---- Set-up ---------------------------------------------------------------- */

Vm *vm_new(const Program *p) {
  Vm *vm = xcalloc(1, sizeof *vm);
  vm->p = p;
  arena_init(&vm->arena);
  arena_init(&vm->settings_arena);
  vm->settings = xcalloc(p->n_settings + 1, sizeof *vm->settings);
  vm->settings_set = xcalloc(p->n_settings + 1, sizeof *vm->settings_set);
  vm->slots = xcalloc(p->n_slots + 1, sizeof *vm->slots);
  vm->stack = xcalloc(p->max_stack + 2, sizeof *vm->stack);
  vm->builders = xcalloc(p->max_builders + 1, sizeof *vm->builders);
  vm->cache = xcalloc(p->n_cache + 1, sizeof *vm->cache);
  vm->results = xcalloc(p->n_nodes + 1, sizeof *vm->results);
  vm->mapped = xcalloc(p->n_nodes + 1, sizeof *vm->mapped);
  vm->ran = xcalloc(p->n_nodes + 1, sizeof *vm->ran);
  buf_init(&vm->text, 0);
  buf_init(&vm->call_error, 4096);
  vm->own_tz = vm->tz = tz_db_new(NULL);
  vm_reset_settings(vm);
  return vm;
}

void vm_free(Vm *vm) {
  if (!vm) return;
  arena_fini(&vm->arena);
  arena_fini(&vm->settings_arena);
  free(vm->settings);
  free(vm->settings_set);
  free(vm->slots);
  free(vm->stack);
  free(vm->builders);
  free(vm->cache);
  free(vm->results);
  free(vm->mapped);
  free(vm->ran);
  buf_fini(&vm->text);
  buf_fini(&vm->call_error);
  tz_db_free(vm->own_tz);
  free(vm);
}

const Program *vm_program(const Vm *vm) { return vm->p; }
void vm_set_memory_limit(Vm *vm, size_t bytes) { vm->memory_limit = bytes; }
void vm_set_now(Vm *vm, DateTime now) { vm->now = now; }
void vm_set_tz(Vm *vm, TzDb *tz) { vm->tz = tz ? tz : vm->own_tz; }
void vm_set_lua(Vm *vm, VmLuaFn fn, void *ctx) {
  vm->lua = fn;
  vm->lua_ctx = ctx;
}

Arena *vm_begin(Vm *vm) {
  arena_reset(&vm->arena);
  arena_set_limit(&vm->arena, vm->memory_limit);
  return &vm->arena;
}

Arena *vm_arena(Vm *vm) { return &vm->arena; }

Value vm_result(const Vm *vm, uint32_t node) {
  return node < vm->p->n_nodes ? vm->results[node] : value_null();
}
bool vm_node_ran(const Vm *vm, uint32_t node) {
  return node < vm->p->n_nodes && vm->ran[node];
}
Value vm_mapped(const Vm *vm, uint32_t node) {
  return node < vm->p->n_nodes ? vm->mapped[node] : value_null();
}

/* ---- Messages ---------------------------------------------------------------- */

/* A short description of `v` for a message: `abc`, 12.50, null, a list. */
static const char *show(Value v, char *out, size_t size) {
  char text[DECIMAL_TEXT_SIZE + DATETIME_TEXT_SIZE];
  switch ((ValueKind)v.kind) {
    case VAL_NULL: snprintf(out, size, "null"); break;
    case VAL_BOOL: snprintf(out, size, "%s", v.as.b ? "true" : "false"); break;
    case VAL_INT: snprintf(out, size, "%" PRId64, v.as.i); break;
    case VAL_DECIMAL:
      decimal_format(value_as_decimal(v), text);
      snprintf(out, size, "%s", text);
      break;
    case VAL_STRING: {
      int n = v.len > SHOW_CHARS ? SHOW_CHARS : (int)v.len;
      snprintf(out, size, "the text `%.*s%s`", n, v.as.str, v.len > SHOW_CHARS ? "…" : "");
      break;
    }
    case VAL_NUMTEXT: snprintf(out, size, "the number %.*s", (int)IEX_MIN(v.len, 40u), v.as.str); break;
    case VAL_DATE:
      date_format_iso(v.as.days, text);
      snprintf(out, size, "the date %s", text);
      break;
    case VAL_DATETIME:
      datetime_format_iso(value_as_datetime(v), text);
      snprintf(out, size, "the date-time %s", text);
      break;
    case VAL_LIST:
    case VAL_RECORD:
    case VAL__COUNT: {
      char type[64];
      value_type_name(v, type, sizeof type);
      snprintf(out, size, "a %s", type);
      break;
    }
  }
  return out;
}

static bool stop_at(Vm *vm, uint32_t pc, IexStatus code, const char *fmt, ...) IEX_PRINTF(4, 5);
static bool stop_at(Vm *vm, uint32_t pc, IexStatus code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(vm->err->message, sizeof vm->err->message, fmt, ap);
  va_end(ap);
  vm->err->code = code;
  program_location(vm->p, pc, vm->err->location, sizeof vm->err->location);
  return false;
}

#define ERROR(...) stop_at(vm, pc - 1, IEX_E_MAPPING, __VA_ARGS__)
#define NO_MEMORY() ERROR("the memory limit of one record is reached")

/* ---- Numbers ------------------------------------------------------------------ */

typedef struct Num {
  bool is_int;
  int64_t i;
  Decimal d;
} Num;

/* Whether `v` is a number, or text holding one (Shopify's "19.99"). */
static bool as_num(Value v, Num *n) {
  switch ((ValueKind)v.kind) {
    case VAL_INT:
      n->is_int = true;
      n->i = v.as.i;
      return true;
    case VAL_DECIMAL:
      n->is_int = false;
      n->d = value_as_decimal(v);
      return true;
    case VAL_STRING:
      n->is_int = false;
      return v.len > 0 && decimal_parse(value_as_str(v), &n->d, NULL) == DECIMAL_OK;
    default: return false;
  }
}

static bool is_number(Value v) { return v.kind == VAL_INT || v.kind == VAL_DECIMAL; }

static DecimalStatus num_decimal(const Num *n, Decimal *out) {
  if (!n->is_int) {
    *out = n->d;
    return DECIMAL_OK;
  }
  return decimal_from_int(n->i, out);
}

static const char *op_word(Opcode op) {
  switch (op) {
    case OP_ADD: return "+";
    case OP_SUB: return "-";
    case OP_MUL: return "*";
    case OP_DIV: return "/";
    case OP_MOD: return "%";
    default: return "?";
  }
}

static bool arith(Vm *vm, uint32_t pc, Opcode op, Value a, Value b, Value *out) {
  char sa[160], sb[160];
  if (op == OP_ADD && a.kind == VAL_STRING && b.kind == VAL_STRING) {
    char *s = arena_alloc(&vm->arena, (size_t)a.len + b.len + 1);
    if (!s) return NO_MEMORY();
    memcpy(s, a.as.str, a.len);
    memcpy(s + a.len, b.as.str, b.len);
    *out = value_string(s, (size_t)a.len + b.len);
    return true;
  }
  Num x, y;
  if (!as_num(a, &x) || !as_num(b, &y)) {
    Value bad = as_num(a, &x) ? b : a;
    return ERROR("cannot compute %s %s %s: %s is not a number", show(a, sa, sizeof sa),
                 op_word(op), show(b, sb, sizeof sb), show(bad, sa, sizeof sa));
  }
  if (x.is_int && y.is_int) {
    int64_t r;
    switch (op) {
      case OP_ADD:
        if (!__builtin_add_overflow(x.i, y.i, &r)) goto int_result;
        break;
      case OP_SUB:
        if (!__builtin_sub_overflow(x.i, y.i, &r)) goto int_result;
        break;
      case OP_MUL:
        if (!__builtin_mul_overflow(x.i, y.i, &r)) goto int_result;
        break;
      case OP_MOD:
        if (y.i == 0) return ERROR("cannot compute %" PRId64 " %% 0: division by zero", x.i);
        r = y.i == -1 ? 0 : x.i % y.i;
        goto int_result;
      default: break;
    }
    goto decimal;
  int_result:
    *out = value_int(r);
    return true;
  }
decimal:;
  Decimal dx, dy, dr;
  DecimalStatus st = num_decimal(&x, &dx);
  if (st == DECIMAL_OK) st = num_decimal(&y, &dy);
  Rounding mode = (Rounding)vm->p->rounding;
  if (st == DECIMAL_OK) {
    switch (op) {
      case OP_ADD: st = decimal_add(dx, dy, &dr); break;
      case OP_SUB: st = decimal_sub(dx, dy, &dr); break;
      case OP_MUL: st = decimal_mul(dx, dy, &dr); break;
      case OP_DIV: st = decimal_div(dx, dy, mode, &dr); break;
      case OP_MOD: {
        Decimal q, t;
        st = decimal_div(dx, dy, ROUND_DOWN, &q);
        if (st == DECIMAL_OK) st = decimal_round(q, 0, ROUND_DOWN, &q);
        if (st == DECIMAL_OK) st = decimal_mul(q, dy, &t);
        if (st == DECIMAL_OK) st = decimal_sub(dx, t, &dr);
        break;
      }
      default: st = DECIMAL_RANGE; break;
    }
  }
  if (st != DECIMAL_OK)
    return ERROR("cannot compute %s %s %s: %s", show(a, sa, sizeof sa), op_word(op),
                 show(b, sb, sizeof sb), decimal_status_message(st));
  *out = value_decimal(dr);
  return true;
}

/* Order `a` and `b` for <, <=, >, >=; false (with an error) when they do
** not compare. */
static bool compare(Vm *vm, uint32_t pc, Value a, Value b, int *out) {
  Num x, y;
  if ((is_number(a) || is_number(b)) && as_num(a, &x) && as_num(b, &y)) {
    if (x.is_int && y.is_int) {
      *out = (x.i > y.i) - (x.i < y.i);
      return true;
    }
    Decimal dx, dy;
    if (num_decimal(&x, &dx) == DECIMAL_OK && num_decimal(&y, &dy) == DECIMAL_OK) {
      *out = decimal_cmp(dx, dy);
      return true;
    }
  } else if (a.kind == b.kind) {
    switch ((ValueKind)a.kind) {
      case VAL_STRING: {
        uint32_t n = a.len < b.len ? a.len : b.len;
        int c = n ? memcmp(a.as.str, b.as.str, n) : 0;
        *out = c ? (c > 0) - (c < 0) : (a.len > b.len) - (a.len < b.len);
        return true;
      }
      case VAL_DATE:
        *out = (a.as.days > b.as.days) - (a.as.days < b.as.days);
        return true;
      case VAL_DATETIME:
        *out = datetime_cmp(value_as_datetime(a), value_as_datetime(b));
        return true;
      default: break;
    }
  }
  char sa[160], sb[160];
  return ERROR("cannot compare %s with %s", show(a, sa, sizeof sa), show(b, sb, sizeof sb));
}

/* `==`: like value_equal(), but a number and text holding a number compare
** as numbers ("0.00" == 0). */
static bool equal(Value a, Value b) {
  if (a.kind != b.kind && (is_number(a) || is_number(b))) {
    Num x, y;
    Decimal dx, dy;
    if (as_num(a, &x) && as_num(b, &y) && num_decimal(&x, &dx) == DECIMAL_OK &&
        num_decimal(&y, &dy) == DECIMAL_OK)
      return decimal_cmp(dx, dy) == 0;
    return false;
  }
  return value_equal(a, b);
}

/* NUMERIC: text holding a number becomes that decimal; lists element-wise. */
static bool numeric(Vm *vm, Value v, Value *out) {
  Decimal d;
  if (v.kind == VAL_STRING) {
    if (v.len && decimal_parse(value_as_str(v), &d, NULL) == DECIMAL_OK) v = value_decimal(d);
  } else if (v.kind == VAL_LIST) {
    uint32_t i = 0;
    while (i < v.len && v.as.items[i].kind != VAL_STRING) i++;
    if (i < v.len) {
      Value *items = arena_alloc(&vm->arena, (size_t)v.len * sizeof *items);
      if (!items) return false;
      for (uint32_t j = 0; j < v.len; j++) {
        items[j] = v.as.items[j];
        if (items[j].kind == VAL_STRING && items[j].len &&
            decimal_parse(value_as_str(items[j]), &d, NULL) == DECIMAL_OK)
          items[j] = value_decimal(d);
      }
      v = value_list(items, v.len);
    }
  }
  *out = v;
  return true;
}

/* ---- Records being built ---------------------------------------------------- */

static bool builder_set(Builder *bd, Str key, Value v) {
  Record *r = bd->rec.rec;
  if (bd->may_dup && r) {
    for (uint32_t i = 0; i < r->n_fields; i++) {
      if (str_eq(r->fields[i].key, key)) {
        if (v.kind == VAL_NULL) {
          memmove(&r->fields[i], &r->fields[i + 1], (r->n_fields - i - 1) * sizeof *r->fields);
          r->n_fields--;
        } else {
          r->fields[i].value = v;
        }
        return true;
      }
    }
  }
  if (v.kind == VAL_NULL) return true;
  return record_builder_add(&bd->rec, key, v);
}

/* ---- The loop ---------------------------------------------------------------- */

/* Run block `block` and put its value in `*out`. False when the block
** stopped: vm->err says how (IEX_SKIP, IEX_FAIL, IEX_E_MAPPING). */
static bool exec(Vm *vm, uint32_t block, Value *out) {
  const Program *p = vm->p;
  const Instr *code = p->code;
  const Value *k = p->consts;
  Value *slots = vm->slots;
  Value *sp = vm->stack;
  Builder *bp = vm->builders;
  Arena *arena = &vm->arena;
  uint32_t pc = p->blocks[block];
  char s1[160], s2[160];

  for (;;) {
    const Instr in = code[pc++];
    switch ((Opcode)in.op) {
      case OP_CONST: *sp++ = k[in.a]; break;
      case OP_NULL: *sp++ = value_null(); break;
      case OP_TRUE: *sp++ = value_bool(true); break;
      case OP_FALSE: *sp++ = value_bool(false); break;
      case OP_LOAD: *sp++ = slots[in.a]; break;
      case OP_STORE: slots[in.a] = *--sp; break;
      case OP_SETTING: *sp++ = vm->settings[in.a]; break;
      case OP_POP: sp--; break;

      case OP_FIELD: {
        Value o = sp[-1];
        if (o.kind == VAL_RECORD) {
          const Value *f = value_field(o, value_as_str(k[in.a]), &vm->cache[in.b]);
          sp[-1] = f ? *f : value_null();
        } else if (o.kind != VAL_NULL) {
          return ERROR("cannot read field `%.*s` of %s", (int)k[in.a].len, k[in.a].as.str,
                       show(o, s1, sizeof s1));
        }
        break;
      }
      case OP_INDEX: {
        Value i = *--sp, o = sp[-1];
        if (o.kind == VAL_LIST && i.kind == VAL_INT) {
          sp[-1] = i.as.i >= 0 && i.as.i < (int64_t)o.len ? o.as.items[i.as.i] : value_null();
        } else if (o.kind == VAL_RECORD && i.kind == VAL_STRING) {
          const Value *f = value_field(o, value_as_str(i), NULL);
          sp[-1] = f ? *f : value_null();
        } else if (o.kind == VAL_NULL || i.kind == VAL_NULL) {
          sp[-1] = value_null();
        } else {
          return ERROR("cannot index %s with %s", show(o, s1, sizeof s1), show(i, s2, sizeof s2));
        }
        break;
      }

      case OP_ADD:
      case OP_SUB:
      case OP_MUL:
      case OP_DIV:
      case OP_MOD: {
        Value b = *--sp, a = sp[-1];
        /* The common case first: two ints that do not overflow. */
        int64_t r;
        if (a.kind == VAL_INT && b.kind == VAL_INT && in.op == OP_ADD &&
            !__builtin_add_overflow(a.as.i, b.as.i, &r)) {
          sp[-1] = value_int(r);
          break;
        }
        if (!arith(vm, pc, (Opcode)in.op, a, b, &sp[-1])) return false;
        break;
      }
      case OP_NEG: {
        Value a = sp[-1];
        Num x;
        if (a.kind == VAL_INT && a.as.i != INT64_MIN) {
          sp[-1] = value_int(-a.as.i);
        } else if (as_num(a, &x)) {
          Decimal d;
          if (num_decimal(&x, &d) != DECIMAL_OK) return ERROR("cannot negate %s", show(a, s1, sizeof s1));
          sp[-1] = value_decimal(decimal_neg(d));
        } else {
          return ERROR("cannot negate %s: it is not a number", show(a, s1, sizeof s1));
        }
        break;
      }
      case OP_NOT:
        if (sp[-1].kind != VAL_BOOL)
          return ERROR("`not` needs true or false, not %s", show(sp[-1], s1, sizeof s1));
        sp[-1].as.b = !sp[-1].as.b;
        break;
      case OP_EQ:
      case OP_NE: {
        Value b = *--sp, a = sp[-1];
        bool eq = equal(a, b);
        sp[-1] = value_bool(in.op == OP_EQ ? eq : !eq);
        break;
      }
      case OP_LT:
      case OP_LE:
      case OP_GT:
      case OP_GE: {
        Value b = *--sp, a = sp[-1];
        int c = 0;
        if (!compare(vm, pc, a, b, &c)) return false;
        bool r = in.op == OP_LT ? c < 0 : in.op == OP_LE ? c <= 0 : in.op == OP_GT ? c > 0 : c >= 0;
        sp[-1] = value_bool(r);
        break;
      }
      case OP_IN: {
        Value l = *--sp, v = sp[-1];
        bool found = false;
        if (l.kind == VAL_LIST) {
          for (uint32_t i = 0; i < l.len && !found; i++) found = equal(v, l.as.items[i]);
        } else if (l.kind != VAL_NULL) {
          return ERROR("`in` needs a list on its right, not %s", show(l, s1, sizeof s1));
        }
        sp[-1] = value_bool(found);
        break;
      }

      case OP_JUMP: pc = in.a; break;
      case OP_JUMP_IF_FALSE:
      case OP_JUMP_IF_TRUE: {
        Value c = *--sp;
        if (c.kind != VAL_BOOL)
          return ERROR("a condition must be true or false, not %s", show(c, s1, sizeof s1));
        if (c.as.b == (in.op == OP_JUMP_IF_TRUE)) pc = in.a;
        break;
      }
      case OP_JUMP_IF_NOT_NULL:
        if (sp[-1].kind != VAL_NULL) pc = in.a;
        else sp--;
        break;
      case OP_RET: *out = *--sp; return true;

      case OP_REC_BEGIN:
        bp->is_record = true;
        bp->may_dup = in.b != 0;
        record_builder_init(&bp->rec, arena, in.a);
        if (bp->rec.failed) return NO_MEMORY();
        bp++;
        break;
      case OP_REC_SET: {
        Value v = *--sp;
        if (!bp[-1].is_record) return ERROR("internal: REC_SET outside a record");
        if (!builder_set(&bp[-1], value_as_str(k[in.a]), v)) return NO_MEMORY();
        break;
      }
      case OP_REC_SPREAD: {
        Value r = *--sp;
        if (!bp[-1].is_record) return ERROR("internal: REC_SPREAD outside a record");
        if (r.kind == VAL_NULL) break;
        if (r.kind != VAL_RECORD)
          return ERROR("`...` needs a record, not %s", show(r, s1, sizeof s1));
        bp[-1].may_dup = true;
        for (uint32_t i = 0; i < r.as.rec->n_fields; i++)
          if (!builder_set(&bp[-1], r.as.rec->fields[i].key, r.as.rec->fields[i].value))
            return NO_MEMORY();
        break;
      }
      case OP_REC_END:
        bp--;
        if (!bp->is_record) return ERROR("internal: REC_END outside a record");
        *sp++ = record_builder_finish(&bp->rec);
        break;
      case OP_LIST_BEGIN:
        bp->is_record = false;
        list_builder_init(&bp->list, arena, in.a);
        if (bp->list.failed) return NO_MEMORY();
        bp++;
        break;
      case OP_LIST_PUSH:
        if (bp[-1].is_record) return ERROR("internal: LIST_PUSH outside a list");
        if (!list_builder_push(&bp[-1].list, *--sp)) return NO_MEMORY();
        break;
      case OP_LIST_END:
        bp--;
        if (bp->is_record) return ERROR("internal: LIST_END outside a list");
        *sp++ = list_builder_finish(&bp->list);
        break;
      case OP_ITER_INIT: {
        Value l = *--sp;
        if (l.kind == VAL_NULL) l = value_list(NULL, 0);
        if (l.kind != VAL_LIST) return ERROR("`for` needs a list, not %s", show(l, s1, sizeof s1));
        slots[in.a] = l;
        slots[in.a + 1] = value_int(-1);
        break;
      }
      case OP_ITER_NEXT: {
        Value l = slots[in.b];
        int64_t i = slots[in.b + 1].as.i + 1;
        if (l.kind != VAL_LIST || i >= (int64_t)l.len) {
          pc = in.a;
        } else {
          slots[in.b + 1].as.i = i;
          *sp++ = l.as.items[i];
        }
        break;
      }

      case OP_CONCAT: {
        buf_reset(&vm->text);
        sp -= in.a;
        for (uint32_t i = 0; i < in.a; i++) std_write_text(sp[i], &vm->text);
        if (!buf_ok(&vm->text)) return ERROR("a text longer than the limit of %zu bytes", (size_t)BUF_DEFAULT_MAX);
        Value s;
        if (!value_string_copy(arena, buf_str(&vm->text), &s)) return NO_MEMORY();
        *sp++ = s;
        break;
      }
      case OP_CALL: {
        const StdEntry *e = &std_functions[in.a];
        if (!e->fn) return ERROR("function %u of stdlib.def is not available in this build of iex", in.a);
        buf_reset(&vm->call_error);
        StdCall call = {arena, sp - in.b, in.b, (Rounding)p->rounding, value_datetime(vm->now),
                        vm->tz, &vm->call_error};
        Value r;
        if (!e->fn(&call, &r)) return ERROR("%s(): %s", e->name, buf_cstr(&vm->call_error));
        sp -= in.b;
        *sp++ = r;
        break;
      }
      case OP_CALL_LUA: {
        Str name = value_as_str(k[in.a]);
        if (!vm->lua) return ERROR("%.*s(): Lua functions are not available here", STR_FMT(name));
        buf_reset(&vm->call_error);
        Value r;
        if (!vm->lua(vm->lua_ctx, name, sp - in.b, in.b, arena, &r, &vm->call_error))
          return ERROR("%.*s(): %s", STR_FMT(name), buf_cstr(&vm->call_error));
        sp -= in.b;
        *sp++ = r;
        break;
      }
      case OP_SKIP:
      case OP_FAIL: {
        buf_reset(&vm->text);
        std_write_text(*--sp, &vm->text);
        return stop_at(vm, pc - 1, in.op == OP_SKIP ? IEX_SKIP : IEX_FAIL, "%s",
                       buf_cstr(&vm->text));
      }
      case OP_NO_MATCH: return ERROR("no arm of `match` matches %s", show(sp[-1], s1, sizeof s1));
      case OP_NUMERIC:
        if (sp[-1].kind != VAL_DECIMAL && sp[-1].kind != VAL_INT && !numeric(vm, sp[-1], &sp[-1]))
          return NO_MEMORY();
        break;
      case OP_TEMPORAL:
        if (sp[-1].kind == VAL_STRING) {
          Str t = value_as_str(sp[-1]);
          int32_t days;
          DateTime dt;
          if (t.len == 10 && date_parse(t, &days, NULL)) sp[-1] = value_date(days);
          else if (t.len > 10 && datetime_parse(t, &dt, NULL)) sp[-1] = value_datetime(dt);
        }
        break;
      case OP__COUNT: return ERROR("internal: unknown opcode");
    }
  }
}

/* ---- Settings ---------------------------------------------------------------- */

void vm_reset_settings(Vm *vm) {
  arena_reset(&vm->settings_arena);
  for (uint32_t i = 0; i < vm->p->n_settings; i++) {
    const ProgSetting *s = &vm->p->settings[i];
    vm->settings[i] = s->default_k != PROG_NONE ? vm->p->consts[s->default_k] : value_null();
    vm->settings_set[i] = false;
  }
}

Value vm_setting(const Vm *vm, uint32_t i) {
  return i < vm->p->n_settings ? vm->settings[i] : value_null();
}

bool vm_settings_complete(const Vm *vm, uint32_t *missing) {
  for (uint32_t i = 0; i < vm->p->n_settings; i++) {
    if (vm->p->settings[i].default_k == PROG_NONE && !vm->settings_set[i]) {
      if (missing) *missing = i;
      return false;
    }
  }
  return true;
}

static bool allowed(const ProgSetting *s, Value v) {
  if (v.kind != VAL_STRING) return false;
  for (uint32_t i = 0; i < s->n_allowed; i++)
    if (str_eq(s->allowed[i], value_as_str(v))) return true;
  return false;
}

/* `v` converted to the kind setting `s` holds, or false. */
static bool fit_setting(const ProgSetting *s, Value v, Value *out, char *why, size_t size) {
  Decimal d;
  const char *w = NULL;
  switch ((SettingKind)s->kind) {
    case SETK_BOOL:
      if (v.kind != VAL_BOOL) break;
      *out = v;
      return true;
    case SETK_INT:
      if (v.kind != VAL_INT) break;
      *out = v;
      return true;
    case SETK_DECIMAL:
    case SETK_MONEY:
      if (v.kind == VAL_INT || v.kind == VAL_DECIMAL) {
        *out = v;
        return true;
      }
      if (v.kind == VAL_STRING && decimal_parse(value_as_str(v), &d, NULL) == DECIMAL_OK) {
        *out = value_decimal(d);
        return true;
      }
      break;
    case SETK_STRING:
    case SETK_SECRET:
      if (v.kind != VAL_STRING) break;
      *out = v;
      return true;
    case SETK_DATE: {
      int32_t days;
      if (v.kind == VAL_DATE) {
        *out = v;
        return true;
      }
      if (v.kind == VAL_STRING && date_parse(value_as_str(v), &days, &w)) {
        *out = value_date(days);
        return true;
      }
      break;
    }
    case SETK_DATETIME: {
      DateTime dt;
      if (v.kind == VAL_DATETIME) {
        *out = v;
        return true;
      }
      if (v.kind == VAL_STRING && datetime_parse(value_as_str(v), &dt, &w)) {
        *out = value_datetime(dt);
        return true;
      }
      break;
    }
    case SETK_ENUM:
      if (!allowed(s, v)) break;
      *out = v;
      return true;
    case SETK_LIST:
      if (v.kind != VAL_LIST) break;
      for (uint32_t i = 0; i < v.len && s->n_allowed; i++) {
        if (!allowed(s, v.as.items[i])) {
          snprintf(why, size, "element %u is not one of the allowed values", i + 1);
          return false;
        }
      }
      *out = v;
      return true;
    case SETK_TABLE:
      if (v.kind != VAL_RECORD) break;
      *out = v;
      return true;
    case SETK_OTHER: *out = v; return true;
  }
  snprintf(why, size, "the value does not fit the type `%.*s`", STR_FMT(s->type));
  return false;
}

bool vm_set_setting(Vm *vm, Str name, Value v, char *err, size_t err_size) {
  int i = program_setting_index(vm->p, name);
  if (i < 0) {
    snprintf(err, err_size, "the flow has no setting `%.*s`", STR_FMT(name));
    return false;
  }
  const ProgSetting *s = &vm->p->settings[i];
  Value fitted, copy;
  char why[160];
  if (!fit_setting(s, v, &fitted, why, sizeof why)) {
    snprintf(err, err_size, "setting `%.*s`: %s", STR_FMT(name), why);
    return false;
  }
  if (!value_copy(&vm->settings_arena, fitted, &copy)) {
    snprintf(err, err_size, "setting `%.*s`: out of memory", STR_FMT(name));
    return false;
  }
  vm->settings[i] = copy;
  vm->settings_set[i] = true;
  return true;
}

bool vm_set_setting_json(Vm *vm, Str name, Str json, char *err, size_t err_size) {
  Arena tmp;
  arena_init(&tmp);
  Value v;
  JsonvError jerr;
  bool ok = jsonv_decode(&tmp, json, NULL, &v, &jerr);
  if (!ok) {
    char why[300];
    snprintf(err, err_size, "setting `%.*s`: %s", STR_FMT(name), jsonv_error_text(&jerr, why, sizeof why));
  } else {
    ok = vm_set_setting(vm, name, v, err, err_size);
  }
  arena_fini(&tmp);
  return ok;
}

/* ---- The graph ----------------------------------------------------------------- */

static VmOutcome outcome_of(const Err *err) {
  return status_group(err->code) == STATUS_GROUP_SKIP ? VM_SKIPPED : VM_FAILED;
}

static void clear_run(Vm *vm) {
  const Program *p = vm->p;
  for (uint32_t i = 0; i < p->n_slots; i++) vm->slots[i] = value_null();
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    vm->results[i] = vm->mapped[i] = value_null();
    vm->ran[i] = false;
  }
}

bool vm_eval_block(Vm *vm, uint32_t block, Value record, Value *out, Err *err) {
  err_init(err);
  vm->err = err;
  if (block >= vm->p->n_blocks) {
    err_set(err, IEX_E_INTERNAL, "no block %u", block);
    return false;
  }
  if (vm->p->n_slots) vm->slots[0] = record;
  return exec(vm, block, out);
}

/* Whether the record's stage is one the trigger accepts. */
static bool stage_allowed(Vm *vm, Value record, Value stages) {
  const Value *stage = value_field(record, vm->p->trigger.stage_field, NULL);
  if (!stage) return false;
  if (stages.kind == VAL_LIST) {
    for (uint32_t i = 0; i < stages.len; i++)
      if (equal(*stage, stages.as.items[i])) return true;
    return false;
  }
  return equal(*stage, stages);
}

static VmOutcome run_trigger(Vm *vm, Value record, Err *err) {
  const ProgTrigger *t = &vm->p->trigger;
  Value v;
  char loc[160];
  snprintf(loc, sizeof loc, "%.*s:%u:%u", STR_FMT(vm->p->source_path), t->pos.line, t->pos.col);
  if (t->stages != PROG_NONE) {
    if (!exec(vm, t->stages, &v)) return outcome_of(err);
    if (record.kind != VAL_RECORD || !stage_allowed(vm, record, v)) {
      char name[64];
      snprintf(name, sizeof name, "%.*s", (int)IEX_MIN(t->record.len, 60u), t->record.ptr);
      if (name[0] >= 'a' && name[0] <= 'z') name[0] = (char)(name[0] - 'a' + 'A');
      err_set(err, IEX_SKIP_STATE, "%s not in allowed states", name);
      err_set_location(err, loc);
      return VM_SKIPPED;
    }
  }
  if (t->where != PROG_NONE) {
    if (!exec(vm, t->where, &v)) return outcome_of(err);
    if (v.kind != VAL_BOOL) {
      char s[160];
      err_set(err, IEX_E_MAPPING, "the trigger's `where` must be true or false, not %s",
              show(v, s, sizeof s));
      return VM_FAILED;
    }
    if (!v.as.b) {
      err_set(err, IEX_SKIP_WHERE, "condition not met: %.*s", STR_FMT(t->where_text));
      err_set_location(err, loc);
      return VM_SKIPPED;
    }
  }
  return VM_DONE;
}

static VmOutcome run_step(Vm *vm, uint32_t i, const Host *host, Err *err) {
  const Program *p = vm->p;
  const ProgNode *n = &p->nodes[i];
  Value v;
  if (n->when != PROG_NONE) {
    if (!exec(vm, n->when, &v)) return outcome_of(err);
    if (v.kind != VAL_BOOL) {
      char s[160];
      err_set(err, IEX_E_MAPPING, "`when` of step %.*s must be true or false, not %s",
              STR_FMT(n->name), show(v, s, sizeof s));
      return VM_FAILED;
    }
    if (!v.as.b) {
      vm->slots[n->slot] = value_null();
      return VM_DONE;
    }
  }
  Value mapped;
  if (!exec(vm, n->body, &mapped)) return outcome_of(err);
  vm->mapped[i] = mapped;
  vm->ran[i] = true;
  char stage[160];
  if (host && host->stage) {
    snprintf(stage, sizeof stage, "mapped:%.*s", (int)IEX_MIN(n->name.len, 140u), n->name.ptr);
    host->stage(host->ctx, stage, mapped);
  }
  if (n->operation.len == 0) {
    vm->slots[n->slot] = vm->results[i] = mapped;
    return VM_DONE;
  }
  Value params = value_null();
  if (n->params != PROG_NONE && !exec(vm, n->params, &params)) return outcome_of(err);
  char loc[160];
  snprintf(loc, sizeof loc, "%.*s:%u:%u", STR_FMT(p->source_path), n->pos.line, n->pos.col);
  OpCall call = {
      .arena = &vm->arena,
      .step = n->name,
      .connection = n->connection,
      .system = n->system,
      .operation = n->operation,
      .effect = (OpEffect)n->effect,
      .params = params,
      .input = mapped,
      .effect_key = n->name,
      .location = loc,
  };
  Value result = mapped;
  if (host && host->operation) {
    result = value_null();
    HostAnswer a = host->operation(host->ctx, &call, &result, err);
    if (a != HOST_DONE) {
      if (err->location[0] == '\0') err_set_location(err, loc);
      if (a == HOST_SKIP) {
        if (err->code == IEX_OK) err->code = IEX_SKIP;
        return VM_SKIPPED;
      }
      if (err->code == IEX_OK) err->code = IEX_FAIL;
      return VM_FAILED;
    }
  }
  vm->slots[n->slot] = vm->results[i] = result;
  return VM_DONE;
}

VmOutcome vm_run(Vm *vm, Value record, const Host *host, Err *err) {
  const Program *p = vm->p;
  err_init(err);
  vm->err = err;
  clear_run(vm);
  if (p->n_slots) vm->slots[0] = record;
  if (p->has_trigger) {
    VmOutcome o = run_trigger(vm, record, err);
    if (o != VM_DONE) return o;
  }
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const ProgNode *n = &p->nodes[i];
    Value v;
    switch ((NodeKind)n->kind) {
      case NODE_LET:
        if (!exec(vm, n->body, &v)) return outcome_of(err);
        vm->slots[n->slot] = vm->results[i] = v;
        vm->ran[i] = true;
        if (host && host->stage) {
          char stage[160];
          snprintf(stage, sizeof stage, "binding:%.*s", (int)IEX_MIN(n->name.len, 140u), n->name.ptr);
          host->stage(host->ctx, stage, v);
        }
        break;
      case NODE_GUARD:
        if (!exec(vm, n->body, &v)) return outcome_of(err);
        vm->ran[i] = true;
        break;
      case NODE_STEP: {
        VmOutcome o = run_step(vm, i, host, err);
        if (o != VM_DONE) return o;
        break;
      }
    }
  }
  return VM_DONE;
}
