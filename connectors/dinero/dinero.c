/*
** Dinero API v1: contacts, invoices, credit notes, payments and invoice
** e-mails (connectors/dinero/README.md).
**
** The connection's base_url is the organisation's API root,
** "https://api.dinero.dk/v1/ORGANIZATION_ID"; its secrets are `client_id`,
** `client_secret` and `api_key` (connectors/http.c signs in with the
** password grant and keeps the token fresh).
**
** Dinero answers in PascalCase what it is sent in camelCase; every answer
** is handed to flows in the schema's camelCase (TimeStamp -> timestamp).
** Writes after a create carry the record's current `timestamp`; a stale
** one (409) is read again and the write tried once more.
**
** Exactly-once: a write's `find` looks the record up by externalReference
** (invoices, credit notes, payments) or by the contact's match field.
** invoice.create and credit_note.create look before they send too, so a
** second run never makes a second document; their `find` reports found
** only for a finished one (booked, or a draft in mode draft). Dinero keeps
** no record of sent e-mails, so invoice.send_email cannot be looked up: an
** e-mail whose answer was lost is sent again.
*/
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "connectors/connector.h"
#include "connectors/http.h"
#include "connectors/rec.h"

#define STYLE HTTP_STYLE_DINERO

static const char CONTACT_FIELDS[] =
    "ContactGuid,Name,Street,ZipCode,City,CountryKey,Phone,Email,Webpage,AttPerson,VatNumber,"
    "EanNumber,ExternalReference,PaymentConditionType,PaymentConditionNumberOfDays,IsPerson,"
    "IsDebitor,IsCreditor,CreatedAt,UpdatedAt,DeletedAt";

static IexStatus send(const Connection *k, Arena *a, const char *method, const char *path,
                      Value body, const char *what, HttpAnswer *ans, Err *err) {
  HttpRequest req = {.style = STYLE, .method = method, .url = path,
                     .body = body.kind == VAL_NULL ? body : rec_drop_nulls(a, body),
                     .what = what, .is_write = strcmp(method, "GET") != 0};
  return http_call(k, a, &req, ans, err);
}

/* An answer in the schema's spelling. */
static Value camel(Arena *a, Value v) {
  v = rec_camel(a, v);
  Value ts = rec_get(v, "timeStamp");
  if (ts.kind != VAL_NULL) v = rec_set(a, rec_drop(a, v, "timeStamp"), "timestamp", ts);
  return v;
}

static const char *param_text(const OpCall *c, const char *name) {
  return rec_text(c->arena, rec_get(c->params, name));
}
static bool param_is(const OpCall *c, const char *name, const char *value) {
  const char *t = param_text(c, name);
  return t && strcmp(t, value) == 0;
}

/* A queryFilter term `Field eq 'value'`, quotes doubled, URL-encoded. */
static const char *eq_filter(Arena *a, const char *field, const char *value) {
  Buf b;
  buf_init(&b, 4096);
  buf_printf(&b, "%s eq '", field);
  for (const char *p = value; *p; p++) {
    if (*p == '\'') buf_putc(&b, '\'');
    buf_putc(&b, *p);
  }
  buf_putc(&b, '\'');
  const char *out = rec_urlencode(a, buf_cstr(&b));
  buf_fini(&b);
  return out;
}

static IexStatus get_doc(const Connection *k, Arena *a, const char *path, const char *what,
                         Value *out, Err *err) {
  HttpAnswer ans;
  IexStatus rc = send(k, a, "GET", path, value_null(), what, &ans, err);
  if (rc == IEX_OK) *out = ans.json;
  return rc;
}

/* ---- Contacts ------------------------------------------------------------------ */

/* A contact match other than shared: {by, the mapping's field, Dinero's
** field to filter on}, or NULL for an unknown `by`. */
static const char *const *match_field(const char *by) {
  static const char *const fields[][3] = {{"email", "email", "Email"},
                                          {"phone", "phone", "Phone"},
                                          {"vat_number", "vatNumber", "VatNumber"},
                                          {"external_reference", "externalReference",
                                           "ExternalReference"}};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    if (strcmp(fields[i][0], by) == 0) return fields[i];
  return NULL;
}

