/* Unit tests of the CSV reader (common/csv.c), the tables made of what it
** reads and table lookups (stdlib/lookup.c): RFC 4180 quoting,
** separators, line endings, every error with its file:line and its
** CsvError (the checker words its diagnostics from those), and lookups by
** text and by number. */
#include "tests/unit/test_stdlib.h"

#include <stdlib.h>
#include <unistd.h>

#include "common/csv.h"
#include "stdlib/lookup.h"

/* Parse `text` as "products.csv"; the table rendered, or "error: …". */
static const char *P(const char *text, const CsvOptions *opt) {
  static char results[8][2048];
  static int next;
  char *r = results[next++ % 8];
  CsvData csv;
  Value rows;
  buf_reset(&ERR);
  if (!csv_parse(&A, "products.csv", str_from_cstr(text), opt, &csv, &ERR, NULL)) {
    snprintf(r, 2048, "error: %s", buf_cstr(&ERR));
    return r;
  }
  if (!lookup_from_csv(&A, &csv, &rows)) return "error: lookup_from_csv failed";
  Buf b;
  buf_init(&b, 2000);
  value_debug(rows, &b);
  snprintf(r, 2048, "%s", buf_cstr(&b));
  buf_fini(&b);
  return r;
}

TEST(rows_keyed_by_the_first_column) {
  CHECK_EQ_STR(P("sku,number,account\nSOCK-1,1001,\nHAT,1002,1010\n", NULL),
               "{\"SOCK-1\": {\"sku\": \"SOCK-1\", \"number\": \"1001\", \"account\": null}, "
               "\"HAT\": {\"sku\": \"HAT\", \"number\": \"1002\", \"account\": \"1010\"}}");
  /* No final line break, CRLF, a BOM, blank lines. */
  CHECK_EQ_STR(P("\xEF\xBB\xBFsku,n\r\n\r\nA,1\r\nB,2", NULL),
               "{\"A\": {\"sku\": \"A\", \"n\": \"1\"}, \"B\": {\"sku\": \"B\", \"n\": \"2\"}}");
  CHECK_EQ_STR(P("sku,n\rA,1\r", NULL), "{\"A\": {\"sku\": \"A\", \"n\": \"1\"}}");
  CHECK_EQ_STR(P("sku\n", NULL), "{}");
  CHECK_EQ_STR(P("sku\nA\n\n\nB\n", NULL), "{\"A\": {\"sku\": \"A\"}, \"B\": {\"sku\": \"B\"}}");
}

TEST(quoting) {
  CHECK_EQ_STR(P("sku,name\n\"A,1\",\"Hue \"\"Navy\"\"\"\nB,\"two\nlines\"\n", NULL),
               "{\"A,1\": {\"sku\": \"A,1\", \"name\": \"Hue \\\"Navy\\\"\"}, "
               "\"B\": {\"sku\": \"B\", \"name\": \"two\\u000alines\"}}");
  CHECK_EQ_STR(P("sku,name\nA,\"\"\n", NULL), "{\"A\": {\"sku\": \"A\", \"name\": null}}");
  CHECK_EQ_STR(P("\"sku\",\"na;me\"\nA,Kj\xC3\xA6r\n", NULL),
               "{\"A\": {\"sku\": \"A\", \"na;me\": \"Kj\xC3\xA6r\"}}");
}

TEST(separators) {
  CHECK_EQ_STR(P("sku;number;price\nA;1;12,50\n", NULL),
               "{\"A\": {\"sku\": \"A\", \"number\": \"1\", \"price\": \"12,50\"}}");
  CHECK_EQ_STR(P("sku\tnumber\nA\t1\n", NULL), "{\"A\": {\"sku\": \"A\", \"number\": \"1\"}}");
  CHECK_EQ_STR(P("sku,\"a;b;c\"\nA,1\n", NULL), "{\"A\": {\"sku\": \"A\", \"a;b;c\": \"1\"}}");
  CsvOptions o = {.separator = ';'};
  CHECK_EQ_STR(P("sku,x;n\nA,1;2\n", &o), "{\"A,1\": {\"sku,x\": \"A,1\", \"n\": \"2\"}}");
}

TEST(key_column_option) {
  CsvOptions o = {.key_column = "number"};
  CHECK_EQ_STR(P("sku,number\nA,1\nB,2\n", &o),
               "{\"1\": {\"sku\": \"A\", \"number\": \"1\"}, \"2\": {\"sku\": \"B\", \"number\": \"2\"}}");
  o.key_column = "nope";
  CHECK_EQ_STR(P("sku,number\nA,1\n", &o), "error: products.csv:1: the header has no column `nope`");
}

