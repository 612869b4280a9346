/*
** iex import (runtime/import.h).
*/
#include "runtime/import.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/datetime.h"
#include "common/strmap.h"
#include "connectors/http.h"
#include "connectors/rec.h"
#include "runtime/clock.h"
#include "runtime/json_value.h"
#include "runtime/poller.h"
#include "runtime/serve.h"
#include "runtime/settings.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void import_progress(FILE *f, bool is_tty, const char *what, int64_t done,
                     int64_t total, double elapsed_s) {
  double rate = elapsed_s > 0 ? (double)done / elapsed_s : 0;
  char left[32] = "?";
  if (total > 0 && rate > 0) {
    long s = (long)((double)(total - done) / rate + 0.5);
    snprintf(left, sizeof left, "%ld:%02ld", s / 60, s % 60);
  }
  if (is_tty) {
    char bar[31];
    int fill = total > 0 ? (int)(30 * done / total) : 0;
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '-';
    bar[30] = '\0';
    if (total > 0)
      fprintf(f, "\r%s [%s] %lld/%lld  %.1f/s  %s left ", what, bar,
              (long long)done, (long long)total, rate, left);
    else
      fprintf(f, "\r%s %lld  %.1f/s ", what, (long long)done, rate);
  } else {
    if (total > 0)
      fprintf(f, "%s: %lld/%lld (%.1f/s, %s left)\n", what, (long long)done,
              (long long)total, rate, left);
    else
      fprintf(f, "%s: %lld (%.1f/s)\n", what, (long long)done, rate);
  }
  fflush(f);
}

/* ---- Reading an order, Shopify or WooCommerce ------------------------------ */

/* The first of `paths` that is a non-empty string, or NULL. */
static const char *first_text(Arena *a, Value order, const char *const *paths) {
  for (; *paths; paths++) {
    const char *t = rec_text(a, rec_get(order, *paths));
    if (t && *t) return t;
  }
  return NULL;
}

static int64_t order_number(Value order) {
  static const char *const paths[] = {"order_number", "number", "name", NULL};
  for (const char *const *p = paths; *p; p++) {
    Value v = rec_get(order, *p);
    int64_t n;
    if (rec_int(v, &n)) return n;
    if (v.kind == VAL_STRING) {
      Str s = value_as_str(v);
      size_t i = 0;
      while (i < s.len && (s.ptr[i] < '0' || s.ptr[i] > '9')) i++;
      n = 0;
      bool any = false;
      for (; i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9' && n < INT64_MAX / 10; i++) {
        n = n * 10 + (s.ptr[i] - '0');
        any = true;
      }
      if (any) return n;
    }
  }
  return 0;
}

static const char *const EU[] = {"AT", "BE", "BG", "HR", "CY", "CZ", "DE", "EE", "ES",
                                  "FI", "FR", "GR", "HU", "IE", "IT", "LT", "LU", "LV",
                                  "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", NULL};

/* e-conomic's VAT zone for a customer in `country`. */
static const char *vat_zone_for(const char *country) {
  if (strcmp(country, "DK") == 0) return "Domestic";
  for (const char *const *c = EU; *c; c++)
    if (strcmp(*c, country) == 0) return "EU";
  return "Abroad";
}

/* ---- What the target knows ------------------------------------------------- */

typedef struct Target {
  const Connection *conn; /* NULL: no target checks */
  bool economic;
  Value years;            /* e-conomic accounting years, or null */
  Value zones;            /* e-conomic VAT zones, or null */
  StrMap checked;         /* SKU -> &product_present or &product_missing */
  Arena *arena;           /* the import's: the keys of `checked` outlive a page */
} Target;

/* Markers of Target.checked: each SKU is asked for once per import. */
static const char product_present, product_missing;

static void checked_fini(void *map) { strmap_fini(map); }

static IexStatus target_get(const Target *t, Arena *a, const char *path, Value *out,
                            long *status, Err *err) {
  HttpRequest req = {.style = HTTP_STYLE_ECONOMIC, .method = "GET", .url = path,
                     .body = value_null(), .what = path};
  HttpAnswer ans;
  IexStatus rc = http_call(t->conn, a, &req, &ans, err);
  *status = ans.status;
  *out = rc == IEX_OK ? ans.json : value_null();
  return rc;
}

static IexStatus target_load(Target *t, Arena *a, Err *err) {
  if (!t->conn || !t->economic) return IEX_OK;
  long st;
  Value v;
  IexStatus rc = target_get(t, a, "/accounting-years?pagesize=1000", &v, &st, err);
  if (rc != IEX_OK) return rc;
  t->years = rec_get(v, "collection");
  rc = target_get(t, a, "/vat-zones?pagesize=1000", &v, &st, err);
  if (rc != IEX_OK) return rc;
  t->zones = rec_get(v, "collection");
  return IEX_OK;
}

