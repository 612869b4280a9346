/*
** The .iexb format: building a Program, writing it, reading it back with
** a verifier, and printing it for people (bytecode.h).
**
** The payload is a fixed sequence of sections with no tags: versioning is
** by BYTECODE_VERSION alone, which keeps the reader short. Every read is
** bounds-checked through a Reader that turns the first problem into a
** "damaged" message; nothing read from a file is trusted before
** program_verify() has passed.
*/
#include "runtime/bytecode.h"

#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const OpInfo op_info[OP__COUNT] = {
#define OP(name, a, b, pops, pushes, synopsis) \
  {#name, OPND_##a, OPND_##b, pops, pushes, synopsis},
#include "runtime/opcodes.def"
#undef OP
};
_Static_assert(ARRAY_LEN(op_info) == OP__COUNT, "one OpInfo per opcode");

/* The stdlib's size, for checking CALL operands, without linking it. */
enum {
#define FN(name, family, signature, doc) STDCOUNT_##name,
#include "stdlib/stdlib.def"
#undef FN
  STDLIB_COUNT
};

/* Nesting of constants read from a file (records in records...). */
#define MAX_CONST_DEPTH 256

/* ---- Building ------------------------------------------------------------ */

Program *program_new(void) {
  Program *p = xcalloc(1, sizeof *p);
  arena_init(&p->arena);
  p->rounding = ROUND_HALF_UP;
  p->trigger.stages = p->trigger.where = p->trigger.updates = PROG_NONE;
  return p;
}

void program_free(Program *p) {
  if (!p) return;
  for (uint32_t i = 0; i < p->n_tests; i++) free(p->tests[i].entries);
  free(p->settings);
  free(p->uses);
  free(p->consts);
  free(p->code);
  free(p->debug);
  free(p->blocks);
  free(p->nodes);
  free(p->tests);
  free(p->slot_names);
  arena_fini(&p->arena);
  free(p);
}

Str program_str(Program *p, Str s) {
  if (s.len == 0) return str_make("", 0);
  return arena_str(&p->arena, s);
}

/* Grow array `*arr` of `*cap` elements to hold `n + 1`. */
static void *grow(void *arr, uint32_t *cap, uint32_t n, size_t elem) {
  if (n < *cap) return arr;
  size_t c = *cap ? (size_t)*cap * 2 : 16;
  if (c > UINT32_MAX) iex_fatal("program too large");
  *cap = (uint32_t)c;
  return xrealloc(arr, c * elem);
}

uint32_t program_add_const(Program *p, Value v) {
  bool scalar = v.kind != VAL_LIST && v.kind != VAL_RECORD;
  if (scalar) {
    for (uint32_t i = 0; i < p->n_consts; i++) {
      Value c = p->consts[i];
      /* Same kind and same value: 1.0 and 1.00 stay apart (their digits
      ** are printed differently), so compare the raw fields too. */
      if (c.kind == v.kind && c.aux == v.aux && value_equal(c, v)) return i;
    }
  }
  Value copy;
  if (!value_copy(&p->arena, v, &copy)) iex_fatal("out of memory");
  p->consts = grow(p->consts, &p->cap_consts, p->n_consts, sizeof *p->consts);
  p->consts[p->n_consts] = copy;
  return p->n_consts++;
}

uint32_t program_begin_block(Program *p) {
  p->blocks = grow(p->blocks, &p->cap_blocks, p->n_blocks, sizeof *p->blocks);
  p->blocks[p->n_blocks] = p->n_code;
  return p->n_blocks++;
}

uint32_t program_emit(Program *p, Opcode op, uint32_t a, uint16_t b, DebugPos pos) {
  uint32_t cap = p->cap_code;
  p->code = grow(p->code, &p->cap_code, p->n_code, sizeof *p->code);
  if (cap != p->cap_code) p->debug = xrealloc(p->debug, (size_t)p->cap_code * sizeof *p->debug);
  p->code[p->n_code] = (Instr){.op = (uint8_t)op, .b = b, .a = a};
  p->debug[p->n_code] = pos;
  return p->n_code++;
}

uint32_t program_add_slot(Program *p, Str name) {
  p->slot_names = grow(p->slot_names, &p->cap_slot_names, p->n_slots, sizeof *p->slot_names);
  p->slot_names[p->n_slots] = program_str(p, name);
  return p->n_slots++;
}

ProgSetting *program_add_setting(Program *p) {
  p->settings = grow(p->settings, &p->cap_settings, p->n_settings, sizeof *p->settings);
  ProgSetting *s = &p->settings[p->n_settings++];
  memset(s, 0, sizeof *s);
  s->default_k = PROG_NONE;
  return s;
}

ProgUse *program_add_use(Program *p) {
  p->uses = grow(p->uses, &p->cap_uses, p->n_uses, sizeof *p->uses);
  ProgUse *u = &p->uses[p->n_uses++];
  memset(u, 0, sizeof *u);
  return u;
}

ProgNode *program_add_node(Program *p) {
  p->nodes = grow(p->nodes, &p->cap_nodes, p->n_nodes, sizeof *p->nodes);
  ProgNode *n = &p->nodes[p->n_nodes++];
  memset(n, 0, sizeof *n);
  n->body = n->when = n->params = PROG_NONE;
  return n;
}

ProgTest *program_add_test(Program *p) {
  p->tests = grow(p->tests, &p->cap_tests, p->n_tests, sizeof *p->tests);
  ProgTest *t = &p->tests[p->n_tests++];
  memset(t, 0, sizeof *t);
  return t;
}

