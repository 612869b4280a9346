"""WooCommerce REST v3 emulator checks."""

import base64
import datetime
import json
import re
import time
import urllib.parse
from decimal import Decimal as D

from support import case, check, eq, http, Receiver, b64_hmac_sha256, hdr

CK = "ck_emulator0000000000000000000000000000000"
CS = "cs_emulator0000000000000000000000000000000"
BASIC = {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (CK, CS)).encode()).decode()}


def api(emu, path):
    return emu.url + "/wp-json/wc/v3/" + path


def get(emu, path, headers=BASIC):
    return http("GET", api(emu, path), headers)


def send(emu, method, path, body):
    return http(method, api(emu, path), BASIC, body)


def next_link(r):
    m = re.search(r'<([^>]+)>; rel="next"', r.header("Link") or "")
    return m.group(1) if m else None


@case("woocommerce/auth", "woocommerce")
def auth(emu):
    r = get(emu, "orders", headers={})
    eq(r.status, 401, "no credentials")
    eq(r.json(), {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.",
                  "data": {"status": 401}}, "unauthenticated list error")
    bad = {"Authorization": "Basic " + base64.b64encode(b"ck_wrong:" + CS.encode()).decode()}
    eq(get(emu, "orders", headers=bad).json()["message"], "Consumer key is invalid.", "wrong key")
    bad = {"Authorization": "Basic " + base64.b64encode(CK.encode() + b":cs_wrong").decode()}
    eq(get(emu, "orders", headers=bad).json()["code"], "woocommerce_rest_authentication_error", "wrong secret")
    eq(get(emu, "orders").status, 200, "HTTP Basic with key and secret")
    q = "orders?" + urllib.parse.urlencode({"consumer_key": CK, "consumer_secret": CS})
    eq(get(emu, q, headers={}).status, 200, "query-string fallback")
    r = get(emu, "nothing")
    eq((r.status, r.json()["code"]), (404, "rest_no_route"), "unknown route")
    r = get(emu, "orders/999999")
    eq((r.status, r.json()["code"]), (404, "woocommerce_rest_shop_order_invalid_id"), "unknown order")


