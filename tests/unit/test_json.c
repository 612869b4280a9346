/* Unit tests of runtime/json_value: decoding (values, exact numbers,
** strings and escapes, every error with its position), encoding (compact
** and pretty), round trips of real-shaped Shopify orders
** (tests/unit/data/shopify-orders-3.jsonl, from gen_orders.py --seed 7),
** a randomized encode/decode property test, JSON Lines and jansson. */
#include "common/arena.h"
#include "common/buf.h"
#include "common/util.h"
#include "runtime/json_value.h"
#include "runtime/value.h"
#include "tests/lib/check.h"
#include "tests/unit/value_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* `v` as compact JSON, in a static buffer. */
static const char *ENC(Value v) {
  static char text[1 << 16];
  Buf b;
  JsonvError err;
  buf_init(&b, sizeof text - 1);
  if (jsonv_encode(v, &b, &err)) snprintf(text, sizeof text, "%s", buf_cstr(&b));
  else snprintf(text, sizeof text, "error: %s", err.message);
  buf_fini(&b);
  return text;
}

TEST(decode_scalars) {
  CHECK_EQ_STR(DEBUG(J("null")), "null");
  CHECK_EQ_STR(DEBUG(J(" \t\r\n true \n")), "true");
  CHECK_EQ_STR(DEBUG(J("false")), "false");
  CHECK_EQ_STR(DEBUG(J("0")), "0");
  CHECK_EQ_STR(DEBUG(J("-0")), "0");
  CHECK_EQ_STR(DEBUG(J("5400000000000")), "5400000000000");
  CHECK_EQ_STR(DEBUG(J("9223372036854775807")), "9223372036854775807");
  CHECK_EQ_STR(DEBUG(J("-9223372036854775808")), "-9223372036854775808");
  /* Integers past int64 have no decimal either: kept as text. */
  CHECK_EQ_STR(DEBUG(J("9223372036854775808")), "numtext(9223372036854775808)");
  CHECK_EQ_STR(DEBUG(J("-9223372036854775809")), "numtext(-9223372036854775809)");
  CHECK_EQ_STR(DEBUG(J("123456789012345678901234567890")), "numtext(123456789012345678901234567890)");
  /* Decimals keep the digits written. */
  CHECK_EQ_STR(DEBUG(J("19.99")), "19.99");
  CHECK_EQ_STR(DEBUG(J("19.90")), "19.90");
  CHECK_EQ_STR(DEBUG(J("-0.0")), "0.0");
  CHECK_EQ_STR(DEBUG(J("0.21")), "0.21");
  CHECK_EQ_STR(DEBUG(J("1e2")), "decimal(100)");
  CHECK_EQ_STR(DEBUG(J("-9.3e-05")), "-0.000093");
  CHECK_EQ_STR(DEBUG(J("2.5E+1")), "decimal(25)");
  CHECK_EQ_STR(DEBUG(J("0.999999999999999999")), "0.999999999999999999");
  CHECK_EQ_STR(DEBUG(J("99999999999999999.9")), "99999999999999999.9");
  CHECK_EQ_STR(DEBUG(J("1.5000000000000000000000")), "1.50000000000000000");
  CHECK_EQ_STR(DEBUG(J("0.1234567890123456789")), "numtext(0.1234567890123456789)");
  CHECK_EQ_STR(DEBUG(J("1e400")), "numtext(1e400)");
  CHECK_EQ_STR(DEBUG(J("-1E-400")), "numtext(-1E-400)");
  CHECK_EQ_STR(DEBUG(J("1e18")), "numtext(1e18)");
  /* Strings. */
  CHECK_EQ_STR(DEBUG(J("\"\"")), "\"\"");
  CHECK_EQ_STR(DEBUG(J("\"Ærøskøbing\"")), "\"Ærøskøbing\"");
  CHECK_EQ_STR(DEBUG(J("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"")), "\"a\\\"b\\\\c/d\\u0008\\u000c\\u000a\\u000d\\u0009\"");
  CHECK_EQ_STR(DEBUG(J("\"\\u00e6\\u00C6\\u20ac\"")), "\"æÆ€\"");
  CHECK_EQ_STR(DEBUG(J("\"\\ud83d\\ude00!\"")), "\"\xf0\x9f\x98\x80!\"");
  Value nul = J("\"a\\u0000b\"");
  CHECK_EQ_INT(nul.len, 3);
  CHECK(memcmp(nul.as.str, "a\0b", 3) == 0);
  /* A byte order mark is ignored. */
  CHECK_EQ_STR(DEBUG(J("\xef\xbb\xbf[1]")), "[1]");
}

TEST(decode_containers_keep_order) {
  Value v = J("{\"z\":1,\"a\":[true,{},[]],\"m\":{\"x\":null,\"y\":\"s\"}}");
  CHECK_EQ_STR(DEBUG(v), "{\"z\": 1, \"a\": [true, {}, []], \"m\": {\"x\": null, \"y\": \"s\"}}");
  CHECK_EQ_INT(v.len, 3);
  CHECK_EQ_STR(value_field_at(v, 0)->key.ptr[0] == 'z' ? "z" : "?", "z");
  const Value *m = value_field(v, STR_LIT("m"), NULL);
  CHECK(m && value_field(*m, STR_LIT("y"), NULL) != NULL);
  CHECK_EQ_STR(DEBUG(J("[ 1 , [ 2 , [ 3 ] ] ]")), "[1, [2, [3]]]");
  CHECK_EQ_STR(DEBUG(J("{ }")), "{}");
  CHECK_EQ_STR(DEBUG(J("[\n]")), "[]");
  /* An escaped key is a key like any other. */
  v = J("{\"a\\u0062\":1}");
  CHECK(value_field(v, STR_LIT("ab"), NULL) != NULL);
}

TEST(strings_live_in_the_arena_not_in_the_input) {
  char input[] = "{\"name\":\"#1001\",\"note\":\"line\\nbreak\"}";
  Value v;
  JsonvError err;
  CHECK_FATAL(jsonv_decode(&A, str_from_cstr(input), NULL, &v, &err));
  const Value *name = value_field(v, STR_LIT("name"), NULL);
  CHECK(name->as.str < input || name->as.str >= input + sizeof input);
  memset(input, 'x', sizeof input - 1); /* the caller reuses its buffer */
  CHECK_EQ_STR(DEBUG(v), "{\"name\": \"#1001\", \"note\": \"line\\u000abreak\"}");
  /* Plain strings and keys are marked safe to write back as they are. */
  CHECK(name->aux & VALUE_STR_JSON_SAFE);
  CHECK(!(value_field(v, STR_LIT("note"), NULL)->aux & VALUE_STR_JSON_SAFE));
  CHECK(v.as.rec->flags & RECORD_KEYS_JSON_SAFE);
  CHECK(!(J("{\"a\\n\":1}").as.rec->flags & RECORD_KEYS_JSON_SAFE));

  /* With input_outlives_arena, plain strings point into the input and
  ** escaped ones are unescaped into the arena, leaving the input alone. */
  static const char stable[] = "[\"plain\",\"esc\\u00e6ped\",1e400]";
  JsonvOptions opt = {.input_outlives_arena = true};
  CHECK_FATAL(jsonv_decode(&A, str_from_cstr(stable), &opt, &v, &err));
  CHECK(v.as.items[0].as.str == stable + 2);
  CHECK(v.as.items[1].as.str < stable || v.as.items[1].as.str >= stable + sizeof stable);
  CHECK(v.as.items[2].as.str == stable + 24);
  CHECK_EQ_STR(DEBUG(v), "[\"plain\", \"escæped\", numtext(1e400)]");
  CHECK_EQ_STR(stable, "[\"plain\",\"esc\\u00e6ped\",1e400]");
}

/* One malformed document, and where and why it fails. */
static const struct {
  const char *text;
  size_t len; /* 0: strlen(text) */
  const char *message;
  unsigned line, column;
} ERRORS[] = {
    {"", 0, "expected a value, found end of input", 1, 1},
    {"   ", 0, "expected a value, found end of input", 1, 4},
    {"{\"a\":1 \"b\":2}", 0, "expected `,` or `}` after object member, found `\"`", 1, 8},
    {"[1,2", 0, "expected `,` or `]` after array element", 1, 5},
    {"[1 2]", 0, "expected `,` or `]` after array element", 1, 4},
    {"[1,]", 0, "expected a value, found `]`", 1, 4},
    {"{\"a\":1,}", 0, "expected a string key in double quotes, found `}`", 1, 8},
    {"{a:1}", 0, "expected a string key in double quotes, found `a`", 1, 2},
    {"{\"a\" 1}", 0, "expected `:` after object key, found `1`", 1, 6},
    {"{\"a\"", 0, "expected `:` after object key, found end of input", 1, 5},
    {"[01]", 0, "leading zeros are not allowed in numbers", 1, 2},
    {"[-01]", 0, "leading zeros are not allowed in numbers", 1, 2},
    {"[1.]", 0, "expected a digit after `.` in number", 1, 4},
    {"[.5]", 0, "expected a value, found `.`", 1, 2},
    {"[1e]", 0, "expected a digit in the exponent", 1, 4},
    {"[1e+]", 0, "expected a digit in the exponent", 1, 5},
    {"[-]", 0, "expected a digit after `-`", 1, 3},
    {"[+1]", 0, "expected a value, found `+`", 1, 2},
    {"[NaN]", 0, "expected a value, found `N`", 1, 2},
    {"\"abc", 0, "unterminated string", 1, 1},
    {"[\"abc\\\"]", 0, "unterminated string", 1, 2},
    {"\"a\x01\"", 0, "control character U+0001 in string (write it as \\u0001)", 1, 3},
    {"\"tab\there\"", 0, "control character U+0009 in string (write it as \\u0009)", 1, 5},
    {"\"\\x\"", 0, "invalid escape `\\x` in string", 1, 2},
    {"\"\\u12\"", 0, "invalid \\u escape (expected four hex digits)", 1, 2},
    {"\"\\u12g4\"", 0, "invalid \\u escape (expected four hex digits)", 1, 2},
    {"\"\\ud800\"", 0, "unpaired surrogate in \\u escape", 1, 2},
    {"\"\\udc00\"", 0, "unpaired surrogate in \\u escape", 1, 2},
    {"\"\\ud800\\u0041\"", 0, "unpaired surrogate in \\u escape", 1, 2},
    {"\"\xc3\x28\"", 0, "invalid UTF-8 in string", 1, 2},
    {"\"\xc0\xaf\"", 0, "invalid UTF-8 in string", 1, 2},       /* overlong '/' */
    {"\"\xe0\x80\xaf\"", 0, "invalid UTF-8 in string", 1, 2},   /* overlong, 3 bytes */
    {"\"\xed\xa0\x80\"", 0, "invalid UTF-8 in string", 1, 2},   /* a surrogate */
    {"\"\xf4\x90\x80\x80\"", 0, "invalid UTF-8 in string", 1, 2}, /* above U+10FFFF */
    {"\"\xe2\x82\"", 0, "invalid UTF-8 in string", 1, 2},       /* cut short */
    {"\"\x80\"", 0, "invalid UTF-8 in string", 1, 2},
    {"\"\xff\"", 0, "invalid UTF-8 in string", 1, 2},
    {"\"ø\\q\"", 0, "invalid escape `\\q` in string", 1, 3},
    {"tru", 0, "invalid literal (expected `true`, `false` or `null`)", 1, 1},
    {"True", 0, "expected a value, found `T`", 1, 1},
    {"[nul]", 0, "invalid literal (expected `true`, `false` or `null`)", 1, 2},
    {"{} x", 0, "unexpected text after the JSON value", 1, 4},
    {"1 2", 0, "unexpected text after the JSON value", 1, 3},
    {"[1,\0]", 5, "expected a value, found byte 0x00", 1, 4},
    {"{\"a\":1,\"b\":2,\"a\":3}", 0, "duplicate key \"a\" in object", 1, 14},
    {"{\n  \"navn\": \"Søren\",\n  \"by\": tru\n}", 0,
     "invalid literal (expected `true`, `false` or `null`)", 3, 9},
    {"[\"æøå\", \"ø\" \"x\"]", 0, "expected `,` or `]` after array element", 1, 13},
    /* Found by tests/fuzz/fuzz_json.c: the first problem in an escaped,
    ** unterminated string; a repeated escaped key, shown on one line. */
    {"\"\\ud800&", 0, "unpaired surrogate in \\u escape", 1, 2},
    {"\"ok\\n", 0, "unterminated string", 1, 1},
    {"{\"a\\nb\":1,\"a\\u000ab\":2}", 0, "duplicate key \"a?b\" in object", 1, 11},
};

TEST(decode_errors_say_where_and_why) {
  /* The same answer whether the decoder copies the input (and unescapes
  ** in place) or borrows it (and unescapes into the arena). */
  for (int borrow = 0; borrow < 2; borrow++) {
    JsonvOptions opt = {.input_outlives_arena = borrow};
    for (size_t i = 0; i < ARRAY_LEN(ERRORS); i++) {
      Value v;
      JsonvError err;
      memset(&err, 0, sizeof err);
      size_t len = ERRORS[i].len ? ERRORS[i].len : strlen(ERRORS[i].text);
      bool ok = jsonv_decode(&A, str_make(ERRORS[i].text, len), &opt, &v, &err);
      if (ok || strcmp(err.message, ERRORS[i].message) != 0 || err.line != ERRORS[i].line ||
          err.column != ERRORS[i].column)
        check_fail(__FILE__, __LINE__, "#%zu %s (%s): %s at %u:%u, expected %s at %u:%u", i,
                   ERRORS[i].text, borrow ? "borrowed" : "copied", ok ? "accepted" : err.message,
                   err.line, err.column, ERRORS[i].message, ERRORS[i].line, ERRORS[i].column);
    }
  }
}

TEST(error_text_has_an_excerpt) {
  Value v;
  JsonvError err;
  const char *text = "{\"id\":5400000000000,\"email\":\"a@example.com\",\"total_price\":\"219.60\" "
                     "\"subtotal_price\":\"176.54\",\"total_tax\":\"38.11\"}";
  CHECK(!jsonv_decode(&A, str_from_cstr(text), NULL, &v, &err));
  CHECK_EQ_INT(err.offset, 67);
  char msg[300];
  CHECK_EQ_STR(jsonv_error_text(&err, msg, sizeof msg),
               "expected `,` or `}` after object member, found `\"` at line 1, column 68, "
               "near `e.com\",\"total_price\":\"219.60\" \"subtotal_price\":\"176.54\",\"tot`");
  /* The excerpt stays on the error's line and never shows control bytes
  ** or broken UTF-8. */
  CHECK(!jsonv_decode(&A, STR_LIT("[\n\"Søren\",\n\t\"\xff\"]"), NULL, &v, &err));
  CHECK_EQ_STR(jsonv_error_text(&err, msg, sizeof msg),
               "invalid UTF-8 in string at line 3, column 3, near ` \"?\"]`");
}

TEST(decode_limits) {
  Value v;
  JsonvError err;
  /* Depth: 256 levels pass, 257 do not. */
  char deep[600];
  memset(deep, '[', 256);
  memset(deep + 256, ']', 256);
  deep[512] = '\0';
  CHECK(jsonv_decode(&A, str_from_cstr(deep), NULL, &v, &err));
  memset(deep, '[', 257);
  memset(deep + 257, ']', 257);
  deep[514] = '\0';
  CHECK(!jsonv_decode(&A, str_from_cstr(deep), NULL, &v, &err));
  CHECK_EQ_STR(err.message, "nesting deeper than 256 levels");
  CHECK_EQ_INT(err.column, 257);
  JsonvOptions opt = {.max_depth = 2};
  CHECK(jsonv_decode(&A, STR_LIT("{\"a\":[1]}"), &opt, &v, &err));
  CHECK(!jsonv_decode(&A, STR_LIT("{\"a\":[{}]}"), &opt, &v, &err));
  /* Size. */
  opt = (JsonvOptions){.max_bytes = 10};
  CHECK(jsonv_decode(&A, STR_LIT("[1,2,3,45]"), &opt, &v, &err));
  CHECK(!jsonv_decode(&A, STR_LIT("[1,2,3,456]"), &opt, &v, &err));
  CHECK_EQ_STR(err.message, "document is larger than the limit of 10 bytes");
  /* The arena's limit: an error, not a crash. */
  Arena small;
  arena_init(&small);
  arena_set_limit(&small, 256);
  CHECK(!jsonv_decode(&small, STR_LIT("[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]"), NULL, &v, &err));
  CHECK_EQ_STR(err.message, "record needs more memory than the limit of 256 bytes");
  arena_fini(&small);
}

TEST(duplicate_keys) {
  Value v;
  JsonvError err;
  /* Big objects use a hash table for the check: same answer. */
  Buf b;
  buf_init(&b, 0);
  buf_putc(&b, '{');
  for (int i = 0; i < 100; i++) buf_printf(&b, "%s\"key_%d\":%d", i ? "," : "", i, i);
  buf_puts(&b, ",\"key_42\":0}");
  CHECK(!jsonv_decode(&A, buf_str(&b), NULL, &v, &err));
  CHECK_EQ_STR(err.message, "duplicate key \"key_42\" in object");
  CHECK_EQ_INT(err.offset, b.len - 11);
  b.data[b.len - 6] = '9';
  b.data[b.len - 5] = '9'; /* "key_99": still a repeat */
  CHECK(!jsonv_decode(&A, buf_str(&b), NULL, &v, &err));
  CHECK_EQ_STR(err.message, "duplicate key \"key_99\" in object");
  b.data[b.len - 8] = 'x'; /* "kex_99": new */
  CHECK(jsonv_decode(&A, buf_str(&b), NULL, &v, &err));
  CHECK_EQ_INT(v.len, 101);
  buf_fini(&b);
  /* Keys compare after unescaping. */
  CHECK(!jsonv_decode(&A, STR_LIT("{\"ab\":1,\"a\\u0062\":2}"), NULL, &v, &err));
  JsonvOptions opt = {.allow_duplicate_keys = true};
  CHECK(jsonv_decode(&A, STR_LIT("{\"a\":1,\"a\":2}"), &opt, &v, &err));
  CHECK_EQ_INT(value_field(v, STR_LIT("a"), NULL)->as.i, 1);
  CHECK_EQ_STR(ENC(v), "{\"a\":1,\"a\":2}");
}

TEST(encode_every_kind) {
  RecordBuilder b;
  record_builder_init(&b, &A, 0);
  DateTime dt;
  datetime_parse(STR_LIT("2024-03-01T10:15:00+01:00"), &dt, NULL);
  record_builder_add(&b, STR_LIT("n"), value_null());
  record_builder_add(&b, STR_LIT("b"), value_bool(false));
  record_builder_add(&b, STR_LIT("i"), value_int(INT64_MIN));
  record_builder_add(&b, STR_LIT("d"), value_decimal(decimal_make(1990, 2)));
  record_builder_add(&b, STR_LIT("neg"), value_decimal(decimal_make(-5, 3)));
  static const char text[] = "q\"b\\s/\x01\x1f\x7f\n\t\r\b\f ø \xe2\x80\xa8";
  record_builder_add(&b, STR_LIT("s"), value_string(text, sizeof text - 1));
  record_builder_add(&b, STR_LIT("big"), value_numtext("1e400", 5));
  record_builder_add(&b, STR_LIT("day"), value_date(19783));
  record_builder_add(&b, STR_LIT("at"), value_datetime(dt));
  record_builder_add(&b, STR_LIT("l"), value_list(NULL, 0));
  record_builder_add(&b, STR_LIT("r"), J("{}"));
  record_builder_add(&b, STR_LIT("k\"ey"), value_int(1));
  CHECK_EQ_STR(ENC(record_builder_finish(&b)),
               "{\"n\":null,\"b\":false,\"i\":-9223372036854775808,\"d\":19.90,\"neg\":-0.005,"
               "\"s\":\"q\\\"b\\\\s/\\u0001\\u001f\x7f\\n\\t\\r\\b\\f ø \xe2\x80\xa8\",\"big\":1e400,"
               "\"day\":\"2024-03-01\",\"at\":\"2024-03-01T10:15:00+01:00\",\"l\":[],\"r\":{},"
               "\"k\\\"ey\":1}");
}

TEST(encode_errors) {
  Buf b;
  JsonvError err;
  buf_init(&b, 0);
  Value bad = value_string("ok \xc3", 4);
  CHECK(!jsonv_encode(bad, &b, &err));
  CHECK_EQ_STR(err.message, "string is not valid UTF-8");
  buf_fini(&b);
  /* A value bigger than the Buf's bound: an error, never a crash. */
  buf_init(&b, 100);
  ListBuilder lb;
  list_builder_init(&lb, &A, 0);
  for (int i = 0; i < 1000; i++) list_builder_push(&lb, value_int(i));
  CHECK(!jsonv_encode(list_builder_finish(&lb), &b, &err));
  CHECK_EQ_STR(err.message, "encoded JSON is larger than the output limit");
  CHECK(b.len <= 100);
  buf_fini(&b);
  /* A long string is written past the staging buffer, and checked there. */
  buf_init(&b, 0);
  char *big = arena_alloc(&A, 50000);
  memset(big, 'a', 50000);
  big[40000] = '\n';
  CHECK(jsonv_encode(value_string(big, 50000), &b, &err));
  CHECK_EQ_INT(b.len, 50003);
  CHECK(memcmp(b.data + 40001, "\\na", 3) == 0);
  buf_reset(&b);
  big[45000] = (char)0xc3;
  CHECK(!jsonv_encode(value_string(big, 50000), &b, &err));
  buf_fini(&b);
}

TEST(pretty_printer) {
  Value v = J("{\"a\":1,\"b\":[true,{\"c\":\"x\"},[]],\"d\":{},\"e\":[2]}");
  Buf b;
  JsonvError err;
  buf_init(&b, 0);
  CHECK(jsonv_encode_pretty(v, &b, &err));
  CHECK_EQ_STR(buf_cstr(&b),
               "{\n"
               "  \"a\": 1,\n"
               "  \"b\": [\n"
               "    true,\n"
               "    {\n"
               "      \"c\": \"x\"\n"
               "    },\n"
               "    []\n"
               "  ],\n"
               "  \"d\": {},\n"
               "  \"e\": [\n"
               "    2\n"
               "  ]\n"
               "}");
  Value back;
  CHECK(jsonv_decode(&A, buf_str(&b), NULL, &back, &err));
  CHECK(value_equal(v, back));
  buf_reset(&b);
  CHECK(jsonv_encode_pretty(value_int(3), &b, &err));
  CHECK_EQ_STR(buf_cstr(&b), "3");
  buf_fini(&b);
}

/* Read the fixture's lines into a malloc'd buffer; returns the count. */
static size_t read_fixture(char **text, Str lines[], size_t max) {
  const char *root = getenv("IEX_ROOT");
  char path[512], err[128];
  size_t len;
  snprintf(path, sizeof path, "%s/tests/unit/data/shopify-orders-3.jsonl", root ? root : ".");
  *text = read_file(path, 1 << 20, &len, err, sizeof err);
  if (!*text) {
    check_fail(__FILE__, __LINE__, "%s: %s", path, err);
    return 0;
  }
  size_t n = 0;
  for (char *p = *text; *p && n < max;) {
    char *nl = strchr(p, '\n');
    lines[n++] = str_make(p, nl ? (size_t)(nl - p) : strlen(p));
    if (!nl) break;
    p = nl + 1;
  }
  return n;
}

TEST(shopify_orders_round_trip) {
  char *text;
  Str lines[8];
  size_t n = read_fixture(&text, lines, 8);
  CHECK_FATAL(n == 3);
  JsonvDecoder dec;
  jsonv_decoder_init(&dec, NULL);
  Arena arena;
  arena_init(&arena);
  Buf b;
  buf_init(&b, 0);
  uint32_t hint_total = 0, hint_items = 0, hint_sku = 0;
  static const char *const TOTALS[] = {"1510.71", "153.44", "780.65"};
  for (size_t i = 0; i < n; i++) {
    Value order;
    JsonvError err;
    CHECK_FATAL(jsonv_decode_with(&dec, &arena, lines[i], &order, &err));
    /* Compact output is byte for byte the input (gen_orders.py writes
    ** compact JSON with UTF-8 and plain decimals). */
    buf_reset(&b);
    CHECK(jsonv_encode(order, &b, &err));
    CHECK(str_eq(buf_str(&b), lines[i]));
    /* Pretty output decodes to the same value. */
    buf_reset(&b);
    CHECK(jsonv_encode_pretty(order, &b, &err));
    Value again;
    CHECK(jsonv_decode_with(&dec, &arena, buf_str(&b), &again, &err));
    CHECK(value_equal(order, again));
    /* The fields a mapping reads, with hints as the VM keeps them. */
    CHECK_EQ_INT(order.len, 37);
    const Value *total = value_field(order, STR_LIT("total_price"), &hint_total);
    CHECK(total && str_eq_cstr(value_as_str(*total), TOTALS[i]));
    const Value *items = value_field(order, STR_LIT("line_items"), &hint_items);
    CHECK_FATAL(items && items->kind == VAL_LIST && items->len > 0);
    const Value *sku = value_field(items->as.items[0], STR_LIT("sku"), &hint_sku);
    CHECK(sku != NULL);
    const Value *rate = value_field(items->as.items[0], STR_LIT("tax_lines"), NULL);
    CHECK(rate && rate->kind == VAL_LIST);
    const Value *cust = value_field(order, STR_LIT("customer"), NULL);
    CHECK(cust && value_field(*cust, STR_LIT("id"), NULL)->kind == VAL_INT);
    arena_reset(&arena);
  }
  CHECK_EQ_INT(hint_total, 10);
  CHECK_EQ_INT(hint_items, 32);
  buf_fini(&b);
  arena_fini(&arena);
  jsonv_decoder_fini(&dec);
  free(text);
}

/* ---- A property test: random values survive encode + decode ---------------- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n) {
  rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
  return (uint32_t)(rng_state >> 33) % n;
}

static Str random_text(void) {
  static const char *const PIECES[] = {"a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f",
                                       "\x7f", "ø", "€", "\xf0\x9f\x98\x80", "\xe2\x80\xa8", "{}"};
  size_t n = rnd(12);
  Buf b;
  buf_init(&b, 0);
  for (size_t i = 0; i < n; i++) buf_puts(&b, PIECES[rnd(ARRAY_LEN(PIECES))]);
  char *p = arena_strndup(&A, b.data ? b.data : "", b.len);
  Str s = str_make(p, b.len);
  buf_fini(&b);
  return s;
}

static Value random_value(int depth) {
  switch (rnd(depth > 4 ? 7 : 9)) {
    case 0: return value_null();
    case 1: return value_bool(rnd(2));
    case 2: return value_int((int64_t)(rng_state >> 1) * (rnd(2) ? 1 : -1));
    case 3: {
      int64_t c = (int64_t)(rng_state % (uint64_t)DECIMAL_MAX_COEF) * (rnd(2) ? 1 : -1);
      return value_decimal(decimal_make(c, (int)rnd(19)));
    }
    case 4: {
      Str s = random_text();
      return value_string(s.ptr, s.len);
    }
    case 5: return value_numtext("-12345678901234567890123e-45", 28);
    case 6: return value_int(rnd(100));
    case 7: {
      ListBuilder b;
      list_builder_init(&b, &A, 0);
      for (uint32_t i = rnd(5); i > 0; i--) list_builder_push(&b, random_value(depth + 1));
      return list_builder_finish(&b);
    }
    default: {
      RecordBuilder b;
      record_builder_init(&b, &A, 0);
      uint32_t n = rnd(6);
      for (uint32_t i = 0; i < n; i++) {
        /* Unique keys: a random text plus the position. */
        Str t = random_text();
        char *k = arena_printf(&A, "%.*s#%u", STR_FMT(t), i);
        record_builder_add(&b, str_from_cstr(k), random_value(depth + 1));
      }
      return record_builder_finish(&b);
    }
  }
}