ProgTestEntry *program_add_test_entry(Program *p, ProgTest *t) {
  (void)p;
  t->entries = grow(t->entries, &t->cap_entries, t->n_entries, sizeof *t->entries);
  ProgTestEntry *e = &t->entries[t->n_entries++];
  memset(e, 0, sizeof *e);
  e->block = PROG_NONE;
  return e;
}

int program_setting_index(const Program *p, Str name) {
  for (uint32_t i = 0; i < p->n_settings; i++)
    if (str_eq(p->settings[i].name, name)) return (int)i;
  return -1;
}

int program_node_index(const Program *p, Str name) {
  for (uint32_t i = 0; i < p->n_nodes; i++)
    if (p->nodes[i].kind != NODE_GUARD && str_eq(p->nodes[i].name, name)) return (int)i;
  return -1;
}

/* ---- Writing ------------------------------------------------------------- */

static void put_u8(Buf *b, uint8_t v) { buf_putc(b, (char)v); }
static void put_u16(Buf *b, uint16_t v) {
  uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  buf_append(b, x, 2);
}
static void put_u32(Buf *b, uint32_t v) {
  uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  buf_append(b, x, 4);
}
static void put_u64(Buf *b, uint64_t v) {
  put_u32(b, (uint32_t)v);
  put_u32(b, (uint32_t)(v >> 32));
}
static void put_str(Buf *b, Str s) {
  put_u32(b, (uint32_t)s.len);
  buf_append(b, s.ptr, s.len);
}
static void put_pos(Buf *b, DebugPos p) {
  put_u32(b, p.line);
  put_u32(b, p.col);
}

static void put_value(Buf *b, Value v) {
  put_u8(b, v.kind);
  switch ((ValueKind)v.kind) {
    case VAL_NULL: break;
    case VAL_BOOL: put_u8(b, v.as.b); break;
    case VAL_INT: put_u64(b, (uint64_t)v.as.i); break;
    case VAL_DECIMAL:
      put_u64(b, (uint64_t)v.as.i);
      put_u8(b, v.aux);
      break;
    case VAL_STRING:
    case VAL_NUMTEXT: put_str(b, value_as_str(v)); break;
    case VAL_LIST:
      put_u32(b, v.len);
      for (uint32_t i = 0; i < v.len; i++) put_value(b, v.as.items[i]);
      break;
    case VAL_RECORD:
      put_u32(b, v.as.rec->n_fields);
      for (uint32_t i = 0; i < v.as.rec->n_fields; i++) {
        put_str(b, v.as.rec->fields[i].key);
        put_value(b, v.as.rec->fields[i].value);
      }
      break;
    case VAL_DATE: put_u32(b, (uint32_t)v.as.days); break;
    case VAL_DATETIME:
      put_u64(b, (uint64_t)v.as.i);
      put_u32(b, v.len);
      put_u16(b, (uint16_t)v.offset_min);
      put_u8(b, v.aux);
      break;
    case VAL__COUNT: break;
  }
}

/* FNV-1a, 64 bits: the payload checksum. Defined here, not borrowed, because
** it is part of the file format. */
static uint64_t fnv1a64(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325u;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3u;
  }
  return h;
}

static void write_payload(const Program *p, Buf *b) {
  put_str(b, p->flow_name);
  put_str(b, p->flow_doc);
  put_str(b, p->source_path);
  put_u8(b, p->rounding);
  put_u8(b, p->has_trigger);
  const ProgTrigger *t = &p->trigger;
  put_str(b, t->connection);
  put_str(b, t->system);
  put_str(b, t->record);
  put_str(b, t->binding);
  put_str(b, t->stage_field);
  put_u8(b, t->created);
  put_u8(b, t->webhook);
  put_u32(b, t->poll_seconds);
  put_u32(b, t->stages);
  put_u32(b, t->where);
  put_str(b, t->where_text);
  put_u32(b, t->updates);
  put_pos(b, t->pos);

  put_u32(b, p->n_uses);
  for (uint32_t i = 0; i < p->n_uses; i++) {
    put_str(b, p->uses[i].name);
    put_str(b, p->uses[i].system);
    put_str(b, p->uses[i].lua_file);
    put_str(b, p->uses[i].lua_source);
  }

  put_u32(b, p->n_consts);
  for (uint32_t i = 0; i < p->n_consts; i++) put_value(b, p->consts[i]);

  put_u32(b, p->n_settings);
  for (uint32_t i = 0; i < p->n_settings; i++) {
    const ProgSetting *s = &p->settings[i];
    put_str(b, s->name);
    put_str(b, s->type);
    put_u8(b, s->kind);
    put_u32(b, s->n_allowed);
    for (uint32_t j = 0; j < s->n_allowed; j++) put_str(b, s->allowed[j]);
    put_u32(b, s->default_k);
    put_str(b, s->doc);
  }

  put_u32(b, p->n_code);
  for (uint32_t i = 0; i < p->n_code; i++) {
    put_u8(b, p->code[i].op);
    put_u8(b, 0);
    put_u16(b, p->code[i].b);
    put_u32(b, p->code[i].a);
  }
  for (uint32_t i = 0; i < p->n_code; i++) put_pos(b, p->debug[i]);
  put_u32(b, p->n_blocks);
  for (uint32_t i = 0; i < p->n_blocks; i++) put_u32(b, p->blocks[i]);

  put_u32(b, p->n_slots);
  for (uint32_t i = 0; i < p->n_slots; i++) put_str(b, p->slot_names[i]);
  put_u32(b, p->n_cache);

  put_u32(b, p->n_nodes);
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const ProgNode *n = &p->nodes[i];
    put_u8(b, n->kind);
    put_u8(b, n->effect);
    put_u32(b, n->slot);
    put_str(b, n->name);
    put_str(b, n->connection);
    put_str(b, n->system);
    put_str(b, n->operation);
    put_u32(b, n->body);
    put_u32(b, n->when);
    put_u32(b, n->params);
    put_pos(b, n->pos);
  }

  put_u32(b, p->n_tests);
  for (uint32_t i = 0; i < p->n_tests; i++) {
    const ProgTest *t2 = &p->tests[i];
    put_str(b, t2->name);
    put_pos(b, t2->pos);
    put_u32(b, t2->n_entries);
    for (uint32_t j = 0; j < t2->n_entries; j++) {
      const ProgTestEntry *e = &t2->entries[j];
      put_u8(b, e->kind);
      put_str(b, e->name);
      put_str(b, e->text);
      put_u32(b, e->block);
      put_pos(b, e->pos);
    }
  }
}

