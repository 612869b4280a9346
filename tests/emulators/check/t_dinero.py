"""Dinero emulator checks."""

import base64
import datetime
import urllib.parse

from support import case, check, eq, http

ORG = 123456
CLIENT = "Basic " + base64.b64encode(b"dinero-client-id:dinero-client-secret").decode()


def token(emu, key="dinero-user-api-key", client=CLIENT, grant=None):
    form = grant or {"grant_type": "password", "scope": "read write", "username": key, "password": key}
    return http("POST", emu.url + "/dineroapi/oauth/token",
                {"Authorization": client, "Content-Type": "application/x-www-form-urlencoded"},
                raw=urllib.parse.urlencode(form).encode())


def session(emu):
    t = token(emu).json()["access_token"]

    def call(method, path, body=None, org=ORG):
        return http(method, "%s/v1/%d/%s" % (emu.url, org, path), {"Authorization": "Bearer " + t}, body)
    return call


def contact(call, **kw):
    body = {"name": "Mette Jensen", "countryKey": "DK", "isPerson": True, "email": "mette@example.dk",
            "externalReference": "shop-customer-1"}
    body.update(kw)
    r = call("POST", "contacts", body)
    eq(r.status, 201, "create contact")
    return r.json()["ContactGuid"]


def invoice_body(cg, ref="#1001", incl=True):
    return {"contactGuid": cg, "date": datetime.date.today().isoformat(), "currency": "DKK", "language": "da-DK",
            "externalReference": ref, "description": "Ordre %s" % ref, "showLinesInclVat": incl,
            "productLines": [{"description": "Mælkeskummer", "quantity": 3, "accountNumber": 1000, "unit": "parts",
                              "lineType": "Product", "baseAmountValue": 79.99},
                             {"description": "Fragt", "quantity": 1, "accountNumber": 1000, "baseAmountValue": 49.00}]}


@case("dinero/oauth-password-grant", "dinero")
def oauth(emu):
    eq(token(emu, client="Basic " + base64.b64encode(b"x:y").decode()).status, 401, "bad client credentials")
    r = token(emu, key="wrong")
    eq((r.status, r.json()["error"]), (400, "invalid_grant"), "bad API key")
    r = token(emu)
    eq(r.status, 200, "password grant")
    t = r.json()
    eq((t["token_type"], t["expires_in"]), ("Bearer", 3600), "token response")
    eq(http("GET", "%s/v1/%d/contacts" % (emu.url, ORG)).status, 401, "no bearer token")
    eq(http("GET", "%s/v1/%d/contacts" % (emu.url, ORG), {"Authorization": "Bearer nope"}).status, 401, "bad token")
    call = session(emu)
    eq(call("GET", "contacts").status, 200, "with token")
    eq(call("GET", "contacts", org=999).status, 403, "another organization")
    emu.call("POST", "/tokens/expire")
    eq(http("GET", "%s/v1/%d/contacts" % (emu.url, ORG), {"Authorization": "Bearer " + t["access_token"]}).status,
       401, "expired token")
    r = token(emu, grant={"grant_type": "refresh_token", "refresh_token": t["refresh_token"]})
    eq(r.status, 200, "refresh grant")


@case("dinero/contacts", "dinero")
def contacts(emu):
    call = session(emu)
    g = contact(call)
    c = call("GET", "contacts/" + g).json()
    for k in ("ContactGuid", "Name", "CountryKey", "Email", "IsPerson", "ExternalReference", "CreatedAt"):
        check(k in c, "PascalCase field %s on read" % k, c)
    eq(c["Email"], "mette@example.dk", "read back")
    q = urllib.parse.quote("Email eq 'mette@example.dk'")
    r = call("GET", "contacts?fields=Name,ContactGuid,Email&queryFilter=" + q).json()
    eq([x["ContactGuid"] for x in r["Collection"]], [g], "queryFilter Email eq")
    eq(sorted(r["Collection"][0]), ["ContactGuid", "Email", "Name"], "fields selects the returned properties")
    p = r["Pagination"]
    eq((p["Result"], p["Page"]), (1, 0), "Pagination envelope")
    check(p["ResultWithoutFilter"] >= 7 and p["MaxPageSizeAllowed"] == 1000, "Pagination totals", p)
    all_ = call("GET", "contacts?pageSize=3&page=1").json()
    eq(len(all_["Collection"]), 3, "pageSize/page")
    r = call("POST", "contacts", {"email": "x@example.dk"})
    eq(r.status, 400, "missing name and country")
    doc = r.json()
    check("Name" in doc["validationErrors"] and "CountryKey" in doc["validationErrors"], "validationErrors", doc)
    check({"property", "message"} <= set(doc["languageSpecificMessages"][0]), "languageSpecificMessages", doc)
    eq(call("GET", "contacts?queryFilter=" + urllib.parse.quote("Street eq 'x'")).status, 400, "unsupported filter field")


