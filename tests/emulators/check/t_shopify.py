"""Shopify Admin REST emulator checks."""

import re
import time
import urllib.parse
from decimal import Decimal as D

from support import case, check, eq, http, Receiver, b64_hmac_sha256, hdr

TOKEN = "shpat_emulator_token"
SECRET = "shopify_client_secret"


def api(emu, path):
    return emu.url + "/admin/api/2023-10/" + path


def get(emu, path, token=TOKEN):
    h = {"X-Shopify-Access-Token": token} if token else {}
    return http("GET", api(emu, path), h)


def links(r):
    """Parse Shopify's Link header the way the python library does."""
    out = {}
    for part in (r.header("Link") or "").split(", "):
        if not part:
            continue
        url, rel = part.split("; ")
        out[re.search(r'rel="(\w+)"', rel).group(1)] = url.strip("<>")
    return out


@case("shopify/auth", "shopify")
def auth(emu):
    r = get(emu, "orders.json", token=None)
    eq(r.status, 401, "no token")
    check(isinstance(r.json().get("errors"), str), "401 body must be {\"errors\": \"...\"}", r)
    eq(get(emu, "orders.json", token="wrong").status, 401, "wrong token")
    r = get(emu, "orders.json")
    eq(r.status, 200, "right token")
    check(re.fullmatch(r"\d+/40", r.header("X-Shopify-Shop-Api-Call-Limit") or ""),
          "X-Shopify-Shop-Api-Call-Limit missing or malformed", r.header("X-Shopify-Shop-Api-Call-Limit"))
    eq(get(emu, "nothing-here.json").status, 404, "unknown path")