bool program_write(const Program *p, Buf *out) {
  Buf payload;
  buf_init(&payload, out->max_bytes);
  write_payload(p, &payload);
  bool ok = buf_ok(&payload);
  if (ok) {
    buf_append(out, BYTECODE_MAGIC, BYTECODE_MAGIC_LEN);
    put_u32(out, BYTECODE_VERSION);
    buf_append(out, p->source_hash, sizeof p->source_hash);
    put_u32(out, (uint32_t)payload.len);
    put_u64(out, fnv1a64((const uint8_t *)payload.data, payload.len));
    buf_append(out, payload.data, payload.len);
    ok = buf_ok(out);
  }
  buf_fini(&payload);
  return ok;
}

bool program_save(const Program *p, const char *path, char *err, size_t err_size) {
  Buf b;
  buf_init(&b, 0);
  bool ok = program_write(p, &b);
  if (!ok) {
    snprintf(err, err_size, "%s: the compiled flow is too large", path);
    buf_fini(&b);
    return false;
  }
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    snprintf(err, err_size, "cannot write `%s`: %s", tmp, strerror(errno));
    buf_fini(&b);
    return false;
  }
  ok = fwrite(b.data, 1, b.len, f) == b.len;
  ok = (fclose(f) == 0) && ok;
  if (ok && rename(tmp, path) != 0) ok = false;
  if (!ok) {
    snprintf(err, err_size, "cannot write `%s`: %s", path, strerror(errno));
    unlink(tmp);
  }
  buf_fini(&b);
  return ok;
}

/* ---- Reading ------------------------------------------------------------- */

typedef struct Reader {
  const uint8_t *p, *end;
  Program *prog;
  bool failed;
  const char *what; /* the first problem */
} Reader;

static bool need(Reader *r, size_t n) {
  if (r->failed) return false;
  if ((size_t)(r->end - r->p) < n) {
    r->failed = true;
    r->what = "truncated";
    return false;
  }
  return true;
}
static uint8_t get_u8(Reader *r) { return need(r, 1) ? *r->p++ : 0; }
static uint16_t get_u16(Reader *r) {
  if (!need(r, 2)) return 0;
  uint16_t v = (uint16_t)(r->p[0] | r->p[1] << 8);
  r->p += 2;
  return v;
}
static uint32_t get_u32(Reader *r) {
  if (!need(r, 4)) return 0;
  uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
               (uint32_t)r->p[3] << 24;
  r->p += 4;
  return v;
}
static uint64_t get_u64(Reader *r) {
  uint64_t lo = get_u32(r);
  return lo | (uint64_t)get_u32(r) << 32;
}
static Str get_str(Reader *r) {
  uint32_t n = get_u32(r);
  if (!need(r, n)) return str_make("", 0);
  Str s = program_str(r->prog, str_make((const char *)r->p, n));
  r->p += n;
  return s;
}
static DebugPos get_pos(Reader *r) {
  DebugPos d;
  d.line = get_u32(r);
  d.col = get_u32(r);
  return d;
}
/* A count of items each at least `min_bytes` long: refuses counts the rest
** of the file cannot hold, so a damaged count cannot make us allocate
** gigabytes. */
static uint32_t get_count(Reader *r, size_t min_bytes) {
  uint32_t n = get_u32(r);
  if (!r->failed && (size_t)n * min_bytes > (size_t)(r->end - r->p)) {
    r->failed = true;
    r->what = "a count larger than the file";
    return 0;
  }
  return n;
}

