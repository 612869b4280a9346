/*
** Visma e-conomic REST API: customers, products, invoices, credit notes
** and journal payments (connectors/economic/README.md has the exact order
** of requests each operation sends).
**
** The connection's base_url is "https://restapi.e-conomic.com"; its
** secrets are `app_secret_token` and `agreement_grant_token`.
**
** Exactly-once: every write has a `find` that looks the record up by the
** key the call carries (an invoice's references.other, a customer's match
** field, a product number, the reference at the end of a journal entry's
** text). invoice.create and credit_note.create also look before they send,
** so running one again is safe: a booked invoice with the reference is
** returned as it is, a draft is replaced and carried on from (totals,
** booking). Their `find` therefore reports found only for a record that
** is finished (booked, or a draft when mode is draft), so that an
** interrupted booking is completed by running again.
**
** e-conomic's rules are checked before anything is sent, so a flow fails
** with a sentence rather than an E-code: customer number 1..999999999,
** product numbers of 1..25 characters, non-zero quantities, at most two
** decimals on prices, products that exist and are not barred, a customer
** that is not barred, an open accounting year for a booked invoice.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "connectors/connector.h"
#include "connectors/http.h"
#include "connectors/rec.h"

#define STYLE HTTP_STYLE_ECONOMIC
#define MAX_PRODUCTS 200

/* ---- Requests --------------------------------------------------------------- */

static IexStatus send(const Connection *k, Arena *a, const char *method, const char *path,
                      Value body, const char *what, HttpAnswer *ans, Err *err) {
  HttpRequest req = {.style = STYLE, .method = method, .url = path,
                     .body = body.kind == VAL_NULL ? body : rec_drop_nulls(a, body),
                     .what = what, .is_write = strcmp(method, "GET") != 0};
  return http_call(k, a, &req, ans, err);
}

/* GET `path`; *found false on 404 (IEX_OK then). */
static IexStatus get_opt(const Connection *k, Arena *a, const char *path, const char *what,
                         bool *found, Value *out, Err *err) {
  HttpAnswer ans;
  Err e2;
  err_init(&e2);
  IexStatus rc = send(k, a, "GET", path, value_null(), what, &ans, &e2);
  *found = rc == IEX_OK;
  *out = ans.json;
  if (rc != IEX_OK && ans.status == 404) return IEX_OK;
  if (rc != IEX_OK && err) *err = e2;
  return rc;
}

/* A product number as e-conomic wants it in a URL (README, R§3.1). */
static const char *escape_id(Arena *a, const char *s) {
  static const char *const map[][2] = {
    {"_", "_8_"}, {"<", "_0_"}, {">", "_1_"}, {"*", "_2_"}, {"%", "_3_"}, {":", "_4_"},
    {"&", "_5_"}, {"/", "_6_"}, {"\\", "_7_"}, {" ", "_9_"}, {"?", "_10_"}, {".", "_11_"},
    {"#", "_12_"}, {"+", "_13_"}};
  Buf b;
  buf_init(&b, 4096);
  for (const char *p = s; *p; p++) {
    const char *rep = NULL;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
      if (*p == map[i][0][0]) rep = map[i][1];
    if (rep) {
      buf_puts(&b, rep);
    } else {
      char one[2] = {*p, 0};
      buf_puts(&b, rec_urlencode(a, one));
    }
  }
  const char *out = arena_strndup(a, buf_cstr(&b), b.len);
  buf_fini(&b);
  return out;
}

/* A filter value with e-conomic's escapes ($ ( ) * , [ ]), URL-encoded. */
static const char *filter_value(Arena *a, const char *s) {
  Buf b;
  buf_init(&b, 4096);
  for (const char *p = s; *p; p++) {
    if (strchr("$()*,[]", *p)) buf_putc(&b, '$');
    buf_putc(&b, *p);
  }
  const char *out = rec_urlencode(a, buf_cstr(&b));
  buf_fini(&b);
  return out;
}

/* ---- Parameters --------------------------------------------------------------- */

static const char *param_text(const OpCall *c, const char *name) {
  return rec_text(c->arena, rec_get(c->params, name));
}
static bool param_is(const OpCall *c, const char *name, const char *value) {
  const char *t = param_text(c, name);
  return t && strcmp(t, value) == 0;
}
static bool param_decimal(const OpCall *c, const char *name, Decimal *d) {
  return rec_decimal(rec_get(c->params, name), d);
}
static bool param_bool(const OpCall *c, const char *name, bool dflt) {
  Value v = rec_get(c->params, name);
  return v.kind == VAL_BOOL ? v.as.b : dflt;
}

static const char *fmt_dec(Arena *a, Decimal d) {
  char buf[DECIMAL_TEXT_SIZE];
  decimal_format_fixed(d, 2, ROUND_HALF_UP, buf);
  return arena_strndup(a, buf, strlen(buf));
}

/* ---- Customers ------------------------------------------------------------------ */

static IexStatus check_customer_number(Value v, const char *where, Err *err) {
  int64_t n;
  if (v.kind == VAL_NULL) return IEX_OK;
  if (!rec_int(v, &n) || n < 1 || n > 999999999)
    return err_set(err, IEX_E_VALIDATION,
                   "e-conomic needs %s to be a whole number from 1 to 999999999", where);
  return IEX_OK;
}

