/*
** Inline flow tests (testrun.h). Each test runs in a fresh evaluation:
** settings back to their defaults, then the test's `settings`, then the
** flow on the test's input with a Host that plays the connected systems.
*/
#include "compiler/testrun.h"

#include "common/util.h"
#include "compiler/codegen.h"
#include "runtime/host.h"
#include "runtime/lua_bridge.h"
#include "runtime/vm.h"

#include <stdlib.h>
#include <string.h>

/* Differences shown per failed test. */
#define MAX_DIFFS 20

typedef struct TestHost {
  const Program *p;
  Value *given;   /* per node: the `given` answer, or null */
  bool *has_given;
} TestHost;

static HostAnswer test_operation(void *ctx, const OpCall *call, Value *result, Err *err) {
  TestHost *h = ctx;
  (void)err;
  int i = program_node_index(h->p, call->step);
  /* Without `given`, a step's result holds only what the step sent. */
  *result = i >= 0 && h->has_given[i] ? h->given[i] : call->input;
  return HOST_DONE;
}

typedef struct Diff {
  Buf *out;
  unsigned n;
} Diff;

static bool is_num(Value v) { return v.kind == VAL_INT || v.kind == VAL_DECIMAL; }

/* Scalars equal as the test means it: numbers by value, also when the
** flow sends a number as text (Shopify's "19.99"). */
static bool same(Value exp, Value act) {
  if (value_equal(exp, act)) return true;
  if (is_num(exp) && act.kind == VAL_STRING) {
    Decimal a, e;
    if (decimal_parse(value_as_str(act), &a, NULL) != DECIMAL_OK) return false;
    if (exp.kind == VAL_INT) {
      if (decimal_from_int(exp.as.i, &e) != DECIMAL_OK) return false;
    } else {
      e = value_as_decimal(exp);
    }
    return decimal_cmp(a, e) == 0;
  }
  return false;
}

static void diff_line(Diff *d, const char *path, const char *what, Value exp, Value act) {
  if (d->n++ >= MAX_DIFFS) return;
  buf_printf(d->out, "    %s: %s", path, what);
  if (what[0] == 'e') {
    value_debug(exp, d->out);
    buf_puts(d->out, ", got ");
    value_debug(act, d->out);
  }
  buf_puts(d->out, "\n");
}

/* Compare `act` with `exp` the way expectations are meant: a record only
** in the fields it lists, a list element by element. */
static void compare(Diff *d, const char *path, Value exp, Value act) {
  char sub[512];
  if (exp.kind == VAL_RECORD) {
    if (act.kind != VAL_RECORD) {
      diff_line(d, path, "expected ", exp, act);
      return;
    }
    for (uint32_t i = 0; i < exp.as.rec->n_fields; i++) {
      const Field *f = &exp.as.rec->fields[i];
      const Value *a = value_field(act, f->key, NULL);
      snprintf(sub, sizeof sub, "%s.%.*s", path, STR_FMT(f->key));
      compare(d, sub, f->value, a ? *a : value_null());
    }
    return;
  }
  if (exp.kind == VAL_LIST) {
    if (act.kind != VAL_LIST) {
      diff_line(d, path, "expected ", exp, act);
      return;
    }
    if (exp.len != act.len) {
      if (d->n++ < MAX_DIFFS)
        buf_printf(d->out, "    %s: expected %u elements, got %u\n", path, exp.len, act.len);
    }
    uint32_t n = exp.len < act.len ? exp.len : act.len;
    for (uint32_t i = 0; i < n; i++) {
      snprintf(sub, sizeof sub, "%s[%u]", path, i);
      compare(d, sub, exp.as.items[i], act.as.items[i]);
    }
    return;
  }
  if (!same(exp, act)) diff_line(d, path, "expected ", exp, act);
}

static const char *outcome_name(VmOutcome o) {
  return o == VM_DONE ? "done" : o == VM_SKIPPED ? "skipped" : "failed";
}