@case("dinero/invoice-fetch-create-book-timestamp", "dinero")
def invoices(emu):
    call = session(emu)
    cg = contact(call)
    before = len(emu.ledger())
    f = call("POST", "invoices/fetch", invoice_body(cg))
    eq(f.status, 200, "fetch preview")
    fj = f.json()
    eq((fj["TotalInclVat"], fj["TotalVat"], fj["TotalExclVat"]), (288.97, 57.79, 231.18), "preview totals (lines incl. VAT)")
    eq(len(emu.ledger()), before, "fetch does not create anything")
    r = call("POST", "invoices", invoice_body(cg, ref="#1042"))
    eq(r.status, 201, "create draft")
    g, ts = r.json()["Guid"], r.json()["TimeStamp"]
    inv = call("GET", "invoices/" + g).json()
    eq((inv["Status"], inv["Number"], inv["TotalInclVat"]), ("Draft", None, 288.97), "draft read back")
    ex = call("POST", "invoices", invoice_body(cg, ref="#1043", incl=False)).json()
    exj = call("GET", "invoices/" + ex["Guid"]).json()
    eq((exj["TotalExclVat"], exj["TotalVat"]), (288.97, 72.24), "lines excl. VAT")
    b = invoice_body(cg, ref="#1042")
    b["timestamp"] = ts
    b["comment"] = "opdateret"
    u = call("PUT", "invoices/" + g, b)
    eq(u.status, 200, "update draft with the current timestamp")
    ts2 = u.json()["TimeStamp"]
    check(ts2 != ts, "update changes the timestamp")
    stale = call("POST", "invoices/%s/book" % g, {"timestamp": ts})
    eq(stale.status, 409, "booking with a stale timestamp")
    check(stale.json().get("message"), "409 error document", stale)
    eq(call("POST", "invoices/%s/book" % g, {}).status, 400, "booking without timestamp")
    ok = call("POST", "invoices/%s/book" % g, {"timestamp": ts2})
    eq(ok.status, 200, "book")
    eq(ok.json()["Number"], 1, "invoice number")
    eq(call("GET", "invoices/" + g).json()["Status"], "Booked", "booked status")
    again = call("POST", "invoices/%s/book" % g, {"timestamp": ok.json()["TimeStamp"]})
    eq(again.status, 400, "booking twice")
    q = urllib.parse.quote("ExternalReference eq '#1042'")
    lst = call("GET", "invoices?fields=Guid,Number,ExternalReference&queryFilter=" + q).json()
    eq([x["Guid"] for x in lst["Collection"]], [g], "lookup by externalReference")
    bad = invoice_body(cg)
    bad["productLines"][0]["accountNumber"] = 9999
    del bad["productLines"][1]["quantity"]
    e = call("POST", "invoices", bad)
    eq(e.status, 400, "invalid lines")
    check("ProductLines[0].AccountNumber" in e.json()["validationErrors"] and
          "ProductLines[1].Quantity" in e.json()["validationErrors"], "line validation errors", e.json())


