/*
** Time zones from TZif files (see tz.h).
**
** A zone is its list of transitions (instant -> local time type) plus the
** POSIX TZ rule of the file's footer for instants after the last one. The
** reader checks every count and index against the file size before use:
** a zone file is input like any other, and a corrupt one gets a message.
** Format: RFC 8536; footer rule syntax: POSIX TZ, with RFC 8536's
** extension of rule times to -167..167 hours.
*/
#include "common/tz.h"

#include "common/strmap.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_TZDIR "/usr/share/zoneinfo"
/* Real TZif files are a few kilobytes; a bound keeps a wrong path harmless. */
#define MAX_TZIF_BYTES ((size_t)1 << 20)
#define MAX_ZONE_NAME  200

/* One end of daylight saving time in a POSIX TZ rule. */
typedef struct RuleDate {
  char kind; /* 'J': day 1..365 without Feb 29; 'N': day 0..365; 'M': month.week.day */
  int n;     /* J and N: the day; M: the month 1..12 */
  int week;  /* M: 1..5, 5 meaning the last */
  int wday;  /* M: 0 = Sunday .. 6 */
  int32_t time_s; /* local time of the change, seconds (may be < 0 or > 24h) */
} RuleDate;

typedef struct Rule {
  int32_t std_off; /* standard offset, seconds east */
  int32_t dst_off; /* daylight offset, seconds east (when has_dst) */
  bool has_dst;
  RuleDate start; /* DST starts (in standard local time) */
  RuleDate end;   /* DST ends (in daylight local time) */
} Rule;

struct TzZone {
  char *name;          /* owned; the key in TzDb.zones */
  char *error;         /* owned; set when the zone could not be read */
  int64_t *trans;      /* owned; n_trans instants, strictly ascending */
  uint8_t *trans_type; /* owned; the type index in effect from trans[i] */
  int32_t *type_off;   /* owned; n_types offsets, seconds east */
  bool *type_dst;      /* owned; n_types daylight flags */
  size_t n_trans;
  size_t n_types;
  bool has_rule; /* the footer gave a rule for after trans[n_trans-1] */
  Rule rule;
};

struct TzDb {
  char *dir;    /* owned; the directory zone names are relative to */
  StrMap zones; /* name -> TzZone*, owned; failures included */
};

/* ---- The POSIX TZ rule ----------------------------------------------------- */

static int32_t rule_date_day(const RuleDate *r, int64_t year) {
  int64_t jan1 = days_from_civil(year, 1, 1);
  switch (r->kind) {
    case 'J': return (int32_t)(jan1 + r->n - 1 + (is_leap_year(year) && r->n >= 60));
    case 'N': return (int32_t)(jan1 + r->n);
    default: {
      int64_t first = days_from_civil(year, r->n, 1);
      int64_t day =
          first + (r->wday - weekday_from_days(first) + 7) % 7 + (r->week - 1) * 7;
      if (day >= first + days_in_month(year, r->n)) day -= 7; /* week 5: the last */
      return (int32_t)day;
    }
  }
}

static bool rule_is_dst(const Rule *r, int64_t t) {
  if (!r->has_dst) return false;
  int64_t y;
  int m, d;
  int64_t local = t + r->std_off;
  int64_t local_days = local / SECONDS_PER_DAY - (local % SECONDS_PER_DAY < 0);
  civil_from_days(local_days, &y, &m, &d);
  int64_t start = (int64_t)rule_date_day(&r->start, y) * SECONDS_PER_DAY +
                  r->start.time_s - r->std_off;
  int64_t end =
      (int64_t)rule_date_day(&r->end, y) * SECONDS_PER_DAY + r->end.time_s - r->dst_off;
  /* Northern hemisphere: DST between start and end of the same year.
  ** Southern: DST except between end and start. */
  return start < end ? (t >= start && t < end) : !(t >= end && t < start);
}

/* A parser over the footer text; every reader returns false on bad input. */
typedef struct Cursor {
  const char *p, *end;
} Cursor;

static bool cur_char(Cursor *c, char ch) {
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return true;
  }
  return false;
}

static bool cur_number(Cursor *c, int max, int *out) {
  int v = 0, n = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && n < 4) {
    v = v * 10 + (*c->p++ - '0');
    n++;
  }
  if (n == 0 || v > max) return false;
  *out = v;
  return true;
}

