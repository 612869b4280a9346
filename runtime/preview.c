/*
** `iex preview` and `iex map`: running a compiled flow with no side
** effects (runtime/host.h's "preview" and "bench" hosts).
**
**   iex preview FLOW.iexb [--input FILE.jsonl] [--fixtures FILE.json]
**                         [--set NAME=VALUE]...
** prints, as JSON Lines, what each step of each input record would send
** to which system; a step whose answer a later step needs takes it from
** the fixtures (an object keyed by step name), or else answers with what
** it sent and is marked "would create". A record the flow skips or fails
** prints one line saying so, with the reason and the rule.
**
**   iex map FLOW.iexb [--input FILE.jsonl] [--step NAME] [--set NAME=VALUE]...
** prints only the record the last (or the named) step would send, one
** line per mapped input record: the mapping itself, for bench/.
*/
#include "common/buf.h"
#include "common/util.h"
#include "runtime/bytecode.h"
#include "runtime/cli.h"
#include "runtime/host.h"
#include "runtime/json_value.h"
#include "runtime/lua_bridge.h"
#include "runtime/vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Longest input line (one order). */
#define MAX_LINE_BYTES ((size_t)64 * 1024 * 1024)
/* Output is written in chunks of about this size. */
#define OUT_CHUNK ((size_t)1 << 20)

typedef struct Options {
  const char *flow;
  const char *input;    /* "-" for stdin */
  const char *fixtures; /* or NULL */
  const char *step;     /* iex map: the step whose record is printed */
  const char **sets;    /* NAME=VALUE, borrowed from argv */
  int n_sets;
} Options;

static int parse_args(int argc, char **argv, Options *o, bool is_map) {
  memset(o, 0, sizeof *o);
  o->input = "-";
  o->sets = xcalloc((size_t)argc, sizeof *o->sets);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
    if (strcmp(a, "--input") == 0 && has_value) o->input = argv[++i];
    else if (strcmp(a, "--fixtures") == 0 && has_value && !is_map) o->fixtures = argv[++i];
    else if (strcmp(a, "--step") == 0 && has_value && is_map) o->step = argv[++i];
    else if (strcmp(a, "--set") == 0 && has_value) o->sets[o->n_sets++] = argv[++i];
    else if (a[0] == '-' && a[1]) return cli_usage_error(argv[0], "unknown option `%s`", a);
    else if (!o->flow) o->flow = a;
    else return cli_usage_error(argv[0], "one flow at a time (`%s`)", a);
  }
  if (!o->flow) return cli_usage_error(argv[0], "which flow? give its compiled .iexb");
  return 0;
}

/* Load the flow and apply --set. Returns NULL after printing why. */
static Vm *load_flow(const char *cmd, const Options *o, Program **prog) {
  char err[700];
  size_t n = strlen(o->flow);
  if (n > 8 && strcmp(o->flow + n - 8, ".iexflow") == 0) {
    fprintf(stderr, "iex %s: `%s` is a flow's source; compile it first: iexc %s -o FLOW.iexb\n",
            cmd, o->flow, o->flow);
    return NULL;
  }
  Program *p = program_load(o->flow, err, sizeof err);
  if (!p) {
    fprintf(stderr, "iex %s: %s\n", cmd, err);
    return NULL;
  }
  Vm *vm = vm_new(p);
  Err lua_err;
  if (lua_flow_attach(vm, p, NULL, &lua_err) != IEX_OK) {
    fprintf(stderr, "iex %s: %s\n", cmd, err_text(&lua_err));
    goto fail;
  }
  for (int i = 0; i < o->n_sets; i++) {
    const char *eq = strchr(o->sets[i], '=');
    if (!eq) {
      fprintf(stderr, "iex %s: --set needs NAME=VALUE, not `%s`\n", cmd, o->sets[i]);
      goto fail;
    }
    Str name = str_make(o->sets[i], (size_t)(eq - o->sets[i]));
    Str json = str_from_cstr(eq + 1);
    /* A bare word is text: --set invoice_mode=booked. */
    if (!vm_set_setting_json(vm, name, json, err, sizeof err)) {
      Value s = value_string(json.ptr, json.len);
      char err2[300];
      if (!vm_set_setting(vm, name, s, err2, sizeof err2)) {
        fprintf(stderr, "iex %s: %s\n", cmd, err);
        goto fail;
      }
    }
  }
  uint32_t missing;
  if (!vm_settings_complete(vm, &missing)) {
    fprintf(stderr, "iex %s: the setting `%.*s` has no default; give it with --set %.*s=VALUE\n", cmd,
            STR_FMT(p->settings[missing].name), STR_FMT(p->settings[missing].name));
    goto fail;
  }
  *prog = p;
  return vm;
fail:
  vm_free(vm);
  program_free(p);
  return NULL;
}

