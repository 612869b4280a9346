/*
** UTF-8: the one definition of a valid sequence, and the few operations on
** it that the compiler, the runtime and the stdlib share.
**
** Valid means RFC 3629: one to four bytes that encode a code point of
** U+0000..U+10FFFF in its shortest form. Overlong forms (C0 80, E0 80 80,
** F0 80 80 80), surrogates (U+D800..U+DFFF, ED A0 80..ED BF BF), anything
** above U+10FFFF (F4 90 80 80 and up, F5..FF), a stray continuation byte
** and a sequence cut short are not. Functions that walk a text (count,
** offset) take each byte that starts no valid sequence as one character of
** its own, so they never fail on broken text and never split a valid one.
**
** No function reads past the length it is given. The decoding ones are
** inline: the JSON decoder's string scan calls utf8_len per non-ASCII
** character (bench/README.md measures it).
*/
#ifndef IEX_COMMON_UTF8_H
#define IEX_COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* What utf8_decode() returns for a byte that starts no valid sequence; it
** is no code point, so it cannot be mistaken for one. */
#define UTF8_INVALID 0xFFFFFFFFu
/* The code point utf8_encode() writes for one it cannot encode. */
#define UTF8_REPLACEMENT 0xFFFDu

/* The length (1 to 4) of the valid sequence that starts at `p`, or 0 when
** the bytes there are not one (also when `avail` is 0). At most `avail`
** bytes are read, and a byte only after the ones before it have been
** found to be continuation bytes, so a NUL-terminated text may be passed
** with an `avail` that reaches past its NUL. */
static inline size_t utf8_len(const char *p, size_t avail) {
  const unsigned char *u = (const unsigned char *)p;
  if (avail == 0) return 0;
  unsigned c = u[0];
  if (c < 0x80) return 1;
  if (c < 0xc2) return 0; /* a continuation byte, or C0/C1 (always overlong) */
  if (c < 0xe0) return avail >= 2 && (u[1] & 0xc0) == 0x80 ? 2 : 0;
  /* The second byte's range rules out what the lead byte alone cannot:
  ** E0 80..9F is overlong, ED A0..BF a surrogate, F0 80..8F overlong,
  ** F4 90..BF above U+10FFFF. */
  if (c < 0xf0) {
    unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    return avail >= 3 && u[1] >= lo && u[1] <= hi && (u[2] & 0xc0) == 0x80 ? 3 : 0;
  }
  if (c < 0xf5) {
    unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    return avail >= 4 && u[1] >= lo && u[1] <= hi && (u[2] & 0xc0) == 0x80 &&
                   (u[3] & 0xc0) == 0x80
               ? 4
               : 0;
  }
  return 0;
}

/* The code point of the character at `p` and, in `*n`, its length in bytes
** (always at least 1): UTF8_INVALID with `*n` = 1 for a byte that starts
** no valid sequence. At most `avail` bytes are read. */
static inline uint32_t utf8_decode(const char *p, size_t avail, size_t *n) {
  const unsigned char *u = (const unsigned char *)p;
  if (avail && u[0] < 0x80) { /* ASCII first: most text is */
    *n = 1;
    return u[0];
  }
  size_t len = utf8_len(p, avail);
  if (len == 0) {
    *n = 1;
    return UTF8_INVALID;
  }
  *n = len;
  uint32_t cp = u[0] & (0x7fu >> len); /* the lead byte's payload bits */
  for (size_t k = 1; k < len; k++) cp = cp << 6 | (u[k] & 0x3f);
  return cp;
}

/* Write `cp` as UTF-8 into `out` (room for 4 bytes) and return the number
** of bytes written (1 to 4). What is no code point (a surrogate, above
** U+10FFFF, UTF8_INVALID) is written as U+FFFD, so the output is always
** valid UTF-8. */
static inline size_t utf8_encode(uint32_t cp, char *out) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xc0 | cp >> 6);
    out[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = UTF8_REPLACEMENT;
  if (cp < 0x10000) {
    out[0] = (char)(0xe0 | cp >> 12);
    out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (char)(0xf0 | cp >> 18);
  out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
  out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
  out[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

/* Append `cp` to `b` as utf8_encode() writes it; false when the Buf's
** bound refuses it (see buf_append). */
static inline bool utf8_put(Buf *b, uint32_t cp) {
  char u[4];
  return buf_append(b, u, utf8_encode(cp, u));
}

/* The offset of the first byte of `s[0..len)` that starts no valid
** sequence, or `len` when the whole text is valid UTF-8. */
size_t utf8_first_invalid(const char *s, size_t len);

/* Whether all of `s[0..len)` is valid UTF-8. */
static inline bool utf8_valid(const char *s, size_t len) {
  return utf8_first_invalid(s, len) == len;
}

/* The number of characters in `s[0..len)` (an invalid byte counts as one). */
size_t utf8_count(const char *s, size_t len);

/* The byte offset of character `index` (0-based) of `s[0..len)`, or `len`
** when the text has no more than `index` characters. */
size_t utf8_offset(const char *s, size_t len, size_t index);

#endif /* IEX_COMMON_UTF8_H */
