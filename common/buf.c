/*
** Bounded growable byte buffer (see buf.h).
*/
#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(Buf *b, size_t max_bytes) {
  memset(b, 0, sizeof *b);
  b->max_bytes = max_bytes ? max_bytes : BUF_DEFAULT_MAX;
}

void buf_fini(Buf *b) {
  size_t max = b->max_bytes;
  free(b->data);
  buf_init(b, max);
}

void buf_reset(Buf *b) {
  b->len = 0;
  b->overflowed = false;
  if (b->data) b->data[0] = '\0';
}

/* Make room for `extra` more bytes plus the NUL. */
static bool reserve(Buf *b, size_t extra) {
  if (b->overflowed) return false;
  if (extra > b->max_bytes || b->len > b->max_bytes - extra) {
    b->overflowed = true;
    return false;
  }
  size_t need = b->len + extra + 1;
  if (need > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
  }
  return true;
}

bool buf_append(Buf *b, const void *data, size_t len) {
  if (!reserve(b, len)) return false;
  if (len) memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
  return true;
}

bool buf_putc(Buf *b, char c) { return buf_append(b, &c, 1); }

bool buf_puts(Buf *b, const char *s) { return buf_append(b, s, strlen(s)); }

bool buf_vprintf(Buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) return false;
  if (!reserve(b, (size_t)n)) return false;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return true;
}

bool buf_printf(Buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  bool ok = buf_vprintf(b, fmt, ap);
  va_end(ap);
  return ok;
}

const char *buf_cstr(Buf *b) { return b->data ? b->data : ""; }

char *buf_take(Buf *b) {
  char *d = b->data ? b->data : xstrdup("");
  size_t max = b->max_bytes;
  buf_init(b, max);
  return d;
}