/* ---- preview ---------------------------------------------------------------- */

typedef struct PreviewHost {
  Value fixtures;   /* record: step name -> answer (in fix_arena), or null */
  Buf *out;
  uint64_t record_no;
} PreviewHost;

static void put_json_str(Buf *b, Str s) {
  jsonv_encode(value_string(s.ptr, s.len), b, NULL);
}

static HostAnswer preview_operation(void *ctx, const OpCall *call, Value *result, Err *err) {
  PreviewHost *h = ctx;
  (void)err;
  const Value *fix = h->fixtures.kind == VAL_RECORD ? value_field(h->fixtures, call->step, NULL) : NULL;
  Buf *b = h->out;
  buf_printf(b, "{\"record\":%llu,\"step\":", (unsigned long long)h->record_no);
  put_json_str(b, call->step);
  buf_puts(b, ",\"system\":");
  put_json_str(b, call->system);
  buf_puts(b, ",\"operation\":");
  put_json_str(b, call->operation);
  buf_puts(b, call->effect == OP_WRITES ? ",\"writes\":true" : ",\"writes\":false");
  buf_puts(b, ",\"params\":");
  jsonv_encode(call->params, b, NULL);
  buf_puts(b, ",\"sends\":");
  jsonv_encode(call->input, b, NULL);
  if (fix) {
    buf_puts(b, ",\"answer\":");
    jsonv_encode(*fix, b, NULL);
    *result = *fix;
  } else {
    buf_puts(b, ",\"answer\":\"would create\"");
    *result = call->input;
  }
  buf_puts(b, "}\n");
  return HOST_DONE;
}

/* Write `b` to stdout and empty it; with `last`, also flush stdout. A
** failure (a full disk, a closed pipe) is reported, so the command does
** not end with status 0 having printed only part of its output. */
static bool flush_out(const char *cmd, Buf *b, bool last) {
  bool ok = fwrite(b->data ? b->data : "", 1, b->len, stdout) == b->len;
  if (ok && last) ok = fflush(stdout) == 0;
  if (!ok) fprintf(stderr, "iex %s: cannot write the output: %s\n", cmd, strerror(errno));
  buf_reset(b);
  return ok;
}

int cmd_preview(int argc, char **argv) {
  Options o;
  int rc = parse_args(argc, argv, &o, false);
  if (rc) {
    free(o.sets);
    return rc;
  }
  Program *p = NULL;
  Vm *vm = load_flow("preview", &o, &p);
  free(o.sets);
  if (!vm) return 2;
  char err[512];
  Arena fix_arena;
  arena_init(&fix_arena);
  PreviewHost h = {value_null(), NULL, 0};
  int status = 0;
  if (o.fixtures) {
    size_t len;
    char *data = read_file(o.fixtures, (size_t)64 << 20, &len, err, sizeof err);
    JsonvError jerr;
    if (!data) {
      fprintf(stderr, "iex preview: cannot read `%s`: %s\n", o.fixtures, err);
      status = 2;
    } else if (!jsonv_decode(&fix_arena, str_make(data, len), NULL, &h.fixtures, &jerr)) {
      fprintf(stderr, "iex preview: `%s`: %s\n", o.fixtures, jsonv_error_text(&jerr, err, sizeof err));
      status = 2;
    } else if (h.fixtures.kind != VAL_RECORD) {
      fprintf(stderr, "iex preview: `%s` must hold an object keyed by step name\n", o.fixtures);
      status = 2;
    }
    free(data);
  }
  JsonvLines lines;
  if (status == 0 && !jsonv_lines_open(&lines, o.input, MAX_LINE_BYTES, err, sizeof err)) {
    fprintf(stderr, "iex preview: %s\n", err);
    status = 2;
  }
  if (status == 0) {
    Buf out;
    buf_init(&out, 0);
    h.out = &out;
    JsonvDecoder dec;
    jsonv_decoder_init(&dec, NULL);
    Host host = {&h, preview_operation, NULL};
    Str line;
    int r;
    while ((r = jsonv_lines_next(&lines, &line, err, sizeof err)) != 0) {
      h.record_no = lines.line_no;
      if (r < 0) {
        fprintf(stderr, "iex preview: %s: line %llu: %s\n", o.input, (unsigned long long)lines.line_no, err);
        status = 1;
        continue;
      }
      Arena *a = vm_begin(vm);
      Value rec;
      JsonvError jerr;
      if (!jsonv_decode_with(&dec, a, line, &rec, &jerr)) {
        buf_printf(&out, "{\"record\":%llu,\"outcome\":\"invalid\",\"reason\":",
                   (unsigned long long)lines.line_no);
        put_json_str(&out, str_from_cstr(jsonv_error_text(&jerr, err, sizeof err)));
        buf_puts(&out, "}\n");
        status = 1;
        continue;
      }
      Err e;
      VmOutcome oc = vm_run(vm, rec, &host, &e);
      if (oc != VM_DONE) {
        buf_printf(&out, "{\"record\":%llu,\"outcome\":\"%s\",\"reason\":", (unsigned long long)lines.line_no,
                   oc == VM_SKIPPED ? "skipped" : "failed");
        put_json_str(&out, str_from_cstr(e.message));
        buf_puts(&out, ",\"location\":");
        put_json_str(&out, str_from_cstr(e.location));
        buf_puts(&out, "}\n");
        if (oc == VM_FAILED) status = 1;
      }
      if (out.len > OUT_CHUNK && !flush_out("preview", &out, false)) {
        status = 2;
        break;
      }
    }
    if (status != 2 && !flush_out("preview", &out, true)) status = 2;
    buf_fini(&out);
    jsonv_decoder_fini(&dec);
    jsonv_lines_close(&lines);
  }
  arena_fini(&fix_arena);
  vm_free(vm);
  program_free(p);
  return status;
}

