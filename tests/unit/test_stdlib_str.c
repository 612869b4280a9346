/* Unit tests of the stdlib's string functions (stdlib/str.c): UTF-8
** counting, case mapping, null handling, limits and error messages. */
#include "tests/unit/test_stdlib.h"

#include <stdlib.h>

TEST(trim_and_nonempty) {
  CHECK_EQ_STR(R(STD_trim, 1, S("  Mette \t\n")), "\"Mette\"");
  CHECK_EQ_STR(R(STD_trim, 1, S("\xC2\xA0Kj\xC3\xA6r\xE2\x80\x83")), "\"Kj\xC3\xA6r\""); /* NBSP, em space */
  CHECK_EQ_STR(R(STD_trim, 1, S("   ")), "\"\"");
  CHECK_EQ_STR(R(STD_trim, 1, S("")), "\"\"");
  CHECK_EQ_STR(R(STD_trim, 1, S("a b")), "\"a b\"");
  CHECK_EQ_STR(R(STD_trim, 1, N()), "null");
  CHECK_EQ_STR(R(STD_trim, 1, I(5)), "error: `text` must be a string, not int 5");
  CHECK_EQ_STR(R(STD_nonempty, 1, S(" \t")), "null");
  CHECK_EQ_STR(R(STD_nonempty, 1, S("")), "null");
  CHECK_EQ_STR(R(STD_nonempty, 1, N()), "null");
  CHECK_EQ_STR(R(STD_nonempty, 1, S(" ApS ")), "\" ApS \""); /* kept as it is */
}

TEST(case_mapping) {
  CHECK_EQ_STR(R(STD_upper, 1, S("mette kj\xC3\xA6r")), "\"METTE KJ\xC3\x86R\"");
  CHECK_EQ_STR(R(STD_upper, 1, S("stra\xC3\x9F" "e")), "\"STRASSE\"");
  CHECK_EQ_STR(R(STD_upper, 1, S("łódź")), "\"ŁÓDŹ\"");
  CHECK_EQ_STR(R(STD_upper, 1, S("\xC3\xBF")), "\"\xC5\xB8\"");                     /* ÿ -> Ÿ */
  CHECK_EQ_STR(R(STD_upper, 1, S("\xD0\xBC\xD0\xB8\xD1\x80")), "\"\xD0\x9C\xD0\x98\xD0\xA0\""); /* мир */
  CHECK_EQ_STR(R(STD_upper, 1, S("\xCE\xB1\xCE\xAC\xCF\x82")), "\"\xCE\x91\xCE\x86\xCE\xA3\""); /* αάς */
  CHECK_EQ_STR(R(STD_upper, 1, S("\xC8\x99\xC8\x9B")), "\"\xC8\x98\xC8\x9A\""); /* ș ț */
  CHECK_EQ_STR(R(STD_lower, 1, S("\xC3\x98RESUND \xC3\x85")), "\"\xC3\xB8resund \xC3\xA5\"");
  CHECK_EQ_STR(R(STD_lower, 1, S("\xC4\xB0" "I")), "\"ii\"");
  CHECK_EQ_STR(R(STD_lower, 1, S("\xD0\x81\xD0\x96")), "\"\xD1\x91\xD0\xB6\""); /* Ё Ж */
  /* Σ at the end of a word is ς, elsewhere σ. */
  CHECK_EQ_STR(R(STD_lower, 1, S("\xCE\x9F\xCE\xA3\xCE\x9F\xCE\xA3 \xCE\xA3")),
               "\"\xCE\xBF\xCF\x83\xCE\xBF\xCF\x82 \xCF\x83\"");
  CHECK_EQ_STR(R(STD_capitalize, 1, S("mette KJ\xC3\x86R-hansen o'brien")),
               "\"Mette Kj\xC3\xA6r-Hansen O'brien\"");
  CHECK_EQ_STR(R(STD_capitalize, 1, S("  æbler")), "\"  Æbler\"");
  CHECK_EQ_STR(R(STD_capitalize, 1, S("3rd street")), "\"3rd Street\"");
  CHECK_EQ_STR(R(STD_upper, 1, S("\xFF" "a\xC3")), "\"\xFF" "A\xC3\""); /* bad bytes pass */
  CHECK_EQ_STR(R(STD_upper, 1, S("\xE4\xB8\xAD" "x")), "\"\xE4\xB8\xAD" "X\"");
  CHECK_EQ_STR(R(STD_lower, 1, N()), "null");
  CHECK_EQ_STR(R(STD_capitalize, 1, B(true)), "error: `text` must be a string, not bool true");
}

