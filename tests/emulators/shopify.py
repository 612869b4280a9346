"""Shopify Admin REST emulator (/admin/api/{version}/..., modelled on 2023-10).

See README.md for what is faithful and what is simplified.
"""

import base64
import json
import time
import uuid

from emulib import (App, HTTPError, Response, D, money, mstr, tz, iso_offset, parse_time,
                    strip_private, b64hmac, dumps, fmt_retry)
import shopdata

V = r"/admin/api/(?P<ver>\d{4}-\d{2})"
ORDER_STATUS = ("open", "closed", "cancelled", "any")
FINANCIAL = ("authorized", "pending", "paid", "partially_paid", "refunded", "voided",
             "partially_refunded", "any", "unpaid")
FULFILLMENT = ("shipped", "partial", "unshipped", "any", "unfulfilled", "fulfilled")
TOPICS = ("orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled",
          "orders/partially_fulfilled", "orders/edited", "orders/delete", "refunds/create",
          "customers/create", "customers/update", "customers/delete", "products/create",
          "products/update", "products/delete", "app/uninstalled", "inventory_levels/update")
PAGE_INFO_HINT = " cannot be passed when page_info is present. See https://shopify.dev/api/usage/pagination-rest for more information."


def gid(kind, i):
    return "gid://shopify/%s/%d" % (kind, i)