static Value get_value(Reader *r, int depth) {
  if (depth > MAX_CONST_DEPTH) {
    r->failed = true;
    r->what = "constants nested too deeply";
  }
  uint8_t kind = get_u8(r);
  if (r->failed) return value_null();
  Arena *a = &r->prog->arena;
  switch (kind) {
    case VAL_NULL: return value_null();
    case VAL_BOOL: return value_bool(get_u8(r) != 0);
    case VAL_INT: return value_int((int64_t)get_u64(r));
    case VAL_DECIMAL: {
      int64_t coef = (int64_t)get_u64(r);
      uint8_t scale = get_u8(r);
      if (scale > DECIMAL_MAX_SCALE || coef > DECIMAL_MAX_COEF || coef < -DECIMAL_MAX_COEF) {
        r->failed = true;
        r->what = "a decimal constant out of range";
        return value_null();
      }
      return value_decimal(decimal_make(coef, scale));
    }
    case VAL_STRING:
    case VAL_NUMTEXT: {
      Str s = get_str(r);
      return kind == VAL_STRING ? value_string(s.ptr, s.len) : value_numtext(s.ptr, s.len);
    }
    case VAL_LIST: {
      uint32_t n = get_count(r, 1);
      Value *items = arena_alloc(a, (size_t)n * sizeof *items + 1);
      for (uint32_t i = 0; i < n && !r->failed; i++) items[i] = get_value(r, depth + 1);
      return r->failed ? value_null() : value_list(items, n);
    }
    case VAL_RECORD: {
      uint32_t n = get_count(r, 5);
      Record *rec = record_new(a, n);
      for (uint32_t i = 0; i < n && !r->failed; i++) {
        rec->fields[i].key = get_str(r);
        rec->fields[i].value = get_value(r, depth + 1);
      }
      return r->failed ? value_null() : value_record(rec);
    }
    case VAL_DATE: return value_date((int32_t)get_u32(r));
    case VAL_DATETIME: {
      DateTime dt;
      dt.secs = (int64_t)get_u64(r);
      dt.usec = (int32_t)get_u32(r);
      dt.offset_min = (int16_t)get_u16(r);
      dt.flags = get_u8(r);
      return value_datetime(dt);
    }
    default:
      r->failed = true;
      r->what = "a constant of unknown kind";
      return value_null();
  }
}

static void read_payload(Reader *r) {
  Program *p = r->prog;
  p->flow_name = get_str(r);
  p->flow_doc = get_str(r);
  p->source_path = get_str(r);
  p->rounding = get_u8(r);
  p->has_trigger = get_u8(r) != 0;
  ProgTrigger *t = &p->trigger;
  t->connection = get_str(r);
  t->system = get_str(r);
  t->record = get_str(r);
  t->binding = get_str(r);
  t->stage_field = get_str(r);
  t->created = get_u8(r) != 0;
  t->webhook = get_u8(r) != 0;
  t->poll_seconds = get_u32(r);
  t->stages = get_u32(r);
  t->where = get_u32(r);
  t->where_text = get_str(r);
  t->updates = get_u32(r);
  t->pos = get_pos(r);

  uint32_t n = get_count(r, 16);
  for (uint32_t i = 0; i < n && !r->failed; i++) {
    ProgUse *u = program_add_use(p);
    u->name = get_str(r);
    u->system = get_str(r);
    u->lua_file = get_str(r);
    u->lua_source = get_str(r);
  }

  n = get_count(r, 1);
  p->consts = xcalloc(n + 1, sizeof *p->consts);
  p->cap_consts = n + 1;
  for (uint32_t i = 0; i < n && !r->failed; i++) p->consts[p->n_consts++] = get_value(r, 0);

  n = get_count(r, 21);
  for (uint32_t i = 0; i < n && !r->failed; i++) {
    ProgSetting *s = program_add_setting(p);
    s->name = get_str(r);
    s->type = get_str(r);
    s->kind = get_u8(r);
    s->n_allowed = get_count(r, 4);
    s->allowed = arena_alloc(&p->arena, (size_t)s->n_allowed * sizeof(Str) + 1);
    for (uint32_t j = 0; j < s->n_allowed; j++) s->allowed[j] = get_str(r);
    s->default_k = get_u32(r);
    s->doc = get_str(r);
  }

  n = get_count(r, 16);
  if (!r->failed) {
    p->code = xcalloc(n + 1, sizeof *p->code);
    p->debug = xcalloc(n + 1, sizeof *p->debug);
    p->cap_code = n + 1;
    for (uint32_t i = 0; i < n; i++) {
      p->code[i].op = get_u8(r);
      p->code[i].pad = get_u8(r);
      p->code[i].b = get_u16(r);
      p->code[i].a = get_u32(r);
    }
    for (uint32_t i = 0; i < n; i++) p->debug[i] = get_pos(r);
    p->n_code = r->failed ? 0 : n;
  }
  n = get_count(r, 4);
  for (uint32_t i = 0; i < n && !r->failed; i++) {
    uint32_t start = get_u32(r);
    p->blocks = grow(p->blocks, &p->cap_blocks, p->n_blocks, sizeof *p->blocks);
    p->blocks[p->n_blocks++] = start;
  }
  n = get_count(r, 4);
  for (uint32_t i = 0; i < n && !r->failed; i++) program_add_slot(p, get_str(r));
  p->n_cache = get_u32(r);

  n = get_count(r, 40);
  for (uint32_t i = 0; i < n && !r->failed; i++) {
    ProgNode *nd = program_add_node(p);
    nd->kind = get_u8(r);
    nd->effect = get_u8(r);
    nd->slot = get_u32(r);
    nd->name = get_str(r);
    nd->connection = get_str(r);
    nd->system = get_str(r);
    nd->operation = get_str(r);
    nd->body = get_u32(r);
    nd->when = get_u32(r);
    nd->params = get_u32(r);
    nd->pos = get_pos(r);
  }
  n = get_count(r, 16);
  for (uint32_t i = 0; i < n && !r->failed; i++) {
    ProgTest *t2 = program_add_test(p);
    t2->name = get_str(r);
    t2->pos = get_pos(r);
    uint32_t m = get_count(r, 21);
    for (uint32_t j = 0; j < m && !r->failed; j++) {
      ProgTestEntry *e = program_add_test_entry(p, t2);
      e->kind = get_u8(r);
      e->name = get_str(r);
      e->text = get_str(r);
      e->block = get_u32(r);
      e->pos = get_pos(r);
    }
  }
  if (!r->failed && r->p != r->end) {
    r->failed = true;
    r->what = "bytes after the end of the program";
  }
}