static IexStatus target_has_product(Target *t, Arena *a, const char *sku, bool *has,
                                    Err *err) {
  const void *known = strmap_get(&t->checked, str_from_cstr(sku));
  if (known) {
    *has = known == &product_present;
    return IEX_OK;
  }
  long st = 0;
  Value v;
  Err e;
  err_init(&e);
  IexStatus rc = target_get(t, a, arena_printf(a, "/products/%s", rec_urlencode(a, sku)),
                            &v, &st, &e);
  if (rc != IEX_OK && st != 404) {
    if (err) *err = e;
    return rc;
  }
  *has = rc == IEX_OK;
  strmap_put(&t->checked, arena_str(t->arena, str_from_cstr(sku)),
             (void *)(*has ? &product_present : &product_missing));
  return IEX_OK;
}

/* Is `date` (YYYY-MM-DD) in an open accounting year? */
static bool year_open(const Target *t, const char *date) {
  for (uint32_t i = 0; t->years.kind == VAL_LIST && i < t->years.len; i++) {
    Value y = t->years.as.items[i];
    Value from = rec_get(y, "fromDate"), to = rec_get(y, "toDate");
    if (from.kind != VAL_STRING || to.kind != VAL_STRING) continue;
    Str f = value_as_str(from), e = value_as_str(to);
    if (f.len < 10 || e.len < 10) continue;
    if (memcmp(date, f.ptr, 10) >= 0 && memcmp(date, e.ptr, 10) <= 0)
      return !rec_true(rec_get(y, "closed"));
  }
  return false;
}

static bool zone_exists(const Target *t, const char *name) {
  for (uint32_t i = 0; t->zones.kind == VAL_LIST && i < t->zones.len; i++) {
    Value n = rec_get(t->zones.as.items[i], "name");
    if (n.kind == VAL_STRING && str_eq_cstr(value_as_str(n), name)) return true;
  }
  return false;
}

/* The blockers of `order`, with their detail appended to `why`. */
static IexStatus blockers(Target *t, Arena *a, Value order, unsigned *out, Buf *why,
                          Err *err) {
  static const char *const names[] = {"billing_address.company", "billing_address.name",
                                      "customer.last_name", "billing.company",
                                      "billing.last_name", NULL};
  static const char *const emails[] = {"email", "customer.email", "billing.email", NULL};
  static const char *const countries[] = {"billing_address.country_code",
                                          "billing.country",
                                          "shipping_address.country_code",
                                          "shipping.country", NULL};
  static const char *const dates[] = {"created_at", "date_created_gmt", "date_created",
                                      NULL};
  unsigned b = 0;
  if (!first_text(a, order, names)) {
    b |= IMPORT_NO_NAME;
    buf_puts(why, "; the customer has no name");
  }
  if (!first_text(a, order, emails)) {
    b |= IMPORT_NO_EMAIL;
    buf_puts(why, "; the customer has no e-mail");
  }
  const char *country = first_text(a, order, countries);
  if (!country) {
    b |= IMPORT_NO_COUNTRY;
    buf_puts(why, "; the customer has no country");
  }
  Value lines = rec_get(order, "line_items");
  for (uint32_t i = 0; lines.kind == VAL_LIST && i < lines.len; i++) {
    Value l = lines.as.items[i];
    const char *sku = rec_text(a, rec_get(l, "sku"));
    const char *title = rec_text(a, rec_get(l, "title"));
    if (!title) title = rec_text(a, rec_get(l, "name"));
    if (!sku || !*sku) {
      b |= IMPORT_NO_SKU;
      buf_printf(why, "; line '%s' has no SKU", title ? title : "?");
      continue;
    }
    if (t->conn && t->economic) {
      bool has = true;
      IexStatus rc = target_has_product(t, a, sku, &has, err);
      if (rc != IEX_OK) return rc;
      if (!has) {
        b |= IMPORT_NO_PRODUCT;
        buf_printf(why, "; product %s is missing in %s", sku, t->conn->system);
      }
    }
  }
  if (t->conn && t->economic) {
    if (country && !zone_exists(t, vat_zone_for(country))) {
      b |= IMPORT_NO_VAT;
      buf_printf(why, "; no VAT zone '%s' for %s", vat_zone_for(country), country);
    }
    const char *date = first_text(a, order, dates);
    if (date && strlen(date) >= 10 && !year_open(t, date)) {
      b |= IMPORT_CLOSED_YEAR;
      buf_printf(why, "; %.10s is in a closed or missing fiscal year", date);
    }
  }
  *out = b;
  return IEX_OK;
}

