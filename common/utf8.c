/*
** UTF-8 over whole texts (see utf8.h; the per-character functions are
** inline there).
*/
#include "common/utf8.h"

#include <string.h>

size_t utf8_first_invalid(const char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    /* Most text is ASCII: step over it eight bytes at a time. */
    if (len - i >= 8) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if ((w & 0x8080808080808080u) == 0) {
        i += 8;
        continue;
      }
    }
    size_t n = utf8_len(s + i, len - i);
    if (n == 0) return i;
    i += n;
  }
  return len;
}

size_t utf8_count(const char *s, size_t len) {
  size_t count = 0;
  for (size_t i = 0; i < len; count++) {
    size_t n = utf8_len(s + i, len - i);
    i += n ? n : 1;
  }
  return count;
}

size_t utf8_offset(const char *s, size_t len, size_t index) {
  size_t i = 0;
  for (size_t k = 0; k < index && i < len; k++) {
    size_t n = utf8_len(s + i, len - i);
    i += n ? n : 1;
  }
  return i;
}