class Shopify(App):
    system = "shopify"
    server_header = "nginx"

    def default_config(self):
        return {
            "shop_domain": "iex-demo.myshopify.com",
            "access_token": "shpat_emulator_token",
            "client_secret": "shopify_client_secret",
            "api_version": "2023-10",
            "timezone": "Europe/Copenhagen",
            "currency": "DKK",
            "orders": 36,
            "rate_limit": {"bucket": 40, "leak": 2.0},
            "webhook_retries": 8,
            "webhook_backoff": 60.0,   # seconds before the first retry, doubling (8 retries ~ 4 h)
            "webhook_timeout": 5.0,
            # Access scopes granted to the app; a call outside them is a 403.
            "scopes": ["read_orders", "write_orders", "read_customers", "write_customers", "read_products"],
            "read_all_orders": False,   # without it orders older than 60 days are invisible
            "frozen": False,            # a frozen shop answers 402
        }

    # -- routes -------------------------------------------------------------
    def register(self):
        a = self.add
        a("GET", V + r"/shop\.json", self.get_shop)
        a("GET", V + r"/orders\.json", self.list_orders)
        a("GET", V + r"/orders/count\.json", self.count_orders)
        a("GET", V + r"/orders/(?P<oid>\d+)\.json", self.get_order)
        a("PUT", V + r"/orders/(?P<oid>\d+)\.json", self.put_order)
        a("POST", V + r"/orders/(?P<oid>\d+)/cancel\.json", self.cancel_order)
        a("GET", V + r"/orders/(?P<oid>\d+)/transactions\.json", self.list_transactions)
        a("GET", V + r"/orders/(?P<oid>\d+)/transactions/count\.json", self.count_transactions)
        a("GET", V + r"/orders/(?P<oid>\d+)/transactions/(?P<tid>\d+)\.json", self.get_transaction)
        a("GET", V + r"/orders/(?P<oid>\d+)/refunds\.json", self.list_refunds)
        a("GET", V + r"/orders/(?P<oid>\d+)/refunds/(?P<rid>\d+)\.json", self.get_refund)
        a("GET", V + r"/customers\.json", self.list_customers)
        a("POST", V + r"/customers\.json", self.create_customer)
        a("GET", V + r"/customers/count\.json", self.count_customers)
        a("GET", V + r"/customers/search\.json", self.search_customers)
        a("GET", V + r"/customers/(?P<cid>\d+)\.json", self.get_customer)
        a("GET", V + r"/customers/(?P<cid>\d+)/orders\.json", self.customer_orders)
        a("GET", V + r"/products\.json", self.list_products)
        a("GET", V + r"/products/count\.json", self.count_products)
        a("GET", V + r"/products/(?P<pid>\d+)\.json", self.get_product)
        a("GET", V + r"/variants/(?P<vid>\d+)\.json", self.get_variant)
        a("GET", V + r"/webhooks\.json", self.list_webhooks)
        a("POST", V + r"/webhooks\.json", self.create_webhook)
        a("GET", V + r"/webhooks/count\.json", self.count_webhooks)
        a("GET", V + r"/webhooks/(?P<wid>\d+)\.json", self.get_webhook)
        a("PUT", V + r"/webhooks/(?P<wid>\d+)\.json", self.update_webhook)
        a("DELETE", V + r"/webhooks/(?P<wid>\d+)\.json", self.delete_webhook)
        c = self.control
        c("POST", r"/orders", self.c_create_order)
        c("POST", r"/orders/(?P<oid>\d+)", self.c_update_order)
        c("POST", r"/orders/(?P<oid>\d+)/refund", self.c_refund)
        c("GET", r"/orders", lambda r: {"orders": [strip_private(o) for o in self.orders_sorted()]})
        c("GET", r"/labels", lambda r: self.store.meta.get("labels", {}))

    # -- errors, auth, rate limit ---------------------------------------
    def render_error(self, req, err):
        if err.body is not None:
            body = err.body
        elif err.status == 401:
            body = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
        elif err.status == 404:
            body = {"errors": "Not Found"}
        elif err.status == 429:
            body = {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}
        elif err.status >= 500:
            body = {"errors": "Internal Server Error"}
        elif err.status == 405:
            body = {"errors": "Not Found"}
            err.status = 404  # Shopify answers unknown method+path pairs with 404
        else:
            body = {"errors": err.message}
        return Response(err.status, body, err.headers)

    SCOPE_OF = (("orders", "orders"), ("customers", "customers"), ("products", "products"),
                ("variants", "products"))

    def authenticate(self, req):
        if req.header("X-Shopify-Access-Token") != self.config["access_token"]:
            raise HTTPError(401)
        if self.config.get("frozen"):
            raise HTTPError(402, body={"errors": "Unavailable Shop"})
        parts = req.path.split("/")
        res = parts[4].split(".")[0] if len(parts) > 4 else ""
        for prefix, scope in self.SCOPE_OF:
            if res == prefix:
                need = ("read_" if req.method == "GET" else "write_") + scope
                have = self.config.get("scopes") or []
                if need not in have and not (need.startswith("read_") and "write_" + scope in have):
                    raise HTTPError(403, body={"errors": "[API] This action requires merchant approval for %s scope." % need})

    def decorate(self, req, resp, authed):
        if self.bucket and resp.status != 401:
            resp.header("X-Shopify-Shop-Api-Call-Limit", "%d/%d" % (self.bucket.used(), self.bucket.size))
        ver = req.params.get("ver") if req.params else None
        resp.header("X-Shopify-API-Version", ver or self.config["api_version"])
        resp.header("X-Request-Id", str(uuid.uuid4()))

    # -- time ---------------------------------------------------------------
    @property
    def zone(self):
        return tz(self.config["timezone"])

    def ts(self, t):
        return iso_offset(t, self.zone)

    # -- seed -----------------------------------------------------------------
    def seed_data(self):
        now = int(time.time())
        for p in shopdata.PRODUCTS:
            self._make_product(p, now - 90 * 86400)
        for c in shopdata.CUSTOMERS:
            self._make_customer(c, now - 60 * 86400)
        n = int(self.config.get("orders", 36))
        labels = {}
        custs = sorted(self.store.values("customers"), key=lambda c: c["id"])
        for i in range(n):
            t = now - (n - i) * 4 * 3600
            special = shopdata.SPECIAL_ORDERS.get(i)
            if special:
                spec = {"customer_id": custs[special["customer"]]["id"],
                        "lines": [{"sku": s, "quantity": q} for s, q in special["lines"]],
                        "financial_status": special.get("financial_status", "paid"),
                        "created_at": t}
                if "shipping" in special and special["shipping"] is None:
                    spec["shipping"] = None
                if special.get("discount"):
                    spec["discount_code"] = {"code": special["discount"][0], "percent": special["discount"][1]}
            else:
                spec = self._random_spec(custs, t, i)
            o = self.build_order(spec, fire=False)
            if special:
                labels[special["label"]] = o["id"]
                if special.get("refund"):
                    items = []
                    for sku, q in special["refund"]:
                        li = next(l for l in o["line_items"] if l["sku"] == sku)
                        items.append({"line_item_id": li["id"], "quantity": q})
                    self.make_refund(o, {"line_items": items, "note": "Kunden fortrød", "at": t + 7200}, fire=False)
        self.store.set_meta("labels", labels)

    def _random_spec(self, custs, t, i):
        rng = self.rng
        dk = [c for c in custs if c["default_address"]["country_code"] == "DK"]
        cust = rng.choice(dk)
        skus = [v["sku"] for p in self.store.values("products") for v in p["variants"]
                if v["sku"] and v["sku"] not in ("KAFFE-JUL-2023", "MAELK-SKUM")]
        skus.sort()
        lines = [{"sku": s, "quantity": rng.randint(1, 3)} for s in rng.sample(skus, rng.randint(1, 3))]
        fs = "paid" if rng.random() < 0.85 else rng.choice(["pending", "authorized"])
        spec = {"customer_id": cust["id"], "lines": lines, "financial_status": fs, "created_at": t}
        if rng.random() < 0.3:
            spec["fulfillment_status"] = "fulfilled"
        return spec

    def _make_product(self, p, t):
        handle, title, vendor, ptype, variants = p
        pid = self.store.next_id("product", 8010000000000, 1000)
        vs = []
        for pos, (vt, sku, price, grams) in enumerate(variants, 1):
            vid = self.store.next_id("variant", 45010000000000, 1000)
            vs.append({"id": vid, "product_id": pid, "title": vt, "price": price, "sku": sku,
                       "position": pos, "inventory_policy": "deny", "compare_at_price": None,
                       "fulfillment_service": "manual", "inventory_management": "shopify",
                       "option1": vt, "option2": None, "option3": None, "created_at": self.ts(t),
                       "updated_at": self.ts(t), "taxable": True, "barcode": None, "grams": grams,
                       "weight": grams / 1000.0, "weight_unit": "kg",
                       "inventory_item_id": vid + 1, "inventory_quantity": 100, "old_inventory_quantity": 100,
                       "requires_shipping": True, "admin_graphql_api_id": gid("ProductVariant", vid),
                       "image_id": None})
        prod = {"id": pid, "title": title, "body_html": "<p>%s</p>" % title, "vendor": vendor,
                "product_type": ptype, "created_at": self.ts(t), "handle": handle,
                "updated_at": self.ts(t), "published_at": self.ts(t), "template_suffix": None,
                "published_scope": "global", "tags": "", "status": "active",
                "admin_graphql_api_id": gid("Product", pid), "variants": vs,
                "options": [{"id": pid + 1, "product_id": pid, "name": "Title", "position": 1,
                             "values": [v["title"] for v in vs]}],
                "images": [], "image": None, "_ts": t}
        self.store.put("products", pid, prod)
        return prod

    def _make_customer(self, c, t):
        first, last, email, phone, addr, zipc, city, cc, country, company = c
        cid = self.store.next_id("customer", 6810000000000, 1000)
        aid = cid + 7
        address = {"id": aid, "customer_id": cid, "first_name": first, "last_name": last,
                   "company": company, "address1": addr, "address2": None, "city": city,
                   "province": None, "country": country, "zip": zipc, "phone": phone,
                   "name": "%s %s" % (first, last), "province_code": None, "country_code": cc,
                   "country_name": country, "default": True}
        cust = {"id": cid, "email": email, "created_at": self.ts(t), "updated_at": self.ts(t),
                "first_name": first, "last_name": last, "state": "enabled", "note": None,
                "verified_email": True, "multipass_identifier": None, "tax_exempt": False,
                "phone": phone, "tags": "", "currency": self.config["currency"],
                "tax_exemptions": [], "admin_graphql_api_id": gid("Customer", cid),
                "email_marketing_consent": {"state": "not_subscribed", "opt_in_level": "single_opt_in",
                                            "consent_updated_at": None},
                "sms_marketing_consent": None,
                "addresses": [address], "default_address": dict(address), "_ts": t}
        self.store.put("customers", cid, cust)
        return cust

    # -- order construction ---------------------------------------------
    def variant_by_sku(self, sku):
        for p in sorted(self.store.values("products"), key=lambda p: p["id"]):
            for v in p["variants"]:
                if v["sku"] == sku:
                    return p, v
        return None, None

    def mset(self, amount, pres):
        cur, rate = pres
        a = money(amount)
        return {"shop_money": {"amount": str(a), "currency_code": self.config["currency"]},
                "presentment_money": {"amount": str(money(a / D(rate))), "currency_code": cur}}

    def build_order(self, spec, fire=True):
        """Create an order from a compact spec (see README, control API)."""
        now = time.time()
        t = int(spec.get("created_at") or now)
        cust = None
        if spec.get("customer_id"):
            cust = self.store.get("customers", spec["customer_id"])
            if not cust:
                raise HTTPError(400, "unknown customer_id")
        elif spec.get("customer"):
            c = spec["customer"]
            existing = [x for x in self.store.values("customers") if c.get("email") and x["email"] == c.get("email")]
            cust = existing[0] if existing else self._make_customer(
                (c.get("first_name", "Test"), c.get("last_name", "Kunde"), c.get("email"), c.get("phone"),
                 c.get("address1", "Testvej 1"), c.get("zip", "1000"), c.get("city", "København"),
                 c.get("country_code", "DK"), c.get("country", "Denmark"), c.get("company")), t)
            if c.get("tax_exempt"):   # an EU business whose VAT number the shop checked
                cust["tax_exempt"] = True
                self.store.put("customers", cust["id"], cust)
        addr = dict(cust["default_address"]) if cust else {
            "first_name": None, "last_name": None, "company": None, "address1": None, "address2": None,
            "city": None, "province": None, "country": "Denmark", "zip": None, "phone": None,
            "name": "", "province_code": None, "country_code": "DK", "country_name": "Denmark"}
        cc = spec.get("country_code") or addr.get("country_code") or "DK"
        rate = D(spec.get("tax_rate", shopdata.VAT.get(cc, "0.25")))
        title = shopdata.TAX_TITLE.get(cc, "%s VAT" % cc)
        pres = shopdata.PRESENTMENT.get(cc, (self.config["currency"], "1"))
        if spec.get("presentment_currency"):
            pres = (spec["presentment_currency"], spec.get("presentment_rate", "1"))
        number = self.store.next_id("order_number", 1001)
        oid = self.store.next_id("order", 5610000000001, 1000)
        disc = spec.get("discount_code")
        pct = D(str(disc.get("percent", 0))) / 100 if disc else money(0)

        line_items, tax_acc = [], {}
        total_items = total_disc = total_tax = money(0)
        grams = 0
        for i, ls in enumerate(spec.get("lines") or []):
            prod, var = (None, None)
            if ls.get("sku") is not None:
                prod, var = self.variant_by_sku(ls["sku"])
            if not var and ls.get("sku") and not ls.get("price"):
                raise HTTPError(400, "unknown sku %r" % ls["sku"])
            qty = int(ls.get("quantity", 1))
            price = money(ls.get("price") or var["price"])
            gross = price * qty
            alloc = money(gross * pct) if pct else money(0)
            net = gross - alloc
            tax = money(net - net / (1 + rate)) if rate else money(0)
            total_items += gross
            total_disc += alloc
            total_tax += tax
            g = var["grams"] if var else 0
            grams += g * qty
            lid = oid + 100 + i
            tl = [{"channel_liable": False, "price": str(tax), "price_set": self.mset(tax, pres),
                   "rate": float(rate), "title": title}] if rate else []
            if rate:
                tax_acc[(title, float(rate))] = tax_acc.get((title, float(rate)), money(0)) + tax
            ptitle = prod["title"] if prod else ls.get("title", "Custom item")
            vtitle = var["title"] if var and var["title"] != "Default Title" else None
            line_items.append({
                "id": lid, "admin_graphql_api_id": gid("LineItem", lid), "attributed_staffs": [],
                "current_quantity": qty, "fulfillable_quantity": qty, "fulfillment_service": "manual",
                "fulfillment_status": None, "gift_card": False, "grams": g,
                "name": ptitle + (" - " + vtitle if vtitle else ""), "price": str(price),
                "price_set": self.mset(price, pres), "product_exists": prod is not None,
                "product_id": prod["id"] if prod else None, "properties": [], "quantity": qty,
                "requires_shipping": True, "sku": (var["sku"] if var else ls.get("sku")),
                "taxable": bool(rate), "title": ptitle,
                "total_discount": "0.00", "total_discount_set": self.mset(0, pres),
                "variant_id": var["id"] if var else None,
                "variant_inventory_management": "shopify" if var else None, "variant_title": vtitle,
                "vendor": prod["vendor"] if prod else None, "tax_lines": tl, "duties": [],
                "discount_allocations": ([{"amount": str(alloc), "amount_set": self.mset(alloc, pres),
                                           "discount_application_index": 0}] if alloc else []),
            })
        shipping_lines = []
        ship_total = money(0)
        ship = spec.get("shipping", "default")
        if ship == "default":
            ship = shopdata.SHIPPING if cc == "DK" else shopdata.SHIPPING_EU
            ship = {"title": ship[0], "code": ship[1], "price": ship[2]}
        if ship:
            sp = money(ship["price"])
            stax = money(sp - sp / (1 + rate)) if rate else money(0)
            ship_total += sp
            total_tax += stax
            if rate:
                tax_acc[(title, float(rate))] = tax_acc.get((title, float(rate)), money(0)) + stax
            shipping_lines.append({
                "id": oid + 90, "carrier_identifier": None, "code": ship.get("code", "Standard"),
                "discounted_price": str(sp), "discounted_price_set": self.mset(sp, pres),
                "phone": None, "price": str(sp), "price_set": self.mset(sp, pres),
                "requested_fulfillment_service_id": None, "source": "shopify",
                "title": ship.get("title", "Standard"),
                "tax_lines": ([{"channel_liable": False, "price": str(stax), "price_set": self.mset(stax, pres),
                                "rate": float(rate), "title": title}] if rate else []),
                "discount_allocations": []})
        subtotal = total_items - total_disc
        total = subtotal + ship_total
        fs = spec.get("financial_status", "paid")
        name = "#%d" % number
        email = cust["email"] if cust else spec.get("email")
        order = {
            "id": oid, "admin_graphql_api_id": gid("Order", oid), "app_id": 580111,
            "browser_ip": "192.0.2.%d" % (number % 250 + 1), "buyer_accepts_marketing": False,
            "cancel_reason": None, "cancelled_at": None, "cart_token": None,
            "checkout_id": oid + 3, "checkout_token": self.uuid().replace("-", ""),
            "client_details": {"accept_language": "da-DK", "browser_height": None, "browser_ip": None,
                               "browser_width": None, "session_hash": None, "user_agent": "Mozilla/5.0"},
            "closed_at": None, "confirmation_number": self.uuid()[:9].upper().replace("-", "X"),
            "confirmed": True, "contact_email": email, "created_at": self.ts(t),
            "currency": self.config["currency"],
            "current_subtotal_price": str(subtotal), "current_subtotal_price_set": self.mset(subtotal, pres),
            "current_total_additional_fees_set": None,
            "current_total_discounts": str(total_disc), "current_total_discounts_set": self.mset(total_disc, pres),
            "current_total_duties_set": None,
            "current_total_price": str(total), "current_total_price_set": self.mset(total, pres),
            "current_total_tax": str(total_tax), "current_total_tax_set": self.mset(total_tax, pres),
            "customer_locale": "da-DK" if cc == "DK" else "en", "device_id": None,
            "discount_codes": ([{"code": disc["code"], "amount": str(total_disc), "type": "percentage"}] if disc else []),
            "email": email, "estimated_taxes": False, "financial_status": fs,
            "fulfillment_status": None, "landing_site": "/", "landing_site_ref": None,
            "location_id": None, "merchant_of_record_app_id": None, "name": name, "note": spec.get("note"),
            "note_attributes": spec.get("note_attributes", []), "number": number - 1000,
            "order_number": number,
            "order_status_url": "https://%s/%d/orders/%s/authenticate?key=x" % (self.config["shop_domain"], oid, self.uuid().replace("-", "")),
            "original_total_additional_fees_set": None, "original_total_duties_set": None,
            "payment_gateway_names": [spec.get("gateway", "shopify_payments")],
            "phone": cust["phone"] if cust else None, "po_number": None,
            "presentment_currency": pres[0], "processed_at": self.ts(t), "reference": None,
            "referring_site": None, "source_identifier": None, "source_name": "web", "source_url": None,
            "subtotal_price": str(subtotal), "subtotal_price_set": self.mset(subtotal, pres),
            "tags": spec.get("tags", ""),
            "tax_exempt": bool(cust and cust.get("tax_exempt")),
            "tax_lines": [{"price": str(v), "rate": r, "title": ti, "price_set": self.mset(v, pres),
                           "channel_liable": False} for (ti, r), v in tax_acc.items()],
            "taxes_included": True, "test": bool(spec.get("test")), "token": self.uuid().replace("-", ""),
            "total_discounts": str(total_disc), "total_discounts_set": self.mset(total_disc, pres),
            "total_line_items_price": str(total_items), "total_line_items_price_set": self.mset(total_items, pres),
            "total_outstanding": "0.00", "total_price": str(total), "total_price_set": self.mset(total, pres),
            "total_shipping_price_set": self.mset(ship_total, pres),
            "total_tax": str(total_tax), "total_tax_set": self.mset(total_tax, pres),
            "total_tip_received": "0.00", "total_weight": grams, "updated_at": self.ts(t), "user_id": None,
            "billing_address": self._order_address(addr),
            "customer": self._order_customer(cust) if cust else None,
            "discount_applications": ([{"target_type": "line_item", "type": "discount_code",
                                        "value": str(D(str(disc.get("percent", 0))).quantize(D("0.1"))),
                                        "value_type": "percentage", "allocation_method": "across",
                                        "target_selection": "all", "code": disc["code"]}] if disc else []),
            "fulfillments": [], "line_items": line_items, "payment_terms": None, "refunds": [],
            "shipping_address": self._order_address(addr), "shipping_lines": shipping_lines,
            "_ts": t, "_uts": t, "_pres": list(pres), "_transactions": [],
        }
        self.search_lag_stamp(order)
        self.store.put("orders", oid, order)
        self._apply_financial(order, fs, t, fire=False)
        if spec.get("fulfillment_status") == "fulfilled":
            self._fulfil(order, t)
        if fire:
            self.fire("orders/create", order, t)
            if fs == "paid":
                self.fire("orders/paid", order, t)
        return order

    def _order_address(self, a):
        out = {k: a.get(k) for k in ("first_name", "address1", "phone", "city", "zip", "province", "country",
                                     "last_name", "address2", "company")}
        out.update({"latitude": None, "longitude": None, "name": a.get("name"),
                    "country_code": a.get("country_code"), "province_code": a.get("province_code")})
        return out

    def _order_customer(self, c):
        out = {k: v for k, v in c.items() if k not in ("addresses",) and not k.startswith("_")}
        return out

    def _txn(self, order, kind, amount, t, parent=None, status="success"):
        tid = self.store.next_id("transaction", 6910000000000, 1000)
        n = len(order["_transactions"]) + 1
        tx = {"id": tid, "admin_graphql_api_id": gid("OrderTransaction", tid), "amount": mstr(amount),
              "authorization": "ch_%s" % self.uuid().replace("-", "")[:24], "created_at": self.ts(t),
              "currency": self.config["currency"], "device_id": None, "error_code": None,
              "gateway": order["payment_gateway_names"][0], "kind": kind, "location_id": None,
              "message": None, "order_id": order["id"], "parent_id": parent, "payment_id": "%s.%d" % (order["confirmation_number"], n),
              "processed_at": self.ts(t), "receipt": {}, "source_name": "web", "status": status,
              "test": False, "user_id": None,
              "payment_details": {"credit_card_bin": "424242", "avs_result_code": None, "cvv_result_code": None,
                                  "credit_card_number": "•••• •••• •••• 4242", "credit_card_company": "Visa",
                                  "buyer_action_info": None, "credit_card_name": None, "credit_card_wallet": None,
                                  "credit_card_expiration_month": 12, "credit_card_expiration_year": 2030,
                                  "payment_method_name": "visa"}}
        order["_transactions"].append(tx)
        return tx

    def _apply_financial(self, order, fs, t, fire=True):
        """Move an order to financial status fs, adding the transactions it implies."""
        total = D(order["total_price"])
        txs = order["_transactions"]
        kinds = [x["kind"] for x in txs]
        if fs == "paid":
            auth = next((x for x in txs if x["kind"] == "authorization"), None)
            if auth and "capture" not in kinds:
                self._txn(order, "capture", total, t, auth["id"])
            elif not auth and "sale" not in kinds:
                self._txn(order, "sale", total, t)
            order["total_outstanding"] = "0.00"
        elif fs == "authorized":
            if "authorization" not in kinds:
                self._txn(order, "authorization", total, t)
            order["total_outstanding"] = str(total)
        elif fs == "pending":
            order["total_outstanding"] = str(total)
        elif fs == "partially_paid":
            if "sale" not in kinds:
                self._txn(order, "sale", money(total / 2), t)
            order["total_outstanding"] = str(total - money(total / 2))
        elif fs == "voided":
            auth = next((x for x in txs if x["kind"] == "authorization"), None)
            if auth:
                self._txn(order, "void", money(0), t, auth["id"])
        order["financial_status"] = fs

    def _fulfil(self, order, t):
        fid = self.store.next_id("fulfillment", 4810000000000, 1000)
        order["fulfillments"].append({
            "id": fid, "admin_graphql_api_id": gid("Fulfillment", fid), "created_at": self.ts(t),
            "location_id": 70010000000, "name": "%s.%d" % (order["name"], len(order["fulfillments"]) + 1),
            "order_id": order["id"], "origin_address": {}, "receipt": {}, "service": "manual",
            "shipment_status": None, "status": "success", "tracking_company": "PostNord",
            "tracking_number": "00370730%010d" % (fid % 10 ** 10), "tracking_numbers": [],
            "tracking_url": None, "tracking_urls": [], "updated_at": self.ts(t),
            "line_items": [{"id": li["id"], "quantity": li["quantity"]} for li in order["line_items"]]})
        for li in order["line_items"]:
            li["fulfillment_status"] = "fulfilled"
            li["fulfillable_quantity"] = 0
        order["fulfillment_status"] = "fulfilled"
        if order["financial_status"] == "paid":
            order["closed_at"] = self.ts(t)

    def make_refund(self, order, spec, fire=True):
        t = float(spec.get("at") or time.time())
        pres = tuple(order["_pres"])
        rid = self.store.next_id("refund", 9310000000000, 1000)
        rlis, amount = [], money(0)
        for i, it in enumerate(spec.get("line_items") or []):
            li = next((l for l in order["line_items"] if l["id"] == int(it["line_item_id"])), None)
            if not li:
                raise HTTPError(400, "unknown line_item_id")
            q = int(it.get("quantity", li["current_quantity"]))
            if q < 1 or q > li["current_quantity"]:
                raise HTTPError(400, "bad refund quantity")
            alloc = sum((D(a["amount"]) for a in li["discount_allocations"]), money(0))
            unit = (D(li["price"]) * li["quantity"] - alloc) / li["quantity"]
            sub = money(unit * q)
            ltax = sum((D(x["price"]) for x in li["tax_lines"]), money(0))
            tax = money(ltax / li["quantity"] * q)
            amount += sub
            li["current_quantity"] -= q
            rlis.append({"id": rid + 10 + i, "line_item_id": li["id"], "location_id": None, "quantity": q,
                         "restock_type": "return", "subtotal": float(sub), "subtotal_set": self.mset(sub, pres),
                         "total_tax": float(tax), "total_tax_set": self.mset(tax, pres),
                         "line_item": {k: v for k, v in li.items()}})
        adjustments = []
        if spec.get("amount"):
            extra = money(spec["amount"])
            amount += extra
            adjustments.append({"id": rid + 50, "amount": str(-extra), "amount_set": self.mset(-extra, pres),
                                "kind": "refund_discrepancy", "order_id": order["id"], "reason": "Refund discrepancy",
                                "refund_id": rid, "tax_amount": "0.00", "tax_amount_set": self.mset(0, pres)})
        refunded_before = sum((D(x["amount"]) for x in order["_transactions"] if x["kind"] == "refund"), money(0))
        paid = sum((D(x["amount"]) for x in order["_transactions"] if x["kind"] in ("sale", "capture")), money(0))
        if amount + refunded_before > paid:
            raise HTTPError(422, body={"errors": {"base": ["Refund amount exceeds the amount that can be refunded"]}})
        parent = next((x for x in order["_transactions"] if x["kind"] in ("sale", "capture")), None)
        tx = self._txn(order, "refund", amount, t, parent["id"] if parent else None)
        refund = {"id": rid, "admin_graphql_api_id": gid("Refund", rid), "created_at": self.ts(t),
                  "note": spec.get("note"), "order_id": order["id"], "processed_at": self.ts(t),
                  "restock": True, "total_duties_set": self.mset(0, pres),
                  "total_additional_fees_set": self.mset(0, pres), "return": None, "user_id": None,
                  "order_adjustments": adjustments, "transactions": [tx], "refund_line_items": rlis,
                  "duties": [], "additional_fees": []}
        order["refunds"].append(refund)
        total_ref = refunded_before + amount
        order["financial_status"] = "refunded" if total_ref >= D(order["total_price"]) else "partially_refunded"
        cur_total = D(order["total_price"]) - total_ref
        ref_tax = sum((D(str(r["total_tax"])) for rf in order["refunds"] for r in rf["refund_line_items"]), money(0))
        cur_tax = D(order["total_tax"]) - ref_tax
        order["current_total_price"] = str(money(cur_total))
        order["current_total_price_set"] = self.mset(cur_total, pres)
        order["current_total_tax"] = str(money(cur_tax))
        order["current_total_tax_set"] = self.mset(cur_tax, pres)
        ship = sum((D(s["price"]) for s in order["shipping_lines"]), money(0))
        order["current_subtotal_price"] = str(money(cur_total - ship))
        order["current_subtotal_price_set"] = self.mset(cur_total - ship, pres)
        self._touch(order, t)
        if fire:
            self.fire("refunds/create", refund, t)
            self.fire("orders/updated", order, t)
        return refund

    def _touch(self, order, t=None):
        t = t or time.time()
        order["updated_at"] = self.ts(t)
        order["_uts"] = t
        self.store.put("orders", order["id"], order)

    # -- webhooks -------------------------------------------------------
    def fire(self, topic, resource, t=None):
        t = t or time.time()
        payload = strip_private(resource)
        event_id = self.uuid()
        for sub in sorted(self.store.values("webhooks"), key=lambda w: w["id"]):
            if sub["topic"] != topic:
                continue
            body = payload
            if sub.get("fields"):
                body = {k: v for k, v in payload.items() if k in sub["fields"]}
            self.enqueue_delivery({"subscription": sub["id"], "address": sub["address"], "topic": topic,
                                   "body": dumps(body), "webhook_id": self.uuid(), "event_id": event_id,
                                   "triggered_at": iso_offset(t, tz("UTC")).replace("+00:00", "Z"),
                                   "api_version": sub.get("api_version") or self.config["api_version"]})

    def deliver_request(self, d):
        body = d["body"].encode("utf-8")
        headers = [("Content-Type", "application/json"), ("User-Agent", "Shopify-Captain-Hook"),
                   ("X-Shopify-Topic", d["topic"]),
                   ("X-Shopify-Hmac-Sha256", b64hmac(self.config["client_secret"], body)),
                   ("X-Shopify-Shop-Domain", self.config["shop_domain"]),
                   ("X-Shopify-API-Version", d["api_version"]),
                   ("X-Shopify-Webhook-Id", d["webhook_id"]),
                   ("X-Shopify-Event-Id", d["event_id"]),
                   ("X-Shopify-Triggered-At", d["triggered_at"])]
        return d["address"], headers, body

    def delivery_outcome(self, d, ok, status, error):
        sub = self.store.get("webhooks", d["subscription"])
        if ok:
            d["state"] = "delivered"
            return
        retries = int(self.config.get("webhook_retries", 8))
        if len(d["attempts"]) <= retries and sub is not None:
            delay = float(self.config.get("webhook_backoff", 60.0)) * (2 ** (len(d["attempts"]) - 1))
            d["next_at"] = time.time() + delay
            return
        d["state"] = "failed"
        if sub is not None:
            # Every retry of this delivery failed: the subscription is removed.
            self.store.delete("webhooks", sub["id"])
            for other in self.store.values("deliveries"):
                if other.get("subscription") == sub["id"] and other["state"] == "pending":
                    other["state"] = "dropped"
                    self.store.touch("deliveries", other["id"])
            self.store.set_meta("removed_webhooks", self.store.meta.get("removed_webhooks", []) + [sub["id"]])

    # -- helpers for the public handlers ---------------------------------
    def in_window(self, o):
        """Without read_all_orders only the last 60 days of orders exist for the app."""
        return self.config.get("read_all_orders") or o["_ts"] >= time.time() - 60 * 86400

    def order(self, oid):
        o = self.store.get("orders", oid)
        if not o or not self.in_window(o):
            raise HTTPError(404)
        return o

    def fields(self, req, obj):
        f = req.q("fields")
        out = strip_private(obj)
        if f:
            keep = [x.strip() for x in f.split(",") if x.strip()]
            out = {k: v for k, v in out.items() if k in keep}
        return out

    def limit(self, req):
        raw = req.q("limit", "50")
        try:
            n = int(raw)
        except ValueError:
            raise HTTPError(400, body={"errors": {"limit": "Invalid value"}})
        if n < 1 or n > 250:
            raise HTTPError(400, body={"errors": {"limit": "Limit must be between 1 and 250"}})
        return n

    def paginate(self, req, ver, resource, select, sort_fields=("id",)):
        """Cursor pagination exactly as Shopify REST: Link header with page_info."""
        limit = self.limit(req)
        pi = req.q("page_info")
        if pi is not None:
            extra = [k for k in req.query if k not in ("page_info", "limit", "fields")]
            if extra:
                raise HTTPError(400, body={"errors": {extra[0]: extra[0] + PAGE_INFO_HINT}})
            try:
                cur = json.loads(base64.urlsafe_b64decode(pi + "=" * (-len(pi) % 4)).decode("utf-8"))
                filters, order, key, direction = cur["q"], cur["o"], cur["k"], cur["d"]
            except Exception:
                raise HTTPError(400, body={"errors": {"page_info": "Invalid value."}})
        else:
            filters = {k: v[-1] for k, v in req.query.items() if k not in ("limit", "fields")}
            order = filters.get("order") or ("id asc" if filters.get("since_id") else "id desc")
            key, direction = None, None
        field, _, sdir = order.partition(" ")
        if field not in sort_fields:
            raise HTTPError(400, body={"errors": {"order": "Invalid sort field"}})
        desc = (sdir or "asc").lower() == "desc"
        items = select(filters)

        def k(o):
            v = o.get("_uts" if field == "updated_at" else "_ts") if field in ("created_at", "updated_at", "processed_at") else o.get(field)
            return (v, o["id"])
        items.sort(key=k, reverse=desc)
        if key is not None:
            key = tuple(key)
            if direction == "next":
                rest = [o for o in items if (k(o) < key if desc else k(o) > key)]
                page, has_next, has_prev = rest[:limit], len(rest) > limit, True
            else:
                rest = [o for o in items if (k(o) > key if desc else k(o) < key)]
                page, has_next, has_prev = rest[-limit:], True, len(rest) > limit
        else:
            page, has_next, has_prev = items[:limit], len(items) > limit, False
        links = []

        def link(o, d):
            tok = base64.urlsafe_b64encode(dumps({"q": filters, "o": order, "k": list(k(o)), "d": d}).encode()).decode().rstrip("=")
            extra = "&fields=" + req.q("fields") if req.q("fields") else ""
            return "<%s/admin/api/%s/%s.json?limit=%d%s&page_info=%s>" % (req.base_url, ver, resource, limit, extra, tok)
        if page and has_prev:
            links.append(link(page[0], "prev") + '; rel="previous"')
        if page and has_next:
            links.append(link(page[-1], "next") + '; rel="next"')
        return page, (", ".join(links) if links else None)

    @staticmethod
    def _time_filter(filters, items, pairs):
        for param, attr, op in pairs:
            if filters.get(param):
                t = parse_time(filters[param])
                if t is None:
                    raise HTTPError(400, body={"errors": {param: "Invalid date"}})
                items = [o for o in items if (o[attr] >= t if op == ">=" else o[attr] <= t)]
        return items

    # -- shop -----------------------------------------------------------------
    def get_shop(self, req, ver):
        c = self.config
        return {"shop": {"id": 54810000001, "name": "Nordisk Kaffe (emulator)", "domain": c["shop_domain"],
                         "myshopify_domain": c["shop_domain"], "currency": c["currency"],
                         "iana_timezone": c["timezone"], "country_code": "DK", "taxes_included": True,
                         "email": "butik@example.dk", "plan_name": "basic"}}

    # -- orders ---------------------------------------------------------------
    def orders_sorted(self):
        return sorted(self.store.values("orders"), key=lambda o: o["id"])

    def select_orders(self, f):
        st = f.get("status", "open")
        if st not in ORDER_STATUS:
            raise HTTPError(400, body={"errors": {"status": "Invalid value"}})
        fs = f.get("financial_status", "any")
        if fs not in FINANCIAL:
            raise HTTPError(400, body={"errors": {"financial_status": "Invalid value"}})
        ful = f.get("fulfillment_status", "any")
        if ful not in FULFILLMENT:
            raise HTTPError(400, body={"errors": {"fulfillment_status": "Invalid value"}})
        items = [o for o in self.store.values("orders") if self.visible(o) and self.in_window(o)]
        if st == "open":
            items = [o for o in items if not o["closed_at"] and not o["cancelled_at"]]
        elif st == "closed":
            items = [o for o in items if o["closed_at"]]
        elif st == "cancelled":
            items = [o for o in items if o["cancelled_at"]]
        if fs == "unpaid":
            items = [o for o in items if o["financial_status"] in ("authorized", "pending", "partially_paid")]
        elif fs != "any":
            items = [o for o in items if o["financial_status"] == fs]
        if ful in ("shipped", "fulfilled"):
            items = [o for o in items if o["fulfillment_status"] == "fulfilled"]
        elif ful == "partial":
            items = [o for o in items if o["fulfillment_status"] == "partial"]
        elif ful in ("unshipped", "unfulfilled"):
            items = [o for o in items if o["fulfillment_status"] in (None, "partial")] if ful == "unfulfilled" \
                else [o for o in items if o["fulfillment_status"] is None]
        items = self._time_filter(f, items, [
            ("created_at_min", "_ts", ">="), ("created_at_max", "_ts", "<="),
            ("updated_at_min", "_uts", ">="), ("updated_at_max", "_uts", "<="),
            ("processed_at_min", "_ts", ">="), ("processed_at_max", "_ts", "<=")])
        if f.get("since_id"):
            try:
                sid = int(f["since_id"])
            except ValueError:
                raise HTTPError(400, body={"errors": {"since_id": "Invalid value"}})
            items = [o for o in items if o["id"] > sid]
        if f.get("ids"):
            ids = {int(x) for x in f["ids"].split(",") if x.strip().isdigit()}
            items = [o for o in items if o["id"] in ids]
        if f.get("name"):
            n = f["name"] if f["name"].startswith("#") else "#" + f["name"]
            items = [o for o in items if o["name"] == n]
        if f.get("customer_id"):
            items = [o for o in items if o["customer"] and str(o["customer"]["id"]) == str(f["customer_id"])]
        return items

    def render_order(self, req, o):
        return self.fields(req, o)

    def list_orders(self, req, ver):
        page, link = self.paginate(req, ver, "orders", self.select_orders,
                                   sort_fields=("id", "created_at", "updated_at", "processed_at"))
        r = Response(200, {"orders": [self.render_order(req, o) for o in page]})
        if link:
            r.header("Link", link)
        return r

    def count_orders(self, req, ver):
        f = {k: v[-1] for k, v in req.query.items()}
        return {"count": len(self.select_orders(f))}

    def get_order(self, req, ver, oid):
        return {"order": self.render_order(req, self.order(oid))}

    def put_order(self, req, ver, oid):
        o = self.order(oid)
        body = req.json() or {}
        upd = body.get("order")
        if not isinstance(upd, dict):
            raise HTTPError(400, body={"errors": {"order": "Required parameter missing or invalid"}})
        allowed = ("id", "note", "tags", "email", "phone", "note_attributes", "buyer_accepts_marketing",
                   "shipping_address", "metafields")
        bad = [k for k in upd if k not in allowed]
        if bad:
            raise HTTPError(422, body={"errors": {bad[0]: ["cannot be changed"]}})
        for k, v in upd.items():
            if k in ("id", "metafields"):
                continue
            if k == "shipping_address" and isinstance(v, dict):
                o["shipping_address"].update(v)
            else:
                o[k] = v
        self._touch(o)
        self.fire("orders/updated", o)
        r = Response(200, {"order": self.render_order(req, o)})
        r.ledger = {"kind": "update", "resource": "order", "id": o["id"], "reference": o["name"]}
        return r

    def cancel_order(self, req, ver, oid):
        o = self.order(oid)
        if o["cancelled_at"]:
            raise HTTPError(422, body={"errors": {"base": ["Cannot cancel an order that has already been cancelled"]}})
        body = req.json() or {}
        self._cancel(o, body.get("reason", "other"))
        r = Response(200, {"order": self.render_order(req, o)})
        r.ledger = {"kind": "update", "resource": "order", "id": o["id"], "reference": o["name"]}
        return r

    def _cancel(self, o, reason):
        t = time.time()
        o["cancelled_at"] = self.ts(t)
        o["cancel_reason"] = reason
        o["closed_at"] = self.ts(t)
        if o["financial_status"] == "authorized":
            self._apply_financial(o, "voided", t)
        self._touch(o, t)
        self.fire("orders/cancelled", o, t)
        self.fire("orders/updated", o, t)

    def list_transactions(self, req, ver, oid):
        return {"transactions": [strip_private(x) for x in self.order(oid)["_transactions"]]}

    def count_transactions(self, req, ver, oid):
        return {"count": len(self.order(oid)["_transactions"])}

    def get_transaction(self, req, ver, oid, tid):
        for x in self.order(oid)["_transactions"]:
            if x["id"] == int(tid):
                return {"transaction": x}
        raise HTTPError(404)

    def list_refunds(self, req, ver, oid):
        return {"refunds": self.order(oid)["refunds"]}

    def get_refund(self, req, ver, oid, rid):
        for x in self.order(oid)["refunds"]:
            if x["id"] == int(rid):
                return {"refund": x}
        raise HTTPError(404)

    # -- customers ------------------------------------------------------------
    def select_customers(self, f):
        items = [c for c in self.store.values("customers") if self.visible(c)]
        items = self._time_filter(f, items, [("created_at_min", "_ts", ">="), ("created_at_max", "_ts", "<="),
                                             ("updated_at_min", "_ts", ">="), ("updated_at_max", "_ts", "<=")])
        if f.get("since_id"):
            items = [c for c in items if c["id"] > int(f["since_id"])]
        if f.get("ids"):
            ids = {int(x) for x in f["ids"].split(",") if x.strip().isdigit()}
            items = [c for c in items if c["id"] in ids]
        return items

    def list_customers(self, req, ver):
        page, link = self.paginate(req, ver, "customers", self.select_customers)
        r = Response(200, {"customers": [self.fields(req, c) for c in page]})
        if link:
            r.header("Link", link)
        return r

    def count_customers(self, req, ver):
        return {"count": len(self.select_customers({k: v[-1] for k, v in req.query.items()}))}

    def search_customers(self, req, ver):
        q = (req.q("query") or "").strip()

        def match(c, term):
            if ":" in term:
                f, _, v = term.partition(":")
                v = v.strip('"').lower()
                if f == "country":
                    val = (c.get("default_address") or {}).get("country", "")
                else:
                    val = c.get(f)
                return val is not None and str(val).lower() == v
            t = term.lower()
            return any(t in str(c.get(k) or "").lower() for k in ("first_name", "last_name", "email", "phone"))
        terms = [t for t in q.split() if t and t.upper() != "AND"]
        items = [c for c in self.store.values("customers") if self.visible(c) and all(match(c, t) for t in terms)]
        items.sort(key=lambda c: c["id"], reverse=True)
        limit = self.limit(req)
        return {"customers": [self.fields(req, c) for c in items[:limit]]}

    def get_customer(self, req, ver, cid):
        c = self.store.get("customers", cid)
        if not c:
            raise HTTPError(404)
        return {"customer": self.fields(req, c)}

    def customer_orders(self, req, ver, cid):
        if not self.store.get("customers", cid):
            raise HTTPError(404)
        f = {k: v[-1] for k, v in req.query.items()}
        f.setdefault("status", "any")
        f["customer_id"] = cid
        items = sorted(self.select_orders(f), key=lambda o: o["id"], reverse=True)
        return {"orders": [self.render_order(req, o) for o in items[:self.limit(req)]]}

    def create_customer(self, req, ver):
        body = req.json() or {}
        c = body.get("customer")
        if not isinstance(c, dict):
            raise HTTPError(400, body={"errors": {"customer": "Required parameter missing or invalid"}})
        errors = {}
        if not (c.get("email") or c.get("phone") or c.get("first_name") or c.get("last_name")):
            errors["customer"] = ["must have a name, phone number or email address"]
        if c.get("email") and any(x["email"] == c["email"] for x in self.store.values("customers")):
            errors["email"] = ["has already been taken"]
        if errors:
            raise HTTPError(422, body={"errors": errors})
        a = (c.get("addresses") or [{}])[0]
        cust = self._make_customer((c.get("first_name"), c.get("last_name"), c.get("email"), c.get("phone"),
                                    a.get("address1"), a.get("zip"), a.get("city"), a.get("country_code", "DK"),
                                    a.get("country", "Denmark"), a.get("company")), time.time())
        self.search_lag_stamp(cust)
        self.fire("customers/create", cust)
        r = Response(201, {"customer": strip_private(cust)})
        r.ledger = {"kind": "create", "resource": "customer", "id": cust["id"], "reference": cust["email"]}
        r.created = True
        return r

    # -- products ---------------------------------------------------------------
    def select_products(self, f):
        items = [p for p in self.store.values("products") if self.visible(p)]
        if f.get("since_id"):
            items = [p for p in items if p["id"] > int(f["since_id"])]
        if f.get("ids"):
            ids = {int(x) for x in f["ids"].split(",") if x.strip().isdigit()}
            items = [p for p in items if p["id"] in ids]
        if f.get("status"):
            items = [p for p in items if p["status"] in f["status"].split(",")]
        return items

    def list_products(self, req, ver):
        page, link = self.paginate(req, ver, "products", self.select_products)
        r = Response(200, {"products": [self.fields(req, p) for p in page]})
        if link:
            r.header("Link", link)
        return r

    def count_products(self, req, ver):
        return {"count": len(self.select_products({k: v[-1] for k, v in req.query.items()}))}

    def get_product(self, req, ver, pid):
        p = self.store.get("products", pid)
        if not p:
            raise HTTPError(404)
        return {"product": self.fields(req, p)}

    def get_variant(self, req, ver, vid):
        for p in self.store.values("products"):
            for v in p["variants"]:
                if v["id"] == int(vid):
                    return {"variant": v}
        raise HTTPError(404)

    # -- webhook subscriptions -------------------------------------------------
    def list_webhooks(self, req, ver):
        items = sorted(self.store.values("webhooks"), key=lambda w: w["id"])
        if req.q("topic"):
            items = [w for w in items if w["topic"] == req.q("topic")]
        if req.q("address"):
            items = [w for w in items if w["address"] == req.q("address")]
        return {"webhooks": [strip_private(w) for w in items]}

    def count_webhooks(self, req, ver):
        return {"count": len(self.list_webhooks(req, ver)["webhooks"])}

    def get_webhook(self, req, ver, wid):
        w = self.store.get("webhooks", wid)
        if not w:
            raise HTTPError(404)
        return {"webhook": strip_private(w)}

    def _validate_webhook(self, w, existing_id=None):
        errors = {}
        topic, address = w.get("topic"), w.get("address")
        if not topic:
            errors["topic"] = ["can't be blank"]
        elif topic not in TOPICS:
            errors["topic"] = ["Invalid topic specified: %s. Does not exist or is not available to this app." % topic]
        if not address:
            errors["address"] = ["can't be blank"]
        elif not str(address).startswith(("http://", "https://")):
            errors["address"] = ["protocol %s is not supported" % str(address).split(":")[0]]
        elif any(x["topic"] == topic and x["address"] == address and x["id"] != existing_id
                 for x in self.store.values("webhooks")):
            errors["address"] = ["for this topic has already been taken"]
        if w.get("format", "json") not in ("json", "xml"):
            errors["format"] = ["is not included in the list"]
        if errors:
            raise HTTPError(422, body={"errors": errors})

    def create_webhook(self, req, ver):
        body = req.json() or {}
        w = body.get("webhook")
        if not isinstance(w, dict):
            raise HTTPError(400, body={"errors": {"webhook": "Required parameter missing or invalid"}})
        self._validate_webhook(w)
        wid = self.store.next_id("webhook", 1047000001, 1)
        t = self.ts(time.time())
        rec = {"id": wid, "address": w["address"], "topic": w["topic"], "created_at": t, "updated_at": t,
               "format": w.get("format", "json"), "fields": w.get("fields", []),
               "metafield_namespaces": w.get("metafield_namespaces", []), "api_version": ver,
               "private_metafield_namespaces": []}
        self.store.put("webhooks", wid, rec)
        r = Response(201, {"webhook": rec})
        r.ledger = {"kind": "create", "resource": "webhook", "id": wid}
        r.created = True
        return r

    def update_webhook(self, req, ver, wid):
        rec = self.store.get("webhooks", wid)
        if not rec:
            raise HTTPError(404)
        w = (req.json() or {}).get("webhook") or {}
        merged = dict(rec)
        merged.update({k: v for k, v in w.items() if k in ("address", "topic", "fields", "format", "metafield_namespaces")})
        self._validate_webhook(merged, rec["id"])
        merged["updated_at"] = self.ts(time.time())
        self.store.put("webhooks", wid, merged)
        r = Response(200, {"webhook": merged})
        r.ledger = {"kind": "update", "resource": "webhook", "id": rec["id"]}
        return r

    def delete_webhook(self, req, ver, wid):
        if not self.store.get("webhooks", wid):
            raise HTTPError(404)
        self.store.delete("webhooks", wid)
        r = Response(200, {})
        r.ledger = {"kind": "delete", "resource": "webhook", "id": int(wid)}
        return r

    # -- control API --------------------------------------------------------------
    def c_create_order(self, req):
        spec = req.json() or {}
        if "lines" not in spec:
            spec["lines"] = [{"sku": "KAFFE-ESP-500", "quantity": 1}]
        if "customer_id" not in spec and "customer" not in spec:
            spec["customer_id"] = sorted(self.store.values("customers"), key=lambda c: c["id"])[0]["id"]
        o = self.build_order(spec, fire=True)
        return {"order": strip_private(o)}

    def c_update_order(self, req, oid):
        o = self.order(oid)
        body = req.json() or {}
        t = time.time()
        topics = []
        if "financial_status" in body and body["financial_status"] != o["financial_status"]:
            self._apply_financial(o, body["financial_status"], t)
            if body["financial_status"] == "paid":
                topics.append("orders/paid")
        if body.get("fulfillment_status") == "fulfilled" and o["fulfillment_status"] != "fulfilled":
            self._fulfil(o, t)
            topics.append("orders/fulfilled")
        for k in ("note", "tags", "email", "phone"):
            if k in body:
                o[k] = body[k]
        if body.get("cancel"):
            self._cancel(o, body.get("cancel_reason", "customer"))
            return {"order": strip_private(o)}
        self._touch(o, t)
        self.fire("orders/updated", o, t)
        for tp in topics:
            self.fire(tp, o, t)
        return {"order": strip_private(o)}

    def c_refund(self, req, oid):
        o = self.order(oid)
        spec = req.json() or {}
        if not spec.get("line_items") and not spec.get("amount"):
            spec["line_items"] = [{"line_item_id": o["line_items"][0]["id"], "quantity": 1}]
        return {"refund": self.make_refund(o, spec, fire=True)}


def create(seed=0, state_path=None, config=None):
    return Shopify(seed=seed, state_path=state_path, config=config)