/* ---- The run ------------------------------------------------------------- */

static bool parse_since(const char *since, int64_t *us, char *iso, size_t size) {
  DateTime dt;
  int32_t days;
  if (date_parse(str_from_cstr(since), &days, NULL)) {
    *us = (int64_t)days * 86400 * 1000000;
  } else if (datetime_parse(str_from_cstr(since), &dt, NULL)) {
    *us = dt.secs * 1000000;
  } else {
    return false;
  }
  DateTime u = {.secs = *us / 1000000};
  char t[DATETIME_TEXT_SIZE];
  datetime_format_iso(u, t);
  snprintf(iso, size, "%s", t);
  return true;
}

IexStatus import_run(const ImportOptions *o, Store *s, ImportSummary *sum, Err *err) {
  memset(sum, 0, sizeof *sum);
  FILE *out = o->out ? o->out : stdout;
  Arena a;
  arena_init(&a);
  StoreIntegration it;
  IexStatus rc = store_integration_find(s, o->integration, &a, &it, err);
  if (rc != IEX_OK) {
    arena_fini(&a);
    return rc;
  }
  int64_t since_us;
  char since[64];
  if (!parse_since(o->since, &since_us, since, sizeof since)) {
    arena_fini(&a);
    return err_set(err, IEX_E_INVALID, "--since %s is not a date (YYYY-MM-DD)", o->since);
  }
  /* The source (a connector that lists) and the target (the first other). */
  json_t *root = json_loads(it.connections_json ? it.connections_json : "{}", 0, NULL);
  const char *alias, *src_alias = NULL, *dst_alias = NULL;
  const Connector *src = NULL;
  json_t *c;
  json_object_foreach(root, alias, c) {
    json_t *sys = json_object_get(c, "system");
    const Connector *cn = o->find(json_is_string(sys) ? json_string_value(sys) : alias);
    if (cn && cn->list && !src) {
      src = cn;
      src_alias = arena_printf(&a, "%s", alias);
    } else if (!dst_alias) {
      dst_alias = arena_printf(&a, "%s", alias);
    }
  }
  json_decref(root);
  Connection sconn, tconn;
  Target target = {.years = value_null(), .zones = value_null(), .arena = &a};
  strmap_init(&target.checked);
  arena_on_free(&a, checked_fini, &target.checked);
  if (!src) rc = err_set(err, IEX_E_INVALID, "%s has no connection iex can list orders from",
                         it.name);
  if (rc == IEX_OK)
    rc = poller_connection(it.connections_json, src_alias, o->http, &a, &sconn, err);
  if (rc == IEX_OK && o->dry_run && dst_alias &&
      poller_connection(it.connections_json, dst_alias, o->http, &a, &tconn, NULL) == IEX_OK &&
      tconn.base_url[0]) {
    target.conn = &tconn;
    target.economic = strcmp(tconn.system, "economic") == 0;
    rc = target_load(&target, &a, err);
  }
  if (rc != IEX_OK) {
    arena_fini(&a);
    return rc;
  }

  /* Where an interrupted real run stopped. */
  char resume_key[256];
  snprintf(resume_key, sizeof resume_key, "import:%s:order:%s:%lld", src_alias, since,
           (long long)o->from_number);
  const char *resume = NULL;
  if (!o->dry_run) {
    rc = store_cursor_get(s, it.id, resume_key, &a, &resume, err);
    if (rc != IEX_OK) {
      arena_fini(&a);
      return rc;
    }
    if (resume && strcmp(resume, "done") == 0) resume = NULL; /* run again: no-op adds */
    if (resume) fprintf(out, "resuming the import of %s from where it stopped\n", it.name);
  }
  char page_cursor[sizeof ((ListPage *)0)->next_cursor];
  snprintf(page_cursor, sizeof page_cursor, "%s", resume ? resume : "");
  double t0 = now_s();
  Arena pa;
  arena_init(&pa);
  for (;;) {
    arena_reset(&pa);
    ListPage page;
    memset(&page, 0, sizeof page);
    rc = src->list(&sconn, &pa, "order", page_cursor, since, &page, err);
    if (rc != IEX_OK) break;
    bool last = page.next_cursor[0] == '\0';
    if (!o->dry_run && (rc = store_begin(s, err)) != IEX_OK) break;
    for (uint32_t i = 0; rc == IEX_OK && page.records.kind == VAL_LIST &&
                         i < page.records.len; i++) {
      Value r = page.records.as.items[i];
      static const char *const created[] = {"created_at", "date_created_gmt", NULL};
      const char *ct = first_text(&pa, r, created);
      DateTime dt;
      if (ct && datetime_parse(str_from_cstr(ct), &dt, NULL) &&
          dt.secs * 1000000 < since_us)
        continue; /* changed since, created before */
      int64_t number = order_number(r);
      if (o->from_number && number < o->from_number) continue;
      const char *id = rec_text(&pa, rec_get(r, "id"));
      if (!id) continue;
      sum->n_orders++;
      if (o->dry_run) {
        unsigned b = 0;
        Buf why;
        buf_init(&why, 4096);
        rc = blockers(&target, &pa, r, &b, &why, err);
        if (rc == IEX_OK) {
          if (b) sum->n_blocked++;
          fprintf(out, "  #%-8lld %.10s  %s\n", (long long)number, ct ? ct : "",
                  b ? buf_cstr(&why) + 2 : "ok");
        }
        buf_fini(&why);
        continue;
      }
      const char *tt = NULL;
      poller_record_time(r, &pa, &tt);
      Buf body;
      buf_init(&body, 0);
      if (!jsonv_encode(r, &body, NULL)) {
        buf_fini(&body);
        rc = err_set(err, IEX_E_INVALID, "order %s cannot be encoded", id);
        break;
      }
      char key[256];
      snprintf(key, sizeof key, "poll:order:%s:%s", id, tt ? tt : "");
      StoreEvent ev = {.integration_id = it.id, .dedup_key = key, .source = "import",
                       .topic = "order", .body = buf_str(&body)};
      int64_t eid;
      bool dup = false;
      rc = store_inbox_add(s, &ev, &eid, &dup, err);
      buf_fini(&body);
      if (rc == IEX_OK) {
        if (dup) sum->n_already++;
        else sum->n_added++;
      }
    }
    if (!o->dry_run) {
      if (rc == IEX_OK)
        rc = store_cursor_set(s, it.id, resume_key, last ? "done" : page.next_cursor, err);
      if (rc == IEX_OK) rc = store_commit(s, err);
      else store_rollback(s);
      if (rc == IEX_OK)
        import_progress(out, o->is_tty, "importing orders", sum->n_added + sum->n_already, 0,
                        now_s() - t0);
    }
    if (rc != IEX_OK || last || serve_stopping()) break;
    snprintf(page_cursor, sizeof page_cursor, "%s", page.next_cursor);
  }
  if (o->is_tty && !o->dry_run) fputc('\n', out);
  arena_fini(&pa);

  if (rc == IEX_OK) {
    /* The quota, the integration's built-in setting included_orders:
    ** this month's included orders first, then extra ones. */
    int64_t quota = 0;
    int64_t n = o->dry_run ? sum->n_orders - sum->n_blocked : sum->n_added;
    int year, month;
    clock_utc_month(o->now_us ? o->now_us : clock_now_us(NULL), &year, &month);
    StoreUsage u;
    rc = settings_included_orders(s, it.id, &quota, err);
    if (rc == IEX_OK) rc = store_usage_month(s, year, month, quota, it.id, &u, err);
    if (rc == IEX_OK) {
      int64_t left = quota - u.used > 0 ? quota - u.used : 0;
      sum->quota_included = n < left ? n : left;
      sum->quota_extra = n - sum->quota_included;
      fprintf(out,
              "quota %04d-%02d: %lld of %lld included orders used; this import takes "
              "%lld included and %lld extra order(s)\n",
              year, month, (long long)u.used, (long long)quota,
              (long long)sum->quota_included, (long long)sum->quota_extra);
      if (o->dry_run)
        fprintf(out, "  (the quota is the integration's setting %s: "
                     "iex settings set %s %s N)\n",
                SETTING_INCLUDED_ORDERS, it.name, SETTING_INCLUDED_ORDERS);
    }
  }
  if (rc == IEX_OK) {
    if (o->dry_run)
      fprintf(out, "dry run: %lld order(s) from %s, %lld blocked, nothing sent\n",
              (long long)sum->n_orders, o->since, (long long)sum->n_blocked);
    else
      fprintf(out, "imported %lld order(s) from %s: %lld new, %lld already there\n",
              (long long)sum->n_orders, o->since, (long long)sum->n_added,
              (long long)sum->n_already);
  }
  arena_fini(&a);
  return rc;
}
