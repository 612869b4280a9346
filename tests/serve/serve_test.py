"""The serve suite: starts `iex serve` on a fresh store per case and talks
HTTP to it. Fixtures go through tests/serve/serve_tool (the store API)."""
import base64, hashlib, hmac, http.client, json, os, shutil, signal, socket
import subprocess, sys, tempfile, time, traceback
from datetime import datetime, timedelta, timezone

BUILD = os.environ.get("IEX_BUILD", "build/test")
ROOT = os.environ.get("IEX_ROOT", ".")
IEX = os.path.join(BUILD, "bin/iex")
TOOL = os.path.join(BUILD, "tests/serve/serve_tool")
SHOP_SECRET = "canary-shop-secret-7f3a91"      # must never appear in store or log
WOO_SECRET = "canary-woo-secret-c0ffee"
CONNECTIONS = json.dumps({
    "shop": {"system": "shopify", "webhook_secret": "env:TEST_SHOP_SECRET"},
    "woo": {"system": "woocommerce", "webhook_secret": "env:TEST_WOO_SECRET"},
    "books": {"system": "economic"},
})

results = []

# Every case's directory is made inside one scratch directory, which main()
# removes when the suite ends, passed, failed or interrupted.
SCRATCH = None


def scratch_dir(prefix):
    return tempfile.mkdtemp(prefix=prefix, dir=SCRATCH)


def case(fn):
    results.append(fn)
    return fn


