/*
** Arena implementation. Release builds carve objects out of large chunks;
** IEX_DEBUG builds give every object its own chunk so ASan can see
** overflows (see arena.h).
*/
#include "common/arena.h"

#include "common/util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ArenaChunk {
  ArenaChunk *next;
  size_t size;           /* usable bytes after the header */
  max_align_t data[];    /* aligned storage */
};

struct ArenaCleanup {
  ArenaCleanup *next;
  void (*fn)(void *data);
  void *data;
};

/* Large enough that a typical record's values fit in one chunk. */
#define CHUNK_BYTES ((size_t)64 * 1024)
#define ALIGN ((size_t)_Alignof(max_align_t))

void arena_init(Arena *a) { memset(a, 0, sizeof *a); }

static void run_cleanups(Arena *a) {
  /* A cleanup may not allocate from the arena it belongs to. */
  ArenaCleanup *c = a->cleanups;
  a->cleanups = NULL;
  while (c) {
    ArenaCleanup *next = c->next;
    c->fn(c->data);
    free(c);
    c = next;
  }
}

static void free_chunks(ArenaChunk *c) {
  while (c) {
    ArenaChunk *next = c->next;
    free(c);
    c = next;
  }
}

void arena_fini(Arena *a) {
  run_cleanups(a);
  free_chunks(a->chunks);
  free_chunks(a->spare);
  arena_init(a);
}

void arena_reset(Arena *a) {
  run_cleanups(a);
  size_t limit = a->limit_bytes;
#ifdef IEX_DEBUG
  free_chunks(a->chunks);
  free_chunks(a->spare);
  arena_init(a);
#else
  /* Keep the largest chunk, free the rest. */
  ArenaChunk *keep = NULL;
  ArenaChunk *all[2] = {a->chunks, a->spare};
  for (int i = 0; i < 2; i++) {
    ArenaChunk *c = all[i];
    while (c) {
      ArenaChunk *next = c->next;
      if (!keep || c->size > keep->size) {
        free(keep);
        keep = c;
      } else {
        free(c);
      }
      c = next;
    }
  }
  arena_init(a);
  if (keep) keep->next = NULL;
  a->spare = keep;
#endif
  a->limit_bytes = limit;
}

void arena_set_limit(Arena *a, size_t limit_bytes) { a->limit_bytes = limit_bytes; }

static ArenaChunk *new_chunk(size_t size) {
  ArenaChunk *c = xmalloc(sizeof *c + size);
  c->size = size;
  c->next = NULL;
  return c;
}

void *arena_alloc(Arena *a, size_t size) {
  size_t rounded = (size + ALIGN - 1) & ~(ALIGN - 1);
  if (rounded < size) iex_fatal("arena allocation size overflow");
  if (a->limit_bytes && a->used_bytes + rounded > a->limit_bytes) {
    a->exhausted = true;
    return NULL;
  }
  a->used_bytes += rounded;
#ifdef IEX_DEBUG
  ArenaChunk *c = new_chunk(size ? size : 1);
  c->next = a->chunks;
  a->chunks = c;
  return c->data;
#else
  if ((size_t)(a->end - a->cur) < rounded || !a->cur) {
    ArenaChunk *c;
    if (a->spare && a->spare->size >= rounded) {
      c = a->spare;
      a->spare = c->next;
    } else {
      c = new_chunk(rounded > CHUNK_BYTES / 4 ? rounded : CHUNK_BYTES);
    }
    c->next = a->chunks;
    a->chunks = c;
    /* An oversized object gets its own chunk; keep bumping in the old one
    ** would be better, but the old chunk's tail is small by construction. */
    a->cur = (char *)c->data;
    a->end = a->cur + c->size;
  }
  void *p = a->cur;
  a->cur += rounded;
  return p;
#endif
}

void *arena_zalloc(Arena *a, size_t size) {
  void *p = arena_alloc(a, size);
  if (p) memset(p, 0, size);
  return p;
}

char *arena_strndup(Arena *a, const char *s, size_t len) {
  char *d = arena_alloc(a, len + 1);
  if (!d) return NULL;
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

Str arena_str(Arena *a, Str s) {
  char *d = arena_strndup(a, s.ptr, s.len);
  return d ? str_make(d, s.len) : str_make("", 0);
}

char *arena_printf(Arena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *d = arena_alloc(a, (size_t)n + 1);
  if (!d) return NULL;
  va_start(ap, fmt);
  vsnprintf(d, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return d;
}

void arena_on_free(Arena *a, void (*fn)(void *data), void *data) {
  /* Cleanup records are malloc'd, not arena memory, so they survive a
  ** limit being hit and never count against it. */
  ArenaCleanup *c = xmalloc(sizeof *c);
  c->fn = fn;
  c->data = data;
  c->next = a->cleanups;
  a->cleanups = c;
}