Program *program_read(const void *data, size_t len, char *err, size_t err_size) {
  const uint8_t *d = data;
  size_t header = BYTECODE_MAGIC_LEN + 4 + 32 + 4 + 8;
  if (len < BYTECODE_MAGIC_LEN || memcmp(d, BYTECODE_MAGIC, BYTECODE_MAGIC_LEN) != 0) {
    snprintf(err, err_size, "not a compiled flow (.iexb): it does not start with the .iexb mark");
    return NULL;
  }
  if (len < header) {
    snprintf(err, err_size, "damaged .iexb: the file is cut short (%zu bytes)", len);
    return NULL;
  }
  Reader r = {.p = d + BYTECODE_MAGIC_LEN, .end = d + len};
  uint32_t version = get_u32(&r);
  if (version < BYTECODE_VERSION) {
    /* The common case after an upgrade: a flow compiled before it. */
    snprintf(err, err_size,
             "compiled by an older iexc; compile the flow again with iexc -o "
             "(the file is .iexb format %u, this iex reads format %u)",
             version, BYTECODE_VERSION);
    return NULL;
  }
  if (version != BYTECODE_VERSION) {
    snprintf(err, err_size,
             "made for .iexb format %u; this iex reads format %u: compile the flow again "
             "with the iexc of this release",
             version, BYTECODE_VERSION);
    return NULL;
  }
  Program *p = program_new();
  memcpy(p->source_hash, r.p, 32);
  r.p += 32;
  uint32_t payload_len = get_u32(&r);
  uint64_t sum = get_u64(&r);
  if ((size_t)(r.end - r.p) != payload_len) {
    snprintf(err, err_size, "damaged .iexb: %s (payload of %u bytes, %zu present)",
             (size_t)(r.end - r.p) < payload_len ? "the file is cut short" : "extra bytes",
             payload_len, (size_t)(r.end - r.p));
    program_free(p);
    return NULL;
  }
  if (fnv1a64(r.p, payload_len) != sum) {
    snprintf(err, err_size, "damaged .iexb: checksum mismatch (the file changed after iexc wrote it)");
    program_free(p);
    return NULL;
  }
  r.prog = p;
  read_payload(&r);
  if (r.failed) {
    snprintf(err, err_size, "damaged .iexb: %s", r.what);
    program_free(p);
    return NULL;
  }
  char why[256];
  if (!program_verify(p, why, sizeof why)) {
    snprintf(err, err_size, "damaged .iexb: %s", why);
    program_free(p);
    return NULL;
  }
  return p;
}

Program *program_load(const char *path, char *err, size_t err_size) {
  size_t len = 0;
  char why[256];
  char *data = read_file(path, (size_t)256 * 1024 * 1024, &len, why, sizeof why);
  if (!data) {
    snprintf(err, err_size, "cannot read `%s`: %s", path, why);
    return NULL;
  }
  char msg[400];
  Program *p = program_read(data, len, msg, sizeof msg);
  free(data);
  if (!p) snprintf(err, err_size, "%s: %s", path, msg);
  return p;
}

/* ---- Verifying ------------------------------------------------------------ */

static bool fail_v(char *err, size_t size, const char *fmt, ...) IEX_PRINTF(3, 4);
static bool fail_v(char *err, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, size, fmt, ap);
  va_end(ap);
  return false;
}

static bool is_terminator(uint8_t op) {
  return op == OP_RET || op == OP_JUMP || op == OP_SKIP || op == OP_FAIL || op == OP_NO_MATCH;
}

static uint32_t block_end(const Program *p, uint32_t b) {
  return b + 1 < p->n_blocks ? p->blocks[b + 1] : p->n_code;
}

static bool check_operand(const Program *p, uint8_t kind, uint32_t v, uint32_t start,
                          uint32_t end, char *err, size_t size, uint32_t pc) {
  switch ((OperandKind)kind) {
    case OPND_NONE:
      if (v != 0) return fail_v(err, size, "instruction %u has an operand it takes none of", pc);
      return true;
    case OPND_K:
      if (v >= p->n_consts) return fail_v(err, size, "instruction %u names constant %u of %u", pc, v, p->n_consts);
      return true;
    case OPND_KSTR:
      if (v >= p->n_consts || p->consts[v].kind != VAL_STRING)
        return fail_v(err, size, "instruction %u needs a string constant", pc);
      return true;
    case OPND_SLOT:
      if (v >= p->n_slots) return fail_v(err, size, "instruction %u names slot %u of %u", pc, v, p->n_slots);
      return true;
    case OPND_SET:
      if (v >= p->n_settings) return fail_v(err, size, "instruction %u names setting %u of %u", pc, v, p->n_settings);
      return true;
    case OPND_JUMP:
      if (v < start || v >= end) return fail_v(err, size, "instruction %u jumps outside its block", pc);
      return true;
    case OPND_FN:
      if (v >= STDLIB_COUNT) return fail_v(err, size, "instruction %u calls function %u of %u", pc, v, (unsigned)STDLIB_COUNT);
      return true;
    case OPND_N: return true;
    case OPND_CACHE:
      if (v >= p->n_cache) return fail_v(err, size, "instruction %u uses cache slot %u of %u", pc, v, p->n_cache);
      return true;
  }
  return fail_v(err, size, "instruction %u: unknown operand kind", pc);
}

