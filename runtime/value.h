/*
** Value: the runtime representation of every piece of data a flow reads,
** computes and sends: a 16-byte struct passed by value, like jq's jv.
**
** ========================================================================
** THE OWNERSHIP RULE
**
**   Every Value lives in the Arena of the evaluation that produced it:
**   one arena per transfer (per record). Nothing is freed individually;
**   the arena is reset after the record.
**
** So: copying a Value is a struct copy, never an allocation; there is no
** reference count and nothing to release, on any path, including errors.
** The bytes of strings, the elements of lists and the fields of records
** are in that arena, or in memory the arena keeps alive (the JSON
** decoder's copy of its input; memory registered with arena_on_free()).
** A Value must never be stored in anything that outlives the arena's
** next reset (a global, the store, a long-lived Lua state): encode it
** (runtime/json_value.h) or copy it into a longer-lived arena with
** value_copy().
** ========================================================================
**
** Values are immutable once built: builders (ListBuilder, RecordBuilder)
** make lists and records, and nothing changes them afterwards. The one
** exception is invisible: a big record builds its field index on the
** first lookup that needs it (in the record's own arena), so lookups must
** not run concurrently on one record. A record keeps its fields in the
** order they were added (JSON object order).
**
** Kinds: null, bool, int (int64), decimal (common/decimal.h, inline),
** string (UTF-8 bytes + length, not NUL-terminated), list, record, date
** and datetime (common/datetime.h, inline), and numtext: a JSON number
** that no decimal holds exactly (1e400, 30 digits), kept as its text so
** it passes through unchanged; arithmetic on it is an error.
*/
#ifndef IEX_RUNTIME_VALUE_H
#define IEX_RUNTIME_VALUE_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/datetime.h"
#include "common/decimal.h"
#include "common/str.h"

typedef enum ValueKind {
  VAL_NULL,
  VAL_BOOL,
  VAL_INT,
  VAL_DECIMAL,
  VAL_STRING,
  VAL_LIST,
  VAL_RECORD,
  VAL_DATE,
  VAL_DATETIME,
  VAL_NUMTEXT,
  VAL__COUNT
} ValueKind;

/* Strings, lists and records count their bytes/elements in 32 bits. */
#define VALUE_MAX_LEN UINT32_MAX

/* Value.aux of a STRING: its bytes are known to be valid UTF-8 without
** `"`, `\` or control characters, so JSON can be written by copying them.
** Set by the JSON decoder; 0 (unknown) from every other constructor. */
#define VALUE_STR_JSON_SAFE 0x01
/* Record.flags: every key is known to be JSON-safe, as above. */
#define RECORD_KEYS_JSON_SAFE 0x01

typedef struct Record Record;
typedef struct Value Value;

struct Value {
  uint8_t kind;       /* ValueKind */
  uint8_t aux;        /* DECIMAL: scale; DATETIME: flags; STRING:
                       ** VALUE_STR_JSON_SAFE or 0; otherwise 0 */
  int16_t offset_min; /* DATETIME: UTC offset in minutes; otherwise 0 */
  uint32_t len;       /* STRING, NUMTEXT: bytes; LIST: elements; RECORD:
                       ** fields; DATETIME: microseconds; otherwise 0 */
  union {
    bool b;             /* BOOL */
    int64_t i;          /* INT; DECIMAL: the coefficient; DATETIME: seconds */
    int32_t days;       /* DATE: days since 1970-01-01 */
    const char *str;    /* STRING, NUMTEXT: bytes in the arena (see the rule) */
    const Value *items; /* LIST: `len` values in the arena */
    Record *rec;        /* RECORD: in the arena */
  } as;
};

_Static_assert(sizeof(Value) == 16, "a Value is 16 bytes, passed by value");

/* One field of a record. */
typedef struct Field {
  Str key; /* the name; bytes in the arena (see the rule) */
  Value value;
} Field;

