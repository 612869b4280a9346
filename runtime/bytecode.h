/*
** The compiled flow (.iexb): the contract between iexc and iex.
**
** A Program is a flow's step graph plus the bytecode of every expression
** in it. The graph is a list of nodes run in order for each source record:
** the trigger's checks (stage, `where`), then top-level `let`s, guards
** (`if ... { skip/fail }`) and steps, as written. Each piece of code is a
** block: a run of instructions (runtime/opcodes.def) ending in RET that
** leaves one Value. Blocks share one numbered frame of slots (slot 0 is
** the trigger record) and one constant pool.
**
** The file: an 8-byte magic, the format version, a SHA-256 of the sources,
** the length and FNV-1a 64 checksum of the payload, then the payload (all
** integers little-endian). The loader refuses another version (an older
** one as "compiled by an older iexc; compile the flow again with iexc
** -o") or a file whose checksum, bounds or code do not verify, with a
** message saying which. The verifier checks every operand against what it indexes, that
** every jump stays in its block, and computes the stack depth at every
** instruction (consistent at joins, never negative), so the VM needs no
** checks of its own for these.
**
** Debug info maps every instruction to line:col in `source_path`, so a
** runtime error names the rule that caused it.
**
** Ownership: a Program owns everything it points to (its arena holds the
** strings and constant Values; arrays are malloc'd); program_free()
** releases it. The compiler builds one with the program_add_* functions.
*/
#ifndef IEX_RUNTIME_BYTECODE_H
#define IEX_RUNTIME_BYTECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/decimal.h"
#include "common/str.h"
#include "runtime/value.h"

#define BYTECODE_MAGIC "IEXB\r\n\x1a\n"
#define BYTECODE_MAGIC_LEN 8
/* Bump on any change to the payload layout or to opcode numbering. 2: the
** payload as it stands at the first release (format 1 changed under
** development, so a format-1 file is refused as an older iexc's). */
#define BYTECODE_VERSION 2

/* "No block" / "no constant" in the fields below. */
#define PROG_NONE UINT32_MAX

typedef enum Opcode {
#define OP(name, a, b, pops, pushes, synopsis) OP_##name,
#include "runtime/opcodes.def"
#undef OP
  OP__COUNT
} Opcode;

/* What an operand indexes (see opcodes.def). */
typedef enum OperandKind {
  OPND_NONE, OPND_K, OPND_KSTR, OPND_SLOT, OPND_SET, OPND_JUMP, OPND_FN,
  OPND_N, OPND_CACHE
} OperandKind;

/* One instruction: 8 bytes, fixed width so decoding is one load. */
typedef struct Instr {
  uint8_t op;  /* Opcode */
  uint8_t pad; /* 0 */
  uint16_t b;  /* second operand */
  uint32_t a;  /* first operand */
} Instr;

/* The columns of opcodes.def, indexed by Opcode. */
typedef struct OpInfo {
  const char *name;     /* "FIELD" */
  uint8_t a_kind;       /* OperandKind */
  uint8_t b_kind;
  int8_t pops, pushes;  /* -1: the count in an operand (opcodes.def) */
  const char *synopsis; /* "top = top.K[a]" */
} OpInfo;
extern const OpInfo op_info[OP__COUNT];

/* Where an instruction came from. */
typedef struct DebugPos {
  uint32_t line, col; /* 1-based, in the flow file; 0 when generated */
} DebugPos;

/* How support staff may set a setting (docs/language.md, Settings). */
typedef enum SettingKind {
  SETK_BOOL, SETK_INT, SETK_DECIMAL, SETK_MONEY, SETK_STRING, SETK_DATE,
  SETK_DATETIME, SETK_ENUM, SETK_LIST, SETK_TABLE, SETK_SECRET, SETK_OTHER
} SettingKind;

