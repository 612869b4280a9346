"""e-conomic REST emulator (restapi.e-conomic.com).

Validation follows connector-apis.md section 3.9: required properties,
references that must exist (E06000), missing identifiers (E04500), quantity
(E04730), two-decimal prices (E04740), annotated error documents mirroring
the request with arrayIndex for lines. Error codes other than those four are
the emulator's own choice (see README.md).
"""

import datetime
import re
import time
import urllib.parse
import uuid
from decimal import Decimal, InvalidOperation

from emulib import (App, HTTPError, Response, D, money, strip_private, dumps)
import shopdata

MISSING = object()
HINT_DATA = "Please check the format of your data."
HINT_REQ = "Please check your request data."

# Error codes: E06000, E04740, E04500, E04730 are documented by e-conomic; the
# others are this emulator's (the shape is the documented one).
E_EXISTS = "E06000"
E_SCALE = "E04740"
E_NO_ID = "E04500"
E_QTY = "E04730"
E_REQUIRED = "E04300"
E_NULL = "E04310"
E_RANGE = "E04200"
E_LENGTH = "E04210"
E_TYPE = "E04220"
E_DUPLICATE = "E06010"
E_BARRED = "E07010"
E_YEAR = "E07020"
E_NO_LINES = "E07040"
E_FILTER = "E07500"

ESCAPES = [("_", "_8_"), ("<", "_0_"), (">", "_1_"), ("*", "_2_"), ("%", "_3_"), (":", "_4_"), ("&", "_5_"),
           ("/", "_6_"), ("\\", "_7_"), (" ", "_9_"), ("?", "_10_"), (".", "_11_"), ("#", "_12_"), ("+", "_13_")]


def escape_id(s):
    s = str(s)
    out = []
    for ch in s:
        rep = next((r for c, r in ESCAPES if c == ch), None)
        out.append(rep if rep else (ch if ch.isalnum() or ch in "-" else urllib.parse.quote(ch, safe="")))
    return "".join(out)


def unescape_id(s):
    def sub(m):
        n = int(m.group(1))
        table = {0: "<", 1: ">", 2: "*", 3: "%", 4: ":", 5: "&", 6: "/", 7: "\\", 8: "_", 9: " ",
                 10: "?", 11: ".", 12: "#", 13: "+"}
        return table.get(n, m.group(0))
    return re.sub(r"_(\d{1,2})_", sub, s)


def omit_false(obj):
    """e-conomic omits false booleans (and we never emit nulls)."""
    if isinstance(obj, dict):
        return {k: omit_false(v) for k, v in obj.items() if v is not False and v is not None}
    if isinstance(obj, list):
        return [omit_false(v) for v in obj]
    return obj


def scale(d):
    if not isinstance(d, Decimal):
        return 0
    e = d.normalize().as_tuple().exponent
    return -e if e < 0 else 0


def num(x):
    """A JSON number from a Decimal/float with at most 2 decimals."""
    return float(money(x))


def utc_iso(ts=None):
    t = datetime.datetime.fromtimestamp(ts if ts is not None else time.time(), datetime.timezone.utc)
    return t.replace(microsecond=0, tzinfo=None).isoformat()


def utcnow_iso():
    return utc_iso()


def parse_date(s):
    try:
        return datetime.datetime.strptime(s, "%Y-%m-%d").date()
    except (TypeError, ValueError):
        return None


class Errors:
    """Builds e-conomic's annotated error tree (mirrors the request document)."""

    def __init__(self):
        self.tree = {}
        self.count = 0

    def add(self, path, code, message, value=MISSING, hint=HINT_REQ):
        self.count += 1
        node = self.tree
        i = 0
        while i < len(path) - 1:
            key, nxt = path[i], path[i + 1]
            if isinstance(nxt, int):
                lst = node.setdefault(key, [])
                item = next((x for x in lst if x["arrayIndex"] == nxt), None)
                if item is None:
                    item = {"arrayIndex": nxt}
                    lst.append(item)
                    lst.sort(key=lambda x: x["arrayIndex"])
                node = item
                i += 2
            else:
                node = node.setdefault(key, {})
                i += 1
        e = {"errorCode": code, "message": message}
        if value is not MISSING:
            e["value"] = value
        e["developerHint"] = hint
        node.setdefault(path[-1], {}).setdefault("errors", []).append(e)

    def __bool__(self):
        return self.count > 0


# --------------------------------------------------------------------------
# filter= parser (mongo-like syntax of the e-conomic REST API)
# --------------------------------------------------------------------------

OPS = ("$eq:", "$ne:", "$gte:", "$gt:", "$lte:", "$lt:", "$like:", "$in:", "$nin:")
WILD = "\x00"
NULL = object()


class FilterError(Exception):
    pass


def parse_filter(s):
    pos = 0

    def expr(depth):
        nonlocal pos
        node = and_expr(depth)
        while s.startswith("$or:", pos):
            pos += 4
            node = ("or", node, and_expr(depth))
        return node

    def and_expr(depth):
        nonlocal pos
        node = term(depth)
        while s.startswith("$and:", pos):
            pos += 5
            node = ("and", node, term(depth))
        return node

    def term(depth):
        nonlocal pos
        if pos < len(s) and s[pos] == "(":
            pos += 1
            node = expr(depth + 1)
            if pos >= len(s) or s[pos] != ")":
                raise FilterError("missing closing parenthesis")
            pos += 1
            return node
        m = re.compile(r"[A-Za-z][A-Za-z0-9_.]*").match(s, pos)
        if not m:
            raise FilterError("expected a property name at position %d" % pos)
        prop = m.group(0)
        pos = m.end()
        op = next((o for o in OPS if s.startswith(o, pos)), None)
        if not op:
            raise FilterError("expected an operator after '%s'" % prop)
        pos += len(op)
        if s.startswith("$null:", pos):
            pos += 6
            return ("pred", prop, op[1:-1], NULL)
        val = []
        while pos < len(s):
            if s.startswith("$and:", pos) or s.startswith("$or:", pos):
                break
            ch = s[pos]
            if ch == ")" and depth > 0:
                break
            if ch in "()":
                raise FilterError("unescaped '%s' in a value (write $%s)" % (ch, ch))
            if ch == "$":
                if pos + 1 < len(s) and s[pos + 1] in "$()*,[]":
                    val.append(s[pos + 1])
                    pos += 2
                    continue
                raise FilterError("unescaped '$' in value")
            val.append(WILD if ch == "*" else ch)
            pos += 1
        return ("pred", prop, op[1:-1], "".join(val))

    node = expr(0)
    if pos != len(s):
        raise FilterError("unexpected '%s' at position %d" % (s[pos], pos))
    return node


def props_of(node, out=None):
    out = out if out is not None else []
    if node[0] == "pred":
        out.append(node[1])
    else:
        props_of(node[1], out)
        props_of(node[2], out)
    return out