static IexStatus match_contact(const Connection *k, const OpCall *c, Value m, bool *found,
                               Value *out, Err *err) {
  Arena *a = c->arena;
  const char *by = param_text(c, "by");
  *found = false;
  if (!by) return err_set(err, IEX_E_INVALID, "contact.match_or_create needs `by`");
  if (strcmp(by, "shared") == 0) {
    const char *g = param_text(c, "shared_contact");
    if (!g) return err_set(err, IEX_E_VALIDATION, "match by shared contact needs shared_contact");
    HttpAnswer ans;
    Err e2;
    IexStatus rc = send(k, a, "GET", arena_printf(a, "/contacts/%s", rec_urlencode(a, g)),
                        value_null(), "the shared contact", &ans, &e2);
    if (rc == IEX_OK) { *found = true; *out = camel(a, ans.json); return IEX_OK; }
    if (ans.status == 404) return IEX_OK;
    if (err) *err = e2;
    return rc;
  }
  const char *const *f = match_field(by);
  if (!f) return err_set(err, IEX_E_INVALID, "unknown contact match '%s'", by);
  const char *v = rec_text(a, rec_get(m, f[1]));
  if (!v || !*v)
    return err_set(err, IEX_E_VALIDATION, "match by %s needs the mapping's %s", by, f[1]);
  Value all;
  const char *path = arena_printf(a, "/contacts?fields=%s&queryFilter=%s", CONTACT_FIELDS,
                                  eq_filter(a, f[2], v));
  IexStatus rc = http_get_all(k, a, STYLE, path, "the contact search", &all, err);
  if (rc != IEX_OK) return rc;
  /* Oldest first in Dinero's order; deleted contacts are never matched. */
  for (uint32_t j = 0; j < all.len; j++) {
    if (rec_geti(all.as.items[j], "DeletedAt").kind != VAL_NULL) continue;
    *found = true;
    *out = camel(a, all.as.items[j]);
    break;
  }
  return IEX_OK;
}

static IexStatus create_contact(const Connection *k, Arena *a, Value m, Value *out, Err *err) {
  HttpAnswer ans;
  IexStatus rc = send(k, a, "POST", "/contacts", m, "the contact", &ans, err);
  if (rc != IEX_OK) return rc;
  const char *g = rec_text(a, rec_geti(ans.json, "ContactGuid"));
  if (!g) return err_set(err, IEX_E_HTTP_4XX, "Dinero created the contact but sent no ContactGuid");
  Value doc;
  rc = get_doc(k, a, arena_printf(a, "/contacts/%s", g), "the new contact", &doc, err);
  if (rc == IEX_OK) *out = camel(a, doc);
  return rc;
}

static IexStatus contact_match_or_create(const Connection *k, const OpCall *c, Value *result,
                                         Err *err) {
  Arena *a = c->arena;
  bool found;
  Value ct;
  IexStatus rc = match_contact(k, c, c->input, &found, &ct, err);
  if (rc != IEX_OK) return rc;
  const char *by = param_text(c, "by");
  if (!found) {
    Value allow = rec_get(c->params, "allow_create");
    if (strcmp(by, "shared") == 0)
      return err_set(err, IEX_E_VALIDATION, "Dinero has no contact %s; create the shared "
                     "contact in Dinero", param_text(c, "shared_contact"));
    if (allow.kind == VAL_BOOL && !allow.as.b) {
      const char *v = rec_text(a, rec_get(c->input, match_field(by)[1]));
      return err_set(err, IEX_E_VALIDATION, "Dinero has no contact found by %s %s and "
                     "allow_create is false; create the contact in Dinero or set allow_create",
                     by, v ? v : "?");
    }
    return create_contact(k, a, c->input, result, err);
  }
  Value upd = rec_get(c->params, "update_existing");
  if (rec_true(upd) && strcmp(by, "shared") != 0) {
    Value doc = ct;
    static const char *const readonly[] = {"contactGuid", "isDebitor", "isCreditor", "createdAt",
                                           "updatedAt", "deletedAt"};
    for (size_t i = 0; i < sizeof readonly / sizeof readonly[0]; i++) doc = rec_drop(a, doc, readonly[i]);
    Value m = c->input;
    for (uint32_t i = 0; m.kind == VAL_RECORD && i < m.len; i++) {
      const Field *f = value_field_at(m, i);
      if (f->value.kind != VAL_NULL)
        doc = rec_set(a, doc, arena_strndup(a, f->key.ptr, f->key.len), f->value);
    }
    const char *g = rec_text(a, rec_get(ct, "contactGuid"));
    HttpAnswer ans;
    rc = send(k, a, "PUT", arena_printf(a, "/contacts/%s", g), doc, "the contact", &ans, err);
    if (rc != IEX_OK) return rc;
    rc = get_doc(k, a, arena_printf(a, "/contacts/%s", g), "the contact", &doc, err);
    if (rc != IEX_OK) return rc;
    ct = camel(a, doc);
  }
  *result = ct;
  return IEX_OK;
}

