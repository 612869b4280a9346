/*
** json_roundtrip: how fast the record path's two ends are. Reads JSON
** Lines, decodes every line into Values (one arena, reset per record, as
** the runtime does), encodes it back to compact JSON, and reports MB/s,
** records/s and peak RSS. With --jansson it does the same with jansson's
** json_loads + json_dumps, the peer the bench compares against.
**
**   json_roundtrip [--jansson] [--decode-only] [--borrow] [--check]
**                  [--out FILE] ORDERS.jsonl
**
** --decode-only skips encoding. --borrow lets the decoder point into the
** line buffer instead of copying each line into the arena. --check counts
** the lines whose output is byte-identical to the input (gen_orders.py
** writes compact JSON, so all but the rare float it writes with an
** exponent should be). --out writes the output, one line per record.
** Figures: bench/README.md.
*/
#include "common/arena.h"
#include "common/buf.h"
#include "common/util.h"
#include "runtime/json_value.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_LINE ((size_t)16 * 1024 * 1024)

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void) {
  fprintf(stderr,
          "usage: json_roundtrip [--jansson] [--decode-only] [--borrow] [--check] [--out "
          "FILE] "
          "ORDERS.jsonl\n");
  exit(2);
}

int main(int argc, char **argv) {
  bool use_jansson = false, check = false, decode_only = false, borrow = false;
  const char *path = NULL, *out_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--jansson") == 0)
      use_jansson = true;
    else if (strcmp(argv[i], "--check") == 0)
      check = true;
    else if (strcmp(argv[i], "--decode-only") == 0)
      decode_only = true;
    else if (strcmp(argv[i], "--borrow") == 0)
      borrow = true;
    else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
      out_path = argv[++i];
    else if (argv[i][0] == '-' && argv[i][1])
      usage();
    else
      path = argv[i];
  }
  if (!path) usage();

  char err[256];
  JsonvLines lines;
  if (!jsonv_lines_open(&lines, path, MAX_LINE, err, sizeof err)) {
    fprintf(stderr, "json_roundtrip: %s\n", err);
    return 1;
  }
  FILE *out = NULL;
  if (out_path && !(out = fopen(out_path, "w"))) {
    fprintf(stderr, "json_roundtrip: cannot write %s\n", out_path);
    return 1;
  }

  Arena arena;
  arena_init(&arena);
  /* Borrowing is safe here: each line stays in the reader's buffer until
  ** the next call, and the arena is reset before that. */
  JsonvDecoder dec;
  JsonvOptions opt = {.input_outlives_arena = borrow};
  jsonv_decoder_init(&dec, &opt);
  Buf buf;
  buf_init(&buf, MAX_LINE * 2);

  size_t n_records = 0, n_bytes = 0, n_identical = 0, n_failed = 0;
  Str line;
  int rc;
  double t0 = now_s();
  while ((rc = jsonv_lines_next(&lines, &line, err, sizeof err)) != 0) {
    if (rc < 0) {
      fprintf(stderr, "json_roundtrip: %s\n", err);
      n_failed++;
      continue;
    }
    n_records++;
    n_bytes += line.len + 1;
    const char *text;
    size_t text_len;
    char *dumped = NULL;
    if (use_jansson) {
      json_error_t jerr;
      json_t *j = json_loadb(line.ptr, line.len, 0, &jerr);
      if (!j) {
        fprintf(stderr, "json_roundtrip: line %llu: %s\n",
                (unsigned long long)lines.line_no, jerr.text);
        n_failed++;
        continue;
      }
      if (!decode_only) dumped = json_dumps(j, JSON_COMPACT);
      json_decref(j);
      text = dumped ? dumped : "";
      text_len = strlen(text);
    } else {
      JsonvError jerr;
      Value v;
      buf_reset(&buf);
      if (!jsonv_decode_with(&dec, &arena, line, &v, &jerr) ||
          (!decode_only && !jsonv_encode(v, &buf, &jerr))) {
        char msg[512];
        fprintf(stderr, "json_roundtrip: line %llu: %s\n",
                (unsigned long long)lines.line_no,
                jsonv_error_text(&jerr, msg, sizeof msg));
        n_failed++;
        arena_reset(&arena);
        continue;
      }
      text = buf.data;
      text_len = buf.len;
    }
    if (check && text_len == line.len && memcmp(text, line.ptr, line.len) == 0)
      n_identical++;
    if (out) {
      fwrite(text, 1, text_len, out);
      fputc('\n', out);
    }
    free(dumped);
    arena_reset(&arena);
  }
  double secs = now_s() - t0;

  /* CPU time too: on a shared machine it varies less than wall time. */
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  double mb = (double)n_bytes / 1e6;
  const char *what =
      use_jansson ? (decode_only ? "jansson json_loadb" : "jansson json_loadb+json_dumps")
      : decode_only ? "iex jsonv_decode"
                    : "iex jsonv_decode+jsonv_encode";
  printf(
      "%s%s: %zu records, %.1f MB in %.3f s: %.0f MB/s, %.0f records/s, %.0f MB per CPU "
      "second, "
      "peak RSS %.1f MiB",
      what, borrow ? " (borrowed input)" : "", n_records, mb, secs, mb / secs,
      (double)n_records / secs, mb / cpu, (double)ru.ru_maxrss / 1024.0);
  if (check) printf(", %zu/%zu byte-identical", n_identical, n_records);
  printf("\n");

  buf_fini(&buf);
  jsonv_decoder_fini(&dec);
  arena_fini(&arena);
  jsonv_lines_close(&lines);
  if (out) fclose(out);
  return n_failed ? 1 : 0;
}