@case("woocommerce/pagination-x-wp-total", "woocommerce")
def pagination(emu):
    r = get(emu, "orders?per_page=7")
    total, pages = int(r.header("X-WP-Total")), int(r.header("X-WP-TotalPages"))
    check(total >= 30, "seeded orders: %d" % total)
    eq(pages, -(-total // 7), "X-WP-TotalPages")
    seen, url, n = [], api(emu, "orders?per_page=7"), 0
    while url:
        r = http("GET", url, BASIC)
        eq(r.status, 200, "page %d" % (n + 1))
        eq(r.header("X-WP-Total"), str(total), "X-WP-Total on every page")
        seen += [o["id"] for o in r.json()]
        url = next_link(r)
        n += 1
        check(n <= pages, "more pages than X-WP-TotalPages")
    eq(n, pages, "pages followed")
    eq(len(set(seen)), total, "distinct orders")
    eq(seen, sorted(seen, reverse=True), "default order: newest first")
    check('rel="prev"' in (get(emu, "orders?per_page=7&page=2").header("Link") or ""), "rel=prev on page 2")
    r = get(emu, "orders?per_page=101")
    eq(r.status, 400, "per_page above 100")
    eq(r.json()["code"], "rest_invalid_param", "error code")
    check("per_page" in r.json()["data"]["params"], "data.params names the parameter", r.json())
    eq(get(emu, "orders?per_page=100").status, 200, "per_page 100")


@case("woocommerce/order-shape-and-filters", "woocommerce")
def shapes(emu):
    labels = emu.labels()
    o = get(emu, "orders/%d" % labels["cent-difference"]).json()
    for f in ("total", "total_tax", "shipping_total", "discount_total", "cart_tax"):
        check(isinstance(o[f], str) and re.fullmatch(r"\d+\.\d\d", o[f]), "%s is a 2-decimal string" % f, o[f])
    li = o["line_items"][0]
    check(isinstance(li["price"], (int, float)) and not isinstance(li["price"], bool), "line price is a number", li["price"])
    check(isinstance(li["total"], str) and isinstance(li["subtotal_tax"], str), "other line money are strings")
    eq(o["total"], "239.97", "cent-difference order total")
    eq(D(li["total"]) + D(li["total_tax"]), D("239.97"), "line total + tax")
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", o["date_created"]), "date without zone", o["date_created"])
    local = datetime.datetime.fromisoformat(o["date_created"])
    gmt = datetime.datetime.fromisoformat(o["date_created_gmt"])
    check(local - gmt in (datetime.timedelta(hours=1), datetime.timedelta(hours=2)), "_gmt twin is UTC (site is Copenhagen)")
    check("_links" in o and o["_links"]["self"][0]["href"].endswith("/orders/%d" % o["id"]), "_links")
    de = get(emu, "orders/%d" % labels["oss-de"]).json()
    eq(de["tax_lines"][0]["rate_percent"], 19.0, "German order VAT")
    eq(de["billing"]["country"], "DE", "German billing country")
    ms = get(emu, "orders/%d" % labels["missing-sku"]).json()
    check(any(l["sku"] == "" for l in ms["line_items"]), "missing-sku order")
    pend = get(emu, "orders?status=pending&per_page=100").json()
    check(pend and all(x["status"] == "pending" for x in pend), "status filter")
    two = get(emu, "orders?status=pending,on-hold&per_page=100").json()
    check(len(two) >= len(pend) and all(x["status"] in ("pending", "on-hold") for x in two), "status list")
    eq(get(emu, "orders?status=paid").status, 400, "invalid status value")
    allo = get(emu, "orders?per_page=100&order=asc").json()
    mid = allo[20]["date_created"]
    after = get(emu, "orders?per_page=100&after=" + urllib.parse.quote(mid)).json()
    eq(len(after), len(allo) - 21, "after= (site local time, exclusive)")
    eq(get(emu, "orders?after=yesterday").status, 400, "invalid date")
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None) - datetime.timedelta(seconds=2)
    emu.update_order(allo[0]["id"], status="completed")
    mod = get(emu, "orders?dates_are_gmt=true&modified_after=" + before.isoformat()).json()
    eq([x["id"] for x in mod], [allo[0]["id"]], "modified_after with dates_are_gmt")
    eq(mod[0]["status"], "completed", "status changed")
    check(mod[0]["date_completed"], "date_completed set")


@case("woocommerce/refunds", "woocommerce")
def refunds(emu):
    labels = emu.labels()
    o = get(emu, "orders/%d" % labels["refund"]).json()
    check(o["refunds"] and o["refunds"][0]["total"].startswith("-"), "order.refunds total is negative", o["refunds"])
    lst = get(emu, "orders/%d/refunds" % o["id"]).json()
    eq(len(lst), 1, "refund list")
    check(isinstance(lst[0]["amount"], str), "refund amount is a string")
    oid = labels["company"]
    r = send(emu, "POST", "orders/%d/refunds" % oid, {"amount": "10.00", "reason": "Ridse i koppen", "api_refund": False})
    eq(r.status, 201, "create refund")
    eq(r.json()["amount"], "10.00", "refund amount")
    r = send(emu, "POST", "orders/%d/refunds" % oid, {"amount": "99999.00"})
    eq(r.json()["code"], "woocommerce_rest_cannot_create_order_refund", "over-refund refused")
    total = get(emu, "orders/%d" % oid).json()["total"]
    rest = str(D(total) - D("10.00"))
    eq(send(emu, "POST", "orders/%d/refunds" % oid, {"amount": rest}).status, 201, "refund the rest")
    eq(get(emu, "orders/%d" % oid).json()["status"], "refunded", "fully refunded order")


@case("woocommerce/customers-products", "woocommerce")
def customers(emu):
    r = get(emu, "customers?email=" + urllib.parse.quote("lars.nielsen@example.dk")).json()
    eq([c["first_name"] for c in r], ["Lars"], "customer by email")
    r = send(emu, "POST", "customers", {"email": "lars.nielsen@example.dk", "first_name": "L"})
    eq((r.status, r.json()["code"]), (400, "registration-error-email-exists"), "duplicate email")
    r = send(emu, "POST", "customers", {"email": "ny.kunde@example.dk", "first_name": "Ny"})
    eq(r.status, 201, "create customer")
    p = get(emu, "products?sku=KAFFE-ESP-500").json()
    eq([x["sku"] for x in p], ["KAFFE-ESP-500"], "product by sku")
    check(isinstance(p[0]["price"], str), "product price is a string")


@case("woocommerce/webhook-ping-and-signature", "woocommerce")
def webhook(emu):
    with Receiver() as rx:
        r = send(emu, "POST", "webhooks", {"name": "iex", "topic": "order.created", "delivery_url": rx.url,
                                           "secret": "wc-secret-1"})
        eq(r.status, 201, "create webhook")
        w = r.json()
        eq((w["status"], w["resource"], w["event"]), ("active", "order", "created"), "webhook object")
        check("secret" not in w, "the secret is not echoed")
        ping = rx.wait(1)
        eq(len(ping), 1, "ping on creation")
        eq(ping[0]["body"], ("webhook_id=%d" % w["id"]).encode(), "ping body is the form webhook_id=<id>")
        check(hdr(ping[0], "X-WC-Webhook-Signature") is None, "ping is unsigned")
        o = emu.create_order({"lines": [{"sku": "TE-GRON-100", "quantity": 2}]})
        got = rx.wait(2)
        d = got[1]
        eq(hdr(d, "X-WC-Webhook-Signature"), b64_hmac_sha256("wc-secret-1", d["body"]),
           "signature = base64(HMAC-SHA256(raw body, secret))")
        eq(hdr(d, "X-WC-Webhook-Topic"), "order.created", "topic header")
        eq(hdr(d, "X-WC-Webhook-Resource"), "order", "resource header")
        eq(hdr(d, "X-WC-Webhook-Event"), "created", "event header")
        eq(hdr(d, "X-WC-Webhook-ID"), str(w["id"]), "webhook id header")
        eq(hdr(d, "X-WC-Webhook-Source"), "https://nordisk-kaffe.example/", "source has a trailing slash")
        check(re.fullmatch(r"[0-9a-f]{32}", hdr(d, "X-WC-Webhook-Delivery-ID") or ""), "delivery id")
        check(hdr(d, "User-Agent").startswith("WooCommerce/"), "Hookshot user agent")
        eq(json.loads(d["body"])["id"], o["id"], "payload is the order")
        eq(send(emu, "DELETE", "webhooks/%d" % w["id"], None).status, 501, "webhooks need force=true to delete")
        eq(http("DELETE", api(emu, "webhooks/%d?force=true" % w["id"]), BASIC).status, 200, "force delete")


@case("woocommerce/webhook-auto-disable", "woocommerce")
def auto_disable(emu):
    with Receiver(default=500) as rx:
        w = send(emu, "POST", "webhooks", {"topic": "order.updated", "delivery_url": rx.url, "secret": "s"}).json()
        rx.wait(1)
        oid = emu.labels()["company"]
        for i in range(5):
            emu.update_order(oid, customer_note="n%d" % i)
            emu.wait_deliveries(timeout=3)
        eq(get(emu, "webhooks/%d" % w["id"]).json()["status"], "active", "still active after 5 failures")
        emu.update_order(oid, customer_note="n6")
        emu.wait_deliveries(timeout=3)
        eq(get(emu, "webhooks/%d" % w["id"]).json()["status"], "disabled", "disabled after more than 5 failures")
        emu.update_order(oid, customer_note="n7")
        emu.wait_deliveries(timeout=3)
        time.sleep(0.1)
        deliveries = [r for r in rx.received if hdr(r, "X-WC-Webhook-Signature")]
        eq(len(deliveries), 6, "one attempt per event, no redelivery, nothing once disabled")
        eq(len({r["body"] for r in deliveries}), 6, "six distinct payloads")
    with Receiver() as rx:
        w = send(emu, "POST", "webhooks", {"topic": "order.updated", "delivery_url": rx.url, "status": "paused"}).json()
        emu.update_order(emu.labels()["company"], customer_note="paused")
        emu.wait_deliveries(timeout=3)
        eq(rx.received, [], "a paused webhook neither pings nor delivers")
        r = send(emu, "PUT", "webhooks/%d" % w["id"], {"status": "active"})
        eq(r.json()["status"], "active", "re-enable")
        emu.update_order(emu.labels()["company"], customer_note="active")
        got = rx.wait(2)
        eq([bool(hdr(x, "X-WC-Webhook-Signature")) for x in got], [False, True], "ping on activation, then delivery")
    r = send(emu, "POST", "webhooks", {"topic": "order.exploded", "delivery_url": "https://x.example/"})
    eq(r.json()["code"], "woocommerce_rest_webhook_invalid_topic", "invalid topic")
