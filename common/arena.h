/*
** Arena: a bump allocator for objects that all die together.
**
** The compiler keeps tokens' text, AST nodes, types and IR in one arena per
** compilation; the VM keeps every value of one transfer's evaluation in one
** arena (see runtime/value.h). Nothing in an arena is freed one by one, so
** code that builds arena objects needs no cleanup on error paths.
**
** Invariants:
** - Pointers into an arena must never be stored in anything that outlives
**   it (the .iexb writer's output, the store, a Lua state that lives on).
** - Objects that hold outside resources register a cleanup with
**   arena_on_free(); it runs when the arena is reset or finalised.
** - An arena may carry a byte limit; arena_alloc() past it fails softly
**   (returns NULL and sets `exhausted`), because the limit bounds what a
**   flow may allocate for one record, which is input, not an invariant.
**
** In the test build (IEX_DEBUG) every allocation is a separate malloc() so
** AddressSanitizer sees overflows between neighbouring objects.
*/
#ifndef IEX_COMMON_ARENA_H
#define IEX_COMMON_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include "common/str.h"

typedef struct ArenaChunk ArenaChunk;
typedef struct ArenaCleanup ArenaCleanup;

typedef struct Arena {
  ArenaChunk *chunks;      /* owned; newest first; in IEX_DEBUG one per object */
  ArenaChunk *spare;       /* owned; chunks kept by arena_reset() for reuse */
  char *cur;               /* next free byte in chunks (release build) */
  char *end;               /* end of the current chunk (release build) */
  ArenaCleanup *cleanups;  /* owned; run newest first by reset/fini */
  size_t used_bytes;       /* bytes handed out since init or last reset */
  size_t limit_bytes;      /* 0 = unlimited; see arena_set_limit() */
  bool exhausted;          /* set when an allocation hit limit_bytes */
} Arena;

/* Prepare `a` for use. It holds no memory until the first allocation. */
void arena_init(Arena *a);
/* Release every object and run every registered cleanup. `a` may be
** initialised again afterwards. */
void arena_fini(Arena *a);
/* Like arena_fini() but keeps one chunk of memory for reuse, so that a
** loop allocating about the same amount per iteration stops calling
** malloc(). Used by the VM between records. */
void arena_reset(Arena *a);

/* Cap the bytes arena_alloc() may hand out until the next reset (0: no cap). */
void arena_set_limit(Arena *a, size_t limit_bytes);

/* Return `size` bytes aligned for any type, owned by the arena. Returns
** NULL only when a limit is set and would be exceeded (then `exhausted` is
** true); without a limit it never fails. The memory is not zeroed. */
void *arena_alloc(Arena *a, size_t size);
/* Like arena_alloc() but zeroed. */
void *arena_zalloc(Arena *a, size_t size);
/* Copy `len` bytes of `s` into the arena and NUL-terminate the copy. */
char *arena_strndup(Arena *a, const char *s, size_t len);
/* Copy a Str into the arena; the result's bytes are NUL-terminated. */
Str arena_str(Arena *a, Str s);
/* printf into a new NUL-terminated arena string. */
char *arena_printf(Arena *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Run `fn(data)` when `a` is reset or finalised. Cleanups run newest
** first. For outside resources owned by arena objects (a jansson value, a
** Lua state used while checking). */
void arena_on_free(Arena *a, void (*fn)(void *data), void *data);

/* Allocate one object / an array of `n` objects of a type, zeroed. */
#define ARENA_NEW(a, type) ((type *)arena_zalloc((a), sizeof(type)))
#define ARENA_NEW_ARRAY(a, type, n) ((type *)arena_zalloc((a), sizeof(type) * (n)))

#endif /* IEX_COMMON_ARENA_H */