static IexStatus contact_match_find(const Connection *k, const OpCall *c, bool *found,
                                    Value *result, Err *err) {
  return match_contact(k, c, c->input, found, result, err);
}

static IexStatus contact_create(const Connection *k, const OpCall *c, Value *result, Err *err) {
  return create_contact(k, c->arena, c->input, result, err);
}

/* A created contact is found by its external reference, else its e-mail. */
static IexStatus contact_create_find(const Connection *k, const OpCall *c, bool *found,
                                     Value *result, Err *err) {
  Arena *a = c->arena;
  *found = false;
  const char *field = "ExternalReference";
  const char *v = rec_text(a, rec_get(c->input, "externalReference"));
  if (!v || !*v) { field = "Email"; v = rec_text(a, rec_get(c->input, "email")); }
  if (!v || !*v) return IEX_OK;
  Value all;
  const char *path = arena_printf(a, "/contacts?fields=%s&queryFilter=%s", CONTACT_FIELDS,
                                  eq_filter(a, field, v));
  IexStatus rc = http_get_all(k, a, STYLE, path, "the contact search", &all, err);
  if (rc == IEX_OK && all.len) { *found = true; *result = camel(a, all.as.items[all.len - 1]); }
  return rc;
}

/* ---- Invoices and credit notes --------------------------------------------------- */

/* The document (invoice, or credit note when `credit`) whose
** ExternalReference is `ref`, in full, or null. A booked one wins. */
static IexStatus find_doc(const Connection *k, Arena *a, bool credit, const char *ref,
                          Value *out, Err *err) {
  *out = value_null();
  const char *coll = credit ? "/sales/creditnotes" : "/invoices";
  Value all;
  const char *path = arena_printf(a, "%s?fields=Guid,Status,ExternalReference&queryFilter=%s",
                                  coll, eq_filter(a, "ExternalReference", ref));
  IexStatus rc = http_get_all(k, a, STYLE, path,
                              credit ? "the credit note search" : "the invoice search", &all, err);
  if (rc != IEX_OK || all.len == 0) return rc;
  Value pick = all.as.items[0];
  for (uint32_t i = 0; i < all.len; i++) {
    const char *st = rec_text(a, rec_geti(all.as.items[i], "Status"));
    if (st && strcmp(st, "Draft") != 0) pick = all.as.items[i];
  }
  const char *g = rec_text(a, rec_geti(pick, "Guid"));
  return get_doc(k, a, arena_printf(a, "%s/%s", coll, g), credit ? "the credit note" : "the invoice",
                 out, err);
}

static bool is_draft(Arena *a, Value doc) {
  const char *st = rec_text(a, rec_geti(doc, "Status"));
  return !st || strcmp(st, "Draft") == 0;
}

static const char *fmt_dec(Arena *a, Decimal d) {
  char buf[DECIMAL_TEXT_SIZE];
  decimal_format_fixed(d, 2, ROUND_HALF_UP, buf);
  return arena_strndup(a, buf, strlen(buf));
}

/* POST `path` {timestamp} with the document's current timestamp; a stale
** timestamp (409: changed since it was read) is read again once. `doc` is
** what the caller last read or wrote of the document (a GET, or a write's
** {Guid, TimeStamp} answer); without a TimeStamp it is read first. */
static IexStatus post_stamped(const Connection *k, Arena *a, const char *doc_path, Value doc,
                              const char *action, Value extra, const char *what, HttpAnswer *ans,
                              Err *err) {
  IexStatus rc = IEX_OK;
  for (int attempt = 0; attempt < 2; attempt++) {
    if ((attempt > 0 || rec_geti(doc, "TimeStamp").kind == VAL_NULL) &&
        (rc = get_doc(k, a, doc_path, what, &doc, err)) != IEX_OK)
      return rc;
    Value body = rec_set(a, extra, "timestamp", rec_geti(doc, "TimeStamp"));
    rc = send(k, a, "POST", arena_printf(a, "%s/%s", doc_path, action), body, what, ans, err);
    if (rc == IEX_OK || ans->status != 409) return rc;
  }
  return rc;
}

