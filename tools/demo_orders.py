#!/usr/bin/env python3
"""The demo's orders: a few dozen realistic orders in the emulated shops.

    demo_orders.py create --shopify URL --woocommerce URL --out ORDERS.json
    demo_orders.py later  --shopify URL --woocommerce URL --orders ORDERS.json

`create` makes the orders through the emulators' control API
(tests/emulators/README.md, POST /_emulator/orders) and writes ORDERS.json:
one entry per order with its label, system, id, name and what should
become of it (`expect`), so that `make demo` and tests/e2e talk about the
same orders. `later` does what happens after the first transfers: a refund
and a note added to an order already transferred.

Orders are made on emulators started with `{"orders": 0}` (no seed
orders) so that only these exist; the seeded customers and products are
used. Every order is dated now, after the integrations' activation.

Standard library only, like the emulators.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "emulators"))
from client import Emulator  # noqa: E402

# Shopify orders: (label, spec, expect). `expect` is what the flows should
# make of the order; "invoice" means an invoice in e-conomic (and Dinero).
SHOPIFY = [
    ("dk-mette", {"customer": {"email": "mette.jensen@example.dk"},
                  "lines": [{"sku": "KAFFE-ESP-500", "quantity": 2}, {"sku": "KOP-STEN-HVID", "quantity": 1}]},
     "invoice"),
    ("dk-lars", {"customer": {"email": "lars.nielsen@example.dk"},
                 "lines": [{"sku": "KAFFE-FIL-1000", "quantity": 1}, {"sku": "FILTER-4-100", "quantity": 2}]},
     "invoice"),
    ("dk-sofie-mobilepay", {"customer": {"email": "sofie.hansen@example.dk"}, "gateway": "mobilepay",
                            "lines": [{"sku": "TE-GRON-100", "quantity": 3}, {"sku": "CHOK-70", "quantity": 2}]},
     "invoice"),
    ("dk-camilla-discount", {"customer": {"email": "camilla.andersen@example.dk"},
                             "discount_code": {"code": "SOMMER10", "percent": 10},
                             "lines": [{"sku": "KAFFE-ESP-1000", "quantity": 1}, {"sku": "KVARN-MAN", "quantity": 1}]},
     "invoice"),
    ("dk-jens-bank", {"customer": {"email": "jens.c@example.dk"}, "gateway": "manual",
                      "lines": [{"sku": "KAFFE-ESP-500", "quantity": 4}]},
     "invoice"),
    ("dk-ida-free-shipping", {"customer": {"email": "ida.larsen@example.dk"}, "shipping": None,
                              "lines": [{"sku": "KVARN-MAN", "quantity": 1}, {"sku": "KAFFE-ESP-1000", "quantity": 2}]},
     "invoice"),
    ("dk-soren", {"customer": {"email": "soren.sorensen@example.dk"},
                  "lines": [{"sku": "KOP-STEN-SORT", "quantity": 2}, {"sku": "KOP-STEN-HVID", "quantity": 2}]},
     "invoice"),
    ("dk-freja", {"customer": {"email": "freja.r@example.dk"},
                  "lines": [{"sku": "CHOK-70", "quantity": 5}]},
     "invoice"),
    ("dk-new-customer", {"customer": {"first_name": "Astrid", "last_name": "Holm", "email": "astrid.holm@example.dk",
                                      "phone": "+4530112233", "address1": "Jernbanegade 4", "zip": "4700",
                                      "city": "Næstved", "country_code": "DK", "country": "Denmark"},
                         "lines": [{"sku": "KAFFE-FIL-1000", "quantity": 2}]},
     "invoice"),
    ("dk-company", {"customer": {"email": "anders@pedersen-vvs.example.dk"},
                    "note_attributes": [{"name": "cvr", "value": "31234567"}],
                    "lines": [{"sku": "KAFFE-FIL-1000", "quantity": 6}, {"sku": "FILTER-4-100", "quantity": 4}]},
     "invoice"),
    ("oss-de", {"customer": {"email": "julia.schmidt@example.de"},
                "lines": [{"sku": "KAFFE-ESP-500", "quantity": 2}, {"sku": "CHOK-70", "quantity": 1}]},
     "invoice"),
    ("oss-se", {"customer": {"email": "erik.lindqvist@example.se"},
                "lines": [{"sku": "KVARN-MAN", "quantity": 1}]},
     "invoice"),
    ("eu-business", {"customer": {"first_name": "Klaus", "last_name": "Weber", "company": "Weber Kaffeehandel GmbH",
                                  "email": "einkauf@weber-kaffee.example.de", "phone": "+493012345678",
                                  "address1": "Friedrichstraße 12", "zip": "10117", "city": "Berlin",
                                  "country_code": "DE", "country": "Germany", "tax_exempt": True},
                     "tax_rate": "0", "note_attributes": [{"name": "cvr", "value": "DE811907980"}],
                     "lines": [{"sku": "KAFFE-ESP-1000", "quantity": 10}]},
     "invoice"),
    ("non-eu", {"customer": {"email": "ingrid.haugen@example.no"},
                "lines": [{"sku": "KAFFE-ESP-1000", "quantity": 1}, {"sku": "TE-GRON-100", "quantity": 2}]},
     "invoice"),
    ("missing-sku", {"customer": {"email": "sofie.hansen@example.dk"},
                     "lines": [{"sku": "", "quantity": 1}, {"sku": "KAFFE-FIL-1000", "quantity": 1}]},
     "failed: no SKU"),
    ("unknown-sku", {"customer": {"email": "mikkel.jorgensen@example.dk"},
                     "lines": [{"sku": "KAFFE-NY-2026", "price": "149.00", "title": "Nyhed: Forårskaffe 2026",
                                "quantity": 1}, {"sku": "CHOK-70", "quantity": 1}]},
     "failed: product KAFFE-NY-2026"),
    ("cent-difference", {"customer": {"email": "camilla.andersen@example.dk"}, "shipping": None,
                         "lines": [{"sku": "MAELK-SKUM", "quantity": 3}]},
     "invoice with a correction line"),
    ("vat-mismatch", {"customer": {"email": "lars.nielsen@example.dk"}, "tax_rate": "0.20",
                      "lines": [{"sku": "KVARN-MAN", "quantity": 1}]},
     "failed: totals do not match"),
    ("test-order", {"customer": {"email": "mette.jensen@example.dk"}, "test": True,
                    "lines": [{"sku": "KAFFE-ESP-500", "quantity": 1}]},
     "skipped: test order"),
    ("cancelled", {"customer": {"email": "jens.c@example.dk"},
                   "lines": [{"sku": "KAFFE-ESP-1000", "quantity": 1}]},
     "skipped: cancelled"),
    ("unpaid", {"customer": {"email": "soren.sorensen@example.dk"}, "financial_status": "pending",
                "gateway": "manual", "lines": [{"sku": "CHOK-70", "quantity": 2}]},
     "skipped: not paid"),
    ("refunded-later", {"customer": {"email": "freja.r@example.dk"},
                        "lines": [{"sku": "KOP-STEN-SORT", "quantity": 2}, {"sku": "KAFFE-ESP-1000", "quantity": 1}]},
     "invoice, then a credit note"),
    ("updated-later", {"customer": {"email": "mikkel.jorgensen@example.dk"},
                       "lines": [{"sku": "TE-GRON-100", "quantity": 2}, {"sku": "FILTER-4-100", "quantity": 1}]},
     "invoice, then updated"),
    ("barred-product", {"customer": {"email": "ida.larsen@example.dk"},
                        "lines": [{"sku": "KAFFE-JUL-2023", "quantity": 2}]},
     "failed: KAFFE-JUL-2023 is barred (booked mode)"),
]

# WooCommerce orders: customers by e-mail (seeded), or a guest's billing.
WOO = [
    ("woo-dk-completed", {"customer": "lars.nielsen@example.dk", "status": "completed",
                          "lines": [{"sku": "KAFFE-ESP-500", "quantity": 2}, {"sku": "CHOK-70", "quantity": 1}]},
     "invoice"),
    ("woo-dk-completed-2", {"customer": "sofie.hansen@example.dk", "status": "completed",
                            "lines": [{"sku": "KVARN-MAN", "quantity": 1}]},
     "invoice"),
    ("woo-coupon", {"customer": "jens.c@example.dk", "status": "completed",
                    "coupon": {"code": "velkommen15", "percent": 15},
                    "lines": [{"sku": "KAFFE-FIL-1000", "quantity": 2}, {"sku": "KOP-STEN-HVID", "quantity": 2}]},
     "invoice"),
    ("woo-guest", {"billing": {"first_name": "Hanne", "last_name": "Bech", "company": "", "address_1": "Torvet 3",
                               "address_2": "", "city": "Viborg", "state": "", "postcode": "8800", "country": "DK",
                               "email": "hanne.bech@example.dk", "phone": "+4540506070"},
                   "status": "completed", "lines": [{"sku": "TE-GRON-100", "quantity": 4}]},
     "invoice"),
    ("woo-company", {"customer": "anders@pedersen-vvs.example.dk", "status": "completed",
                     "lines": [{"sku": "KAFFE-FIL-1000", "quantity": 8}]},
     "invoice"),
    ("woo-missing-sku", {"customer": "ida.larsen@example.dk", "status": "completed",
                         "lines": [{"sku": "", "quantity": 2}]},
     "failed: no SKU"),
    ("woo-processing", {"customer": "soren.sorensen@example.dk", "status": "processing",
                        "lines": [{"sku": "KAFFE-ESP-1000", "quantity": 1}]},
     "skipped: not completed"),
    ("woo-pending", {"customer": "freja.r@example.dk", "status": "pending",
                     "lines": [{"sku": "CHOK-70", "quantity": 3}]},
     "skipped: not paid"),
    ("woo-cancelled", {"customer": "camilla.andersen@example.dk", "status": "cancelled",
                       "lines": [{"sku": "KOP-STEN-SORT", "quantity": 1}]},
     "skipped: cancelled"),
    ("woo-updated-later", {"customer": "mette.jensen@example.dk", "status": "completed",
                           "lines": [{"sku": "FILTER-4-100", "quantity": 3}, {"sku": "KAFFE-ESP-500", "quantity": 1}]},
     "invoice, then updated"),
]


def create(shop, woo):
    out = []
    cust = {}
    for c in woo.records("customers") if woo else []:
        cust[c["email"]] = c["id"]
    if shop:
        for label, spec, expect in SHOPIFY:
            o = shop.create_order(dict(spec))
            out.append({"label": label, "system": "shopify", "id": o["id"], "name": o["name"],
                        "total": o["total_price"], "expect": expect})
            if label == "cancelled":
                shop.update_order(o["id"], cancel=True)
    if woo:
        for label, spec, expect in WOO:
            spec = dict(spec)
            email = spec.pop("customer", None)
            if email:
                spec["customer_id"] = cust[email]
            o = woo.create_order(spec)
            out.append({"label": label, "system": "woocommerce", "id": o["id"], "name": o["number"],
                        "total": o["total"], "expect": expect})
    return out


def later(shop, woo, orders):
    by = {o["label"]: o for o in orders}
    done = []
    if shop and "refunded-later" in by:
        oid = by["refunded-later"]["id"]
        order = shop.call("GET", "/records/orders")["orders"]
        order = next(o for o in order if o["id"] == oid)
        cup = next(li for li in order["line_items"] if li["sku"] == "KOP-STEN-SORT")
        shop.refund(oid, {"line_items": [{"line_item_id": cup["id"], "quantity": 1}],
                          "note": "Koppen kom i stykker"})
        done.append("refunded one cup of %s" % by["refunded-later"]["name"])
    if shop and "updated-later" in by:
        shop.update_order(by["updated-later"]["id"], note="Leveres til naboen i nr. 14")
        done.append("added a note to %s" % by["updated-later"]["name"])
    if woo and "woo-updated-later" in by:
        woo.update_order(by["woo-updated-later"]["id"], customer_note="Ring på ved ankomst")
        done.append("added a note to WooCommerce order %s" % by["woo-updated-later"]["name"])
    return done


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["create", "later"])
    ap.add_argument("--shopify")
    ap.add_argument("--woocommerce")
    ap.add_argument("--out", help="create: where to write the orders (JSON)")
    ap.add_argument("--orders", help="later: the file create wrote")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    shop = Emulator.attach(a.shopify) if a.shopify else None
    woo = Emulator.attach(a.woocommerce) if a.woocommerce else None
    if a.what == "create":
        orders = create(shop, woo)
        text = json.dumps(orders, indent=1, ensure_ascii=False)
        if a.out:
            with open(a.out, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        if not a.quiet:
            for o in orders:
                print("  %-11s %-8s %-22s %10s  -> %s" % (o["system"], o["name"], o["label"], o["total"], o["expect"]))
        return 0
    with open(a.orders, encoding="utf-8") as f:
        orders = json.load(f)
    for line in later(shop, woo, orders):
        if not a.quiet:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
