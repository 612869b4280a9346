/*
** List functions (stdlib.def, "Lists"). `for` and `where` in the language
** already map and filter; these are the rest.
**
** Key functions arrive as a list of keys, one per element (stdlib.h), so
** find/any/all get a list of bools and sort/group a list of keys. A null
** list counts as empty: a missing field (`order.refunds`) has no elements.
** Grouping and de-duplication hash with value_hash()/value_equal(), so
** they take linear time; sorting is a stable merge sort, O(n log n).
*/
#include <inttypes.h>
#include <string.h>

#include "stdlib/std_int.h"

bool std_count(StdCall *call, Value *out) {
  const Value *items;
  uint32_t n;
  if (!std_arg_list(call, 0, "values", &items, &n)) return false;
  *out = value_int(n);
  return true;
}

bool std_first(StdCall *call, Value *out) {
  const Value *items;
  uint32_t n;
  if (!std_arg_list(call, 0, "values", &items, &n)) return false;
  *out = n ? items[0] : value_null();
  return true;
}

bool std_last(StdCall *call, Value *out) {
  const Value *items;
  uint32_t n;
  if (!std_arg_list(call, 0, "values", &items, &n)) return false;
  *out = n ? items[n - 1] : value_null();
  return true;
}

/* The values and their condition results, checked to be bools. */
static bool conditions(StdCall *call, const Value **items, uint32_t *n, const Value **keys) {
  if (!std_arg_list(call, 0, "values", items, n)) return false;
  if (!std_arg_keys(call, 1, *n, keys)) return false;
  for (uint32_t i = 0; i < *n; i++) {
    if (value_kind((*keys)[i]) != VAL_BOOL) {
      char shown[STD_SHOW_SIZE];
      return std_fail(call, "the condition gave %s for element %" PRIu32 ", not true or false",
                      std_show((*keys)[i], shown), i + 1);
    }
  }
  return true;
}

bool std_find(StdCall *call, Value *out) {
  const Value *items, *keys;
  uint32_t n;
  if (!conditions(call, &items, &n, &keys)) return false;
  *out = value_null();
  for (uint32_t i = 0; i < n; i++) {
    if (keys[i].as.b) return *out = items[i], true;
  }
  return true;
}

bool std_any(StdCall *call, Value *out) {
  const Value *items, *keys;
  uint32_t n;
  if (!conditions(call, &items, &n, &keys)) return false;
  bool r = false;
  for (uint32_t i = 0; i < n && !r; i++) r = keys[i].as.b;
  *out = value_bool(r);
  return true;
}

bool std_all(StdCall *call, Value *out) {
  const Value *items, *keys;
  uint32_t n;
  if (!conditions(call, &items, &n, &keys)) return false;
  bool r = true;
  for (uint32_t i = 0; i < n && r; i++) r = keys[i].as.b;
  *out = value_bool(r);
  return true;
}

/* ---- sort --------------------------------------------------------------- */

/* Merge the runs idx[lo..mid) and idx[mid..hi) through tmp. Taking from
** the left run on ties is what makes the sort stable. */
static void merge(uint32_t *idx, uint32_t *tmp, uint32_t lo, uint32_t mid, uint32_t hi,
                  const Value *keys, int sign) {
  uint32_t a = lo, b = mid, o = lo;
  while (a < mid && b < hi) {
    if (value_compare(keys[idx[b]], keys[idx[a]]) * sign < 0) tmp[o++] = idx[b++];
    else tmp[o++] = idx[a++];
  }
  while (a < mid) tmp[o++] = idx[a++];
  while (b < hi) tmp[o++] = idx[b++];
  memcpy(idx + lo, tmp + lo, (size_t)(hi - lo) * sizeof *idx);
}

bool std_sort(StdCall *call, Value *out) {
  const Value *items, *keys;
  uint32_t n;
  if (!std_arg_list(call, 0, "values", &items, &n)) return false;
  if (!std_arg_keys(call, 1, n, &keys)) return false;
  Value desc = call->args[2];
  if (value_kind(desc) != VAL_BOOL) {
    char shown[STD_SHOW_SIZE];
    return std_fail(call, "`descending` must be true or false, not %s", std_show(desc, shown));
  }
  int sign = desc.as.b ? -1 : 1;
  if (n < 2) return *out = call->args[0].kind == VAL_NULL ? value_list(NULL, 0) : call->args[0], true;
  uint32_t *idx = arena_alloc(call->arena, (size_t)n * sizeof *idx);
  uint32_t *tmp = arena_alloc(call->arena, (size_t)n * sizeof *tmp);
  Value *sorted = arena_alloc(call->arena, (size_t)n * sizeof *sorted);
  if (!idx || !tmp || !sorted) return std_fail_memory(call);
  for (uint32_t i = 0; i < n; i++) idx[i] = i;
  /* Bottom-up: runs of 1, 2, 4, ... (no recursion, so no depth limit). */
  for (uint64_t width = 1; width < n; width *= 2) {
    for (uint64_t lo = 0; lo + width < n; lo += 2 * width) {
      uint64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
      merge(idx, tmp, (uint32_t)lo, (uint32_t)(lo + width), (uint32_t)hi, keys, sign);
    }
  }
  for (uint32_t i = 0; i < n; i++) sorted[i] = items[idx[i]];
  *out = value_list(sorted, n);
  return true;
}

/* ---- Hashing: distinct keys in order of first appearance -------------------- */