/* Look a customer up by the field `by` of the mapping `m`. *found, and
** the lowest-numbered match in *out. */
static IexStatus match_customer(const Connection *k, const OpCall *c, Value m, bool *found,
                                Value *out, Err *err) {
  Arena *a = c->arena;
  const char *by = param_text(c, "by");
  *found = false;
  if (!by) return err_set(err, IEX_E_INVALID, "customer.match_or_create needs `by`");
  if (strcmp(by, "shared") == 0 || strcmp(by, "customer_number") == 0) {
    bool shared = strcmp(by, "shared") == 0;
    int64_t n;
    Value v = shared ? rec_get(c->params, "shared_number") : rec_get(m, "customerNumber");
    if (!rec_int(v, &n) || n < 1 || n > 999999999)
      return err_set(err, IEX_E_VALIDATION, shared
                     ? "match by shared customer needs shared_number (1 to 999999999)"
                     : "match by customer number needs the mapping's customerNumber "
                       "(a whole number from 1 to 999999999)");
    return get_opt(k, a, arena_printf(a, "/customers/%lld", (long long)n),
                   arena_printf(a, "customer %lld", (long long)n), found, out, err);
  }
  const char *filter;
  if (strcmp(by, "email") == 0) {
    const char *email = rec_text(a, rec_get(m, "email"));
    if (!email || !*email)
      return err_set(err, IEX_E_VALIDATION, "match by e-mail needs the mapping's email");
    filter = arena_printf(a, "email$eq:%s", filter_value(a, email));
  } else if (strcmp(by, "phone") == 0) {
    const char *ph = rec_text(a, rec_get(m, "telephoneAndFaxNumber"));
    if (!ph || !*ph)
      return err_set(err, IEX_E_VALIDATION,
                     "match by phone needs the mapping's telephoneAndFaxNumber");
    const char *f = filter_value(a, ph);
    filter = arena_printf(a, "telephoneAndFaxNumber$eq:%s$or:mobilePhone$eq:%s", f, f);
  } else {
    return err_set(err, IEX_E_INVALID, "unknown customer match '%s'", by);
  }
  Value all;
  IexStatus rc = http_get_all(k, a, STYLE, arena_printf(a, "/customers?filter=%s", filter),
                              "the customer search", &all, err);
  if (rc != IEX_OK) return rc;
  int64_t best = 0;
  for (uint32_t i = 0; i < all.len; i++) {
    int64_t n = 0;
    rec_int(rec_get(all.as.items[i], "customerNumber"), &n);
    if (!*found || n < best) { best = n; *out = all.as.items[i]; *found = true; }
  }
  return IEX_OK;
}

/* The fields of a customer document that e-conomic computes or links;
** they are not sent back in a PUT. */
static Value customer_doc(Arena *a, Value c) {
  static const char *const readonly[] = {"self", "balance", "dueAmount", "lastUpdated",
                                         "contacts", "templates", "totals", "deliveryLocations",
                                         "invoices", "metaData"};
  for (size_t i = 0; i < sizeof readonly / sizeof readonly[0]; i++) c = rec_drop(a, c, readonly[i]);
  return c;
}

static IexStatus customer_barred(const char *name_or_num, Err *err) {
  return err_set(err, IEX_E_VALIDATION,
                 "customer %s is barred in e-conomic, so it cannot be invoiced; "
                 "lift the barring in e-conomic or match another customer", name_or_num);
}

static IexStatus create_customer(const Connection *k, Arena *a, Value m, Value *out, Err *err) {
  IexStatus rc = check_customer_number(rec_get(m, "customerNumber"), "customerNumber", err);
  if (rc != IEX_OK) return rc;
  HttpAnswer ans;
  rc = send(k, a, "POST", "/customers", m, "the customer", &ans, err);
  if (rc == IEX_OK) *out = ans.json;
  return rc;
}

static IexStatus customer_match_or_create(const Connection *k, const OpCall *c, Value *result,
                                          Err *err) {
  Arena *a = c->arena;
  Value m = c->input;
  bool found;
  Value cust;
  IexStatus rc = match_customer(k, c, m, &found, &cust, err);
  if (rc != IEX_OK) return rc;
  const char *by = param_text(c, "by");
  if (!found) {
    if (strcmp(by, "shared") == 0 || !param_bool(c, "allow_create", true)) {
      const char *what = strcmp(by, "email") == 0 ? rec_text(a, rec_get(m, "email"))
                       : strcmp(by, "phone") == 0 ? rec_text(a, rec_get(m, "telephoneAndFaxNumber"))
                       : strcmp(by, "shared") == 0 ? rec_text(a, rec_get(c->params, "shared_number"))
                       : rec_text(a, rec_get(m, "customerNumber"));
      return err_set(err, IEX_E_VALIDATION,
                     "e-conomic has no customer found by %s %s%s", by, what ? what : "?",
                     strcmp(by, "shared") == 0 ? "; create the shared customer in e-conomic"
                                               : " and allow_create is false; create the "
                                                 "customer in e-conomic or set allow_create");
    }
    return create_customer(k, a, m, result, err);
  }
  const char *num = rec_text(a, rec_get(cust, "customerNumber"));
  if (rec_true(rec_get(cust, "barred"))) {
    const char *name = rec_text(a, rec_get(cust, "name"));
    return customer_barred(arena_printf(a, "%s (%s)", num ? num : "?", name ? name : ""), err);
  }
  if (param_bool(c, "update_existing", false) && strcmp(by, "shared") != 0) {
    /* PUT replaces the whole document: the found one with the mapping's
    ** fields over it, never the mapping alone. */
    Value doc = customer_doc(a, cust);
    for (uint32_t i = 0; m.kind == VAL_RECORD && i < m.len; i++) {
      const Field *f = value_field_at(m, i);
      if (f->value.kind == VAL_NULL || str_eq_cstr(f->key, "customerNumber")) continue;
      doc = rec_set(a, doc, arena_strndup(a, f->key.ptr, f->key.len), f->value);
    }
    HttpAnswer ans;
    rc = send(k, a, "PUT", arena_printf(a, "/customers/%s", num), doc, "the customer", &ans, err);
    if (rc != IEX_OK) return rc;
    cust = ans.json;
  }
  *result = cust;
  return IEX_OK;
}

