/* Unit tests of common/utf8.[ch]: the one definition of valid UTF-8
** (every boundary of RFC 3629), decoding, encoding, counting, offsets. */
#include "common/buf.h"
#include "common/utf8.h"
#include "tests/lib/check.h"

#include <stdint.h>
#include <stdlib.h>

/* utf8_len of a string literal, given exactly its bytes (no NUL to lean on:
** the bytes are copied into a malloc'd block of that size, so ASan sees a
** read past them). */
static size_t len_exact(const char *bytes, size_t n) {
  char *copy = malloc(n ? n : 1);
  memcpy(copy, bytes, n);
  size_t r = utf8_len(copy, n);
  free(copy);
  return r;
}
#define LEN(lit) len_exact(lit, sizeof(lit) - 1)

/* The code point utf8_decode finds in exactly these bytes, and its length. */
static uint32_t decode_exact(const char *bytes, size_t n, size_t *len) {
  char *copy = malloc(n ? n : 1);
  memcpy(copy, bytes, n);
  uint32_t cp = utf8_decode(copy, n, len);
  free(copy);
  return cp;
}

TEST(boundaries_of_each_length) {
  CHECK_EQ_INT(LEN("\x00"), 1);                 /* U+0000 */
  CHECK_EQ_INT(LEN("\x7f"), 1);                 /* U+007F, last of 1 byte */
  CHECK_EQ_INT(LEN("\xc2\x80"), 2);             /* U+0080, first of 2 */
  CHECK_EQ_INT(LEN("\xdf\xbf"), 2);             /* U+07FF, last of 2 */
  CHECK_EQ_INT(LEN("\xe0\xa0\x80"), 3);         /* U+0800, first of 3 */
  CHECK_EQ_INT(LEN("\xed\x9f\xbf"), 3);         /* U+D7FF, before the surrogates */
  CHECK_EQ_INT(LEN("\xee\x80\x80"), 3);         /* U+E000, after them */
  CHECK_EQ_INT(LEN("\xef\xbf\xbf"), 3);         /* U+FFFF, last of 3 */
  CHECK_EQ_INT(LEN("\xf0\x90\x80\x80"), 4);     /* U+10000, first of 4 */
  CHECK_EQ_INT(LEN("\xf4\x8f\xbf\xbf"), 4);     /* U+10FFFF, the last code point */
  CHECK_EQ_INT(LEN("\xf1\x80\x80\x80"), 4);     /* U+40000, a middle lead byte */
  /* Only the first character counts. */
  CHECK_EQ_INT(LEN("\xc3\xb8x"), 2);
  CHECK_EQ_INT(LEN("ab"), 1);
}

TEST(overlongs_are_invalid) {
  CHECK_EQ_INT(LEN("\xc0\x80"), 0);             /* U+0000 in 2 bytes */
  CHECK_EQ_INT(LEN("\xc0\xaf"), 0);             /* '/' in 2 bytes */
  CHECK_EQ_INT(LEN("\xc1\xbf"), 0);             /* U+007F in 2 bytes */
  CHECK_EQ_INT(LEN("\xe0\x80\x80"), 0);         /* U+0000 in 3 bytes */
  CHECK_EQ_INT(LEN("\xe0\x9f\xbf"), 0);         /* U+07FF in 3 bytes */
  CHECK_EQ_INT(LEN("\xf0\x80\x80\x80"), 0);     /* U+0000 in 4 bytes */
  CHECK_EQ_INT(LEN("\xf0\x8f\xbf\xbf"), 0);     /* U+FFFF in 4 bytes */
}

TEST(surrogates_are_invalid) {
  CHECK_EQ_INT(LEN("\xed\xa0\x80"), 0);         /* U+D800 */
  CHECK_EQ_INT(LEN("\xed\xaf\xbf"), 0);         /* U+DBFF */
  CHECK_EQ_INT(LEN("\xed\xb0\x80"), 0);         /* U+DC00 */
  CHECK_EQ_INT(LEN("\xed\xbf\xbf"), 0);         /* U+DFFF */
  /* A CESU-8 pair (U+1F642 as two surrogates) is two invalid halves. */
  CHECK(!utf8_valid("\xed\xa0\xbd\xed\xb9\x82", 6));
}

