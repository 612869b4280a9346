/* Unit tests of webhook verification (connectors/webhook.h): Shopify and
** WooCommerce signatures good, bad and missing, the WooCommerce ping, dedup
** keys, malformed bodies and the replay window. */
#include <stdio.h>
#include <string.h>

#include "connectors/webhook.h"
#include "tests/lib/check.h"

#define NOW ((int64_t)1714564800 * 1000000) /* 2024-05-01T12:00:00Z */
#define SECRET "shopify_client_secret"

static const char order_body[] =
    "{\"id\":5610000001001,\"name\":\"#1001\","
    "\"updated_at\":\"2024-05-01T13:30:00+02:00\",\"total_price\":\"19.99\"}";

static WebhookVerdict shopify(const char *body, const char *sig,
                              const char *topic, const char *event,
                              WebhookDelivery *d, char *why) {
  WebhookHeader h[] = {{"x-shopify-hmac-sha256", sig},
                       {"X-Shopify-Topic", topic},
                       {"X-Shopify-Webhook-Id", "w-1"},
                       {"X-Shopify-Event-Id", event}};
  size_t n = 0;
  WebhookHeader use[4];
  for (size_t i = 0; i < 4; i++)
    if (h[i].value) use[n++] = h[i];
  WebhookCheck c = {.system = "shopify", .secret = SECRET, .headers = use,
                    .n_headers = n, .body = body, .body_len = strlen(body),
                    .now_us = NOW};
  return webhook_verify(&c, d, why, 200);
}