static IexStatus customer_match_find(const Connection *k, const OpCall *c, bool *found,
                                     Value *result, Err *err) {
  return match_customer(k, c, c->input, found, result, err);
}

static IexStatus customer_create(const Connection *k, const OpCall *c, Value *result, Err *err) {
  return create_customer(k, c->arena, c->input, result, err);
}

/* A created customer is found by its number when the mapping gave one,
** else by its e-mail. */
static IexStatus customer_create_find(const Connection *k, const OpCall *c, bool *found,
                                      Value *result, Err *err) {
  Arena *a = c->arena;
  int64_t n;
  *found = false;
  if (rec_int(rec_get(c->input, "customerNumber"), &n))
    return get_opt(k, a, arena_printf(a, "/customers/%lld", (long long)n), "the customer",
                   found, result, err);
  const char *email = rec_text(a, rec_get(c->input, "email"));
  if (!email || !*email) return IEX_OK;
  Value all;
  const char *path = arena_printf(a, "/customers?filter=email$eq:%s", filter_value(a, email));
  IexStatus rc = http_get_all(k, a, STYLE, path, "the customer search", &all, err);
  if (rc == IEX_OK && all.len > 0) { *found = true; *result = all.as.items[all.len - 1]; }
  return rc;
}

static IexStatus customer_get(const Connection *k, const OpCall *c, Value *result, Err *err) {
  int64_t n;
  if (!rec_int(rec_get(c->params, "number"), &n) || n < 1 || n > 999999999)
    return err_set(err, IEX_E_VALIDATION, "customer.get needs a number from 1 to 999999999");
  bool found;
  IexStatus rc = get_opt(k, c->arena, arena_printf(c->arena, "/customers/%lld", (long long)n),
                         "the customer", &found, result, err);
  if (rc == IEX_OK && !found)
    return err_set(err, IEX_E_HTTP_4XX, "e-conomic has no customer %lld", (long long)n);
  return rc;
}

/* ---- Products ---------------------------------------------------------------------- */

static IexStatus check_product_number(Arena *a, const char *pn, const char *where, Err *err) {
  size_t n = pn ? strlen(pn) : 0;
  if (n < 1 || n > 25)
    return err_set(err, IEX_E_VALIDATION,
                   "%s: e-conomic product numbers have 1 to 25 characters, and '%s' has %zu",
                   where, pn ? pn : "", n);
  return IEX_OK;
}

static IexStatus get_product(const Connection *k, Arena *a, const char *pn, bool *found,
                             Value *out, Err *err) {
  return get_opt(k, a, arena_printf(a, "/products/%s", escape_id(a, pn)),
                 arena_printf(a, "product '%s'", pn), found, out, err);
}

static IexStatus product_get(const Connection *k, const OpCall *c, Value *result, Err *err) {
  const char *pn = param_text(c, "number");
  IexStatus rc = check_product_number(c->arena, pn, "product.get", err);
  if (rc != IEX_OK) return rc;
  bool found;
  rc = get_product(k, c->arena, pn, &found, result, err);
  if (rc == IEX_OK && !found)
    return err_set(err, IEX_E_HTTP_4XX, "e-conomic has no product '%s'", pn);
  return rc;
}

static IexStatus product_create(const Connection *k, const OpCall *c, Value *result, Err *err) {
  Arena *a = c->arena;
  const char *pn = rec_text(a, rec_get(c->input, "productNumber"));
  IexStatus rc = check_product_number(a, pn, "product.create", err);
  if (rc != IEX_OK) return rc;
  bool found;
  Value existing;
  rc = get_product(k, a, pn, &found, &existing, err);
  if (rc != IEX_OK) return rc;
  HttpAnswer ans;
  if (found) {
    if (param_is(c, "if_exists", "fail"))
      return err_set(err, IEX_E_VALIDATION, "e-conomic already has product '%s'", pn);
    if (!param_is(c, "if_exists", "update")) { *result = existing; return IEX_OK; }
    rc = send(k, a, "PUT", arena_printf(a, "/products/%s", escape_id(a, pn)), c->input,
              arena_printf(a, "product '%s'", pn), &ans, err);
  } else {
    rc = send(k, a, "POST", "/products", c->input, arena_printf(a, "product '%s'", pn), &ans, err);
  }
  if (rc == IEX_OK) *result = ans.json;
  return rc;
}

static IexStatus product_create_find(const Connection *k, const OpCall *c, bool *found,
                                     Value *result, Err *err) {
  const char *pn = rec_text(c->arena, rec_get(c->input, "productNumber"));
  *found = false;
  if (!pn) return IEX_OK;
  return get_product(k, c->arena, pn, found, result, err);
}

/* ---- Invoices ------------------------------------------------------------------------ */

/* The invoice with references.other == `ref`: the booked one (latest) in
** *booked, else a draft in *draft; null when none. */
static IexStatus find_by_reference(const Connection *k, Arena *a, const char *ref,
                                   Value *booked, Value *draft, Err *err) {
  *booked = *draft = value_null();
  const char *f = arena_printf(a, "?filter=references.other$eq:%s", filter_value(a, ref));
  Value all;
  IexStatus rc = http_get_all(k, a, STYLE, arena_printf(a, "/invoices/booked%s", f),
                              "the search for booked invoices", &all, err);
  if (rc != IEX_OK) return rc;
  if (all.len) { *booked = all.as.items[all.len - 1]; return IEX_OK; }
  rc = http_get_all(k, a, STYLE, arena_printf(a, "/invoices/drafts%s", f),
                    "the search for draft invoices", &all, err);
  if (rc == IEX_OK && all.len) *draft = all.as.items[all.len - 1];
  return rc;
}