/* invoice.create and credit_note.create: preview, correct, create, book.
** `credit_for` is the credited invoice's guid, or NULL for an invoice. */
static IexStatus create_doc(const Connection *k, const OpCall *c, Value body,
                            const char *credit_for, Value *result, Err *err) {
  Arena *a = c->arena;
  bool credit = credit_for != NULL;
  const char *what = credit ? "the credit note" : "the invoice";
  const char *coll = credit ? "/sales/creditnotes" : "/invoices";
  const char *ref = param_text(c, "reference");
  if (!ref || !*ref) return err_set(err, IEX_E_INVALID, "%.*s needs a reference", STR_FMT(c->operation));
  body = rec_set(a, rec_drop_nulls(a, body), "externalReference", rec_str(a, ref));
  Value lines = rec_get(body, "productLines");
  if (lines.kind != VAL_LIST || lines.len == 0)
    return err_set(err, IEX_E_VALIDATION, "%s has no product lines; check what the flow maps "
                   "to productLines", what);
  for (uint32_t i = 0; i < lines.len; i++) {
    Decimal q;
    Value l = lines.as.items[i];
    const char *lt = rec_text(a, rec_get(l, "lineType"));
    if (lt && strcmp(lt, "Text") == 0) continue;
    if (!rec_decimal(rec_get(l, "quantity"), &q) || decimal_sign(q) == 0)
      return err_set(err, IEX_E_VALIDATION, "line %u of %s has no quantity, or 0; Dinero needs a "
                     "quantity on every line that is not text", i + 1, what);
    if (credit && decimal_sign(q) < 0)
      return err_set(err, IEX_E_VALIDATION, "line %u of the credit note has a negative quantity; "
                     "Dinero credit notes have positive lines", i + 1);
  }

  Value old;
  IexStatus rc = find_doc(k, a, credit, ref, &old, err);
  if (rc != IEX_OK) return rc;
  if (old.kind != VAL_NULL && !is_draft(a, old)) {
    /* Booked: Dinero changes it no more. A correction is a credit note. */
    const char *num = rec_text(a, rec_geti(old, "Number"));
    if (!num) num = rec_text(a, rec_geti(old, "Guid"));
    connector_note(c, "%s %s with reference %s is booked and left alone: Dinero cannot "
                   "change a booked %s", credit ? "credit note" : "invoice",
                   num ? num : "(no number)", ref,
                   credit ? "credit note" : "invoice; a correction is a credit note");
    *result = camel(a, old);
    return IEX_OK;
  }

  /* Totals, previewed without saving. A credit note is previewed as an
  ** invoice to the same contact: the arithmetic is the same. */
  Value preview_body = rec_drop(a, body, "creditNoteFor");
  bool totals_ok = true;
  const char *why = NULL;
  Decimal want, threshold = decimal_zero();
  rec_decimal(rec_get(c->params, "cent_threshold"), &threshold);
  threshold = decimal_abs(threshold);
  bool has_gross = rec_decimal(rec_get(c->params, "expected_gross"), &want);
  Decimal want_vat;
  bool has_vat = rec_decimal(rec_get(c->params, "expected_vat"), &want_vat);
  if (has_gross || has_vat) {
    for (int round = 0; round < 2; round++) {
      HttpAnswer ans;
      rc = send(k, a, "POST", "/invoices/fetch", preview_body, what, &ans, err);
      if (rc != IEX_OK) return rc;
      Decimal got = decimal_zero(), got_vat = decimal_zero(), d = decimal_zero();
      rec_decimal(rec_geti(ans.json, "TotalInclVat"), &got);
      rec_decimal(rec_geti(ans.json, "TotalVat"), &got_vat);
      const char *cur = rec_text(a, rec_geti(ans.json, "Currency"));
      if (!cur) cur = "DKK";
      if (has_gross) decimal_sub(want, got, &d);
      if (decimal_sign(d) != 0 && round == 0 && decimal_cmp(decimal_abs(d), threshold) <= 0) {
        int64_t acc;
        if (!rec_int(rec_get(c->params, "correction_account"), &acc))
          return err_set(err, IEX_E_VALIDATION, "Error in totals validation: a correction of %s %s "
                         "is needed but correction_account is not set", fmt_dec(a, d), cur);
        const char *text = param_text(c, "correction_text");
        Value line = rec_make(a, "description", rec_str(a, text ? text : "Øreafrunding"),
                              "quantity", value_int(1), "accountNumber", value_int(acc),
                              "baseAmountValue", value_decimal(d), NULL);
        body = rec_set(a, body, "productLines", rec_append(a, rec_get(body, "productLines"), line));
        preview_body = rec_drop(a, body, "creditNoteFor");
        continue;
      }
      Decimal dv = decimal_zero();
      if (has_vat) decimal_sub(want_vat, got_vat, &dv);
      if (decimal_sign(d) != 0) {
        totals_ok = false;
        why = arena_printf(a, "Dinero's total %s %s differs from the shop's %s by %s (threshold %s)",
                           fmt_dec(a, got), cur, fmt_dec(a, want), fmt_dec(a, decimal_neg(d)),
                           fmt_dec(a, threshold));
      } else if (decimal_cmp(decimal_abs(dv), threshold) > 0) {
        totals_ok = false;
        why = arena_printf(a, "Dinero's VAT %s %s differs from the shop's %s by %s (threshold %s)",
                           fmt_dec(a, got_vat), cur, fmt_dec(a, want_vat),
                           fmt_dec(a, decimal_neg(dv)), fmt_dec(a, threshold));
      }
      break;
    }
  }

  /* Create, or replace the draft an earlier attempt left. */
  HttpAnswer ans;
  const char *guid;
  Value stamped; /* the document's current TimeStamp, for booking */
  if (old.kind != VAL_NULL && !credit) {
    guid = rec_text(a, rec_geti(old, "Guid"));
    rc = IEX_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
      Value cur_doc = old;
      if (attempt > 0 && (rc = get_doc(k, a, arena_printf(a, "/invoices/%s", guid), what, &cur_doc, err)) != IEX_OK)
        return rc;
      Value b = rec_set(a, body, "timestamp", rec_geti(cur_doc, "TimeStamp"));
      rc = send(k, a, "PUT", arena_printf(a, "/invoices/%s", guid), b, what, &ans, err);
      if (rc == IEX_OK || ans.status != 409) break;
    }
    if (rc != IEX_OK) return rc;
    stamped = ans.json;
  } else if (old.kind != VAL_NULL) {
    guid = rec_text(a, rec_geti(old, "Guid"));
    stamped = old;
  } else {
    rc = send(k, a, "POST", coll, body, what, &ans, err);
    if (rc != IEX_OK) return rc;
    guid = rec_text(a, rec_geti(ans.json, "Guid"));
    stamped = ans.json;
  }
  if (!guid) return err_set(err, IEX_E_HTTP_4XX, "Dinero created %s but sent no Guid", what);
  const char *doc_path = arena_printf(a, "%s/%s", coll, guid);
  if (!totals_ok)
    return err_set(err, IEX_E_VALIDATION, "Error in totals validation: %s; %s %s was kept as a "
                   "draft", why, credit ? "credit note" : "invoice", guid);
  if (param_is(c, "mode", "booked")) {
    rc = post_stamped(k, a, doc_path, stamped, "book", rec_make(a, NULL), what, &ans, err);
    if (rc != IEX_OK) return rc;
  }
  Value doc;
  rc = get_doc(k, a, doc_path, what, &doc, err);
  if (rc == IEX_OK) *result = camel(a, doc);
  return rc;
}

