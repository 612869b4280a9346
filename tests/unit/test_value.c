/* Unit tests of runtime/value: layout, field lookup (hint, scan, index),
** builders, equality, ordering, hashing, type names, the debug printer and
** deep copies across arenas. */
#include "common/arena.h"
#include "common/buf.h"
#include "common/util.h"
#include "runtime/value.h"
#include "tests/lib/check.h"
#include "tests/unit/value_fixture.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

TEST(layout_and_inline_kinds) {
  CHECK_EQ_INT(sizeof(Value), 16);
  Value d = DEC("-1234.5678");
  CHECK_EQ_INT(value_kind(d), VAL_DECIMAL);
  CHECK_EQ_INT(value_as_decimal(d).coef, -12345678);
  CHECK_EQ_INT(value_as_decimal(d).scale, 4);
  Value dt = DT("2017-03-22T16:28:02.25");
  DateTime back = value_as_datetime(dt);
  CHECK_EQ_INT(back.usec, 250000);
  CHECK_EQ_INT(back.flags, DATETIME_NO_OFFSET);
  dt = DT("1969-12-31T23:59:59.5-09:30");
  back = value_as_datetime(dt);
  CHECK_EQ_INT(back.secs, -1 + 9 * 3600 + 1800);
  CHECK_EQ_INT(back.offset_min, -570);
  CHECK_EQ_INT(back.usec, 500000);
  CHECK_EQ_INT(value_int(INT64_MIN).as.i, INT64_MIN);
  Value s = S("hello");
  CHECK(str_eq_cstr(value_as_str(s), "hello"));
  CHECK(value_is_null(value_null()));
  Value copy;
  CHECK(value_string_copy(&A, STR_LIT("héllo"), &copy));
  CHECK(str_eq_cstr(value_as_str(copy), "héllo"));
  CHECK(copy.as.str != (const char *)"héllo");
}

/* A record of `n` fields "f0".."f{n-1}" with int values 0..n-1. */
static Value numbered_record(Arena *a, uint32_t n) {
  RecordBuilder b;
  record_builder_init(&b, a, n);
  for (uint32_t i = 0; i < n; i++) {
    char *k = arena_printf(a, "f%u", i);
    record_builder_add(&b, str_from_cstr(k), value_int(i));
  }
  return record_builder_finish(&b);
}

TEST(field_lookup_small_records_scan) {
  Value r = REC(3, "id", value_int(1), "name", S("#1001"), "total", DEC("19.99"));
  const Value *v = value_field(r, STR_LIT("name"), NULL);
  CHECK(v && str_eq_cstr(value_as_str(*v), "#1001"));
  CHECK(value_field(r, STR_LIT("nam"), NULL) == NULL);
  CHECK(value_field(r, STR_LIT("names"), NULL) == NULL);
  CHECK(value_field(r, STR_LIT(""), NULL) == NULL);
  CHECK(value_field(REC(0), STR_LIT("id"), NULL) == NULL);
  /* The hint: a slot per access site, updated on a hit. */
  uint32_t hint = 0;
  v = value_field(r, STR_LIT("total"), &hint);
  CHECK(v && v->kind == VAL_DECIMAL);
  CHECK_EQ_INT(hint, 2);
  /* Same shape, other record: found at the hinted position at once. */
  Value r2 = REC(3, "id", value_int(2), "name", S("#1002"), "total", DEC("5.00"));
  v = value_field(r2, STR_LIT("total"), &hint);
  CHECK(v && value_equal(*v, DEC("5")));
  CHECK_EQ_INT(hint, 2);
  /* A different shape: the hint is wrong, the lookup still right. */
  Value r3 = REC(2, "total", DEC("7"), "id", value_int(3));
  v = value_field(r3, STR_LIT("total"), &hint);
  CHECK(v && value_equal(*v, value_int(7)));
  CHECK_EQ_INT(hint, 0);
  /* A miss leaves the hint alone; a hint past the end is harmless. */
  CHECK(value_field(r3, STR_LIT("nothing"), &hint) == NULL);
  CHECK_EQ_INT(hint, 0);
  hint = 1000;
  CHECK(value_field(r3, STR_LIT("id"), &hint) != NULL);
  CHECK_EQ_INT(hint, 1);
  /* Repeated keys: the first wins. */
  Value dup = REC(3, "a", value_int(1), "b", value_int(2), "a", value_int(3));
  CHECK_EQ_INT(value_field(dup, STR_LIT("a"), NULL)->as.i, 1);
}