TEST(length_counts_characters) {
  CHECK_EQ_STR(R(STD_length, 1, S("Kj\xC3\xA6r")), "4");
  CHECK_EQ_STR(R(STD_length, 1, S("\xF0\x9F\x98\x80")), "1");
  CHECK_EQ_STR(R(STD_length, 1, S("")), "0");
  CHECK_EQ_STR(R(STD_length, 1, S("\xFF\xFE")), "2"); /* invalid bytes: one each */
  CHECK_EQ_STR(R(STD_length, 1, LIST(3, I(1), N(), S("x"))), "3");
  CHECK_EQ_STR(R(STD_length, 1, N()), "0");
  CHECK_EQ_STR(R(STD_length, 1, DEC("1.5")), "error: length() needs a string or a list, not 1.5");
}

TEST(substring_and_truncate) {
  CHECK_EQ_STR(R(STD_substring, 3, S("N\xC3\xB8rrebrogade"), I(1), I(3)), "\"\xC3\xB8rr\"");
  CHECK_EQ_STR(R(STD_substring, 3, S("abc"), I(1), N()), "\"bc\"");
  CHECK_EQ_STR(R(STD_substring, 3, S("abc"), I(3), N()), "\"\"");
  CHECK_EQ_STR(R(STD_substring, 3, S("abc"), I(INT64_MAX), I(INT64_MAX)), "\"\"");
  CHECK_EQ_STR(R(STD_substring, 3, S("abc"), I(0), I(0)), "\"\"");
  CHECK_EQ_STR(R(STD_substring, 3, S("abc"), I(-1), N()), "error: `start` is -1, which is negative");
  CHECK_EQ_STR(R(STD_substring, 3, S("abc"), I(0), I(INT64_MIN)),
               "error: `length` is -9223372036854775808, which is negative");
  CHECK_EQ_STR(R(STD_substring, 3, N(), I(0), N()), "null");
  CHECK_EQ_STR(R(STD_substring, 3, S("abc"), DEC("1.5"), N()),
               "error: `start` must be an integer, not decimal 1.5");
  CHECK_EQ_STR(R(STD_truncate, 2, S("Kj\xC3\xA6r"), I(3)), "\"Kj\xC3\xA6\"");
  CHECK_EQ_STR(R(STD_truncate, 2, S("Kj\xC3\xA6r"), I(10)), "\"Kj\xC3\xA6r\"");
  CHECK_EQ_STR(R(STD_truncate, 2, S("abc"), I(0)), "\"\"");
  CHECK_EQ_STR(R(STD_truncate, 2, N(), I(3)), "null");
  CHECK_EQ_STR(R(STD_truncate, 2, S("abc"), I(-2)), "error: `max` is -2, which is negative");
}

TEST(split_join_replace) {
  CHECK_EQ_STR(R(STD_split, 2, S("a, b,,c"), S(",")), "[\"a\", \" b\", \"\", \"c\"]");
  CHECK_EQ_STR(R(STD_split, 2, S("a--b--"), S("--")), "[\"a\", \"b\", \"\"]");
  CHECK_EQ_STR(R(STD_split, 2, S("abc"), S("x")), "[\"abc\"]");
  CHECK_EQ_STR(R(STD_split, 2, S("\xC3\xA6\xC3\xB8"), S("")), "[\"\xC3\xA6\", \"\xC3\xB8\"]");
  CHECK_EQ_STR(R(STD_split, 2, S(""), S(",")), "[]");
  CHECK_EQ_STR(R(STD_split, 2, N(), S(",")), "[]");
  CHECK_EQ_STR(R(STD_split, 2, S("a"), N()), "error: `separator` must be a string, not null");
  CHECK_EQ_STR(R(STD_join, 2, LIST(4, S("Mette"), N(), S(""), S("Kj\xC3\xA6r")), S(" ")),
               "\"Mette Kj\xC3\xA6r\"");
  CHECK_EQ_STR(R(STD_join, 2, LIST(0), S(",")), "\"\"");
  CHECK_EQ_STR(R(STD_join, 2, N(), S(",")), "\"\"");
  CHECK_EQ_STR(R(STD_join, 2, LIST(3, DEC("19.0"), I(7), DAY("2025-03-14")), S(" + ")),
               "\"19.0 + 7 + 2025-03-14\"");
  CHECK_EQ_STR(R(STD_join, 2, LIST(2, S("a"), LIST(0)), S(",")),
               "error: part 2 is an empty list, not a string");
  CHECK_EQ_STR(R(STD_replace, 3, S("a-b-c"), S("-"), S("--")), "\"a--b--c\"");
  CHECK_EQ_STR(R(STD_replace, 3, S("aaa"), S("aa"), S("b")), "\"ba\"");
  CHECK_EQ_STR(R(STD_replace, 3, S("abc"), S("x"), S("y")), "\"abc\"");
  CHECK_EQ_STR(R(STD_replace, 3, N(), S("x"), S("y")), "null");
  CHECK_EQ_STR(R(STD_replace, 3, S("abc"), S(""), S("y")),
               "error: `find` is the empty string, which occurs everywhere");
}

