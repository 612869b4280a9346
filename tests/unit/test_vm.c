/*
** Unit tests of the .iexb format (runtime/bytecode.h) and the VM
** (runtime/vm.h) on hand-assembled programs: exact decimals, records and
** lists, iteration, `??`, skip/fail with their locations, the graph
** runner with a host, settings, and the loader's refusals (other version,
** damaged payload, code that does not verify).
*/
#include "runtime/bytecode.h"
#include "runtime/vm.h"
#include "tests/lib/check.h"
#include "tests/unit/value_fixture.h"

#include "common/util.h"

#include <stdlib.h>
#include <string.h>

static DebugPos AT(uint32_t line, uint32_t col) { return (DebugPos){line, col}; }

static Program *new_program(void) {
  Program *p = program_new();
  p->source_path = program_str(p, STR_LIT("t.iexflow"));
  program_add_slot(p, STR_LIT("order"));
  return p;
}

static uint32_t K(Program *p, Value v) { return program_add_const(p, v); }

static Program *verified(Program *p) {
  char err[300];
  if (!program_verify(p, err, sizeof err)) {
    check_fail(__FILE__, __LINE__, "does not verify: %s", err);
    program_free(p);
    return NULL;
  }
  return p;
}

/* Where results outlive the VM that made them. */
static Arena keep;

/* Evaluate block 0 of `p` on `record`. */
static bool eval0(Program *p, Value record, Value *out, Err *err) {
  Vm *vm = vm_new(p);
  vm_begin(vm);
  bool ok = vm_eval_block(vm, 0, record, out, err);
  if (ok) {
    value_copy(&keep, *out, out);
  }
  vm_free(vm);
  return ok;
}

TEST(exact_decimals) {
  /* 0.1 + 0.2 == 0.3, and the sum keeps its digits. */
  Program *p = new_program();
  program_begin_block(p);
  program_emit(p, OP_CONST, K(p, DEC("0.1")), 0, AT(1, 1));
  program_emit(p, OP_CONST, K(p, DEC("0.2")), 0, AT(1, 7));
  program_emit(p, OP_ADD, 0, 0, AT(1, 5));
  program_emit(p, OP_CONST, K(p, DEC("0.3")), 0, AT(1, 12));
  program_emit(p, OP_EQ, 0, 0, AT(1, 9));
  program_emit(p, OP_RET, 0, 0, AT(1, 1));
  CHECK_FATAL((p = verified(p)) != NULL);
  Value v;
  Err err;
  CHECK(eval0(p, value_null(), &v, &err));
  CHECK(v.kind == VAL_BOOL && v.as.b);
  program_free(p);
}

TEST(money_text_and_division_round_with_the_flow_rule) {
  /* "19.99" (Shopify's text) * 3 = 59.97; 10 / 3 rounds half-even at 18
  ** digits; 7 % 2 = 1. */
  Program *p = new_program();
  p->rounding = ROUND_HALF_EVEN;
  program_begin_block(p);
  program_emit(p, OP_REC_BEGIN, 3, 0, AT(1, 1));
  program_emit(p, OP_CONST, K(p, S("19.99")), 0, AT(1, 1));
  program_emit(p, OP_CONST, K(p, value_int(3)), 0, AT(1, 1));
  program_emit(p, OP_MUL, 0, 0, AT(1, 1));
  program_emit(p, OP_REC_SET, K(p, S("total")), 0, AT(1, 1));
  program_emit(p, OP_CONST, K(p, value_int(10)), 0, AT(1, 1));
  program_emit(p, OP_CONST, K(p, value_int(4)), 0, AT(1, 1));
  program_emit(p, OP_DIV, 0, 0, AT(1, 1));
  program_emit(p, OP_REC_SET, K(p, S("quarter")), 0, AT(1, 1));
  program_emit(p, OP_CONST, K(p, value_int(7)), 0, AT(1, 1));
  program_emit(p, OP_CONST, K(p, value_int(2)), 0, AT(1, 1));
  program_emit(p, OP_MOD, 0, 0, AT(1, 1));
  program_emit(p, OP_REC_SET, K(p, S("rest")), 0, AT(1, 1));
  program_emit(p, OP_REC_END, 0, 0, AT(1, 1));
  program_emit(p, OP_RET, 0, 0, AT(1, 1));
  CHECK_FATAL((p = verified(p)) != NULL);
  Value v;
  Err err;
  CHECK_FATAL(eval0(p, value_null(), &v, &err));
  Buf b;
  buf_init(&b, 0);
  value_debug(v, &b);
  CHECK_EQ_STR(buf_cstr(&b), "{\"total\": 59.97, \"quarter\": 2.5, \"rest\": 1}");
  buf_fini(&b);
  program_free(p);
}

