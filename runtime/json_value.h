/*
** JSON <-> Value: the record path of the runtime. Every incoming record
** is decoded here straight into Values, and every outgoing one encoded
** here straight from them, without an intermediate tree; that is what
** lets iex map orders faster than code on a general JSON library
** (bench/README.md).
**
** - Decoding is strict RFC 8259: one value, nothing after it but
**   whitespace; invalid UTF-8, control characters in strings, unpaired
**   \u surrogates, leading zeros and repeated keys in an object are
**   errors. Errors carry the byte offset, line, column and an excerpt.
** - Numbers stay exact: integers become VAL_INT, other numbers VAL_DECIMAL,
**   and numbers no decimal holds exactly (1e400, 25 digits) VAL_NUMTEXT,
**   their text kept so they pass through unchanged.
** - Strings are not copied one by one. The decoder copies the whole input
**   into the arena once (a memcpy per record, cheap next to parsing) and
**   strings point into that copy; escaped strings are unescaped in place
**   in it. So decoded Values depend on nothing but the arena (the rule of
**   runtime/value.h). A caller whose input already outlives the arena can
**   skip the copy (JsonvOptions.input_outlives_arena).
** - Encoding writes compact JSON (or, for people, 2-space indented JSON)
**   into a Buf: decimals as plain numbers with the digits they carry,
**   dates as "YYYY-MM-DD", datetimes as ISO-8601 at their own offset,
**   UTF-8 passed through, only `"`, `\` and control characters escaped,
**   object keys in their order.
** - jansson is for small documents where speed does not matter (connector
**   requests and responses); all translation between its conventions and
**   ours is at the end of this header.
*/
#ifndef IEX_RUNTIME_JSON_VALUE_H
#define IEX_RUNTIME_JSON_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/str.h"
#include "runtime/value.h"

#define JSONV_DEFAULT_MAX_BYTES ((size_t)64 * 1024 * 1024)
#define JSONV_DEFAULT_MAX_DEPTH 256

/* Where and why decoding (or encoding) failed. */
typedef struct JsonvError {
  char message[128]; /* what is wrong: "expected `,` or `}` after object member" */
  size_t offset;     /* byte offset of the problem in the input */
  uint32_t line;     /* 1-based line of `offset` */
  uint32_t column;   /* 1-based column of `offset`, in characters */
  char excerpt[96];  /* the input around `offset`, on one line, "" if none */
} JsonvError;

/* Render `err` for a person: "expected `,` or `}` after object member at
** line 1, column 345, near `"total": 12 "tax"`". Returns `out`. */
const char *jsonv_error_text(const JsonvError *err, char *out, size_t size);

typedef struct JsonvOptions {
  size_t max_bytes;          /* longest input accepted; 0: JSONV_DEFAULT_MAX_BYTES
                              ** (at most UINT32_MAX, so lengths fit in a Value) */
  uint32_t max_depth;        /* deepest nesting of arrays and objects; 0: default */
  bool input_outlives_arena; /* the caller guarantees the input stays unchanged
                              ** until the arena is reset: skip the copy */
  bool allow_duplicate_keys; /* keep repeated keys (value_field finds the
                              ** first) instead of rejecting the object */
} JsonvOptions;

/* A key being read, and where it starts in the input (for messages). */
typedef struct JsonvKey {
  Str key;       /* the unescaped key (see the file comment) */
  size_t offset; /* byte offset of its opening quote */
} JsonvKey;

/* A decoder keeps scratch memory between documents so that decoding one
** record after another does not call malloc. Not thread-safe; one per
** thread. */
typedef struct JsonvDecoder {
  JsonvOptions opt; /* as given to jsonv_decoder_init(), defaults filled in */
  Value *vals;      /* owned; elements of the containers being read */
  size_t n_vals, cap_vals;
  struct JsonvKey *keys; /* owned; keys of the objects being read */
  size_t n_keys, cap_keys;
  uint32_t *slots; /* owned; hash slots for repeated-key checks */
  size_t cap_slots;
} JsonvDecoder;

/* Prepare `d`; `opt` may be NULL for the defaults. Release with fini. */
void jsonv_decoder_init(JsonvDecoder *d, const JsonvOptions *opt);
void jsonv_decoder_fini(JsonvDecoder *d);

