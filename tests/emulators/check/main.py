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
for optional in ("t_woocommerce", "t_dinero"):
    try:
        __import__(optional)
    except ModuleNotFoundError as e:
        if e.name != optional:
            raise


def main(argv):
    prefixes = argv or [""]
    cases = [c for c in support.CASES if any(c[0].startswith(p) for p in prefixes)]
    systems = sorted({c[1] for c in cases if c[1]})
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
            emu = emus.get(system)
            if system and emu is None:
                print("FAIL %s: %s emulator not running" % (cid, system))
                continue
            started = time.time()
            try:
                if emu:
                    emu.reset(seed=1)
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