/* e-conomic's rules on a draft, checked before it is sent. */
static IexStatus check_draft(Arena *a, Value d, bool credit, Err *err) {
  IexStatus rc = check_customer_number(rec_get(d, "customer.customerNumber"),
                                       "customer.customerNumber", err);
  if (rc != IEX_OK) return rc;
  const char *ean = rec_text(a, rec_get(d, "recipient.ean"));
  if (ean && *ean) {
    size_t n = strlen(ean);
    bool digits = n == 13 && strspn(ean, "0123456789") == 13;
    if (!digits)
      return err_set(err, IEX_E_VALIDATION,
                     "recipient.ean '%s' is not an EAN location number (13 digits)", ean);
  }
  Value lines = rec_get(d, "lines");
  if (lines.kind != VAL_LIST || lines.len == 0)
    return err_set(err, IEX_E_VALIDATION, "the %s has no lines; e-conomic books none without",
                   credit ? "credit note" : "invoice");
  for (uint32_t i = 0; i < lines.len; i++) {
    Value l = lines.as.items[i];
    const char *where = arena_printf(a, "line %u", i + 1);
    Value pnv = rec_get(l, "product.productNumber");
    if (rec_get(l, "product").kind != VAL_NULL || pnv.kind != VAL_NULL) {
      rc = check_product_number(a, rec_text(a, pnv), where, err);
      if (rc != IEX_OK) return rc;
    }
    Decimal q;
    if (!rec_decimal(rec_get(l, "quantity"), &q) || decimal_sign(q) == 0)
      return err_set(err, IEX_E_VALIDATION,
                     "%s (%s): the quantity is zero or missing; e-conomic needs a non-zero "
                     "quantity on every line with a product", where,
                     rec_text(a, pnv) ? rec_text(a, pnv) : "no product");
    Decimal p;
    if (rec_decimal(rec_get(l, "unitNetPrice"), &p) && decimal_reduce(p).scale > 2)
      return err_set(err, IEX_E_VALIDATION,
                     "%s: unitNetPrice %s has more than 2 decimals, which e-conomic refuses; "
                     "round it in the mapping", where, rec_text(a, rec_get(l, "unitNetPrice")));
  }
  return IEX_OK;
}

/* Products of the draft's lines: every one must exist and not be barred;
** missing ones are handled by missing_product. Returns the draft with its
** lines rewritten where use_default moved them. */
static IexStatus check_products(const Connection *k, const OpCall *c, Value *draft, Err *err) {
  Arena *a = c->arena;
  Value lines = rec_get(*draft, "lines");
  const char *seen[MAX_PRODUCTS];
  bool missing[MAX_PRODUCTS];
  size_t n = 0;
  for (uint32_t i = 0; i < lines.len; i++) {
    const char *pn = rec_text(a, rec_get(lines.as.items[i], "product.productNumber"));
    if (!pn) continue;
    size_t j = 0;
    while (j < n && strcmp(seen[j], pn) != 0) j++;
    if (j < n) continue;
    if (n == MAX_PRODUCTS)
      return err_set(err, IEX_E_VALIDATION, "more than %d distinct products on one invoice",
                     MAX_PRODUCTS);
    bool found;
    Value p;
    IexStatus rc = get_product(k, a, pn, &found, &p, err);
    if (rc != IEX_OK) return rc;
    if (found && rec_true(rec_get(p, "barred")))
      return err_set(err, IEX_E_VALIDATION,
                     "product '%s' is barred in e-conomic, so the invoice cannot be booked; "
                     "lift the barring or map the line to another product", pn);
    seen[n] = pn;
    missing[n++] = !found;
  }
  Buf names;
  buf_init(&names, 2048);
  for (size_t j = 0; j < n; j++)
    if (missing[j]) buf_printf(&names, "%s'%s'", names.len ? ", " : "", seen[j]);
  if (names.len == 0) { buf_fini(&names); return IEX_OK; }

  IexStatus rc = IEX_OK;
  const char *policy = param_text(c, "missing_product");
  if (!policy || strcmp(policy, "halt") == 0) {
    rc = err_set(err, IEX_E_VALIDATION,
                 "e-conomic has no product %s; create it in e-conomic, or set missing_product "
                 "to use_default or create", buf_cstr(&names));
  } else if (strcmp(policy, "use_default") == 0) {
    const char *def = param_text(c, "default_product");
    bool found = false;
    Value p;
    if (!def) {
      rc = err_set(err, IEX_E_VALIDATION, "missing_product use_default needs default_product "
                   "(e-conomic has no product %s)", buf_cstr(&names));
    } else if ((rc = get_product(k, a, def, &found, &p, err)) == IEX_OK && !found) {
      rc = err_set(err, IEX_E_VALIDATION, "the default product '%s' does not exist in e-conomic "
                   "(needed for %s)", def, buf_cstr(&names));
    } else if (rc == IEX_OK && rec_true(rec_get(p, "barred"))) {
      rc = err_set(err, IEX_E_VALIDATION, "the default product '%s' is barred in e-conomic", def);
    }
    if (rc == IEX_OK) {
      Value *nl = arena_alloc(a, sizeof(Value) * lines.len);
      for (uint32_t i = 0; i < lines.len; i++) {
        Value l = lines.as.items[i];
        const char *pn = rec_text(a, rec_get(l, "product.productNumber"));
        bool miss = false;
        for (size_t j = 0; pn && j < n; j++)
          if (missing[j] && strcmp(seen[j], pn) == 0) miss = true;
        if (miss) {
          /* Keep the text, so the invoice still says what was sold. */
          if (rec_get(l, "description").kind == VAL_NULL)
            l = rec_set(a, l, "description", rec_str(a, pn));
          l = rec_set(a, l, "product", rec_make(a, "productNumber", rec_str(a, def), NULL));
        }
        nl[i] = l;
      }
      *draft = rec_set(a, *draft, "lines", value_list(nl, lines.len));
    }
  } else if (strcmp(policy, "create") == 0) {
    int64_t group;
    if (!rec_int(rec_get(c->params, "product_group"), &group)) {
      rc = err_set(err, IEX_E_VALIDATION, "missing_product create needs product_group "
                   "(e-conomic has no product %s)", buf_cstr(&names));
    }
    for (size_t j = 0; rc == IEX_OK && j < n; j++) {
      if (!missing[j]) continue;
      Value line = value_null();
      for (uint32_t i = 0; i < lines.len && line.kind == VAL_NULL; i++) {
        const char *pn = rec_text(a, rec_get(lines.as.items[i], "product.productNumber"));
        if (pn && strcmp(pn, seen[j]) == 0) line = lines.as.items[i];
      }
      const char *name = rec_text(a, rec_get(line, "description"));
      if (!name || !*name) name = seen[j];
      if (strlen(name) > 300) name = arena_strndup(a, name, 300);
      Value body = rec_make(a, "productNumber", rec_str(a, seen[j]), "name", rec_str(a, name),
                            "productGroup", rec_make(a, "productGroupNumber", value_int(group), NULL),
                            "salesPrice", rec_get(line, "unitNetPrice"), NULL);
      HttpAnswer ans;
      rc = send(k, a, "POST", "/products", body, arena_printf(a, "the new product '%s'", seen[j]),
                &ans, err);
    }
  } else {
    rc = err_set(err, IEX_E_INVALID, "unknown missing_product '%s'", policy);
  }
  buf_fini(&names);
  return rc;
}