typedef struct ProgSetting {
  Str name;         /* "invoice_mode" */
  Str type;         /* as written: "draft | booked", "list of paid | pending" */
  uint8_t kind;     /* SettingKind */
  Str *allowed;     /* enumeration values (of the elements, for a list); */
  uint32_t n_allowed; /* in the arena; 0 when not an enumeration */
  uint32_t default_k; /* constant index of the default, or PROG_NONE */
  Str doc;          /* the one-line description, or "" */
} ProgSetting;

typedef enum NodeKind {
  NODE_LET,   /* body computes the value of slot `slot` */
  NODE_GUARD, /* body runs for its skip/fail; its value is ignored */
  NODE_STEP   /* body maps the record; `operation` "" for computing steps */
} NodeKind;

typedef struct ProgNode {
  uint8_t kind;     /* NodeKind */
  uint8_t effect;   /* OpEffect of runtime/host.h: 0 reads, 1 writes */
  uint32_t slot;    /* LET, STEP: where the value or result goes */
  Str name;         /* LET, STEP: the name; "" for a guard */
  Str connection;   /* STEP: the `use` alias ("books"), or "" */
  Str system;       /* STEP: the connector ("economic"), or "" */
  Str operation;    /* STEP: "invoice.create", or "" (computes only) */
  uint32_t body;    /* block */
  uint32_t when;    /* STEP: block of the `when` condition, or PROG_NONE */
  uint32_t params;  /* STEP: block making the parameter record, or PROG_NONE */
  DebugPos pos;     /* of the declaration */
} ProgNode;

/* A connection the flow declares (`use NAME: SYSTEM` or `use NAME: lua
** "FILE"`). A Lua file's text is kept in the program, so a compiled flow
** needs nothing but itself; CALL_LUA names functions "NAME.function". */
typedef struct ProgUse {
  Str name;       /* "books", "helpers" */
  Str system;     /* "economic"; "" for Lua */
  Str lua_file;   /* "helpers.lua" as written, or "" */
  Str lua_source; /* the file's text, or "" */
} ProgUse;

typedef struct ProgTrigger {
  Str connection;   /* "shop" */
  Str system;       /* "shopify" */
  Str record;       /* "order" */
  Str binding;      /* the name the flow reads it by ("order") */
  Str stage_field;  /* "financial_status"; "" for `created` */
  bool created;     /* `on X.Y created` */
  bool webhook;     /* `via webhook` */
  uint32_t poll_seconds; /* `poll every N`; 0 when not polled */
  uint32_t stages;  /* block making the list of allowed stages, or PROG_NONE */
  uint32_t where;   /* block of the `where` condition, or PROG_NONE */
  Str where_text;   /* the condition as written, for the skip reason */
  uint32_t updates; /* block giving "ignore" | "apply" | "again", or PROG_NONE */
  DebugPos pos;
} ProgTrigger;

typedef enum TestEntryKind {
  TEST_SETTINGS,    /* block: a record of setting values */
  TEST_INPUT,       /* block: the trigger record */
  TEST_GIVEN,       /* name = step; block: its answer */
  TEST_EXPECT,      /* name = step; block: what it must send */
  TEST_EXPECT_NO,   /* name = step that must not run */
  TEST_EXPECT_SKIP, /* text = the reason */
  TEST_EXPECT_FAIL  /* text = the reason */
} TestEntryKind;

typedef struct ProgTestEntry {
  uint8_t kind;   /* TestEntryKind */
  Str name;       /* step name, or "" */
  Str text;       /* skip/fail reason, or "" */
  uint32_t block; /* or PROG_NONE */
  DebugPos pos;
} ProgTestEntry;

typedef struct ProgTest {
  Str name;
  DebugPos pos;
  ProgTestEntry *entries; /* malloc'd, owned by the Program */
  uint32_t n_entries, cap_entries;
} ProgTest;