/* ---- map -------------------------------------------------------------------- */

static HostAnswer echo_operation(void *ctx, const OpCall *call, Value *result, Err *err) {
  (void)ctx;
  (void)err;
  *result = call->input;
  return HOST_DONE;
}

int cmd_map(int argc, char **argv) {
  Options o;
  int rc = parse_args(argc, argv, &o, true);
  if (rc) {
    free(o.sets);
    return rc;
  }
  Program *p = NULL;
  Vm *vm = load_flow("map", &o, &p);
  free(o.sets);
  if (!vm) return 2;
  int step = -1;
  for (uint32_t i = 0; i < p->n_nodes; i++)
    if (p->nodes[i].kind == NODE_STEP && (!o.step || str_eq_cstr(p->nodes[i].name, o.step))) step = (int)i;
  char err[512];
  JsonvLines lines;
  int status = 0;
  if (step < 0) {
    fprintf(stderr, "iex map: the flow has no step%s%s\n", o.step ? " " : "", o.step ? o.step : "");
    status = 2;
  } else if (!jsonv_lines_open(&lines, o.input, MAX_LINE_BYTES, err, sizeof err)) {
    fprintf(stderr, "iex map: %s\n", err);
    status = 2;
  }
  if (status == 0) {
    Buf out;
    buf_init(&out, 0);
    /* Each line stays unchanged until the next call, and the record is
    ** done with before that: the decoder need not copy it. */
    JsonvOptions jopt = {.input_outlives_arena = true};
    JsonvDecoder dec;
    jsonv_decoder_init(&dec, &jopt);
    Host host = {NULL, echo_operation, NULL};
    Str line;
    int r;
    while ((r = jsonv_lines_next(&lines, &line, err, sizeof err)) != 0) {
      if (r < 0) {
        fprintf(stderr, "iex map: %s: line %llu: %s\n", o.input, (unsigned long long)lines.line_no, err);
        status = 1;
        continue;
      }
      Arena *a = vm_begin(vm);
      Value rec;
      JsonvError jerr;
      if (!jsonv_decode_with(&dec, a, line, &rec, &jerr)) {
        fprintf(stderr, "iex map: %s: line %llu: %s\n", o.input, (unsigned long long)lines.line_no,
                jsonv_error_text(&jerr, err, sizeof err));
        status = 1;
        continue;
      }
      Err e;
      VmOutcome oc = vm_run(vm, rec, &host, &e);
      if (oc == VM_FAILED) {
        fprintf(stderr, "iex map: line %llu: %s: %s\n", (unsigned long long)lines.line_no, e.location,
                e.message);
        status = 1;
      } else if (oc == VM_DONE && vm_node_ran(vm, (uint32_t)step)) {
        jsonv_encode(vm_mapped(vm, (uint32_t)step), &out, NULL);
        buf_putc(&out, '\n');
        if (out.len > OUT_CHUNK && !flush_out("map", &out, false)) {
          status = 2;
          break;
        }
      }
    }
    if (status != 2 && !flush_out("map", &out, true)) status = 2;
    buf_fini(&out);
    jsonv_decoder_fini(&dec);
    jsonv_lines_close(&lines);
  }
  vm_free(vm);
  program_free(p);
  return status;
}
