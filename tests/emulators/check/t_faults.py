"""Fault switches, ledger and persistence (exercised on e-conomic, the system
the crash test counts invoices in)."""

import os
import tempfile
import time
import urllib.parse

from support import case, check, eq, http, connection_failed, Emulator
from t_economic import H, req, draft


def find(emu, ref):
    f = urllib.parse.quote("references.other$eq:" + ref, safe="")
    return req(emu, "GET", "/invoices/drafts?filter=" + f).json()["collection"]


@case("faults/drop-after-create", "economic")
def drop(emu):
    emu.faults(drop_after_create={"count": 1, "path": "^/invoices/drafts$", "method": "POST"})
    eq(req(emu, "GET", "/customers").status, 200, "reads are not affected")
    ref = "iex:drop:1"
    check(connection_failed(lambda: req(emu, "POST", "/invoices/drafts", draft(ref=ref))),
          "the client must see the connection reset, not a response")
    led = emu.ledger(reference=ref)
    eq(len(led), 1, "the draft was committed before the reset")
    check(led[0].get("dropped") is True, "ledger marks the dropped response", led[0])
    eq(led[0]["status"], 201, "ledger keeps the status the client never saw")
    eq(len(find(emu, ref)), 1, "the record is findable by its reference")
    r = req(emu, "POST", "/invoices/drafts", draft(ref="iex:drop:2"))
    eq(r.status, 201, "count exhausted: the next create answers normally")
    eq(emu.faults()["drop_after_create"]["count"], 0, "fault counter spent")
    reqs = emu.requests()
    check(any(x.get("fault") == "dropped_after_create" for x in reqs), "request log shows the fault")


@case("faults/drop-percent-deterministic", "economic")
def drop_percent(emu):
    def run():
        emu.reset(seed=42)
        emu.faults(drop_after_create={"percent": 50, "path": "^/invoices/drafts$"})
        out = []
        for i in range(12):
            out.append(connection_failed(lambda: req(emu, "POST", "/invoices/drafts", draft(ref="p%d" % i))))
        return out
    a, b = run(), run()
    eq(a, b, "same seed, same drop decisions")
    check(0 < sum(a) < 12, "50 %% drops some but not all", a)
    eq(len(emu.ledger()), 12, "every create was committed, dropped or not")
    emu.reset(seed=42)
    emu.faults(drop_after_create={"percent": 100, "hang_ms": 200})
    t = time.time()
    check(connection_failed(lambda: req(emu, "POST", "/invoices/drafts", draft())), "100 % drops")
    check(time.time() - t >= 0.2, "hang_ms delays the reset")


@case("faults/server-errors", "economic")
def server_errors(emu):
    emu.faults(server_errors={"count": 2, "status": 503, "method": "POST"})
    r1 = req(emu, "POST", "/invoices/drafts", draft(ref="iex:5xx"))
    r2 = req(emu, "POST", "/invoices/drafts", draft(ref="iex:5xx"))
    eq((r1.status, r2.status), (503, 503), "two injected 503s")
    eq(r1.json()["httpStatusCode"], 503, "5xx in the vendor's error shape")
    eq(find(emu, "iex:5xx"), [], "nothing created by a 5xx")
    eq(req(emu, "POST", "/invoices/drafts", draft(ref="iex:5xx")).status, 201, "third attempt succeeds")
    eq(len(emu.ledger(reference="iex:5xx")), 1, "ledger has exactly one create")


@case("faults/burst-429-and-rate-limit-override", "economic")
def burst(emu):
    emu.faults(burst_429=2)
    a, b, c = (req(emu, "GET", "/customers") for _ in range(3))
    eq((a.status, b.status, c.status), (429, 429, 200), "burst of two 429s")
    check(a.header("Retry-After"), "429 carries Retry-After")
    emu.faults(rate_limit={"bucket": 3, "leak": 0.5})
    st = [req(emu, "GET", "/layouts").status for _ in range(5)]
    eq(st, [200, 200, 200, 429, 429], "rate-limit override on a system without a documented limit")
    emu.faults(rate_limit=None)
    eq(req(emu, "GET", "/layouts").status, 200, "override removed")


