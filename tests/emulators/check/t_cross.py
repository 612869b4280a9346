"""Cross-system checks: the seeded shops and accounting systems fit together
the way the end-to-end tests need, and the servers hold up under concurrency."""

import http.client as httpclient
import threading
import urllib.parse
from decimal import Decimal as D

from support import case, check, eq, http, connection_failed
from t_economic import H, req
import t_dinero
import t_shopify


@case("cross/shopify-orders-into-economic", ("shopify", "economic"))
def shop_to_books(emus):
    """Transfer the labelled seed orders the way a connector would; the
    special cases must behave as documented (cent difference, missing SKU,
    barred product, OSS rate)."""
    shop, eco = emus
    labels = shop.labels()

    def transfer(label, zone=1, sku_map=None):
        o = t_shopify.get(shop, "orders/%d.json" % labels[label]).json()["order"]
        lines = []
        for li in o["line_items"]:
            rate = D(str(li["tax_lines"][0]["rate"])) if li["tax_lines"] else D(0)
            net = (D(li["price"]) / (1 + rate)).quantize(D("0.01"))
            sku = (sku_map or {}).get(li["sku"], li["sku"])
            line = {"description": li["name"], "quantity": li["quantity"], "unitNetPrice": float(net)}
            if sku:
                line["product"] = {"productNumber": sku}
            lines.append(line)
        body = {"date": o["created_at"][:10], "currency": "DKK", "customer": {"customerNumber": 1},
                "layout": {"layoutNumber": 19}, "paymentTerms": {"paymentTermsNumber": 4},
                "recipient": {"name": o["billing_address"]["name"], "vatZone": {"vatZoneNumber": zone}},
                "references": {"other": "iex:shopify:%d" % o["id"]}, "lines": lines}
        return o, req(eco, "POST", "/invoices/drafts", body)

    o, r = transfer("cent-difference")
    eq(r.status, 201, "cent-difference order transfers")
    eq((o["total_price"], r.json()["grossAmount"]), ("239.97", 239.96), "one cent between shop and e-conomic")
    o, r = transfer("missing-sku")
    eq(r.status, 400, "a line without SKU and with a price has no product")
    check("E04500" in r.body.decode(), "missing SKU surfaces as E04500", r)
    o, r = transfer("barred-product")
    eq(r.status, 201, "a barred product can be put on a draft")
    b = req(eco, "POST", "/invoices/booked", {"draftInvoice": {"draftInvoiceNumber": r.json()["draftInvoiceNumber"]}})
    eq(b.status, 400, "but the draft cannot be booked")
    o, r = transfer("oss-de", zone=2, sku_map={"KAFFE-ESP-500": "KAFFE-ESP-500-DE"})
    eq(r.status, 201, "OSS order")
    eq(r.json()["lines"][0]["unitNetPrice"], float((D("129.00") / D("1.19")).quantize(D("0.01"))),
       "German net price")
    ok = 0
    for oid in [x["id"] for x in t_shopify.get(shop, "orders.json?status=any&financial_status=paid&limit=250")
                .json()["orders"]][:12]:
        o = t_shopify.get(shop, "orders/%d.json" % oid).json()["order"]
        if any(not li["sku"] for li in o["line_items"]):
            continue
        skus = [li["sku"] for li in o["line_items"]]
        found = [req(eco, "GET", "/products/" + s).status for s in skus]
        eq(found, [200] * len(skus), "every seeded SKU exists in e-conomic (%s)" % skus)
        ok += 1
    check(ok >= 8, "most paid orders are transferable")


@case("cross/concurrent-creates", "economic")
def concurrent(eco):
    from t_economic import draft
    results, lock = [], threading.Lock()

    def worker(i):
        r = req(eco, "POST", "/invoices/drafts", draft(ref="iex:conc:%d" % i))
        with lock:
            results.append((r.status, r.json().get("draftInvoiceNumber")))
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(24)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    eq(sorted(s for s, _ in results), [201] * 24, "24 concurrent creates")
    eq(len({n for _, n in results}), 24, "distinct draft numbers")
    eq(len(eco.ledger()), 24, "ledger has every create")
    eq([e["seq"] for e in eco.ledger()], list(range(1, 25)), "ledger sequence has no gaps")


@case("cross/keep-alive-and-drop", "economic")
def keep_alive(eco):
    from t_economic import draft
    import json
    host, port = eco.url[7:].split(":")
    c = httpclient.HTTPConnection(host, int(port), timeout=5)
    hdrs = dict(H, **{"Content-Type": "application/json"})
    for _ in range(3):
        c.request("GET", "/layouts", headers=hdrs)
        r = c.getresponse()
        r.read()
        eq(r.status, 200, "several requests on one connection")
    big = draft(ref="iex:big")
    big["notes"] = {"textLine1": "x" * 900}
    c.request("POST", "/invoices/drafts", body=json.dumps(big), headers=dict(hdrs, Expect="100-continue"))
    r = c.getresponse()
    r.read()
    eq(r.status, 201, "POST with Expect: 100-continue on a kept-alive connection")
    eco.faults(drop_after_create=1)
    c.request("POST", "/invoices/drafts", body=json.dumps(draft(ref="iex:ka")), headers=hdrs)
    check(connection_failed(lambda: c.getresponse().read()), "reset on a kept-alive connection")
    eq(len(eco.ledger(reference="iex:ka")), 1, "committed")
    c.close()


@case("cross/dinero-drop-any-write", "dinero")
def dinero_any_write(dn):
    call = t_dinero.session(dn)
    cg = t_dinero.contact(call)
    r = call("POST", "invoices", t_dinero.invoice_body(cg, ref="#7001")).json()
    dn.faults(drop_after_create={"count": 1, "any_write": True, "path": "/book$"})
    check(connection_failed(lambda: call("POST", "invoices/%s/book" % r["Guid"], {"timestamp": r["TimeStamp"]})),
          "booking answered with a reset")
    inv = call("GET", "invoices/" + r["Guid"]).json()
    eq(inv["Status"], "Booked", "the booking was committed")
    led = [e for e in dn.ledger() if e["resource"] == "invoice/book"]
    eq((len(led), led[0].get("dropped")), (1, True), "ledger marks the dropped booking")
    again = call("POST", "invoices/%s/book" % r["Guid"], {"timestamp": r["TimeStamp"]})
    eq(again.status, 409, "a blind retry with the old timestamp conflicts")
