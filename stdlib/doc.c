/*
** docs/stdlib.md, generated from the registry (stdlib.def) and the VAT
** table (vat_rates.def), so that the documentation cannot drift from
** what the checker and the VM use. The prose that is not per function
** (conventions, lookup tables) is here, next to the code it describes.
*/
#include <string.h>

#include "stdlib/stdlib.h"
#include "stdlib/vat_rates.def" /* VAT_RATES_FROM */

typedef struct Family {
  const char *id;    /* as in stdlib.def */
  const char *title; /* section heading */
  const char *intro; /* paragraph under the heading, or "" */
} Family;

static const Family families[] = {
    {"str", "Strings",
     "Positions, lengths and widths count characters (Unicode code points), not bytes: "
     "`length(\"Kjær\")` is 4, and `truncate` never cuts a character in half. Results "
     "longer than 16 MiB, and pad widths above 1,000,000, are errors."},
    {"money", "Numbers and money",
     "Exact decimals throughout (never binary floating point): at most 18 significant "
     "digits, and a result that does not fit is an error, never a silent loss of digits. "
     "An `int` is accepted wherever a decimal is."},
    {"date", "Dates and times",
     "A `datetime` keeps the UTC offset it was written with; its calendar date is the "
     "date at that offset. Dates stay within the years 0000..9999."},
    {"list", "Lists",
     "`for` and `where` map and filter (see docs/language.md); these are the rest. A key "
     "or condition is written `x => EXPR` and computed once per element. A `null` list "
     "counts as empty."},
    {"vat", "EU VAT",
     "Country codes are ISO 3166-1 alpha-2 (`DK`; `EL` is accepted for Greece), in "
     "either case; a value that is not two letters is an error. The rates are in the "
     "table at the end of this page (stdlib/vat_rates.def)."},
    {"record", "Records and values", ""},
};

static void heading_anchor(Buf *out, const char *title) {
  for (const char *p = title; *p; p++) {
    if (*p == ' ') buf_putc(out, '-');
    else if (*p >= 'A' && *p <= 'Z') buf_putc(out, (char)(*p + 32));
    else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) buf_putc(out, *p);
  }
}

void std_doc_write(Buf *out) {
  buf_puts(out,
           "# The standard library\n"
           "\n"
           "<!-- Generated from stdlib/stdlib.def and stdlib/vat_rates.def by `make docs`;\n"
           "     do not edit: tests/unit/test_stdlib_doc.c fails when this file is stale. -->\n"
           "\n"
           "The functions every mapping can call, without `use`. Arguments are positional,\n"
           "then named: `round(x, 2, mode: half_even)`, `vat_rate(country, on: order_date)`.\n"
           "\n"
           "Conventions, for every function unless its entry says otherwise:\n"
           "\n"
           "- **Signatures.** `T?` may be `null`; a `null` argument gives a `null` result.\n"
           "  `= DEFAULT` marks an optional parameter; `mode: rounding = flow` defaults to\n"
           "  the flow's `rounding` rule. `x => EXPR` parameters take a key or condition.\n"
           "- **Errors** fail the transfer with a message naming the value and the flow\n"
           "  location: ``flows/shop.iexflow:42:17: `abc` is not a number``.\n"
           "- **No clock.** `now()` is when the transfer started, so a retry computes the\n"
           "  same result.\n"
           "\n");
  buf_puts(out, "Contents: ");
  for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
    buf_printf(out, "[%s](#", families[f].title);
    heading_anchor(out, families[f].title);
    buf_puts(out, ") · ");
  }
  buf_puts(out, "[Lookup tables](#lookup-tables) · [EU VAT rates](#eu-vat-rates)\n\n");

  for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
    buf_printf(out, "## %s\n\n", families[f].title);
    if (families[f].intro[0]) buf_printf(out, "%s\n\n", families[f].intro);
    for (size_t i = 0; i < STD__COUNT; i++) {
      const StdEntry *e = &std_functions[i];
      if (strcmp(e->family, families[f].id) != 0) continue;
      /* "(text: string?) -> string?" becomes "trim(text: string?) -> string?". */
      buf_printf(out, "### `%s`\n\n```\n%s%s\n```\n\n%s\n\n", e->name, e->name, e->signature,
                 e->doc);
    }
  }

  buf_puts(out,
           "## Lookup tables\n"
           "\n"
           "`table NAME { \"key\" => value … }` in a flow is an inline table; `table NAME =\n"
           "csv(\"FILE.csv\")` reads a CSV file that lies next to the flow when the flow is\n"
           "compiled. `NAME[key]` is the row (or value) for `key`, or `null` when there is\n"
           "none.\n"
           "\n"
           "CSV files follow RFC 4180, read strictly so a broken file is found when the flow\n"
           "is compiled, never half-used:\n"
           "\n"
           "- The first row names the columns; names must be unique and not empty. The key\n"
           "  is the first column.\n"
           "- Fields are separated by `,`, or by `;` or a tab when the header row has more of\n"
           "  those than commas (spreadsheets in Danish and German settings write `;`).\n"
           "- A field may be quoted with `\"`; inside quotes `\"\"` is a quote, and separators\n"
           "  and line breaks are text. Lines end with LF or CRLF; a UTF-8 byte-order mark\n"
           "  is skipped; blank lines are ignored.\n"
           "- Each row becomes a record of strings named by the header; an empty field is\n"
           "  `null`, so `products[sku].account ?? 1010` works.\n"
           "- Errors name the file and line: a row with more or fewer fields than the\n"
           "  header, a quote that is not closed (with the line it opened on), text after a\n"
           "  closing quote, a repeated or empty key, text that is not UTF-8.\n"
           "\n"
           "## EU VAT rates\n"
           "\n"
           "The standard rates `vat_rate` uses, each valid from its date until the next row\n"
           "of the same country. The table starts on " VAT_RATES_FROM
           ": the first row of a\n"
           "country is the rate in force then, and earlier dates are an error.\n"
           "\n"
           "| Country | VAT prefix | Member since | Valid from | Rate | Note |\n"
           "|---|---|---|---|---|---|\n");
  typedef struct { const char *iso, *prefix, *joined; } Member;
  static const Member members[] = {
#define EU_MEMBER(iso, prefix, joined) {#iso, #prefix, joined},
#include "stdlib/vat_rates.def"
#undef EU_MEMBER
  };
  typedef struct { const char *iso, *from, *rate, *note; } Rate;
  static const Rate rates[] = {
#define VAT_RATE(iso, from, rate, note) {#iso, from, rate, note},
#include "stdlib/vat_rates.def"
#undef VAT_RATE
  };
  for (size_t m = 0; m < sizeof members / sizeof members[0]; m++) {
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
      if (strcmp(rates[r].iso, members[m].iso) != 0) continue;
      buf_printf(out, "| %s | %s | %s | %s | %s %% | %s |\n", members[m].iso, members[m].prefix,
                 members[m].joined, rates[r].from, rates[r].rate, rates[r].note);
    }
  }
}
