#!/usr/bin/env python3
"""Start emulators from tests and drive their control API.

From Python:

    sys.path.insert(0, "tests/emulators")
    from client import Emulator
    with Emulator("economic", seed=7) as eco:          # starts serve.py on a free port
        eco.url                                         # http://127.0.0.1:PORT
        eco.faults(drop_after_create={"count": 1, "path": "/invoices/drafts"})
        ...                                             # point the runtime at eco.url
        eco.ledger()                                    # what was committed, in order

    emu = Emulator.attach("http://127.0.0.1:40123")     # one started elsewhere

From a shell:

    client.py start economic [--seed N] [--state FILE]  # prints "URL PID"; the emulator keeps running
    client.py URL stop                                  # asks it to shut down (state is flushed)
    client.py URL ledger [--since N] [--reference REF]
    client.py URL faults '{"server_errors": {"count": 3}}'
    client.py URL clear-faults | reset | health | config '{...}' | deliveries
    client.py URL order '{"lines": [{"sku": "KAFFE-ESP-500", "quantity": 2}]}'   # shops only
    client.py URL GET|POST|PUT|DELETE /_emulator/PATH ['{json}']
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVE = os.path.join(HERE, "serve.py")


class Emulator:
    def __init__(self, system, seed=0, state=None, config=None, port=0, verbose=False):
        self.system = system
        self.seed = seed
        self.state = state
        self.config_override = config
        self.port = port
        self.verbose = verbose
        self.proc = None
        self.url = None

    @classmethod
    def attach(cls, url):
        e = cls(None)
        e.url = url.rstrip("/")
        e.system = e.health().get("system")
        return e

    # -- process ------------------------------------------------------------
    def start(self, timeout=10.0):
        cmd = [sys.executable, SERVE, self.system, "--port", str(self.port), "--seed", str(self.seed)]
        if self.state:
            cmd += ["--state", self.state]
        if self.config_override:
            cmd += ["--config", json.dumps(self.config_override)]
        if self.verbose:
            cmd.append("--verbose")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        deadline = time.time() + timeout
        line = self.proc.stdout.readline()
        if not line.startswith("listening ") or time.time() > deadline:
            self.proc.kill()
            raise RuntimeError("%s emulator did not start: %r" % (self.system, line))
        hostport = line.split()[1]
        self.port = int(hostport.rsplit(":", 1)[1])
        self.url = "http://" + hostport
        return self

    def stop(self, kill=False):
        if self.proc and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, kill=True):
        """Stop (kill -9 by default) and start again on the same port and state file."""
        self.stop(kill=kill)
        return self.start()

    def __enter__(self):
        if not self.url:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- control API ----------------------------------------------------------
    def call(self, method, path, body=None, timeout=30):
        if not path.startswith("/"):
            path = "/" + path
        if not path.startswith("/_emulator"):
            path = "/_emulator" + path
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read().decode("utf-8") or "null")
        except urllib.error.HTTPError as e:
            raise RuntimeError("control %s %s: %d %s" % (method, path, e.code, e.read().decode("utf-8", "replace")))

    def health(self):
        return self.call("GET", "/health")

    def reset(self, seed=None, data=True, config=None):
        body = {"data": data}
        if seed is not None:
            body["seed"] = seed
        if config:
            body["config"] = config
        return self.call("POST", "/reset", body)

    def config(self, **changes):
        return self.call("POST", "/config", changes) if changes else self.call("GET", "/config")

    def faults(self, **faults):
        return self.call("POST", "/faults", faults) if faults else self.call("GET", "/faults")

    def clear_faults(self):
        return self.call("DELETE", "/faults")

    def ledger(self, since=0, reference=None):
        path = "/ledger?since=%d" % since
        if reference is not None:
            path += "&reference=" + urllib.request.quote(reference, safe="")
        return self.call("GET", path)["entries"]

    def requests(self, since=0):
        return self.call("GET", "/requests?since=%d" % since)["requests"]

    def records(self, table):
        return self.call("GET", "/records/" + table)[table]

    def deliveries(self):
        return self.call("GET", "/webhooks/deliveries")["deliveries"]

    def wait_deliveries(self, timeout=10):
        return self.call("POST", "/webhooks/wait", {"timeout": timeout})

    # shops
    def create_order(self, spec=None):
        return self.call("POST", "/orders", spec or {})["order"]

    def update_order(self, order_id, **changes):
        return self.call("POST", "/orders/%s" % order_id, changes)["order"]

    def refund(self, order_id, spec=None):
        return self.call("POST", "/orders/%s/refund" % order_id, spec or {})["refund"]

    def labels(self):
        """Ids of the special seed orders: oss-de, oss-se, missing-sku, refund, cent-difference, ..."""
        return self.call("GET", "/labels")


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv[0] == "start":
        import argparse
        ap = argparse.ArgumentParser(prog="client.py start")
        ap.add_argument("system")
        ap.add_argument("--seed", type=int, default=0)
        ap.add_argument("--state")
        ap.add_argument("--port", type=int, default=0)
        a = ap.parse_args(argv[1:])
        e = Emulator(a.system, seed=a.seed, state=a.state, port=a.port)
        e.start()
        print("%s %d" % (e.url, e.proc.pid))
        return 0
    emu = Emulator.attach(argv[0])
    cmd, rest = argv[1], argv[2:]
    arg = json.loads(rest[0]) if rest and rest[0].startswith(("{", "[")) else None
    if cmd == "ledger":
        since, ref = 0, None
        for i, x in enumerate(rest):
            if x == "--since":
                since = int(rest[i + 1])
            if x == "--reference":
                ref = rest[i + 1]
        out = emu.ledger(since, ref)
    elif cmd == "faults":
        out = emu.call("POST", "/faults", arg) if arg is not None else emu.faults()
    elif cmd == "clear-faults":
        out = emu.clear_faults()
    elif cmd == "reset":
        out = emu.call("POST", "/reset", arg or {})
    elif cmd == "stop":
        out = emu.call("POST", "/shutdown")
    elif cmd == "health":
        out = emu.health()
    elif cmd == "config":
        out = emu.call("POST", "/config", arg) if arg is not None else emu.config()
    elif cmd == "deliveries":
        out = emu.deliveries()
    elif cmd == "order":
        out = emu.create_order(arg)
    elif cmd.upper() in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        body = json.loads(rest[1]) if len(rest) > 1 else None
        out = emu.call(cmd.upper(), rest[0], body)
    else:
        print("unknown command %r" % cmd, file=sys.stderr)
        return 2
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