/* A record's storage, allocated in one piece in its arena. Visible so the
** JSON decoder and the VM can fill and walk it; use value_field() to look
** fields up. */
struct Record {
  uint32_t n_fields;   /* fields in use */
  uint32_t cap_fields; /* fields allocated (builders grow into this) */
  uint32_t n_slots;    /* size of `index` (power of two), 0 = not built */
  uint32_t flags;      /* RECORD_KEYS_JSON_SAFE or 0 */
  uint32_t *index;     /* hash slots -> field number + 1; in `arena`;
                        ** built by the first lookup that needs it */
  Arena *arena;        /* the arena the record lives in (for the index) */
  Field fields[];      /* n_fields fields, in order */
};

/* ---- Constructors (no allocation) ------------------------------------- */

static inline Value value_null(void) { return (Value){.kind = VAL_NULL}; }
static inline Value value_bool(bool b) { return (Value){.kind = VAL_BOOL, .as.b = b}; }
static inline Value value_int(int64_t i) { return (Value){.kind = VAL_INT, .as.i = i}; }
static inline Value value_decimal(Decimal d) {
  return (Value){.kind = VAL_DECIMAL, .aux = (uint8_t)d.scale, .as.i = d.coef};
}
static inline Value value_date(int32_t days) {
  return (Value){.kind = VAL_DATE, .as.days = days};
}
static inline Value value_datetime(DateTime dt) {
  return (Value){.kind = VAL_DATETIME,
                 .aux = dt.flags,
                 .offset_min = dt.offset_min,
                 .len = (uint32_t)dt.usec,
                 .as.i = dt.secs};
}
/* A string of `len` bytes at `ptr`, which must already live as long as the
** arena (see the rule); nothing is copied. */
static inline Value value_string(const char *ptr, size_t len) {
  assert(len <= VALUE_MAX_LEN);
  return (Value){.kind = VAL_STRING, .len = (uint32_t)len, .as.str = ptr};
}
/* A numtext (a JSON number kept as text), same conditions as value_string(). */
static inline Value value_numtext(const char *ptr, size_t len) {
  assert(len <= VALUE_MAX_LEN);
  return (Value){.kind = VAL_NUMTEXT, .len = (uint32_t)len, .as.str = ptr};
}
/* A list of `n` values at `items`, same conditions as value_string(). */
static inline Value value_list(const Value *items, size_t n) {
  assert(n <= VALUE_MAX_LEN);
  return (Value){.kind = VAL_LIST, .len = (uint32_t)n, .as.items = items};
}
static inline Value value_record(Record *rec) {
  return (Value){.kind = VAL_RECORD, .len = rec->n_fields, .as.rec = rec};
}

/* A string holding a copy of `s` in arena `a`. Returns false (and leaves
** `*out` alone) only when the arena's limit is reached. */
bool value_string_copy(Arena *a, Str s, Value *out);

/* ---- Accessors ------------------------------------------------------------ */

static inline ValueKind value_kind(Value v) { return (ValueKind)v.kind; }
static inline bool value_is_null(Value v) { return v.kind == VAL_NULL; }
static inline Decimal value_as_decimal(Value v) {
  assert(v.kind == VAL_DECIMAL);
  return decimal_make(v.as.i, v.aux);
}
static inline DateTime value_as_datetime(Value v) {
  assert(v.kind == VAL_DATETIME);
  DateTime dt = {v.as.i, (int32_t)v.len, v.offset_min, v.aux};
  return dt;
}
/* The bytes of a STRING or NUMTEXT. */
static inline Str value_as_str(Value v) {
  assert(v.kind == VAL_STRING || v.kind == VAL_NUMTEXT);
  return str_make(v.as.str, v.len);
}
/* Field `i` (0-based, < v.len) of a record. */
static inline const Field *value_field_at(Value v, uint32_t i) {
  assert(v.kind == VAL_RECORD && i < v.as.rec->n_fields);
  return &v.as.rec->fields[i];
}

/* The value of field `key` of record `rec`, or NULL when there is none
** (the first, should a key repeat). The result points into the record.
**
** `hint` may be NULL, or point to a slot the caller keeps per access site
** (initially 0): the field's position is checked there first and the slot
** updated on success, so reading the same field of records that all have
** the same shape (every order from one shop) costs one key comparison.
** On a miss, small records are scanned; records of more than 16 fields
** use a hash index, built in the record's arena on first need (if the
** arena's limit refuses it, the scan is used). */
const Value *value_field(Value rec, Str key, uint32_t *hint);

/* ---- Builders ------------------------------------------------------------- */