static IexStatus invoice_create(const Connection *k, const OpCall *c, Value *result, Err *err) {
  return create_doc(k, c, c->input, NULL, result, err);
}

static IexStatus doc_find(const Connection *k, const OpCall *c, bool credit, bool *found,
                          Value *result, Err *err) {
  const char *ref = param_text(c, "reference");
  *found = false;
  if (!ref) return IEX_OK;
  Value doc;
  IexStatus rc = find_doc(k, c->arena, credit, ref, &doc, err);
  if (rc != IEX_OK || doc.kind == VAL_NULL) return rc;
  if (!is_draft(c->arena, doc) || param_is(c, "mode", "draft")) {
    *found = true;
    *result = camel(c->arena, doc);
  }
  return IEX_OK;
}

static IexStatus invoice_create_find(const Connection *k, const OpCall *c, bool *found,
                                     Value *result, Err *err) {
  return doc_find(k, c, false, found, result, err);
}

static IexStatus credit_find(const Connection *k, const OpCall *c, bool *found, Value *result,
                             Err *err) {
  return doc_find(k, c, true, found, result, err);
}

static IexStatus invoice_find(const Connection *k, const OpCall *c, Value *result, Err *err) {
  const char *ref = param_text(c, "reference");
  if (!ref) return err_set(err, IEX_E_INVALID, "invoice.find needs a reference");
  Value doc;
  IexStatus rc = find_doc(k, c->arena, false, ref, &doc, err);
  if (rc != IEX_OK) return rc;
  if (doc.kind != VAL_NULL) { *result = camel(c->arena, doc); return IEX_OK; }
  if (param_is(c, "if_missing", "skip"))
    return err_set(err, IEX_SKIP, "Dinero has no invoice with reference '%s'", ref);
  return err_set(err, IEX_E_NOT_FOUND, "Dinero has no invoice with reference '%s'; was the order "
                 "transferred?", ref);
}