/* Depth of the value stack and of the builder stack before an instruction;
** -1 not yet reached. */
typedef struct Depth { int32_t stack, builders; } Depth;

/* Walk block `b` from its entry, in instruction order (jumps go both ways,
** so iterate until nothing changes). Every path must agree on the depth at
** each instruction; a RET leaves exactly one value and no open builder. */
static bool verify_block(Program *p, uint32_t b, Depth *depth, char *err, size_t size) {
  uint32_t start = p->blocks[b], end = block_end(p, b);
  if (start >= end) return fail_v(err, size, "block %u is empty", b);
  if (!is_terminator(p->code[end - 1].op))
    return fail_v(err, size, "block %u does not end in RET, JUMP, SKIP or FAIL", b);
  for (uint32_t pc = start; pc < end; pc++) depth[pc].stack = -1;
  depth[start] = (Depth){0, 0};
  bool changed = true;
  int rounds = 0;
  while (changed) {
    changed = false;
    if (++rounds > 10000) return fail_v(err, size, "block %u: control flow too complex", b);
    for (uint32_t pc = start; pc < end; pc++) {
      Depth d = depth[pc];
      if (d.stack < 0) continue;
      const Instr *in = &p->code[pc];
      const OpInfo *info = &op_info[in->op];
      int pops = info->pops, pushes = info->pushes;
      if (pops < 0) pops = in->op == OP_CONCAT ? (int)in->a : (int)in->b;
      if (d.stack < pops) return fail_v(err, size, "instruction %u pops from an empty stack", pc);
      Depth next = {d.stack - pops + pushes, d.builders};
      Depth jump = next;
      switch ((Opcode)in->op) {
        case OP_JUMP_IF_NOT_NULL: jump.stack = d.stack; break;
        case OP_ITER_NEXT: jump.stack = d.stack; break;
        case OP_REC_BEGIN:
        case OP_LIST_BEGIN: next.builders++; break;
        case OP_REC_END:
        case OP_LIST_END:
          if (d.builders == 0) return fail_v(err, size, "instruction %u ends a builder never begun", pc);
          next.builders--;
          break;
        case OP_RET:
          if (d.stack != 1 || d.builders != 0)
            return fail_v(err, size, "instruction %u returns with %d values and %d open builders",
                          pc, d.stack, d.builders);
          break;
        default: break;
      }
      if (next.stack > 0xffff || next.builders > 0xff)
        return fail_v(err, size, "instruction %u: stack too deep", pc);
      if ((uint32_t)next.stack > p->max_stack) p->max_stack = (uint32_t)next.stack;
      if ((uint32_t)next.builders > p->max_builders) p->max_builders = (uint32_t)next.builders;
      bool has_jump = info->a_kind == OPND_JUMP;
      bool falls = !is_terminator(in->op);
      uint32_t targets[2];
      Depth states[2];
      int nt = 0;
      if (has_jump) {
        targets[nt] = in->a;
        states[nt++] = jump;
      }
      if (falls) {
        targets[nt] = pc + 1;
        states[nt++] = next;
      }
      for (int i = 0; i < nt; i++) {
        Depth *t = &depth[targets[i]];
        if (t->stack < 0) {
          *t = states[i];
          if (targets[i] < pc) changed = true;
        } else if (t->stack != states[i].stack || t->builders != states[i].builders) {
          return fail_v(err, size, "instruction %u is reached with different stack depths", targets[i]);
        }
      }
    }
  }
  return true;
}

static bool check_block_ref(const Program *p, uint32_t b, bool optional, const char *what,
                            char *err, size_t size) {
  if (b == PROG_NONE && optional) return true;
  if (b >= p->n_blocks) return fail_v(err, size, "%s names block %u of %u", what, b, p->n_blocks);
  return true;
}

