#!/usr/bin/env python3
"""The demo's scenario, shared by `make demo` (tools/demo.sh) and tests/e2e.

    demo_run.py --bin build/release/bin [--work DIR] [--keep]

1. starts the four API emulators on free ports (no seed orders);
2. makes the demo's orders in the shops (tools/demo_orders.py) and the OSS
   products an accountant would have set up in e-conomic;
3. compiles the shipped flows (`iexc -o`) and sets up four integrations
   with `iex integration add` (secrets as env:NAME) and `iex settings set`:
     shopify_economic   shopify_to_economic, OSS, booked, payments entered
     woo_economic       woocommerce_to_economic, drafts, a plan of 5
                        orders a month (the built-in setting included_orders)
     shopify_dinero     shopify_to_dinero, OSS accounts, drafts
     shopify_refunds    shopify_refund_to_economic, booked credit notes
4. brings the orders in with `iex import` and runs them (`iex run`);
5. later: a refund and a note added to an order already transferred; the
   changed orders come in again, the refunds through `iex run --input`;
6. prints the transfer history (`iex log`), one failed transfer
   (`iex show`) and the month's orders per integration (`iex usage`).

From Python (tests/e2e): Demo(bindir, work) with .start(), .setup(),
.transfer(), .later(), .stop(), .iex(...), and the emulators as .shop,
.woo, .eco, .dinero (tests/emulators/client.py).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "emulators"))
sys.path.insert(0, HERE)
from client import Emulator  # noqa: E402
import demo_orders  # noqa: E402

# The emulators' credentials (tests/emulators/README.md), given to iex as
# environment variables: the store keeps only the env:NAME references.
SECRETS = {
    "SHOP_TOKEN": "shpat_emulator_token",
    "SHOP_WEBHOOK_SECRET": "shopify_client_secret",
    "WOO_KEY": "ck_emulator0000000000000000000000000000000",
    "WOO_SECRET": "cs_emulator0000000000000000000000000000000",
    "ECO_APP_TOKEN": "econ-app-secret-token",
    "ECO_GRANT_TOKEN": "econ-agreement-grant-token",
    "DINERO_CLIENT_ID": "dinero-client-id",
    "DINERO_CLIENT_SECRET": "dinero-client-secret",
    "DINERO_API_KEY": "dinero-user-api-key",
}

INTEGRATIONS = [
    # name, flow, shop system, books system, settings
    ("shopify_economic", "shopify_to_economic", "shopify", "economic",
     [("oss", "true"), ("invoice_mode", "booked"), ("register_payment", "true"),
      ("payment_accounts", '{"shopify_payments": 5820, "mobilepay": 5820}')]),
    # A small plan: 5 orders a month included, so `iex usage` shows extra ones.
    ("woo_economic", "woocommerce_to_economic", "woocommerce", "economic",
     [("included_orders", "5")]),
    ("shopify_dinero", "shopify_to_dinero", "shopify", "dinero",
     [("oss", "true"), ("oss_accounts", '{"DE": 1010, "SE": 1000}')]),
    ("shopify_refunds", "shopify_refund_to_economic", "shopify", "economic",
     [("oss", "true"), ("credit_note_mode", "booked")]),
]

# OSS products the agreement needs for the demo's EU consumers (the seed
# has KAFFE-ESP-500-DE and the service products), in the countries' OSS
# product groups (10 Germany, 11 Sweden).
OSS_PRODUCTS = [("CHOK-70-DE", "Mørk chokolade 70 % (DE)", 10, "31.96"),
                ("KVARN-MAN-SE", "Manuel kaffekværn (SE)", 11, "359.20")]


class Demo:
    def __init__(self, bindir, work, out=sys.stdout):
        self.bin = os.path.abspath(bindir)
        self.work = work
        self.out = out
        self.store = os.path.join(work, "iex.db")
        self.emus = []
        self.shop = self.woo = self.eco = self.dinero = None
        self.orders = []

    def say(self, text):
        if self.out:
            self.out.write(text + "\n")
            self.out.flush()

    # -- processes ------------------------------------------------------------
    def start(self):
        cfg = {"orders": 0}
        self.shop = Emulator("shopify", seed=1, config=cfg).start()
        self.emus.append(self.shop)
        self.woo = Emulator("woocommerce", seed=1, config=cfg).start()
        self.emus.append(self.woo)
        self.eco = Emulator("economic", seed=1).start()
        self.emus.append(self.eco)
        self.dinero = Emulator("dinero", seed=1).start()
        self.emus.append(self.dinero)
        return self

    def stop(self):
        for e in self.emus:
            e.stop()
        self.emus = []

    def iex(self, *args, stdin=None, env=None):
        e = dict(os.environ)
        e.update(SECRETS)
        e["IEX_STORE"] = self.store
        e.update(env or {})
        p = subprocess.run([os.path.join(self.bin, "iex")] + list(args), input=stdin,
                           capture_output=True, text=True, env=e, timeout=300)
        return p.returncode, p.stdout, p.stderr

    def iex_ok(self, *args, **kw):
        rc, out, err = self.iex(*args, **kw)
        if rc != 0:
            raise RuntimeError("iex %s exited %d:\n%s%s" % (" ".join(args), rc, out, err))
        return out

    # -- connections ------------------------------------------------------------
    def connection(self, system):
        """A connection as docs/runtime.md describes it: secrets as
        env:NAME references under "secrets" (the executor, the poller and
        import all read them there)."""
        if system == "shopify":
            c = {"base_url": self.shop.url + "/admin/api/2023-10",
                 "secrets": {"access_token": "env:SHOP_TOKEN"}, "webhook_secret": "env:SHOP_WEBHOOK_SECRET"}
        elif system == "woocommerce":
            c = {"base_url": self.woo.url + "/wp-json/wc/v3",
                 "secrets": {"consumer_key": "env:WOO_KEY", "consumer_secret": "env:WOO_SECRET"}}
        elif system == "economic":
            c = {"base_url": self.eco.url,
                 "secrets": {"app_secret_token": "env:ECO_APP_TOKEN", "agreement_grant_token": "env:ECO_GRANT_TOKEN"}}
        else:
            c = {"base_url": self.dinero.url + "/v1/123456",
                 "secrets": {"client_id": "env:DINERO_CLIENT_ID", "client_secret": "env:DINERO_CLIENT_SECRET",
                             "api_key": "env:DINERO_API_KEY"}}
        c["system"] = system
        return c

    # -- public API of the emulators (what a person would do in the UI) ------------
    def api(self, emu, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        req = urllib.request.Request(emu.url + path, data=data, method=method, headers=h)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read().decode() or "null")

    def eco_api(self, method, path, body=None):
        return self.api(self.eco, method, path, body, {"X-AppSecretToken": SECRETS["ECO_APP_TOKEN"],
                                                       "X-AgreementGrantToken": SECRETS["ECO_GRANT_TOKEN"]})

    def shop_api(self, path):
        for attempt in range(20):
            try:
                return self.api(self.shop, "GET", "/admin/api/2023-10" + path,
                                headers={"X-Shopify-Access-Token": SECRETS["SHOP_TOKEN"]})
            except urllib.error.HTTPError as e:
                if e.code != 429 or attempt == 19:
                    raise
                time.sleep(float(e.headers.get("Retry-After") or 1))

    # -- the scenario ---------------------------------------------------------------
    def setup(self, quiet_orders=False):
        self.say("== The shops' orders (tools/demo_orders.py)")
        self.orders = demo_orders.create(self.shop, self.woo)
        if not quiet_orders:
            for o in self.orders:
                self.say("  %-11s %-6s %-21s %9s  %s" % (o["system"], o["name"], o["label"], o["total"], o["expect"]))
        with open(os.path.join(self.work, "orders.json"), "w", encoding="utf-8") as f:
            json.dump(self.orders, f, ensure_ascii=False, indent=1)
        for number, name, group, price in OSS_PRODUCTS:
            self.eco_api("POST", "/products", {"productNumber": number, "name": name, "salesPrice": float(price),
                                               "productGroup": {"productGroupNumber": group}})
        self.say("\n== Integrations (iexc -o, iex integration add, iex settings set)")
        for name, flow, src, dst, settings in INTEGRATIONS:
            iexb = os.path.join(self.work, flow + ".iexb")
            p = subprocess.run([os.path.join(self.bin, "iexc"), os.path.join("flows", flow + ".iexflow"),
                                "-o", iexb], capture_output=True, text=True, cwd=ROOT)
            if p.returncode != 0:
                raise RuntimeError("iexc %s: %s%s" % (flow, p.stdout, p.stderr))
            conns = json.dumps({"shop": self.connection(src), "books": self.connection(dst)})
            self.iex_ok("integration", "add", name, "--flow", iexb, "--connections", conns,
                        "--activate-at", "2020-01-01")
            for k, v in settings:
                self.iex_ok("settings", "set", name, k, v)
            self.say("  %-17s %-27s %s" % (name, flow, ", ".join("%s=%s" % kv for kv in settings) or "defaults"))

    def refunds_jsonl(self):
        """Every refund of the Shopify orders, one JSON object a line."""
        # One call: orders carry their refunds (Shopify allows 2 calls a
        # second, and the runs are using the same shop).
        lines = []
        for o in self.shop_api("/orders.json?status=any&limit=250")["orders"]:
            for r in o.get("refunds") or []:
                lines.append(json.dumps(r))
        path = os.path.join(self.work, "refunds.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.write("".join(l + "\n" for l in lines))
        return path, len(lines)

    def transfer(self):
        """Bring the orders in (iex import) and run them (iex run)."""
        for name, flow, src, dst, settings in INTEGRATIONS:
            if flow.startswith("shopify_refund"):
                continue
            out = self.iex_ok("import", name, "--since", "2020-01-01")
            self.say("  iex import %-17s %s" % (name, out.strip().splitlines()[-1]))
        path, n = self.refunds_jsonl()
        if n:
            rc, out, err = self.iex("run", "--input", path, "--integration", "shopify_refunds")
            self.say("  iex run --input refunds.jsonl --integration shopify_refunds: %s" % (out + err).strip().splitlines()[-1])
        rc, out, err = self.iex("run")
        self.say("  iex run: %s" % (out + err).strip().splitlines()[-1])
        return rc

    def later(self):
        self.say("\n== Later: a refund, and a note added to transferred orders")
        for line in demo_orders.later(self.shop, self.woo, self.orders):
            self.say("  " + line)
        return self.transfer()


def shortened_show(text):
    """`iex show` without the stored order and the stages that only
    repeat what was sent or received: the reason, the events, the
    revisions, what the failing step sent, the error and the effects."""
    keep_stages = ("[mapped] invoice", "[request] invoice", "[error]", "[skipped]")
    out, section, keep = [], "", True
    for line in text.rstrip().splitlines():
        if line and not line.startswith(" "):
            section, keep = line, True
            out.append(line)
            continue
        if section.startswith("revisions"):
            if line.startswith("  revision"):
                out.append(line)
            continue
        if section.startswith("runs") and line.startswith("    [") and not line.startswith("     "):
            keep = line.strip().startswith(keep_stages)
        if keep:
            out.append(line)
    return "\n".join(out)


def main(argv):
    ap = argparse.ArgumentParser(description="the demo scenario")
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", help="a folder for the store and files (default: a temporary one, removed)")
    a = ap.parse_args(argv)
    # A TERM (tools/demo.sh's trap) unwinds like Ctrl-C: the emulators stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = a.work or tempfile.mkdtemp(prefix="iex-demo-")
    d = Demo(a.bin, work)
    try:
        d.start()
        d.setup()
        d.say("\n== Transfers (iex import, iex run)")
        d.transfer()
        d.later()
        d.say("\n== The transfer history (iex log --integration NAME), most recent first")
        for name, flow, src, dst, settings in INTEGRATIONS:
            rc, out, err = d.iex("log", "--integration", name, "--limit", "100")
            counts = {}
            for t in json.loads(d.iex("log", "--integration", name, "--limit", "100", "--json")[1] or "[]"):
                counts[t["status"]] = counts.get(t["status"], 0) + 1
            d.say("\n-- %s (%s): %s" % (name, flow, ", ".join("%d %s" % (n, s) for s, n in sorted(counts.items()))))
            d.say(out.rstrip())
        rc, out, err = d.iex("log", "--integration", "shopify_economic", "--status", "failed", "--json")
        failed = json.loads(out or "[]") if rc == 0 else []
        pick = next((t for t in failed if "total" in (t.get("message") or "")), failed[0] if failed else None)
        if pick:
            d.say("\n== Why order %s failed (iex show %s)" % (pick.get("key"), pick["id"]))
            rc, out, err = d.iex("show", str(pick["id"]))
            d.say(shortened_show(out))
            d.say("  (the order as received and every stage in full: iex show %s)" % pick["id"])
        rc, out, err = d.iex("usage")
        d.say("\n== Usage (iex usage)\n" + out.rstrip())
    finally:
        d.stop()
        if not a.work:
            subprocess.run(["rm", "-rf", work])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
