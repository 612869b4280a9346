/*
** Buf: a growable byte buffer with a stated upper bound.
**
** Every HTTP body, webhook payload, CSV line, JSON document and Lua result
** iex builds has a maximum size, given when the Buf is initialised. Going
** over it is an error the caller reports (buf_ok() turns false and further
** appends are ignored), never a crash and never unbounded memory.
**
** The bytes are always NUL-terminated after the last byte written, so
** `data` can be passed to functions that want a C string (when the content
** has no NULs of its own).
*/
#ifndef IEX_COMMON_BUF_H
#define IEX_COMMON_BUF_H

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>

#include "common/str.h"
#include "common/util.h"

typedef struct Buf {
  char *data;        /* owned, malloc'd; NUL-terminated; NULL until first write */
  size_t len;        /* bytes written (excluding the NUL) */
  size_t cap;        /* bytes allocated */
  size_t max_bytes;  /* upper bound on len; 0 means the default (64 MiB) */
  bool overflowed;   /* set once an append would have exceeded max_bytes */
} Buf;

#define BUF_DEFAULT_MAX ((size_t)64 * 1024 * 1024)

/* Prepare an empty buffer bounded to `max_bytes` (0: BUF_DEFAULT_MAX). */
void buf_init(Buf *b, size_t max_bytes);
/* Release the memory; `b` may be initialised again. */
void buf_fini(Buf *b);
/* Empty the buffer (keeps memory and bound, clears `overflowed`). */
void buf_reset(Buf *b);

/* Append bytes. Return false (and set `overflowed`) if the bound would be
** exceeded; nothing is appended then. */
bool buf_append(Buf *b, const void *data, size_t len);
bool buf_putc(Buf *b, char c);
bool buf_puts(Buf *b, const char *s);
static inline bool buf_append_str(Buf *b, Str s) { return buf_append(b, s.ptr, s.len); }
bool buf_printf(Buf *b, const char *fmt, ...) IEX_PRINTF(2, 3);
bool buf_vprintf(Buf *b, const char *fmt, va_list ap);

/* True while no append has been refused. */
static inline bool buf_ok(const Buf *b) { return !b->overflowed; }
/* The content as a NUL-terminated string ("" when empty); owned by `b`. */
const char *buf_cstr(Buf *b);
/* The content as a Str view; owned by `b`. */
static inline Str buf_str(const Buf *b) { return str_make(b->data ? b->data : "", b->len); }
/* Hand the malloc'd, NUL-terminated content to the caller (who frees it)
** and leave `b` empty. Never returns NULL. */
char *buf_take(Buf *b);

#endif /* IEX_COMMON_BUF_H */