bool program_verify(Program *p, char *err, size_t size) {
  p->max_stack = 1;
  p->max_builders = 0;
  if (p->rounding >= ROUNDING__COUNT) return fail_v(err, size, "unknown rounding rule %u", p->rounding);
  for (uint32_t b = 0; b < p->n_blocks; b++) {
    if (p->blocks[b] > p->n_code || (b > 0 && p->blocks[b] < p->blocks[b - 1]) ||
        (b == 0 && p->blocks[b] != 0))
      return fail_v(err, size, "block %u starts at instruction %u, out of order", b, p->blocks[b]);
  }
  if (p->n_blocks == 0 && p->n_code != 0) return fail_v(err, size, "code outside any block");
  for (uint32_t b = 0; b < p->n_blocks; b++) {
    uint32_t start = p->blocks[b], end = block_end(p, b);
    for (uint32_t pc = start; pc < end; pc++) {
      const Instr *in = &p->code[pc];
      if (in->op >= OP__COUNT) return fail_v(err, size, "instruction %u has unknown opcode %u", pc, in->op);
      if (in->pad != 0) return fail_v(err, size, "instruction %u has a non-zero pad byte", pc);
      const OpInfo *info = &op_info[in->op];
      if (!check_operand(p, info->a_kind, in->a, start, end, err, size, pc)) return false;
      if (!check_operand(p, info->b_kind, in->b, start, end, err, size, pc)) return false;
      if (in->op == OP_ITER_INIT && in->a + 1 >= p->n_slots)
        return fail_v(err, size, "instruction %u iterates into slot %u of %u", pc, in->a + 1, p->n_slots);
      if (in->op == OP_ITER_NEXT && (uint32_t)in->b + 1 >= p->n_slots)
        return fail_v(err, size, "instruction %u iterates slot %u of %u", pc, in->b, p->n_slots);
    }
  }
  Depth *depth = xcalloc(p->n_code + 1, sizeof *depth);
  bool ok = true;
  for (uint32_t b = 0; b < p->n_blocks && ok; b++) ok = verify_block(p, b, depth, err, size);
  free(depth);
  if (!ok) return false;

  for (uint32_t i = 0; i < p->n_settings; i++) {
    const ProgSetting *s = &p->settings[i];
    if (s->default_k != PROG_NONE && s->default_k >= p->n_consts)
      return fail_v(err, size, "setting %u has default constant %u of %u", i, s->default_k, p->n_consts);
  }
  if (p->has_trigger) {
    if (p->n_slots == 0) return fail_v(err, size, "no slot for the trigger record");
    if (!check_block_ref(p, p->trigger.stages, true, "the trigger", err, size) ||
        !check_block_ref(p, p->trigger.where, true, "the trigger", err, size) ||
        !check_block_ref(p, p->trigger.updates, true, "the trigger", err, size))
      return false;
  }
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const ProgNode *n = &p->nodes[i];
    if (n->kind > NODE_STEP) return fail_v(err, size, "node %u has unknown kind %u", i, n->kind);
    if (n->kind != NODE_GUARD && n->slot >= p->n_slots)
      return fail_v(err, size, "node %u names slot %u of %u", i, n->slot, p->n_slots);
    if (n->effect > 1) return fail_v(err, size, "node %u has unknown effect %u", i, n->effect);
    if (!check_block_ref(p, n->body, false, "a node", err, size) ||
        !check_block_ref(p, n->when, true, "a node", err, size) ||
        !check_block_ref(p, n->params, true, "a node", err, size))
      return false;
  }
  for (uint32_t i = 0; i < p->n_tests; i++) {
    for (uint32_t j = 0; j < p->tests[i].n_entries; j++) {
      const ProgTestEntry *e = &p->tests[i].entries[j];
      if (e->kind > TEST_EXPECT_FAIL) return fail_v(err, size, "test %u has an entry of unknown kind", i);
      if (!check_block_ref(p, e->block, true, "a test", err, size)) return false;
    }
  }
  return true;
}

/* ---- For people ----------------------------------------------------------- */

const char *program_location(const Program *p, uint32_t pc, char *out, size_t size) {
  DebugPos d = pc < p->n_code ? p->debug[pc] : (DebugPos){0, 0};
  snprintf(out, size, "%.*s:%u:%u", STR_FMT(p->source_path), d.line, d.col);
  return out;
}

static const char *node_kind_name(uint8_t kind) {
  return kind == NODE_LET ? "let" : kind == NODE_GUARD ? "guard" : "step";
}

static void disasm_block(const Program *p, uint32_t b, Buf *out) {
  uint32_t start = p->blocks[b], end = block_end(p, b);
  for (uint32_t pc = start; pc < end; pc++) {
    const Instr *in = &p->code[pc];
    const OpInfo *info = &op_info[in->op];
    char ops[48] = "";
    if (info->a_kind != OPND_NONE && info->b_kind != OPND_NONE)
      snprintf(ops, sizeof ops, "%u %u", in->a, in->b);
    else if (info->a_kind != OPND_NONE)
      snprintf(ops, sizeof ops, "%u", in->a);
    buf_printf(out, "  %5u  %-16s %-9s ; %-30s", pc, info->name, ops, info->synopsis);
    if (info->a_kind == OPND_K || info->a_kind == OPND_KSTR) {
      buf_puts(out, " ");
      Buf v;
      buf_init(&v, 200);
      value_debug(p->consts[in->a], &v);
      if (v.len > 60) {
        v.len = 57;
        buf_puts(out, buf_cstr(&v));
        buf_puts(out, "...");
      } else {
        buf_puts(out, buf_cstr(&v));
      }
      buf_fini(&v);
    } else if (info->a_kind == OPND_SLOT || info->b_kind == OPND_SLOT) {
      uint32_t s = info->a_kind == OPND_SLOT ? in->a : in->b;
      if (s < p->n_slots && p->slot_names[s].len)
        buf_printf(out, " %.*s", STR_FMT(p->slot_names[s]));
    } else if (info->a_kind == OPND_SET) {
      buf_printf(out, " settings.%.*s", STR_FMT(p->settings[in->a].name));
    }
    if (p->debug[pc].line) buf_printf(out, "  @%u:%u", p->debug[pc].line, p->debug[pc].col);
    buf_puts(out, "\n");
  }
}

static void block_title(const Program *p, uint32_t b, Buf *out) {
  if (p->has_trigger && p->trigger.stages == b) {
    buf_printf(out, "trigger stages");
    return;
  }
  if (p->has_trigger && p->trigger.where == b) {
    buf_printf(out, "trigger where");
    return;
  }
  if (p->has_trigger && p->trigger.updates == b) {
    buf_printf(out, "trigger updates");
    return;
  }
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const ProgNode *n = &p->nodes[i];
    const char *part = n->body == b ? "" : n->when == b ? " when" : n->params == b ? " params" : NULL;
    if (part) {
      buf_printf(out, "%s %.*s%s", node_kind_name(n->kind), STR_FMT(n->name), part);
      return;
    }
  }
  for (uint32_t i = 0; i < p->n_tests; i++)
    for (uint32_t j = 0; j < p->tests[i].n_entries; j++)
      if (p->tests[i].entries[j].block == b) {
        buf_printf(out, "test \"%.*s\" entry %u", STR_FMT(p->tests[i].name), j + 1);
        return;
      }
  buf_puts(out, "unused");
}

