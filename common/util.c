/*
** Allocation wrappers, fatal errors, whole-file reading and hashing.
** See util.h for the out-of-memory policy.
*/
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void iex_fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("iex: fatal: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) iex_fatal("out of memory allocating %zu bytes", n);
  return p;
}

void *xcalloc(size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) iex_fatal("allocation size overflow");
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (!p) iex_fatal("out of memory allocating %zu x %zu bytes", count, size);
  return p;
}

void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) iex_fatal("out of memory reallocating to %zu bytes", n);
  return q;
}

char *xstrndup(const char *s, size_t len) {
  char *d = xmalloc(len + 1);
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

void *grow_array(void *ptr, size_t *cap, size_t need, size_t elem_size) {
  if (need <= *cap) return ptr;
  size_t new_cap = *cap ? *cap : 8;
  while (new_cap < need) {
    if (new_cap > SIZE_MAX / 2 / elem_size) iex_fatal("array too large");
    new_cap *= 2;
  }
  *cap = new_cap;
  return xrealloc(ptr, new_cap * elem_size);
}

char *read_file(const char *path, size_t max_bytes, size_t *len_out,
                char *err, size_t err_size) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  if (!f) {
    snprintf(err, err_size, "%s", strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(err, err_size, "is a directory");
    goto fail;
  }
  size_t cap = 4096, len = 0;
  buf = xmalloc(cap);
  for (;;) {
    if (len + 1 >= cap) {
      if (cap > max_bytes) break;
      cap *= 2;
      buf = xrealloc(buf, cap);
    }
    size_t got = fread(buf + len, 1, cap - len - 1, f);
    len += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    snprintf(err, err_size, "read error: %s", strerror(errno));
    goto fail;
  }
  if (len > max_bytes) {
    snprintf(err, err_size, "larger than the limit of %zu bytes", max_bytes);
    goto fail;
  }
  fclose(f);
  buf[len] = '\0';
  *len_out = len;
  return buf;
fail:
  free(buf);
  fclose(f);
  return NULL;
}

uint64_t hash_bytes(const void *data, size_t len) {
  const unsigned char *p = data;
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}