TEST(for_loop_where_and_coalesce) {
  /* for item in order.items where item.qty > 1 => item.sku ?? "MISC" */
  Program *p = new_program();
  uint32_t base = program_add_slot(p, STR_LIT("(list)"));
  program_add_slot(p, STR_LIT("(pos)"));
  uint32_t item = program_add_slot(p, STR_LIT("item"));
  p->n_cache = 3;
  program_begin_block(p);
  program_emit(p, OP_LIST_BEGIN, 0, 0, AT(1, 1));
  program_emit(p, OP_LOAD, 0, 0, AT(1, 1));
  program_emit(p, OP_FIELD, K(p, S("items")), 0, AT(1, 1));
  program_emit(p, OP_ITER_INIT, base, 0, AT(1, 1));
  uint32_t loop = program_emit(p, OP_ITER_NEXT, 0, (uint16_t)base, AT(1, 1));
  program_emit(p, OP_STORE, item, 0, AT(1, 1));
  program_emit(p, OP_LOAD, item, 0, AT(1, 1));
  program_emit(p, OP_FIELD, K(p, S("qty")), 1, AT(1, 1));
  program_emit(p, OP_CONST, K(p, value_int(1)), 0, AT(1, 1));
  program_emit(p, OP_GT, 0, 0, AT(1, 1));
  program_emit(p, OP_JUMP_IF_FALSE, loop, 0, AT(1, 1));
  program_emit(p, OP_LOAD, item, 0, AT(1, 1));
  program_emit(p, OP_FIELD, K(p, S("sku")), 2, AT(1, 1));
  uint32_t jnn = program_emit(p, OP_JUMP_IF_NOT_NULL, 0, 0, AT(1, 1));
  program_emit(p, OP_CONST, K(p, S("MISC")), 0, AT(1, 1));
  p->code[jnn].a = p->n_code;
  program_emit(p, OP_LIST_PUSH, 0, 0, AT(1, 1));
  program_emit(p, OP_JUMP, loop, 0, AT(1, 1));
  p->code[loop].a = p->n_code;
  program_emit(p, OP_LIST_END, 0, 0, AT(1, 1));
  program_emit(p, OP_RET, 0, 0, AT(1, 1));
  CHECK_FATAL((p = verified(p)) != NULL);

  Arena a;
  arena_init(&a);
  Value items[3];
  for (int i = 0; i < 3; i++) {
    RecordBuilder rb;
    record_builder_init(&rb, &a, 2);
    record_builder_add(&rb, STR_LIT("qty"), value_int(i + 1));
    if (i != 1) record_builder_add(&rb, STR_LIT("sku"), S(i == 0 ? "A" : "C"));
    items[i] = record_builder_finish(&rb);
  }
  RecordBuilder rb;
  record_builder_init(&rb, &a, 1);
  record_builder_add(&rb, STR_LIT("items"), value_list(items, 3));
  Value order = record_builder_finish(&rb);
  Value v;
  Err err;
  CHECK_FATAL(eval0(p, order, &v, &err));
  CHECK_EQ_INT(v.kind, VAL_LIST);
  CHECK_EQ_INT(v.len, 2);
  CHECK(value_equal(v.as.items[0], S("MISC")));
  CHECK(value_equal(v.as.items[1], S("C")));
  arena_fini(&a);
  program_free(p);
}