/* The invoice `guid` (a parameter), or a clear failure. */
static IexStatus read_invoice(const Connection *k, const OpCall *c, const char *param,
                              const char **guid, Value *doc, Err *err) {
  Arena *a = c->arena;
  *guid = param_text(c, param);
  if (!*guid || !**guid) return err_set(err, IEX_E_INVALID, "%.*s needs `%s` (an invoice guid)",
                                        STR_FMT(c->operation), param);
  HttpAnswer ans;
  IexStatus rc = send(k, a, "GET", arena_printf(a, "/invoices/%s", rec_urlencode(a, *guid)),
                      value_null(), "the invoice", &ans, err);
  if (rc != IEX_OK) {
    if (ans.status == 404) return err_set(err, IEX_E_VALIDATION, "Dinero has no invoice %s", *guid);
    return rc;
  }
  *doc = ans.json;
  return IEX_OK;
}

/* The booked invoice `guid` (a parameter), or a clear failure. */
static IexStatus booked_invoice(const Connection *k, const OpCall *c, const char *param,
                                const char **guid, Value *doc, Err *err) {
  IexStatus rc = read_invoice(k, c, param, guid, doc, err);
  if (rc == IEX_OK && is_draft(c->arena, *doc))
    return err_set(err, IEX_E_VALIDATION, "Dinero invoice %s is still a draft; book it first",
                   *guid);
  return rc;
}

static IexStatus credit_note_create(const Connection *k, const OpCall *c, Value *result,
                                    Err *err) {
  Arena *a = c->arena;
  const char *guid;
  Value inv;
  IexStatus rc = booked_invoice(k, c, "invoice", &guid, &inv, err);
  if (rc != IEX_OK) return rc;
  Value b = rec_set(a, c->input, "creditNoteFor", rec_str(a, guid));
  b = rec_set(a, b, "contactGuid", rec_geti(inv, "ContactGuid"));
  b = rec_set(a, b, "currency", rec_geti(inv, "Currency"));
  if (rec_get(b, "description").kind == VAL_NULL) {
    const char *num = rec_text(a, rec_geti(inv, "Number"));
    b = rec_set(a, b, "description", rec_strf(a, "Kreditnota til faktura %s", num ? num : guid));
  }
  return create_doc(k, c, b, guid, result, err);
}

/* ---- Payments and e-mail ----------------------------------------------------------- */

static IexStatus payment_lookup(const Connection *k, Arena *a, const char *guid, const char *ref,
                                bool *found, Value *out, Err *err) {
  *found = false;
  Value doc;
  IexStatus rc = get_doc(k, a, arena_printf(a, "/invoices/%s/payments", rec_urlencode(a, guid)),
                         "the invoice's payments", &doc, err);
  if (rc != IEX_OK) return rc;
  Value ps = rec_geti(doc, "Payments");
  for (uint32_t i = 0; ps.kind == VAL_LIST && i < ps.len; i++) {
    const char *r = rec_text(a, rec_geti(ps.as.items[i], "ExternalReference"));
    if (r && strcmp(r, ref) == 0) { *found = true; *out = camel(a, ps.as.items[i]); }
  }
  return IEX_OK;
}

