/*
** Time zones by name, read from the system's time-zone database: the
** TZif files (RFC 8536, versions 1 to 4) under /usr/share/zoneinfo, or
** under $TZDIR when that is set.
**
** A TzDb caches every zone it has read, and every name it failed to read,
** so that converting one datetime per record opens each file once per
** process. Instants after a zone's last listed transition (Debian ships
** "slim" files that stop early) follow the POSIX TZ rule in the file's
** footer ("CET-1CEST,M3.5.0,M10.5.0/3").
**
** Offsets are kept in whole minutes, like DateTime's. Zones only had
** offsets with seconds before about 1900 (local mean time); those are
** rounded to the nearest minute.
**
** A TzDb is not thread-safe: give each thread its own, or lock around it.
*/
#ifndef IEX_COMMON_TZ_H
#define IEX_COMMON_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/datetime.h"
#include "common/str.h"

typedef struct TzDb TzDb;
typedef struct TzZone TzZone;

/* A database reading zones from directory `dir`; NULL means $TZDIR if it
** is set and not empty, else /usr/share/zoneinfo. The directory is not
** checked until a zone is asked for. The caller owns the result and
** releases it with tz_db_free(). */
TzDb *tz_db_new(const char *dir);
/* Release `db` and every zone it holds (NULL is allowed). */
void tz_db_free(TzDb *db);

/* The zone called `name` ("Europe/Copenhagen", "UTC"), read on first use
** and cached. Returns NULL and writes a message to `err` (at most
** `err_size` bytes, NUL-terminated) when the name is malformed, unknown
** ("unknown time zone `Europe/Copenhagn`") or its file is corrupt; the
** failure is cached too. The zone is owned by `db`. */
const TzZone *tz_db_zone(TzDb *db, Str name, char *err, size_t err_size);

/* The zone's UTC offset in seconds east at instant `utc_secs`, and
** whether daylight saving time is in effect then (`is_dst` may be NULL). */
int32_t tz_zone_offset(const TzZone *zone, int64_t utc_secs, bool *is_dst);
/* The zone's name as it was asked for. */
const char *tz_zone_name(const TzZone *zone);

/* `dt` as the same instant at the offset zone `name` has then
** (to_zone(dt, "Europe/Copenhagen")). Returns false with a message in
** `err` as tz_db_zone() does. */
bool tz_to_zone(TzDb *db, DateTime dt, Str name, DateTime *out, char *err,
                size_t err_size);

#endif /* IEX_COMMON_TZ_H */