TEST(field_lookup_big_records_index) {
  Value r = numbered_record(&A, 200);
  CHECK(r.as.rec->index == NULL);
  /* A hint hit never builds the index. */
  uint32_t hint = 7;
  CHECK_EQ_INT(value_field(r, STR_LIT("f7"), &hint)->as.i, 7);
  CHECK(r.as.rec->index == NULL);
  /* The first miss does; every key is then found through it. */
  CHECK(value_field(r, STR_LIT("f150"), &hint) != NULL);
  CHECK(r.as.rec->index != NULL);
  for (uint32_t i = 0; i < 200; i++) {
    char key[16];
    snprintf(key, sizeof key, "f%u", i);
    const Value *v = value_field(r, str_from_cstr(key), &hint);
    if (!v || v->as.i != (int64_t)i) check_fail(__FILE__, __LINE__, "lookup of %s", key);
    CHECK_EQ_INT(hint, i);
  }
  CHECK(value_field(r, STR_LIT("f200"), NULL) == NULL);
  CHECK(value_field(r, STR_LIT("f"), NULL) == NULL);
  /* Repeated keys through the index: the first, as a scan would give. */
  RecordBuilder b;
  record_builder_init(&b, &A, 0);
  for (int i = 0; i < 40; i++) record_builder_add(&b, i % 2 ? STR_LIT("odd") : STR_LIT("even"), value_int(i));
  Value dup = record_builder_finish(&b);
  CHECK_EQ_INT(value_field(dup, STR_LIT("odd"), NULL)->as.i, 1);
  CHECK_EQ_INT(value_field(dup, STR_LIT("even"), NULL)->as.i, 0);
  CHECK(dup.as.rec->index != NULL);
}

TEST(field_lookup_when_the_arena_refuses_an_index) {
  Arena small;
  arena_init(&small);
  Value r = numbered_record(&small, 40);
  arena_set_limit(&small, small.used_bytes); /* not one more byte */
  CHECK_EQ_INT(value_field(r, STR_LIT("f39"), NULL)->as.i, 39);
  CHECK(r.as.rec->index == NULL);
  CHECK(small.exhausted);
  CHECK(value_field(r, STR_LIT("f40"), NULL) == NULL);
  arena_fini(&small);
}