static IexStatus payment_find(const Connection *k, const OpCall *c, bool *found, Value *result,
                              Err *err) {
  const char *guid = param_text(c, "invoice"), *ref = param_text(c, "reference");
  *found = false;
  if (!guid || !ref) return IEX_OK;
  return payment_lookup(k, c->arena, guid, ref, found, result, err);
}

static IexStatus payment_create(const Connection *k, const OpCall *c, Value *result, Err *err) {
  Arena *a = c->arena;
  const char *ref = param_text(c, "reference");
  if (!ref || !*ref) return err_set(err, IEX_E_INVALID, "payment.create needs a reference");
  const char *guid;
  Value inv;
  IexStatus rc = booked_invoice(k, c, "invoice", &guid, &inv, err);
  if (rc != IEX_OK) return rc;
  bool found;
  rc = payment_lookup(k, a, guid, ref, &found, result, err);
  if (rc != IEX_OK || found) return rc;
  Value body = rec_set(a, rec_drop(a, rec_drop_nulls(a, c->input), "guid"), "externalReference",
                       rec_str(a, ref));
  HttpAnswer ans;
  rc = post_stamped(k, a, arena_printf(a, "/invoices/%s", guid), inv, "payments", body,
                    "the payment", &ans, err);
  if (rc != IEX_OK) return rc;
  rc = payment_lookup(k, a, guid, ref, &found, result, err);
  if (rc == IEX_OK && !found)
    return err_set(err, IEX_E_HTTP_4XX, "Dinero accepted the payment with reference %s but does "
                   "not list it among invoice %s's payments; check the invoice's payments in "
                   "Dinero before running it again, or it may be paid twice", ref, guid);
  return rc;
}

static IexStatus send_email(const Connection *k, const OpCall *c, Value *result, Err *err) {
  Arena *a = c->arena;
  const char *guid;
  Value inv;
  IexStatus rc = read_invoice(k, c, "invoice", &guid, &inv, err);
  if (rc != IEX_OK) return rc;
  if (is_draft(a, inv))
    return err_set(err, IEX_E_VALIDATION, "Dinero cannot e-mail invoice %s: it is a draft; send "
                   "e-mails only with mode booked", guid);
  HttpAnswer ans;
  const char *path = arena_printf(a, "/invoices/%s", guid);
  rc = post_stamped(k, a, path, inv, "email", rec_drop_nulls(a, c->input), "the invoice e-mail",
                    &ans, err);
  if (rc != IEX_OK) return rc;
  Value doc;
  rc = get_doc(k, a, path, "the invoice", &doc, err);
  if (rc == IEX_OK) *result = camel(a, doc);
  return rc;
}

/* Dinero keeps no list of sent e-mails: nothing to find. */
static IexStatus send_email_find(const Connection *k, const OpCall *c, bool *found,
                                 Value *result, Err *err) {
  *found = false;
  return IEX_OK;
}

static const ConnectorOp ops[] = {
  {"contact.match_or_create", OP_WRITES, contact_match_or_create, contact_match_find,
   OP_UPDATE_REPLACES},
  {"contact.create", OP_WRITES, contact_create, contact_create_find, OP_UPDATE_KEEPS},
  {"invoice.create", OP_WRITES, invoice_create, invoice_create_find, OP_UPDATE_REPLACES},
  {"invoice.find", OP_READS, invoice_find, NULL, OP_UPDATE_KEEPS},
  {"invoice.send_email", OP_WRITES, send_email, send_email_find, OP_UPDATE_KEEPS},
  {"payment.create", OP_WRITES, payment_create, payment_find, OP_UPDATE_KEEPS},
  {"credit_note.create", OP_WRITES, credit_note_create, credit_find, OP_UPDATE_KEEPS},
};

const Connector connector_dinero = {
  .system = "dinero",
  .title = "Dinero API v1 (Visma Dinero)",
  .ops = ops,
  .n_ops = sizeof ops / sizeof ops[0],
  .list = NULL,
  .verify_webhook = NULL,
};