def get_path(doc, path):
    cur = doc
    for p in path.split("."):
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def eval_filter(node, doc, booleans=()):
    if node[0] == "and":
        return eval_filter(node[1], doc, booleans) and eval_filter(node[2], doc, booleans)
    if node[0] == "or":
        return eval_filter(node[1], doc, booleans) or eval_filter(node[2], doc, booleans)
    _, prop, op, raw = node
    v = get_path(doc, prop)
    if v is None and prop in booleans:
        v = False
    if raw is NULL:
        return (v is None) if op == "eq" else (v is not None)
    if op in ("in", "nin"):
        body = raw.strip()
        if not (body.startswith("[") and body.endswith("]")):
            raise FilterError("$in:/$nin: need a [list]")
        items = [x.strip() for x in body[1:-1].split(",") if x.strip()]
        if len(items) > 200:
            raise FilterError("at most 200 values in $in:/$nin:")
        try:
            nums = [Decimal(x) for x in items]
        except InvalidOperation:
            raise FilterError("$in:/$nin: are only allowed on numeric properties")
        hit = v is not None and not isinstance(v, (str, bool)) and Decimal(str(v)) in nums
        return hit if op == "in" else not hit
    if isinstance(v, bool):
        want = raw.strip().lower() == "true"
        return (v == want) if op == "eq" else (v != want) if op == "ne" else False
    if op == "like":
        if v is None:
            return False
        pat = raw.lower()
        if WILD not in pat:
            return pat in str(v).lower()
        rx = "^" + ".*".join(re.escape(p) for p in pat.split(WILD)) + "$"
        return re.match(rx, str(v).lower(), re.S) is not None
    raw = raw.replace(WILD, "*")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        try:
            a, b = Decimal(str(v)), Decimal(raw)
        except InvalidOperation:
            raise FilterError("'%s' is not a number" % raw)
    else:
        if v is None:
            return op == "ne"
        a, b = str(v).lower(), raw.lower()
    return {"eq": a == b, "ne": a != b, "gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


# --------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------

class Economic(App):
    system = "economic"
    server_header = "Microsoft-IIS/10.0"

    def default_config(self):
        year = datetime.date.today().year
        return {
            "app_secret_token": "econ-app-secret-token",
            "agreement_grant_token": "econ-agreement-grant-token",
            "base_currency": "DKK",
            "closed_years": [year - 2],
            "years": [year - 2, year - 1, year, year + 1],
            # VAT percentage by product group and then by VAT zone.
            "vat_rates": {
                "1": {"1": 25, "2": 0, "3": 0, "4": 0},       # Varer m/moms
                "2": {"1": 0, "2": 0, "3": 0, "4": 0},        # Varer u/moms
                "3": {"1": 25, "2": 0, "3": 0, "4": 0},       # Fragt og gebyrer
                "10": {"1": 19, "2": 19, "3": 0, "4": 0},     # OSS Tyskland
                "11": {"1": 25, "2": 25, "3": 0, "4": 0},     # OSS Sverige
            },
            "exchange_rates": {"DKK": 100, "EUR": 746, "SEK": 65, "NOK": 64, "USD": 690, "GBP": 870},
            "customers": 8,
            "booked_invoices": 3,
            "max_page_size": 1000,
            # "total": VAT rounded once per rate on the summed net (default);
            # "line": VAT rounded per line and summed.
            "vat_rounding": "total",
        }

    # -- routes ---------------------------------------------------------
    def register(self):
        a = self.add
        a("GET", r"/", self.root)
        a("GET", r"/self", self.get_self)
        for name in ("layouts", "payment-terms", "vat-zones", "customer-groups", "units", "product-groups",
                     "currencies", "accounts", "accounting-years", "journals"):
            a("GET", "/" + name, self._list_ref(name))
            a("GET", "/" + name + r"/(?P<key>[^/]+)", self._get_ref(name))
        a("GET", r"/customers", self.list_customers)
        a("POST", r"/customers", self.create_customer)
        a("GET", r"/customers/(?P<n>[^/]+)", self.get_customer)
        a("PUT", r"/customers/(?P<n>[^/]+)", self.put_customer)
        a("DELETE", r"/customers/(?P<n>[^/]+)", self.delete_customer)
        a("GET", r"/products", self.list_products)
        a("POST", r"/products", self.create_product)
        a("GET", r"/products/(?P<n>[^/]+)", self.get_product)
        a("PUT", r"/products/(?P<n>[^/]+)", self.put_product)
        a("DELETE", r"/products/(?P<n>[^/]+)", self.delete_product)
        a("GET", r"/invoices", self.invoices_root)
        a("GET", r"/invoices/drafts", self.list_drafts)
        a("POST", r"/invoices/drafts", self.create_draft)
        a("GET", r"/invoices/drafts/(?P<n>[^/]+)", self.get_draft)
        a("PUT", r"/invoices/drafts/(?P<n>[^/]+)", self.put_draft)
        a("DELETE", r"/invoices/drafts/(?P<n>[^/]+)", self.delete_draft)
        a("GET", r"/invoices/drafts/(?P<n>[^/]+)/pdf", self.draft_pdf)
        a("GET", r"/invoices/booked", self.list_booked)
        a("POST", r"/invoices/booked", self.book)
        a("GET", r"/invoices/booked/(?P<n>[^/]+)", self.get_booked)
        a("GET", r"/invoices/booked/(?P<n>[^/]+)/pdf", self.booked_pdf)
        for name in ("paid", "unpaid", "overdue", "not-due"):
            a("GET", "/invoices/" + name, self._list_booked_subset(name))
        a("GET", r"/journals/(?P<j>[^/]+)/vouchers", self.list_vouchers)
        a("POST", r"/journals/(?P<j>[^/]+)/vouchers", self.create_vouchers)
        a("GET", r"/journals/(?P<j>[^/]+)/entries", self.list_vouchers)
        c = self.control
        c("POST", r"/journals/(?P<j>\d+)/book", self.c_book_journal)
        c("POST", r"/accounting-years/(?P<y>\d{4})", self.c_year)

    # -- errors and auth ----------------------------------------------------
    def edoc(self, status, message, code=None, hint=None, errors=None):
        d = {"message": message}
        if code:
            d["errorCode"] = code
        d["developerHint"] = hint or ("Inspect validation errors and correct your request." if errors else
                                      "See https://restdocs.e-conomic.com for more information.")
        d["logId"] = str(uuid.uuid4())
        d["httpStatusCode"] = status
        if errors is not None:
            d["errors"] = errors
        d["logTime"] = utcnow_iso()
        return d

    def render_error(self, req, err):
        if err.body is not None:
            return Response(err.status, err.body, err.headers)
        msgs = {401: "Unauthorized", 404: "The requested resource was not found.",
                405: "The HTTP method is not allowed on this resource.", 415: "Unsupported Media Type",
                429: "Too many requests.", 500: "An unexpected error occurred.", 503: "Service unavailable."}
        codes = {401: "E00200", 404: "E07000", 405: "E07100", 415: "E00500", 429: "E09000", 500: "E99999",
                 503: "E99998"}
        msg = err.message if err.message and err.status not in (404, 405, 500) else msgs.get(err.status, err.message)
        if err.status in (500, 503) and err.message:
            msg = err.message
        return Response(err.status, self.edoc(err.status, msg, codes.get(err.status, "E00000")), err.headers)

    def authenticate(self, req):
        app = req.header("X-AppSecretToken")
        grant = req.header("X-AgreementGrantToken")
        if not app:
            raise HTTPError(401, "X-AppSecretToken header is missing. Every request must carry both the X-AppSecretToken and the X-AgreementGrantToken headers.")
        if not grant:
            raise HTTPError(401, "X-AgreementGrantToken header is missing. Every request must carry both the X-AppSecretToken and the X-AgreementGrantToken headers.")
        if app == "demo" and grant == "demo":
            if req.method != "GET":
                raise HTTPError(403, "The demo agreement is read-only.", body=self.edoc(
                    403, "The demo agreement is read-only: only GET requests are allowed.", "E00300"))
            return
        if app != self.config["app_secret_token"]:
            raise HTTPError(401, "The provided X-AppSecretToken is not valid.")
        if grant != self.config["agreement_grant_token"]:
            raise HTTPError(401, "The provided X-AgreementGrantToken is not valid, or the grant has been revoked.")
        if req.method in ("POST", "PUT", "PATCH") and req.content_type() != "application/json":
            raise HTTPError(415, "Content-Type must be application/json. The e-conomic REST API only accepts JSON.")

    def body(self, req):
        try:
            doc = req.json(parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as e:
            raise HTTPError(400, body=self.edoc(400, "The request body is not valid JSON.", "E00100",
                                                 hint="Parse error: %s" % e))
        if doc is None:
            raise HTTPError(400, body=self.edoc(400, "The request body is empty.", "E00100"))
        return doc

    def validation_failed(self, errs):
        raise HTTPError(400, body=self.edoc(400, "Validation error.", errors=errs.tree))

    # -- links --------------------------------------------------------------
    def link(self, req, *parts):
        return req.base_url + "/" + "/".join(str(p).strip("/") for p in parts)

    # -- seed ---------------------------------------------------------------
    def seed_data(self):
        st = self.store
        for n, name in ((19, "Standard faktura"), (20, "Faktura med betalingsinfo")):
            st.put("layouts", n, {"layoutNumber": n, "name": name})
        terms = [(1, "Netto 8 dage", "net", 8), (2, "Løbende måned + 30 dage", "invoiceMonth", 30),
                 (3, "Kontant", "paidInCash", 0), (4, "Forudbetalt (webshop)", "prepaid", 0),
                 (5, "Betalingskort", "creditcard", 0), (6, "Forfaldsdato", "dueDate", 0),
                 (7, "Netto 14 dage", "net", 14)]
        for n, name, typ, days in terms:
            rec = {"paymentTermsNumber": n, "name": name, "paymentTermsType": typ, "daysOfCredit": days,
                   "description": name}
            if typ in ("prepaid", "paidInCash", "creditcard"):
                rec["contraAccountForRemainderAmount"] = {"accountNumber": 5820}
            st.put("payment-terms", n, rec)
        for n, name in ((1, "Domestic"), (2, "EU"), (3, "Abroad"), (4, "Domestic exempt")):
            st.put("vat-zones", n, {"vatZoneNumber": n, "name": name, "enabledForCustomer": True,
                                    "enabledForSupplier": True})
        for n, name, acc in ((1, "Indenlandske kunder", 5600), (2, "EU-kunder", 5610), (3, "Udenlandske kunder", 5620)):
            st.put("customer-groups", n, {"customerGroupNumber": n, "name": name, "account": {"accountNumber": acc},
                                          "layout": {"layoutNumber": 19}})
        for n, name in ((1, "stk."), (2, "timer"), (3, "kg")):
            st.put("units", n, {"unitNumber": n, "name": name})
        for n, name, acc in ((1, "Varer med moms", 1010), (2, "Varer uden moms", 1020), (3, "Fragt og gebyrer", 1030),
                             (10, "OSS Tyskland 19 %", 1110), (11, "OSS Sverige 25 %", 1120)):
            st.put("product-groups", n, {"productGroupNumber": n, "name": name,
                                         "accrual": None, "salesAccounts": {"accountNumber": acc}})
        for code, name in (("DKK", "Danske kroner"), ("EUR", "Euro"), ("SEK", "Svenske kroner"),
                           ("NOK", "Norske kroner"), ("USD", "US-dollar"), ("GBP", "Britiske pund")):
            st.put("currencies", code, {"code": code, "name": name, "isoNumber": code})
        for n, name, typ in ((1010, "Salg af varer m/moms", "profitAndLoss"), (1020, "Salg af varer u/moms", "profitAndLoss"),
                             (1030, "Fragt og gebyrer", "profitAndLoss"), (1110, "OSS-salg Tyskland", "profitAndLoss"),
                             (1120, "OSS-salg Sverige", "profitAndLoss"), (5600, "Debitorer, indland", "status"),
                             (5610, "Debitorer, EU", "status"), (5620, "Debitorer, udland", "status"),
                             (5820, "Bank / indløser", "status"), (5830, "Shopify Payments tilgodehavende", "status"),
                             (7220, "Gebyrer, betalingsindløsning", "profitAndLoss")):
            st.put("accounts", n, {"accountNumber": n, "name": name, "accountType": typ,
                                   "balance": 0.0, "blockDirectEntries": False})
        for y in self.config["years"]:
            st.put("accounting-years", str(y), {"year": str(y), "fromDate": "%d-01-01" % y, "toDate": "%d-12-31" % y,
                                               "closed": y in self.config["closed_years"]})
        for n, name in ((1, "Kassekladde"), (2, "Indbetalinger fra webshop")):
            st.put("journals", n, {"journalNumber": n, "name": name,
                                   "settings": {"voucherNumbers": {"minimumVoucherNumber": 1},
                                                "entryTypeRestrictedTo": None,
                                                "contraAccounts": {"customerPayments": {"accountNumber": 5820}}}})
        now = time.time()
        for p in shopdata.PRODUCTS:
            for vt, sku, price, grams in p[4]:
                if not sku:
                    continue
                name = p[1] + ("" if vt == "Default Title" else ", " + vt)
                net = money(D(price) / D("1.25"))
                st.put("products", sku, {"productNumber": sku, "name": name, "salesPrice": float(net),
                                         "costPrice": float(money(net * D("0.45"))), "unit": {"unitNumber": 1},
                                         "productGroup": {"productGroupNumber": 1},
                                         "barred": sku == "KAFFE-JUL-2023", "_ts": now})

        def service(sku, name, price, group):
            st.put("products", sku, {"productNumber": sku, "name": name, "salesPrice": float(D(price)),
                                     "productGroup": {"productGroupNumber": group}, "unit": {"unitNumber": 1},
                                     "_ts": now})
        for sku, name, price in shopdata.SERVICE_PRODUCTS:
            service(sku, name, price, 3 if sku in ("FRAGT", "GEBYR") else 1)
        for sku, name, price in shopdata.SERVICE_PRODUCTS_NO_VAT:
            service(sku, name, price, 2)
        service(*shopdata.REFUND_PRODUCT, 1)
        oss_group = {"DE": 10, "SE": 11}
        for cc in shopdata.OSS_COUNTRIES:
            for base, name, price in shopdata.SERVICE_PRODUCTS + [shopdata.REFUND_PRODUCT]:
                service(base + "-" + cc, "%s (OSS %s)" % (name, cc), price, oss_group[cc])
        service("KAFFE-ESP-500-DE", "Espressobønner 500 g (OSS DE)", "86.72", 10)
        ncust = int(self.config.get("customers", 8))
        for i, c in enumerate(shopdata.CUSTOMERS[:ncust]):
            first, last, email, phone, addr, zipc, city, cc, country, company = c
            zone = 1 if cc == "DK" else (2 if cc in ("DE", "SE", "NL", "FI") else 3)
            rec = {"customerNumber": i + 1, "name": company or "%s %s" % (first, last), "email": email,
                   "address": addr, "zip": zipc, "city": city, "country": {"DK": "Danmark"}.get(cc, country),
                   "telephoneAndFaxNumber": phone, "currency": "DKK",
                   "customerGroup": {"customerGroupNumber": zone if zone < 3 else 3},
                   "paymentTerms": {"paymentTermsNumber": 1}, "vatZone": {"vatZoneNumber": zone},
                   "_ts": now}
            if company:
                rec["corporateIdentificationNumber"] = "12345678"
            st.put("customers", i + 1, rec)
        # A few invoices booked before the integration started.
        year = datetime.date.today().year
        for i in range(int(self.config.get("booked_invoices", 3))):
            cn = (i % max(1, ncust)) + 1
            draft = {"date": "%d-01-%02d" % (year, 10 + i), "currency": "DKK", "customer": {"customerNumber": cn},
                     "layout": {"layoutNumber": 19}, "paymentTerms": {"paymentTermsNumber": 1},
                     "recipient": {"name": st.get("customers", cn)["name"], "vatZone": {"vatZoneNumber": 1}},
                     "references": {"other": "manual-%d" % (i + 1)},
                     "lines": [{"lineNumber": 1, "product": {"productNumber": "KAFFE-FIL-1000"}, "quantity": 2.0,
                                "unitNetPrice": 159.2, "description": "Filterkaffe, mellemristet, 1 kg"}]}
            self.compute(draft)
            n = self.store.next_id("booked", 1001)
            booked = self.make_booked(draft, n)
            st.put("booked", n, booked)

    # -- computation ----------------------------------------------------------
    def vat_rate(self, product_number, zone):
        p = self.store.get("products", product_number) if product_number is not None else None
        group = str(p["productGroup"]["productGroupNumber"]) if p else "1"
        rates = self.config["vat_rates"].get(group) or self.config["vat_rates"].get("1", {})
        return D(str(rates.get(str(zone), 0)))

    def compute(self, doc):
        """Fill in line totals and the document's net/vat/gross amounts.

        Line net = round(quantity x unitNetPrice x (1 - discount%), 2); VAT is
        computed per VAT rate on the summed net and rounded once, so totals
        can differ by a cent from a shop that rounds VAT per line.
        """
        zone = doc["recipient"]["vatZone"]["vatZoneNumber"]
        by_rate = {}
        net_total = D(0)
        cost = D(0)
        for line in doc.get("lines", []):
            if "unitNetPrice" not in line:
                continue
            q = D(str(line.get("quantity", 0)))
            price = D(str(line["unitNetPrice"]))
            disc = D(str(line.get("discountPercentage", 0)))
            net = money(q * price * (1 - disc / 100))
            pn = (line.get("product") or {}).get("productNumber")
            rate = self.vat_rate(pn, zone)
            line["totalNetAmount"] = float(net)
            line["_vatRate"] = float(rate)
            line["_vatAmount"] = float(money(net * rate / 100))
            by_rate[rate] = by_rate.get(rate, D(0)) + net
            net_total += net
            if line.get("unitCostPrice") is not None:
                cost += money(q * D(str(line["unitCostPrice"])))
        if self.config.get("vat_rounding") == "line":
            vat = sum((D(str(l["_vatAmount"])) for l in doc.get("lines", []) if "_vatAmount" in l), D(0))
        else:
            vat = sum((money(n * r / 100) for r, n in by_rate.items()), D(0))
        rate = D(str(self.config["exchange_rates"].get(doc.get("currency"), 100))) / 100
        doc["netAmount"] = float(net_total)
        doc["vatAmount"] = float(vat)
        doc["grossAmount"] = float(net_total + vat)
        doc["roundingAmount"] = 0.0
        doc["netAmountInBaseCurrency"] = float(money(net_total * rate))
        doc["grossAmountInBaseCurrency"] = float(money((net_total + vat) * rate))
        doc["costPriceInBaseCurrency"] = float(money(cost * rate))
        doc["marginInBaseCurrency"] = float(money((net_total - cost) * rate))
        doc["marginPercentage"] = float(money((net_total - cost) / net_total * 100)) if net_total else 0.0
        if "exchangeRate" not in doc:
            doc["exchangeRate"] = float(self.config["exchange_rates"].get(doc.get("currency"), 100))
        terms = self.store.get("payment-terms", doc["paymentTerms"]["paymentTermsNumber"])
        if terms and terms["paymentTermsType"] != "dueDate":
            d = parse_date(doc["date"])
            days = int(terms.get("daysOfCredit") or 0)
            if terms["paymentTermsType"] == "invoiceMonth":
                nxt = (d.replace(day=28) + datetime.timedelta(days=4))
                d = nxt - datetime.timedelta(days=nxt.day)
            elif terms["paymentTermsType"] in ("paidInCash", "prepaid", "creditcard"):
                days = 0
            doc["dueDate"] = (d + datetime.timedelta(days=days)).isoformat()
        return doc

    def make_booked(self, draft, number):
        b = {k: v for k, v in draft.items() if k not in ("draftInvoiceNumber", "soap", "templates")}
        b["bookedInvoiceNumber"] = number
        b["remainder"] = b["grossAmount"]
        b["remainderInBaseCurrency"] = b["grossAmountInBaseCurrency"]
        b["_ts"] = time.time()
        return b

    # -- rendering -------------------------------------------------------------
    def ref_doc(self, req, kind, number):
        if kind == "customer":
            return {"customerNumber": number, "self": self.link(req, "customers", number)}
        if kind == "layout":
            return {"layoutNumber": number, "self": self.link(req, "layouts", number)}
        if kind == "paymentTerms":
            t = self.store.get("payment-terms", number) or {}
            return {"paymentTermsNumber": number, "daysOfCredit": t.get("daysOfCredit", 0), "name": t.get("name"),
                    "paymentTermsType": t.get("paymentTermsType"), "self": self.link(req, "payment-terms", number)}
        if kind == "vatZone":
            z = self.store.get("vat-zones", number) or {}
            return {"name": z.get("name"), "vatZoneNumber": number, "enabledForCustomer": True,
                    "enabledForSupplier": True, "self": self.link(req, "vat-zones", number)}
        if kind == "product":
            return {"productNumber": number, "self": self.link(req, "products", escape_id(number))}
        if kind == "unit":
            u = self.store.get("units", number) or {}
            return {"unitNumber": number, "name": u.get("name"), "self": self.link(req, "units", number)}
        if kind == "customerGroup":
            return {"customerGroupNumber": number, "self": self.link(req, "customer-groups", number)}
        if kind == "productGroup":
            g = self.store.get("product-groups", number) or {}
            return {"productGroupNumber": number, "name": g.get("name"), "self": self.link(req, "product-groups", number)}
        raise KeyError(kind)

    def render_invoice(self, req, doc, booked):
        d = strip_private(doc)
        d["customer"] = self.ref_doc(req, "customer", doc["customer"]["customerNumber"])
        d["layout"] = self.ref_doc(req, "layout", doc["layout"]["layoutNumber"])
        d["paymentTerms"] = self.ref_doc(req, "paymentTerms", doc["paymentTerms"]["paymentTermsNumber"])
        rec = dict(d["recipient"])
        rec["vatZone"] = self.ref_doc(req, "vatZone", doc["recipient"]["vatZone"]["vatZoneNumber"])
        d["recipient"] = rec
        lines = []
        for src, line in zip(doc.get("lines", []), d.get("lines", [])):
            line = dict(line)
            if line.get("product"):
                line["product"] = self.ref_doc(req, "product", line["product"]["productNumber"])
            if line.get("unit"):
                line["unit"] = self.ref_doc(req, "unit", line["unit"]["unitNumber"])
            if booked:
                line["vatRate"] = src.get("_vatRate", 0.0)
                line["vatAmount"] = src.get("_vatAmount", 0.0)
            lines.append(line)
        d["lines"] = lines
        if booked:
            n = doc["bookedInvoiceNumber"]
            d["pdf"] = {"download": self.link(req, "invoices/booked", n, "pdf")}
            d["sent"] = self.link(req, "invoices/booked", n, "sent")
            d["self"] = self.link(req, "invoices/booked", n)
        else:
            n = doc["draftInvoiceNumber"]
            d["soap"] = {"currentInvoiceHandle": {"id": n}}
            d["pdf"] = {"download": self.link(req, "invoices/drafts", n, "pdf")}
            d["templates"] = {"bookingInstructions": self.link(req, "invoices/drafts", n, "templates/booking-instructions"),
                              "self": self.link(req, "invoices/drafts", n, "templates")}
            d["self"] = self.link(req, "invoices/drafts", n)
        return omit_false(d)

    def render_customer(self, req, c):
        d = strip_private(c)
        n = c["customerNumber"]
        d["customerGroup"] = self.ref_doc(req, "customerGroup", c["customerGroup"]["customerGroupNumber"])
        d["paymentTerms"] = self.ref_doc(req, "paymentTerms", c["paymentTerms"]["paymentTermsNumber"])
        d["vatZone"] = self.ref_doc(req, "vatZone", c["vatZone"]["vatZoneNumber"])
        if c.get("layout"):
            d["layout"] = self.ref_doc(req, "layout", c["layout"]["layoutNumber"])
        bal = sum((D(str(b["remainder"])) for b in self.store.values("booked")
                   if b["customer"]["customerNumber"] == n), D(0))
        d["balance"] = float(money(bal))
        d["dueAmount"] = float(money(bal))
        d["lastUpdated"] = utc_iso(c.get("_ts")) + "Z"
        d["contacts"] = self.link(req, "customers", n, "contacts")
        d["deliveryLocations"] = self.link(req, "customers", n, "delivery-locations")
        d["invoices"] = {"drafts": self.link(req, "customers", n, "invoices/drafts"),
                         "booked": self.link(req, "customers", n, "invoices/booked"),
                         "self": self.link(req, "customers", n, "invoices")}
        d["templates"] = {"invoice": self.link(req, "customers", n, "templates/invoice"),
                          "self": self.link(req, "customers", n, "templates")}
        d["totals"] = {"self": self.link(req, "customers", n, "totals")}
        d["self"] = self.link(req, "customers", n)
        return omit_false(d)

    def render_product(self, req, p):
        d = strip_private(p)
        d["productGroup"] = self.ref_doc(req, "productGroup", p["productGroup"]["productGroupNumber"])
        if p.get("unit"):
            d["unit"] = self.ref_doc(req, "unit", p["unit"]["unitNumber"])
        d["lastUpdated"] = utc_iso(p.get("_ts")) + "Z"
        d["invoices"] = {"booked": self.link(req, "products", escape_id(p["productNumber"]), "invoices/booked"),
                         "drafts": self.link(req, "products", escape_id(p["productNumber"]), "invoices/drafts")}
        d["pricing"] = {"currencySpecificSalesPrices": self.link(req, "products", escape_id(p["productNumber"]),
                                                                 "pricing/currency-specific-sales-prices")}
        d["self"] = self.link(req, "products", escape_id(p["productNumber"]))
        return omit_false(d)

    # -- collections: filter, sort, paginate ----------------------------------
    def collection(self, req, path, items, render, filterable, default_sort, booleans=(), view=None):
        """Filter and sort the stored records (their paths equal the rendered
        ones for every filterable property), then render only the page."""
        docs = [view(x) if view else x for x in items if self.visible(x)]
        total = len(docs)
        f = req.q("filter")
        if f:
            try:
                tree = parse_filter(f)
            except FilterError as e:
                raise HTTPError(400, body=self.edoc(400, "The filter is not valid: %s." % e, E_FILTER))
            for p in props_of(tree):
                if p not in filterable:
                    raise HTTPError(400, body=self.edoc(
                        400, "Filtering on the property '%s' is not allowed." % p, E_FILTER,
                        hint="Filterable properties: %s." % ", ".join(sorted(filterable))))
            try:
                docs = [d for d in docs if eval_filter(tree, d, booleans)]
            except FilterError as e:
                raise HTTPError(400, body=self.edoc(400, "The filter is not valid: %s." % e, E_FILTER))
        sort = req.q("sort") or default_sort
        for key in reversed([s for s in sort.split(",") if s]):
            desc = key.startswith("-")
            k = key.lstrip("-~")
            alpha = "~" in key
            if k not in filterable:
                raise HTTPError(400, body=self.edoc(400, "Sorting on the property '%s' is not allowed." % k, E_FILTER))

            def sk(d, k=k, alpha=alpha):
                v = get_path(d, k)
                if v is None:
                    return (0, "")
                if isinstance(v, str) or alpha:
                    return (1, str(v).lower())
                return (1, v)
            docs.sort(key=sk, reverse=desc)
        try:
            skip = int(req.q("skippages", "0"))
            size = int(req.q("pagesize", "20"))
        except ValueError:
            raise HTTPError(400, body=self.edoc(400, "skippages and pagesize must be integers.", "E07600"))
        maxsize = int(self.config.get("max_page_size", 1000))
        if skip < 0 or size < 1 or size > maxsize:
            raise HTTPError(400, body=self.edoc(400, "pagesize must be between 1 and %d and skippages must not be negative." % maxsize, "E07600"))
        results = len(docs)
        page = [render(req, x) for x in docs[skip * size:(skip + 1) * size]]
        extra = ""
        for k in ("filter", "sort"):
            if req.q(k):
                extra += "&%s=%s" % (k, urllib.parse.quote(req.q(k), safe=""))
        base = self.link(req, path)

        def pl(n):
            return "%s?skippages=%d&pagesize=%d%s" % (base, n, size, extra)
        last = max(0, (results - 1) // size)
        pag = {"maxPageSizeAllowed": maxsize, "skipPages": skip, "pageSize": size, "results": results,
               "resultsWithoutFilter": total, "firstPage": pl(0)}
        if skip > 0:
            pag["previousPage"] = pl(skip - 1)
        if skip < last:
            pag["nextPage"] = pl(skip + 1)
        pag["lastPage"] = pl(last)
        return {"collection": page, "metaData": {"create": {"description": "Create a new resource.", "href": base,
                                                             "httpMethod": "post"}} if path in
                ("customers", "products", "invoices/drafts", "invoices/booked") else {},
                "pagination": pag, "self": base + ("?" + req.raw_query if req.raw_query else "")}

    def _list_ref(self, name):
        key = {"layouts": "layoutNumber", "payment-terms": "paymentTermsNumber", "vat-zones": "vatZoneNumber",
               "customer-groups": "customerGroupNumber", "units": "unitNumber", "product-groups": "productGroupNumber",
               "currencies": "code", "accounts": "accountNumber", "accounting-years": "year",
               "journals": "journalNumber"}[name]

        def render(req, x):
            d = dict(strip_private(x))
            d["self"] = self.link(req, name, x[key])
            if name == "accounting-years":
                d["periods"] = self.link(req, name, x[key], "periods")
                d["entries"] = self.link(req, name, x[key], "entries")
            if name == "journals":
                d["vouchers"] = self.link(req, name, x[key], "vouchers")
                d["entries"] = self.link(req, name, x[key], "entries")
            return omit_false(d)

        def handler(req):
            items = self.store.values(name)
            return self.collection(req, name, items, render, {key, "name", "closed", "fromDate", "toDate"}, key,
                                   booleans=("closed",))

        self._ref_render = getattr(self, "_ref_render", {})
        self._ref_render[name] = render
        return handler

    def _get_ref(self, name):
        def handler(req, key):
            x = self.store.get(name, key)
            if not x:
                raise HTTPError(404)
            return self._ref_render[name](req, x)
        return handler

    def root(self, req):
        return {"company": {"self": self.link(req, "self")}, "customers": self.link(req, "customers"),
                "invoices": self.link(req, "invoices"), "products": self.link(req, "products"),
                "layouts": self.link(req, "layouts"), "paymentTerms": self.link(req, "payment-terms"),
                "vatZones": self.link(req, "vat-zones"), "journals": self.link(req, "journals"),
                "accountingYears": self.link(req, "accounting-years"), "self": self.link(req, "")}

    def get_self(self, req):
        return {"agreementNumber": 123456, "company": {"name": "Nordisk Kaffe ApS (emulator)", "vatNumber": "DK12345678"},
                "application": {"name": "iex"}, "baseCurrency": self.config["base_currency"],
                "self": self.link(req, "self")}

    # -- validation helpers --------------------------------------------------
    def check_nulls(self, doc, errs, path=()):
        if isinstance(doc, dict):
            for k, v in doc.items():
                if v is None:
                    errs.add(list(path) + [k], E_NULL, "%s cannot be null. Omit the property instead." % k,
                             hint="null values are not accepted; leave the property out.")
                else:
                    self.check_nulls(v, errs, list(path) + [k])
        elif isinstance(doc, list):
            for i, v in enumerate(doc):
                if isinstance(v, (dict, list)):
                    self.check_nulls(v, errs, list(path) + [i])

    def ref(self, doc, key, numkey, table, errs, path, required=True, what=None):
        """Resolve a reference given by number or self link. Returns the key or None."""
        what = what or key
        v = doc.get(key, MISSING) if isinstance(doc, dict) else MISSING
        if v is MISSING or v is None:
            if required:
                errs.add(path + [key], E_REQUIRED, "Property %s is required." % key)
            return None
        if not isinstance(v, dict):
            errs.add(path + [key], E_TYPE, "%s must be an object." % key, value=v, hint=HINT_DATA)
            return None
        n = v.get(numkey)
        if n is None and v.get("self"):
            tail = str(v["self"]).rstrip("/").rsplit("/", 1)[-1]
            n = unescape_id(urllib.parse.unquote(tail))
        if n is None:
            errs.add(path + [key], E_NO_ID, "No identifiers present on %s. Please include either a self link or a %s." % (what, numkey),
                     hint="Find a list of resources at https://restapi.e-conomic.com/%s." % table)
            return None
        if isinstance(n, Decimal):
            n = int(n) if n == int(n) else n
        if isinstance(n, str) and n.isdigit() and table not in ("products", "currencies"):
            n = int(n)
        if not self.store.get(table, n):
            errs.add(path + [key], E_EXISTS, "%s does not exist." % what, value=n if not isinstance(n, Decimal) else float(n),
                     hint="Find a list of resources at https://restapi.e-conomic.com/%s." % table)
            return None
        return n

    def strlen(self, doc, key, maxlen, errs, path, required=False, minlen=0):
        v = doc.get(key, MISSING)
        if v is MISSING or v is None:
            if required:
                errs.add(path + [key], E_REQUIRED, "Property %s is required." % key)
            return
        if not isinstance(v, str):
            errs.add(path + [key], E_TYPE, "%s must be a string." % key, value=v, hint=HINT_DATA)
        elif len(v) > maxlen or len(v) < minlen:
            errs.add(path + [key], E_LENGTH, "%s must be between %d and %d characters long." % (key, minlen, maxlen),
                     value=v, hint=HINT_DATA)

    def number(self, doc, key, errs, path, maxscale=2, required=False):
        v = doc.get(key, MISSING)
        if v is MISSING or v is None:
            if required:
                errs.add(path + [key], E_REQUIRED, "Property %s is required." % key)
            return None
        if isinstance(v, bool) or not isinstance(v, (int, Decimal)):
            errs.add(path + [key], E_TYPE, "%s must be a number." % key, value=v, hint=HINT_DATA)
            return None
        d = Decimal(v)
        if scale(d) > maxscale:
            errs.add(path + [key], E_SCALE, "%s scale cannot be greater then two decimal places." % key,
                     value=float(d), hint=HINT_DATA)
            return None
        return d

    def customer_number(self, v, errs, path):
        if isinstance(v, bool) or not isinstance(v, (int, Decimal)) or Decimal(v) != int(v):
            errs.add(path, E_TYPE, "customerNumber must be an integer.", value=v if not isinstance(v, Decimal) else float(v),
                     hint=HINT_DATA)
            return None
        if not 1 <= int(v) <= 999999999:
            errs.add(path, E_RANGE, "customerNumber must be between 1 and 999999999.", value=int(v), hint=HINT_DATA)
            return None
        return int(v)

    # -- customers ------------------------------------------------------------------
    CUSTOMER_FILTERABLE = {"customerNumber", "name", "email", "telephoneAndFaxNumber", "mobilePhone", "city", "zip",
                           "country", "currency", "corporateIdentificationNumber", "ean", "barred", "lastUpdated",
                           "vatNumber", "customerGroup.customerGroupNumber", "vatZone.vatZoneNumber", "address",
                           "publicEntryNumber", "website"}

    def list_customers(self, req):
        items = sorted(self.store.values("customers"), key=lambda c: c["customerNumber"])
        return self.collection(req, "customers", items, self.render_customer, self.CUSTOMER_FILTERABLE,
                               "customerNumber", booleans=("barred",), view=self.with_updated)

    @staticmethod
    def with_updated(rec):
        v = dict(rec)
        v["lastUpdated"] = utc_iso(rec.get("_ts")) + "Z"
        return v

    def get_customer(self, req, n):
        c = self.store.get("customers", n)
        if not c:
            raise HTTPError(404)
        return self.render_customer(req, c)

    def validate_customer(self, doc, existing=None):
        errs = Errors()
        if not isinstance(doc, dict):
            errs.add(["customer"], E_TYPE, "The body must be a customer object.")
            self.validation_failed(errs)
        self.check_nulls(doc, errs)
        out = {}
        if "customerNumber" in doc and doc["customerNumber"] is not None:
            n = self.customer_number(doc["customerNumber"], errs, ["customerNumber"])
            if n is not None:
                if existing is None and self.store.get("customers", n):
                    errs.add(["customerNumber"], E_DUPLICATE, "A customer with customerNumber %d already exists." % n, value=n)
                out["customerNumber"] = n
        self.strlen(doc, "name", 255, errs, [], required=True, minlen=1)
        cur = doc.get("currency")
        if cur is None:
            errs.add(["currency"], E_REQUIRED, "Property currency is required.")
        elif not self.store.get("currencies", cur):
            errs.add(["currency"], E_EXISTS, "currency does not exist.", value=cur,
                     hint="Find a list of currencies at https://restapi.e-conomic.com/currencies.")
        g = self.ref(doc, "customerGroup", "customerGroupNumber", "customer-groups", errs, [])
        t = self.ref(doc, "paymentTerms", "paymentTermsNumber", "payment-terms", errs, [])
        z = self.ref(doc, "vatZone", "vatZoneNumber", "vat-zones", errs, [])
        lay = self.ref(doc, "layout", "layoutNumber", "layouts", errs, [], required=False)
        for key, n in (("address", 510), ("zip", 30), ("city", 50), ("country", 50), ("email", 255),
                       ("telephoneAndFaxNumber", 255), ("mobilePhone", 50), ("website", 255),
                       ("corporateIdentificationNumber", 40), ("pNumber", 10), ("ean", 40),
                       ("publicEntryNumber", 50), ("vatNumber", 20)):
            self.strlen(doc, key, n, errs, [])
        if isinstance(doc.get("ean"), str) and doc["ean"] and not re.fullmatch(r"\d{13}", doc["ean"]):
            errs.add(["ean"], E_TYPE, "ean must be 13 digits.", value=doc["ean"], hint=HINT_DATA)
        if "barred" in doc and not isinstance(doc["barred"], bool) and doc["barred"] is not None:
            errs.add(["barred"], E_TYPE, "barred must be a boolean.", value=doc["barred"], hint=HINT_DATA)
        if errs:
            self.validation_failed(errs)
        for key in ("name", "address", "zip", "city", "country", "email", "telephoneAndFaxNumber", "mobilePhone",
                    "website", "corporateIdentificationNumber", "pNumber", "ean", "publicEntryNumber", "vatNumber",
                    "currency", "barred"):
            if doc.get(key) is not None:
                out[key] = doc[key]
        if doc.get("creditLimit") is not None:
            out["creditLimit"] = float(doc["creditLimit"])
        out["customerGroup"] = {"customerGroupNumber": g}
        out["paymentTerms"] = {"paymentTermsNumber": t}
        out["vatZone"] = {"vatZoneNumber": z}
        if lay is not None:
            out["layout"] = {"layoutNumber": lay}
        return out

    def create_customer(self, req):
        doc = self.body(req)
        rec = self.validate_customer(doc)
        if "customerNumber" not in rec:
            used = [c["customerNumber"] for c in self.store.values("customers")]
            rec["customerNumber"] = max(used or [0]) + 1
        rec["_ts"] = time.time()
        self.search_lag_stamp(rec)
        self.store.put("customers", rec["customerNumber"], rec)
        r = Response(201, self.render_customer(req, rec))
        r.header("Location", self.link(req, "customers", rec["customerNumber"]))
        r.ledger = {"kind": "create", "resource": "customer", "id": rec["customerNumber"], "reference": rec.get("email")}
        r.created = True
        return r

    def put_customer(self, req, n):
        old = self.store.get("customers", n)
        if not old:
            raise HTTPError(404)
        doc = self.body(req)
        rec = self.validate_customer(doc, existing=old)
        rec["customerNumber"] = old["customerNumber"]
        rec["_ts"] = time.time()
        self.store.put("customers", n, rec)
        r = Response(200, self.render_customer(req, rec))
        r.ledger = {"kind": "update", "resource": "customer", "id": rec["customerNumber"], "reference": rec.get("email")}
        return r

    def delete_customer(self, req, n):
        c = self.store.get("customers", n)
        if not c:
            raise HTTPError(404)
        if any(b["customer"]["customerNumber"] == c["customerNumber"] for b in self.store.values("booked")):
            raise HTTPError(400, body=self.edoc(400, "The customer has booked invoices and cannot be deleted.", "E07030"))
        self.store.delete("customers", n)
        r = Response(204)
        r.ledger = {"kind": "delete", "resource": "customer", "id": c["customerNumber"]}
        return r

    # -- products ------------------------------------------------------------------
    PRODUCT_FILTERABLE = {"productNumber", "name", "description", "barred", "barCode", "salesPrice", "costPrice",
                          "recommendedPrice", "lastUpdated", "productGroup.productGroupNumber"}

    def list_products(self, req):
        items = sorted(self.store.values("products"), key=lambda p: p["productNumber"])
        return self.collection(req, "products", items, self.render_product, self.PRODUCT_FILTERABLE,
                               "productNumber", booleans=("barred",), view=self.with_updated)

    def _product(self, n):
        p = self.store.get("products", unescape_id(n))
        if not p:
            raise HTTPError(404)
        return p

    def get_product(self, req, n):
        return self.render_product(req, self._product(n))

    def validate_product(self, doc, existing=None):
        errs = Errors()
        if not isinstance(doc, dict):
            errs.add(["product"], E_TYPE, "The body must be a product object.")
            self.validation_failed(errs)
        self.check_nulls(doc, errs)
        pn = doc.get("productNumber")
        if pn is None:
            errs.add(["productNumber"], E_REQUIRED, "Property productNumber is required.")
        elif not isinstance(pn, str):
            errs.add(["productNumber"], E_TYPE, "productNumber must be a string.", value=pn, hint=HINT_DATA)
        elif not 1 <= len(pn) <= 25:
            errs.add(["productNumber"], E_LENGTH, "productNumber must be between 1 and 25 characters long.", value=pn,
                     hint=HINT_DATA)
        elif existing is None and self.store.get("products", pn):
            errs.add(["productNumber"], E_DUPLICATE, "A product with productNumber '%s' already exists." % pn, value=pn)
        self.strlen(doc, "name", 300, errs, [], required=True, minlen=1)
        self.strlen(doc, "description", 500, errs, [])
        self.strlen(doc, "barCode", 50, errs, [])
        g = self.ref(doc, "productGroup", "productGroupNumber", "product-groups", errs, [])
        u = self.ref(doc, "unit", "unitNumber", "units", errs, [], required=False)
        prices = {}
        for k in ("salesPrice", "costPrice", "recommendedPrice"):
            d = self.number(doc, k, errs, [])
            if d is not None:
                prices[k] = float(d)
        if errs:
            self.validation_failed(errs)
        rec = {"productNumber": pn, "name": doc["name"], "productGroup": {"productGroupNumber": g}}
        rec.update(prices)
        for k in ("description", "barCode", "barred"):
            if doc.get(k) is not None:
                rec[k] = doc[k]
        if u is not None:
            rec["unit"] = {"unitNumber": u}
        return rec

    def create_product(self, req):
        rec = self.validate_product(self.body(req))
        rec["_ts"] = time.time()
        self.search_lag_stamp(rec)
        self.store.put("products", rec["productNumber"], rec)
        r = Response(201, self.render_product(req, rec))
        r.header("Location", self.link(req, "products", escape_id(rec["productNumber"])))
        r.ledger = {"kind": "create", "resource": "product", "id": rec["productNumber"], "reference": rec["productNumber"]}
        r.created = True
        return r

    def put_product(self, req, n):
        old = self._product(n)
        doc = self.body(req)
        rec = self.validate_product(doc, existing=old)
        rec["productNumber"] = old["productNumber"]
        rec["_ts"] = time.time()
        self.store.put("products", old["productNumber"], rec)
        r = Response(200, self.render_product(req, rec))
        r.ledger = {"kind": "update", "resource": "product", "id": rec["productNumber"], "reference": rec["productNumber"]}
        return r

    def delete_product(self, req, n):
        p = self._product(n)
        self.store.delete("products", p["productNumber"])
        r = Response(204)
        r.ledger = {"kind": "delete", "resource": "product", "id": p["productNumber"]}
        return r

    # -- draft invoices ---------------------------------------------------------------
    DRAFT_FILTERABLE = {"draftInvoiceNumber", "date", "dueDate", "currency", "customer.customerNumber",
                        "references.other", "netAmount", "grossAmount", "vatAmount", "recipient.name",
                        "notes.heading", "layout.layoutNumber", "exchangeRate"}
    BOOKED_FILTERABLE = {"bookedInvoiceNumber", "date", "dueDate", "currency", "customer.customerNumber",
                         "references.other", "netAmount", "grossAmount", "vatAmount", "remainder",
                         "recipient.name", "notes.heading", "layout.layoutNumber"}

    def validate_draft(self, doc):
        errs = Errors()
        if not isinstance(doc, dict):
            errs.add(["draftInvoice"], E_TYPE, "The body must be a draft invoice object.")
            self.validation_failed(errs)
        self.check_nulls(doc, errs)
        out = {}
        cur = doc.get("currency")
        if cur is None:
            errs.add(["currency"], E_REQUIRED, "Property currency is required.")
        elif not isinstance(cur, str) or not self.store.get("currencies", cur):
            errs.add(["currency"], E_EXISTS, "currency does not exist.", value=cur,
                     hint="Find a list of currencies at https://restapi.e-conomic.com/currencies.")
        dt = doc.get("date")
        if dt is None:
            errs.add(["date"], E_REQUIRED, "Property date is required.")
        elif not isinstance(dt, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", dt) or not parse_date(dt):
            errs.add(["date"], E_TYPE, "date must be a date in the format YYYY-MM-DD.", value=dt, hint=HINT_DATA)
        cust = doc.get("customer")
        cn = None
        if cust is None:
            errs.add(["customer"], E_REQUIRED, "Property customer is required.")
        elif isinstance(cust, dict) and "customerNumber" in cust and cust["customerNumber"] is not None:
            cn = self.customer_number(cust["customerNumber"], errs, ["customer", "customerNumber"])
            if cn is not None and not self.store.get("customers", cn):
                errs.add(["customer"], E_EXISTS, "customer does not exist.", value=str(cn),
                         hint="Find a list of resources at https://restapi.e-conomic.com/customers.")
                cn = None
        else:
            cn = self.ref(doc, "customer", "customerNumber", "customers", errs, [])
            if cn is not None:
                cn = int(cn)
        lay = self.ref(doc, "layout", "layoutNumber", "layouts", errs, [])
        terms = self.ref(doc, "paymentTerms", "paymentTermsNumber", "payment-terms", errs, [])
        if terms is not None:
            t = self.store.get("payment-terms", terms)
            if t["paymentTermsType"] == "dueDate":
                if not doc.get("dueDate"):
                    errs.add(["dueDate"], E_REQUIRED, "Property dueDate is required when the payment terms are of type dueDate.")
                elif not parse_date(doc.get("dueDate")):
                    errs.add(["dueDate"], E_TYPE, "dueDate must be a date in the format YYYY-MM-DD.", value=doc["dueDate"], hint=HINT_DATA)
        rec = doc.get("recipient")
        zone = None
        if rec is None:
            errs.add(["recipient"], E_REQUIRED, "Property recipient is required.")
        elif not isinstance(rec, dict):
            errs.add(["recipient"], E_TYPE, "recipient must be an object.", hint=HINT_DATA)
        else:
            self.strlen(rec, "name", 250, errs, ["recipient"], required=True, minlen=1)
            for k, n in (("address", 250), ("zip", 50), ("city", 250), ("country", 50), ("ean", 13),
                         ("publicEntryNumber", 40), ("mobilePhone", 50)):
                self.strlen(rec, k, n, errs, ["recipient"])
            zone = self.ref(rec, "vatZone", "vatZoneNumber", "vat-zones", errs, ["recipient"])
            if rec.get("nemHandelType") is not None and rec["nemHandelType"] not in ("ean", "corporateIdentificationNumber", "pNumber"):
                errs.add(["recipient", "nemHandelType"], E_TYPE, "nemHandelType is not valid.", value=rec["nemHandelType"], hint=HINT_DATA)
        notes = doc.get("notes")
        if isinstance(notes, dict):
            self.strlen(notes, "heading", 250, errs, ["notes"])
            self.strlen(notes, "textLine1", 1000, errs, ["notes"])
            self.strlen(notes, "textLine2", 1000, errs, ["notes"])
        refs = doc.get("references")
        if isinstance(refs, dict):
            self.strlen(refs, "other", 250, errs, ["references"])
        deliv = doc.get("delivery")
        if isinstance(deliv, dict):
            for k, n in (("address", 255), ("zip", 30), ("city", 50), ("country", 50), ("deliveryTerms", 100)):
                self.strlen(deliv, k, n, errs, ["delivery"])
        if doc.get("exchangeRate") is not None:
            self.number(doc, "exchangeRate", errs, [], maxscale=6)
        lines_out = []
        lines = doc.get("lines", [])
        if not isinstance(lines, list):
            errs.add(["lines"], E_TYPE, "lines must be an array.", hint=HINT_DATA)
            lines = []
        seen_numbers = set()
        for i, line in enumerate(lines):
            p = ["lines", i]
            if not isinstance(line, dict):
                errs.add(p + ["line"], E_TYPE, "A line must be an object.", hint=HINT_DATA)
                continue
            lo = {}
            ln = line.get("lineNumber")
            if ln is not None:
                if isinstance(ln, bool) or not isinstance(ln, int) or ln < 1:
                    errs.add(p + ["lineNumber"], E_TYPE, "lineNumber must be a positive integer.", value=ln, hint=HINT_DATA)
                elif ln in seen_numbers:
                    errs.add(p + ["lineNumber"], E_DUPLICATE, "lineNumber must be unique within the invoice.", value=ln)
                seen_numbers.add(ln)
            lo["lineNumber"] = ln if isinstance(ln, int) else i + 1
            if line.get("sortKey") is not None:
                lo["sortKey"] = line["sortKey"]
            else:
                lo["sortKey"] = lo["lineNumber"]
            prod = None
            if "product" in line and line["product"] is not None:
                pv = line["product"]
                pn = pv.get("productNumber") if isinstance(pv, dict) else None
                if isinstance(pv, dict) and pn is None and pv.get("self"):
                    pn = unescape_id(urllib.parse.unquote(str(pv["self"]).rstrip("/").rsplit("/", 1)[-1]))
                if not isinstance(pv, dict) or pn is None:
                    errs.add(p + ["product"], E_NO_ID, "No identifiers present on product. Please include either a self link or a productNumber.",
                             hint="Find a list of resources at https://restapi.e-conomic.com/products.")
                elif not isinstance(pn, str) or not 1 <= len(pn) <= 25:
                    errs.add(p + ["product", "productNumber"], E_LENGTH,
                             "productNumber must be a string between 1 and 25 characters long.",
                             value=pn if not isinstance(pn, Decimal) else float(pn), hint=HINT_DATA)
                elif not self.store.get("products", pn):
                    errs.add(p + ["product"], E_EXISTS, "product does not exist.", value=pn,
                             hint="Find a list of resources at https://restapi.e-conomic.com/products.")
                else:
                    prod = self.store.get("products", pn)
                    lo["product"] = {"productNumber": pn}
            q = self.number(line, "quantity", errs, p)
            price = self.number(line, "unitNetPrice", errs, p)
            disc = self.number(line, "discountPercentage", errs, p)
            cost = self.number(line, "unitCostPrice", errs, p)
            has_product = "product" in line and line["product"] is not None
            if has_product:
                if "quantity" not in line:
                    errs.add(p + ["quantity"], E_QTY, "Property quantity must have a value when product is set.")
                elif q is not None and q == 0:
                    errs.add(p + ["quantity"], E_QTY, "Property quantity must not be zero when product is set.", value=0.0)
            elif "quantity" in line or "unitNetPrice" in line:
                errs.add(p + ["product"], E_NO_ID, "No identifiers present on product. Please include either a self link or a productNumber.",
                         hint="A line with a quantity or a price needs a product.")
            self.strlen(line, "description", 2500, errs, p)
            u = self.ref(line, "unit", "unitNumber", "units", errs, p, required=False) if line.get("unit") is not None else None
            if prod is not None:
                lo["description"] = line.get("description") or prod["name"]
                lo["quantity"] = float(q) if q is not None else 0.0
                lo["unitNetPrice"] = float(price) if price is not None else float(prod.get("salesPrice", 0))
                lo["discountPercentage"] = float(disc) if disc is not None else 0.0
                lo["unitCostPrice"] = float(cost) if cost is not None else float(prod.get("costPrice", 0))
                unit = u if u is not None else (prod.get("unit") or {}).get("unitNumber")
                if unit is not None:
                    lo["unit"] = {"unitNumber": unit}
            else:
                lo["description"] = line.get("description", "")
            if line.get("deliveryDate") is not None:
                lo["deliveryDate"] = line["deliveryDate"]
            lines_out.append(lo)
        if errs:
            self.validation_failed(errs)
        out.update({"date": dt, "currency": cur, "customer": {"customerNumber": cn},
                    "layout": {"layoutNumber": lay}, "paymentTerms": {"paymentTermsNumber": terms}})
        r = {k: v for k, v in rec.items() if k != "vatZone" and v is not None}
        r["vatZone"] = {"vatZoneNumber": zone}
        if isinstance(rec.get("attention"), dict):
            r["attention"] = rec["attention"]
        out["recipient"] = r
        for k in ("notes", "references", "delivery", "deliveryLocation", "project"):
            if isinstance(doc.get(k), dict):
                out[k] = doc[k]
        if doc.get("exchangeRate") is not None:
            out["exchangeRate"] = float(doc["exchangeRate"])
        if doc.get("dueDate"):
            out["dueDate"] = doc["dueDate"]
        out["lines"] = lines_out
        return self.compute(out)

    def list_drafts(self, req):
        items = sorted(self.store.values("drafts"), key=lambda d: d["draftInvoiceNumber"])
        return self.collection(req, "invoices/drafts", items, lambda r, d: self.render_invoice(r, d, False),
                               self.DRAFT_FILTERABLE, "draftInvoiceNumber")

    def _draft(self, n):
        d = self.store.get("drafts", n)
        if not d:
            raise HTTPError(404)
        return d

    def get_draft(self, req, n):
        return self.render_invoice(req, self._draft(n), False)

    def create_draft(self, req):
        doc = self.validate_draft(self.body(req))
        n = self.store.next_id("draft", 1)
        doc["draftInvoiceNumber"] = n
        doc["_ts"] = time.time()
        doc["lastUpdated"] = utcnow_iso() + "Z"
        self.search_lag_stamp(doc)
        self.store.put("drafts", n, doc)
        r = Response(201, self.render_invoice(req, doc, False))
        r.header("Location", self.link(req, "invoices/drafts", n))
        r.ledger = {"kind": "create", "resource": "invoices/drafts", "id": n,
                    "reference": (doc.get("references") or {}).get("other")}
        r.created = True
        return r

    def put_draft(self, req, n):
        old = self._draft(n)
        doc = self.validate_draft(self.body(req))
        doc["draftInvoiceNumber"] = old["draftInvoiceNumber"]
        doc["_ts"] = old.get("_ts", time.time())
        doc["lastUpdated"] = utcnow_iso() + "Z"
        self.store.put("drafts", n, doc)
        r = Response(200, self.render_invoice(req, doc, False))
        r.ledger = {"kind": "update", "resource": "invoices/drafts", "id": doc["draftInvoiceNumber"],
                    "reference": (doc.get("references") or {}).get("other")}
        return r

    def delete_draft(self, req, n):
        d = self._draft(n)
        self.store.delete("drafts", n)
        r = Response(204)
        r.ledger = {"kind": "delete", "resource": "invoices/drafts", "id": d["draftInvoiceNumber"],
                    "reference": (d.get("references") or {}).get("other")}
        return r

    def pdf(self, title):
        text = "%PDF-1.4\n% e-conomic emulator\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" \
               "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n% " + title + "\ntrailer << /Root 1 0 R >>\n%%EOF\n"
        return Response(200, text.encode("latin-1", "replace"), content_type="application/pdf")

    def draft_pdf(self, req, n):
        return self.pdf("draft invoice %s" % self._draft(n)["draftInvoiceNumber"])

    # -- booking --------------------------------------------------------------------
    def book(self, req):
        doc = self.body(req)
        errs = Errors()
        if not isinstance(doc, dict):
            errs.add(["draftInvoice"], E_TYPE, "The body must be an object.")
            self.validation_failed(errs)
        self.check_nulls(doc, errs)
        dn = self.ref(doc, "draftInvoice", "draftInvoiceNumber", "drafts", errs, [], what="draftInvoice")
        bw = doc.get("bookWithNumber")
        if bw is not None:
            if isinstance(bw, bool) or not isinstance(bw, int) or not 1 <= bw <= 999999999:
                errs.add(["bookWithNumber"], E_RANGE, "bookWithNumber must be an integer between 1 and 999999999.",
                         value=bw, hint=HINT_DATA)
            elif self.store.get("booked", bw):
                errs.add(["bookWithNumber"], E_DUPLICATE, "An invoice with number %d has already been booked." % bw, value=bw)
        send = doc.get("sendBy", doc.get("sentBy"))
        if send is not None and send not in ("ean", "none", "Ean", "None"):
            errs.add(["sendBy"], E_TYPE, "sendBy must be 'ean' or 'none'.", value=send, hint=HINT_DATA)
        if errs:
            self.validation_failed(errs)
        draft = self.store.get("drafts", dn)
        if send in ("ean", "Ean") and not draft["recipient"].get("ean"):
            errs.add(["sendBy"], "E07050", "The invoice cannot be sent by EAN: the recipient has no EAN.", value=send)
        if not any(l.get("product") for l in draft.get("lines", [])):
            errs.add(["draftInvoice"], E_NO_LINES, "An invoice without product lines cannot be booked.", value=dn)
        for i, line in enumerate(draft.get("lines", [])):
            pn = (line.get("product") or {}).get("productNumber")
            if pn is None:
                continue
            p = self.store.get("products", pn)
            if p is None:
                errs.add(["draftInvoice"], E_EXISTS, "Line %d: product '%s' no longer exists." % (line["lineNumber"], pn), value=pn)
            elif p.get("barred"):
                errs.add(["draftInvoice"], E_BARRED, "Line %d: product '%s' is barred and cannot be invoiced." % (line["lineNumber"], pn),
                         value=pn, hint="Unbar the product or remove the line before booking.")
        year = draft["date"][:4]
        y = self.store.get("accounting-years", year)
        if y is None:
            errs.add(["draftInvoice"], E_YEAR, "There is no accounting year for the invoice date %s." % draft["date"],
                     value=draft["date"], hint="Create the accounting year in e-conomic first.")
        elif y.get("closed"):
            errs.add(["draftInvoice"], E_YEAR, "The invoice date %s is in the closed accounting year %s." % (draft["date"], year),
                     value=draft["date"], hint="Use a date in an open accounting year.")
        if not self.store.get("customers", draft["customer"]["customerNumber"]):
            errs.add(["draftInvoice"], E_EXISTS, "customer does not exist.", value=draft["customer"]["customerNumber"])
        if errs:
            self.validation_failed(errs)
        n = bw if bw is not None else self.next_booked_number()
        booked = self.make_booked(self.compute(dict(draft)), n)
        self.search_lag_stamp(booked)
        self.store.put("booked", n, booked)
        self.store.set_meta("max_booked", max(n, self.store.meta.get("max_booked") or 0, self.next_booked_number() - 1))
        self.store.delete("drafts", dn)
        r = Response(201, self.render_invoice(req, booked, True))
        r.header("Location", self.link(req, "invoices/booked", n))
        r.ledger = {"kind": "create", "resource": "invoices/booked", "id": n, "draft": dn,
                    "reference": (draft.get("references") or {}).get("other")}
        r.created = True
        return r

    def next_booked_number(self):
        top = self.store.meta.get("max_booked")
        if top is None:
            top = max([b["bookedInvoiceNumber"] for b in self.store.values("booked")] or [0])
        return top + 1

    def list_booked(self, req):
        items = sorted(self.store.values("booked"), key=lambda d: d["bookedInvoiceNumber"])
        return self.collection(req, "invoices/booked", items, lambda r, d: self.render_invoice(r, d, True),
                               self.BOOKED_FILTERABLE, "bookedInvoiceNumber")

    def _list_booked_subset(self, name):
        def handler(req):
            today = datetime.date.today().isoformat()
            sel = {"paid": lambda b: b["remainder"] == 0,
                   "unpaid": lambda b: b["remainder"] != 0,
                   "overdue": lambda b: b["remainder"] != 0 and b.get("dueDate", today) < today,
                   "not-due": lambda b: b["remainder"] != 0 and b.get("dueDate", today) >= today}[name]
            items = sorted((b for b in self.store.values("booked") if sel(b)), key=lambda d: d["bookedInvoiceNumber"])
            return self.collection(req, "invoices/" + name, items, lambda r, d: self.render_invoice(r, d, True),
                                   self.BOOKED_FILTERABLE, "bookedInvoiceNumber")
        return handler

    def _booked(self, n):
        b = self.store.get("booked", n)
        if not b:
            raise HTTPError(404)
        return b

    def get_booked(self, req, n):
        return self.render_invoice(req, self._booked(n), True)

    def booked_pdf(self, req, n):
        return self.pdf("invoice %s" % self._booked(n)["bookedInvoiceNumber"])

    def invoices_root(self, req):
        return {k.replace("-", ""): self.link(req, "invoices", k) for k in
                ("booked", "drafts", "paid", "unpaid", "overdue", "not-due")} | {"self": self.link(req, "invoices")}

    # -- journals and vouchers ---------------------------------------------------------
    def list_vouchers(self, req, j):
        if not self.store.get("journals", j):
            raise HTTPError(404)
        items = sorted((v for v in self.store.values("vouchers") if str(v["journal"]["journalNumber"]) == str(j)),
                       key=lambda v: v["_seq"])
        return self.collection(req, "journals/%s/vouchers" % j, items,
                               lambda r, v: omit_false(dict(strip_private(v), self=self.link(r, "journals", j, "vouchers",
                                                                                               "%s-%d" % (v["accountingYear"]["year"], v["voucherNumber"])))),
                               {"voucherNumber", "accountingYear.year"}, "voucherNumber")

    def create_vouchers(self, req, j):
        journal = self.store.get("journals", j)
        if not journal:
            raise HTTPError(404)
        doc = self.body(req)
        many = isinstance(doc, list)
        vouchers = doc if many else [doc]
        errs = Errors()
        outs = []
        for vi, v in enumerate(vouchers):
            base = [vi] if many else []
            if not isinstance(v, dict):
                errs.add(base + ["voucher"], E_TYPE, "A voucher must be an object.")
                continue
            self.check_nulls(v, errs, base)
            ay = v.get("accountingYear")
            year = None
            if not isinstance(ay, dict) or not ay.get("year"):
                errs.add(base + ["accountingYear"], E_REQUIRED, "Property accountingYear is required.")
            else:
                year = str(ay["year"])
                y = self.store.get("accounting-years", year)
                if not y:
                    errs.add(base + ["accountingYear"], E_EXISTS, "accountingYear does not exist.", value=year)
                elif y.get("closed"):
                    errs.add(base + ["accountingYear"], E_YEAR, "The accounting year %s is closed." % year, value=year)
            entries = v.get("entries")
            if not isinstance(entries, dict) or not any(entries.get(k) for k in
                                                        ("customerPayments", "financeVouchers", "manualCustomerInvoices",
                                                         "supplierInvoices", "supplierPayments")):
                errs.add(base + ["entries"], E_REQUIRED, "A voucher needs at least one entry.")
                entries = {}
            out_entries = {}
            for kind, lst in entries.items():
                if not isinstance(lst, list):
                    errs.add(base + ["entries", kind], E_TYPE, "%s must be an array." % kind)
                    continue
                out_entries[kind] = []
                for i, e in enumerate(lst):
                    p = base + ["entries", kind, i]
                    if not isinstance(e, dict):
                        errs.add(p + ["entry"], E_TYPE, "An entry must be an object.")
                        continue
                    amt = self.number(e, "amount", errs, p, required=True)
                    dt = e.get("date")
                    if dt is None:
                        errs.add(p + ["date"], E_REQUIRED, "Property date is required.")
                    elif not parse_date(dt):
                        errs.add(p + ["date"], E_TYPE, "date must be a date in the format YYYY-MM-DD.", value=dt, hint=HINT_DATA)
                    elif year and dt[:4] != year:
                        errs.add(p + ["date"], E_YEAR, "date is outside the accounting year %s." % year, value=dt)
                    self.strlen(e, "text", 250, errs, p)
                    oe = {k: (float(x) if isinstance(x, Decimal) else x) for k, x in e.items()}
                    if kind == "customerPayments":
                        has_c = e.get("customer") is not None
                        has_ca = e.get("contraAccount") is not None
                        if not has_c and not has_ca:
                            errs.add(p + ["customer"], E_REQUIRED, "A customer payment needs a customer or a contraAccount.")
                        if has_c:
                            cn = self.ref(e, "customer", "customerNumber", "customers", errs, p)
                            if cn is not None:
                                oe["customer"] = {"customerNumber": int(cn)}
                        if e.get("customerInvoice") is not None:
                            ci = e["customerInvoice"]
                            if not self.store.get("booked", int(ci) if isinstance(ci, (int, Decimal)) else ci):
                                errs.add(p + ["customerInvoice"], E_EXISTS, "customerInvoice does not exist.", value=ci)
                    if e.get("contraAccount") is not None:
                        self.ref(e, "contraAccount", "accountNumber", "accounts", errs, p)
                    if e.get("account") is not None:
                        self.ref(e, "account", "accountNumber", "accounts", errs, p)
                    if kind == "financeVouchers" and e.get("account") is None:
                        errs.add(p + ["account"], E_REQUIRED, "Property account is required.")
                    if amt is not None:
                        oe["amount"] = float(amt)
                    oe["entryType"] = kind[:-1]
                    out_entries[kind].append(oe)
            outs.append({"accountingYear": {"year": year}, "journal": {"journalNumber": int(j)}, "entries": out_entries})
        if errs:
            self.validation_failed(errs)
        created = []
        for o in outs:
            o["voucherNumber"] = self.store.next_id("voucher:%s:%s" % (j, o["accountingYear"]["year"]), 1)
            o["_seq"] = self.store.next_id("voucher_seq", 1)
            o["_ts"] = time.time()
            self.search_lag_stamp(o)
            self.store.put("vouchers", o["_seq"], o)
            created.append(omit_false(dict(strip_private(o), self=self.link(req, "journals", j, "vouchers",
                                                                             "%s-%d" % (o["accountingYear"]["year"], o["voucherNumber"])))))
        r = Response(201, created)
        texts = [e.get("text") for o in outs for lst in o["entries"].values() for e in lst if e.get("text")]
        r.ledger = {"kind": "create", "resource": "journals/%s/vouchers" % j,
                    "id": [o["voucherNumber"] for o in outs], "reference": texts[0] if texts else None}
        r.created = True
        return r

    # -- control ----------------------------------------------------------------
    def c_book_journal(self, req, j):
        """Simulate the accountant booking a journal: customer payments settle invoices."""
        booked = []
        for v in sorted(self.store.values("vouchers"), key=lambda v: v["_seq"]):
            if str(v["journal"]["journalNumber"]) != str(j):
                continue
            for e in v["entries"].get("customerPayments", []):
                ci = e.get("customerInvoice")
                b = self.store.get("booked", ci) if ci is not None else None
                if b:
                    b["remainder"] = float(money(D(str(b["remainder"])) + D(str(e["amount"]))))
                    b["remainderInBaseCurrency"] = b["remainder"]
                    self.store.put("booked", b["bookedInvoiceNumber"], b)
            self.store.delete("vouchers", v["_seq"])
            booked.append(v["voucherNumber"])
        return {"booked_vouchers": booked}

    def c_year(self, req, y):
        body = req.json() or {}
        rec = self.store.get("accounting-years", y) or {"year": y, "fromDate": "%s-01-01" % y, "toDate": "%s-12-31" % y}
        rec["closed"] = bool(body.get("closed", rec.get("closed", False)))
        self.store.put("accounting-years", y, rec)
        return rec


def create(seed=0, state_path=None, config=None):
    return Economic(seed=seed, state_path=state_path, config=config)
