#!/usr/bin/env python3
"""Runs the emulator self-tests: starts each emulator once (on a free port),
resets it before every case, and prints "PASS <id>" or "FAIL <id>: why"
(detail lines indented) per case. Usage: main.py [ID-PREFIX...]"""

import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import support  # noqa: E402
import t_shopify  # noqa: E402,F401
import t_economic  # noqa: E402,F401
import t_faults  # noqa: E402,F401
import t_cross  # noqa: E402,F401
for optional in ("t_woocommerce", "t_dinero"):
    try:
        __import__(optional)
    except ModuleNotFoundError as e:
        if e.name != optional:
            raise


def main(argv):
    prefixes = argv or [""]
    cases = [c for c in support.CASES if any(c[0].startswith(p) for p in prefixes)]
    systems = sorted({s for c in cases for s in (c[1] if isinstance(c[1], tuple) else (c[1],)) if s})
    emus = {}
    t0 = time.time()
    timings = []
    try:
        for s in systems:
            try:
                emus[s] = support.Emulator(s, seed=1).start()
            except Exception as e:
                print("FAIL %s/start: the emulator did not start: %s" % (s, e))
        for cid, system, fn in cases:
            names = system if isinstance(system, tuple) else ((system,) if system else ())
            missing = [n for n in names if n not in emus]
            if missing:
                print("FAIL %s: %s emulator not running" % (cid, ", ".join(missing)))
                continue
            emu = tuple(emus[n] for n in names) if isinstance(system, tuple) else emus.get(system)
            started = time.time()
            try:
                for n in names:
                    emus[n].reset(seed=1)
                fn(emu)
                print("PASS %s" % cid)
            except support.Failure as e:
                lines = str(e).split("\n")
                print("FAIL %s: %s" % (cid, lines[0]))
                for l in lines[1:]:
                    print("    " + l[:2000])
            except Exception as e:
                print("FAIL %s: %s: %s" % (cid, type(e).__name__, e))
                for l in traceback.format_exc().rstrip().split("\n"):
                    print("    " + l)
            timings.append((time.time() - started, cid))
            sys.stdout.flush()
    finally:
        for e in emus.values():
            e.stop()
    print("emulators: %d cases in %.1fs; slowest: %s" % (
        len(cases), time.time() - t0, ", ".join("%s %.1fs" % (c, t) for t, c in sorted(timings)[::-1][:3])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