/* Decode the JSON document `input` into `*out`, every part of which lives
** in arena `a` (see the file comment for strings). On failure returns
** false and fills `*err` (which may be NULL); whatever was allocated
** stays in the arena until its reset. */
bool jsonv_decode_with(JsonvDecoder *d, Arena *a, Str input, Value *out, JsonvError *err);
/* The same with a decoder made for this one call. */
bool jsonv_decode(Arena *a, Str input, const JsonvOptions *opt, Value *out,
                  JsonvError *err);

/* Append `v` as compact JSON to `out`. Fails (false, with a message in
** `*err`, which may be NULL) on a string that is not valid UTF-8, nesting
** deeper than JSONV_DEFAULT_MAX_DEPTH * 4, or when `out` reaches its bound.
** `out` then holds a partial document. */
bool jsonv_encode(Value v, Buf *out, JsonvError *err);
/* Like jsonv_encode() but indented by two spaces, one member a line. */
bool jsonv_encode_pretty(Value v, Buf *out, JsonvError *err);
/* `v` as compact JSON text in `a` (NUL-terminated); NULL when it cannot
** be encoded (see jsonv_encode). */
const char *jsonv_encode_arena(Value v, Arena *a);

/* ---- JSON Lines (one record per line, e.g. iex --input orders.jsonl) ---- */

typedef struct JsonvLines {
  int fd; /* read from; owned when opened by path */
  bool owns_fd;
  char *buf;         /* owned; read buffer */
  size_t cap;        /* bytes allocated in buf */
  size_t start, end; /* unconsumed bytes are buf[start..end) */
  size_t max_line;   /* longest line accepted, in bytes */
  uint64_t line_no;  /* 1-based number of the line last returned */
  bool at_eof;       /* read() returned 0 */
  bool skipping;     /* discarding the rest of an over-long line */
} JsonvLines;

/* Read lines from file `path` ("-" for standard input), each at most
** `max_line` bytes. Returns false with a message in `err` when the file
** cannot be opened. */
bool jsonv_lines_open(JsonvLines *r, const char *path, size_t max_line, char *err,
                      size_t err_size);
/* Read lines from `fd`, which the caller keeps open and closes. */
void jsonv_lines_init_fd(JsonvLines *r, int fd, size_t max_line);
/* Release the buffer, and close the file when jsonv_lines_open() opened it. */
void jsonv_lines_close(JsonvLines *r);

/* The next line that is not blank, without its line break ("\n" or
** "\r\n"), in `*line`: valid until the next call. Returns 1 for a line,
** 0 at the end, -1 for an error described in `err` (a line longer than
** `max_line`, which is skipped so the next call goes on after it, or a
** read error). `r->line_no` is the line's number in the file. */
int jsonv_lines_next(JsonvLines *r, Str *line, char *err, size_t err_size);

/* ---- jansson ------------------------------------------------------------
**
** jansson keeps every non-integer number as a double, so it cannot hold
** most decimals exactly; where amounts matter, decode with the decoder
** above. These conversions make the loss explicit instead of silent:
** - from jansson: a real becomes the decimal with the fewest digits that
**   reads back as the same double (19.99 stays 19.99), and a numtext when
**   no decimal holds that. Strings are copied into the arena.
** - to jansson: a decimal becomes a real only if it has at most 15
**   significant digits, which a double and "%.15g" round-trip exactly;
**   dump with JSONV_JANSSON_DUMP_FLAGS so it prints back as written
**   (jansson's default of 17 digits prints 19.99 as 19.989999999999998).
**   Longer decimals and numtexts are refused with a message. Dates and
**   datetimes become ISO-8601 strings.
*/

#define JSONV_JANSSON_DUMP_FLAGS (JSON_REAL_PRECISION(15) | JSON_COMPACT)

/* `j` (borrowed) as a Value in arena `a`. Returns false with a message in
** `err` only when the arena's limit is reached. */
bool jsonv_from_jansson(Arena *a, const json_t *j, Value *out, char *err,
                        size_t err_size);
/* `v` as a new jansson value, which the caller owns (json_decref). Returns
** NULL with a message in `err` for values jansson cannot hold exactly. */
json_t *jsonv_to_jansson(Value v, char *err, size_t err_size);

#endif /* IEX_RUNTIME_JSON_VALUE_H */