/* A booked invoice needs its date in an open accounting year. */
static IexStatus check_year(const Connection *k, Arena *a, Value draft, Err *err) {
  const char *date = rec_text(a, rec_get(draft, "date"));
  if (!date || strlen(date) < 4) return IEX_OK; /* e-conomic says what is wrong */
  const char *year = arena_strndup(a, date, 4);
  bool found;
  Value y;
  IexStatus rc = get_opt(k, a, arena_printf(a, "/accounting-years/%s", year),
                         "the accounting year", &found, &y, err);
  if (rc != IEX_OK) return rc;
  if (!found)
    return err_set(err, IEX_E_VALIDATION, "the date %s lies in no accounting year of this "
                   "e-conomic agreement; create the year %s in e-conomic", date, year);
  if (rec_true(rec_get(y, "closed")))
    return err_set(err, IEX_E_VALIDATION, "the date %s lies in accounting year %s, which is "
                   "closed in e-conomic; reopen it or change the date", date, year);
  return IEX_OK;
}

/* Add `d` to the correction line (the line with `product` and quantity
** 1), or append one. */
static Value add_correction(Arena *a, Value draft, const char *product, const char *text,
                            Decimal d) {
  Value lines = rec_get(draft, "lines");
  int64_t max_no = 0;
  for (uint32_t i = 0; i < lines.len; i++) {
    Value l = lines.as.items[i];
    int64_t no;
    if (rec_int(rec_get(l, "lineNumber"), &no) && no > max_no) max_no = no;
    const char *pn = rec_text(a, rec_get(l, "product.productNumber"));
    Decimal q, p, sum;
    if (pn && strcmp(pn, product) == 0 && rec_decimal(rec_get(l, "quantity"), &q) &&
        decimal_eq(q, decimal_make(1, 0)) && rec_decimal(rec_get(l, "unitNetPrice"), &p) &&
        decimal_add(p, d, &sum) == DECIMAL_OK) {
      Value *nl = arena_alloc(a, sizeof(Value) * lines.len);
      memcpy(nl, lines.as.items, sizeof(Value) * lines.len);
      nl[i] = rec_set(a, l, "unitNetPrice", value_decimal(sum));
      return rec_set(a, draft, "lines", value_list(nl, lines.len));
    }
  }
  Value line = rec_make(a, "lineNumber", max_no ? value_int(max_no + 1) : value_null(),
                        "product", rec_make(a, "productNumber", rec_str(a, product), NULL),
                        "description", rec_str(a, text), "quantity", value_int(1),
                        "unitNetPrice", value_decimal(d), NULL);
  return rec_set(a, draft, "lines", rec_append(a, lines, line));
}

/* How far `got` (the draft's amount `field`) is from `want`. */
static bool amount_diff(Value doc, const char *field, Decimal want, Decimal *diff) {
  Decimal got;
  if (!rec_decimal(rec_get(doc, field), &got)) return false;
  return decimal_sub(want, got, diff) == DECIMAL_OK;
}

/* "Error in totals validation": the draft's `field` (`label` in the
** message) is `d` short of the shop's `want`, beyond `threshold`. */
static IexStatus totals_differ(Arena *a, Value doc, const char *field, const char *label,
                               Decimal want, Decimal d, Decimal threshold, const char *cur,
                               int64_t dn, Err *err) {
  Decimal got = decimal_zero();
  rec_decimal(rec_get(doc, field), &got);
  return err_set(err, IEX_E_VALIDATION,
                 "Error in totals validation: e-conomic's %s %s %s differs from the shop's %s "
                 "by %s (threshold %s); draft %lld was kept",
                 label, fmt_dec(a, got), cur, fmt_dec(a, want), fmt_dec(a, decimal_neg(d)),
                 fmt_dec(a, threshold), (long long)dn);
}

