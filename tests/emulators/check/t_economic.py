"""e-conomic REST emulator checks."""

import datetime
import urllib.parse

from support import case, check, eq, http

H = {"X-AppSecretToken": "econ-app-secret-token", "X-AgreementGrantToken": "econ-agreement-grant-token"}


def req(emu, method, path, body=None, headers=None, raw=None):
    h = dict(H)
    h.update(headers or {})
    return http(method, emu.url + path, h, body, raw=raw)


def today():
    return datetime.date.today().isoformat()


def draft(customer=1, lines=None, ref=None, date=None, zone=1, terms=1):
    d = {"date": date or today(), "currency": "DKK", "customer": {"customerNumber": customer},
         "layout": {"layoutNumber": 19}, "paymentTerms": {"paymentTermsNumber": terms},
         "recipient": {"name": "Mette Jensen", "vatZone": {"vatZoneNumber": zone}},
         "lines": lines if lines is not None else
         [{"lineNumber": 1, "product": {"productNumber": "MAELK-SKUM"}, "quantity": 3, "unitNetPrice": 63.99}]}
    if ref:
        d["references"] = {"other": ref}
    return d


def errors_of(r):
    eq(r.status, 400, "validation status")
    doc = r.json()
    eq(doc.get("message"), "Validation error.", "validation message")
    eq(doc.get("httpStatusCode"), 400, "httpStatusCode")
    check("logId" in doc and "logTime" in doc and "developerHint" in doc, "error document fields", doc)
    return doc["errors"]


def codes(node):
    return [e["errorCode"] for e in node["errors"]]


@case("economic/auth-both-tokens", "economic")
def auth(emu):
    for hdrs in ({}, {"X-AppSecretToken": H["X-AppSecretToken"]},
                 {"X-AgreementGrantToken": H["X-AgreementGrantToken"]},
                 {"X-AppSecretToken": "x", "X-AgreementGrantToken": H["X-AgreementGrantToken"]}):
        r = http("GET", emu.url + "/customers", hdrs)
        eq(r.status, 401, "auth with %s" % sorted(hdrs))
        doc = r.json()
        check(doc.get("httpStatusCode") == 401 and doc.get("message") and doc.get("errorCode"), "401 document", doc)
    eq(req(emu, "GET", "/customers").status, 200, "both tokens")