/* A list or record under construction in an arena. A builder holds
** nothing outside the arena, so an abandoned builder needs no cleanup.
** Growing leaves the old storage behind as garbage until the reset, so
** give a good `cap_hint` where the size is known (the compiler knows the
** fields of every record literal). */
typedef struct ListBuilder {
  Arena *arena; /* where the items live */
  Value *items; /* in `arena`; `cap` slots */
  uint32_t n, cap;
  bool failed; /* the arena's limit was hit; the list is incomplete */
} ListBuilder;

typedef struct RecordBuilder {
  Arena *arena; /* where the record lives */
  Record *rec;  /* in `arena`; rec->cap_fields slots */
  bool failed;  /* the arena's limit was hit; the record is incomplete */
} RecordBuilder;

/* Start an empty list in arena `a` with room for `cap_hint` items (0 is
** fine). Sets `failed` if the arena refuses even that. */
void list_builder_init(ListBuilder *b, Arena *a, uint32_t cap_hint);
/* Append `v`. Returns false (and sets `failed`) when the arena's limit
** is reached or the list would pass VALUE_MAX_LEN elements. */
bool list_builder_push(ListBuilder *b, Value v);
/* The list built so far. The builder must not be used afterwards. */
Value list_builder_finish(ListBuilder *b);

/* Start an empty record in arena `a` with room for `cap_hint` fields. */
void record_builder_init(RecordBuilder *b, Arena *a, uint32_t cap_hint);
/* Append field `key` (bytes must live as long as the arena, see the rule)
** with `v`. Keys are not checked for repeats: keep them unique (the JSON
** decoder rejects repeated keys; value_field() finds the first). Returns
** false as list_builder_push() does. */
bool record_builder_add(RecordBuilder *b, Str key, Value v);
/* The record built so far. The builder must not be used afterwards. */
Value record_builder_finish(RecordBuilder *b);

/* A record of exactly `n` fields for the caller to fill in (rec->fields[0
** .. n-1]) before making it a Value; NULL when the arena's limit is hit. */
Record *record_new(Arena *a, uint32_t n);

/* ---- Comparison ------------------------------------------------------------ */

/* Whether `a` and `b` are the same value: ints and decimals by number
** (1 == 1.0 == 1.00), datetimes by instant (10:15+01:00 == 09:15Z),
** strings by bytes, lists and records element by element (records also
** by key order), numtext by its text. Values of different kinds are
** different otherwise (the string "1" is not the number 1). */
bool value_equal(Value a, Value b);

/* A total order for sort keys: -1, 0 or 1. Numbers (int, decimal)
** compare by value, strings by bytes (so by code point), dates and
** datetimes in time, lists and records lexicographically. Different
** kinds order as null < bool < number < numtext < string < date <
** datetime < list < record. value_compare(a, b) == 0 iff value_equal. */
int value_compare(Value a, Value b);

/* A hash consistent with value_equal() (for grouping and de-duplicating). */
uint64_t value_hash(Value v);

/* ---- Names and printing ---------------------------------------------------- */

/* The name of a kind as messages use it: "null", "bool", "int",
** "decimal", "string", "list", "record", "date", "datetime", "number". */
const char *value_kind_name(ValueKind kind);

/* The type of `v` for an error message, into `out` (NUL-terminated,
** truncated to `size`): "decimal", "list of string", "list of list of
** int", "empty list", "list of mixed values", "number too long for a
** decimal". Returns `out`. */
const char *value_type_name(Value v, char *out, size_t size);

/* Append a readable, unambiguous rendering of `v` to `out`, for traces
** and test failures: JSON-like, where ints print as 7, decimals as 1.50
** (or decimal(7) when they have no decimals, so they cannot pass for
** ints), and the other kinds as date(2024-03-01),
** datetime(2024-03-01T10:15:00+01:00) and numtext(1e400). Not a wire
** format; use runtime/json_value.h for that. */
void value_debug(Value v, Buf *out);

/* A deep copy of `v` whose every byte lives in arena `dst`. Returns false
** (`*out` unchanged) when `dst`'s limit is reached. */
bool value_copy(Arena *dst, Value v, Value *out);

#endif /* IEX_RUNTIME_VALUE_H */