/* The whole of invoice.create and credit_note.create after the draft is
** built: look for an earlier attempt, check, send, check totals, book.
** `limit` > 0: a credit note may credit at most that gross amount. */
static IexStatus create_invoice(const Connection *k, const OpCall *c, Value draft, bool credit,
                                Decimal limit, Value *result, Err *err) {
  Arena *a = c->arena;
  const char *ref = param_text(c, "reference");
  const char *doc_name = credit ? "the credit note" : "the invoice";
  if (!ref || !*ref) return err_set(err, IEX_E_INVALID, "%.*s needs a reference", STR_FMT(c->operation));
  bool booked_mode = param_is(c, "mode", "booked");
  draft = rec_set_path(a, rec_drop_nulls(a, draft), "references.other", rec_str(a, ref));
  IexStatus rc = check_draft(a, draft, credit, err);
  if (rc != IEX_OK) return rc;

  /* An earlier attempt: a booked invoice is left alone, a draft is
  ** replaced (updates: apply, or a run interrupted before booking). */
  Value old_booked, old_draft;
  rc = find_by_reference(k, a, ref, &old_booked, &old_draft, err);
  if (rc != IEX_OK) return rc;
  if (old_booked.kind != VAL_NULL) {
    int64_t bn = 0;
    rec_int(rec_get(old_booked, "bookedInvoiceNumber"), &bn);
    connector_note(c, "booked %s %lld with reference %s is left alone: e-conomic cannot "
                   "change a booked invoice%s", credit ? "credit note" : "invoice",
                   (long long)bn, ref, credit ? "" : "; a correction is a credit note");
    *result = old_booked;
    return IEX_OK;
  }

  int64_t cn;
  if (rec_int(rec_get(draft, "customer.customerNumber"), &cn)) {
    bool found;
    Value cust;
    rc = get_opt(k, a, arena_printf(a, "/customers/%lld", (long long)cn), "the customer",
                 &found, &cust, err);
    if (rc != IEX_OK) return rc;
    if (!found)
      return err_set(err, IEX_E_VALIDATION, "e-conomic has no customer %lld for %s %s; create "
                     "the customer in e-conomic or correct the customer number the flow maps",
                     (long long)cn, doc_name, ref);
    if (rec_true(rec_get(cust, "barred")))
      return customer_barred(arena_printf(a, "%lld", (long long)cn), err);
  }
  rc = check_products(k, c, &draft, err);
  if (rc != IEX_OK) return rc;
  if (booked_mode && (rc = check_year(k, a, draft, err)) != IEX_OK) return rc;

  HttpAnswer ans;
  int64_t dn = 0;
  if (old_draft.kind != VAL_NULL && rec_int(rec_get(old_draft, "draftInvoiceNumber"), &dn))
    rc = send(k, a, "PUT", arena_printf(a, "/invoices/drafts/%lld", (long long)dn), draft,
              doc_name, &ans, err);
  else
    rc = send(k, a, "POST", "/invoices/drafts", draft, doc_name, &ans, err);
  if (rc != IEX_OK) return rc;
  Value doc = ans.json;
  rec_int(rec_get(doc, "draftInvoiceNumber"), &dn);
  const char *cur = rec_text(a, rec_get(doc, "currency"));
  if (!cur) cur = "";

  /* Totals against the shop's. */
  Decimal want, threshold = decimal_zero(), d;
  param_decimal(c, "cent_threshold", &threshold);
  threshold = decimal_abs(threshold);
  if (param_decimal(c, "expected_gross", &want) && amount_diff(doc, "grossAmount", want, &d) &&
      decimal_sign(d) != 0) {
    const char *cp = param_text(c, "correction_product");
    bool small = decimal_cmp(decimal_abs(d), threshold) <= 0;
    if (small && !cp)
      return err_set(err, IEX_E_VALIDATION, "Error in totals validation: a correction of %s "
                     "%s is needed but correction_product is not set; draft %lld was kept",
                     fmt_dec(a, d), cur, (long long)dn);
    if (small) {
      bool found;
      Value p;
      rc = get_product(k, a, cp, &found, &p, err);
      if (rc != IEX_OK) return rc;
      if (!found)
        return err_set(err, IEX_E_VALIDATION, "the correction product '%s' does not exist in "
                       "e-conomic; draft %lld was kept", cp, (long long)dn);
      const char *text = param_text(c, "correction_text");
      draft = add_correction(a, draft, cp, text ? text : "Øreafrunding", d);
      rc = send(k, a, "PUT", arena_printf(a, "/invoices/drafts/%lld", (long long)dn), draft,
                doc_name, &ans, err);
      if (rc != IEX_OK) return rc;
      doc = ans.json;
      amount_diff(doc, "grossAmount", want, &d);
    }
    if (decimal_sign(d) != 0)
      return totals_differ(a, doc, "grossAmount", "total", want, d, threshold, cur, dn, err);
  }
  if (param_decimal(c, "expected_vat", &want) && amount_diff(doc, "vatAmount", want, &d) &&
      decimal_cmp(decimal_abs(d), threshold) > 0)
    return totals_differ(a, doc, "vatAmount", "VAT", want, d, threshold, cur, dn, err);
  if (credit) {
    Decimal gross = decimal_zero();
    rec_decimal(rec_get(doc, "grossAmount"), &gross);
    bool positive = decimal_sign(gross) > 0;
    bool too_much = decimal_cmp(decimal_abs(gross), limit) > 0;
    if (positive || too_much) {
      /* Nothing half-made is left behind: the draft goes again. */
      send(k, a, "DELETE", arena_printf(a, "/invoices/drafts/%lld", (long long)dn), value_null(),
           doc_name, &ans, NULL);
      return err_set(err, IEX_E_VALIDATION, positive
                     ? "the credit note's total %s %s is positive; credited lines need negative "
                       "quantities"
                     : "the credit note's total %s %s is more than the invoice's %s",
                     fmt_dec(a, gross), cur, fmt_dec(a, limit));
    }
  }
  if (!booked_mode) { *result = doc; return IEX_OK; }
  Value body = rec_make(a, "draftInvoice", rec_make(a, "draftInvoiceNumber", value_int(dn), NULL),
                        "sendBy", param_is(c, "send_by", "ean") ? rec_str(a, "ean") : value_null(),
                        NULL);
  rc = send(k, a, "POST", "/invoices/booked", body, doc_name, &ans, err);
  if (rc == IEX_OK) *result = ans.json;
  return rc;
}

