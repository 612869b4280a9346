"""Helpers for the emulator self-tests: plain HTTP with urllib, a webhook
receiver, assertions, and the case registry."""

import base64
import hashlib
import hmac
import http.server as httpserver
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from client import Emulator  # noqa: E402,F401

CASES = []


class Failure(Exception):
    pass


def case(case_id, system):
    """Register a test: fn(emu) where emu is the (freshly reset) emulator of `system`."""
    def deco(fn):
        CASES.append((case_id, system, fn))
        return fn
    return deco


def check(cond, msg, *detail):
    if not cond:
        raise Failure(msg + ("".join("\n" + str(d) for d in detail)))


def eq(actual, expected, what):
    if actual != expected:
        raise Failure("%s: expected %r, got %r" % (what, expected, actual))


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError:
            raise Failure("response is not JSON (status %d): %r" % (self.status, self.body[:300]))

    def header(self, name):
        return self.headers.get(name)

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:400])


def http(method, url, headers=None, body=None, timeout=10, raw=None):
    hdrs = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Resp(e.code, e.headers, e.read())


def connection_failed(fn):
    """Run fn(); True if the connection was reset/closed without a response."""
    try:
        fn()
    except (ConnectionError, urllib.error.URLError, OSError) as e:
        return True
    except Exception as e:  # http.client.RemoteDisconnected is a ConnectionError subclass
        return "RemoteDisconnected" in type(e).__name__ or "BadStatusLine" in type(e).__name__
    return False


def b64_hmac_sha256(secret, body):
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


class Receiver:
    """A tiny local webhook endpoint. `plan` decides each response's status:
    a list consumed in order (then `default`)."""

    def __init__(self, default=200, plan=None):
        self.default = default
        self.plan = list(plan or [])
        self.received = []
        self.lock = threading.Lock()
        outer = self

        class H(httpserver.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with outer.lock:
                    status = outer.plan.pop(0) if outer.plan else outer.default
                    outer.received.append({"path": self.path, "headers": dict(self.headers.items()),
                                           "body": body, "status": status, "ts": time.time()})
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.srv = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d/hook" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def wait(self, n, timeout=5.0, pred=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                got = [r for r in self.received if pred is None or pred(r)]
            if len(got) >= n:
                return got
            time.sleep(0.02)
        with self.lock:
            return [r for r in self.received if pred is None or pred(r)]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def hdr(r, name):
    """Case-insensitive header lookup on a received webhook."""
    for k, v in r["headers"].items():
        if k.lower() == name.lower():
            return v
    return None