@case("shopify/pagination-link-page-info", "shopify")
def pagination(emu):
    total = get(emu, "orders/count.json?status=any").json()["count"]
    check(total >= 30, "seed should have a few dozen orders, got %d" % total)
    r = get(emu, "orders.json?status=any&limit=7")
    eq(r.status, 200, "first page")
    check("previous" not in links(r), "first page must not have rel=previous")
    seen, pages, first_page_ids = [], 0, [o["id"] for o in r.json()["orders"]]
    while True:
        pages += 1
        ids = [o["id"] for o in r.json()["orders"]]
        check(len(ids) <= 7, "page larger than limit")
        seen += ids
        lk = links(r)
        if "next" not in lk:
            break
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(lk["next"]).query)
        eq(sorted(q), ["limit", "page_info"], "next link parameters")
        r = http("GET", lk["next"], {"X-Shopify-Access-Token": TOKEN})
        eq(r.status, 200, "following rel=next")
        check(pages < 20, "pagination does not end")
    eq(len(seen), total, "orders seen across pages vs count.json")
    eq(len(set(seen)), total, "distinct orders across pages")
    eq(seen, sorted(seen, reverse=True), "default order is newest first")
    eq(pages, -(-total // 7), "number of pages")
    # second page -> previous gives the first page back
    r1 = get(emu, "orders.json?status=any&limit=7")
    r2 = http("GET", links(r1)["next"], {"X-Shopify-Access-Token": TOKEN})
    prev = links(r2).get("previous")
    check(prev, "second page must link rel=previous")
    r0 = http("GET", prev, {"X-Shopify-Access-Token": TOKEN})
    eq([o["id"] for o in r0.json()["orders"]], first_page_ids, "rel=previous of page 2")
    # filters may not be resent with page_info
    bad = http("GET", links(r1)["next"] + "&status=any", {"X-Shopify-Access-Token": TOKEN})
    eq(bad.status, 400, "page_info with status")
    check("cannot be passed when page_info is present" in str(bad.json()["errors"]), "page_info error text", bad)
    eq(get(emu, "orders.json?limit=251").status, 400, "limit above 250")
    eq(get(emu, "orders.json?limit=250&status=any").status, 200, "limit 250")
    ok = http("GET", links(r1)["next"] + "&fields=id,name", {"X-Shopify-Access-Token": TOKEN})
    eq(ok.status, 200, "fields allowed with page_info")
    eq(sorted(ok.json()["orders"][0]), ["id", "name"], "fields=id,name")


@case("shopify/order-filters", "shopify")
def filters(emu):
    allo = get(emu, "orders.json?status=any&limit=250").json()["orders"]
    paid = get(emu, "orders.json?status=any&financial_status=paid&limit=250").json()["orders"]
    check(paid and all(o["financial_status"] == "paid" for o in paid), "financial_status=paid filter")
    eq(get(emu, "orders/count.json?status=any&financial_status=paid").json()["count"], len(paid), "count with filter")
    open_ = get(emu, "orders.json?limit=250").json()["orders"]
    check(all(o["closed_at"] is None and o["cancelled_at"] is None for o in open_), "default status=open")
    check(len(open_) < len(allo), "some seeded orders are closed")
    ids = sorted(o["id"] for o in allo)
    r = get(emu, "orders.json?status=any&since_id=%d&limit=5" % ids[9]).json()["orders"]
    eq([o["id"] for o in r], ids[10:15], "since_id gives the next ids ascending")
    mid = sorted(allo, key=lambda o: o["created_at"])[20]["created_at"]
    after = get(emu, "orders.json?status=any&limit=250&created_at_min=" + urllib.parse.quote(mid)).json()["orders"]
    eq(len(after), len(allo) - 20, "created_at_min (inclusive) with an offset time")
    eq(get(emu, "orders.json?status=bogus").status, 400, "invalid status value")
    # updated_at_min picks up an order touched now
    before = time.time()
    emu.update_order(ids[0], note="re-send please")
    since = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(before - 1))
    upd = get(emu, "orders.json?status=any&updated_at_min=" + urllib.parse.quote(since)).json()["orders"]
    eq([o["id"] for o in upd], [ids[0]], "updated_at_min after an update")


@case("shopify/order-shapes", "shopify")
def shapes(emu):
    labels = emu.labels()
    for k in ("oss-de", "oss-se", "missing-sku", "refund", "cent-difference", "barred-product"):
        check(k in labels, "seed lacks the %s order" % k)

    def order(label):
        return get(emu, "orders/%d.json" % labels[label]).json()["order"]
    for label in labels:
        o = order(label)
        for f in ("total_price", "subtotal_price", "total_tax", "total_discounts", "total_line_items_price"):
            check(isinstance(o[f], str) and re.fullmatch(r"-?\d+\.\d\d", o[f]), "%s must be a 2-decimal string" % f, o[f])
        ship = sum(D(s["price"]) for s in o["shipping_lines"])
        eq(D(o["total_price"]), D(o["subtotal_price"]) + ship, "%s: total = subtotal + shipping" % label)
        lines = sum(D(l["price"]) * l["quantity"] for l in o["line_items"])
        eq(D(o["total_line_items_price"]), lines, "%s: total_line_items_price" % label)
        tax = sum(D(t["price"]) for l in o["line_items"] for t in l["tax_lines"]) + \
            sum(D(t["price"]) for s in o["shipping_lines"] for t in s["tax_lines"])
        eq(D(o["total_tax"]), tax, "%s: total_tax = sum of line tax_lines" % label)
        check(o["name"] == "#%d" % o["order_number"], "name is #order_number")
        check(set(o["total_price_set"]) == {"shop_money", "presentment_money"}, "MoneyBag")
    de = order("oss-de")
    eq(de["line_items"][0]["tax_lines"][0]["rate"], 0.19, "German OSS order VAT rate")
    eq(de["presentment_currency"], "EUR", "German order presentment currency")
    eq(de["shipping_address"]["country_code"], "DE", "German shipping address")
    eq(order("oss-se")["line_items"][0]["tax_lines"][0]["rate"], 0.25, "Swedish VAT")
    ms = order("missing-sku")
    check(any(l["sku"] in ("", None) for l in ms["line_items"]), "missing-sku order has a line without SKU")
    cd = order("cent-difference")
    eq(cd["total_price"], "239.97", "cent-difference order total")
    eq(cd["line_items"][0]["quantity"], 3, "cent-difference quantity")
    rf = order("refund")
    eq(rf["financial_status"], "partially_refunded", "refund order status")
    rli = rf["refunds"][0]["refund_line_items"][0]
    check(isinstance(rli["subtotal"], float) and isinstance(rli["total_tax"], float),
          "refund_line_items subtotal/total_tax are JSON numbers")
    tx = get(emu, "orders/%d/transactions.json" % labels["refund"]).json()["transactions"]
    kinds = sorted(t["kind"] for t in tx)
    eq(kinds, ["refund", "sale"], "transactions of the refunded order")
    sale = next(t for t in tx if t["kind"] == "sale")
    eq(sale["amount"], rf["total_price"], "sale transaction amount")
    refunds = get(emu, "orders/%d/refunds.json" % labels["refund"]).json()["refunds"]
    eq(len(refunds), 1, "refunds.json")


@case("shopify/customers-products", "shopify")
def customers(emu):
    r = get(emu, "customers/search.json?query=" + urllib.parse.quote("email:mette.jensen@example.dk")).json()
    eq([c["email"] for c in r["customers"]], ["mette.jensen@example.dk"], "customer search by email")
    eq(get(emu, "customers/search.json?query=email:nobody@example.dk").json()["customers"], [], "no match")
    n = get(emu, "customers/count.json").json()["count"]
    r = get(emu, "customers.json?limit=5")
    check("next" in links(r) and len(r.json()["customers"]) == 5, "customers paginate")
    p = get(emu, "products.json?limit=250").json()["products"]
    skus = [v["sku"] for x in p for v in x["variants"]]
    check("KAFFE-ESP-500" in skus and "" in skus, "products with and without SKU", skus)
    check(n >= 10, "customers seeded")
    r = http("POST", api(emu, "customers.json"), {"X-Shopify-Access-Token": TOKEN},
             {"customer": {"email": "mette.jensen@example.dk", "first_name": "X"}})
    eq(r.status, 422, "duplicate customer email")
    eq(r.json()["errors"]["email"], ["has already been taken"], "422 error shape")


@case("shopify/rate-limit-leaky-bucket", "shopify")
def rate_limit(emu):
    emu.faults(rate_limit={"bucket": 5, "leak": 1.0})
    levels, statuses = [], []
    for _ in range(6):
        r = get(emu, "shop.json")
        statuses.append(r.status)
        levels.append(r.header("X-Shopify-Shop-Api-Call-Limit"))
    eq(statuses[:5], [200] * 5, "first five calls within the bucket")
    eq(statuses[5], 429, "sixth call over the bucket")
    check(levels[0] == "1/5" and levels[4] == "5/5", "call-limit header counts up", levels)
    check(levels[5] is not None, "429 also carries the call-limit header")
    r = get(emu, "shop.json")
    eq(r.status, 429, "still throttled")
    ra = r.header("Retry-After")
    check(ra and float(ra) >= 1.0, "Retry-After header", ra)
    check("Exceeded" in r.json()["errors"], "429 body", r)
    time.sleep(float(ra))
    eq(get(emu, "shop.json").status, 200, "after waiting Retry-After")
    emu.clear_faults()
    emu.faults(burst_429={"count": 3, "retry_after": 2})
    st = [get(emu, "shop.json") for _ in range(4)]
    eq([r.status for r in st], [429, 429, 429, 200], "a burst of three 429s")
    eq(st[0].header("Retry-After"), "2.0", "burst Retry-After")
    check(st[0].header("X-Shopify-Shop-Api-Call-Limit"), "call-limit header on an injected 429 too")
    check(get(emu, "shop.json", token="bad").header("X-Shopify-Shop-Api-Call-Limit") is None,
          "no call-limit header on a 401 (the call is not attributed to the app)")


def subscribe(emu, topic, address):
    r = http("POST", api(emu, "webhooks.json"), {"X-Shopify-Access-Token": TOKEN},
             {"webhook": {"topic": topic, "address": address, "format": "json"}})
    eq(r.status, 201, "create webhook " + topic)
    return r.json()["webhook"]


@case("shopify/webhook-delivery-signature", "shopify")
def webhooks(emu):
    with Receiver() as rx:
        subscribe(emu, "orders/create", rx.url)
        subscribe(emu, "orders/paid", rx.url)
        subscribe(emu, "refunds/create", rx.url)
        o = emu.create_order({"lines": [{"sku": "KAFFE-FIL-1000", "quantity": 2}], "financial_status": "paid"})
        got = rx.wait(2)
        eq(sorted(hdr(r, "X-Shopify-Topic") for r in got), ["orders/create", "orders/paid"], "topics delivered")
        for r in got:
            check(hdr(r, "X-Shopify-Hmac-Sha256") == b64_hmac_sha256(SECRET, r["body"]),
                  "HMAC must be base64(HMAC-SHA256(raw body, client secret))")
            eq(hdr(r, "X-Shopify-Shop-Domain"), "iex-demo.myshopify.com", "shop domain header")
            eq(hdr(r, "X-Shopify-API-Version"), "2023-10", "API version header")
            check(re.fullmatch(r"[0-9a-f-]{36}", hdr(r, "X-Shopify-Webhook-Id") or ""), "webhook id is a UUID")
            check(hdr(r, "X-Shopify-Triggered-At"), "triggered-at header")
            import json as _j
            body = _j.loads(r["body"])
            eq(body["id"], o["id"], "payload is the order without a root key")
        eq(len({hdr(r, "X-Shopify-Event-Id") for r in got}), 2, "one event id per event")
        eq(len({hdr(r, "X-Shopify-Webhook-Id") for r in got}), 2, "one webhook id per delivery")
        emu.refund(o["id"], {"line_items": [{"line_item_id": o["line_items"][0]["id"], "quantity": 1}]})
        got = rx.wait(3)
        eq(hdr(got[2], "X-Shopify-Topic"), "refunds/create", "refund webhook")
        eq(get(emu, "orders/%d.json" % o["id"]).json()["order"]["financial_status"], "partially_refunded",
           "status after refund")


@case("shopify/webhook-retry-and-removal", "shopify")
def webhook_retry(emu):
    emu.config(webhook_backoff=0.05, webhook_retries=3)
    with Receiver(plan=[500, 500]) as rx:
        subscribe(emu, "orders/create", rx.url)
        emu.create_order({})
        got = rx.wait(3)
        eq([r["status"] for r in got], [500, 500, 200], "two failures then success")
        eq(len({hdr(r, "X-Shopify-Webhook-Id") for r in got}), 1, "webhook id stable across retries")
        eq(len({r["body"] for r in got}), 1, "same payload on every retry")
        gap1, gap2 = got[1]["ts"] - got[0]["ts"], got[2]["ts"] - got[1]["ts"]
        check(gap1 >= 0.04 and gap2 >= 0.09, "exponential backoff between retries (0.05 s, 0.1 s)", (gap1, gap2))
    with Receiver(default=503) as rx:
        w = subscribe(emu, "orders/updated", rx.url)
        o = emu.create_order({})
        emu.update_order(o["id"], note="x")
        got = rx.wait(4, timeout=5)
        eq(len(got), 4, "1 attempt + 3 retries")
        emu.wait_deliveries(timeout=2)
        ids = [x["id"] for x in get(emu, "webhooks.json").json()["webhooks"]]
        check(w["id"] not in ids, "subscription removed after repeated failures", ids)
        time.sleep(0.2)
        eq(len(rx.received), 4, "no deliveries after removal")


@case("shopify/webhook-subscription-validation", "shopify")
def webhook_validation(emu):
    r = http("POST", api(emu, "webhooks.json"), {"X-Shopify-Access-Token": TOKEN},
             {"webhook": {"topic": "orders/nonsense", "address": "https://example.com/h"}})
    eq(r.status, 422, "invalid topic")
    check("topic" in r.json()["errors"], "errors.topic", r)
    subscribe(emu, "orders/create", "https://example.com/h")
    r = http("POST", api(emu, "webhooks.json"), {"X-Shopify-Access-Token": TOKEN},
             {"webhook": {"topic": "orders/create", "address": "https://example.com/h"}})
    eq(r.status, 422, "duplicate address for topic")
    eq(r.json()["errors"]["address"], ["for this topic has already been taken"], "duplicate message")
    lst = get(emu, "webhooks.json").json()["webhooks"]
    eq(len(lst), 1, "list webhooks")
    d = http("DELETE", api(emu, "webhooks/%d.json" % lst[0]["id"]), {"X-Shopify-Access-Token": TOKEN})
    eq(d.status, 200, "delete webhook")
    eq(get(emu, "webhooks/count.json").json()["count"], 0, "count after delete")


@case("shopify/scopes-frozen-60-days", "shopify")
def scopes(emu):
    emu.config(scopes=["read_orders"])
    eq(get(emu, "orders.json").status, 200, "read_orders granted")
    r = get(emu, "customers.json")
    eq(r.status, 403, "read_customers missing")
    check("read_customers" in r.json()["errors"], "403 names the scope", r)
    r = http("POST", api(emu, "customers.json"), {"X-Shopify-Access-Token": TOKEN}, {"customer": {"email": "a@b.dk"}})
    eq(r.status, 403, "write_customers missing")
    emu.config(frozen=True)
    eq(get(emu, "orders.json").status, 402, "frozen shop")
    emu.config(frozen=False, scopes=["read_orders"])
    old = emu.create_order({"created_at": time.time() - 61 * 86400})
    n = get(emu, "orders/count.json?status=any").json()["count"]
    eq(get(emu, "orders/%d.json" % old["id"]).status, 404, "order older than 60 days is invisible")
    emu.config(read_all_orders=True)
    eq(get(emu, "orders/count.json?status=any").json()["count"], n + 1, "visible with read_all_orders")