static IexStatus invoice_create(const Connection *k, const OpCall *c, Value *result, Err *err) {
  return create_invoice(k, c, c->input, false, decimal_zero(), result, err);
}

/* Found only when finished: booked, or a draft in mode draft. */
static IexStatus invoice_create_find(const Connection *k, const OpCall *c, bool *found,
                                     Value *result, Err *err) {
  const char *ref = param_text(c, "reference");
  *found = false;
  if (!ref) return IEX_OK;
  Value booked, draft;
  IexStatus rc = find_by_reference(k, c->arena, ref, &booked, &draft, err);
  if (rc != IEX_OK) return rc;
  if (booked.kind != VAL_NULL) { *found = true; *result = booked; }
  else if (draft.kind != VAL_NULL && param_is(c, "mode", "draft")) { *found = true; *result = draft; }
  return IEX_OK;
}

static IexStatus invoice_find(const Connection *k, const OpCall *c, Value *result, Err *err) {
  const char *ref = param_text(c, "reference");
  if (!ref) return err_set(err, IEX_E_INVALID, "invoice.find needs a reference");
  Value booked, draft;
  IexStatus rc = find_by_reference(k, c->arena, ref, &booked, &draft, err);
  if (rc != IEX_OK) return rc;
  *result = booked.kind != VAL_NULL ? booked : draft;
  if (result->kind != VAL_NULL) return IEX_OK;
  if (param_is(c, "if_missing", "skip"))
    return err_set(err, IEX_SKIP, "e-conomic has no invoice with reference '%s'", ref);
  return err_set(err, IEX_E_NOT_FOUND, "e-conomic has no invoice with reference '%s'; was the "
                 "order transferred?", ref);
}

static IexStatus credit_note_create(const Connection *k, const OpCall *c, Value *result,
                                    Err *err) {
  Arena *a = c->arena;
  int64_t inv;
  if (!rec_int(rec_get(c->params, "invoice"), &inv) || inv < 1)
    return err_set(err, IEX_E_INVALID, "credit_note.create needs the booked invoice number");
  bool found;
  Value b;
  IexStatus rc = get_opt(k, a, arena_printf(a, "/invoices/booked/%lld", (long long)inv),
                         "the credited invoice", &found, &b, err);
  if (rc != IEX_OK) return rc;
  if (!found)
    return err_set(err, IEX_E_VALIDATION, "e-conomic has no booked invoice %lld to credit; "
                   "a draft cannot be credited", (long long)inv);
  Value m = c->input;
  Value d = rec_make(a, "date", rec_get(m, "date"), "currency", rec_get(b, "currency"),
                     "exchangeRate", rec_get(b, "exchangeRate"),
                     "customer", rec_make(a, "customerNumber", rec_get(b, "customer.customerNumber"), NULL),
                     "layout", rec_make(a, "layoutNumber", rec_get(b, "layout.layoutNumber"), NULL),
                     "paymentTerms", rec_make(a, "paymentTermsNumber",
                                              rec_get(b, "paymentTerms.paymentTermsNumber"), NULL),
                     NULL);
  Value rcp = rec_drop(a, rec_get(b, "recipient"), "self");
  rcp = rec_set(a, rcp, "vatZone", rec_make(a, "vatZoneNumber",
                                            rec_get(b, "recipient.vatZone.vatZoneNumber"), NULL));
  d = rec_set(a, d, "recipient", rcp);
  Value notes = rec_get(m, "notes");
  if (notes.kind == VAL_NULL)
    notes = rec_make(a, "heading", rec_strf(a, "Kreditnota til faktura %lld", (long long)inv), NULL);
  d = rec_set(a, d, "notes", notes);
  if (rec_get(m, "delivery").kind != VAL_NULL) d = rec_set(a, d, "delivery", rec_get(m, "delivery"));
  if (rec_get(m, "references").kind != VAL_NULL) d = rec_set(a, d, "references", rec_get(m, "references"));
  d = rec_set(a, d, "lines", rec_get(m, "lines"));
  Decimal gross = decimal_zero();
  rec_decimal(rec_get(b, "grossAmount"), &gross);
  return create_invoice(k, c, d, true, decimal_abs(gross), result, err);
}

/* ---- Payments -------------------------------------------------------------------------- */

/* The entry text with the reference at its end, cut to e-conomic's 250. */
static const char *entry_text(Arena *a, Value entry, const char *ref) {
  const char *t = rec_text(a, rec_get(entry, "text"));
  if (t && strlen(t) >= strlen(ref) && strcmp(t + strlen(t) - strlen(ref), ref) == 0) return t;
  size_t room = 250 - (strlen(ref) < 249 ? strlen(ref) + 1 : 249);
  if (!t || !*t) return ref;
  return arena_printf(a, "%.*s %s", (int)(strlen(t) < room ? strlen(t) : room), t, ref);
}