TEST(errors_name_file_and_line) {
  CHECK_EQ_STR(P("sku,number,account\nA,1,2\nB,2\n", NULL),
               "error: products.csv:3: row has 2 fields, the header has 3");
  CHECK_EQ_STR(P("sku\nA,1\n", NULL), "error: products.csv:2: row has 2 fields, the header has 1");
  CHECK_EQ_STR(P("sku,n\nA,1\n\nB,\"open\n\n", NULL),
               "error: products.csv:4: the quoted field that starts on this line is not closed");
  CHECK_EQ_STR(P("sku,n\nA,\"x\"y\n", NULL),
               "error: products.csv:2: text after the closing quote of a field (a quote inside a "
               "quoted field is written twice: \"\")");
  CHECK_EQ_STR(P("sku,n\nA,x\"y\n", NULL),
               "error: products.csv:2: a quote in a field that does not start with one (quote the "
               "whole field and write the quote twice)");
  CHECK_EQ_STR(P("sku,n\nA,1\nB,2\nA,3\n", NULL),
               "error: products.csv:4: key `A` is also on line 2; keys must be unique");
  CHECK_EQ_STR(P("sku,n\n,1\n", NULL), "error: products.csv:2: the key (column `sku`) is empty");
  CHECK_EQ_STR(P("sku,,n\n", NULL), "error: products.csv:1: column 2 has no name in the header row");
  CHECK_EQ_STR(P("sku,n,sku\n", NULL), "error: products.csv:1: the header names column `sku` twice");
  CHECK_EQ_STR(P("", NULL), "error: products.csv: the file is empty: its first row must name the columns");
  CHECK_EQ_STR(P("\n\n", NULL), "error: products.csv: the file is empty: its first row must name the columns");
  CHECK_EQ_STR(P("sku,n\nA,\"multi\nline\"\nB,K\xE6r\n", NULL),
               "error: products.csv:4: the text is not UTF-8 (save the file as UTF-8)");
  CsvOptions o = {.max_rows = 2};
  CHECK_EQ_STR(P("sku\nA\nB\nC\n", &o), "error: products.csv:4: more than 2 rows");
  o = (CsvOptions){.max_bytes = 4};
  CHECK_EQ_STR(P("sku\nA\n", &o), "error: products.csv: the file is larger than the limit of 4 bytes");
  /* A quoted field spanning lines moves the line count of later errors. */
  CHECK_EQ_STR(P("sku,n\nA,\"1\n2\r\n3\"\nB\n", NULL),
               "error: products.csv:5: row has 1 field, the header has 2");
}

/* The facts behind a message, as the checker reads them (E0604). */
static CsvError E(const char *text) {
  CsvData csv;
  CsvError why = {.kind = CSV_OK, .line = 99};
  if (csv_parse(&A, "products.csv", str_from_cstr(text), NULL, &csv, &ERR, &why))
    check_fail(__FILE__, __LINE__, "`%s` was accepted", text);
  return why;
}

TEST(errors_say_what_and_where) {
  CsvError e = E("sku,number,account\nA,1,2\n\nB,2\n");
  CHECK_EQ_INT(e.kind, CSV_FIELD_COUNT);
  CHECK_EQ_INT(e.line, 4);
  CHECK_EQ_INT(e.n_fields, 2);
  CHECK_EQ_INT(e.n_columns, 3);
  CHECK(!e.in_header);
  e = E("\n\n");
  CHECK_EQ_INT(e.kind, CSV_EMPTY);
  CHECK_EQ_INT(e.line, 0);
  e = E("sku,\"n\n");
  CHECK_EQ_INT(e.kind, CSV_UNCLOSED_QUOTE);
  CHECK(e.in_header);
  e = E("sku,n\nA,1\nB,\"open\n");
  CHECK_EQ_INT(e.kind, CSV_UNCLOSED_QUOTE);
  CHECK_EQ_INT(e.line, 3);
  CHECK(!e.in_header);
  e = E("sku,,n\n");
  CHECK_EQ_INT(e.kind, CSV_UNNAMED_COLUMN);
  CHECK_EQ_INT(e.column, 2);
  CHECK(e.in_header);
  e = E("sku,n,sku\n");
  CHECK_EQ_INT(e.kind, CSV_REPEATED_COLUMN);
  CHECK_EQ_INT(e.column, 3);
  e = E("sku,n\nA,1\nB,2\nA,3\n");
  CHECK_EQ_INT(e.kind, CSV_REPEATED_KEY);
  CHECK_EQ_INT(e.line, 4);
  CHECK_EQ_INT(e.first_line, 2);
  CHECK(str_eq_cstr(e.text, "A"));
  e = E("sku,n\n,1\n");
  CHECK_EQ_INT(e.kind, CSV_EMPTY_KEY);
  CHECK(str_eq_cstr(e.text, "sku"));
  CHECK_EQ_INT(E("sku,n\nA,x\"y\n").kind, CSV_STRAY_QUOTE);
  CHECK_EQ_INT(E("sku,n\nA,\"x\"y\n").kind, CSV_TEXT_AFTER_QUOTE);
  CHECK_EQ_INT(E("sku\n\xFF\n").kind, CSV_NOT_UTF8);
}

