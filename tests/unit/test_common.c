/* Unit tests of the base layer: Arena, Buf, StrMap, edit distance. */
#include "common/arena.h"
#include "common/buf.h"
#include "common/strmap.h"
#include "common/util.h"
#include "tests/lib/check.h"

#include <stdlib.h>

TEST(arena_allocates_aligned_and_zeroed) {
  Arena a;
  arena_init(&a);
  for (int i = 1; i < 2000; i++) {
    char *p = arena_zalloc(&a, (size_t)i);
    CHECK_FATAL(p != NULL);
    CHECK(((uintptr_t)p % _Alignof(max_align_t)) == 0);
    CHECK(p[i - 1] == 0);
    p[i - 1] = 'x';
  }
  arena_fini(&a);
}

TEST(arena_limit_fails_softly) {
  Arena a;
  arena_init(&a);
  arena_set_limit(&a, 1000);
  CHECK(arena_alloc(&a, 500) != NULL);
  CHECK(!a.exhausted);
  CHECK(arena_alloc(&a, 600) == NULL);
  CHECK(a.exhausted);
  arena_reset(&a);
  CHECK(!a.exhausted);
  CHECK(arena_alloc(&a, 600) != NULL);
  arena_fini(&a);
}

static int cleanup_calls;
static void count_cleanup(void *data) { cleanup_calls += *(int *)data; }

TEST(arena_runs_cleanups_on_reset_and_fini) {
  Arena a;
  arena_init(&a);
  int one = 1, ten = 10;
  cleanup_calls = 0;
  arena_on_free(&a, count_cleanup, &one);
  arena_reset(&a);
  CHECK_EQ_INT(cleanup_calls, 1);
  arena_on_free(&a, count_cleanup, &ten);
  arena_fini(&a);
  CHECK_EQ_INT(cleanup_calls, 11);
}

TEST(arena_printf_and_strdup) {
  Arena a;
  arena_init(&a);
  CHECK_EQ_STR(arena_printf(&a, "%s-%d", "x", 42), "x-42");
  Str s = arena_str(&a, STR_LIT("hello"));
  CHECK(str_eq_cstr(s, "hello"));
  CHECK(s.ptr[5] == '\0');
  arena_fini(&a);
}

TEST(buf_bounds_are_enforced) {
  Buf b;
  buf_init(&b, 10);
  CHECK(buf_puts(&b, "12345"));
  CHECK(buf_printf(&b, "%d", 6789));
  CHECK_EQ_INT(b.len, 9);
  CHECK(!buf_puts(&b, "ab"));
  CHECK(!buf_ok(&b));
  CHECK_EQ_STR(buf_cstr(&b), "123456789");
  buf_reset(&b);
  CHECK(buf_ok(&b));
  CHECK_EQ_STR(buf_cstr(&b), "");
  char *taken = (buf_puts(&b, "abc"), buf_take(&b));
  CHECK_EQ_STR(taken, "abc");
  free(taken);
  buf_fini(&b);
}

TEST(strmap_keeps_insertion_order) {
  StrMap m;
  strmap_init(&m);
  static const char *keys[] = {"zeta", "alpha", "mid", "beta"};
  char names[300][8];
  for (size_t i = 0; i < 300; i++) {
    snprintf(names[i], sizeof names[i], "k%zu", i);
    strmap_put(&m, str_from_cstr(names[i]), (void *)(uintptr_t)(i + 1));
  }
  for (size_t i = 0; i < ARRAY_LEN(keys); i++) strmap_put(&m, str_from_cstr(keys[i]), (void *)keys[i]);
  CHECK(strmap_get(&m, STR_LIT("k299")) == (void *)(uintptr_t)300);
  CHECK(strmap_get(&m, STR_LIT("alpha")) == keys[1]);
  CHECK(strmap_get(&m, STR_LIT("missing")) == NULL);
  CHECK(!strmap_has(&m, STR_LIT("missing")));
  CHECK(strmap_put(&m, STR_LIT("mid"), NULL) == keys[2]);
  CHECK(strmap_has(&m, STR_LIT("mid")));
  CHECK_EQ_INT(m.n_entries, 304);
  CHECK(str_eq_cstr(m.entries[300].key, "zeta"));
  strmap_fini(&m);
}

TEST(edit_distance_for_hints) {
  CHECK_EQ_INT(str_edit_distance(STR_LIT("line_itmes"), STR_LIT("line_items"), 3), 2);
  CHECK_EQ_INT(str_edit_distance(STR_LIT("email"), STR_LIT("email"), 3), 0);
  CHECK_EQ_INT(str_edit_distance(STR_LIT("a"), STR_LIT("abcdefgh"), 2), 3);
}

int main(void) {
  check_suite = "unit/common";
  RUN(arena_allocates_aligned_and_zeroed);
  RUN(arena_limit_fails_softly);
  RUN(arena_runs_cleanups_on_reset_and_fini);
  RUN(arena_printf_and_strdup);
  RUN(buf_bounds_are_enforced);
  RUN(strmap_keeps_insertion_order);
  RUN(edit_distance_for_hints);
  return check_done();
}