TEST(fail_names_the_rule) {
  Program *p = new_program();
  program_begin_block(p);
  program_emit(p, OP_CONST, K(p, S("line 3 of order #1001 has no SKU")), 0, AT(42, 20));
  program_emit(p, OP_FAIL, 0, 0, AT(42, 17));
  program_emit(p, OP_NULL, 0, 0, AT(42, 17));
  program_emit(p, OP_RET, 0, 0, AT(42, 17));
  CHECK_FATAL((p = verified(p)) != NULL);
  Value v;
  Err err;
  CHECK(!eval0(p, value_null(), &v, &err));
  CHECK_EQ_INT(err.code, IEX_FAIL);
  CHECK_EQ_STR(err.location, "t.iexflow:42:17");
  CHECK_EQ_STR(err.message, "line 3 of order #1001 has no SKU");
  program_free(p);
}

TEST(type_errors_are_messages) {
  Program *p = new_program();
  program_begin_block(p);
  program_emit(p, OP_CONST, K(p, S("abc")), 0, AT(3, 4));
  program_emit(p, OP_CONST, K(p, value_int(1)), 0, AT(3, 10));
  program_emit(p, OP_MUL, 0, 0, AT(3, 8));
  program_emit(p, OP_RET, 0, 0, AT(3, 4));
  CHECK_FATAL((p = verified(p)) != NULL);
  Value v;
  Err err;
  CHECK(!eval0(p, value_null(), &v, &err));
  CHECK_EQ_INT(err.code, IEX_E_MAPPING);
  CHECK_EQ_STR(err.location, "t.iexflow:3:8");
  CHECK_EQ_STR(err.message, "cannot compute the text `abc` * 1: the text `abc` is not a number");
  program_free(p);
}

/* ---- The graph ------------------------------------------------------------- */

typedef struct Seen {
  int calls;
  char last_op[64];
  Value params;
} Seen;

static HostAnswer answer(void *ctx, const OpCall *call, Value *result, Err *err) {
  Seen *s = ctx;
  s->calls++;
  snprintf(s->last_op, sizeof s->last_op, "%.*s", STR_FMT(call->operation));
  s->params = call->params;
  (void)err;
  RecordBuilder rb;
  record_builder_init(&rb, call->arena, 1);
  record_builder_add(&rb, STR_LIT("customerNumber"), value_int(77));
  *result = record_builder_finish(&rb);
  return HOST_DONE;
}

/* A flow: on shop.order reaches paid; step customer = books.customer.create
** (mode: settings.mode) { name = order.name }; let n = customer.customerNumber. */
static Program *graph_program(void) {
  Program *p = new_program();
  uint32_t cust = program_add_slot(p, STR_LIT("customer"));
  uint32_t n_slot = program_add_slot(p, STR_LIT("n"));
  p->n_cache = 2;
  ProgSetting *s = program_add_setting(p);
  s->name = program_str(p, STR_LIT("mode"));
  s->type = program_str(p, STR_LIT("draft | booked"));
  s->kind = SETK_ENUM;
  s->allowed = arena_alloc(&p->arena, 2 * sizeof(Str));
  s->allowed[0] = program_str(p, STR_LIT("draft"));
  s->allowed[1] = program_str(p, STR_LIT("booked"));
  s->n_allowed = 2;
  s->default_k = K(p, S("draft"));
  p->has_trigger = true;
  p->trigger.record = program_str(p, STR_LIT("order"));
  p->trigger.stage_field = program_str(p, STR_LIT("financial_status"));
  p->trigger.stages = program_begin_block(p);
  program_emit(p, OP_CONST, K(p, S("paid")), 0, AT(5, 1));
  program_emit(p, OP_RET, 0, 0, AT(5, 1));
  ProgNode *n = program_add_node(p);
  n->kind = NODE_STEP;
  n->slot = cust;
  n->name = program_str(p, STR_LIT("customer"));
  n->connection = program_str(p, STR_LIT("books"));
  n->system = program_str(p, STR_LIT("economic"));
  n->operation = program_str(p, STR_LIT("customer.create"));
  n->effect = OP_WRITES;
  n->pos = AT(7, 1);
  n->body = program_begin_block(p);
  program_emit(p, OP_REC_BEGIN, 1, 0, AT(8, 3));
  program_emit(p, OP_LOAD, 0, 0, AT(8, 10));
  program_emit(p, OP_FIELD, K(p, S("name")), 0, AT(8, 10));
  program_emit(p, OP_REC_SET, K(p, S("name")), 0, AT(8, 3));
  program_emit(p, OP_REC_END, 0, 0, AT(8, 3));
  program_emit(p, OP_RET, 0, 0, AT(8, 3));
  n->params = program_begin_block(p);
  program_emit(p, OP_REC_BEGIN, 1, 0, AT(7, 1));
  program_emit(p, OP_SETTING, 0, 0, AT(7, 40));
  program_emit(p, OP_REC_SET, K(p, S("mode")), 0, AT(7, 40));
  program_emit(p, OP_REC_END, 0, 0, AT(7, 1));
  program_emit(p, OP_RET, 0, 0, AT(7, 1));
  n = program_add_node(p);
  n->kind = NODE_LET;
  n->slot = n_slot;
  n->name = program_str(p, STR_LIT("n"));
  n->body = program_begin_block(p);
  program_emit(p, OP_LOAD, cust, 0, AT(9, 9));
  program_emit(p, OP_FIELD, K(p, S("customerNumber")), 1, AT(9, 9));
  program_emit(p, OP_RET, 0, 0, AT(9, 9));
  return verified(p);
}