TEST(load_from_a_file) {
  char path[] = "/tmp/iex-test-csv-XXXXXX";
  int fd = mkstemp(path);
  CHECK_FATAL(fd >= 0);
  const char *text = "sku,number\nSOCK-GRY-3942,1001\nHAT-NAVY,1002\n";
  CHECK_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  close(fd);
  CsvData csv;
  CsvError why;
  Value rows;
  CHECK_FATAL(csv_load(&A, path, "products.csv", NULL, &csv, &ERR, &why));
  CHECK_EQ_INT(csv.n_rows, 2);
  CHECK_EQ_INT(csv.n_columns, 2);
  CHECK(csv.separator == ',');
  CHECK_FATAL(lookup_from_csv(&A, &csv, &rows));
  Value row = lookup_get(rows, S("HAT-NAVY"), NULL);
  CHECK_FATAL(value_kind(row) == VAL_RECORD);
  CHECK_EQ_STR(R(STD_string, 1, lookup_get(row, S("number"), NULL)), "\"1002\"");
  unlink(path);
  CHECK(!csv_load(&A, path, "products.csv", NULL, &csv, &ERR, &why));
  CHECK_EQ_STR(buf_cstr(&ERR), "products.csv: cannot read the file: No such file or directory");
  CHECK_EQ_INT(why.kind, CSV_CANNOT_READ);
  CHECK_EQ_INT(why.line, 0);
}

TEST(lookups_by_text_and_number) {
  Value layouts = REC(4, "da", I(19), "19", S("nineteen"), "1.50", S("one fifty"), "true", S("yes"));
  CHECK_EQ_STR(R(STD_string, 1, lookup_get(layouts, S("da"), NULL)), "\"19\"");
  CHECK_EQ_STR(R(STD_string, 1, lookup_get(layouts, I(19), NULL)), "\"nineteen\"");
  CHECK_EQ_STR(R(STD_string, 1, lookup_get(layouts, DEC("1.50"), NULL)), "\"one fifty\"");
  CHECK_EQ_STR(R(STD_string, 1, lookup_get(layouts, B(true), NULL)), "\"yes\"");
  CHECK(value_is_null(lookup_get(layouts, S("en"), NULL)));
  CHECK(value_is_null(lookup_get(layouts, DEC("1.5"), NULL)));
  CHECK(value_is_null(lookup_get(layouts, N(), NULL)));
  CHECK(value_is_null(lookup_get(layouts, LIST(0), NULL)));
  CHECK(value_is_null(lookup_get(N(), S("da"), NULL)));
  /* A big table (hash index in the record) from CSV. */
  Buf text;
  buf_init(&text, 0);
  buf_puts(&text, "sku,n\n");
  for (int i = 0; i < 5000; i++) buf_printf(&text, "%d,v%d\n", i * 3, i);
  CsvData csv;
  Value rows;
  CHECK_FATAL(csv_parse(&A, "big.csv", buf_str(&text), NULL, &csv, &ERR, NULL));
  CHECK_FATAL(lookup_from_csv(&A, &csv, &rows));
  uint32_t hint = 0;
  CHECK_EQ_STR(R(STD_string, 1, lookup_get(lookup_get(rows, I(14997), &hint), S("n"), NULL)), "\"v4999\"");
  CHECK(value_is_null(lookup_get(rows, I(14998), &hint)));
  buf_fini(&text);
}

/* Random bytes from a small alphabet of CSV's special characters: the
** parser must answer (a table or a message with a line), never crash; ASan
** and UBSan watch. A fixed seed keeps runs reproducible. */
TEST(random_input_never_crashes) {
  static const char alphabet[] = {',', ';', '"', '\n', '\r', 'a', 'b', ' ', '\t', '\xC3', '\xA6', '\xFF'};
  uint64_t seed = 12345;
  char text[64];
  int tables = 0, errors = 0;
  for (int round = 0; round < 20000; round++) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    size_t len = (seed >> 33) % sizeof text;
    for (size_t i = 0; i < len; i++) {
      seed = seed * 6364136223846793005u + 1442695040888963407u;
      text[i] = alphabet[(seed >> 33) % sizeof alphabet];
    }
    CsvData csv;
    Value rows;
    if (csv_parse(&A, "r.csv", str_make(text, len), NULL, &csv, &ERR, NULL)) {
      tables++;
      if (!lookup_from_csv(&A, &csv, &rows) || rows.len != csv.n_rows)
        check_fail(__FILE__, __LINE__, "row count differs");
    } else {
      errors++;
      if (strncmp(buf_cstr(&ERR), "r.csv:", 6) != 0) check_fail(__FILE__, __LINE__, "message %s", buf_cstr(&ERR));
    }
    if (round % 1000 == 0) arena_reset(&A);
  }
  CHECK(tables > 100 && errors > 100);
}

int main(void) {
  check_suite = "unit/stdlib_csv";
  stdlib_test_init();
  RUN(rows_keyed_by_the_first_column);
  RUN(quoting);
  RUN(separators);
  RUN(key_column_option);
  RUN(errors_name_file_and_line);
  RUN(errors_say_what_and_where);
  RUN(load_from_a_file);
  RUN(lookups_by_text_and_number);
  RUN(random_input_never_crashes);
  stdlib_test_fini();
  return check_done();
}