static IexStatus payment_find(const Connection *k, const OpCall *c, bool *found, Value *result,
                              Err *err) {
  Arena *a = c->arena;
  int64_t j;
  const char *ref = param_text(c, "reference");
  *found = false;
  if (!rec_int(rec_get(c->params, "journal"), &j) || !ref) return IEX_OK;
  Value all;
  const char *path = arena_printf(a, "/journals/%lld/vouchers", (long long)j);
  IexStatus rc = http_get_all(k, a, STYLE, path, "the journal's vouchers", &all, err);
  if (rc != IEX_OK) return rc;
  size_t rl = strlen(ref);
  for (uint32_t i = 0; i < all.len; i++) {
    Value es = rec_get(all.as.items[i], "entries.customerPayments");
    for (uint32_t e = 0; es.kind == VAL_LIST && e < es.len; e++) {
      const char *t = rec_text(a, rec_get(es.as.items[e], "text"));
      if (t && strlen(t) >= rl && strcmp(t + strlen(t) - rl, ref) == 0) {
        *found = true;
        *result = rec_set(a, es.as.items[e], "voucher",
                          rec_make(a, "voucherNumber", rec_get(all.as.items[i], "voucherNumber"), NULL));
      }
    }
  }
  return IEX_OK;
}

static IexStatus payment_create(const Connection *k, const OpCall *c, Value *result, Err *err) {
  Arena *a = c->arena;
  int64_t j;
  const char *ref = param_text(c, "reference");
  if (!rec_int(rec_get(c->params, "journal"), &j) || j < 1 || !ref)
    return err_set(err, IEX_E_INVALID, "payment.create needs journal and reference");
  Value m = rec_drop_nulls(a, c->input);
  IexStatus rc = check_customer_number(rec_get(m, "customer.customerNumber"),
                                       "customer.customerNumber", err);
  if (rc != IEX_OK) return rc;
  Decimal amount;
  if (!rec_decimal(rec_get(m, "amount"), &amount) || decimal_sign(amount) == 0)
    return err_set(err, IEX_E_VALIDATION, "the payment's amount is zero or missing");
  if (decimal_reduce(amount).scale > 2)
    return err_set(err, IEX_E_VALIDATION, "the payment's amount %s has more than 2 decimals",
                   rec_text(a, rec_get(m, "amount")));
  /* Running again after a lost answer must not post twice. */
  bool found;
  Value old;
  rc = payment_find(k, c, &found, &old, err);
  if (rc != IEX_OK) return rc;
  if (found) { *result = old; return IEX_OK; }

  Value year = rec_get(m, "accountingYear");
  if (year.kind == VAL_NULL) {
    const char *date = rec_text(a, rec_get(m, "date"));
    if (!date || strlen(date) < 4)
      return err_set(err, IEX_E_VALIDATION, "the payment has no date");
    year = rec_make(a, "year", value_string(arena_strndup(a, date, 4), 4), NULL);
  }
  bool yfound;
  Value y;
  const char *yname = rec_text(a, rec_get(year, "year"));
  rc = get_opt(k, a, arena_printf(a, "/accounting-years/%s", rec_urlencode(a, yname ? yname : "")),
               "the accounting year", &yfound, &y, err);
  if (rc != IEX_OK) return rc;
  if (!yfound)
    return err_set(err, IEX_E_VALIDATION, "e-conomic has no accounting year %s for the payment",
                   yname ? yname : "?");
  if (rec_true(rec_get(y, "closed")))
    return err_set(err, IEX_E_VALIDATION, "accounting year %s is closed in e-conomic, so the "
                   "payment cannot be entered", yname);
  Value entry = rec_drop(a, rec_drop(a, m, "accountingYear"), "voucher");
  entry = rec_set(a, entry, "text", rec_str(a, entry_text(a, m, ref)));
  Value body = rec_make(a, "accountingYear", year,
                        "journal", rec_make(a, "journalNumber", value_int(j), NULL),
                        "entries", rec_make(a, "customerPayments", rec_list(a, &entry, 1), NULL),
                        NULL);
  if (rec_get(m, "voucher").kind != VAL_NULL) body = rec_set(a, body, "voucherNumber",
                                                          rec_get(m, "voucher.voucherNumber"));
  HttpAnswer ans;
  rc = send(k, a, "POST", arena_printf(a, "/journals/%lld/vouchers", (long long)j), body,
            "the payment", &ans, err);
  if (rc != IEX_OK) return rc;
  Value v = ans.json.kind == VAL_LIST && ans.json.len ? ans.json.as.items[0] : ans.json;
  Value e = rec_get(v, "entries.customerPayments");
  *result = e.kind == VAL_LIST && e.len ? e.as.items[0] : entry;
  *result = rec_set(a, *result, "voucher",
                    rec_make(a, "voucherNumber", rec_get(v, "voucherNumber"), NULL));
  return IEX_OK;
}

static const ConnectorOp ops[] = {
  {"customer.match_or_create", OP_WRITES, customer_match_or_create, customer_match_find,
   OP_UPDATE_REPLACES},
  {"customer.create", OP_WRITES, customer_create, customer_create_find, OP_UPDATE_KEEPS},
  {"customer.get", OP_READS, customer_get, NULL, OP_UPDATE_KEEPS},
  {"product.create", OP_WRITES, product_create, product_create_find, OP_UPDATE_KEEPS},
  {"product.get", OP_READS, product_get, NULL, OP_UPDATE_KEEPS},
  {"invoice.create", OP_WRITES, invoice_create, invoice_create_find, OP_UPDATE_REPLACES},
  {"invoice.find", OP_READS, invoice_find, NULL, OP_UPDATE_KEEPS},
  {"credit_note.create", OP_WRITES, credit_note_create, invoice_create_find, OP_UPDATE_KEEPS},
  {"payment.create", OP_WRITES, payment_create, payment_find, OP_UPDATE_KEEPS},
};

const Connector connector_economic = {
  .system = "economic",
  .title = "Visma e-conomic REST API",
  .ops = ops,
  .n_ops = sizeof ops / sizeof ops[0],
  .list = NULL,
  .verify_webhook = NULL,
};