void program_disasm(const Program *p, Buf *out) {
  buf_printf(out, "; iexb format %u, flow %.*s (%.*s), rounding %s\n", BYTECODE_VERSION,
             STR_FMT(p->flow_name), STR_FMT(p->source_path), rounding_name((Rounding)p->rounding));
  buf_puts(out, "; source sha256 ");
  for (int i = 0; i < 32; i++) buf_printf(out, "%02x", p->source_hash[i]);
  buf_printf(out, "\n; %u instructions, %u blocks, %u constants, %u slots, stack %u\n",
             p->n_code, p->n_blocks, p->n_consts, p->n_slots, p->max_stack);
  if (p->has_trigger) {
    const ProgTrigger *t = &p->trigger;
    buf_printf(out, "trigger %.*s.%.*s (%.*s) as %.*s", STR_FMT(t->connection), STR_FMT(t->record),
               STR_FMT(t->system), STR_FMT(t->binding));
    if (t->created) buf_puts(out, " created");
    else buf_printf(out, " reaches (%.*s)", STR_FMT(t->stage_field));
    if (t->where_text.len) buf_printf(out, " where %.*s", STR_FMT(t->where_text));
    buf_puts(out, "\n");
  }
  for (uint32_t i = 0; i < p->n_uses; i++) {
    const ProgUse *u = &p->uses[i];
    if (u->lua_file.len)
      buf_printf(out, "use %.*s: lua \"%.*s\" (%zu bytes)\n", STR_FMT(u->name), STR_FMT(u->lua_file),
                 u->lua_source.len);
    else
      buf_printf(out, "use %.*s: %.*s\n", STR_FMT(u->name), STR_FMT(u->system));
  }
  for (uint32_t i = 0; i < p->n_settings; i++) {
    const ProgSetting *s = &p->settings[i];
    buf_printf(out, "setting %u %.*s: %.*s", i, STR_FMT(s->name), STR_FMT(s->type));
    if (s->default_k != PROG_NONE) {
      buf_puts(out, " = ");
      value_debug(p->consts[s->default_k], out);
    }
    buf_puts(out, "\n");
  }
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const ProgNode *n = &p->nodes[i];
    buf_printf(out, "node %u %s %.*s", i, node_kind_name(n->kind), STR_FMT(n->name));
    if (n->operation.len)
      buf_printf(out, " = %.*s.%.*s (%.*s, %s)", STR_FMT(n->connection), STR_FMT(n->operation),
                 STR_FMT(n->system), n->effect ? "writes" : "reads");
    buf_puts(out, "\n");
  }
  for (uint32_t b = 0; b < p->n_blocks; b++) {
    buf_printf(out, "\nblock %u: ", b);
    block_title(p, b, out);
    buf_puts(out, "\n");
    disasm_block(p, b, out);
  }
}

static void dot_label(Buf *out, Str s) {
  for (size_t i = 0; i < s.len; i++) {
    if (s.ptr[i] == '"' || s.ptr[i] == '\\') buf_putc(out, '\\');
    buf_putc(out, s.ptr[i]);
  }
}

void program_dot(const Program *p, Buf *out) {
  buf_puts(out, "digraph \"");
  dot_label(out, p->flow_name);
  buf_puts(out, "\" {\n  rankdir=TB;\n  node [fontname=\"Helvetica\"];\n");
  char prev[32] = "trigger";
  if (p->has_trigger) {
    const ProgTrigger *t = &p->trigger;
    buf_puts(out, "  trigger [shape=invhouse, label=\"on ");
    dot_label(out, t->connection);
    buf_puts(out, ".");
    dot_label(out, t->record);
    buf_puts(out, t->created ? " created" : " reaches stage");
    if (t->where_text.len) {
      buf_puts(out, "\\nwhere ");
      dot_label(out, t->where_text);
    }
    buf_puts(out, "\"];\n");
  } else {
    buf_puts(out, "  trigger [shape=invhouse, label=\"start\"];\n");
  }
  char name[32];
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const ProgNode *n = &p->nodes[i];
    snprintf(name, sizeof name, "n%u", i);
    buf_printf(out, "  %s [", name);
    if (n->kind == NODE_LET) {
      buf_puts(out, "shape=ellipse, label=\"let ");
      dot_label(out, n->name);
    } else if (n->kind == NODE_GUARD) {
      buf_printf(out, "shape=diamond, label=\"guard line %u", n->pos.line);
    } else {
      buf_puts(out, "shape=box, style=bold, label=\"step ");
      dot_label(out, n->name);
      if (n->operation.len) {
        buf_puts(out, "\\n");
        dot_label(out, n->system);
        buf_puts(out, ".");
        dot_label(out, n->operation);
        buf_puts(out, n->effect ? " (writes)" : " (reads)");
      }
    }
    buf_puts(out, "\"];\n");
    buf_printf(out, "  %s -> %s", prev, name);
    if (n->when != PROG_NONE) buf_puts(out, " [label=\"when\"]");
    buf_puts(out, ";\n");
    memcpy(prev, name, sizeof prev);
  }
  buf_puts(out, "}\n");
}
