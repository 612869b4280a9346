/* The shipped flows' own tests (`iexc --test flows/NAME.iexflow`) run end
** to end against this stdlib: OSS rates on the order date, cent
** differences, time zones, joins and truncation as the flows use them.
** One case per flow; a failure shows iexc's diff. Needs IEX_BUILD (set by
** tests/run) to find iexc. */
#include "tests/lib/check.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

/* Run `cmd`; its exit status, and its output (stdout and stderr) in `out`. */
static int run(const char *cmd, char *out, size_t size) {
  FILE *p = popen(cmd, "r");
  size_t len = p ? fread(out, 1, size - 1, p) : 0;
  out[len] = '\0';
  return p ? pclose(p) : -1;
}

/* Print `text` as detail lines, each indented, so the runner does not count
** iexc's own PASS lines as ours. */
static void print_indented(char *text) {
  for (char *line = text; *line;) {
    char *end = strchr(line, '\n');
    if (end) *end = '\0';
    printf("    %s\n", line);
    line = end ? end + 1 : line + strlen(line);
  }
}

static void write_text_file(const char *dir, const char *name, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (f) fputs(text, f);
  if (f) fclose(f);
}

/* A flow with `table products = csv("products.csv")`: the compiler reads
** the file with common/csv.c (`;` detected, empty fields null), and a
** broken file stops compilation with the file and line. */
static void csv_table_flow(void) {
  char dir[] = "/tmp/iex-test-csvflow-XXXXXX", cmd[8192], out[16384];
  if (!mkdtemp(dir)) {
    printf("FAIL unit/stdlib_flows/csv_table: cannot make a directory\n");
    return;
  }
  write_text_file(dir, "t.iexflow",
      "flow csv_table \"CSV lookups\"\n"
      "use shop: shopify\n"
      "table products = csv(\"products.csv\") \"Products by SKU\"\n"
      "on shop.order reaches paid\n"
      "step invoice = {\n"
      "  currency = order.currency\n"
      "  lines = [\n"
      "    for item in order.line_items {\n"
      "      number  = products[item.sku].number ?? fail(\"SKU {item.sku} is not in products.csv\")\n"
      "      account = products[item.sku].account ?? \"1000\"\n"
      "    }\n"
      "  ]\n"
      "}\n"
      "test \"skus are looked up\" {\n"
      "  input order = { currency = \"DKK\", financial_status = \"paid\", line_items = [ { sku = \"HAT\" }, { sku = \"SOCK\" } ] }\n"
      "  expect invoice = { lines = [ { number = \"1002\", account = \"1010\" }, { number = \"1001\", account = \"1000\" } ] }\n"
      "}\n"
      "test \"an unknown sku fails\" {\n"
      "  input order = { currency = \"DKK\", financial_status = \"paid\", line_items = [ { sku = \"CAP\" } ] }\n"
      "  expect fail \"SKU CAP is not in products.csv\"\n"
      "}\n");
  write_text_file(dir, "products.csv", "sku;number;account\r\nSOCK;\"1001\";\r\nHAT;1002;1010\r\n");
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s/bin/iexc' --connectors connectors --test '%s/t.iexflow' 2>&1",
           env("IEX_ROOT", "."), env("IEX_BUILD", "build/test"), dir);
  int status = run(cmd, out, sizeof out);
  if (status != 0 || !strstr(out, "2 passed, 0 failed")) {
    printf("FAIL unit/stdlib_flows/csv_table: iexc --test exited with status %d\n", status);
    print_indented(out);
  } else {
    printf("PASS unit/stdlib_flows/csv_table\n");
  }
  write_text_file(dir, "products.csv", "sku;number\nA;1\nB;2\nA;3\n");
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s/bin/iexc' --connectors connectors '%s/t.iexflow' -o '%s/t.iexb' 2>&1",
           env("IEX_ROOT", "."), env("IEX_BUILD", "build/test"), dir, dir);
  status = run(cmd, out, sizeof out);
  if (status == 0 || !strstr(out, "products.csv:4: key `A` is also on line 2; keys must be unique")) {
    printf("FAIL unit/stdlib_flows/csv_table_error: iexc exited with status %d\n", status);
    print_indented(out);
  } else {
    printf("PASS unit/stdlib_flows/csv_table_error\n");
  }
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) printf("FAIL unit/stdlib_flows/cleanup: cannot remove %s\n", dir);
}

int main(void) {
  check_suite = "unit/stdlib_flows";
  char pattern[4096];
  glob_t g;
  snprintf(pattern, sizeof pattern, "%s/flows/*.iexflow", env("IEX_ROOT", "."));
  if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
    printf("FAIL unit/stdlib_flows: no flows at %s\n", pattern);
    return 1;
  }
  for (size_t i = 0; i < g.gl_pathc; i++) {
    const char *path = g.gl_pathv[i], *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char cmd[8192], output[16384];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s/bin/iexc' --test 'flows/%s' 2>&1", env("IEX_ROOT", "."),
             env("IEX_BUILD", "build/test"), base);
    FILE *p = popen(cmd, "r");
    size_t len = p ? fread(output, 1, sizeof output - 1, p) : 0;
    output[len] = '\0';
    int status = p ? pclose(p) : -1;
    const char *last = output + len;
    while (last > output && last[-1] == '\n') last--;
    while (last > output && last[-1] != '\n') last--;
    if (status != 0 || !strstr(last, " passed, 0 failed")) {
      /* Detail lines are indented, so the runner does not count iexc's
      ** own PASS lines as ours. */
      printf("FAIL unit/stdlib_flows/%s: iexc --test exited with status %d\n", base, status);
      for (char *line = output; *line;) {
        char *end = strchr(line, '\n');
        if (end) *end = '\0';
        printf("    %s\n", line);
        line = end ? end + 1 : line + strlen(line);
      }
    } else
      printf("PASS unit/stdlib_flows/%s\n", base);
  }
  globfree(&g);
  csv_table_flow();
  return 0;
}