TEST(replace_and_join_are_bounded) {
  /* 64 KiB of "a", each replaced by 512 bytes: 32 MiB > the 16 MiB limit. */
  size_t n = (size_t)1 << 16;
  char *big = malloc(n), with[513];
  memset(big, 'a', n);
  memset(with, 'w', 512);
  with[512] = 0;
  CHECK_EQ_STR(R(STD_replace, 3, value_string(big, n), S("a"), S(with)),
               "error: the result would be longer than the limit of 16 MiB");
  Value parts[300];
  for (int i = 0; i < 300; i++) parts[i] = value_string(big, n);
  CHECK_EQ_STR(R(STD_join, 2, value_list(parts, 300), S("")),
               "error: the result would be longer than the limit of 16 MiB");
  free(big);
}

TEST(contains_starts_ends) {
  CHECK_EQ_STR(R(STD_contains, 2, S("gift_card"), S("card")), "true");
  CHECK_EQ_STR(R(STD_contains, 2, S("gift"), S("card")), "false");
  CHECK_EQ_STR(R(STD_contains, 2, S("x"), S("")), "true");
  CHECK_EQ_STR(R(STD_contains, 2, N(), S("x")), "false");
  CHECK_EQ_STR(R(STD_starts_with, 2, S("020417"), S("0")), "true");
  CHECK_EQ_STR(R(STD_starts_with, 2, S("20417"), S("0")), "false");
  CHECK_EQ_STR(R(STD_starts_with, 2, S(""), S("0")), "false");
  CHECK_EQ_STR(R(STD_starts_with, 2, N(), S("0")), "false");
  CHECK_EQ_STR(R(STD_ends_with, 2, S("SOCK-DE"), S("-DE")), "true");
  CHECK_EQ_STR(R(STD_ends_with, 2, S("DE"), S("-DE")), "false");
  CHECK_EQ_STR(R(STD_ends_with, 2, S("x"), I(1)), "error: `suffix` must be a string, not int 1");
}

TEST(padding) {
  CHECK_EQ_STR(R(STD_pad_left, 3, S("42"), I(5), S("0")), "\"00042\"");
  CHECK_EQ_STR(R(STD_pad_left, 3, S("x"), I(5), S("ab")), "\"ababx\"");
  CHECK_EQ_STR(R(STD_pad_right, 3, S("\xC3\xA6"), I(3), S("\xC3\xB8")), "\"\xC3\xA6\xC3\xB8\xC3\xB8\"");
  CHECK_EQ_STR(R(STD_pad_right, 3, S("abc"), I(2), S(" ")), "\"abc\"");
  CHECK_EQ_STR(R(STD_pad_left, 3, N(), I(2), S(" ")), "null");
  CHECK_EQ_STR(R(STD_pad_left, 3, S("a"), I(-1), S(" ")), "error: `width` is -1, which is negative");
  CHECK_EQ_STR(R(STD_pad_left, 3, S("a"), I(INT64_MAX), S(" ")),
               "error: `width` is 9223372036854775807, more than the limit of 1000000 characters");
  CHECK_EQ_STR(R(STD_pad_left, 3, S("a"), I(5), S("")),
               "error: `fill` is the empty string, which cannot pad");
  /* At the limit with a long fill: bounded by the 16 MiB result limit. */
  char fill[64];
  memset(fill, 'f', 63);
  fill[63] = 0;
  Value args[3] = {S("a"), I(1000000), S(fill)}, out;
  StdCall call = {&A, args, 3, ROUNDING, NOW, TZ, &ERR};
  CHECK_FATAL(std_pad_left(&call, &out));
  CHECK_EQ_INT(out.len, 1000000);
  CHECK(memcmp(out.as.str + 999999 - 63, fill, 63) == 0 && out.as.str[999999] == 'a');
}