static Value order_at(Arena *a, const char *stage) {
  RecordBuilder rb;
  record_builder_init(&rb, a, 2);
  record_builder_add(&rb, STR_LIT("name"), S("#1001"));
  record_builder_add(&rb, STR_LIT("financial_status"), S(stage));
  return record_builder_finish(&rb);
}

TEST(graph_runs_steps_through_the_host) {
  Program *p = graph_program();
  CHECK_FATAL(p != NULL);
  Vm *vm = vm_new(p);
  Seen seen = {0};
  Host host = {&seen, answer, NULL};
  Err err;
  char msg[200];
  CHECK(!vm_set_setting(vm, STR_LIT("mode"), S("maybe"), msg, sizeof msg));
  CHECK(vm_set_setting(vm, STR_LIT("mode"), S("booked"), msg, sizeof msg));
  Arena *a = vm_begin(vm);
  CHECK_EQ_INT(vm_run(vm, order_at(a, "paid"), &host, &err), VM_DONE);
  CHECK_EQ_INT(seen.calls, 1);
  CHECK_EQ_STR(seen.last_op, "customer.create");
  const Value *mode = value_field(seen.params, STR_LIT("mode"), NULL);
  CHECK(mode && value_equal(*mode, S("booked")));
  CHECK(value_equal(vm_result(vm, 1), value_int(77)));
  CHECK(vm_node_ran(vm, 0));
  const Value *name = value_field(vm_mapped(vm, 0), STR_LIT("name"), NULL);
  CHECK(name && value_equal(*name, S("#1001")));

  a = vm_begin(vm);
  CHECK_EQ_INT(vm_run(vm, order_at(a, "pending"), &host, &err), VM_SKIPPED);
  CHECK_EQ_INT(err.code, IEX_SKIP_STATE);
  CHECK_EQ_STR(err.message, "Order not in allowed states");
  CHECK_EQ_INT(seen.calls, 1);
  vm_free(vm);
  program_free(p);
}

/* ---- The file ---------------------------------------------------------------- */

