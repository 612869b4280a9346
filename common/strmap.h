/*
** StrMap: an open-addressing hash map from byte strings to pointers.
**
** Used for symbol tables (compiler), schema lookups, and record field
** indexes (VM). Keys are Str views the map does NOT copy: the caller keeps
** the key bytes alive as long as the entry exists (typically they live in
** the same arena as the value). Insertion order is kept, so iterating a
** map is deterministic (diagnostics and emitted files must not depend on
** hash order).
*/
#ifndef IEX_COMMON_STRMAP_H
#define IEX_COMMON_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/str.h"

typedef struct StrMapEntry {
  Str key;      /* borrowed; see the file comment */
  void *value;  /* borrowed or owned as the user decides */
} StrMapEntry;

typedef struct StrMap {
  StrMapEntry *entries;  /* owned; insertion order */
  size_t n_entries;
  size_t cap_entries;
  uint32_t *slots;       /* owned; index+1 into entries, 0 = empty */
  size_t n_slots;        /* power of two, or 0 */
} StrMap;

void strmap_init(StrMap *m);
/* Free the map's own memory (not keys or values). */
void strmap_fini(StrMap *m);

/* The value stored for `key`, or NULL. */
void *strmap_get(const StrMap *m, Str key);
/* True if `key` is present (its value may be NULL). */
bool strmap_has(const StrMap *m, Str key);
/* Insert or replace. Returns the previous value or NULL. */
void *strmap_put(StrMap *m, Str key, void *value);

#define STRMAP_FOREACH(m, e) \
  for (StrMapEntry *e = (m)->entries; e < (m)->entries + (m)->n_entries; e++)

#endif /* IEX_COMMON_STRMAP_H */