def tool(*args):
    out = subprocess.run([TOOL, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError("serve_tool %s: %s" % (args[0], out.stderr.strip()))
    return out.stdout


def inbox(store):
    return [l.split(" ") for l in tool("inbox", store).splitlines()]


class Serve:
    """One `iex serve` on a fresh store with one integration."""

    def __init__(self, extra=(), env=None, store=None):
        self.dir = scratch_dir("iex-serve-")
        self.store = store or os.path.join(self.dir, "iex.db")
        if store is None:
            tool("add-integration", self.store, "shop-to-books", CONNECTIONS)
        self.log = os.path.join(self.dir, "serve.log")
        e = dict(os.environ, TEST_SHOP_SECRET=SHOP_SECRET, TEST_WOO_SECRET=WOO_SECRET)
        e.update(env or {})
        self.proc = subprocess.Popen(
            [IEX, "serve", "--store", self.store, "--port", "0", "--grace", "3", *extra],
            stdout=subprocess.PIPE, stderr=open(self.log, "w"), env=e, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            self.proc.kill()
            raise AssertionError("iex serve did not start: %r %s" % (line, self.logtext()))
        self.host, port = line.split()[1].rsplit(":", 1)
        self.port = int(port)

    def logtext(self):
        with open(self.log) as f:
            return f.read()

    def request(self, method, path, body=b"", headers=None, timeout=10):
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def get_json(self, path):
        st, data = self.request("GET", path)
        return st, json.loads(data)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop(signal.SIGKILL)


def now_iso(delta=timedelta()):
    return (datetime.now(timezone.utc) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(secret, body):
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_delivery(order_id=1001, event="ev-1", secret=SHOP_SECRET, updated=None,
                     topic="orders/paid", body=None):
    if body is None:
        body = json.dumps({"id": order_id, "name": "#%d" % order_id,
                           "updated_at": updated or now_iso(),
                           "total_price": "19.99"}).encode()
    h = {"Content-Type": "application/json", "X-Shopify-Topic": topic,
         "X-Shopify-Webhook-Id": "wh-" + event, "X-Shopify-Event-Id": event,
         "X-Shopify-Triggered-At": now_iso(), "X-Shopify-Shop-Domain": "iex-demo.myshopify.com"}
    if secret is not None:
        h["X-Shopify-Hmac-Sha256"] = sign(secret, body)
    return body, h


SHOP_PATH = "/webhooks/shop-to-books/shop"


@case
def signature_good():
    with Serve() as s:
        body, h = shopify_delivery()
        st, data = s.request("POST", SHOP_PATH, body, h)
        assert st == 200, (st, data)
        items = inbox(s.store)
        assert len(items) == 1, items
        assert items[0][1:4] == ["webhook", "orders/paid", "shopify:event:ev-1"], items
        assert int(items[0][5]) == len(body)


@case
def signature_bad():
    with Serve() as s:
        body, h = shopify_delivery(secret="not-the-secret")
        st, _ = s.request("POST", SHOP_PATH, body, h)
        assert st == 401, st
        # the right signature over other bytes
        body2, h2 = shopify_delivery()
        st, _ = s.request("POST", SHOP_PATH, body2 + b" ", h2)
        assert st == 401, st
        assert inbox(s.store) == []


@case
def signature_missing():
    with Serve() as s:
        body, h = shopify_delivery(secret=None)
        st, _ = s.request("POST", SHOP_PATH, body, h)
        assert st == 401, st
        assert inbox(s.store) == []


@case
def malformed():
    with Serve() as s:
        body, h = shopify_delivery(body=b"{not json")
        st, _ = s.request("POST", SHOP_PATH, body, h)
        assert st == 400, st
        body, h = shopify_delivery()
        del h["X-Shopify-Topic"]
        st, _ = s.request("POST", SHOP_PATH, body, h)
        assert st == 400, st
        assert inbox(s.store) == []


@case
def oversized():
    with Serve(extra=["--max-body", "4096"]) as s:
        big = json.dumps({"id": 1, "updated_at": now_iso(), "note": "x" * 5000}).encode()
        body, h = shopify_delivery(body=big)
        st, _ = s.request("POST", SHOP_PATH, body, h)
        assert st == 413, st
        # chunked, so the length is not announced
        c = http.client.HTTPConnection(s.host, s.port, timeout=10)
        c.request("POST", SHOP_PATH, body=iter([big[:3000], big[3000:]]), headers=h,
                  encode_chunked=True)
        r = c.getresponse()
        assert r.status == 413, r.status
        c.close()
        assert inbox(s.store) == []
        # under the limit it is fine
        body, h = shopify_delivery()
        assert s.request("POST", SHOP_PATH, body, h)[0] == 200


@case
def replayed():
    with Serve() as s:
        body, h = shopify_delivery(updated=now_iso(-timedelta(days=5)))
        st, data = s.request("POST", SHOP_PATH, body, h)
        assert st == 409, (st, data)
        assert inbox(s.store) == []
    with Serve(extra=["--replay-window", "3600"]) as s:
        body, h = shopify_delivery(updated=now_iso(-timedelta(hours=2)))
        assert s.request("POST", SHOP_PATH, body, h)[0] == 409
        body, h = shopify_delivery(updated=now_iso(-timedelta(minutes=30)))
        assert s.request("POST", SHOP_PATH, body, h)[0] == 200


@case
def duplicate_stored_once():
    with Serve() as s:
        body, h = shopify_delivery()
        for _ in range(3):
            st, data = s.request("POST", SHOP_PATH, body, h)
            assert st == 200, st
        assert json.loads(data)["duplicate"] is True
        items = inbox(s.store)
        assert len(items) == 1 and items[0][4] == "2", items


@case
def woocommerce_ping_and_delivery():
    with Serve() as s:
        st, _ = s.request("POST", "/webhooks/shop-to-books/woo", b"webhook_id=3",
                          {"Content-Type": "application/x-www-form-urlencoded"})
        assert st == 200, st
        assert inbox(s.store) == []
        body = json.dumps({"id": 727, "status": "completed",
                           "date_modified_gmt": now_iso()[:-1]}).encode()
        h = {"X-WC-Webhook-Source": "http://shop.example/", "X-WC-Webhook-Topic": "order.updated",
             "X-WC-Webhook-Resource": "order", "X-WC-Webhook-Event": "updated",
             "X-WC-Webhook-Signature": sign(WOO_SECRET, body)}
        assert s.request("POST", "/webhooks/shop-to-books/woo", body, h)[0] == 200
        assert s.request("POST", "/webhooks/shop-to-books/woo", body, h)[0] == 200
        h["X-WC-Webhook-Signature"] = sign(SHOP_SECRET, body)
        assert s.request("POST", "/webhooks/shop-to-books/woo", body, h)[0] == 401
        items = inbox(s.store)
        assert len(items) == 1 and items[0][3].startswith("woocommerce:http://shop.example/:order:727:"), items


@case
def unknown_targets():
    with Serve() as s:
        body, h = shopify_delivery()
        assert s.request("POST", "/webhooks/nope/shop", body, h)[0] == 404
        assert s.request("POST", "/webhooks/shop-to-books/nope", body, h)[0] == 404
        assert s.request("POST", "/webhooks/shop-to-books/books", body, h)[0] == 404
        assert s.request("GET", SHOP_PATH)[0] == 405
        assert inbox(s.store) == []


@case
def secrets_kept_out():
    with Serve() as s:
        body, h = shopify_delivery()
        h["X-Shopify-Access-Token"] = "canary-token-in-header-55"
        assert s.request("POST", SHOP_PATH, body, h)[0] == 200
        body, h = shopify_delivery(event="ev-2", secret="wrong")
        s.request("POST", SHOP_PATH, body, h)
        s.stop()
        blob = b""
        for name in os.listdir(s.dir):
            with open(os.path.join(s.dir, name), "rb") as f:
                blob += f.read()
        for canary in (SHOP_SECRET, WOO_SECRET, "canary-token-in-header-55"):
            assert canary.encode() not in blob, canary


@case
def ack_after_commit_kill9():
    """kill -9 right after the 2xx: what was acknowledged is in the inbox."""
    with Serve() as s:
        acked = []
        for i in range(20):
            body, h = shopify_delivery(order_id=2000 + i, event="k-%d" % i)
            if s.request("POST", SHOP_PATH, body, h)[0] == 200:
                acked.append("shopify:event:k-%d" % i)
        s.proc.kill()
        s.proc.wait()
        keys = {it[3] for it in inbox(s.store)}
        assert set(acked) <= keys and len(acked) == 20, (acked, keys)


def crash_case(point, expect_stored):
    s = Serve(env={"IEX_CRASH_AT": point + ":1"})
    try:
        body, h = shopify_delivery()
        try:
            st, _ = s.request("POST", SHOP_PATH, body, h)
        except (ConnectionError, http.client.HTTPException, socket.timeout):
            st = None
        assert st is None, "answered %s although it died at %s" % (st, point)
        assert s.proc.wait(timeout=10) == -signal.SIGKILL
        assert len(inbox(s.store)) == (1 if expect_stored else 0)
        # the shop sends it again to a restarted server: stored once
        s2 = Serve(store=s.store)
        try:
            assert s2.request("POST", SHOP_PATH, body, h)[0] == 200
            items = inbox(s.store)
            assert len(items) == 1, items
        finally:
            s2.stop(signal.SIGKILL)
    finally:
        s.stop(signal.SIGKILL)


@case
def no_ack_before_commit():
    crash_case("inbox_before_commit", False)


@case
def crash_after_commit_before_ack():
    crash_case("inbox_after_commit", True)


@case
def graceful_shutdown():
    with Serve() as s:
        body, h = shopify_delivery()
        h["Content-Length"] = str(len(body))
        sock = socket.create_connection((s.host, s.port))
        head = "POST %s HTTP/1.1\r\nHost: x\r\n" % SHOP_PATH
        head += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
        sock.sendall(head.encode() + body[:10])
        time.sleep(0.3)
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # new connections are no longer accepted
        try:
            s.request("GET", "/api/health", timeout=2)
            refused = False
        except OSError:
            refused = True
        sock.sendall(body[10:])
        answer = sock.recv(4096).decode()
        sock.close()
        assert answer.startswith("HTTP/1.1 200"), answer[:80]
        assert refused, "accepted a connection while stopping"
        assert s.proc.wait(timeout=10) == 0
        assert "stopped" in s.logtext()
        assert len(inbox(s.store)) == 1


@case
def api():
    # Without workers, so that the retried run stays queued.
    with Serve(extra=("--workers", "0")) as s:
        st, h = s.get_json("/api/health")
        assert st == 200 and h["ok"] is True and h["inbox_pending"] == 0, h
        tid = tool("add-failed", s.store, "shop-to-books", "#1001").strip()
        st, lst = s.get_json("/api/transfers?status=failed")
        assert st == 200 and [t["id"] for t in lst["transfers"]] == [int(tid)], lst
        t = lst["transfers"][0]
        assert t["status"] == "failed" and t["display_key"] == "#1001", t
        assert s.get_json("/api/transfers?status=done")[1]["transfers"] == []
        assert s.request("GET", "/api/transfers?status=bogus")[0] == 400
        st, d = s.get_json("/api/transfers/" + tid)
        assert st == 200 and d["transfer"]["id"] == int(tid), d
        assert d["revisions"][0]["data"] == {"id": 1, "total": 19.99}, d["revisions"]
        assert d["runs"][0]["status"] == "failed"
        assert s.request("GET", "/api/transfers/" + tid + "/retry")[0] == 405
        st, r = s.request("POST", "/api/transfers/" + tid + "/retry")
        assert st == 202, (st, r)
        runs = tool("runs", s.store, tid).splitlines()
        assert len(runs) == 2 and runs[1].split()[1:] == ["retry", "queued"], runs
        assert s.request("POST", "/api/transfers/" + tid + "/retry")[0] == 409
        assert s.request("GET", "/api/transfers/999")[0] == 404
        assert s.request("POST", "/api/transfers/999/retry")[0] == 404
        assert s.request("DELETE", "/api/transfers/" + tid)[0] == 405
        assert s.request("GET", "/api/nothing")[0] == 404


def wait_for(pred, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    return pred()


def shop_api(emu, method, path, body=None):
    import urllib.request
    req = urllib.request.Request(emu.url + "/admin/api/2023-10" + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"X-Shopify-Access-Token": "shpat_emulator_token",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


@case
def polling_finds_order_without_webhook():
    """An order whose webhook never came is found by polling, once; a
    removed webhook subscription is noticed."""
    sys.path.insert(0, os.path.join(ROOT, "tests/emulators"))
    from client import Emulator
    with Emulator("shopify", seed=5) as shop:
        d = scratch_dir("iex-poll-")
        store = os.path.join(d, "iex.db")
        conns = json.dumps({"shop": {"system": "shopify",
                                     "base_url": shop.url + "/admin/api/2023-10",
                                     "access_token": "env:TEST_SHOP_TOKEN",
                                     "webhook_secret": "env:TEST_SHOP_SECRET",
                                     "webhooks": True}})
        tool("add-integration", store, "shop-to-books", conns)
        # a subscription pointing at us, which the poller will see vanish
        sub = shop_api(shop, "POST", "/webhooks.json", {"webhook": {
            "topic": "orders/paid", "address": "http://127.0.0.1:9/webhooks/shop-to-books/shop",
            "format": "json"}})["webhook"]
        with Serve(store=store, extra=["--poll-interval", "1"],
                   env={"TEST_SHOP_TOKEN": "shpat_emulator_token"}) as s:
            seeded = wait_for(lambda: len(inbox(store)) >= 30)
            assert seeded, (inbox(store), s.logtext())
            n0 = len(inbox(store))
            assert all(it[1] == "poll" and it[2] == "order" for it in inbox(store))
            assert tool("cursor", store, "shop-to-books", "shop/order").strip() != "-"
            order = shop.create_order({"lines": [{"sku": "KAFFE-ESP-500", "quantity": 1}],
                                       "financial_status": "paid"})
            key = "poll:order:%s:" % order["id"]
            found = wait_for(lambda: [it for it in inbox(store) if it[3].startswith(key)])
            assert found and len(found) == 1, (found, s.logtext())
            shop_api(shop, "DELETE", "/webhooks/%s.json" % sub["id"])
            assert wait_for(lambda: "removed or disabled" in s.logtext()), s.logtext()
            time.sleep(1.5)  # more polls: nothing new, nothing twice
            assert len(inbox(store)) == n0 + 1, (len(inbox(store)), n0)
            assert s.stop() == 0


def run_import(store, *args, env=None):
    e = dict(os.environ, TEST_SHOP_TOKEN="shpat_emulator_token",
             TEST_ECO_APP="econ-app-secret-token", TEST_ECO_GRANT="econ-agreement-grant-token")
    return subprocess.run([IEX, "import", "shop-to-books", "--store", store, *args],
                          capture_output=True, text=True, env=e, timeout=60)


@case
def import_dry_run_and_resume():
    """The dry run names blockers and the quota; the real run adds each
    order once, also when run again."""
    sys.path.insert(0, os.path.join(ROOT, "tests/emulators"))
    from client import Emulator
    with Emulator("shopify", seed=5) as shop, Emulator("economic", seed=5) as eco:
        d = scratch_dir("iex-import-")
        store = os.path.join(d, "iex.db")
        conns = json.dumps({
            "shop": {"system": "shopify", "base_url": shop.url + "/admin/api/2023-10",
                     "access_token": "env:TEST_SHOP_TOKEN"},
            "books": {"system": "economic", "base_url": eco.url,
                      "app_secret_token": "env:TEST_ECO_APP",
                      "agreement_grant_token": "env:TEST_ECO_GRANT"}})
        tool("add-integration", store, "shop-to-books", conns)
        q = subprocess.run([IEX, "settings", "set", "shop-to-books", "included_orders", "10",
                            "--store", store], capture_output=True, text=True, timeout=30)
        assert q.returncode == 0, q.stderr
        since = (datetime.now(timezone.utc) - timedelta(days=30)).strftime("%Y-%m-%d")
        r = run_import(store, "--since", since, "--dry-run")
        assert r.returncode == 0, r.stderr
        out = r.stdout
        lines = [l for l in out.splitlines() if l.startswith("  #")]
        assert len(lines) >= 30, out
        assert any("has no SKU" in l for l in lines), out
        assert any(l.endswith(" ok") for l in lines), out
        n_ok = sum(1 for l in lines if l.endswith(" ok"))
        assert "takes 10 included and %d extra" % (n_ok - 10) in out, out
        assert "iex settings set shop-to-books included_orders N" in out, out
        assert inbox(store) == [], "a dry run stored something"
        # --from-number keeps the later orders only
        nums = sorted(int(l.split()[0][1:]) for l in lines)
        r2 = run_import(store, "--since", since, "--from-number", str(nums[-5]), "--dry-run")
        assert len([l for l in r2.stdout.splitlines() if l.startswith("  #")]) == 5, r2.stdout
        # a closed fiscal year blocks everything
        year = datetime.now(timezone.utc).year
        eco.call("POST", "/accounting-years/%d" % year, {"closed": True})
        r3 = run_import(store, "--since", since, "--dry-run")
        assert "closed or missing fiscal year" in r3.stdout, r3.stdout
        # the real run, twice
        r = run_import(store, "--since", since)
        assert r.returncode == 0, r.stderr
        assert "%d new" % len(lines) in r.stdout, r.stdout
        items = inbox(store)
        assert len(items) == len(lines) and all(it[1] == "import" for it in items), items
        r = run_import(store, "--since", since)
        assert "0 new, %d already there" % len(lines) in r.stdout, r.stdout
        assert len(inbox(store)) == len(lines)


@case
def import_dry_run_over_several_pages():
    """A dry run over more orders than one page (Shopify lists 250) asks
    e-conomic once per SKU and remembers the answers across pages."""
    sys.path.insert(0, os.path.join(ROOT, "tests/emulators"))
    from client import Emulator
    with Emulator("shopify", seed=6, config={"orders": 0}) as shop, \
            Emulator("economic", seed=6) as eco:
        d = scratch_dir("iex-import-")
        store = os.path.join(d, "iex.db")
        conns = json.dumps({
            "shop": {"system": "shopify", "base_url": shop.url + "/admin/api/2023-10",
                     "access_token": "env:TEST_SHOP_TOKEN"},
            "books": {"system": "economic", "base_url": eco.url,
                      "app_secret_token": "env:TEST_ECO_APP",
                      "agreement_grant_token": "env:TEST_ECO_GRANT"}})
        tool("add-integration", store, "shop-to-books", conns)
        skus = ["KAFFE-ESP-500", "KAFFE-NY-2026", "TE-GRON-100"]  # the second is not in e-conomic
        for i in range(260):
            shop.create_order({"customer": {"email": "page%d@example.dk" % i,
                                             "first_name": "Side", "last_name": "Kunde %d" % i},
                               "lines": [{"sku": skus[i % 3], "quantity": 1, "price": "149.00",
                                          "title": "Kaffe %s" % skus[i % 3]}]})
        seq0 = max([r["seq"] for r in eco.requests()] or [0])
        since = (datetime.now(timezone.utc) - timedelta(days=30)).strftime("%Y-%m-%d")
        r = run_import(store, "--since", since, "--dry-run")
        assert r.returncode == 0, r.stderr
        lines = [l for l in r.stdout.splitlines() if l.startswith("  #")]
        assert len(lines) == 260, r.stdout[-2000:]
        missing = [l for l in lines if "product KAFFE-NY-2026 is missing" in l]
        assert len(missing) == 87, len(missing)
        asked = [q for q in eco.requests() if q["seq"] > seq0 and q["path"].startswith("/products/")]
        assert len(asked) == 3, [q["path"] for q in asked]


def run_cases(only):
    for fn in results:
        if only and fn.__name__ not in only:
            continue
        try:
            fn()
            print("PASS serve/%s" % fn.__name__, flush=True)
        except Exception as e:
            print("FAIL serve/%s: %s" % (fn.__name__, e), flush=True)
            for line in traceback.format_exc().splitlines()[-6:]:
                print("    " + line)


def stop_on_signal(signum, frame):
    # SystemExit unwinds through main()'s finally, which removes SCRATCH.
    raise SystemExit(128 + signum)


def main():
    global SCRATCH
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop_on_signal)
    SCRATCH = tempfile.mkdtemp(prefix="iex-serve-suite-")
    try:
        run_cases(sys.argv[1:])
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)


if __name__ == "__main__":
    main()