TEST(above_u10ffff_is_invalid) {
  CHECK_EQ_INT(LEN("\xf4\x90\x80\x80"), 0);     /* U+110000 */
  CHECK_EQ_INT(LEN("\xf4\xbf\xbf\xbf"), 0);
  CHECK_EQ_INT(LEN("\xf5\x80\x80\x80"), 0);     /* lead bytes F5..FF never occur */
  CHECK_EQ_INT(LEN("\xf7\xbf\xbf\xbf"), 0);
  CHECK_EQ_INT(LEN("\xf8\x88\x80\x80\x80"), 0); /* the old 5-byte form */
  CHECK_EQ_INT(LEN("\xfe"), 0);
  CHECK_EQ_INT(LEN("\xff"), 0);
}

TEST(truncated_and_stray_bytes_are_invalid) {
  CHECK_EQ_INT(LEN(""), 0);
  CHECK_EQ_INT(LEN("\xc3"), 0);                 /* 2-byte lead, nothing after */
  CHECK_EQ_INT(LEN("\xe2\x82"), 0);             /* 3 bytes cut at 2 */
  CHECK_EQ_INT(LEN("\xe2"), 0);
  CHECK_EQ_INT(LEN("\xf0\x9f\x99"), 0);         /* 4 bytes cut at 3 */
  CHECK_EQ_INT(LEN("\xf0\x9f"), 0);
  CHECK_EQ_INT(LEN("\xf0"), 0);
  CHECK_EQ_INT(LEN("\x80"), 0);                 /* stray continuation bytes */
  CHECK_EQ_INT(LEN("\xbf"), 0);
  CHECK_EQ_INT(LEN("\x80\x80"), 0);
  /* A continuation byte missing in the middle. */
  CHECK_EQ_INT(LEN("\xc3\x28"), 0);
  CHECK_EQ_INT(LEN("\xe2\x28\xa1"), 0);
  CHECK_EQ_INT(LEN("\xe2\x82\x28"), 0);
  CHECK_EQ_INT(LEN("\xf0\x9f\x28\x82"), 0);
  CHECK_EQ_INT(LEN("\xf0\x9f\x99\x28"), 0);
  /* A valid sequence followed by more lead bytes is still only itself. */
  CHECK_EQ_INT(LEN("\xc3\xb8\xc3"), 2);
  /* `avail` is the limit, even when the bytes after it would complete it. */
  CHECK_EQ_INT(utf8_len("\xe2\x86\x92", 2), 0);
  CHECK_EQ_INT(utf8_len("\xf0\x9f\x99\x82", 3), 0);
  CHECK_EQ_INT(utf8_len("a", 0), 0);
  /* A NUL stops the look-ahead: no byte after it is read. */
  CHECK_EQ_INT(len_exact("\xe2\x00", 2), 0);
}

/* The rule as RFC 3629 states it, written the slow way (decode whatever
** the lead byte announces, then refuse what is too small, a surrogate or
** too large), as an oracle for utf8_len's byte ranges. */
static size_t ref_len(const unsigned char *p, size_t avail) {
  unsigned c = p[0];
  size_t n;
  uint32_t cp, min;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) n = 2, cp = c & 0x1f, min = 0x80;
  else if ((c & 0xf0) == 0xe0) n = 3, cp = c & 0x0f, min = 0x800;
  else if ((c & 0xf8) == 0xf0) n = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (avail < n) return 0;
  for (size_t k = 1; k < n; k++) {
    if ((p[k] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (p[k] & 0x3f);
  }
  return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : n;
}

/* Every code point round-trips through encode and decode. */
TEST(every_code_point_round_trips) {
  char u[4];
  for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    size_t n = utf8_encode(cp, u), m = 0;
    size_t want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    uint32_t back = decode_exact(u, n, &m);
    if (n != want || back != cp || m != n || utf8_len(u, n) != n) {
      check_fail(__FILE__, __LINE__, "U+%04X: %zu bytes, decoded as %X (%zu bytes)",
                 (unsigned)cp, n, (unsigned)back, m);
      return;
    }
  }
}