TEST(file_round_trip_and_refusals) {
  Program *p = graph_program();
  CHECK_FATAL(p != NULL);
  memset(p->source_hash, 0xab, sizeof p->source_hash);
  Buf b, b2, d1, d2;
  buf_init(&b, 0);
  buf_init(&b2, 0);
  buf_init(&d1, 0);
  buf_init(&d2, 0);
  CHECK(program_write(p, &b));
  char err[400];
  Program *q = program_read(b.data, b.len, err, sizeof err);
  CHECK_FATAL(q != NULL);
  CHECK(program_write(q, &b2));
  CHECK(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
  program_disasm(p, &d1);
  program_disasm(q, &d2);
  CHECK_EQ_STR(buf_cstr(&d1), buf_cstr(&d2));
  CHECK(strstr(buf_cstr(&d1), "FIELD") != NULL);
  program_free(q);

  /* Not an .iexb file. */
  CHECK(program_read("hello", 5, err, sizeof err) == NULL);
  CHECK(strstr(err, "not a compiled flow") != NULL);
  /* Another format version: a newer one, and format 1 (an older iexc's). */
  CHECK_EQ_INT(BYTECODE_VERSION, 2);
  char *copy = xmalloc(b.len);
  memcpy(copy, b.data, b.len);
  copy[BYTECODE_MAGIC_LEN] = 99;
  CHECK(program_read(copy, b.len, err, sizeof err) == NULL);
  CHECK(strstr(err, "format 99") != NULL && strstr(err, "compile the flow again") != NULL);
  copy[BYTECODE_MAGIC_LEN] = 1;
  CHECK(program_read(copy, b.len, err, sizeof err) == NULL);
  CHECK_EQ_STR(err, "compiled by an older iexc; compile the flow again with iexc -o "
                    "(the file is .iexb format 1, this iex reads format 2)");
  /* One flipped byte in the payload. */
  memcpy(copy, b.data, b.len);
  copy[b.len - 10] ^= 0x40;
  CHECK(program_read(copy, b.len, err, sizeof err) == NULL);
  CHECK(strstr(err, "checksum") != NULL);
  /* Cut short. */
  CHECK(program_read(b.data, b.len - 3, err, sizeof err) == NULL);
  CHECK(strstr(err, "damaged") != NULL);
  free(copy);
  buf_fini(&b);
  buf_fini(&b2);
  buf_fini(&d1);
  buf_fini(&d2);
  program_free(p);
}

TEST(verifier_refuses_bad_code) {
  char err[300];
  /* A jump out of its block. */
  Program *p = new_program();
  program_begin_block(p);
  program_emit(p, OP_NULL, 0, 0, AT(1, 1));
  program_emit(p, OP_RET, 0, 0, AT(1, 1));
  program_begin_block(p);
  program_emit(p, OP_JUMP, 0, 0, AT(1, 1));
  CHECK(!program_verify(p, err, sizeof err));
  CHECK(strstr(err, "outside its block") != NULL);
  program_free(p);
  /* Popping an empty stack. */
  p = new_program();
  program_begin_block(p);
  program_emit(p, OP_ADD, 0, 0, AT(1, 1));
  program_emit(p, OP_RET, 0, 0, AT(1, 1));
  CHECK(!program_verify(p, err, sizeof err));
  CHECK(strstr(err, "empty stack") != NULL);
  program_free(p);
  /* A constant that does not exist. */
  p = new_program();
  program_begin_block(p);
  program_emit(p, OP_CONST, 5, 0, AT(1, 1));
  program_emit(p, OP_RET, 0, 0, AT(1, 1));
  CHECK(!program_verify(p, err, sizeof err));
  CHECK(strstr(err, "constant 5") != NULL);
  program_free(p);
  /* Paths that meet with different stack depths. */
  p = new_program();
  program_begin_block(p);
  program_emit(p, OP_TRUE, 0, 0, AT(1, 1));
  program_emit(p, OP_JUMP_IF_TRUE, 3, 0, AT(1, 1));
  program_emit(p, OP_NULL, 0, 0, AT(1, 1));
  program_emit(p, OP_NULL, 0, 0, AT(1, 1));
  program_emit(p, OP_RET, 0, 0, AT(1, 1));
  CHECK(!program_verify(p, err, sizeof err));
  program_free(p);
}

int main(void) {
  check_suite = "unit/vm";
  arena_init(&keep);
  RUN(exact_decimals);
  RUN(money_text_and_division_round_with_the_flow_rule);
  RUN(for_loop_where_and_coalesce);
  RUN(fail_names_the_rule);
  RUN(type_errors_are_messages);
  RUN(graph_runs_steps_through_the_host);
  RUN(file_round_trip_and_refusals);
  RUN(verifier_refuses_bad_code);
  arena_fini(&keep);
  return check_done();
}