/* A zone abbreviation: 3+ letters, or <...> with letters, digits, + and -. */
static bool cur_name(Cursor *c) {
  const char *start = c->p;
  if (cur_char(c, '<')) {
    while (c->p < c->end && *c->p != '>') c->p++;
    return cur_char(c, '>') && c->p - start >= 5;
  }
  while (c->p < c->end &&
         ((*c->p >= 'A' && *c->p <= 'Z') || (*c->p >= 'a' && *c->p <= 'z')))
    c->p++;
  return c->p - start >= 3;
}

/* [+-]hh[:mm[:ss]] in seconds, hours up to `max_hours`. */
static bool cur_hms(Cursor *c, int max_hours, int32_t *out) {
  int sign = 1, h, m = 0, s = 0;
  if (cur_char(c, '-'))
    sign = -1;
  else
    cur_char(c, '+');
  if (!cur_number(c, max_hours, &h)) return false;
  if (cur_char(c, ':')) {
    if (!cur_number(c, 59, &m)) return false;
    if (cur_char(c, ':') && !cur_number(c, 59, &s)) return false;
  }
  *out = sign * (h * 3600 + m * 60 + s);
  return true;
}

static bool cur_rule_date(Cursor *c, RuleDate *r) {
  r->time_s = 2 * 3600;
  if (cur_char(c, 'J')) {
    r->kind = 'J';
    if (!cur_number(c, 365, &r->n) || r->n < 1) return false;
  } else if (cur_char(c, 'M')) {
    r->kind = 'M';
    if (!cur_number(c, 12, &r->n) || r->n < 1 || !cur_char(c, '.') ||
        !cur_number(c, 5, &r->week) || r->week < 1 || !cur_char(c, '.') ||
        !cur_number(c, 6, &r->wday))
      return false;
  } else {
    r->kind = 'N';
    if (!cur_number(c, 365, &r->n)) return false;
  }
  if (cur_char(c, '/') && !cur_hms(c, 167, &r->time_s)) return false;
  return true;
}

/* Parse a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3". The
** offsets in it count west ("-1" is one hour east), hence the negations. */
static bool parse_rule(const char *s, size_t len, Rule *r) {
  Cursor c = {s, s + len};
  int32_t west;
  memset(r, 0, sizeof *r);
  if (!cur_name(&c) || !cur_hms(&c, 24, &west)) return false;
  r->std_off = -west;
  if (c.p == c.end) return true;
  if (!cur_name(&c)) return false;
  r->has_dst = true;
  r->dst_off = r->std_off + 3600;
  if (c.p < c.end && *c.p != ',') {
    if (!cur_hms(&c, 24, &west)) return false;
    r->dst_off = -west;
  }
  if (c.p == c.end) {
    /* No dates: POSIX's default, the US rule. */
    r->start = (RuleDate){'M', 3, 2, 0, 7200};
    r->end = (RuleDate){'M', 11, 1, 0, 7200};
    return true;
  }
  return cur_char(&c, ',') && cur_rule_date(&c, &r->start) && cur_char(&c, ',') &&
         cur_rule_date(&c, &r->end) && c.p == c.end;
}