/* Every lead byte with every second and third byte, and the fourth from
** each class (ASCII, low and high continuation, lead), agrees with the
** oracle; so do all their prefixes. */
TEST(every_sequence_agrees_with_the_rfc) {
  static const unsigned char fourth[] = {0x00, 0x41, 0x80, 0x9f, 0xa0, 0xbf, 0xc3, 0xf0};
  for (unsigned b0 = 0; b0 <= 0xff; b0++) {
    for (unsigned b1 = 0; b1 <= 0xff; b1++) {
      for (unsigned b2 = 0; b2 <= 0xff; b2++) {
        for (size_t k = 0; k < sizeof fourth; k++) {
          unsigned char s[4] = {(unsigned char)b0, (unsigned char)b1, (unsigned char)b2,
                                fourth[k]};
          for (size_t avail = 1; avail <= 4; avail++) {
            size_t got = utf8_len((const char *)s, avail), want = ref_len(s, avail);
            if (got != want) {
              check_fail(__FILE__, __LINE__, "%02X %02X %02X %02X (avail %zu): %zu, expected %zu",
                         b0, b1, b2, fourth[k], avail, got, want);
              return;
            }
          }
          if (b0 < 0xf0) break; /* the fourth byte matters only after F0..F7 */
        }
        if (b0 < 0xe0) break; /* nor the third before E0 */
      }
      if (b0 < 0xc0) break; /* nor the second before C0 */
    }
  }
}

