/*
** Crash points (see crash.h). The test build parses IEX_CRASH_AT once and
** counts hits per point in this process; the release build keeps only the
** name table.
*/
#include "runtime/crash.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const char *const point_names[] = {
#define CRASHPOINT(id, name) name,
#include "runtime/crashpoints.def"
#undef CRASHPOINT
};
_Static_assert(ARRAY_LEN(point_names) == CRASH__COUNT,
               "point_names must have one entry per crash point");

const char *crash_point_name(CrashPoint point) {
  return (unsigned)point < CRASH__COUNT ? point_names[point] : "?";
}

#ifdef IEX_DEBUG

static int armed = -1;           /* -1 not read yet, 0 off, 1 armed */
static CrashPoint target;        /* the point IEX_CRASH_AT names */
static unsigned long target_hit; /* which hit of it kills (1 = first) */
static unsigned long hits[CRASH__COUNT];

/* Parse "name:n" into target/target_hit; a malformed value is fatal. */
static void read_env(void) {
  const char *spec = getenv("IEX_CRASH_AT");
  armed = 0;
  if (!spec || !*spec) return;
  const char *colon = strchr(spec, ':');
  size_t name_len = colon ? (size_t)(colon - spec) : strlen(spec);
  char *end = NULL;
  unsigned long n = colon ? strtoul(colon + 1, &end, 10) : 1;
  if (colon && (end == colon + 1 || *end != '\0' || n == 0))
    iex_fatal("IEX_CRASH_AT=%s: expected name:n with n >= 1", spec);
  for (int i = 0; i < CRASH__COUNT; i++) {
    if (strlen(point_names[i]) == name_len &&
        memcmp(point_names[i], spec, name_len) == 0) {
      target = (CrashPoint)i;
      target_hit = n;
      armed = 1;
      return;
    }
  }
  iex_fatal(
      "IEX_CRASH_AT=%s: no crash point of that name (see "
      "runtime/crashpoints.def)",
      spec);
}

void crash_reset(void) {
  armed = -1;
  memset(hits, 0, sizeof hits);
}

void crash_hit(CrashPoint point) {
  if (armed < 0) read_env();
  hits[point]++;
  if (armed == 1 && point == target && hits[point] == target_hit)
    raise(SIGKILL);
}

#endif /* IEX_DEBUG */
