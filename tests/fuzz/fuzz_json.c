/*
** Fuzz target: JSON -> Value -> JSON (runtime/json_value.c).
**
** For every input: decode it twice, once from the arena copy (strings
** unescaped in place) and once from borrowed input (unescaped into the
** arena); both must agree, on the value or on the error. A decoded value
** must then encode, decode back to an equal value, and encode to the same
** bytes again (the encoder's output is a fixed point); the pretty printer
** must round-trip too. Any disagreement aborts, which the fuzzer reports.
**
** Built by libFuzzer (clang -fsanitize=fuzzer) for `make fuzz`, and with
** a replay main over tests/fuzz/corpus/json/ under ASan and UBSan for
** `make test`. Seeds: tests/fuzz/corpus/json/.
*/
#include "common/arena.h"
#include "common/buf.h"
#include "runtime/json_value.h"
#include "runtime/value.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const uint8_t *data, size_t size) {
  fprintf(stderr, "fuzz_json: %s (input of %zu bytes: %.*s)\n", what, size,
          (int)(size > 200 ? 200 : size), (const char *)data);
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Kept between inputs, as the runtime keeps them between records. */
  static Arena arena;
  static JsonvDecoder copying, borrowing;
  static bool ready;
  if (!ready) {
    arena_init(&arena);
    /* A modest depth limit keeps the encoder's recursion shallow too. */
    JsonvOptions opt = {.max_depth = 64, .max_bytes = 1 << 20};
    jsonv_decoder_init(&copying, &opt);
    opt.input_outlives_arena = true;
    jsonv_decoder_init(&borrowing, &opt);
    ready = true;
  }
  Str input = str_make((const char *)data, size);
  Value v, w;
  JsonvError e1, e2;
  bool ok1 = jsonv_decode_with(&copying, &arena, input, &v, &e1);
  bool ok2 = jsonv_decode_with(&borrowing, &arena, input, &w, &e2);
  if (ok1 != ok2) fail("copying and borrowing decoders disagree on success", data, size);
  if (!ok1) {
    if (strcmp(e1.message, e2.message) != 0 || e1.offset != e2.offset)
      fail("copying and borrowing decoders disagree on the error", data, size);
    if (e1.offset > size || e1.line < 1 || e1.column < 1 || !e1.message[0])
      fail("error position out of range", data, size);
    arena_reset(&arena);
    return 0;
  }
  if (!value_equal(v, w))
    fail("copying and borrowing decoders disagree on the value", data, size);

  Buf first, second;
  buf_init(&first, 0);
  buf_init(&second, 0);
  JsonvError err;
  Value back;
  if (!jsonv_encode(v, &first, &err)) fail("a decoded value does not encode", data, size);
  if (!jsonv_decode_with(&copying, &arena, buf_str(&first), &back, &err))
    fail("the encoder's output does not decode", data, size);
  if (!value_equal(v, back))
    fail("value changed in an encode/decode round trip", data, size);
  if (!jsonv_encode(back, &second, &err) || !str_eq(buf_str(&first), buf_str(&second)))
    fail("encoding is not a fixed point", data, size);
  buf_reset(&second);
  if (!jsonv_encode_pretty(v, &second, &err) ||
      !jsonv_decode_with(&copying, &arena, buf_str(&second), &back, &err) ||
      !value_equal(v, back))
    fail("pretty output does not round-trip", data, size);
  buf_fini(&first);
  buf_fini(&second);
  arena_reset(&arena);
  return 0;
}