TEST(decode_gives_code_points) {
  static const struct {
    const char *bytes;
    uint32_t cp;
    size_t len;
  } cases[] = {
      {"A", 'A', 1}, {"\x7f", 0x7f, 1}, {"\xc2\x80", 0x80, 2}, {"\xdf\xbf", 0x7ff, 2},
      {"\xe0\xa0\x80", 0x800, 3}, {"\xef\xbf\xbf", 0xffff, 3},
      {"\xf0\x90\x80\x80", 0x10000, 4}, {"\xf4\x8f\xbf\xbf", 0x10ffff, 4},
      {"\xf0\x9f\x99\x82", 0x1f642, 4},
      /* A byte that starts no valid sequence is one invalid character. */
      {"\xe2\x82", UTF8_INVALID, 1}, {"\xed\xa0\x80", UTF8_INVALID, 1},
      {"\xf4\x90\x80\x80", UTF8_INVALID, 1}, {"\x80", UTF8_INVALID, 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = 0;
    uint32_t cp = decode_exact(cases[i].bytes, strlen(cases[i].bytes), &n);
    if (cp != cases[i].cp || n != cases[i].len)
      check_fail(__FILE__, __LINE__, "case %zu decodes to %X (%zu bytes), expected %X (%zu)", i,
                 (unsigned)cp, n, (unsigned)cases[i].cp, cases[i].len);
  }
  size_t n = 0;
  CHECK_EQ_INT(decode_exact("\0", 1, &n), 0); /* U+0000 is a character */
  CHECK_EQ_INT(n, 1);
}

TEST(encode_writes_shortest_form) {
  static const struct {
    uint32_t cp;
    const char *bytes;
  } cases[] = {
      {0x7f, "\x7f"}, {0x80, "\xc2\x80"}, {0x7ff, "\xdf\xbf"}, {0x800, "\xe0\xa0\x80"},
      {0xffff, "\xef\xbf\xbf"}, {0x10000, "\xf0\x90\x80\x80"},
      {0x10ffff, "\xf4\x8f\xbf\xbf"},
      /* No code point: U+FFFD, so the output is valid UTF-8 whatever comes in. */
      {0xd800, "\xef\xbf\xbd"}, {0xdbff, "\xef\xbf\xbd"}, {0xdc00, "\xef\xbf\xbd"},
      {0xdfff, "\xef\xbf\xbd"}, {0x110000, "\xef\xbf\xbd"}, {0xffffff, "\xef\xbf\xbd"},
      {UTF8_INVALID, "\xef\xbf\xbd"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char u[4] = {0};
    size_t n = utf8_encode(cases[i].cp, u);
    if (n != strlen(cases[i].bytes) || memcmp(u, cases[i].bytes, n) != 0)
      check_fail(__FILE__, __LINE__, "U+%04X encodes to %zu bytes %02X %02X %02X %02X",
                 (unsigned)cases[i].cp, n, (unsigned char)u[0], (unsigned char)u[1],
                 (unsigned char)u[2], (unsigned char)u[3]);
  }
}

TEST(put_appends_to_a_buf) {
  Buf b;
  buf_init(&b, 0);
  CHECK(utf8_put(&b, 'K'));
  CHECK(utf8_put(&b, 0xe6));     /* æ */
  CHECK(utf8_put(&b, 0x2192));   /* → */
  CHECK(utf8_put(&b, 0x1f642));  /* 🙂 */
  CHECK(utf8_put(&b, 0xdc00));   /* a lone surrogate: U+FFFD */
  CHECK_EQ_STR(buf_cstr(&b), "K\xc3\xa6\xe2\x86\x92\xf0\x9f\x99\x82\xef\xbf\xbd");
  buf_fini(&b);
  /* The Buf's bound refuses a character whole, never part of one. */
  buf_init(&b, 3);
  CHECK(utf8_put(&b, 'a'));
  CHECK(!utf8_put(&b, 0x2192));
  CHECK_EQ_INT(b.len, 1);
  buf_fini(&b);
}

TEST(first_invalid_and_valid) {
  CHECK_EQ_INT(utf8_first_invalid("", 0), 0);
  CHECK(utf8_valid("", 0));
  CHECK(utf8_valid("Kj\xc3\xa6r \xe2\x86\x92 \xf0\x9f\x99\x82", 14));
  /* Past the eight-byte ASCII steps, and at each position within them. */
  const char *ascii = "0123456789abcdefghijklmnopqrstuvwxyz";
  for (size_t at = 0; at < 30; at++) {
    char s[40];
    memcpy(s, ascii, 36);
    s[at] = (char)0x80;
    CHECK_EQ_INT(utf8_first_invalid(s, 36), at);
    CHECK(!utf8_valid(s, 36));
    s[at] = (char)0xc3, s[at + 1] = (char)0xb8; /* ø: valid */
    CHECK(utf8_valid(s, 36));
  }
  CHECK_EQ_INT(utf8_first_invalid("abc\xc3", 4), 3);            /* cut short at the end */
  CHECK_EQ_INT(utf8_first_invalid("ab\xc3\xb8\xc0\x80", 6), 4); /* overlong after ø */
  CHECK_EQ_INT(utf8_first_invalid("\xed\xa0\x80", 3), 0);       /* surrogate */
  CHECK_EQ_INT(utf8_first_invalid("abcdefgh\xf4\x90\x80\x80", 12), 8);
  /* A NUL is a character like any other. */
  CHECK(utf8_valid("a\0b", 3));
}

TEST(count_and_offset) {
  CHECK_EQ_INT(utf8_count("", 0), 0);
  CHECK_EQ_INT(utf8_count("Kj\xc3\xa6r", 5), 4); /* Kjær */
  CHECK_EQ_INT(utf8_count("\xf0\x9f\x99\x82\xe2\x86\x92", 7), 2);
  /* Each byte of a broken sequence is one character. */
  CHECK_EQ_INT(utf8_count("\xe2\x82", 2), 2);
  CHECK_EQ_INT(utf8_count("a\x80" "b", 3), 3);
  CHECK_EQ_INT(utf8_count("\xed\xa0\x80", 3), 3);
  CHECK_EQ_INT(utf8_offset("Kj\xc3\xa6r", 5, 0), 0);
  CHECK_EQ_INT(utf8_offset("Kj\xc3\xa6r", 5, 2), 2);
  CHECK_EQ_INT(utf8_offset("Kj\xc3\xa6r", 5, 3), 4);
  CHECK_EQ_INT(utf8_offset("Kj\xc3\xa6r", 5, 4), 5);
  CHECK_EQ_INT(utf8_offset("Kj\xc3\xa6r", 5, 99), 5);
  CHECK_EQ_INT(utf8_offset("\xe2\x82z", 3, 1), 1);
  CHECK_EQ_INT(utf8_offset("\xe2\x82z", 3, 2), 2);
  CHECK_EQ_INT(utf8_offset("\xf0\x9f\x99\x82z", 5, 1), 4);
  CHECK_EQ_INT(utf8_offset("", 0, 3), 0);
}

int main(void) {
  check_suite = "unit/utf8";
  RUN(boundaries_of_each_length);
  RUN(overlongs_are_invalid);
  RUN(surrogates_are_invalid);
  RUN(above_u10ffff_is_invalid);
  RUN(truncated_and_stray_bytes_are_invalid);
  RUN(every_code_point_round_trips);
  RUN(every_sequence_agrees_with_the_rfc);
  RUN(decode_gives_code_points);
  RUN(encode_writes_shortest_form);
  RUN(put_appends_to_a_buf);
  RUN(first_invalid_and_valid);
  RUN(count_and_offset);
  return check_done();
}