/* Run test `t`; append why it failed to `why`. Returns whether it passed. */
static bool run_test(Vm *vm, const Program *p, const ProgTest *t, Buf *why) {
  Err err;
  Value input = value_null();
  TestHost h = {p, xcalloc(p->n_nodes + 1, sizeof(Value)), xcalloc(p->n_nodes + 1, sizeof(bool))};
  bool ok = true;
  vm_reset_settings(vm);
  vm_begin(vm);
  for (uint32_t i = 0; i < t->n_entries && ok; i++) {
    const ProgTestEntry *e = &t->entries[i];
    Value v;
    if (e->block == PROG_NONE) continue;
    if (e->kind == TEST_EXPECT) continue; /* evaluated after the run */
    if (!vm_eval_block(vm, e->block, value_null(), &v, &err)) {
      buf_printf(why, "    line %u: %s\n", e->pos.line, err.message);
      ok = false;
      break;
    }
    if (e->kind == TEST_SETTINGS) {
      for (uint32_t j = 0; v.kind == VAL_RECORD && j < v.as.rec->n_fields; j++) {
        char msg[300];
        const Field *f = &v.as.rec->fields[j];
        if (!vm_set_setting(vm, f->key, f->value, msg, sizeof msg)) {
          buf_printf(why, "    line %u: %s\n", e->pos.line, msg);
          ok = false;
        }
      }
    } else if (e->kind == TEST_INPUT) {
      input = v;
    } else if (e->kind == TEST_GIVEN) {
      int n = program_node_index(p, e->name);
      if (n < 0) {
        buf_printf(why, "    line %u: the flow has no step `%.*s`\n", e->pos.line, STR_FMT(e->name));
        ok = false;
      } else {
        h.given[n] = v;
        h.has_given[n] = true;
      }
    }
  }
  if (ok) {
    Host host = {&h, test_operation, NULL};
    VmOutcome o = vm_run(vm, input, &host, &err);
    bool stop_expected = false;
    for (uint32_t i = 0; i < t->n_entries; i++) {
      const ProgTestEntry *e = &t->entries[i];
      if (e->kind != TEST_EXPECT_SKIP && e->kind != TEST_EXPECT_FAIL) continue;
      stop_expected = true;
      VmOutcome want = e->kind == TEST_EXPECT_SKIP ? VM_SKIPPED : VM_FAILED;
      if (o != want || !str_eq_cstr(e->text, err.message)) {
        buf_printf(why, "    expected the transfer to be %s: \"%.*s\"\n", outcome_name(want), STR_FMT(e->text));
        if (o == VM_DONE) buf_printf(why, "    but it was done\n");
        else buf_printf(why, "    but it was %s: %s: \"%s\"\n", outcome_name(o), err.location, err.message);
        ok = false;
      }
    }
    if (!stop_expected && o != VM_DONE) {
      buf_printf(why, "    the transfer was %s: %s: %s\n", outcome_name(o), err.location, err.message);
      ok = false;
    }
    for (uint32_t i = 0; i < t->n_entries && o == VM_DONE; i++) {
      const ProgTestEntry *e = &t->entries[i];
      if (e->kind != TEST_EXPECT && e->kind != TEST_EXPECT_NO) continue;
      int n = program_node_index(p, e->name);
      if (n < 0) {
        buf_printf(why, "    line %u: the flow has no step `%.*s`\n", e->pos.line, STR_FMT(e->name));
        ok = false;
        continue;
      }
      if (e->kind == TEST_EXPECT_NO) {
        if (vm_node_ran(vm, (uint32_t)n)) {
          buf_printf(why, "    step %.*s ran, but the test expects it not to\n", STR_FMT(e->name));
          ok = false;
        }
        continue;
      }
      if (!vm_node_ran(vm, (uint32_t)n)) {
        buf_printf(why, "    step %.*s did not run\n", STR_FMT(e->name));
        ok = false;
        continue;
      }
      Value exp;
      Err e2;
      if (!vm_eval_block(vm, e->block, value_null(), &exp, &e2)) {
        buf_printf(why, "    line %u: %s\n", e->pos.line, e2.message);
        ok = false;
        continue;
      }
      Diff d = {why, 0};
      char path[200];
      snprintf(path, sizeof path, "%.*s", (int)IEX_MIN(e->name.len, 190u), e->name.ptr);
      compare(&d, path, exp, vm_mapped(vm, (uint32_t)n));
      if (d.n > MAX_DIFFS) buf_printf(why, "    ... and %u more differences\n", d.n - MAX_DIFFS);
      if (d.n) ok = false;
    }
  }
  free(h.given);
  free(h.has_given);
  return ok;
}

int testrun_files(const char *const *files, int n_files, const CompileOptions *opt, FILE *out) {
  unsigned passed = 0, failed = 0;
  int status = 0;
  for (int f = 0; f < n_files; f++) {
    Compilation *c = compile_new(opt);
    bool ok = compile_load(c, files[f]) && compile_check(c);
    if (compile_report(c, DIAG_FORMAT_TEXT)) {
      status = 2;
      compile_free(c);
      continue;
    }
    char err[600];
    Program *p = ok ? codegen_flow(c, err, sizeof err) : NULL;
    if (!p) {
      if (ok) fprintf(stderr, "iexc: %s\n", err);
      fprintf(out, "FAIL %s: the flow does not compile\n", files[f]);
      failed++;
      compile_free(c);
      continue;
    }
    Vm *vm = vm_new(p);
    /* Tests call the flow's Lua helpers as a real run does, sandbox and
    ** limits included. */
    Err lua_err;
    if (lua_flow_attach(vm, p, NULL, &lua_err) != IEX_OK) {
      fprintf(out, "FAIL %s: %s\n", files[f], err_text(&lua_err));
      failed++;
      vm_free(vm);
      program_free(p);
      compile_free(c);
      continue;
    }
    Buf why;
    buf_init(&why, 0);
    for (uint32_t i = 0; i < p->n_tests; i++) {
      buf_reset(&why);
      bool passed_one = run_test(vm, p, &p->tests[i], &why);
      fprintf(out, "%s %s: %.*s\n", passed_one ? "PASS" : "FAIL", files[f], STR_FMT(p->tests[i].name));
      if (!passed_one) fwrite(buf_cstr(&why), 1, why.len, out);
      if (passed_one) passed++;
      else failed++;
    }
    buf_fini(&why);
    vm_free(vm);
    program_free(p);
    compile_free(c);
  }
  fprintf(out, "%u passed, %u failed\n", passed, failed);
  if (status == 0 && failed) status = 1;
  return status;
}
