"""Dinero API emulator (api.dinero.dk/v1/{organizationId}/..., plus the
OAuth2 password-grant token endpoint of authz.dinero.dk on the same port).

See README.md for what is faithful and what is simplified.
"""

import base64
import datetime
import re
import time
from decimal import Decimal, InvalidOperation

from emulib import App, HTTPError, Response, D, money, strip_private
import shopdata

ORG = r"/v1/(?P<org>\d+)"


def derr(status, message, validation=None, code=None):
    """Dinero's error document: message, code, validationErrors, languageSpecificMessages."""
    body = {"code": code if code is not None else {400: 51, 401: 1, 403: 3, 404: 4, 409: 60}.get(status, 0),
            "message": message}
    if validation:
        body["validationErrors"] = {k: v for k, v in validation.items()}
        body["languageSpecificMessages"] = [{"property": k, "message": v} for k, v in validation.items()]
    return HTTPError(status, message, body=body)


def utcstamp(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_date(s):
    try:
        return datetime.datetime.strptime(str(s), "%Y-%m-%d").date()
    except ValueError:
        return None


CONTACT_FIELDS = [("externalReference", "ExternalReference"), ("name", "Name"), ("street", "Street"),
                  ("zipCode", "ZipCode"), ("city", "City"), ("countryKey", "CountryKey"), ("phone", "Phone"),
                  ("email", "Email"), ("webpage", "Webpage"), ("attPerson", "AttPerson"), ("vatNumber", "VatNumber"),
                  ("eanNumber", "EanNumber"), ("paymentConditionType", "PaymentConditionType"),
                  ("paymentConditionNumberOfDays", "PaymentConditionNumberOfDays"), ("isPerson", "IsPerson"),
                  ("isMember", "IsMember"), ("memberNumber", "MemberNumber"), ("useCvr", "UseCvr"),
                  ("companyTypeKey", "CompanyTypeKey")]
PAYMENT_CONDITIONS = ("Netto", "NettoCash", "CurrentMonthOut", "Paid")


class Dinero(App):
    system = "dinero"
    server_header = "Microsoft-IIS/10.0"

    def default_config(self):
        return {
            "client_id": "dinero-client-id",
            "client_secret": "dinero-client-secret",
            "api_key": "dinero-user-api-key",
            "organization_id": 123456,
            "token_ttl": 3600,
            # VAT rate by revenue account.
            "accounts": {"1000": ["Salg af varer/ydelser m/moms", 25], "1100": ["Salg af varer/ydelser u/moms", 0],
                         "1200": ["Salg af varer til EU", 0], "1300": ["Salg af varer til udland", 0],
                         "1010": ["OSS-salg Tyskland", 19]},
            "deposit_accounts": {"55000": "Bank", "55010": "Shopify Payments", "55020": "QuickPay / Clearhaus"},
            "max_page_size": 1000,
        }

    def register(self):
        a = self.add
        a("POST", r"/dineroapi/oauth/token", self.token)
        a("GET", ORG + r"/accounts/entry", self.entry_accounts)
        a("GET", ORG + r"/accounts/deposit", self.deposit_accounts)
        a("GET", ORG + r"/contacts", self.list_contacts)
        a("POST", ORG + r"/contacts", self.create_contact)
        a("GET", ORG + r"/contacts/(?P<guid>[0-9a-f-]{36})", self.get_contact)
        a("PUT", ORG + r"/contacts/(?P<guid>[0-9a-f-]{36})", self.put_contact)
        a("GET", ORG + r"/invoices", self.list_invoices)
        a("POST", ORG + r"/invoices", self.create_invoice)
        a("POST", ORG + r"/invoices/fetch", self.fetch_invoice)
        a("GET", ORG + r"/invoices/(?P<guid>[0-9a-f-]{36})", self.get_invoice)
        a("PUT", ORG + r"/invoices/(?P<guid>[0-9a-f-]{36})", self.put_invoice)
        a("DELETE", ORG + r"/invoices/(?P<guid>[0-9a-f-]{36})", self.delete_invoice)
        a("POST", ORG + r"/invoices/(?P<guid>[0-9a-f-]{36})/book", self.book_invoice)
        a("GET", ORG + r"/invoices/(?P<guid>[0-9a-f-]{36})/payments", self.list_payments)
        a("POST", ORG + r"/invoices/(?P<guid>[0-9a-f-]{36})/payments", self.create_payment)
        a("POST", ORG + r"/invoices/(?P<guid>[0-9a-f-]{36})/generate-creditnote", self.generate_creditnote)
        a("POST", ORG + r"/invoices/(?P<guid>[0-9a-f-]{36})/email", self.email_invoice)
        a("GET", ORG + r"/sales/creditnotes", self.list_creditnotes)
        a("POST", ORG + r"/sales/creditnotes", self.create_creditnote)
        a("GET", ORG + r"/sales/creditnotes/(?P<guid>[0-9a-f-]{36})", self.get_creditnote)
        a("POST", ORG + r"/sales/creditnotes/(?P<guid>[0-9a-f-]{36})/book", self.book_creditnote)
        self.control("POST", r"/tokens/expire", self.c_expire_tokens)

    # -- errors, auth ---------------------------------------------------------
    def render_error(self, req, err):
        if err.body is not None:
            return Response(err.status, err.body, err.headers)
        msgs = {401: "Authorization has been denied for this request.", 404: "No HTTP resource was found that matches the request URI.",
                405: "The requested resource does not support this http method.", 429: "Too many requests",
                500: "An error has occurred."}
        return Response(err.status, {"message": msgs.get(err.status, err.message or "Error")}, err.headers)

    def authenticate(self, req):
        if req.path == "/dineroapi/oauth/token":
            return
        auth = req.header("Authorization") or ""
        if not auth.startswith("Bearer "):
            raise HTTPError(401)
        tok = self.store.get("tokens", auth[7:].strip())
        if not tok or tok["kind"] != "access" or tok["expires"] < time.time():
            raise HTTPError(401)
        m = re.match(ORG + "/", req.path + "/")
        if m and int(m.group("org")) != int(self.config["organization_id"]):
            raise derr(403, "You do not have access to organization %s." % m.group("org"))

    def body(self, req):
        try:
            b = req.json(parse_float=Decimal)
        except ValueError:
            raise derr(400, "The request is invalid.", {"body": "The request body is not valid JSON."})
        if not isinstance(b, dict):
            raise derr(400, "The request is invalid.", {"body": "A JSON object is required."})
        return b

    def stamp(self):
        return "%016X" % (0x3A0000 + self.store.next_id("rowversion", 1))

    # -- OAuth2 token endpoint (authz.dinero.dk/dineroapi/oauth/token) --------
    def token(self, req):
        auth = req.header("Authorization") or ""
        try:
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":") if auth.startswith("Basic ") else ("", "", "")
        except Exception:
            cid, secret = "", ""
        if cid != self.config["client_id"] or secret != self.config["client_secret"]:
            return Response(401, {"error": "invalid_client"})
        form = {k: v[-1] for k, v in req.form().items()}
        gt = form.get("grant_type")
        if gt == "password":
            if form.get("username") != self.config["api_key"] or form.get("password") != self.config["api_key"]:
                return Response(400, {"error": "invalid_grant", "error_description": "The user name or password is incorrect."})
        elif gt == "refresh_token":
            rt = self.store.get("tokens", form.get("refresh_token", ""))
            if not rt or rt["kind"] != "refresh":
                return Response(400, {"error": "invalid_grant"})
        else:
            return Response(400, {"error": "unsupported_grant_type"})
        access, refresh = self.uuid().replace("-", ""), self.uuid().replace("-", "")
        ttl = int(self.config.get("token_ttl", 3600))
        self.store.put("tokens", access, {"kind": "access", "expires": time.time() + ttl})
        self.store.put("tokens", refresh, {"kind": "refresh", "expires": time.time() + 30 * 86400})
        return Response(200, {"access_token": access, "token_type": "Bearer", "expires_in": ttl,
                              "refresh_token": refresh})

    def c_expire_tokens(self, req):
        for k, t in list(self.store.tables.get("tokens", {}).items()):
            if t["kind"] == "access":
                t["expires"] = 0
                self.store.touch("tokens", k)
        return {"ok": True}

    # -- seed ---------------------------------------------------------------------
    def seed_data(self):
        now = time.time()
        for c in shopdata.CUSTOMERS[:6]:
            first, last, email, phone, addr, zipc, city, cc, country, company = c
            g = self.uuid()
            self.store.put("contacts", g, {
                "ContactGuid": g, "ExternalReference": None, "Name": company or "%s %s" % (first, last), "Street": addr,
                "ZipCode": zipc, "City": city, "CountryKey": cc, "Phone": phone, "Email": email, "Webpage": None,
                "AttPerson": None, "VatNumber": "12345678" if company else None, "EanNumber": None,
                "PaymentConditionType": "Netto", "PaymentConditionNumberOfDays": 8, "IsPerson": not company,
                "IsMember": False, "MemberNumber": None, "UseCvr": False, "CompanyTypeKey": None,
                "IsDebitor": True, "IsCreditor": False, "CreatedAt": utcstamp(now), "UpdatedAt": utcstamp(now),
                "DeletedAt": None, "_ts": now})

    # -- contacts ---------------------------------------------------------------
    def check_org(self, org):
        return int(org)

    def validate_contact(self, b):
        v = {}
        if not b.get("name"):
            v["Name"] = "Name is required."
        if not b.get("countryKey"):
            v["CountryKey"] = "CountryKey is required."
        elif not re.fullmatch(r"[A-Z]{2}", str(b["countryKey"])):
            v["CountryKey"] = "CountryKey must be a two-letter ISO country code."
        if "isPerson" not in b or not isinstance(b.get("isPerson"), bool):
            v["IsPerson"] = "IsPerson is required."
        if b.get("email") and "@" not in str(b["email"]):
            v["Email"] = "Email is not a valid e-mail address."
        if b.get("eanNumber") and not re.fullmatch(r"\d{13}", str(b["eanNumber"])):
            v["EanNumber"] = "EanNumber must be 13 digits."
        if b.get("paymentConditionType") and b["paymentConditionType"] not in PAYMENT_CONDITIONS:
            v["PaymentConditionType"] = "PaymentConditionType is not valid."
        if v:
            raise derr(400, "Validation failed. See validationErrors for details.", v)

    def create_contact(self, req, org):
        b = self.body(req)
        self.validate_contact(b)
        g = self.uuid()
        now = time.time()
        rec = {"ContactGuid": g}
        for camel, pascal in CONTACT_FIELDS:
            v = b.get(camel)
            rec[pascal] = int(v) if isinstance(v, Decimal) else v
        rec["IsPerson"] = bool(b.get("isPerson"))
        rec.setdefault("PaymentConditionType", None)
        rec.update({"IsDebitor": True, "IsCreditor": False, "CreatedAt": utcstamp(now), "UpdatedAt": utcstamp(now),
                    "DeletedAt": None, "_ts": now})
        self.search_lag_stamp(rec)
        self.store.put("contacts", g, rec)
        r = Response(201, {"ContactGuid": g})
        r.header("Location", req.base_url + "/v1/%s/contacts/%s" % (org, g))
        r.ledger = {"kind": "create", "resource": "contact", "id": g,
                    "reference": rec.get("ExternalReference") or rec.get("Email")}
        r.created = True
        return r

    def _contact(self, guid):
        c = self.store.get("contacts", guid)
        if not c:
            raise derr(404, "Contact not found.")
        return c

    def get_contact(self, req, org, guid):
        return strip_private(self._contact(guid))

    def put_contact(self, req, org, guid):
        c = self._contact(guid)
        b = self.body(req)
        self.validate_contact(b)
        for camel, pascal in CONTACT_FIELDS:
            if camel in b:
                v = b[camel]
                c[pascal] = int(v) if isinstance(v, Decimal) else v
        c["UpdatedAt"] = utcstamp(time.time())
        c["_ts"] = time.time()
        self.store.put("contacts", guid, c)
        r = Response(200, None)
        r.ledger = {"kind": "update", "resource": "contact", "id": guid,
                    "reference": c.get("ExternalReference") or c.get("Email")}
        return r

    # -- query helpers -------------------------------------------------------------
    def query_filter(self, q, allowed):
        """queryFilter: "Field eq 'value'" / "Field contains 'value'", joined by ' and ' or ';'."""
        if not q:
            return lambda rec: True
        preds = []
        for term in re.split(r"\s+and\s+|;", q.strip(), flags=re.I):
            m = re.fullmatch(r"\s*(\w+)\s+(eq|contains)\s+'((?:[^']|'')*)'\s*", term)
            if not m:
                raise derr(400, "The queryFilter is not valid.", {"queryFilter": "Could not parse '%s'." % term})
            field, op, val = m.group(1), m.group(2), m.group(3).replace("''", "'")
            key = next((a for a in allowed if a.lower() == field.lower()), None)
            if key is None:
                raise derr(400, "The queryFilter is not valid.", {"queryFilter": "Filtering on %s is not supported." % field})
            preds.append((key, op, val.lower()))

        def match(rec):
            for key, op, val in preds:
                v = rec.get(key)
                s = "" if v is None else (str(v).lower() if not isinstance(v, bool) else str(v).lower())
                if op == "eq" and s != val:
                    return False
                if op == "contains" and val not in s:
                    return False
            return True
        return match

    def listing(self, req, items, default_fields, allowed_filter):
        try:
            page = int(req.q("page", "0"))
            size = int(req.q("pageSize", "100"))
        except ValueError:
            raise derr(400, "The request is invalid.", {"page": "page and pageSize must be integers."})
        mx = int(self.config.get("max_page_size", 1000))
        if page < 0 or size < 1 or size > mx:
            raise derr(400, "The request is invalid.", {"pageSize": "pageSize must be between 1 and %d." % mx})
        items = [x for x in items if self.visible(x)]
        total = len(items)
        if (req.q("deletedOnly") or "false").lower() == "true":
            items = [x for x in items if x.get("DeletedAt")]
        cs = req.q("changesSince")
        if cs:
            try:
                t = datetime.datetime.fromisoformat(cs.replace("Z", "+00:00").replace(" ", "+")).timestamp()
            except ValueError:
                raise derr(400, "The request is invalid.", {"changesSince": "changesSince must be an RFC 3339 date-time."})
            items = [x for x in items if x.get("_ts", 0) >= t]
        match = self.query_filter(req.q("queryFilter"), allowed_filter)
        items = [x for x in items if match(x)]
        fields = [f.strip() for f in (req.q("fields") or default_fields).split(",") if f.strip()]
        chunk = items[page * size:(page + 1) * size]
        out = []
        for x in chunk:
            full = strip_private(x)
            out.append({k: full[k2] for k in fields for k2 in full if k2.lower() == k.lower()})
        return {"Collection": out, "Pagination": {"MaxPageSizeAllowed": mx, "PageSize": size, "Result": len(items),
                                                  "ResultWithoutFilter": total, "Page": page}}

    def list_contacts(self, req, org):
        items = sorted(self.store.values("contacts"), key=lambda c: (c["_ts"], c["ContactGuid"]))
        return self.listing(req, items, "Name,ContactGuid",
                            ["ExternalReference", "Name", "Email", "VatNumber", "EanNumber", "IsPerson", "Phone"])

    # -- accounts -------------------------------------------------------------------------
    def entry_accounts(self, req, org):
        return [{"AccountNumber": int(n), "Name": v[0], "VatCode": "U%d" % v[1] if v[1] else "none"}
                for n, v in sorted(self.config["accounts"].items())]

    def deposit_accounts(self, req, org):
        return [{"AccountNumber": int(n), "Name": v} for n, v in sorted(self.config["deposit_accounts"].items())]

    # -- invoices -----------------------------------------------------------------------------
    def validate_invoice(self, b, for_update=False):
        v = {}
        contact = None
        if not b.get("contactGuid"):
            v["ContactGuid"] = "ContactGuid is required."
        else:
            contact = self.store.get("contacts", b["contactGuid"])
            if not contact:
                v["ContactGuid"] = "Contact with guid %s was not found." % b["contactGuid"]
        if b.get("date") is not None and not parse_date(b["date"]):
            v["Date"] = "Date must be in the format YYYY-MM-DD."
        cur = b.get("currency") or "DKK"
        if not re.fullmatch(r"[A-Z]{3}", str(cur)):
            v["Currency"] = "Currency is not valid."
        if b.get("paymentConditionType") and b["paymentConditionType"] not in PAYMENT_CONDITIONS:
            v["PaymentConditionType"] = "PaymentConditionType is not valid."
        lines = b.get("productLines")
        if lines is None:
            lines = []
        if not isinstance(lines, list):
            v["ProductLines"] = "ProductLines must be a list."
            lines = []
        for i, ln in enumerate(lines):
            p = "ProductLines[%d]." % i
            if not isinstance(ln, dict):
                v["ProductLines[%d]" % i] = "A product line must be an object."
                continue
            if ln.get("lineType", "Product") == "Text":
                continue
            if not ln.get("description"):
                v[p + "Description"] = "Description is required."
            for k in ("quantity", "baseAmountValue"):
                x = ln.get(k)
                if x is None:
                    v[p + k[0].upper() + k[1:]] = "%s is required." % (k[0].upper() + k[1:])
                elif isinstance(x, bool) or not isinstance(x, (int, Decimal)):
                    v[p + k[0].upper() + k[1:]] = "%s must be a number." % (k[0].upper() + k[1:])
            if ln.get("accountNumber") is None:
                v[p + "AccountNumber"] = "AccountNumber is required."
            elif str(ln["accountNumber"]) not in self.config["accounts"]:
                v[p + "AccountNumber"] = "Account %s does not exist or is not a sales account." % ln["accountNumber"]
        if v:
            raise derr(400, "Validation failed. See validationErrors for details.", v)
        return contact

    def compute(self, inv):
        incl = bool(inv.get("ShowLinesInclVat"))
        ex_total, vat_total, vatable, nonvat = D(0), D(0), D(0), D(0)
        for ln in inv["ProductLines"]:
            if ln.get("LineType") == "Text":
                continue
            name, rate = self.config["accounts"][str(ln["AccountNumber"])]
            r = D(str(rate)) / 100
            q, base, disc = D(str(ln["Quantity"])), D(str(ln["BaseAmountValue"])), D(str(ln.get("Discount") or 0))
            if incl:
                tot_incl = money(q * base * (1 - disc / 100))
                vat = money(tot_incl - tot_incl / (1 + r))
                tot = tot_incl - vat
                ln["BaseAmountValueInclVat"] = float(base)
                ln["BaseAmountValue"] = float(money(base / (1 + r)))
            else:
                tot = money(q * base * (1 - disc / 100))
                vat = money(tot * r)
                ln["BaseAmountValueInclVat"] = float(money(base * (1 + r)))
            ln["TotalAmount"] = float(tot)
            ln["TotalAmountInclVat"] = float(tot + vat)
            ln["AccountName"] = name
            ex_total += tot
            vat_total += vat
            if rate:
                vatable += tot
            else:
                nonvat += tot
        inv["TotalExclVat"] = float(ex_total)
        inv["TotalVatableAmount"] = float(vatable)
        inv["TotalNonVatableAmount"] = float(nonvat)
        inv["TotalVat"] = float(vat_total)
        inv["TotalInclVat"] = float(ex_total + vat_total)
        inv["TotalLines"] = [{"Type": "Sum", "TotalAmount": float(ex_total), "Position": 0, "Label": "Subtotal"},
                             {"Type": "Vat", "TotalAmount": float(vat_total), "Position": 1, "Label": "Moms"},
                             {"Type": "Total", "TotalAmount": float(ex_total + vat_total), "Position": 2,
                              "Label": "Total %s" % inv["Currency"]}]
        return inv

    def build_invoice(self, b, contact, guid=None):
        lines = []
        for ln in b.get("productLines") or []:
            lines.append({"ProductGuid": ln.get("productGuid"), "Description": ln.get("description", ""),
                          "Comments": ln.get("comments"), "Quantity": float(ln.get("quantity") or 0),
                          "AccountNumber": int(ln["accountNumber"]) if ln.get("accountNumber") is not None else None,
                          "Unit": ln.get("unit", "parts"), "Discount": float(ln.get("discount") or 0),
                          "LineType": ln.get("lineType", "Product"),
                          "BaseAmountValue": float(ln.get("baseAmountValue") or 0)})
        now = time.time()
        inv = {"Guid": guid or self.uuid(), "Number": None, "Status": "Draft", "ContactGuid": b["contactGuid"],
               "ContactName": contact["Name"], "Date": b.get("date") or datetime.date.today().isoformat(),
               "PaymentDate": None, "Description": b.get("description") or "Faktura", "Comment": b.get("comment"),
               "Currency": b.get("currency") or "DKK", "Language": b.get("language") or "da-DK",
               "ExternalReference": b.get("externalReference"), "ShowLinesInclVat": bool(b.get("showLinesInclVat")),
               "Address": b.get("address") or "%s\n%s\n%s %s" % (contact["Name"], contact.get("Street") or "",
                                                                   contact.get("ZipCode") or "", contact.get("City") or ""),
               "PaymentConditionType": b.get("paymentConditionType") or contact.get("PaymentConditionType") or "Netto",
               "PaymentConditionNumberOfDays": int(b.get("paymentConditionNumberOfDays") if b.get("paymentConditionNumberOfDays") is not None else 8),
               "InvoiceTemplateId": b.get("invoiceTemplateId"), "ProductLines": lines,
               "CreatedAt": utcstamp(now), "UpdatedAt": utcstamp(now), "DeletedAt": None, "_ts": now}
        return self.compute(inv)

    def create_invoice(self, req, org):
        b = self.body(req)
        contact = self.validate_invoice(b)
        inv = self.build_invoice(b, contact)
        inv["TimeStamp"] = self.stamp()
        self.search_lag_stamp(inv)
        self.store.put("invoices", inv["Guid"], inv)
        r = Response(201, {"Guid": inv["Guid"], "TimeStamp": inv["TimeStamp"]})
        r.header("Location", req.base_url + "/v1/%s/invoices/%s" % (org, inv["Guid"]))
        r.ledger = {"kind": "create", "resource": "invoice", "id": inv["Guid"], "reference": inv["ExternalReference"]}
        r.created = True
        return r

    def fetch_invoice(self, req, org):
        b = self.body(req)
        contact = self.validate_invoice(b)
        inv = self.build_invoice(b, contact, guid="00000000-0000-0000-0000-000000000000")
        return strip_private(inv)

    def _invoice(self, guid):
        inv = self.store.get("invoices", guid)
        if not inv or inv.get("DeletedAt"):
            raise derr(404, "Invoice not found.")
        return inv

    def status_of(self, inv):
        if inv["Status"] == "Draft":
            return "Draft"
        paid = sum((D(str(p["Amount"])) for p in inv.get("_payments", [])), D(0))
        total = D(str(inv["TotalInclVat"]))
        if paid > total:
            return "OverPaid"
        if paid == total:
            return "Paid"
        due = parse_date(inv["Date"]) + datetime.timedelta(days=int(inv.get("PaymentConditionNumberOfDays") or 0))
        return "Overdue" if due < datetime.date.today() else "Booked"

    def render_invoice(self, inv):
        d = strip_private(inv)
        d["Status"] = self.status_of(inv)
        return d

    def get_invoice(self, req, org, guid):
        return self.render_invoice(self._invoice(guid))

    def check_stamp(self, b, rec):
        ts = b.get("timestamp") or b.get("timeStamp")
        if not ts:
            raise derr(400, "Validation failed. See validationErrors for details.", {"Timestamp": "Timestamp is required."})
        if ts != rec["TimeStamp"]:
            raise derr(409, "The entity has been changed by someone else since you fetched it (stale timestamp). "
                            "Fetch it again and retry with the current timestamp.")

    def put_invoice(self, req, org, guid):
        inv = self._invoice(guid)
        b = self.body(req)
        self.check_stamp(b, inv)
        if inv["Status"] != "Draft":
            raise derr(400, "Only draft invoices can be updated.", {"Status": "The invoice is booked."})
        contact = self.validate_invoice(b)
        new = self.build_invoice(b, contact, guid=guid)
        new["CreatedAt"] = inv["CreatedAt"]
        new["TimeStamp"] = self.stamp()
        self.store.put("invoices", guid, new)
        r = Response(200, {"Guid": guid, "TimeStamp": new["TimeStamp"]})
        r.ledger = {"kind": "update", "resource": "invoice", "id": guid, "reference": new["ExternalReference"]}
        return r

    def delete_invoice(self, req, org, guid):
        inv = self._invoice(guid)
        b = self.body(req) if req.body.strip() else {}
        self.check_stamp(b, inv)
        if inv["Status"] != "Draft":
            raise derr(400, "Only draft invoices can be deleted.", {"Status": "The invoice is booked."})
        inv["DeletedAt"] = utcstamp(time.time())
        self.store.put("invoices", guid, inv)
        r = Response(204)
        r.ledger = {"kind": "delete", "resource": "invoice", "id": guid, "reference": inv["ExternalReference"]}
        return r

    def book_invoice(self, req, org, guid):
        inv = self._invoice(guid)
        b = self.body(req)
        self.check_stamp(b, inv)
        if inv["Status"] != "Draft":
            raise derr(400, "The invoice is already booked.", {"Status": "Invoice %s is already booked." % guid})
        if not [l for l in inv["ProductLines"] if l["LineType"] != "Text"]:
            raise derr(400, "Validation failed. See validationErrors for details.",
                       {"ProductLines": "An invoice must have at least one product line to be booked."})
        if not self.store.get("contacts", inv["ContactGuid"]):
            raise derr(400, "Validation failed. See validationErrors for details.", {"ContactGuid": "Contact not found."})
        inv["Status"] = "Booked"
        inv["Number"] = self.store.next_id("invoice_number", 1)
        inv["TimeStamp"] = self.stamp()
        inv["UpdatedAt"] = utcstamp(time.time())
        inv["_ts"] = time.time()
        self.store.put("invoices", guid, inv)
        r = Response(200, {"Guid": guid, "Number": inv["Number"], "TimeStamp": inv["TimeStamp"]})
        r.ledger = {"kind": "update", "resource": "invoice/book", "id": guid, "number": inv["Number"],
                    "reference": inv["ExternalReference"]}
        return r

    def list_invoices(self, req, org):
        items = sorted((i for i in self.store.values("invoices") if not i.get("DeletedAt")),
                       key=lambda i: (i["_ts"], i["Guid"]))
        sd, ed = req.q("startDate"), req.q("endDate")
        if sd:
            items = [i for i in items if i["Date"] >= sd]
        if ed:
            items = [i for i in items if i["Date"] <= ed]
        sf = req.q("statusFilter")
        rendered = []
        for i in items:
            x = dict(i)
            x["Status"] = self.status_of(i)
            rendered.append(x)
        if sf:
            allowed = {s.strip().lower() for s in sf.split(",")}
            rendered = [x for x in rendered if x["Status"].lower() in allowed]
        return self.listing(req, rendered, "Guid,ContactName,Date,Description",
                            ["ExternalReference", "ContactName", "Description", "Number", "Status", "Currency"])

    # -- payments -------------------------------------------------------------------------
    def list_payments(self, req, org, guid):
        inv = self._invoice(guid)
        paid = sum((D(str(p["Amount"])) for p in inv.get("_payments", [])), D(0))
        total = D(str(inv["TotalInclVat"]))
        return {"Payments": inv.get("_payments", []), "RemainingAmount": float(total - paid),
                "PaidAmount": float(paid), "InvoiceTotalIncludingReminderExpenses": float(total)}

    def create_payment(self, req, org, guid):
        inv = self._invoice(guid)
        b = self.body(req)
        self.check_stamp(b, inv)
        if inv["Status"] == "Draft":
            raise derr(400, "Payments can only be registered on booked invoices.", {"Status": "The invoice is a draft."})
        v = {}
        if str(b.get("depositAccountNumber")) not in self.config["deposit_accounts"]:
            v["DepositAccountNumber"] = "Deposit account %s does not exist." % b.get("depositAccountNumber")
        amt = b.get("amount")
        if amt is None or isinstance(amt, bool) or not isinstance(amt, (int, Decimal)) or amt == 0:
            v["Amount"] = "Amount is required and must not be zero."
        if not parse_date(b.get("paymentDate") or ""):
            v["PaymentDate"] = "PaymentDate is required (YYYY-MM-DD)."
        if v:
            raise derr(400, "Validation failed. See validationErrors for details.", v)
        p = {"Id": self.store.next_id("payment", 1), "Guid": self.uuid(),
             "DepositAccountNumber": int(b["depositAccountNumber"]), "ExternalReference": b.get("externalReference"),
             "PaymentDate": b["paymentDate"], "Description": b.get("description") or "Betaling",
             "Amount": float(money(amt)), "AmountInForeignCurrency": float(b["amountInForeignCurrency"])
             if b.get("amountInForeignCurrency") is not None else None}
        inv.setdefault("_payments", []).append(p)
        inv["TimeStamp"] = self.stamp()
        if self.status_of(inv) in ("Paid", "OverPaid"):
            inv["PaymentDate"] = b["paymentDate"]
        self.store.put("invoices", guid, inv)
        r = Response(201, {"Guid": guid, "TimeStamp": inv["TimeStamp"]})
        r.ledger = {"kind": "create", "resource": "invoice/payment", "id": p["Guid"], "invoice": guid,
                    "reference": p["ExternalReference"]}
        r.created = True
        return r

    def email_invoice(self, req, org, guid):
        """Send a booked invoice by e-mail (recorded, not sent)."""
        inv = self._invoice(guid)
        b = self.body(req)
        self.check_stamp(b, inv)
        if inv["Status"] == "Draft":
            raise derr(400, "Only booked invoices can be sent.", {"Status": "The invoice is a draft."})
        receiver = b.get("receiver") or (self.store.get("contacts", inv["ContactGuid"]) or {}).get("Email")
        if not receiver or "@" not in str(receiver):
            raise derr(400, "Validation failed. See validationErrors for details.",
                       {"Receiver": "The contact has no e-mail address and no receiver was given."})
        inv.setdefault("_emails", []).append({"receiver": receiver, "subject": b.get("subject"), "ts": time.time()})
        inv["TimeStamp"] = self.stamp()
        self.store.put("invoices", guid, inv)
        r = Response(200, {"Guid": guid, "TimeStamp": inv["TimeStamp"]})
        r.ledger = {"kind": "action", "resource": "invoice/email", "id": guid, "receiver": receiver,
                    "reference": inv["ExternalReference"]}
        return r

    # -- credit notes ----------------------------------------------------------------------
    def generate_creditnote(self, req, org, guid):
        inv = self._invoice(guid)
        b = self.body(req)
        self.check_stamp(b, inv)
        if inv["Status"] == "Draft":
            raise derr(400, "A credit note can only be made for a booked invoice.", {"Status": "The invoice is a draft."})
        g = self.uuid()
        now = time.time()
        cn = {k: v for k, v in inv.items() if not k.startswith("_")}
        cn.update({"Guid": g, "Number": None, "Status": "Draft", "CreditNoteFor": guid, "PaymentDate": None,
                   "ProductLines": [dict(l) for l in inv["ProductLines"]], "CreatedAt": utcstamp(now),
                   "UpdatedAt": utcstamp(now), "DeletedAt": None, "TimeStamp": self.stamp(), "_ts": now,
                   "Description": "Kreditnota for faktura %s" % inv["Number"]})
        self.search_lag_stamp(cn)
        self.store.put("creditnotes", g, cn)
        r = Response(201, {"Guid": g, "TimeStamp": cn["TimeStamp"]})
        r.ledger = {"kind": "create", "resource": "creditnote", "id": g, "invoice": guid,
                    "reference": inv.get("ExternalReference")}
        r.created = True
        return r

    def credited_so_far(self, invoice_guid):
        return sum((D(str(c["TotalInclVat"])) for c in self.store.values("creditnotes")
                    if c.get("CreditNoteFor") == invoice_guid and not c.get("DeletedAt")), D(0))

    def create_creditnote(self, req, org):
        """A credit note with its own lines (a partial credit) for a booked
        invoice: the body of an invoice plus creditNoteFor. The lines are
        positive; together the credit notes of an invoice may not exceed it."""
        b = self.body(req)
        inv_guid = b.get("creditNoteFor")
        if not inv_guid:
            raise derr(400, "Validation failed. See validationErrors for details.",
                       {"CreditNoteFor": "CreditNoteFor is required."})
        inv = self.store.get("invoices", inv_guid)
        if not inv or inv.get("DeletedAt"):
            raise derr(400, "Validation failed. See validationErrors for details.",
                       {"CreditNoteFor": "Invoice with guid %s was not found." % inv_guid})
        if inv["Status"] == "Draft":
            raise derr(400, "A credit note can only be made for a booked invoice.", {"CreditNoteFor": "The invoice is a draft."})
        b = dict(b)
        b.setdefault("contactGuid", inv["ContactGuid"])
        b.setdefault("currency", inv["Currency"])
        contact = self.validate_invoice(b)
        if not [l for l in (b.get("productLines") or []) if l.get("lineType", "Product") != "Text"]:
            raise derr(400, "Validation failed. See validationErrors for details.",
                       {"ProductLines": "A credit note must have at least one product line."})
        cn = self.build_invoice(b, contact)
        left = D(str(inv["TotalInclVat"])) - self.credited_so_far(inv_guid)
        if D(str(cn["TotalInclVat"])) > left:
            raise derr(400, "Validation failed. See validationErrors for details.",
                       {"ProductLines": "The credit note's total %s exceeds what is left to credit on invoice %s (%s)."
                        % (money(D(str(cn["TotalInclVat"]))), inv["Number"], money(left))})
        cn["CreditNoteFor"] = inv_guid
        if not b.get("description"):
            cn["Description"] = "Kreditnota for faktura %s" % inv["Number"]
        cn["TimeStamp"] = self.stamp()
        self.search_lag_stamp(cn)
        self.store.put("creditnotes", cn["Guid"], cn)
        r = Response(201, {"Guid": cn["Guid"], "TimeStamp": cn["TimeStamp"]})
        r.header("Location", req.base_url + "/v1/%s/sales/creditnotes/%s" % (org, cn["Guid"]))
        r.ledger = {"kind": "create", "resource": "creditnote", "id": cn["Guid"], "invoice": inv_guid,
                    "reference": cn.get("ExternalReference")}
        r.created = True
        return r

    def _creditnote(self, guid):
        cn = self.store.get("creditnotes", guid)
        if not cn:
            raise derr(404, "Credit note not found.")
        return cn

    def get_creditnote(self, req, org, guid):
        return strip_private(self._creditnote(guid))

    def list_creditnotes(self, req, org):
        items = sorted(self.store.values("creditnotes"), key=lambda c: (c["_ts"], c["Guid"]))
        return self.listing(req, items, "Guid,ContactName,Date,Description",
                            ["ExternalReference", "ContactName", "Description", "Number", "CreditNoteFor"])

    def book_creditnote(self, req, org, guid):
        cn = self._creditnote(guid)
        b = self.body(req)
        self.check_stamp(b, cn)
        if cn["Status"] != "Draft":
            raise derr(400, "The credit note is already booked.", {"Status": "Already booked."})
        cn["Status"] = "Booked"
        cn["Number"] = self.store.next_id("creditnote_number", 1)
        cn["TimeStamp"] = self.stamp()
        self.store.put("creditnotes", guid, cn)
        r = Response(200, {"Guid": guid, "Number": cn["Number"], "TimeStamp": cn["TimeStamp"]})
        r.ledger = {"kind": "update", "resource": "creditnote/book", "id": guid, "reference": cn.get("ExternalReference")}
        return r


def create(seed=0, state_path=None, config=None):
    return Dinero(seed=seed, state_path=state_path, config=config)