TEST(builders_grow_and_fail_softly) {
  ListBuilder lb;
  list_builder_init(&lb, &A, 0);
  for (int i = 0; i < 1000; i++) CHECK_FATAL(list_builder_push(&lb, value_int(i)));
  Value l = list_builder_finish(&lb);
  CHECK_EQ_INT(l.len, 1000);
  for (uint32_t i = 0; i < l.len; i++)
    if (l.as.items[i].as.i != (int64_t)i) check_fail(__FILE__, __LINE__, "item %u", i);
  /* An exact hint: the storage never moves. */
  list_builder_init(&lb, &A, 3);
  const Value *first = lb.items;
  for (int i = 0; i < 3; i++) list_builder_push(&lb, value_int(i));
  CHECK(list_builder_finish(&lb).as.items == first);
  list_builder_init(&lb, &A, 0);
  CHECK_EQ_INT(list_builder_finish(&lb).len, 0);

  RecordBuilder rb;
  record_builder_init(&rb, &A, 2);
  Record *rec0 = rb.rec;
  record_builder_add(&rb, STR_LIT("a"), value_int(1));
  record_builder_add(&rb, STR_LIT("b"), value_int(2));
  CHECK(rb.rec == rec0);
  record_builder_add(&rb, STR_LIT("c"), value_int(3)); /* grows */
  Value r = record_builder_finish(&rb);
  CHECK_EQ_INT(r.len, 3);
  CHECK_EQ_STR(DEBUG(r), "{\"a\": 1, \"b\": 2, \"c\": 3}");

  /* An arena limit makes builders fail, not crash. */
  Arena small;
  arena_init(&small);
  arena_set_limit(&small, 1024);
  list_builder_init(&lb, &small, 0);
  int pushed = 0;
  while (list_builder_push(&lb, value_int(pushed))) pushed++;
  CHECK(lb.failed);
  CHECK(pushed > 0 && pushed < 64);
  CHECK(!list_builder_push(&lb, value_int(0)));
  CHECK_EQ_INT(list_builder_finish(&lb).len, pushed);
  arena_reset(&small);
  record_builder_init(&rb, &small, 1000); /* 32 KB: over the limit */
  CHECK(rb.failed);
  CHECK(!record_builder_add(&rb, STR_LIT("a"), value_null()));
  CHECK_EQ_INT(record_builder_finish(&rb).len, 0);
  arena_fini(&small);
}

TEST(equality) {
  CHECK(value_equal(value_int(1), DEC("1.0")));
  CHECK(value_equal(DEC("1.0"), DEC("1.00")));
  CHECK(value_equal(DEC("1.00"), value_int(1)));
  CHECK(value_equal(DEC("-0.50"), DEC("-0.5")));
  CHECK(!value_equal(DEC("1.01"), value_int(1)));
  CHECK(!value_equal(value_int(1), S("1")));
  CHECK(!value_equal(value_int(1), value_bool(true)));
  CHECK(!value_equal(value_null(), value_bool(false)));
  CHECK(!value_equal(value_null(), S("")));
  CHECK(value_equal(value_null(), value_null()));
  CHECK(value_equal(value_int(INT64_MAX), value_int(INT64_MAX)));
  CHECK(!value_equal(value_int(INT64_MAX), DEC("999999999999999999")));
  /* Datetimes by instant; dates are not datetimes. */
  CHECK(value_equal(DT("2024-03-01T10:15:00+01:00"), DT("2024-03-01T09:15:00Z")));
  CHECK(!value_equal(DT("2024-03-01T10:15:00+01:00"), DT("2024-03-01T10:15:00Z")));
  CHECK(!value_equal(DAY("2024-03-01"), DT("2024-03-01T00:00:00Z")));
  CHECK(value_equal(DAY("2024-03-01"), DAY("2024-03-01")));
  /* Strings by bytes, including NULs. */
  CHECK(value_equal(value_string("a\0b", 3), value_string("a\0b", 3)));
  CHECK(!value_equal(value_string("a\0b", 3), value_string("a\0c", 3)));
  CHECK(!value_equal(S("a"), S("ab")));
  /* Numtext by its text. */
  CHECK(value_equal(value_numtext("1e400", 5), value_numtext("1e400", 5)));
  CHECK(!value_equal(value_numtext("1e400", 5), value_numtext("1E400", 5)));
  CHECK(!value_equal(value_numtext("1e400", 5), S("1e400")));
  /* Deep, with numbers compared by value inside. */
  Value a = REC(2, "lines", LIST(2, DEC("1.50"), value_int(2)), "n", value_null());
  Value b = REC(2, "lines", LIST(2, DEC("1.5"), DEC("2.00")), "n", value_null());
  CHECK(value_equal(a, b));
  CHECK(!value_equal(a, REC(2, "n", value_null(), "lines", LIST(2, DEC("1.5"), value_int(2)))));
  CHECK(!value_equal(a, REC(1, "lines", LIST(2, DEC("1.5"), value_int(2)))));
  CHECK(!value_equal(LIST(1, value_int(1)), LIST(2, value_int(1), value_int(1))));
  CHECK(!value_equal(LIST(0), REC(0)));
}

