/*
** StrMap: linear probing over a slot array that indexes an insertion-ordered
** entry array (the layout CPython's dict uses), so iteration is ordered and
** lookups touch one small array.
*/
#include "common/strmap.h"

#include "common/util.h"

#include <stdlib.h>
#include <string.h>

void strmap_init(StrMap *m) { memset(m, 0, sizeof *m); }

void strmap_fini(StrMap *m) {
  free(m->entries);
  free(m->slots);
  strmap_init(m);
}

static size_t find_slot(const StrMap *m, Str key, uint64_t h) {
  size_t mask = m->n_slots - 1;
  size_t i = (size_t)h & mask;
  for (;;) {
    uint32_t s = m->slots[i];
    if (s == 0 || str_eq(m->entries[s - 1].key, key)) return i;
    i = (i + 1) & mask;
  }
}

void *strmap_get(const StrMap *m, Str key) {
  if (!m->n_slots) return NULL;
  uint32_t s = m->slots[find_slot(m, key, hash_bytes(key.ptr, key.len))];
  return s ? m->entries[s - 1].value : NULL;
}

bool strmap_has(const StrMap *m, Str key) {
  if (!m->n_slots) return false;
  return m->slots[find_slot(m, key, hash_bytes(key.ptr, key.len))] != 0;
}

static void rehash(StrMap *m, size_t n_slots) {
  free(m->slots);
  m->slots = xcalloc(n_slots, sizeof *m->slots);
  m->n_slots = n_slots;
  for (size_t e = 0; e < m->n_entries; e++) {
    Str k = m->entries[e].key;
    m->slots[find_slot(m, k, hash_bytes(k.ptr, k.len))] = (uint32_t)(e + 1);
  }
}

void *strmap_put(StrMap *m, Str key, void *value) {
  if ((m->n_entries + 1) * 2 > m->n_slots) rehash(m, m->n_slots ? m->n_slots * 2 : 16);
  size_t i = find_slot(m, key, hash_bytes(key.ptr, key.len));
  uint32_t s = m->slots[i];
  if (s) {
    void *old = m->entries[s - 1].value;
    m->entries[s - 1].value = value;
    return old;
  }
  if (m->n_entries >= UINT32_MAX - 1) iex_fatal("StrMap too large");
  StrMapEntry e = {key, value};
  VEC_PUSH(m->entries, m->n_entries, m->cap_entries, e);
  m->slots[i] = (uint32_t)m->n_entries;
  return NULL;
}
