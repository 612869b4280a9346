#!/bin/sh
# bench/import_rate.sh: how fast an import runs against a rate-limited
# target. Usage: bench/import_rate.sh BUILD_BIN_DIR [ORDERS] [LEAK] [BUCKET]
#
# Starts the Shopify and e-conomic emulators, makes ORDERS paid orders
# (default 100) in the shop, sets e-conomic's leaky bucket to BUCKET calls
# (default 10) leaking LEAK calls a second (default 20), then for each way
# of pacing:
#   429s      no client-side limit: the emulator's 429s and Retry-After pace
#             the runs (a run that got a 429 waits and is run again);
#   paced     the connection's token bucket (`rate_per_second`: HTTP calls
#             a second) set to the target's limit;
# runs `iex import` and `iex run` until every transfer is done, and prints
# the achieved rate of successful e-conomic calls against the limit, the
# orders per second and how many calls were refused with 429.
set -eu
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
case $bin in /*) ;; *) bin=$root/$bin ;; esac
cd "$root"
exec python3 - "$bin" "${2:-100}" "${3:-20}" "${4:-10}" <<'EOF'
import json, os, shutil, subprocess, sys, tempfile, time
bindir, n, leak, bucket = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, "tools")
from demo_run import Demo, SECRETS
from client import Emulator

FLOW = "shopify_to_economic"


def measure(mode):
    work = tempfile.mkdtemp(prefix="iex-bench-")
    d = Demo(bindir, work, out=None)
    try:
        d.shop = Emulator("shopify", seed=1, config={"orders": 0}).start()
        d.eco = Emulator("economic", seed=1).start()
        d.emus = [d.shop, d.eco]
        skus = ["KAFFE-ESP-500", "KAFFE-FIL-1000", "TE-GRON-100", "CHOK-70", "KOP-STEN-HVID"]
        for i in range(n):
            d.shop.create_order({"customer": {"email": "bench%d@example.dk" % (i % 50),
                                              "first_name": "Bench", "last_name": "Kunde %d" % (i % 50)},
                                 "lines": [{"sku": skus[i % 5], "quantity": 1 + i % 3}]})
        iexb = os.path.join(work, FLOW + ".iexb")
        subprocess.run([os.path.join(bindir, "iexc"), "flows/%s.iexflow" % FLOW, "-o", iexb], check=True)
        books = d.connection("economic")
        # The connection as a user sets it up: defaults (a 429 neither opens
        # nor closes the circuit breaker), and for "paced" the target's
        # documented limit as rate_per_second, which counts HTTP calls.
        if mode == "paced":
            books["rate_per_second"] = max(1, int(leak))
            books["burst"] = 1
        conns = json.dumps({"shop": d.connection("shopify"), "books": books})
        d.iex_ok("integration", "add", "bench", "--flow", iexb, "--connections", conns, "--activate-at", "2020-01-01")
        d.iex_ok("import", "bench", "--since", "2020-01-01")
        d.eco.faults(rate_limit={"bucket": bucket, "leak": leak})
        seq0 = max([r["seq"] for r in d.eco.requests()] or [0])
        t0 = time.time()
        passes = 0
        while True:
            passes += 1
            d.iex("run")
            left = [t for t in json.loads(d.iex("log", "--json", "--limit", "100000")[1])
                    if t["status"] not in ("done", "skipped", "failed")]
            if not left or time.time() - t0 > 600:
                break
            time.sleep(0.2)
        elapsed = time.time() - t0
        reqs = [r for r in d.eco.requests(seq0) if r["seq"] > seq0]
        ok = [r for r in reqs if r["status"] < 400]
        refused = [r for r in reqs if r["status"] == 429]
        states = {}
        for t in json.loads(d.iex("log", "--json", "--limit", "100000")[1]):
            states[t["status"]] = states.get(t["status"], 0) + 1
        return {"mode": mode, "elapsed": elapsed, "ok": len(ok), "refused": len(refused), "passes": passes,
                "states": states}
    finally:
        d.stop()
        shutil.rmtree(work, ignore_errors=True)


print("import of %d orders into e-conomic limited to %g calls/s (bucket %d)" % (n, leak, bucket))
print("%-7s %9s %11s %12s %10s %8s %7s  %s" % ("pacing", "seconds", "calls ok", "calls/s", "of limit", "429s",
                                                 "orders/s", "transfers"))
for mode in ("429s", "paced"):
    r = measure(mode)
    rate = r["ok"] / r["elapsed"]
    print("%-7s %9.1f %11d %12.1f %9.0f%% %8d %7.1f  %s" % (
        mode, r["elapsed"], r["ok"], rate, 100 * rate / leak, r["refused"], n / r["elapsed"],
        ", ".join("%d %s" % (v, k) for k, v in sorted(r["states"].items()))))
EOF
