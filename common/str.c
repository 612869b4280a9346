/*
** Helpers on Str views. Only what needs more than an inline function.
*/
#include "common/str.h"

#include "common/util.h"

#include <stdlib.h>

size_t str_edit_distance(Str a, Str b, size_t limit) {
  /* Two-row dynamic programme; names in flows are short, so the rows live
  ** on the stack up to 64 characters and on the heap beyond. */
  if (a.len > b.len + limit || b.len > a.len + limit) return limit + 1;
  size_t stack_rows[2 * 65];
  size_t *prev = stack_rows, *cur = stack_rows + 65;
  size_t *heap = NULL;
  if (b.len + 1 > 65) {
    heap = xmalloc(2 * (b.len + 1) * sizeof *heap);
    prev = heap;
    cur = heap + b.len + 1;
  }
  for (size_t j = 0; j <= b.len; j++) prev[j] = j;
  size_t result;
  for (size_t i = 1; i <= a.len; i++) {
    cur[0] = i;
    size_t row_min = cur[0];
    for (size_t j = 1; j <= b.len; j++) {
      char ca = a.ptr[i - 1], cb = b.ptr[j - 1];
      /* Case differences cost nothing extra: `Email` vs `email` is a typo
      ** worth suggesting at distance 1, same as a wrong letter. */
      size_t cost = (ca == cb) ? 0 : 1;
      size_t best = prev[j - 1] + cost;
      if (prev[j] + 1 < best) best = prev[j] + 1;
      if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
      cur[j] = best;
      if (best < row_min) row_min = best;
    }
    if (row_min > limit) {
      result = limit + 1;
      goto done;
    }
    size_t *t = prev;
    prev = cur;
    cur = t;
  }
  result = prev[b.len] > limit ? limit + 1 : prev[b.len];
done:
  free(heap);
  return result;
}