TEST(digits_and_string) {
  CHECK_EQ_STR(R(STD_digits, 1, S("+45 12 34-56 78")), "\"4512345678\"");
  CHECK_EQ_STR(R(STD_digits, 1, S("DK-38112244")), "\"38112244\"");
  CHECK_EQ_STR(R(STD_digits, 1, S("abc")), "\"\"");
  CHECK_EQ_STR(R(STD_digits, 1, N()), "null");
  CHECK_EQ_STR(R(STD_string, 1, DEC("1.50")), "\"1.50\"");
  CHECK_EQ_STR(R(STD_string, 1, I(-7)), "\"-7\"");
  CHECK_EQ_STR(R(STD_string, 1, I(INT64_MIN)), "\"-9223372036854775808\"");
  CHECK_EQ_STR(R(STD_string, 1, B(false)), "\"false\"");
  CHECK_EQ_STR(R(STD_string, 1, DAY("2025-03-14")), "\"2025-03-14\"");
  CHECK_EQ_STR(R(STD_string, 1, DT("2024-03-01T10:15:00+01:00")), "\"2024-03-01T10:15:00+01:00\"");
  CHECK_EQ_STR(R(STD_string, 1, N()), "null");
  CHECK_EQ_STR(R(STD_string, 1, S("x")), "\"x\"");
  CHECK_EQ_STR(R(STD_string, 1, REC(2, "a", I(1), "b", LIST(1, S("x")))), "\"{\\\"a\\\":1,\\\"b\\\":[\\\"x\\\"]}\"");
  CHECK_EQ_STR(R(STD_string, 1, LIST(1, S("\xFF"))), "error: the value holds text that is not valid UTF-8");
}

TEST(format_number) {
  CHECK_EQ_STR(R(STD_format_number, 4, DEC("1234.5"), I(2), S(","), S(".")), "\"1.234,50\"");
  /* half_up sends a tie towards +infinity, also for negative numbers. */
  CHECK_EQ_STR(R(STD_format_number, 4, DEC("-1234567.125"), I(2), S("."), S(",")), "\"-1,234,567.12\"");
  CHECK_EQ_STR(R(STD_format_number, 4, DEC("1234567.125"), I(2), S("."), S(",")), "\"1,234,567.13\"");
  CHECK_EQ_STR(R(STD_format_number, 4, DEC("19"), I(1), S("."), S("")), "\"19.0\"");
  CHECK_EQ_STR(R(STD_format_number, 4, DEC("0.16"), I(0), S("."), S("")), "\"0\"");
  CHECK_EQ_STR(R(STD_format_number, 4, DEC("999.5"), I(0), S("."), S(" ")), "\"1 000\"");
  CHECK_EQ_STR(R(STD_format_number, 4, DEC("-0.001"), I(2), S("."), S("")), "\"0.00\"");
  CHECK_EQ_STR(R(STD_format_number, 4, I(INT64_MAX), I(2), S("."), S("")),
               "error: `value` is 9223372036854775807, which has more than 18 digits");
  ROUNDING = ROUND_HALF_EVEN;
  CHECK_EQ_STR(R(STD_format_number, 4, DEC("2.345"), I(2), S("."), S("")), "\"2.34\"");
  ROUNDING = ROUND_HALF_UP;
  CHECK_EQ_STR(R(STD_format_number, 4, DEC("2.345"), I(2), S("."), S("")), "\"2.35\"");
  CHECK_EQ_STR(R(STD_format_number, 4, N(), I(2), S("."), S("")), "null");
  CHECK_EQ_STR(R(STD_format_number, 4, DEC("1"), I(19), S("."), S("")),
               "error: `decimals` is 19, not in 0..18");
  CHECK_EQ_STR(R(STD_format_number, 4, DEC("1"), I(-1), S("."), S("")),
               "error: `decimals` is -1, not in 0..18");
  CHECK_EQ_STR(R(STD_format_number, 4, S("12"), I(2), S("."), S("")),
               "error: `value` must be a number, not string `12`");
}

TEST(format_fills_placeholders) {
  Value order = REC(3, "number", S("#1001"), "total", DEC("516.10"), "note", N());
  CHECK_EQ_STR(R(STD_format, 2, S("Ordre {number}: {total} DKK"), order), "\"Ordre #1001: 516.10 DKK\"");
  CHECK_EQ_STR(R(STD_format, 2, S("{ number }{note}|{{x}}"), order), "\"#1001|{x}\"");
  CHECK_EQ_STR(R(STD_format, 2, S("no placeholders"), N()), "\"no placeholders\"");
  CHECK_EQ_STR(R(STD_format, 2, N(), order), "null");
  CHECK_EQ_STR(R(STD_format, 2, S("Ordre {nummer}"), order),
               "error: template `Ordre {nummer}` has the placeholder `{nummer}`, which `values` has no field for");
  CHECK_EQ_STR(R(STD_format, 2, S("Ordre {number"), order),
               "error: template `Ordre {number` has a `{` without `}` (write `{{` for a brace)");
  CHECK_EQ_STR(R(STD_format, 2, S("a } b"), order),
               "error: template `a } b` has a `}` without `{` (write `}}` for a brace)");
  CHECK_EQ_STR(R(STD_format, 2, S("{x}"), LIST(0)), "error: `values` must be a record, not an empty list");
}

