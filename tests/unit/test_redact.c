/* Unit tests of redaction: secret header names, header JSON in both
** shapes, nested request headers, the JSON scanner's checks, and the
** reference rule for connection configs. */
#include <stdlib.h>
#include <string.h>

#include "runtime/redact.h"
#include "tests/lib/check.h"

/* Redact `in` with `fn` and compare with `want` (NULL: must fail). */
static void expect_redacted(IexStatus (*fn)(Str, char **, Err *),
                            const char *in, const char *want, int line) {
  Err err;
  err_init(&err);
  char *out = NULL;
  IexStatus rc = fn(str_from_cstr(in), &out, &err);
  if (want && rc != IEX_OK)
    check_fail(__FILE__, line, "redacting %s failed: %s", in, err_text(&err));
  else if (want && strcmp(out, want) != 0)
    check_fail(__FILE__, line,
               "redacting %s gave\n      %s\n    expected\n      %s", in, out,
               want);
  else if (!want && rc != IEX_E_INVALID_JSON)
    check_fail(__FILE__, line,
               "redacting %s should fail as invalid JSON, gave %s", in,
               status_name(rc));
  if (!want && out)
    check_fail(__FILE__, line, "a failed redaction returned text");
  free(out);
}
#define HEADERS(in, want) expect_redacted(redact_headers, in, want, __LINE__)
#define NESTED(in, want) \
  expect_redacted(redact_nested_headers, in, want, __LINE__)

TEST(secret_names) {
  const char *secret[] = {"Authorization",
                          "authorization",
                          "Proxy-Authorization",
                          "X-Shopify-Access-Token",
                          "X-AppSecretToken",
                          "X-AgreementGrantToken",
                          "Cookie",
                          "Set-Cookie",
                          "X-Api-Key",
                          "api_key",
                          "password",
                          "X-Auth-Email",
                          "client_secret",
                          "PASSWD"};
  const char *plain[] = {"Content-Type",
                         "X-Shopify-Hmac-Sha256",
                         "X-WC-Webhook-Signature",
                         "X-Shopify-Topic",
                         "Idempotency-Key",
                         "X-Idempotency-Key",
                         "X-Shopify-Event-Id",
                         "User-Agent",
                         ""};
  for (size_t i = 0; i < sizeof secret / sizeof *secret; i++)
    if (!redact_is_secret_name(str_from_cstr(secret[i])))
      check_fail(__FILE__, __LINE__, "`%s` should be secret", secret[i]);
  for (size_t i = 0; i < sizeof plain / sizeof *plain; i++)
    if (redact_is_secret_name(str_from_cstr(plain[i])))
      check_fail(__FILE__, __LINE__, "`%s` should not be secret", plain[i]);
}

TEST(header_objects_and_lists) {
  HEADERS("{}", "{}");
  HEADERS("[]", "[]");
  HEADERS(
      "{\"Authorization\": \"Bearer abc\", \"Content-Type\": "
      "\"application/json\"}",
      "{\"Authorization\": \"***\", \"Content-Type\": \"application/json\"}");
  /* Every byte but the secret stays as it was, spacing included. */
  HEADERS(" {\n  \"X-Shopify-Access-Token\"  :\"shpat_1\" ,\"n\":1.50e3 } ",
          " {\n  \"X-Shopify-Access-Token\"  :\"***\" ,\"n\":1.50e3 } ");
  HEADERS(
      "{\"Cookie\": [\"a=1\", \"b=2\"], \"x\": {\"Authorization\": \"inner\"}}",
      "{\"Cookie\": \"***\", \"x\": {\"Authorization\": \"inner\"}}");
  HEADERS(
      "[[\"X-AppSecretToken\", \"s1\"], [\"Accept\", \"*/*\"], "
      "[\"X-AgreementGrantToken\", \"g1\", \"g2\"], []]",
      "[[\"X-AppSecretToken\", \"***\"], [\"Accept\", \"*/*\"], "
      "[\"X-AgreementGrantToken\", \"***\", \"***\"], []]");
  HEADERS(
      "[{\"value\": \"Bearer x\", \"name\": \"Authorization\"}, {\"name\": "
      "\"Accept\", \"value\": \"*/*\"}]",
      "[{\"value\": \"***\", \"name\": \"Authorization\"}, {\"name\": "
      "\"Accept\", \"value\": \"*/*\"}]");
  /* Names written with escapes are still recognised. */
  HEADERS("{\"\\u0041uthorization\": \"Bearer abc\"}",
          "{\"\\u0041uthorization\": \"***\"}");
  HEADERS("{\"Authorization\": \"a \\\"quoted\\\" \\\\ value\"}",
          "{\"Authorization\": \"***\"}");
  /* Not headers: a string, a number, broken JSON. */
  HEADERS("\"Authorization\"", NULL);
  HEADERS("42", NULL);
  HEADERS("{\"Authorization\": \"abc\"", NULL);
  HEADERS("{\"a\": 1,}", NULL);
  HEADERS("{\"a\": 01}", NULL);
  HEADERS("{\"a\": \"\x01\"}", NULL);
  HEADERS("{\"a\": tru}", NULL);
  HEADERS("{} {}", NULL);
  HEADERS("", NULL);
}

