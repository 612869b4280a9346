"""WooCommerce REST API v3 emulator (/wp-json/wc/v3/...).

See README.md for what is faithful and what is simplified.
"""

import base64
import hashlib
import hmac
import time
import urllib.parse

from emulib import (App, HTTPError, Response, D, money, mstr, tz, iso_naive, parse_time, strip_private,
                    b64hmac, dumps, UTC)
import shopdata

NS = r"/wp-json/wc/v3"
STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash",
            "checkout-draft")
RESOURCES = ("order", "customer", "product", "coupon")
EVENTS = ("created", "updated", "deleted", "restored")


def werr(status, code, message, **data):
    d = {"status": status}
    d.update(data)
    return HTTPError(status, message, body={"code": code, "message": message, "data": d})


def invalid_param(name, why):
    return werr(400, "rest_invalid_param", "Invalid parameter(s): %s" % name, params={name: why},
                details={name: {"code": "rest_invalid_param", "message": why, "data": None}})


class WooCommerce(App):
    system = "woocommerce"
    server_header = "Apache"

    def default_config(self):
        return {
            "site_url": "https://nordisk-kaffe.example",
            "consumer_key": "ck_emulator0000000000000000000000000000000",
            "consumer_secret": "cs_emulator0000000000000000000000000000000",
            "timezone": "Europe/Copenhagen",
            "currency": "DKK",
            "orders": 36,
            "wc_version": "8.5.2",
            "wp_version": "6.4.3",
            "webhook_max_failures": 5,   # disabled when the count EXCEEDS this
            "webhook_timeout": 60.0,     # WC_Webhook::deliver() uses a 60 s timeout
            "rate_limit": None,
        }

    def register(self):
        a = self.add
        a("GET", NS + r"/?", self.index)
        a("GET", NS + r"/orders", self.list_orders)
        a("POST", NS + r"/orders", self.create_order)
        a("GET", NS + r"/orders/(?P<oid>\d+)", self.get_order)
        a("PUT", NS + r"/orders/(?P<oid>\d+)", self.update_order)
        a("POST", NS + r"/orders/(?P<oid>\d+)", self.update_order)
        a("PATCH", NS + r"/orders/(?P<oid>\d+)", self.update_order)
        a("DELETE", NS + r"/orders/(?P<oid>\d+)", self.delete_order)
        a("GET", NS + r"/orders/(?P<oid>\d+)/refunds", self.list_refunds)
        a("POST", NS + r"/orders/(?P<oid>\d+)/refunds", self.create_refund)
        a("GET", NS + r"/orders/(?P<oid>\d+)/refunds/(?P<rid>\d+)", self.get_refund)
        a("GET", NS + r"/customers", self.list_customers)
        a("POST", NS + r"/customers", self.create_customer)
        a("GET", NS + r"/customers/(?P<cid>\d+)", self.get_customer)
        a("GET", NS + r"/products", self.list_products)
        a("GET", NS + r"/products/(?P<pid>\d+)", self.get_product)
        a("GET", NS + r"/webhooks", self.list_webhooks)
        a("POST", NS + r"/webhooks", self.create_webhook)
        a("GET", NS + r"/webhooks/(?P<wid>\d+)", self.get_webhook)
        a("PUT", NS + r"/webhooks/(?P<wid>\d+)", self.update_webhook)
        a("POST", NS + r"/webhooks/(?P<wid>\d+)", self.update_webhook)
        a("DELETE", NS + r"/webhooks/(?P<wid>\d+)", self.delete_webhook)
        c = self.control
        c("POST", r"/orders", self.c_create_order)
        c("POST", r"/orders/(?P<oid>\d+)", self.c_update_order)
        c("POST", r"/orders/(?P<oid>\d+)/refund", self.c_refund)
        c("GET", r"/labels", lambda r: self.store.meta.get("labels", {}))

    # -- errors and auth ----------------------------------------------------
    def render_error(self, req, err):
        if err.body is not None:
            return Response(err.status, err.body, err.headers)
        if err.status == 404 or err.status == 405:
            body = {"code": "rest_no_route", "message": "No route was found matching the URL and request method.",
                    "data": {"status": 404}}
            return Response(404, body, err.headers)
        if err.status == 429:
            body = {"code": "woocommerce_rest_too_many_requests", "message": "Too many requests. Please wait and try again.",
                    "data": {"status": 429}}
            return Response(429, body, err.headers)
        body = {"code": "internal_server_error", "message": "<p>There has been a critical error on this website.</p>",
                "data": {"status": err.status}, "additional_errors": []}
        return Response(err.status, body, err.headers)

    def authenticate(self, req):
        ck = cs = None
        auth = req.header("Authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                ck, _, cs = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
            except Exception:
                ck = cs = None
        elif req.q("consumer_key") is not None or req.q("consumer_secret") is not None:
            ck, cs = req.q("consumer_key"), req.q("consumer_secret")
            if not ck:
                raise werr(401, "woocommerce_rest_authentication_error", "Consumer key is missing.")
            if not cs:
                raise werr(401, "woocommerce_rest_authentication_error", "Consumer secret is missing.")
        if ck is None:
            raise self.cannot(req)
        if ck != self.config["consumer_key"]:
            raise werr(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if not hmac.compare_digest(cs or "", self.config["consumer_secret"]):
            raise werr(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")

    def cannot(self, req):
        """What WooCommerce says to an unauthenticated caller (permission check fails)."""
        single = req.path.rstrip("/").split("/")[-1].isdigit()
        if req.method == "GET":
            if single:
                return werr(401, "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
            return werr(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if req.method == "DELETE":
            return werr(401, "woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource.")
        if single:
            return werr(401, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")
        return werr(401, "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.")

    def body(self, req):
        ct = req.content_type()
        if not req.body.strip():
            return {}
        if ct == "application/x-www-form-urlencoded":
            return {k: v[-1] for k, v in req.form().items()}
        try:
            doc = req.json()
        except ValueError:
            raise werr(400, "rest_invalid_json", "Invalid JSON body passed.")
        if not isinstance(doc, dict):
            raise werr(400, "rest_invalid_json", "Invalid JSON body passed.")
        return doc

    # -- time -----------------------------------------------------------------
    @property
    def zone(self):
        return tz(self.config["timezone"])

    def dates(self, rec, name, t):
        rec[name] = iso_naive(t, self.zone) if t else None
        rec[name + "_gmt"] = iso_naive(t, UTC) if t else None

    # -- seed -----------------------------------------------------------------
    def seed_data(self):
        now = int(time.time())
        for p in shopdata.PRODUCTS:
            for vt, sku, price, grams in p[4]:
                pid = self.store.next_id("post", 101)
                name = p[1] + ("" if vt == "Default Title" else " - " + vt)
                slug = (p[0] + ("" if vt == "Default Title" else "-" + vt)).lower().replace(" ", "-")
                prod = {"id": pid, "name": name, "slug": slug,
                        "permalink": "%s/produkt/%s/" % (self.config["site_url"], slug), "type": "simple",
                        "status": "publish", "featured": False, "catalog_visibility": "visible",
                        "description": "<p>%s</p>" % name, "short_description": "", "sku": sku,
                        "price": price.rstrip("0").rstrip(".") if "." in price else price,
                        "regular_price": price.rstrip("0").rstrip(".") if "." in price else price,
                        "sale_price": "", "on_sale": False, "purchasable": True, "total_sales": 0,
                        "virtual": False, "downloadable": False, "tax_status": "taxable", "tax_class": "",
                        "manage_stock": True, "stock_quantity": 100, "stock_status": "instock",
                        "backorders": "no", "weight": "%.2f" % (grams / 1000.0),
                        "dimensions": {"length": "", "width": "", "height": ""}, "shipping_required": True,
                        "categories": [{"id": 15, "name": p[3], "slug": p[3].lower()}], "tags": [], "images": [],
                        "attributes": [], "variations": [], "meta_data": [], "_ts": now - 90 * 86400,
                        "_price": price}
                self.dates(prod, "date_created", prod["_ts"])
                self.dates(prod, "date_modified", prod["_ts"])
                self.store.put("products", pid, prod)
        for c in shopdata.CUSTOMERS:
            self._make_customer(c, now - 60 * 86400)
        n = int(self.config.get("orders", 36))
        custs = sorted(self.store.values("customers"), key=lambda c: c["id"])
        labels = {}
        skus = sorted(p["sku"] for p in self.store.values("products") if p["sku"] and p["sku"] not in ("KAFFE-JUL-2023", "MAELK-SKUM"))
        for i in range(n):
            t = now - (n - i) * 4 * 3600
            sp = shopdata.SPECIAL_ORDERS.get(i)
            if sp:
                spec = {"customer_id": custs[sp["customer"]]["id"], "created_at": t,
                        "lines": [{"sku": s, "quantity": q} for s, q in sp["lines"]],
                        "status": "pending" if sp.get("financial_status") == "pending" else "processing"}
                if "shipping" in sp and sp["shipping"] is None:
                    spec["shipping"] = None
                if sp.get("discount"):
                    spec["coupon"] = {"code": sp["discount"][0].lower(), "percent": sp["discount"][1]}
            else:
                dk = [c for c in custs if c["billing"]["country"] == "DK"]
                rng = self.rng
                spec = {"customer_id": rng.choice(dk)["id"], "created_at": t,
                        "lines": [{"sku": s, "quantity": rng.randint(1, 3)} for s in rng.sample(skus, rng.randint(1, 3))],
                        "status": rng.choice(["processing"] * 5 + ["completed"] * 3 + ["on-hold", "pending"])}
            o = self.build_order(spec, fire=False)
            if sp:
                labels[sp["label"]] = o["id"]
                if sp.get("refund"):
                    items = []
                    for sku, q in sp["refund"]:
                        li = next(l for l in o["line_items"] if l["sku"] == sku)
                        items.append({"id": li["id"], "quantity": q})
                    self.make_refund(o, {"line_items": items, "reason": "Kunden fortrød"}, t + 7200, fire=False)
        self.store.set_meta("labels", labels)

    def _make_customer(self, c, t):
        first, last, email, phone, addr, zipc, city, cc, country, company = c
        cid = self.store.next_id("user", 2)
        billing = {"first_name": first, "last_name": last, "company": company or "", "address_1": addr,
                   "address_2": "", "city": city, "state": "", "postcode": zipc, "country": cc,
                   "email": email or "", "phone": phone or ""}
        shipping = {k: v for k, v in billing.items() if k not in ("email",)}
        cust = {"id": cid, "email": email, "first_name": first, "last_name": last, "role": "customer",
                "username": (email or "user%d" % cid).split("@")[0], "billing": billing, "shipping": shipping,
                "is_paying_customer": True, "avatar_url": "https://secure.gravatar.com/avatar/?s=96&d=mm&r=g",
                "meta_data": [], "_ts": t}
        self.dates(cust, "date_created", t)
        self.dates(cust, "date_modified", t)
        self.store.put("customers", cid, cust)
        return cust

    # -- orders ---------------------------------------------------------------
    def product_by_sku(self, sku):
        for p in sorted(self.store.values("products"), key=lambda p: p["id"]):
            if p["sku"] == sku:
                return p
        return None

    def build_order(self, spec, fire=True):
        t = int(spec.get("created_at") or time.time())
        cust = None
        if spec.get("customer_id"):
            cust = self.store.get("customers", spec["customer_id"])
            if not cust:
                raise HTTPError(400, "unknown customer_id")
        billing = dict(cust["billing"]) if cust else dict(spec.get("billing") or {
            "first_name": "", "last_name": "", "company": "", "address_1": "", "address_2": "", "city": "",
            "state": "", "postcode": "", "country": "DK", "email": "", "phone": ""})
        shipping_addr = dict(cust["shipping"]) if cust else {k: v for k, v in billing.items() if k != "email"}
        cc = billing.get("country") or "DK"
        rate = D(spec.get("tax_rate", shopdata.VAT.get(cc, "0.25")))
        oid = self.store.next_id("post", 101)
        pct = D(str(spec["coupon"]["percent"])) / 100 if spec.get("coupon") else D(0)
        items, cart_tax, disc_total, disc_tax, sum_total = [], money(0), money(0), money(0), money(0)
        for i, ls in enumerate(spec.get("lines") or []):
            prod = None
            if ls.get("product_id"):
                prod = self.store.get("products", ls["product_id"])
            elif ls.get("sku") is not None:
                prod = self.product_by_sku(ls["sku"])
            if prod is None and not ls.get("price"):
                raise HTTPError(400, "unknown product %r" % (ls.get("sku") or ls.get("product_id")))
            qty = int(ls.get("quantity", 1))
            unit_gross = money(ls.get("price") or prod["_price"])
            gross = unit_gross * qty
            after = gross - (money(gross * pct) if pct else money(0))
            sub_ex = money(gross / (1 + rate))
            sub_tax = gross - sub_ex
            tot_ex = money(after / (1 + rate))
            tot_tax = after - tot_ex
            cart_tax += tot_tax
            disc_total += sub_ex - tot_ex
            disc_tax += sub_tax - tot_tax
            sum_total += tot_ex + tot_tax
            items.append({"id": self.store.next_id("order_item", 1), "name": prod["name"] if prod else ls.get("name", "Vare"),
                          "product_id": prod["id"] if prod else 0, "variation_id": 0, "quantity": qty,
                          "tax_class": "", "subtotal": mstr(sub_ex), "subtotal_tax": mstr(sub_tax),
                          "total": mstr(tot_ex), "total_tax": mstr(tot_tax),
                          "taxes": ([{"id": 1, "total": mstr(tot_tax), "subtotal": mstr(sub_tax)}] if rate else []),
                          "meta_data": [], "sku": prod["sku"] if prod else (ls.get("sku") or ""),
                          "price": float(tot_ex / qty), "image": {"id": "", "src": ""}, "parent_name": None})
        ship = spec.get("shipping", "default")
        ship_lines, ship_ex, ship_tax = [], money(0), money(0)
        if ship == "default":
            ship = {"method_title": "PostNord Pakke", "price": "49.00"} if cc == "DK" else \
                {"method_title": "GLS International", "price": "95.00"}
        if ship:
            g = money(ship["price"])
            ship_ex = money(g / (1 + rate))
            ship_tax = g - ship_ex
            ship_lines.append({"id": self.store.next_id("order_item", 1), "method_title": ship.get("method_title", "Fragt"),
                               "method_id": "flat_rate", "instance_id": "1", "total": mstr(ship_ex),
                               "total_tax": mstr(ship_tax),
                               "taxes": ([{"id": 1, "total": mstr(ship_tax), "subtotal": ""}] if rate else []),
                               "meta_data": []})
        status = spec.get("status", "processing")
        if status not in STATUSES:
            raise HTTPError(400, "bad status")
        total = sum_total + ship_ex + ship_tax
        key = "wc_order_" + self.uuid().replace("-", "")[:13]
        paid = status in ("processing", "completed")
        gw = spec.get("payment_method") or ("bacs" if status in ("pending", "on-hold") else "quickpay")
        o = {"id": oid, "parent_id": 0, "status": status, "currency": self.config["currency"],
             "version": self.config["wc_version"], "prices_include_tax": True,
             "discount_total": mstr(disc_total), "discount_tax": mstr(disc_tax),
             "shipping_total": mstr(ship_ex), "shipping_tax": mstr(ship_tax), "cart_tax": mstr(cart_tax),
             "total": mstr(total), "total_tax": mstr(cart_tax + ship_tax),
             "customer_id": cust["id"] if cust else 0, "order_key": key, "billing": billing,
             "shipping": shipping_addr, "payment_method": gw,
             "payment_method_title": {"bacs": "Bankoverførsel", "quickpay": "Betalingskort (QuickPay)"}.get(gw, gw),
             "transaction_id": ("%d" % (300000000 + oid)) if paid and gw == "quickpay" else "",
             "customer_ip_address": "192.0.2.%d" % (oid % 250 + 1),
             "customer_user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "created_via": spec.get("created_via", "checkout"),
             "customer_note": spec.get("customer_note", ""), "cart_hash": hashlib.md5(key.encode()).hexdigest(),
             "number": str(oid), "meta_data": list(spec.get("meta_data") or []),
             "line_items": items,
             "tax_lines": ([{"id": self.store.next_id("order_item", 1), "rate_code": "%s-MOMS-1" % cc, "rate_id": 1,
                             "label": "Moms", "compound": False, "tax_total": mstr(cart_tax),
                             "shipping_tax_total": mstr(ship_tax), "rate_percent": float(rate * 100),
                             "meta_data": []}] if rate else []),
             "shipping_lines": ship_lines, "fee_lines": [],
             "coupon_lines": ([{"id": self.store.next_id("order_item", 1), "code": spec["coupon"]["code"],
                                "discount": mstr(disc_total), "discount_tax": mstr(disc_tax), "meta_data": []}]
                              if spec.get("coupon") else []),
             "refunds": [], "payment_url": "%s/kassen/order-pay/%d/?pay_for_order=true&key=%s" % (self.config["site_url"], oid, key),
             "is_editable": status in ("pending", "on-hold", "checkout-draft"),
             "needs_payment": status in ("pending", "failed"), "needs_processing": True,
             "currency_symbol": "kr.", "_ts": t, "_mts": t}
        self.dates(o, "date_created", t)
        self.dates(o, "date_modified", t)
        self.dates(o, "date_paid", t if paid else None)
        self.dates(o, "date_completed", t if status == "completed" else None)
        self.search_lag_stamp(o)
        self.store.put("orders", oid, o)
        if fire:
            self.fire("order", "created", o)
        return o

    def set_status(self, o, status, t=None):
        t = t or time.time()
        if status not in STATUSES:
            raise invalid_param("status", "status is not one of %s." % ", ".join(STATUSES))
        o["status"] = status
        if status in ("processing", "completed") and not o["date_paid"]:
            self.dates(o, "date_paid", t)
            if o["payment_method"] == "quickpay" and not o["transaction_id"]:
                o["transaction_id"] = "%d" % (300000000 + o["id"])
        if status == "completed" and not o["date_completed"]:
            self.dates(o, "date_completed", t)
        o["is_editable"] = status in ("pending", "on-hold", "checkout-draft")
        o["needs_payment"] = status in ("pending", "failed")

    def touch(self, o, t=None):
        t = t or time.time()
        o["_mts"] = t
        self.dates(o, "date_modified", t)
        self.store.put("orders", o["id"], o)

    def make_refund(self, o, spec, t=None, fire=True):
        t = t or time.time()
        refunded = sum((D(r["amount"]) for r in self.store.values("refunds") if r["_order"] == o["id"]), money(0))
        lines, amount = [], money(0)
        for it in spec.get("line_items") or []:
            li = next((l for l in o["line_items"] if l["id"] == int(it["id"])), None)
            if li is None:
                raise werr(400, "woocommerce_rest_invalid_line_item", "Invalid line item ID.")
            q = int(it.get("quantity", 0))
            if it.get("refund_total") is not None:
                tot = money(it["refund_total"])
                tax = sum((money(x.get("refund_total", 0)) for x in it.get("refund_tax", [])), money(0))
            else:
                tot = money(D(li["total"]) / li["quantity"] * q)
                tax = money(D(li["total_tax"]) / li["quantity"] * q)
            amount += tot + tax
            lines.append({"id": self.store.next_id("order_item", 1), "name": li["name"], "product_id": li["product_id"],
                          "variation_id": 0, "quantity": -q, "tax_class": "", "subtotal": mstr(-tot),
                          "subtotal_tax": mstr(-tax), "total": mstr(-tot), "total_tax": mstr(-tax),
                          "taxes": [{"id": 1, "total": mstr(-tax), "subtotal": mstr(-tax)}],
                          "meta_data": [{"id": 0, "key": "_refunded_item_id", "value": str(li["id"])}],
                          "sku": li["sku"], "price": float(-tot / q) if q else 0.0, "refund_total": float(tot + tax)})
        if spec.get("amount") not in (None, ""):
            try:
                amount = money(spec["amount"])
            except Exception:
                raise werr(400, "rest_invalid_param", "Invalid parameter(s): amount", params={"amount": "amount is not of type string."})
        if amount <= 0 or amount + refunded > D(o["total"]):
            raise werr(500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
        rid = self.store.next_id("post", 101)
        ref = {"id": rid, "reason": spec.get("reason", ""), "amount": mstr(amount), "refunded_by": 1,
               "refunded_payment": bool(spec.get("api_refund", True)) and o["payment_method"] == "quickpay",
               "meta_data": [], "line_items": lines, "shipping_lines": [], "tax_lines": [], "fee_lines": [],
               "_order": o["id"], "_ts": t}
        self.dates(ref, "date_created", t)
        self.store.put("refunds", rid, ref)
        o["refunds"].append({"id": rid, "reason": ref["reason"], "total": mstr(-amount)})
        if amount + refunded >= D(o["total"]):
            o["status"] = "refunded"
        self.touch(o, t)
        if fire:
            self.fire("order", "updated", o)
        return ref

    def _links(self, req, kind, obj_id):
        base = req.base_url + "/wp-json/wc/v3/" + kind
        return {"self": [{"href": "%s/%d" % (base, obj_id)}], "collection": [{"href": base}]}

    def render(self, req, rec, kind):
        d = strip_private(rec)
        d["_links"] = self._links(req, kind, rec["id"])
        if kind == "orders" and rec.get("customer_id"):
            d["_links"]["customer"] = [{"href": req.base_url + "/wp-json/wc/v3/customers/%d" % rec["customer_id"]}]
        return d

    # -- pagination ---------------------------------------------------------------
    def paginate(self, req, items):
        def intparam(name, default, lo, hi=None):
            raw = req.q(name)
            if raw is None:
                return default
            try:
                v = int(raw)
            except ValueError:
                raise invalid_param(name, "%s is not of type integer." % name)
            if v < lo or (hi is not None and v > hi):
                raise invalid_param(name, "%s must be between %d (inclusive) and %d (inclusive)" % (name, lo, hi)
                                    if hi else "%s must be greater than or equal to %d" % (name, lo))
            return v
        per = intparam("per_page", 10, 1, 100)
        page = intparam("page", 1, 1)
        offset = intparam("offset", None, 0)
        total = len(items)
        start = offset if offset is not None else (page - 1) * per
        chunk = items[start:start + per]
        pages = -(-total // per) if total else 0
        r = Response(200, None)
        r.header("X-WP-Total", total)
        r.header("X-WP-TotalPages", pages)
        base = req.base_url + req.raw_path
        q = {k: v[-1] for k, v in req.query.items() if k not in ("page", "consumer_key", "consumer_secret")}
        links = []
        if page > 1 and pages:
            links.append('<%s?%s>; rel="prev"' % (base, urllib.parse.urlencode(dict(q, page=min(page - 1, pages)))))
        if page < pages:
            links.append('<%s?%s>; rel="next"' % (base, urllib.parse.urlencode(dict(q, page=page + 1))))
        if links:
            r.header("Link", ", ".join(links))
        return r, chunk

    def _date_param(self, req, name):
        raw = req.q(name)
        if raw is None:
            return None
        gmt = (req.q("dates_are_gmt") or "").lower() in ("1", "true")
        t = parse_time(raw, UTC if gmt else self.zone)
        if t is None:
            raise invalid_param(name, "Invalid date.")
        return t

    # -- routes ---------------------------------------------------------------------
    def index(self, req):
        return {"namespace": "wc/v3", "routes": {}}

    def list_orders(self, req):
        sts = req.qlist("status") or ["any"]
        for s in sts:
            if s != "any" and s not in STATUSES:
                raise invalid_param("status", "status[0] is not one of any, %s." % ", ".join(STATUSES))
        items = [o for o in self.store.values("orders") if self.visible(o)]
        if "any" not in sts:
            items = [o for o in items if o["status"] in sts]
        else:
            items = [o for o in items if o["status"] not in ("trash", "checkout-draft")]
        for name, attr, op in (("after", "_ts", ">"), ("before", "_ts", "<"),
                               ("modified_after", "_mts", ">"), ("modified_before", "_mts", "<")):
            t = self._date_param(req, name)
            if t is not None:
                items = [o for o in items if (o[attr] > t if op == ">" else o[attr] < t)]
        if req.q("customer"):
            items = [o for o in items if str(o["customer_id"]) == req.q("customer")]
        if req.q("include"):
            inc = {int(x) for x in req.qlist("include") if x.isdigit()}
            items = [o for o in items if o["id"] in inc]
        if req.q("exclude"):
            exc = {int(x) for x in req.qlist("exclude") if x.isdigit()}
            items = [o for o in items if o["id"] not in exc]
        if req.q("search"):
            s = req.q("search").lower()
            items = [o for o in items if s in (o["billing"]["email"] + " " + o["billing"]["first_name"] + " " +
                                               o["billing"]["last_name"] + " " + o["number"]).lower()]
        if req.q("product"):
            items = [o for o in items if any(str(l["product_id"]) == req.q("product") for l in o["line_items"])]
        order = req.q("order", "desc")
        if order not in ("asc", "desc"):
            raise invalid_param("order", "order is not one of asc, desc.")
        orderby = req.q("orderby", "date")
        keys = {"date": lambda o: (o["_ts"], o["id"]), "id": lambda o: o["id"], "modified": lambda o: (o["_mts"], o["id"]),
                "include": lambda o: o["id"], "title": lambda o: o["id"], "slug": lambda o: o["id"]}
        if orderby not in keys:
            raise invalid_param("orderby", "orderby is not one of date, id, include, title, slug, modified.")
        items.sort(key=keys[orderby], reverse=(order == "desc"))
        r, chunk = self.paginate(req, items)
        r.body = [self.render(req, o, "orders") for o in chunk]
        return r

    def _order(self, oid):
        o = self.store.get("orders", oid)
        if not o:
            raise werr(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return o

    def get_order(self, req, oid):
        return self.render(req, self._order(oid), "orders")

    def create_order(self, req):
        b = self.body(req)
        lines = []
        for li in b.get("line_items") or []:
            if li.get("product_id") and not self.store.get("products", li["product_id"]):
                raise werr(400, "woocommerce_rest_invalid_product_id", "Product ID provided is invalid.")
            lines.append({"product_id": li.get("product_id"), "sku": li.get("sku"), "quantity": li.get("quantity", 1),
                          "price": li.get("price")})
        status = b.get("status", "pending")
        if b.get("set_paid"):
            status = "processing"
        if status not in STATUSES:
            raise invalid_param("status", "status is not one of %s." % ", ".join(STATUSES))
        spec = {"customer_id": b.get("customer_id") or None, "lines": lines, "status": status,
                "billing": b.get("billing"), "payment_method": b.get("payment_method"), "created_via": "rest-api",
                "customer_note": b.get("customer_note", ""), "shipping": None}
        if b.get("shipping_lines"):
            sl = b["shipping_lines"][0]
            spec["shipping"] = {"method_title": sl.get("method_title", "Fragt"), "price": sl.get("total", "0")}
        o = self.build_order(spec)
        r = Response(201, self.render(req, o, "orders"))
        r.header("Location", req.base_url + "/wp-json/wc/v3/orders/%d" % o["id"])
        r.ledger = {"kind": "create", "resource": "order", "id": o["id"], "reference": o["number"]}
        r.created = True
        return r

    def update_order(self, req, oid):
        o = self._order(oid)
        b = self.body(req)
        if "status" in b:
            self.set_status(o, b["status"])
        if b.get("set_paid"):
            self.set_status(o, "processing")
        for k in ("customer_note", "transaction_id", "payment_method", "payment_method_title"):
            if k in b:
                o[k] = b[k]
        for k in ("billing", "shipping"):
            if isinstance(b.get(k), dict):
                o[k].update(b[k])
        if isinstance(b.get("meta_data"), list):
            for m in b["meta_data"]:
                existing = next((x for x in o["meta_data"] if x["key"] == m.get("key")), None)
                if existing:
                    existing["value"] = m.get("value")
                else:
                    o["meta_data"].append({"id": self.store.next_id("meta", 1000), "key": m.get("key"), "value": m.get("value")})
        self.touch(o)
        self.fire("order", "updated", o)
        r = Response(200, self.render(req, o, "orders"))
        r.ledger = {"kind": "update", "resource": "order", "id": o["id"], "reference": o["number"]}
        return r

    def delete_order(self, req, oid):
        o = self._order(oid)
        force = (req.q("force") or "").lower() in ("1", "true")
        out = self.render(req, o, "orders")
        if force:
            self.store.delete("orders", oid)
            self.fire("order", "deleted", {"id": o["id"]})
        else:
            o["status"] = "trash"
            self.touch(o)
            self.fire("order", "deleted", {"id": o["id"]})
            out = self.render(req, o, "orders")
        r = Response(200, out)
        r.ledger = {"kind": "delete", "resource": "order", "id": o["id"], "reference": o["number"]}
        return r

    def list_refunds(self, req, oid):
        self._order(oid)
        items = sorted((r for r in self.store.values("refunds") if r["_order"] == int(oid)), key=lambda r: -r["id"])
        r, chunk = self.paginate(req, items)
        r.body = [self.render_refund(req, x) for x in chunk]
        return r

    def render_refund(self, req, x):
        d = strip_private(x)
        base = req.base_url + "/wp-json/wc/v3/orders/%d/refunds" % x["_order"]
        d["_links"] = {"self": [{"href": "%s/%d" % (base, x["id"])}], "collection": [{"href": base}],
                       "up": [{"href": req.base_url + "/wp-json/wc/v3/orders/%d" % x["_order"]}]}
        return d

    def get_refund(self, req, oid, rid):
        x = self.store.get("refunds", rid)
        if not x or x["_order"] != int(oid):
            raise werr(404, "woocommerce_rest_shop_order_refund_invalid_id", "Invalid ID.")
        return self.render_refund(req, x)

    def create_refund(self, req, oid):
        o = self._order(oid)
        b = self.body(req)
        ref = self.make_refund(o, b)
        r = Response(201, self.render_refund(req, ref))
        r.ledger = {"kind": "create", "resource": "order_refund", "id": ref["id"], "reference": o["number"]}
        r.created = True
        return r

    def list_customers(self, req):
        items = [c for c in self.store.values("customers") if self.visible(c)]
        if req.q("email"):
            items = [c for c in items if (c["email"] or "").lower() == req.q("email").lower()]
        if req.q("search"):
            s = req.q("search").lower()
            items = [c for c in items if s in ("%s %s %s" % (c["email"], c["first_name"], c["last_name"])).lower()]
        role = req.q("role", "customer")
        if role != "all":
            items = [c for c in items if c["role"] == role]
        items.sort(key=lambda c: c["first_name"] + c["last_name"] if req.q("orderby") == "name" else c["id"],
                   reverse=req.q("order", "asc") == "desc")
        r, chunk = self.paginate(req, items)
        r.body = [self.render(req, c, "customers") for c in chunk]
        return r

    def get_customer(self, req, cid):
        c = self.store.get("customers", cid)
        if not c:
            raise werr(404, "woocommerce_rest_invalid_id", "Invalid resource ID.")
        return self.render(req, c, "customers")

    def create_customer(self, req):
        b = self.body(req)
        email = b.get("email")
        if not email or "@" not in str(email):
            raise werr(400, "rest_missing_callback_param" if not email else "rest_invalid_param",
                       "Missing parameter(s): email" if not email else "Invalid parameter(s): email",
                       params=["email"] if not email else {"email": "Invalid email address."})
        if any((c["email"] or "").lower() == email.lower() for c in self.store.values("customers")):
            raise werr(400, "registration-error-email-exists",
                       "An account is already registered with your email address. <a href=\"#\" class=\"showlogin\">Please log in.</a>")
        bl = b.get("billing") or {}
        c = self._make_customer((b.get("first_name", ""), b.get("last_name", ""), email, bl.get("phone", ""),
                                 bl.get("address_1", ""), bl.get("postcode", ""), bl.get("city", ""),
                                 bl.get("country", "DK"), "", bl.get("company")), time.time())
        c["is_paying_customer"] = False
        self.search_lag_stamp(c)
        self.store.put("customers", c["id"], c)
        self.fire("customer", "created", c)
        r = Response(201, self.render(req, c, "customers"))
        r.ledger = {"kind": "create", "resource": "customer", "id": c["id"], "reference": email}
        r.created = True
        return r

    def list_products(self, req):
        items = [p for p in self.store.values("products") if self.visible(p)]
        if req.q("sku") is not None:
            skus = set(req.q("sku").split(","))
            items = [p for p in items if p["sku"] in skus]
        if req.q("search"):
            items = [p for p in items if req.q("search").lower() in p["name"].lower()]
        items.sort(key=lambda p: (p["_ts"], p["id"]), reverse=req.q("order", "desc") == "desc")
        r, chunk = self.paginate(req, items)
        r.body = [self.render(req, p, "products") for p in chunk]
        return r

    def get_product(self, req, pid):
        p = self.store.get("products", pid)
        if not p:
            raise werr(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        return self.render(req, p, "products")

    # -- webhooks -----------------------------------------------------------------------
    def render_webhook(self, req, w):
        d = {k: w[k] for k in ("id", "name", "status", "topic", "resource", "event", "hooks", "delivery_url")}
        for k in ("date_created", "date_created_gmt", "date_modified", "date_modified_gmt"):
            d[k] = w[k]
        d["_links"] = self._links(req, "webhooks", w["id"])
        return d

    def list_webhooks(self, req):
        items = sorted(self.store.values("webhooks"), key=lambda w: w["id"], reverse=req.q("order", "desc") == "desc")
        if req.q("status") and req.q("status") != "all":
            items = [w for w in items if w["status"] == req.q("status")]
        r, chunk = self.paginate(req, items)
        r.body = [self.render_webhook(req, w) for w in chunk]
        return r

    def _webhook(self, wid):
        w = self.store.get("webhooks", wid)
        if not w:
            raise werr(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
        return w

    def get_webhook(self, req, wid):
        return self.render_webhook(req, self._webhook(wid))

    def _check_webhook(self, b, creating):
        topic = b.get("topic")
        if creating or "topic" in b:
            parts = str(topic or "").split(".")
            ok = len(parts) == 2 and ((parts[0] in RESOURCES and parts[1] in EVENTS) or (parts[0] == "action" and parts[1]))
            if not ok:
                raise werr(400, "woocommerce_rest_webhook_invalid_topic", "Webhook topic is required and must be valid.")
        if creating or "delivery_url" in b:
            url = b.get("delivery_url") or ""
            if not str(url).startswith(("http://", "https://")):
                raise werr(400, "woocommerce_rest_webhook_invalid_delivery_url",
                           "Webhook delivery URL must be a valid URL starting with http:// or https://.")
        if "status" in b and b["status"] not in ("active", "paused", "disabled"):
            raise invalid_param("status", "status is not one of active, paused, disabled.")

    def create_webhook(self, req):
        b = self.body(req)
        self._check_webhook(b, True)
        wid = self.store.next_id("webhook", 1)
        res, ev = b["topic"].split(".")
        t = time.time()
        secret = b.get("secret") or hashlib.sha256(("user-1-%d" % wid).encode()).hexdigest()
        w = {"id": wid, "name": b.get("name") or "Webhook created on %s" % time.strftime("%B %d, %Y @ %I:%M %p", time.localtime(t)),
             "status": b.get("status", "active"), "topic": b["topic"], "resource": res, "event": ev,
             "hooks": ["woocommerce_%s_%s" % ("new" if ev == "created" else ev, res)] if res != "action" else [ev],
             "delivery_url": b["delivery_url"], "_secret": secret, "_failures": 0, "_pending_delivery": True}
        self.dates(w, "date_created", t)
        self.dates(w, "date_modified", t)
        self.store.put("webhooks", wid, w)
        if w["status"] == "active":
            self._ping(w)
        r = Response(201, self.render_webhook(req, w))
        r.header("Location", req.base_url + "/wp-json/wc/v3/webhooks/%d" % wid)
        r.ledger = {"kind": "create", "resource": "webhook", "id": wid, "body": {k: v for k, v in b.items() if k != "secret"}}
        r.created = True
        return r

    def _ping(self, w):
        """WC_Webhook::deliver_ping(): form body webhook_id=<id>, no signature."""
        self.enqueue_delivery({"webhook": w["id"], "ping": True, "url": w["delivery_url"], "topic": w["topic"]})

    def update_webhook(self, req, wid):
        w = self._webhook(wid)
        b = self.body(req)
        self._check_webhook(b, False)
        url_changed = "delivery_url" in b and b["delivery_url"] != w["delivery_url"]
        for k in ("name", "status", "delivery_url"):
            if k in b:
                w[k] = b[k]
        if "topic" in b:
            w["topic"] = b["topic"]
            w["resource"], w["event"] = b["topic"].split(".")
        if "secret" in b:
            w["_secret"] = b["secret"]
        if b.get("status") == "active":
            w["_failures"] = 0
        if url_changed:
            w["_pending_delivery"] = True
        if w["status"] == "active" and w.get("_pending_delivery") and (url_changed or b.get("status") == "active"):
            self._ping(w)
        self.dates(w, "date_modified", time.time())
        self.store.put("webhooks", wid, w)
        r = Response(200, self.render_webhook(req, w))
        r.ledger = {"kind": "update", "resource": "webhook", "id": w["id"], "body": {k: v for k, v in b.items() if k != "secret"}}
        return r

    def delete_webhook(self, req, wid):
        w = self._webhook(wid)
        if (req.q("force") or "").lower() not in ("1", "true"):
            raise werr(501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.")
        out = self.render_webhook(req, w)
        self.store.delete("webhooks", wid)
        r = Response(200, out)
        r.ledger = {"kind": "delete", "resource": "webhook", "id": w["id"]}
        return r

    def fire(self, resource, event, rec):
        payload = strip_private(rec) if event != "deleted" else {"id": rec["id"]}
        body = dumps(payload)
        topic = "%s.%s" % (resource, event)
        for w in sorted(self.store.values("webhooks"), key=lambda w: w["id"]):
            if w["topic"] != topic or w["status"] != "active":
                continue
            self.enqueue_delivery({"webhook": w["id"], "url": w["delivery_url"], "topic": topic,
                                   "resource": resource, "event": event, "body": body, "arg": rec["id"]})

    def deliver_request(self, d):
        ua = "WooCommerce/%s Hookshot (WordPress/%s)" % (self.config["wc_version"], self.config["wp_version"])
        if d.get("ping"):
            body = urllib.parse.urlencode({"webhook_id": d["webhook"]}).encode()
            return d["url"], [("Content-Type", "application/x-www-form-urlencoded"), ("User-Agent", ua)], body
        w = self.store.get("webhooks", d["webhook"])
        secret = w["_secret"] if w else ""
        body = d["body"].encode("utf-8")
        delivery_id = hashlib.md5(("%s%d" % (d["webhook"], int(time.time()))).encode()).hexdigest()
        d["delivery_id"] = delivery_id
        return d["url"], [("Content-Type", "application/json"), ("User-Agent", ua),
                          ("X-WC-Webhook-Source", self.config["site_url"].rstrip("/") + "/"),
                          ("X-WC-Webhook-Topic", d["topic"]), ("X-WC-Webhook-Resource", d["resource"]),
                          ("X-WC-Webhook-Event", d["event"]),
                          ("X-WC-Webhook-Signature", b64hmac(secret, body)),
                          ("X-WC-Webhook-ID", str(d["webhook"])),
                          ("X-WC-Webhook-Delivery-ID", delivery_id)], body

    def delivery_outcome(self, d, ok, status, error):
        # WooCommerce treats 200..302 as success and never redelivers.
        success = status is not None and 200 <= status < 303
        d["state"] = "delivered" if success else "failed"
        w = self.store.get("webhooks", d["webhook"])
        if w is None:
            return
        if d.get("ping"):
            if success:
                w["_pending_delivery"] = False
                self.store.touch("webhooks", w["id"])
            return
        if success:
            w["_failures"] = 0
        else:
            w["_failures"] = w.get("_failures", 0) + 1
            if w["_failures"] > int(self.config.get("webhook_max_failures", 5)):
                w["status"] = "disabled"
        self.store.touch("webhooks", w["id"])

    # -- control -----------------------------------------------------------------------
    def c_create_order(self, req):
        spec = req.json() or {}
        if "lines" not in spec:
            spec["lines"] = [{"sku": "KAFFE-ESP-500", "quantity": 1}]
        if "customer_id" not in spec and "customer" not in spec and "billing" not in spec:
            spec["customer_id"] = sorted(self.store.values("customers"), key=lambda c: c["id"])[0]["id"]
        return {"order": strip_private(self.build_order(spec))}

    def c_update_order(self, req, oid):
        o = self._order(oid)
        b = req.json() or {}
        if "status" in b:
            self.set_status(o, b["status"])
        for k in ("customer_note", "transaction_id"):
            if k in b:
                o[k] = b[k]
        self.touch(o)
        self.fire("order", "updated", o)
        return {"order": strip_private(o)}

    def c_refund(self, req, oid):
        o = self._order(oid)
        spec = req.json() or {}
        if not spec.get("line_items") and not spec.get("amount"):
            spec["line_items"] = [{"id": o["line_items"][0]["id"], "quantity": 1}]
        return {"refund": strip_private(self.make_refund(o, spec))}


def create(seed=0, state_path=None, config=None):
    return WooCommerce(seed=seed, state_path=state_path, config=config)