@case("faults/latency", "economic")
def latency(emu):
    emu.faults(latency={"ms": 250, "jitter_ms": 50})
    t = time.time()
    eq(req(emu, "GET", "/layouts").status, 200, "request with latency")
    dt = time.time() - t
    check(0.25 <= dt < 1.5, "latency 250-300 ms, took %.3f s" % dt)
    emu.clear_faults()
    t = time.time()
    req(emu, "GET", "/layouts")
    check(time.time() - t < 0.2, "no latency after clearing")


@case("faults/search-lag", "economic")
def search_lag(emu):
    emu.faults(search_lag=0.6)
    r = req(emu, "POST", "/invoices/drafts", draft(ref="iex:lag:1"))
    eq(r.status, 201, "create")
    eq(find(emu, "iex:lag:1"), [], "not findable by filter right after creation")
    eq(req(emu, "GET", "/invoices/drafts/%d" % r.json()["draftInvoiceNumber"]).status, 200,
       "but readable by its number")
    time.sleep(0.7)
    eq(len(find(emu, "iex:lag:1")), 1, "findable once the lag has passed")


@case("faults/ledger-entry-fields", "economic")
def ledger_fields(emu):
    body = draft(ref="iex:ledger:1")
    req(emu, "POST", "/invoices/drafts", body)
    req(emu, "GET", "/invoices/drafts")
    e = emu.ledger()
    eq(len(e), 1, "reads are not in the ledger")
    e = e[0]
    for k in ("seq", "ts", "method", "path", "status", "body", "reference", "kind", "resource", "id"):
        check(k in e, "ledger entry has %s" % k, e)
    eq(e["body"]["references"]["other"], "iex:ledger:1", "ledger keeps the request body")
    eq(e["reference"], "iex:ledger:1", "idempotency reference")


@case("faults/state-survives-kill", None)
def persistence(_):
    d = tempfile.mkdtemp(prefix="emu-state-")
    path = os.path.join(d, "economic.jsonl")
    emu = Emulator("economic", seed=3, state=path).start()
    try:
        r = req(emu, "POST", "/invoices/drafts", draft(ref="iex:persist:1"))
        eq(r.status, 201, "create")
        n = r.json()["draftInvoiceNumber"]
        emu.faults(search_lag=0.1)
        emu.restart(kill=True)
        eq(req(emu, "GET", "/invoices/drafts/%d" % n).json()["references"]["other"], "iex:persist:1",
           "draft survives kill -9")
        eq(len(emu.ledger(reference="iex:persist:1")), 1, "ledger survives kill -9")
        eq(emu.faults().get("search_lag"), 0.1, "fault switches survive too")
        r2 = req(emu, "POST", "/invoices/drafts", draft(ref="iex:persist:2"))
        eq(r2.json()["draftInvoiceNumber"], n + 1, "numbering continues after restart")
        eq([e["seq"] for e in emu.ledger()], [1, 2], "ledger sequence continues")
        emu.reset()
        emu.restart(kill=True)
        eq(emu.ledger(), [], "a reset is persisted too")
    finally:
        emu.stop()
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        os.rmdir(d)


@case("faults/serve-cli-contract", None)
def serve_cli(_):
    """serve.py prints exactly one line with the bound port, honours --port-file,
    --config, and exits cleanly on SIGTERM."""
    import subprocess
    import sys
    import signal
    d = tempfile.mkdtemp(prefix="emu-cli-")
    pf = os.path.join(d, "port")
    serve = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "serve.py")
    p = subprocess.Popen([sys.executable, serve, "woocommerce", "--port", "0", "--seed", "9", "--port-file", pf,
                          "--config", '{"consumer_key": "ck_cli", "orders": 5}'],
                         stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        m = __import__("re").fullmatch(r"listening 127\.0\.0\.1:(\d+)\n", line)
        check(m, "first line is 'listening 127.0.0.1:PORT'", repr(line))
        eq(open(pf).read().strip(), m.group(1), "--port-file holds the same port")
        url = "http://127.0.0.1:" + m.group(1)
        eq(http("GET", url + "/_emulator/health").json()["system"], "woocommerce", "health")
        cfg = http("GET", url + "/_emulator/config").json()
        eq((cfg["consumer_key"], cfg["orders"]), ("ck_cli", 5), "--config merged into the defaults")
        p.send_signal(signal.SIGTERM)
        eq(p.wait(timeout=5), 0, "exit status after SIGTERM")
        eq(p.stdout.read(), "", "nothing else on stdout")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        os.rmdir(d)