/* ---- TZif files ------------------------------------------------------------ */

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static int64_t be64(const uint8_t *p) {
  return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct TzifHeader {
  char version; /* 0, '2', '3' or '4' */
  size_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} TzifHeader;

static bool read_header(const uint8_t *p, size_t avail, TzifHeader *h) {
  if (avail < 44 || memcmp(p, "TZif", 4) != 0) return false;
  h->version = (char)p[4];
  h->isutcnt = be32(p + 20);
  h->isstdcnt = be32(p + 24);
  h->leapcnt = be32(p + 28);
  h->timecnt = be32(p + 32);
  h->typecnt = be32(p + 36);
  h->charcnt = be32(p + 40);
  /* Bound each count by the file size so the sums below cannot overflow. */
  return h->isutcnt <= avail && h->isstdcnt <= avail && h->leapcnt <= avail &&
         h->timecnt <= avail && h->typecnt <= avail && h->charcnt <= avail;
}

/* Bytes of the data block after a header, with `tsize`-byte times. */
static size_t block_size(const TzifHeader *h, size_t tsize) {
  return h->timecnt * tsize + h->timecnt + h->typecnt * 6 + h->charcnt +
         h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

static bool parse_tzif(const uint8_t *data, size_t len, TzZone *z, const char **why) {
  TzifHeader h;
  if (!read_header(data, len, &h)) {
    *why = "not a TZif file";
    return false;
  }
  const uint8_t *p = data + 44;
  size_t tsize = 4;
  if (h.version >= '2') {
    /* Skip the 32-bit block; the 64-bit one after it is complete. */
    size_t skip = block_size(&h, 4);
    if (len - 44 < skip || !read_header(p + skip, len - 44 - skip, &h)) {
      *why = "truncated version 1 data";
      return false;
    }
    p += skip + 44;
    tsize = 8;
  }
  size_t avail = len - (size_t)(p - data);
  if (block_size(&h, tsize) > avail) {
    *why = "truncated data block";
    return false;
  }
  if (h.typecnt == 0 || h.typecnt > 256) {
    *why = "bad count of local time types";
    return false;
  }
  if ((h.isstdcnt && h.isstdcnt != h.typecnt) || (h.isutcnt && h.isutcnt != h.typecnt)) {
    *why = "bad count of standard/UT indicators";
    return false;
  }

  z->n_trans = h.timecnt;
  z->n_types = h.typecnt;
  z->trans = xcalloc(h.timecnt, sizeof *z->trans);
  z->trans_type = xcalloc(h.timecnt, 1);
  z->type_off = xcalloc(h.typecnt, sizeof *z->type_off);
  z->type_dst = xcalloc(h.typecnt, sizeof *z->type_dst);
  for (size_t i = 0; i < h.timecnt; i++) {
    z->trans[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
    if (i > 0 && z->trans[i] <= z->trans[i - 1]) {
      *why = "transitions out of order";
      return false;
    }
  }
  p += h.timecnt * tsize;
  for (size_t i = 0; i < h.timecnt; i++) {
    if (p[i] >= h.typecnt) {
      *why = "transition to a local time type that does not exist";
      return false;
    }
    z->trans_type[i] = p[i];
  }
  p += h.timecnt;
  for (size_t i = 0; i < h.typecnt; i++, p += 6) {
    int32_t off = (int32_t)be32(p);
    /* RFC 8536: -89999..93599 (about -25h..+26h). */
    if (off < -89999 || off > 93599) {
      *why = "UT offset out of range";
      return false;
    }
    z->type_off[i] = off;
    z->type_dst[i] = p[4] != 0;
  }
  p += h.charcnt + h.leapcnt * (tsize + 4) + h.isstdcnt + h.isutcnt;

  if (h.version >= '2') {
    /* Footer: "\n" TZ-string "\n". An empty string means no rule. */
    const uint8_t *end = data + len;
    if (p >= end || *p != '\n') {
      *why = "missing footer";
      return false;
    }
    const uint8_t *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
    if (!nl) {
      *why = "unterminated footer";
      return false;
    }
    size_t rule_len = (size_t)(nl - p - 1);
    if (rule_len > 0) {
      if (!parse_rule((const char *)p + 1, rule_len, &z->rule)) {
        *why = "footer is not a valid POSIX TZ rule";
        return false;
      }
      z->has_rule = true;
    }
  }
  return true;
}

/* ---- Lookups --------------------------------------------------------------- */

int32_t tz_zone_offset(const TzZone *z, int64_t t, bool *is_dst) {
  size_t type;
  bool dst;
  int32_t off;
  if (z->n_trans == 0 || t < z->trans[0]) {
    /* Before the first transition, RFC 8536 says type 0 applies; a file
    ** with no transitions at all is described by its rule, if any. */
    if (z->n_trans == 0 && z->has_rule) goto by_rule;
    type = 0;
  } else if (t >= z->trans[z->n_trans - 1]) {
    if (z->has_rule) goto by_rule;
    type = z->trans_type[z->n_trans - 1];
  } else {
    /* The last transition at or before t: trans[lo] <= t < trans[hi]. */
    size_t lo = 0, hi = z->n_trans - 1;
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      if (z->trans[mid] <= t)
        lo = mid;
      else
        hi = mid;
    }
    type = z->trans_type[lo];
  }
  if (is_dst) *is_dst = z->type_dst[type];
  return z->type_off[type];

by_rule:
  dst = rule_is_dst(&z->rule, t);
  off = dst ? z->rule.dst_off : z->rule.std_off;
  if (is_dst) *is_dst = dst;
  return off;
}

const char *tz_zone_name(const TzZone *z) { return z->name; }

static bool valid_zone_name(Str name) {
  if (name.len == 0 || name.len > MAX_ZONE_NAME) return false;
  size_t part_start = 0;
  for (size_t i = 0; i <= name.len; i++) {
    if (i == name.len || name.ptr[i] == '/') {
      Str part = str_make(name.ptr + part_start, i - part_start);
      /* No empty parts (leading or doubled '/'), no "." or "..". */
      if (part.len == 0 || str_eq_cstr(part, ".") || str_eq_cstr(part, ".."))
        return false;
      part_start = i + 1;
      continue;
    }
    char c = name.ptr[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-' || c == '+' || c == '.'))
      return false;
  }
  return true;
}

static void zone_free(TzZone *z) {
  free(z->name);
  free(z->error);
  free(z->trans);
  free(z->trans_type);
  free(z->type_off);
  free(z->type_dst);
  free(z);
}

/* Read zone `z->name` from `db`; on failure set z->error. */
static void zone_load(TzDb *db, TzZone *z, Str name) {
  char msg[300];
  char *path = NULL;
  uint8_t *data = NULL;
  size_t len = 0;
  const char *why = NULL;
  struct stat st;

  if (!valid_zone_name(name)) {
    snprintf(msg, sizeof msg, "`%.*s` is not a valid time zone name", STR_FMT(name));
    goto fail;
  }
  size_t path_len = strlen(db->dir) + 1 + name.len + 1;
  path = xmalloc(path_len);
  snprintf(path, path_len, "%s/%s", db->dir, z->name);
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(msg, sizeof msg, "unknown time zone `%.*s` (not in %s)", STR_FMT(name),
             db->dir);
    goto fail;
  }
  char read_err[128];
  data = (uint8_t *)read_file(path, MAX_TZIF_BYTES, &len, read_err, sizeof read_err);
  if (!data) {
    snprintf(msg, sizeof msg, "cannot read time zone file %s: %s", path, read_err);
    goto fail;
  }
  if (!parse_tzif(data, len, z, &why)) {
    snprintf(msg, sizeof msg, "time zone file %s is not valid: %s", path, why);
    goto fail;
  }
  goto done;

fail:
  z->error = xstrdup(msg);
done:
  free(data);
  free(path);
}

TzDb *tz_db_new(const char *dir) {
  TzDb *db = xcalloc(1, sizeof *db);
  if (!dir) {
    const char *env = getenv("TZDIR");
    dir = env && *env ? env : DEFAULT_TZDIR;
  }
  db->dir = xstrdup(dir);
  strmap_init(&db->zones);
  return db;
}

void tz_db_free(TzDb *db) {
  if (!db) return;
  STRMAP_FOREACH(&db->zones, e) zone_free(e->value);
  strmap_fini(&db->zones);
  free(db->dir);
  free(db);
}

const TzZone *tz_db_zone(TzDb *db, Str name, char *err, size_t err_size) {
  TzZone *z = strmap_get(&db->zones, name);
  if (!z) {
    /* The key is the name as asked, with its length: a name with a NUL
    ** in it is invalid, and must not share an entry with its prefix. */
    z = xcalloc(1, sizeof *z);
    z->name = xmalloc(name.len + 1);
    memcpy(z->name, name.ptr, name.len);
    z->name[name.len] = '\0';
    zone_load(db, z, name);
    strmap_put(&db->zones, str_make(z->name, name.len), z);
  }
  if (z->error) {
    snprintf(err, err_size, "%s", z->error);
    return NULL;
  }
  return z;
}

bool tz_to_zone(TzDb *db, DateTime dt, Str name, DateTime *out, char *err,
                size_t err_size) {
  const TzZone *z = tz_db_zone(db, name, err, err_size);
  if (!z) return false;
  int32_t off = tz_zone_offset(z, dt.secs, NULL);
  /* Round to whole minutes (only local mean time before ~1900 has seconds). */
  int minutes = (int)((off + (off < 0 ? -30 : 30)) / 60);
  *out = datetime_at_offset(dt, minutes);
  return true;
}