TEST(sign_known_vector) {
  /* RFC 4231 test case 2 (key "Jefe"), its digest in base64 as Python prints it. */
  char sig[WEBHOOK_SIGNATURE_SIZE];
  webhook_sign("Jefe", "what do ya want for nothing?", 28, sig);
  CHECK_EQ_STR(sig, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
  CHECK(webhook_signature_ok("Jefe", "what do ya want for nothing?", 28,
                             " W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM= "));
  CHECK(!webhook_signature_ok("Jefe", "what do ya want for nothing!", 28, sig));
  CHECK(!webhook_signature_ok("Jefe", "what do ya want for nothing?", 28,
                              "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM"));
  CHECK(!webhook_signature_ok("Jefe", "what do ya want for nothing?", 28, ""));
  /* Every byte counts: only the last digit before the padding differs. */
  CHECK(!webhook_signature_ok("Jefe", "what do ya want for nothing?", 28,
                              "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEN="));
}

TEST(shopify_good) {
  char sig[WEBHOOK_SIGNATURE_SIZE], why[200] = "";
  webhook_sign(SECRET, order_body, strlen(order_body), sig);
  WebhookDelivery d;
  CHECK_EQ_INT(shopify(order_body, sig, "orders/paid", "ev-9", &d, why),
               WEBHOOK_OK);
  CHECK_EQ_STR(d.dedup_key, "shopify:event:ev-9");
  CHECK_EQ_STR(d.topic, "orders/paid");
  CHECK_EQ_STR(d.record_type, "order");
  CHECK_EQ_STR(d.record_id, "5610000001001");
  CHECK_EQ_INT(d.record_time_us, NOW - (int64_t)1800 * 1000000); /* 11:30Z */
  /* Without the event id, the webhook id (stable across retries). */
  CHECK_EQ_INT(shopify(order_body, sig, "refunds/create", NULL, &d, why),
               WEBHOOK_OK);
  CHECK_EQ_STR(d.dedup_key, "shopify:webhook:w-1");
  CHECK_EQ_STR(d.record_type, "refund");
}

TEST(shopify_bad_and_missing) {
  char sig[WEBHOOK_SIGNATURE_SIZE], why[200] = "";
  WebhookDelivery d;
  webhook_sign("another secret", order_body, strlen(order_body), sig);
  CHECK_EQ_INT(shopify(order_body, sig, "orders/paid", "e", &d, why),
               WEBHOOK_BAD_SIGNATURE);
  CHECK(!strstr(why, SECRET));
  CHECK_EQ_INT(shopify(order_body, NULL, "orders/paid", "e", &d, why),
               WEBHOOK_UNSIGNED);
  /* One byte changed in the body. */
  char body[sizeof order_body];
  memcpy(body, order_body, sizeof body);
  webhook_sign(SECRET, body, strlen(body), sig);
  body[strlen(body) - 3] = '8';
  CHECK_EQ_INT(shopify(body, sig, "orders/paid", "e", &d, why),
               WEBHOOK_BAD_SIGNATURE);
  CHECK_EQ_INT(webhook_http_status(WEBHOOK_BAD_SIGNATURE), 401);
}

TEST(shopify_malformed) {
  char sig[WEBHOOK_SIGNATURE_SIZE], why[200] = "";
  WebhookDelivery d;
  const char *bad = "[1, 2]";
  webhook_sign(SECRET, bad, strlen(bad), sig);
  CHECK_EQ_INT(shopify(bad, sig, "orders/paid", "e", &d, why), WEBHOOK_MALFORMED);
  webhook_sign(SECRET, order_body, strlen(order_body), sig);
  CHECK_EQ_INT(shopify(order_body, sig, NULL, "e", &d, why), WEBHOOK_MALFORMED);
  CHECK_EQ_INT(shopify(order_body, sig, "orders", "e", &d, why),
               WEBHOOK_MALFORMED);
  char long_id[400];
  memset(long_id, 'x', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  CHECK_EQ_INT(shopify(order_body, sig, "orders/paid", long_id, &d, why),
               WEBHOOK_MALFORMED);
}

TEST(replay_window) {
  char body[256], sig[WEBHOOK_SIGNATURE_SIZE], why[200] = "";
  WebhookDelivery d;
  /* Four days old: a replay. */
  snprintf(body, sizeof body,
           "{\"id\":1,\"updated_at\":\"2024-04-27T11:00:00Z\"}");
  webhook_sign(SECRET, body, strlen(body), sig);
  CHECK_EQ_INT(shopify(body, sig, "orders/updated", "e", &d, why),
               WEBHOOK_STALE);
  CHECK_EQ_INT(webhook_http_status(WEBHOOK_STALE), 409);
  /* Two days old: a legitimate retry. */
  snprintf(body, sizeof body,
           "{\"id\":1,\"updated_at\":\"2024-04-29T12:00:00Z\"}");
  webhook_sign(SECRET, body, strlen(body), sig);
  CHECK_EQ_INT(shopify(body, sig, "orders/updated", "e", &d, why), WEBHOOK_OK);
  /* An hour in the future. */
  snprintf(body, sizeof body,
           "{\"id\":1,\"updated_at\":\"2024-05-01T13:00:00Z\"}");
  webhook_sign(SECRET, body, strlen(body), sig);
  CHECK_EQ_INT(shopify(body, sig, "orders/updated", "e", &d, why),
               WEBHOOK_STALE);
}

static WebhookVerdict woo(const char *body, const char *sig, WebhookDelivery *d) {
  WebhookHeader h[] = {{"X-WC-Webhook-Source", "http://shop.example/"},
                       {"X-WC-Webhook-Topic", "order.updated"},
                       {"X-WC-Webhook-Resource", "order"},
                       {"X-WC-Webhook-Signature", sig}};
  WebhookCheck c = {.system = "woocommerce", .secret = "wsecret",
                    .headers = h, .n_headers = sig ? 4 : 3, .body = body,
                    .body_len = strlen(body), .now_us = NOW};
  char why[200];
  return webhook_verify(&c, d, why, sizeof why);
}

TEST(woocommerce) {
  const char *body =
      "{\"id\":727,\"status\":\"completed\","
      "\"date_modified_gmt\":\"2024-05-01T11:59:00\"}";
  char sig[WEBHOOK_SIGNATURE_SIZE];
  WebhookDelivery d;
  webhook_sign("wsecret", body, strlen(body), sig);
  CHECK_EQ_INT(woo(body, sig, &d), WEBHOOK_OK);
  CHECK_EQ_STR(d.dedup_key,
               "woocommerce:http://shop.example/:order:727:2024-05-01T11:59:00");
  CHECK_EQ_STR(d.record_type, "order");
  CHECK_EQ_INT(d.record_time_us, NOW - 60 * 1000000);
  webhook_sign("wrong", body, strlen(body), sig);
  CHECK_EQ_INT(woo(body, sig, &d), WEBHOOK_BAD_SIGNATURE);
  CHECK_EQ_INT(woo(body, NULL, &d), WEBHOOK_UNSIGNED);
  /* The ping: unsigned, form-encoded, answered 200, nothing stored. */
  CHECK_EQ_INT(woo("webhook_id=12", NULL, &d), WEBHOOK_PING);
  CHECK_EQ_INT(woo("webhook_id=12&x=1", NULL, &d), WEBHOOK_UNSIGNED);
  CHECK_EQ_INT(woo("webhook_id=", NULL, &d), WEBHOOK_UNSIGNED);
  /* Signed but without an id: nothing to deduplicate on. */
  const char *noid = "{\"status\":\"completed\"}";
  webhook_sign("wsecret", noid, strlen(noid), sig);
  CHECK_EQ_INT(woo(noid, sig, &d), WEBHOOK_MALFORMED);
}

TEST(unknown_system) {
  WebhookCheck c = {.system = "economic", .secret = "s", .body = "{}",
                    .body_len = 2, .now_us = NOW};
  WebhookDelivery d;
  CHECK_EQ_INT(webhook_verify(&c, &d, NULL, 0), WEBHOOK_UNKNOWN_SYSTEM);
}

int main(void) {
  check_suite = "unit/webhook";
  RUN(sign_known_vector);
  RUN(shopify_good);
  RUN(shopify_bad_and_missing);
  RUN(shopify_malformed);
  RUN(replay_window);
  RUN(woocommerce);
  RUN(unknown_system);
  return check_done();
}