@case("economic/json-only-415", "economic")
def json_only(emu):
    r = req(emu, "POST", "/customers", raw=b"name=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    eq(r.status, 415, "form body")
    eq(r.json()["httpStatusCode"], 415, "415 document")
    r = req(emu, "POST", "/customers", raw=b"{not json", headers={"Content-Type": "application/json"})
    eq(r.status, 400, "malformed JSON")


@case("economic/pagination-envelope", "economic")
def pagination(emu):
    r = req(emu, "GET", "/customers?pagesize=3").json()
    p = r["pagination"]
    eq(p["pageSize"], 3, "pageSize")
    eq(p["maxPageSizeAllowed"], 1000, "maxPageSizeAllowed")
    total = p["results"]
    check(total >= 8, "seeded customers")
    check("nextPage" in p and "lastPage" in p and "firstPage" in p, "page links", p)
    seen, url, n = [], emu.url + "/customers?pagesize=3", 0
    while url:
        doc = http("GET", url, H).json()
        seen += [c["customerNumber"] for c in doc["collection"]]
        url = doc["pagination"].get("nextPage")
        n += 1
        check(n < 20, "pagination does not end")
    eq(seen, sorted(seen), "default sort by customerNumber")
    eq(len(seen), total, "all customers via nextPage")
    eq(n, -(-total // 3), "page count")
    last = http("GET", p["lastPage"], H).json()
    check("nextPage" not in last["pagination"], "no nextPage on the last page")
    eq(req(emu, "GET", "/customers?pagesize=1001").status, 400, "pagesize above 1000")
    d = req(emu, "GET", "/customers?skippages=1&pagesize=2").json()
    eq([c["customerNumber"] for c in d["collection"]], [3, 4], "skippages")
    r = req(emu, "GET", "/customers?sort=-customerNumber&pagesize=2").json()
    eq([c["customerNumber"] for c in r["collection"]], [total, total - 1], "sort descending")


@case("economic/validation-annotated-errors", "economic")
def validation(emu):
    body = draft(customer=987987987, lines=[
        {"lineNumber": 1, "product": {"productNumber": "KAFFE-ESP-500"}, "quantity": 1, "unitNetPrice": 10.12345,
         "unit": {"unitNumber": 10}},
        {"lineNumber": 2, "product": {}, "quantity": 1},
        {"lineNumber": 3, "product": {"productNumber": "KAFFE-ESP-500"}},
        {"lineNumber": 4, "product": {"productNumber": "KAFFE-ESP-500"}, "quantity": 0},
        {"lineNumber": 5, "product": {"productNumber": "X" * 26}, "quantity": 1}])
    body["currency"] = "ZUL"
    e = errors_of(req(emu, "POST", "/invoices/drafts", body))
    eq(codes(e["currency"]), ["E06000"], "currency does not exist")
    eq(e["currency"]["errors"][0]["value"], "ZUL", "error value mirrors the request")
    eq(codes(e["customer"]), ["E06000"], "customer does not exist")
    lines = e["lines"]
    eq([l["arrayIndex"] for l in lines], [0, 1, 2, 3, 4], "arrayIndex per failing line")
    eq(codes(lines[0]["unitNetPrice"]), ["E04740"], "unitNetPrice scale")
    eq(lines[0]["unitNetPrice"]["errors"][0]["value"], 10.12345, "value of the bad price")
    eq(codes(lines[0]["unit"]), ["E06000"], "unit does not exist")
    eq(codes(lines[1]["product"]), ["E04500"], "product without identifiers")
    eq(codes(lines[2]["quantity"]), ["E04730"], "quantity missing when product set")
    eq(codes(lines[3]["quantity"]), ["E04730"], "zero quantity")
    check("product" in lines[4], "productNumber longer than 25", lines[4])
    check("date" not in e and "layout" not in e, "valid properties are not in the error document", e)
    # required properties
    e = errors_of(req(emu, "POST", "/invoices/drafts", {"lines": []}))
    for k in ("currency", "customer", "date", "layout", "paymentTerms", "recipient"):
        check(k in e, "missing required %s must be reported" % k, e)
    b = draft()
    del b["recipient"]["name"]
    del b["recipient"]["vatZone"]
    e = errors_of(req(emu, "POST", "/invoices/drafts", b))
    check("name" in e["recipient"] and "vatZone" in e["recipient"], "recipient.name and recipient.vatZone required", e)
    # null is rejected, customerNumber range
    b = draft()
    b["notes"] = {"heading": None}
    e = errors_of(req(emu, "POST", "/invoices/drafts", b))
    check("heading" in e.get("notes", {}), "null rejected at its path", e)
    for n in (0, 1000000000):
        e = errors_of(req(emu, "POST", "/invoices/drafts", draft(customer=n)))
        check("customerNumber" in e.get("customer", {}), "customerNumber %d out of range" % n, e)
    e = errors_of(req(emu, "POST", "/customers", {"name": "X", "customerNumber": 1000000000, "currency": "DKK",
                                                  "customerGroup": {"customerGroupNumber": 1},
                                                  "paymentTerms": {"paymentTermsNumber": 1},
                                                  "vatZone": {"vatZoneNumber": 1}}))
    check("customerNumber" in e, "customer POST with customerNumber above 999999999", e)
    e = errors_of(req(emu, "POST", "/customers", {"name": "X"}))
    for k in ("currency", "customerGroup", "paymentTerms", "vatZone"):
        check(k in e, "customer POST requires %s" % k, e)
    e = errors_of(req(emu, "POST", "/products", {"productNumber": "A" * 26, "name": "x",
                                                 "productGroup": {"productGroupNumber": 1}}))
    check("productNumber" in e, "productNumber longer than 25", e)
    eq(emu.ledger(), [], "failed validations leave no ledger entry")


@case("economic/draft-totals-and-shape", "economic")
def totals(emu):
    r = req(emu, "POST", "/invoices/drafts", draft(ref="iex:shop:1011"))
    eq(r.status, 201, "create draft")
    d = r.json()
    check(r.header("Location") and r.header("Location").endswith("/invoices/drafts/%d" % d["draftInvoiceNumber"]),
          "Location header", r.header("Location"))
    eq((d["netAmount"], d["vatAmount"], d["grossAmount"]), (191.97, 47.99, 239.96),
       "3 x 63.99 + 25 % VAT computed on the net (one cent below the shop's 239.97)")
    eq(d["lines"][0]["totalNetAmount"], 191.97, "line totalNetAmount")
    eq(d["paymentTerms"]["paymentTermsType"], "net", "payment terms echo")
    check(d["self"].endswith("/invoices/drafts/%d" % d["draftInvoiceNumber"]), "self link")
    eq(d["customer"]["self"], emu.url + "/customers/1", "customer self link")
    g = req(emu, "GET", "/invoices/drafts/%d" % d["draftInvoiceNumber"]).json()
    eq(g["grossAmount"], 239.96, "GET echoes the computed totals")
    eu = req(emu, "POST", "/invoices/drafts", draft(zone=2)).json()
    eq(eu["vatAmount"], 0, "EU zone: no Danish VAT on product group 1")
    de = req(emu, "POST", "/invoices/drafts", draft(zone=2, lines=[
        {"product": {"productNumber": "KAFFE-ESP-500-DE"}, "quantity": 2, "unitNetPrice": 86.72}])).json()
    eq((de["netAmount"], de["vatAmount"]), (173.44, 32.95), "OSS product group at 19 %")
    # false booleans are omitted
    p = req(emu, "GET", "/products/KAFFE-ESP-500").json()
    check("barred" not in p, "false 'barred' must be omitted", p)
    eq(req(emu, "GET", "/products/KAFFE-JUL-2023").json().get("barred"), True, "barred product")
    # self-link escaping of product numbers
    r = req(emu, "POST", "/products", {"productNumber": "A_B.C", "name": "Escaped",
                                       "productGroup": {"productGroupNumber": 1}, "salesPrice": 10})
    eq(r.status, 201, "create product")
    check(r.json()["self"].endswith("/products/A_8_B_11_C"), "product self link escaping", r.json()["self"])
    eq(req(emu, "GET", "/products/A_8_B_11_C").status, 200, "GET by escaped number")
    # PUT replaces, DELETE removes
    n = d["draftInvoiceNumber"]
    b = draft(ref="iex:shop:1011", lines=[{"product": {"productNumber": "CHOK-70"}, "quantity": 1}])
    u = req(emu, "PUT", "/invoices/drafts/%d" % n, b)
    eq(u.status, 200, "PUT draft")
    eq(len(u.json()["lines"]), 1, "PUT replaced the lines")
    eq(u.json()["lines"][0]["unitNetPrice"], 31.96, "unitNetPrice defaults to the product's salesPrice")
    eq(req(emu, "DELETE", "/invoices/drafts/%d" % n).status, 204, "DELETE draft")
    eq(req(emu, "GET", "/invoices/drafts/%d" % n).status, 404, "deleted draft")


@case("economic/references-other-lookup", "economic")
def lookup(emu):
    ref = "iex:shop:5610000001001"
    r = req(emu, "POST", "/invoices/drafts", draft(ref=ref))
    eq(r.status, 201, "create")
    req(emu, "POST", "/invoices/drafts", draft(ref="iex:shop:other"))
    f = urllib.parse.quote("references.other$eq:" + ref, safe="")
    hits = req(emu, "GET", "/invoices/drafts?filter=" + f).json()
    eq([x["references"]["other"] for x in hits["collection"]], [ref], "draft found by references.other")
    eq(hits["pagination"]["results"], 1, "results with filter")
    eq(hits["pagination"]["resultsWithoutFilter"], 2, "resultsWithoutFilter")
    n = r.json()["draftInvoiceNumber"]
    b = req(emu, "POST", "/invoices/booked", {"draftInvoice": {"draftInvoiceNumber": n}})
    eq(b.status, 201, "book")
    eq(req(emu, "GET", "/invoices/drafts?filter=" + f).json()["collection"], [], "no longer a draft")
    booked = req(emu, "GET", "/invoices/booked?filter=" + f).json()["collection"]
    eq([x["bookedInvoiceNumber"] for x in booked], [b.json()["bookedInvoiceNumber"]], "found among booked")
    # customers by email / phone / number, $like and $and
    q = urllib.parse.quote("email$eq:METTE.JENSEN@example.dk", safe="")
    eq([c["customerNumber"] for c in req(emu, "GET", "/customers?filter=" + q).json()["collection"]], [1],
       "email filter is case-insensitive")
    q = urllib.parse.quote("name$like:*sen$and:city$eq:Aarhus C", safe="")
    eq([c["name"] for c in req(emu, "GET", "/customers?filter=" + q).json()["collection"]], ["Lars Nielsen"],
       "$like with wildcard and $and")
    q = urllib.parse.quote("telephoneAndFaxNumber$eq:+4522345678$or:customerNumber$eq:4", safe="")
    eq(sorted(c["customerNumber"] for c in req(emu, "GET", "/customers?filter=" + q).json()["collection"]), [3, 4],
       "$or on phone and customerNumber")
    q = urllib.parse.quote("customerNumber$in:[2,5,7]", safe="")
    eq([c["customerNumber"] for c in req(emu, "GET", "/customers?filter=" + q).json()["collection"]], [2, 5, 7], "$in")
    q = urllib.parse.quote("name$like:nielsen", safe="")
    eq(len(req(emu, "GET", "/customers?filter=" + q).json()["collection"]), 1, "$like without wildcard = contains")
    r = req(emu, "GET", "/customers?filter=" + urllib.parse.quote("balance$eq:0", safe=""))
    eq(r.status, 400, "filter on a non-filterable property")
    eq(req(emu, "GET", "/customers?filter=" + urllib.parse.quote("name$eq:(x", safe="")).status, 400,
       "malformed filter")
    led = emu.ledger(reference=ref)
    eq([(e["method"], e["path"], e["status"]) for e in led],
       [("POST", "/invoices/drafts", 201), ("POST", "/invoices/booked", 201)], "ledger by reference")


@case("economic/booking-rules", "economic")
def booking(emu):
    def make(body):
        r = req(emu, "POST", "/invoices/drafts", body)
        eq(r.status, 201, "draft for booking test")
        return r.json()["draftInvoiceNumber"]
    n = make(draft(lines=[{"product": {"productNumber": "KAFFE-JUL-2023"}, "quantity": 2}]))
    e = errors_of(req(emu, "POST", "/invoices/booked", {"draftInvoice": {"draftInvoiceNumber": n}}))
    check("barred" in str(e), "barred product refused at booking", e)
    eq(req(emu, "GET", "/invoices/drafts/%d" % n).status, 200, "draft kept after refused booking")
    closed = emu.config()["closed_years"][0]
    n = make(draft(date="%d-06-30" % closed))
    e = errors_of(req(emu, "POST", "/invoices/booked", {"draftInvoice": {"draftInvoiceNumber": n}}))
    check("closed" in str(e), "closed accounting year refused", e)
    years = req(emu, "GET", "/accounting-years").json()["collection"]
    check(any(y.get("closed") for y in years) and any("closed" not in y for y in years), "accounting years", years)
    e = errors_of(req(emu, "POST", "/invoices/booked", {"draftInvoice": {"draftInvoiceNumber": 99999}}))
    eq(codes(e["draftInvoice"]), ["E06000"], "booking a draft that does not exist")
    n = make(draft(ref="iex:shop:42"))
    self_link = emu.url + "/invoices/drafts/%d" % n
    r = req(emu, "POST", "/invoices/booked", {"draftInvoice": {"self": self_link}})
    eq(r.status, 201, "book by self link")
    b = r.json()
    eq(b["bookedInvoiceNumber"], 1004, "numbering continues after the seeded invoices")
    eq(b["remainder"], b["grossAmount"], "unpaid remainder")
    check(r.header("Location").endswith("/invoices/booked/1004"), "Location of booked invoice")
    eq(b["lines"][0]["vatRate"], 25, "booked line vatRate")
    eq(req(emu, "GET", "/invoices/drafts/%d" % n).status, 404, "draft consumed by booking")
    e = errors_of(req(emu, "POST", "/invoices/booked", {"draftInvoice": {"draftInvoiceNumber": make(draft())},
                                                       "bookWithNumber": 1004}))
    check("bookWithNumber" in e, "bookWithNumber already used", e)
    # a credit note is a negative invoice
    cn = make(draft(ref="iex:credit:42", lines=[{"product": {"productNumber": "MAELK-SKUM"}, "quantity": -1,
                                                 "unitNetPrice": 63.99}]))
    c = req(emu, "POST", "/invoices/booked", {"draftInvoice": {"draftInvoiceNumber": cn}}).json()
    eq((c["netAmount"], c["grossAmount"]), (-63.99, -79.99), "credit note totals")
    unpaid = req(emu, "GET", "/invoices/unpaid?pagesize=1000").json()["collection"]
    check(any(x["bookedInvoiceNumber"] == 1004 for x in unpaid), "booked invoice is unpaid")


@case("economic/journal-vouchers-payment", "economic")
def vouchers(emu):
    d = req(emu, "POST", "/invoices/drafts", draft(ref="iex:pay:1")).json()
    b = req(emu, "POST", "/invoices/booked", {"draftInvoice": {"draftInvoiceNumber": d["draftInvoiceNumber"]}}).json()
    year = today()[:4]
    body = {"accountingYear": {"year": year}, "journal": {"journalNumber": 2},
            "entries": {"customerPayments": [{"customer": {"customerNumber": 1}, "amount": -b["grossAmount"],
                                              "date": today(), "text": "iex:payment:1",
                                              "customerInvoice": b["bookedInvoiceNumber"],
                                              "contraAccount": {"accountNumber": 5820},
                                              "currency": {"code": "DKK"}}]}}
    r = req(emu, "POST", "/journals/2/vouchers", body)
    eq(r.status, 201, "create voucher")
    v = r.json()
    check(isinstance(v, list) and v[0]["voucherNumber"] >= 1, "vouchers come back as an array", v)
    eq(req(emu, "GET", "/invoices/booked/%d" % b["bookedInvoiceNumber"]).json()["remainder"], b["grossAmount"],
       "unbooked journal does not settle the invoice")
    emu.call("POST", "/journals/2/book")
    eq(req(emu, "GET", "/invoices/booked/%d" % b["bookedInvoiceNumber"]).json()["remainder"], 0,
       "booked journal settles the invoice")
    paid = req(emu, "GET", "/invoices/paid").json()["collection"]
    check(any(x["bookedInvoiceNumber"] == b["bookedInvoiceNumber"] for x in paid), "listed under /invoices/paid")
    bad = dict(body, accountingYear={"year": str(emu.config()["closed_years"][0])})
    errors_of(req(emu, "POST", "/journals/2/vouchers", bad))
    bad = {"accountingYear": {"year": year}, "entries": {"customerPayments": [{"amount": 10}]}}
    e = errors_of(req(emu, "POST", "/journals/2/vouchers", bad))
    check("date" in str(e) and "customer" in str(e), "entry needs date and customer/contraAccount", e)


@case("economic/demo-tokens-and-vat-rounding", "economic")
def demo_and_rounding(emu):
    demo = {"X-AppSecretToken": "demo", "X-AgreementGrantToken": "demo"}
    eq(http("GET", emu.url + "/customers", demo).status, 200, "demo agreement can read")
    r = http("POST", emu.url + "/customers", demo, {"name": "x"})
    eq((r.status, r.json()["httpStatusCode"]), (403, 403), "demo agreement is read-only")
    lines = [{"product": {"productNumber": "FILTER-4-100"}, "quantity": 1, "unitNetPrice": 15.99}] * 3
    tot = req(emu, "POST", "/invoices/drafts", draft(lines=lines)).json()
    eq(tot["vatAmount"], 11.99, "VAT rounded on the total: 47.97 x 25 % = 11.9925")
    emu.config(vat_rounding="line")
    per = req(emu, "POST", "/invoices/drafts", draft(lines=lines)).json()
    eq(per["vatAmount"], 12.0, "VAT rounded per line: 3 x 4.00")


@case("economic/flow-products-seeded", "economic")
def flow_products(emu):
    """The product numbers the shipped flows name exist, in the right VAT group."""
    groups = {"FRAGT0": 2, "GEBYR0": 2, "GAVEKORT": 2, "OERE": 2, "REFUSION": 1, "FRAGT-DE": 10,
              "GEBYR-DE": 10, "RABAT-DE": 10, "DIVERSE-DE": 10, "REFUSION-DE": 10, "FRAGT-SE": 11,
              "GEBYR-SE": 11, "RABAT-SE": 11, "DIVERSE-SE": 11, "REFUSION-SE": 11}
    for pn, group in groups.items():
        r = req(emu, "GET", "/products/" + pn)
        eq(r.status, 200, "product %s exists" % pn)
        eq(r.json()["productGroup"]["productGroupNumber"], group, "product group of %s" % pn)
    # OERE carries no VAT, so a correction line's net price is the gross difference.
    d = req(emu, "POST", "/invoices/drafts", draft(lines=[{"product": {"productNumber": "OERE"}, "quantity": 1,
                                                           "unitNetPrice": 0.01}])).json()
    eq((d["netAmount"], d["vatAmount"], d["grossAmount"]), (0.01, 0.0, 0.01), "OERE is VAT-free")