TEST(random_values_round_trip) {
  rng_state = 42;
  Buf b;
  buf_init(&b, 0);
  int failures = 0;
  for (int i = 0; i < 3000 && failures < 5; i++) {
    Value v = random_value(0), back;
    JsonvError err;
    for (int pretty = 0; pretty < 2; pretty++) {
      buf_reset(&b);
      bool ok = pretty ? jsonv_encode_pretty(v, &b, &err) : jsonv_encode(v, &b, &err);
      if (!ok || !jsonv_decode(&A, buf_str(&b), NULL, &back, &err) || !value_equal(v, back)) {
        check_fail(__FILE__, __LINE__, "round trip %d (%s): %s -> %s", i, pretty ? "pretty" : "compact",
                   DEBUG(v), buf_cstr(&b));
        failures++;
      }
    }
    if (i % 100 == 99) arena_reset(&A);
  }
  buf_fini(&b);
}

/* ---- JSON Lines ------------------------------------------------------------- */

static int write_temp(const char *content, size_t len, char path[64]) {
  snprintf(path, 64, "/tmp/iex-jsonl-XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0 || write(fd, content, len) != (ssize_t)len) iex_fatal("cannot write temp file");
  close(fd);
  return 0;
}

TEST(json_lines) {
  char path[64], err[128];
  static const char content[] = "{\"a\":1}\n"
                                "\n"
                                "{\"a\":2}\r\n"
                                "   \t\n"
                                "[\"this line is too long for the limit\"]\n"
                                "{\"a\":3}\n"
                                "{\"a\":4}";
  write_temp(content, sizeof content - 1, path);
  JsonvLines r;
  CHECK_FATAL(jsonv_lines_open(&r, path, 30, err, sizeof err));
  Str line;
  CHECK_EQ_INT(jsonv_lines_next(&r, &line, err, sizeof err), 1);
  CHECK(str_eq_cstr(line, "{\"a\":1}"));
  CHECK_EQ_INT(r.line_no, 1);
  CHECK_EQ_INT(jsonv_lines_next(&r, &line, err, sizeof err), 1);
  CHECK(str_eq_cstr(line, "{\"a\":2}"));
  CHECK_EQ_INT(r.line_no, 3);
  CHECK_EQ_INT(jsonv_lines_next(&r, &line, err, sizeof err), -1);
  CHECK_EQ_STR(err, "line 5 is longer than the limit of 30 bytes");
  CHECK_EQ_INT(jsonv_lines_next(&r, &line, err, sizeof err), 1);
  CHECK(str_eq_cstr(line, "{\"a\":3}"));
  CHECK_EQ_INT(r.line_no, 6);
  CHECK_EQ_INT(jsonv_lines_next(&r, &line, err, sizeof err), 1);
  CHECK(str_eq_cstr(line, "{\"a\":4}"));
  CHECK_EQ_INT(r.line_no, 7);
  CHECK_EQ_INT(jsonv_lines_next(&r, &line, err, sizeof err), 0);
  CHECK_EQ_INT(jsonv_lines_next(&r, &line, err, sizeof err), 0);
  jsonv_lines_close(&r);
  unlink(path);

  CHECK(!jsonv_lines_open(&r, "/nonexistent/orders.jsonl", 100, err, sizeof err));
  CHECK_EQ_STR(err, "cannot open /nonexistent/orders.jsonl: No such file or directory");
}

TEST(json_lines_across_buffer_refills) {
  /* 3 MB of lines of varying length, some far longer than a read, one
  ** over the limit; every line must come back whole and in order. */
  char path[64], err[128];
  Buf content;
  buf_init(&content, 0);
  int n_lines = 0;
  rng_state = 7;
  while (content.len < 3 * 1024 * 1024) {
    size_t len = n_lines % 50 == 0 ? 100000 + rnd(100000) : rnd(3000);
    if (n_lines == 77) len = 600000; /* over the limit below */
    buf_printf(&content, "%d:", n_lines);
    for (size_t i = 0; i < len; i++) buf_putc(&content, (char)('a' + (n_lines + i) % 26));
    buf_putc(&content, '\n');
    n_lines++;
  }
  write_temp(content.data, content.len, path);
  JsonvLines r;
  CHECK_FATAL(jsonv_lines_open(&r, path, 500000, err, sizeof err));
  Str line;
  int rc, seen = 0, errors = 0, bad = 0;
  const char *expect = content.data;
  while ((rc = jsonv_lines_next(&r, &line, err, sizeof err)) != 0) {
    const char *nl = strchr(expect, '\n');
    Str want = str_make(expect, (size_t)(nl - expect));
    expect = nl + 1;
    seen++;
    if (rc < 0) {
      errors++;
      CHECK_EQ_STR(err, "line 78 is longer than the limit of 500000 bytes");
      continue;
    }
    if (!str_eq(line, want) || r.line_no != (uint64_t)seen) bad++;
  }
  CHECK_EQ_INT(seen, n_lines);
  CHECK_EQ_INT(errors, 1);
  CHECK_EQ_INT(bad, 0);
  jsonv_lines_close(&r);
  unlink(path);
  buf_fini(&content);
}

/* ---- jansson -------------------------------------------------------------- */

TEST(from_jansson) {
  json_error_t jerr;
  json_t *j = json_loads("{\"z\":19.99,\"a\":[1,0.1,-2.5e-3,1.2345678901234567e-30,null,true,\"ø\"],"
                         "\"big\":12345678901234567890.5}",
                         0, &jerr);
  CHECK_FATAL(j != NULL);
  Value v;
  char err[200];
  CHECK_FATAL(jsonv_from_jansson(&A, j, &v, err, sizeof err));
  json_decref(j);
  /* Key order kept; reals become the shortest decimal that reads back as
  ** the same double; what no decimal holds is numtext. */
  CHECK_EQ_STR(DEBUG(v), "{\"z\": 19.99, \"a\": [1, 0.1, -0.0025, numtext(1.2345678901234567e-30), null, true, "
                         "\"ø\"], \"big\": numtext(1.2345678901234567e+19)}");
  Arena tiny;
  arena_init(&tiny);
  arena_set_limit(&tiny, 16);
  j = json_loads("[\"a long enough string to pass the limit\"]", 0, &jerr);
  CHECK(!jsonv_from_jansson(&tiny, j, &v, err, sizeof err));
  CHECK_EQ_STR(err, "cannot convert the jansson value: memory limit of the record reached");
  json_decref(j);
  arena_fini(&tiny);
}

TEST(to_jansson) {
  char err[200];
  Value v = J("{\"price\":19.99,\"qty\":3,\"tiny\":0.000000000000001,\"lines\":[{\"x\":null},true],\"name\":\"Søren\"}");
  json_t *j = jsonv_to_jansson(v, err, sizeof err);
  CHECK_FATAL(j != NULL);
  char *text = json_dumps(j, JSONV_JANSSON_DUMP_FLAGS);
  CHECK_EQ_STR(text, "{\"price\":19.99,\"qty\":3,\"tiny\":1e-15,\"lines\":[{\"x\":null},true],\"name\":\"Søren\"}");
  free(text);
  json_decref(j);
  /* Dates and datetimes become ISO strings. */
  DateTime dt;
  datetime_parse(STR_LIT("2024-03-01T10:15:00+01:00"), &dt, NULL);
  j = jsonv_to_jansson(value_datetime(dt), err, sizeof err);
  CHECK(j && strcmp(json_string_value(j), "2024-03-01T10:15:00+01:00") == 0);
  json_decref(j);
  j = jsonv_to_jansson(value_date(0), err, sizeof err);
  CHECK(j && strcmp(json_string_value(j), "1970-01-01") == 0);
  json_decref(j);
  /* What jansson cannot hold exactly is refused, with the reason. */
  CHECK(jsonv_to_jansson(J("[1,1234567890.123456]"), err, sizeof err) == NULL);
  CHECK_EQ_STR(err, "decimal 1234567890.123456 has more than 15 significant digits, which jansson cannot hold exactly");
  CHECK(jsonv_to_jansson(J("{\"a\":1e400}"), err, sizeof err) == NULL);
  CHECK_EQ_STR(err, "number 1e400 is too long for jansson to hold exactly");
  CHECK(jsonv_to_jansson(value_string("\xff", 1), err, sizeof err) == NULL);
  CHECK_EQ_STR(err, "string is not valid UTF-8");
  /* 15 digits survive exactly. */
  j = jsonv_to_jansson(J("123456789.012345"), err, sizeof err);
  text = json_dumps(j, JSONV_JANSSON_DUMP_FLAGS | JSON_ENCODE_ANY);
  CHECK_EQ_STR(text, "123456789.012345");
  free(text);
  json_decref(j);
}

/* ---- The fuzz corpus ---------------------------------------------------------
**
** Until tests/fuzz/ replays every corpus in `make test`, run the JSON fuzz
** target over its corpus here, so the seeds (and the regressions the
** fuzzer found) are checked under ASan and UBSan on every run. */
#include "tests/fuzz/fuzz_json.c"

#include <dirent.h>

TEST(fuzz_corpus_replays) {
  const char *root = getenv("IEX_ROOT");
  char dir[512];
  snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/json", root ? root : ".");
  DIR *d = opendir(dir);
  CHECK_FATAL(d != NULL);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[1024], err[128];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    char *data = read_file(path, 1 << 20, &len, err, sizeof err);
    CHECK(data != NULL);
    if (!data) continue;
    LLVMFuzzerTestOneInput((const uint8_t *)data, len); /* aborts on a failed property */
    free(data);
    n++;
  }
  closedir(d);
  CHECK(n >= 10);
}

int main(void) {
  check_suite = "unit/json";
  arena_init(&A);
  RUN(decode_scalars);
  RUN(decode_containers_keep_order);
  RUN(strings_live_in_the_arena_not_in_the_input);
  RUN(decode_errors_say_where_and_why);
  RUN(error_text_has_an_excerpt);
  RUN(decode_limits);
  RUN(duplicate_keys);
  RUN(encode_every_kind);
  RUN(encode_errors);
  RUN(pretty_printer);
  RUN(shopify_orders_round_trip);
  RUN(random_values_round_trip);
  RUN(json_lines);
  RUN(json_lines_across_buffer_refills);
  RUN(from_jansson);
  RUN(to_jansson);
  RUN(fuzz_corpus_replays);
  arena_fini(&A);
  return check_done();
}