TEST(ordering_and_hashing) {
  /* Ascending, one value per step, across and within kinds. */
  Value order[] = {
      value_null(),
      value_bool(false),
      value_bool(true),
      value_int(INT64_MIN),
      DEC("-999999999999999999"),
      DEC("-0.000000000000000001"),
      value_int(0),
      DEC("0.5"),
      value_int(1),
      DEC("1.00000000000000001"),
      DEC("999999999999999999"),
      value_int(INT64_MAX),
      value_numtext("1e400", 5),
      S(""),
      S("Z"),
      S("a"),
      S("ab"),
      S("z"),
      S("\xc3\xa5"), /* å sorts after z by code point */
      DAY("1969-12-31"),
      DAY("2024-03-01"),
      DT("2024-03-01T10:00:00+02:00"),
      DT("2024-03-01T09:00:00.000001Z"),
      LIST(0),
      LIST(1, value_int(1)),
      LIST(2, value_int(1), value_int(0)),
      LIST(1, value_int(2)),
      REC(0),
      REC(1, "a", value_int(1)),
      REC(1, "a", value_int(2)),
      REC(1, "b", value_int(0)),
  };
  size_t n = ARRAY_LEN(order);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < n; j++) {
      int want = (i > j) - (i < j);
      int got = value_compare(order[i], order[j]);
      if (got != want)
        check_fail(__FILE__, __LINE__, "compare(%s, ...) = %d, expected %d (items %zu, %zu)",
                   DEBUG(order[i]), got, want, i, j);
      if (value_equal(order[i], order[j]) != (i == j))
        check_fail(__FILE__, __LINE__, "equal(items %zu, %zu) disagrees with compare", i, j);
    }
  }
  /* Equal values compare 0 and hash alike. */
  Value same[][2] = {
      {value_int(1), DEC("1.000")},
      {DEC("10"), DEC("10.0")},
      {DEC("-2.50"), DEC("-2.5")},
      {DT("2024-03-01T10:15:00+01:00"), DT("2024-03-01T09:15:00Z")},
      {LIST(2, value_int(3), DEC("0.10")), LIST(2, DEC("3.0"), DEC("0.1"))},
      {REC(1, "x", value_int(5)), REC(1, "x", DEC("5.00"))},
  };
  for (size_t i = 0; i < ARRAY_LEN(same); i++) {
    CHECK_EQ_INT(value_compare(same[i][0], same[i][1]), 0);
    CHECK(value_hash(same[i][0]) == value_hash(same[i][1]));
  }
  CHECK(value_hash(value_int(1)) != value_hash(value_int(2)));
  CHECK(value_hash(S("a")) != value_hash(S("b")));
  CHECK(value_hash(value_int(INT64_MAX)) != value_hash(value_int(INT64_MAX - 1)));
}

