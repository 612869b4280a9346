/*
** The base layer shared by iexc and iex: allocation that cannot fail
** silently, small macros, and whole-file reading.
**
** Out of memory is not recovered from in C code: the runtime is built to
** recover from crashes (transfers are reconciled on restart), so xmalloc()
** prints one message and aborts, which keeps the crash path the tested one.
** Memory is bounded by bounding inputs instead (see Buf and Arena limits).
*/
#ifndef IEX_COMMON_UTIL_H
#define IEX_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define IEX_MIN(a, b) ((a) < (b) ? (a) : (b))
#define IEX_MAX(a, b) ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define IEX_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define IEX_NORETURN __attribute__((noreturn))
#else
#define IEX_PRINTF(fmt, args)
#define IEX_NORETURN
#endif

/* Allocate `n` bytes; never returns NULL (aborts with a message instead).
** The caller owns the memory and releases it with free(). */
void *xmalloc(size_t n);
/* Like xmalloc() for `count` zeroed elements of `size` bytes; checks the
** multiplication for overflow. */
void *xcalloc(size_t count, size_t size);
/* Resize `p` (which may be NULL) to `n` bytes; never returns NULL. */
void *xrealloc(void *p, size_t n);
/* Copy a NUL-terminated string / `len` bytes of `s` plus a NUL. Caller frees. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);

/* Print "iex: fatal: <message>" to stderr and abort(). For broken
** invariants and exhausted memory only, never for bad input. */
IEX_NORETURN void iex_fatal(const char *fmt, ...) IEX_PRINTF(1, 2);

/* Read the whole file at `path` into a new NUL-terminated buffer.
** On success returns the buffer (caller frees) and stores its length in
** `*len_out` (the NUL is not counted). Files larger than `max_bytes` are
** refused. On failure returns NULL and writes a human-readable reason
** ("No such file or directory", "larger than 64 MiB") into `err`. */
char *read_file(const char *path, size_t max_bytes, size_t *len_out,
                char *err, size_t err_size);

/* Grow a dynamic array: ensures `*cap` >= `need` elements of `elem_size`,
** reallocating `*ptr` geometrically. Returns the (possibly moved) array. */
void *grow_array(void *ptr, size_t *cap, size_t need, size_t elem_size);

/* Append one element to a dynamic array made of (ptr, n, cap) fields.
** Example: VEC_PUSH(p->items, p->n_items, p->cap_items, item); */
#define VEC_PUSH(ptr, n, cap, value)                                       \
  do {                                                                     \
    if ((n) >= (cap)) (ptr) = grow_array((ptr), &(cap), (n) + 1, sizeof *(ptr)); \
    (ptr)[(n)++] = (value);                                                \
  } while (0)

/* FNV-1a hash of `len` bytes. Stable across runs (used in file formats). */
uint64_t hash_bytes(const void *data, size_t len);

#endif /* IEX_COMMON_UTIL_H */