typedef struct Program {
  Arena arena;           /* owns strings and constant Values */
  uint8_t source_hash[32]; /* SHA-256 of the sources (compiler/codegen.c) */
  Str flow_name, flow_doc;
  Str source_path;       /* the flow file as named when compiled */
  uint8_t rounding;      /* Rounding of the flow */
  bool has_trigger;
  ProgTrigger trigger;
  ProgUse *uses;         uint32_t n_uses, cap_uses;
  ProgSetting *settings; uint32_t n_settings, cap_settings;
  Value *consts;         uint32_t n_consts, cap_consts;
  Instr *code;           uint32_t n_code, cap_code;
  DebugPos *debug;       /* n_code entries, parallel to code */
  uint32_t *blocks;      uint32_t n_blocks, cap_blocks; /* first pc of each */
  ProgNode *nodes;       uint32_t n_nodes, cap_nodes;
  ProgTest *tests;       uint32_t n_tests, cap_tests;
  Str *slot_names;       /* n_slots names for the disassembler ("" unnamed) */
  uint32_t n_slots, cap_slot_names;
  uint32_t n_cache;      /* field-lookup cache slots (FIELD's b) */
  /* Computed by program_verify(), not stored in the file: */
  uint32_t max_stack;    /* deepest value stack of any block */
  uint32_t max_builders; /* deepest nesting of record/list builders */
} Program;

/* ---- Building (the compiler) ------------------------------------------ */

/* A new empty program; the caller owns it (program_free). */
Program *program_new(void);
void program_free(Program *p);
/* A copy of `s` in the program's arena. */
Str program_str(Program *p, Str s);
/* Add constant `v` (deep-copied into the program's arena); returns its
** index. Equal scalar constants share one index. */
uint32_t program_add_const(Program *p, Value v);
/* Start a new block at the next instruction; returns its number. */
uint32_t program_begin_block(Program *p);
/* Append an instruction; returns its index. */
uint32_t program_emit(Program *p, Opcode op, uint32_t a, uint16_t b, DebugPos pos);
/* A new slot, named for the disassembler. */
uint32_t program_add_slot(Program *p, Str name);
/* New zeroed entries, with PROG_NONE in their block fields. */
ProgSetting *program_add_setting(Program *p);
ProgUse *program_add_use(Program *p);
ProgNode *program_add_node(Program *p);
ProgTest *program_add_test(Program *p);
ProgTestEntry *program_add_test_entry(Program *p, ProgTest *t);

/* The setting named `name`, or -1. */
int program_setting_index(const Program *p, Str name);
/* The node named `name` (a let or step), or -1. */
int program_node_index(const Program *p, Str name);

/* ---- Files ------------------------------------------------------------ */

/* Append the .iexb form of `p` to `out`. Returns false only if `out`
** reaches its bound. The same program always gives the same bytes. */
bool program_write(const Program *p, Buf *out);
/* Write `p` to file `path` (through a temporary file and a rename).
** Returns false with a message in `err`. */
bool program_save(const Program *p, const char *path, char *err, size_t err_size);
/* Read a program from `len` bytes at `data` and verify it. On failure
** returns NULL with a message in `err` ("not an .iexb file", "made for
** .iexb format 3; this iex reads format 1: compile the flow again",
** "damaged: checksum mismatch", "damaged: block 4 jumps outside itself
** at instruction 120"). The caller owns the result. */
Program *program_read(const void *data, size_t len, char *err, size_t err_size);
/* program_read() of the file at `path`; messages start with the path. */
Program *program_load(const char *path, char *err, size_t err_size);

/* Check `p` as program_read() does and fill max_stack and max_builders.
** The compiler calls it on what it generated. */
bool program_verify(Program *p, char *err, size_t err_size);

/* ---- For people ------------------------------------------------------- */

/* Append `p` disassembled: the graph, settings, constants, and each block
** with one instruction a line, its operands, synopsis and line:col
** (`iexc --emit=bytecode`). */
void program_disasm(const Program *p, Buf *out);
/* Append the step graph in Graphviz DOT (`iexc --emit=graph`). */
void program_dot(const Program *p, Buf *out);
/* "flows/x.iexflow:42:17" for instruction `pc` into `out`; returns `out`. */
const char *program_location(const Program *p, uint32_t pc, char *out, size_t size);

#endif /* IEX_RUNTIME_BYTECODE_H */