TEST(type_names) {
  char buf[64];
  CHECK_EQ_STR(value_type_name(DEC("1.5"), buf, sizeof buf), "decimal");
  CHECK_EQ_STR(value_type_name(value_int(1), buf, sizeof buf), "int");
  CHECK_EQ_STR(value_type_name(value_null(), buf, sizeof buf), "null");
  CHECK_EQ_STR(value_type_name(S("x"), buf, sizeof buf), "string");
  CHECK_EQ_STR(value_type_name(REC(0), buf, sizeof buf), "record");
  CHECK_EQ_STR(value_type_name(DAY("2024-01-01"), buf, sizeof buf), "date");
  CHECK_EQ_STR(value_type_name(DT("2024-01-01T00:00Z"), buf, sizeof buf), "datetime");
  CHECK_EQ_STR(value_type_name(value_numtext("1e400", 5), buf, sizeof buf), "number too long for a decimal");
  CHECK_EQ_STR(value_type_name(LIST(0), buf, sizeof buf), "empty list");
  CHECK_EQ_STR(value_type_name(LIST(2, S("a"), S("b")), buf, sizeof buf), "list of string");
  CHECK_EQ_STR(value_type_name(LIST(2, value_int(1), DEC("1.5")), buf, sizeof buf), "list of decimal");
  CHECK_EQ_STR(value_type_name(LIST(2, DEC("1.5"), value_int(1)), buf, sizeof buf), "list of decimal");
  CHECK_EQ_STR(value_type_name(LIST(2, value_int(1), value_int(2)), buf, sizeof buf), "list of int");
  CHECK_EQ_STR(value_type_name(LIST(2, value_int(1), S("2")), buf, sizeof buf), "list of mixed values");
  CHECK_EQ_STR(value_type_name(LIST(1, LIST(1, value_int(1))), buf, sizeof buf), "list of list of int");
  CHECK_EQ_STR(value_type_name(LIST(2, REC(0), REC(1, "a", value_null())), buf, sizeof buf), "list of record");
  /* Truncated to the buffer, still NUL-terminated. */
  char tiny[8];
  CHECK_EQ_STR(value_type_name(LIST(1, S("x")), tiny, sizeof tiny), "list of");
  CHECK_EQ_STR(value_kind_name(VAL_NUMTEXT), "number");
  CHECK_EQ_STR(value_kind_name(VAL_DECIMAL), "decimal");
}

TEST(debug_printer) {
  Value v = REC(10, "n", value_null(), "b", value_bool(true), "i", value_int(-7), "d", DEC("19.90"),
                "d0", DEC("7"), "s", value_string("a\"b\\\n\0", 6), "big", value_numtext("1e400", 5),
                "day", DAY("2024-03-01"), "at", DT("2024-03-01T10:15:00+01:00"),
                "l", LIST(2, LIST(0), REC(0)));
  CHECK_EQ_STR(DEBUG(v),
               "{\"n\": null, \"b\": true, \"i\": -7, \"d\": 19.90, \"d0\": decimal(7), "
               "\"s\": \"a\\\"b\\\\\\u000a\\u0000\", \"big\": numtext(1e400), \"day\": date(2024-03-01), "
               "\"at\": datetime(2024-03-01T10:15:00+01:00), \"l\": [[], {}]}");
}

TEST(copy_outlives_the_source_arena) {
  Arena src, dst;
  arena_init(&src);
  arena_init(&dst);
  RecordBuilder b;
  record_builder_init(&b, &src, 0);
  char *key = arena_strndup(&src, "customer", 8);
  char *name = arena_strndup(&src, "Søren", 6);
  record_builder_add(&b, str_from_cstr(key), value_string(name, 6));
  record_builder_add(&b, STR_LIT("lines"), value_list(NULL, 0));
  Value original = record_builder_finish(&b);
  Value copy;
  CHECK_FATAL(value_copy(&dst, original, &copy));
  CHECK(value_equal(original, copy));
  CHECK(value_field(copy, STR_LIT("customer"), NULL)->as.str != name);
  /* The source arena goes away (in the test build its memory is freed,
  ** so AddressSanitizer would see any pointer left into it). */
  arena_fini(&src);
  CHECK_EQ_STR(DEBUG(copy), "{\"customer\": \"Søren\", \"lines\": []}");
  /* A limit on the target arena is reported, not a crash. */
  Arena tiny;
  arena_init(&tiny);
  arena_set_limit(&tiny, 16);
  CHECK(!value_copy(&tiny, copy, &original));
  arena_fini(&tiny);
  arena_fini(&dst);
}

int main(void) {
  check_suite = "unit/value";
  arena_init(&A);
  RUN(layout_and_inline_kinds);
  RUN(field_lookup_small_records_scan);
  RUN(field_lookup_big_records_index);
  RUN(field_lookup_when_the_arena_refuses_an_index);
  RUN(builders_grow_and_fail_softly);
  RUN(equality);
  RUN(ordering_and_hashing);
  RUN(type_names);
  RUN(debug_printer);
  RUN(copy_outlives_the_source_arena);
  arena_fini(&A);
  return check_done();
}