TEST(messages_quote_values_safely) {
  /* Long values are cut, control characters do not break the line. */
  CHECK_EQ_STR(R(STD_decimal, 1, S("line one\nline two is much longer than forty characters")),
               "error: `line one?line two is much longer than fo\xE2\x80\xA6` is not a number: "
               "expected a digit");
}

/* Random bytes (valid and broken UTF-8) through every string function:
** answers, never crashes (ASan and UBSan watch), and lengths agree with
** the characters counted. */
TEST(random_text_never_crashes) {
  static const char *pieces[] = {"a", "Z", " ", "\xC3\x86", "\xCE\xA3", "\xC3\x9F", "\xFF", "\xE2\x82",
                                 "\xF0\x9F\x98\x80", "-", "'", "\xC2\xA0", "\xC3"};
  uint64_t seed = 99;
  char text[96];
  for (int round = 0; round < 1000; round++) {
    size_t len = 0;
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    int n = (int)((seed >> 33) % 12);
    for (int i = 0; i < n; i++) {
      seed = seed * 6364136223846793005u + 1442695040888963407u;
      const char *p = pieces[(seed >> 33) % (sizeof pieces / sizeof *pieces)];
      memcpy(text + len, p, strlen(p));
      len += strlen(p);
    }
    Value t = value_string(text, len);
    int64_t k = (int64_t)((seed >> 40) % 8);
    const char *r[] = {R(STD_upper, 1, t), R(STD_lower, 1, t), R(STD_capitalize, 1, t),
                       R(STD_trim, 1, t), R(STD_substring, 3, t, I(k), I(k)),
                       R(STD_truncate, 2, t, I(k)), R(STD_pad_left, 3, t, I(k + 4), S("\xC3\xA6")),
                       R(STD_split, 2, t, S("\xC3")), R(STD_replace, 3, t, S("a"), S("\xCE\xA3")),
                       R(STD_digits, 1, t), R(STD_nonempty, 1, t)};
    for (size_t i = 0; i < sizeof r / sizeof *r; i++) {
      if (strncmp(r[i], "bug", 3) == 0 || strncmp(r[i], "error", 5) == 0)
        check_fail(__FILE__, __LINE__, "round %d, function %zu: %s", round, i, r[i]);
    }
    if (round % 500 == 0) arena_reset(&A);
  }
}

TEST(memory_limit_is_an_error) {
  Arena small;
  arena_init(&small);
  arena_set_limit(&small, 64);
  Value items[100], keys[100], out;
  for (int i = 0; i < 100; i++) items[i] = I(i), keys[i] = I(100 - i);
  Value args[3] = {value_list(items, 100), value_list(keys, 100), B(false)};
  StdCall call = {&small, args, 3, ROUNDING, NOW, TZ, &ERR};
  CHECK(!std_sort(&call, &out));
  CHECK_EQ_STR(buf_cstr(&ERR), "the memory limit of one record is reached");
  char text[200];
  memset(text, 'a', sizeof text);
  Value sargs[1] = {value_string(text, sizeof text)};
  call.args = sargs;
  call.argc = 1;
  CHECK(!std_upper(&call, &out));
  CHECK_EQ_STR(buf_cstr(&ERR), "the memory limit of one record is reached");
  arena_fini(&small);
}

int main(void) {
  check_suite = "unit/stdlib_str";
  stdlib_test_init();
  RUN(trim_and_nonempty);
  RUN(case_mapping);
  RUN(length_counts_characters);
  RUN(substring_and_truncate);
  RUN(split_join_replace);
  RUN(replace_and_join_are_bounded);
  RUN(contains_starts_ends);
  RUN(padding);
  RUN(digits_and_string);
  RUN(format_number);
  RUN(format_fills_placeholders);
  RUN(messages_quote_values_safely);
  RUN(random_text_never_crashes);
  RUN(memory_limit_is_an_error);
  stdlib_test_fini();
  return check_done();
}