@case("dinero/payments-and-creditnote", "dinero")
def payments(emu):
    call = session(emu)
    cg = contact(call)
    r = call("POST", "invoices", invoice_body(cg, ref="#2001")).json()
    g = r["Guid"]
    d = call("POST", "invoices/%s/payments" % g, {"timestamp": r["TimeStamp"], "amount": 10,
                                                  "depositAccountNumber": 55000, "paymentDate": "2024-01-01"})
    eq(d.status, 400, "no payments on drafts")
    b = call("POST", "invoices/%s/book" % g, {"timestamp": r["TimeStamp"]}).json()
    p = call("POST", "invoices/%s/payments" % g, {"timestamp": b["TimeStamp"], "amount": 288.97,
                                                  "depositAccountNumber": 55010, "externalReference": "pay-#2001",
                                                  "paymentDate": datetime.date.today().isoformat(),
                                                  "description": "Shopify Payments"})
    eq(p.status, 201, "register payment")
    ps = call("GET", "invoices/%s/payments" % g).json()
    eq((ps["RemainingAmount"], ps["PaidAmount"]), (0.0, 288.97), "payments summary")
    eq(call("GET", "invoices/" + g).json()["Status"], "Paid", "paid status")
    stale = call("POST", "invoices/%s/payments" % g, {"timestamp": b["TimeStamp"], "amount": 1,
                                                      "depositAccountNumber": 55000, "paymentDate": "2024-01-01"})
    eq(stale.status, 409, "payment with a stale timestamp")
    ts = call("GET", "invoices/" + g).json()["TimeStamp"]
    c = call("POST", "invoices/%s/generate-creditnote" % g, {"timestamp": ts})
    eq(c.status, 201, "generate credit note")
    cn = call("GET", "sales/creditnotes/" + c.json()["Guid"]).json()
    eq((cn["CreditNoteFor"], cn["Status"], cn["TotalInclVat"]), (g, "Draft", 288.97), "credit note draft")
    ts = call("GET", "invoices/" + g).json()["TimeStamp"]
    eq(call("POST", "invoices/%s/email" % g, {"timestamp": "0"}).status, 409, "e-mail with a stale timestamp")
    m = call("POST", "invoices/%s/email" % g, {"timestamp": ts, "subject": "Faktura"})
    eq(m.status, 200, "e-mail a booked invoice")
    bk = call("POST", "sales/creditnotes/%s/book" % cn["Guid"], {"timestamp": cn["TimeStamp"]})
    eq(bk.status, 200, "book credit note")
    kinds = [e["resource"] for e in emu.ledger()]
    for k in ("contact", "invoice", "invoice/book", "invoice/payment", "invoice/email", "creditnote",
              "creditnote/book"):
        check(k in kinds, "ledger has %s" % k, kinds)


@case("dinero/partial-creditnotes", "dinero")
def partial_creditnotes(emu):
    call = session(emu)
    cg = contact(call)
    r = call("POST", "invoices", invoice_body(cg, ref="#3001")).json()
    b = call("POST", "invoices/%s/book" % r["Guid"], {"timestamp": r["TimeStamp"]}).json()
    g = r["Guid"]
    one = {"creditNoteFor": g, "date": datetime.date.today().isoformat(), "externalReference": "#3001/r1",
           "showLinesInclVat": True,
           "productLines": [{"description": "Mælkeskummer", "quantity": 1, "accountNumber": 1000,
                             "baseAmountValue": 79.99}]}
    eq(call("POST", "sales/creditnotes", dict(one, creditNoteFor=None)).status, 400, "creditNoteFor required")
    c = call("POST", "sales/creditnotes", one)
    eq(c.status, 201, "partial credit note")
    cn = call("GET", "sales/creditnotes/" + c.json()["Guid"]).json()
    eq((cn["CreditNoteFor"], cn["ContactGuid"], cn["TotalInclVat"], cn["ExternalReference"]),
       (g, cg, 79.99, "#3001/r1"), "partial credit note: invoice, contact, total, reference")
    eq(call("POST", "sales/creditnotes", dict(one, externalReference="#3001/r2")).status, 201, "second part")
    eq(call("POST", "sales/creditnotes", dict(one, externalReference="#3001/r3")).status, 201, "third part")
    over = call("POST", "sales/creditnotes", dict(one, externalReference="#3001/r4"))
    eq(over.status, 400, "more than the invoice is refused")
    check("exceeds" in over.body.decode(), "says the credit exceeds the invoice", over.body)
    found = call("GET", "sales/creditnotes?queryFilter=" + urllib.parse.quote("ExternalReference eq '#3001/r2'")).json()
    eq(len(found["Collection"]), 1, "credit note found by external reference")
    eq(b["Number"] > 0, True, "invoice booked")
