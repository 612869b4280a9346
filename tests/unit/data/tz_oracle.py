#!/usr/bin/env python3
"""UTC offsets of time zones at chosen instants, by Python's zoneinfo: the
differential half of tests/unit/test_datetime.c.

zoneinfo reads the same TZif files as common/tz.c (it honours TZDIR and
falls back to the footer rule after the last transition), so this checks
our reading of the files, not the database. Prints one line per case:

  ZONE UNIX_SECONDS OFFSET_SECONDS

Instants: random ones from 1850 to 2200, and every transition of 1975,
2024 and 2100 (found by an hourly scan, then to the second) together with
the second before it. Deterministic for a seed.

Usage: tz_oracle.py [--seed N] [--n RANDOM_PER_ZONE]
"""

import argparse
import random
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

# Chosen for their footers: northern and southern DST, negative DST
# (Dublin), rule times below 0 (Nuuk) and above 24h (Jerusalem,
# Santiago), half-hour DST (Lord Howe), odd offsets, fixed zones.
ZONES = ["Europe/Copenhagen", "Europe/London", "Europe/Dublin", "America/New_York",
         "America/Nuuk", "America/Santiago", "America/Sao_Paulo", "Asia/Jerusalem",
         "Asia/Kathmandu", "Asia/Tehran", "Australia/Sydney", "Australia/Lord_Howe",
         "Pacific/Chatham", "Pacific/Apia", "Africa/Casablanca", "Antarctica/Troll", "UTC"]


def offset(zone, t):
    return int(datetime.fromtimestamp(t, zone).utcoffset().total_seconds())


def transitions(zone, year):
    start = int(datetime(year, 1, 1, tzinfo=timezone.utc).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=timezone.utc).timestamp())
    found = []
    prev = offset(zone, start)
    for t in range(start + 3600, end + 1, 3600):
        cur = offset(zone, t)
        if cur != prev:
            lo, hi = t - 3600, t  # offset(lo) == prev, offset(hi) == cur
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(zone, mid) == prev:
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
            prev = cur
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    lo = int(datetime(1850, 1, 1, tzinfo=timezone.utc).timestamp())
    hi = int(datetime(2200, 1, 1, tzinfo=timezone.utc).timestamp())
    out = []
    for name in ZONES:
        zone = ZoneInfo(name)
        times = [rng.randint(lo, hi) for _ in range(args.n)]
        for year in (1975, 2024, 2100):
            for t in transitions(zone, year):
                times += [t - 1, t]
        for t in times:
            out.append(f"{name} {t} {offset(zone, t)}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
