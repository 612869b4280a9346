/*
** Str: a length-counted view of bytes that owns nothing.
**
** Every struct that holds a Str says in a field comment who owns the bytes.
** A Str is not NUL-terminated unless stated. Use `const char *` for
** NUL-terminated strings and Str for views, so the type tells which it is.
*/
#ifndef IEX_COMMON_STR_H
#define IEX_COMMON_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct Str {
  const char *ptr; /* first byte; owned by whoever made the view */
  size_t len;      /* number of bytes */
} Str;

/* A Str of a string literal, computed at compile time. */
#define STR_LIT(s) ((Str){(s), sizeof(s) - 1})
/* printf support: printf("%.*s", STR_FMT(s)) */
#define STR_FMT(s) (int)(s).len, (s).ptr

static inline Str str_make(const char *ptr, size_t len) { return (Str){ptr, len}; }
static inline Str str_from_cstr(const char *s) { return (Str){s, strlen(s)}; }

static inline bool str_eq(Str a, Str b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}
static inline bool str_eq_cstr(Str a, const char *b) {
  return str_eq(a, str_from_cstr(b));
}
static inline bool str_starts_with(Str s, Str prefix) {
  return s.len >= prefix.len && memcmp(s.ptr, prefix.ptr, prefix.len) == 0;
}

/* Levenshtein edit distance between `a` and `b`, capped: returns `limit`+1
** as soon as the distance is known to exceed `limit`. Used for "did you
** mean" hints. */
size_t str_edit_distance(Str a, Str b, size_t limit);

#endif /* IEX_COMMON_STR_H */