TEST(nested_request_headers) {
  NESTED(
      "{\"method\": \"POST\", \"headers\": {\"X-AppSecretToken\": \"s\"}, "
      "\"body\": {\"total\": 12.10, \"token\": \"not a header\"}}",
      "{\"method\": \"POST\", \"headers\": {\"X-AppSecretToken\": \"***\"}, "
      "\"body\": {\"total\": 12.10, \"token\": \"not a header\"}}");
  NESTED(
      "[{\"Headers\": [[\"Authorization\", \"x\"]]}, {\"headers\": \"weird\"}]",
      "[{\"Headers\": [[\"Authorization\", \"***\"]]}, {\"headers\": "
      "\"weird\"}]");
  NESTED("123456789012345678901234567890.000",
         "123456789012345678901234567890.000");
  NESTED("null", "null");
  NESTED("{\"a\": [1, 2, {\"b\": false}]}", "{\"a\": [1, 2, {\"b\": false}]}");
  NESTED("[1 2]", NULL);
  /* Deep nesting is refused, not a stack overflow. */
  char deep[2000];
  memset(deep, '[', 1000);
  memset(deep + 1000, ']', 999);
  deep[1999] = '\0';
  NESTED(deep, NULL);
}

TEST(json_check) {
  Err err;
  err_init(&err);
  CHECK_EQ_INT(redact_check_json(
                   STR_LIT("{\"a\": [1, -2.5e-3, true, null, \"x\"]}"), &err),
               IEX_OK);
  CHECK_EQ_INT(redact_check_json(STR_LIT("{\"a\": }"), &err),
               IEX_E_INVALID_JSON);
  CHECK(strstr(err.message, "byte 6") != NULL);
  CHECK_EQ_INT(redact_check_json(STR_LIT("-"), &err), IEX_E_INVALID_JSON);
  CHECK_EQ_INT(redact_check_json(STR_LIT("1."), &err), IEX_E_INVALID_JSON);
  CHECK_EQ_INT(redact_check_json(STR_LIT("\"\\x\""), &err), IEX_E_INVALID_JSON);
  CHECK_EQ_INT(redact_check_json(STR_LIT("\"\\u12\""), &err),
               IEX_E_INVALID_JSON);
}

TEST(configs_hold_references_only) {
  Err err;
  err_init(&err);
  CHECK_EQ_INT(
      redact_check_references(
          STR_LIT("{\"shop\": {\"domain\": \"x.myshopify.com\", "
                  "\"access_token\": \"env:SHOP_TOKEN\", "
                  "\"webhook_secret\": \"file:/etc/iex/hook\"}, \"books\": "
                  "{\"app_secret_token\": null}}"),
          &err),
      IEX_OK);
  CHECK_EQ_INT(
      redact_check_references(
          STR_LIT("{\"shop\": {\"access_token\": \"shpat_123\"}}"), &err),
      IEX_E_SECRET_VALUE);
  CHECK(strstr(err.message, "`shop.access_token`") != NULL);
  CHECK(strstr(err.message, "shpat_123") == NULL);
  CHECK_EQ_INT(redact_check_references(
                   STR_LIT("{\"list\": [{\"password\": 1234}]}"), &err),
               IEX_E_SECRET_VALUE);
  CHECK(strstr(err.message, "`list[0].password`") != NULL);
  CHECK_EQ_INT(redact_check_references(STR_LIT("{\"api_key\": true}"), &err),
               IEX_E_SECRET_VALUE);
  CHECK_EQ_INT(redact_check_references(STR_LIT("{\"x\": "), &err),
               IEX_E_INVALID_JSON);
}

int main(void) {
  check_suite = "unit/redact";
  RUN(secret_names);
  RUN(header_objects_and_lists);
  RUN(nested_request_headers);
  RUN(json_check);
  RUN(configs_hold_references_only);
  return check_done();
}