/* For each of the n keys, the number (0-based) of its distinct value in
** order of first appearance, in `ids`; the count of distinct values in
** `*n_distinct` and the position of each one's first occurrence in
** `first`. All in the call's arena. */
static bool distinct(StdCall *call, const Value *keys, uint32_t n, uint32_t **ids,
                     uint32_t **first, uint32_t *n_distinct) {
  size_t n_slots = 16;
  while (n_slots < (size_t)n * 2) n_slots *= 2;
  uint32_t *slots = arena_zalloc(call->arena, n_slots * sizeof *slots); /* id + 1 */
  *ids = arena_alloc(call->arena, ((size_t)n + 1) * sizeof **ids);
  *first = arena_alloc(call->arena, ((size_t)n + 1) * sizeof **first);
  if (!slots || !*ids || !*first) return std_fail_memory(call);
  uint32_t count = 0;
  for (uint32_t i = 0; i < n; i++) {
    size_t s = (size_t)value_hash(keys[i]) & (n_slots - 1);
    while (slots[s] && !value_equal(keys[(*first)[slots[s] - 1]], keys[i]))
      s = (s + 1) & (n_slots - 1);
    if (!slots[s]) {
      (*first)[count] = i;
      slots[s] = ++count;
    }
    (*ids)[i] = slots[s] - 1;
  }
  *n_distinct = count;
  return true;
}

bool std_unique(StdCall *call, Value *out) {
  const Value *items;
  uint32_t n, *ids, *first, count;
  if (!std_arg_list(call, 0, "values", &items, &n)) return false;
  if (!distinct(call, items, n, &ids, &first, &count)) return false;
  if (count == n) return *out = n ? call->args[0] : value_list(NULL, 0), true;
  Value *r = arena_alloc(call->arena, (size_t)count * sizeof *r);
  if (!r) return std_fail_memory(call);
  for (uint32_t g = 0; g < count; g++) r[g] = items[first[g]];
  *out = value_list(r, count);
  return true;
}

bool std_group(StdCall *call, Value *out) {
  const Value *items, *keys;
  uint32_t n, *ids, *first, count;
  if (!std_arg_list(call, 0, "values", &items, &n)) return false;
  if (!std_arg_keys(call, 1, n, &keys)) return false;
  if (!distinct(call, keys, n, &ids, &first, &count)) return false;
  /* Sizes, then each group's slice of one array of all the values. */
  uint32_t *start = arena_zalloc(call->arena, ((size_t)count + 1) * sizeof *start);
  Value *all = arena_alloc(call->arena, ((size_t)n + 1) * sizeof *all);
  Value *groups = arena_alloc(call->arena, ((size_t)count + 1) * sizeof *groups);
  if (!start || !all || !groups) return std_fail_memory(call);
  for (uint32_t i = 0; i < n; i++) start[ids[i] + 1]++;
  for (uint32_t g = 0; g < count; g++) start[g + 1] += start[g];
  for (uint32_t g = 0; g < count; g++) {
    Record *rec = record_new(call->arena, 2);
    if (!rec) return std_fail_memory(call);
    rec->fields[0].key = STR_LIT("key");
    rec->fields[0].value = keys[first[g]];
    rec->fields[1].key = STR_LIT("items");
    rec->fields[1].value = value_list(all + start[g], 0); /* length set below */
    groups[g] = value_record(rec);
  }
  for (uint32_t i = 0; i < n; i++) {
    Value *list = &groups[ids[i]].as.rec->fields[1].value;
    all[start[ids[i]] + list->len++] = items[i];
  }
  *out = value_list(groups, count);
  return true;
}

/* ---- flatten, compact ---------------------------------------------------------- */

bool std_flatten(StdCall *call, Value *out) {
  const Value *items;
  uint32_t n;
  if (!std_arg_list(call, 0, "values", &items, &n)) return false;
  uint64_t total = 0;
  for (uint32_t i = 0; i < n; i++) {
    Value v = items[i];
    if (value_kind(v) == VAL_LIST) {
      total += v.len;
    } else if (!value_is_null(v)) {
      char shown[STD_SHOW_SIZE];
      return std_fail(call, "element %" PRIu32 " is %s, not a list", i + 1, std_show(v, shown));
    }
  }
  if (total > VALUE_MAX_LEN) return std_fail(call, "the result would have more than 2^32 - 1 elements");
  Value *r = arena_alloc(call->arena, ((size_t)total + 1) * sizeof *r);
  if (!r) return std_fail_memory(call);
  size_t o = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (value_kind(items[i]) != VAL_LIST) continue;
    if (items[i].len) memcpy(r + o, items[i].as.items, (size_t)items[i].len * sizeof *r);
    o += items[i].len;
  }
  *out = value_list(r, o);
  return true;
}

bool std_compact(StdCall *call, Value *out) {
  const Value *items;
  uint32_t n;
  if (!std_arg_list(call, 0, "values", &items, &n)) return false;
  Value *r = arena_alloc(call->arena, ((size_t)n + 1) * sizeof *r);
  if (!r) return std_fail_memory(call);
  uint32_t o = 0;
  for (uint32_t i = 0; i < n; i++) {
    Value v = items[i];
    if (value_is_null(v) || (value_kind(v) == VAL_STRING && v.len == 0)) continue;
    r[o++] = v;
  }
  *out = value_list(r, o);
  return true;
}
