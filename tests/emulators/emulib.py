"""Shared framework for the iex API emulators (standard library only).

One emulator = one App subclass served by one ThreadingHTTPServer. The base
class provides what every emulated system shares:

  * routing of the public API and of the control API under /_emulator/;
  * a Store (tables of JSON records, counters, the ledger) that can persist to
    a JSON-lines file (a snapshot line followed by change lines) so that the
    emulator can be killed and restarted without losing what it committed;
  * the ledger: every record created or changed through the public API;
  * fault switches: latency, 429 bursts, 5xx, drop-after-create, search lag,
    rate-limit override;
  * a leaky-bucket rate limiter;
  * an outbox and a delivery thread for webhooks.

Everything random draws from one random.Random seeded by --seed, so the same
seed gives the same ids, tokens, seed data and fault decisions.
"""

import base64
import datetime
import decimal
import hashlib
import hmac
import http.client
import http.server
import json
import math
import os
import random
import re
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from collections import deque
from decimal import Decimal

try:
    import zoneinfo
except ImportError:  # pragma: no cover - python < 3.9
    zoneinfo = None

D = Decimal
CENT = Decimal("0.01")


# --------------------------------------------------------------------------
# Small helpers: money, time, ids, json
# --------------------------------------------------------------------------

def money(x):
    """Round half-up to cents and return a Decimal."""
    return D(str(x)).quantize(CENT, rounding=decimal.ROUND_HALF_UP)


def mstr(x):
    """Money as the two-decimal string shops use ("199.00")."""
    return str(money(x))


def mnum(x):
    """Money as a JSON number (float with at most two decimals)."""
    return float(money(x))


def tz(name):
    if zoneinfo is not None:
        try:
            return zoneinfo.ZoneInfo(name)
        except Exception:
            pass
    return datetime.timezone(datetime.timedelta(hours=1), name)


UTC = datetime.timezone.utc


def dt_from_ts(ts, zone=UTC):
    return datetime.datetime.fromtimestamp(int(ts), zone)


def iso_offset(ts, zone):
    """2024-05-01T12:00:00+02:00 (Shopify style)."""
    return dt_from_ts(ts, zone).isoformat()


def iso_naive(ts, zone):
    """2024-05-01T12:00:00 in the given zone, no offset (WooCommerce style)."""
    return dt_from_ts(ts, zone).replace(tzinfo=None).isoformat()


def parse_time(s, default_zone=UTC):
    """Parse an ISO-8601 date or date-time; returns epoch seconds or None."""
    if s is None:
        return None
    s = str(s).strip()
    if not s:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            d = datetime.datetime.strptime(s, "%Y-%m-%d").replace(tzinfo=default_zone)
            return d.timestamp()
        s2 = s.replace("Z", "+00:00").replace(" ", "+") if s.endswith("Z") else s
        # query strings turn '+' into ' ': "2024-01-01T00:00:00 02:00"
        s2 = re.sub(r"(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?) (\d{2}:\d{2})$", r"\1+\4", s2)
        d = datetime.datetime.fromisoformat(s2)
        if d.tzinfo is None:
            d = d.replace(tzinfo=default_zone)
        return d.timestamp()
    except ValueError:
        return None


class JSONEncoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, Decimal):
            if o == o.to_integral_value() and o.as_tuple().exponent >= 0:
                return int(o)
            return float(o)
        return super().default(o)


def dumps(obj, pretty=False):
    if pretty:
        return json.dumps(obj, cls=JSONEncoder, ensure_ascii=False, indent=2)
    return json.dumps(obj, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))


def b64hmac(secret, body):
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode("ascii")


def strip_private(obj):
    """Deep copy without keys starting with '_' (internal bookkeeping)."""
    if isinstance(obj, dict):
        return {k: strip_private(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [strip_private(v) for v in obj]
    return obj


def deep_merge(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            deep_merge(dst[k], v)
        else:
            dst[k] = v
    return dst


# --------------------------------------------------------------------------
# Requests, responses, errors
# --------------------------------------------------------------------------

class Request:
    def __init__(self, method, target, headers, body, client):
        self.method = method.upper()
        self.target = target
        parts = urllib.parse.urlsplit(target)
        self.path = urllib.parse.unquote(parts.path)
        self.raw_path = parts.path
        self.raw_query = parts.query
        self.query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers
        self.body = body or b""
        self.client = client
        self.params = {}
        self._json = None

    def header(self, name, default=None):
        v = self.headers.get(name)
        return default if v is None else v

    def q(self, name, default=None):
        v = self.query.get(name)
        if not v:
            return default
        return v[-1]

    def qlist(self, name):
        """A list parameter: name=a,b or name[]=a&name[]=b or repeated."""
        out = []
        for key in (name, name + "[]"):
            for v in self.query.get(key, []):
                out.extend(x for x in v.split(",") if x != "")
        return out

    @property
    def host(self):
        return self.headers.get("Host") or "127.0.0.1"

    @property
    def base_url(self):
        return "http://" + self.host

    def json(self, parse_float=None):
        if not self.body.strip():
            return None
        return json.loads(self.body.decode("utf-8"), parse_float=parse_float)

    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def form(self):
        return urllib.parse.parse_qs(self.body.decode("utf-8"), keep_blank_values=True)


class Response:
    def __init__(self, status=200, body=None, headers=None, content_type="application/json; charset=utf-8"):
        self.status = status
        self.body = body
        self.headers = list(headers or [])
        self.content_type = content_type
        self.ledger = None      # dict describing a committed change, or None
        self.created = False    # True when the request created a record

    def header(self, name, value):
        self.headers.append((name, str(value)))
        return self

    def encode(self):
        if self.body is None:
            return b""
        if isinstance(self.body, (bytes, bytearray)):
            return bytes(self.body)
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return dumps(self.body).encode("utf-8")


class HTTPError(Exception):
    """Raised by handlers; rendered by App.render_error in the vendor's shape."""

    def __init__(self, status, message="", kind=None, body=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.body = body          # a full vendor error document, if given
        self.headers = headers or []


# --------------------------------------------------------------------------
# The store: tables of records, counters, metadata, ledger, persistence
# --------------------------------------------------------------------------

class Store:
    """In-memory tables of JSON records with optional JSON-lines persistence.

    File format: the first line is {"snapshot": {...}}; each later line is one
    change: {"put": [table, key, record]}, {"del": [table, key]},
    {"meta": [key, value]} or {"ledger": entry}. On load the snapshot is read
    and the changes replayed; then the file is compacted to one snapshot line.
    """

    COMPACT_EVERY = 20000

    def __init__(self, path=None):
        self.path = path
        self.tables = {}
        self.meta = {}
        self.ledger = []
        self._dirty = set()
        self._dirty_meta = set()
        self._new_ledger = []
        self._lines = 0
        self._fh = None
        self.loaded = False
        if path and os.path.exists(path) and os.path.getsize(path) > 0:
            self._load()
            self.loaded = True

    # -- data access ------------------------------------------------------
    def table(self, name):
        return self.tables.setdefault(name, {})

    def get(self, name, key):
        return self.tables.get(name, {}).get(str(key))

    def put(self, name, key, rec):
        self.table(name)[str(key)] = rec
        self._dirty.add((name, str(key)))
        return rec

    def touch(self, name, key):
        self._dirty.add((name, str(key)))

    def delete(self, name, key):
        t = self.table(name)
        if str(key) in t:
            del t[str(key)]
            self._dirty.add((name, str(key)))

    def values(self, name):
        return list(self.tables.get(name, {}).values())

    def next_id(self, name, start=1, step=1):
        counters = self.meta.setdefault("counters", {})
        v = counters.get(name, start - step) + step
        counters[name] = v
        self._dirty_meta.add("counters")
        return v

    def set_meta(self, key, value):
        self.meta[key] = value
        self._dirty_meta.add(key)

    def append_ledger(self, entry):
        entry["seq"] = len(self.ledger) + 1
        self.ledger.append(entry)
        self._new_ledger.append(entry)
        return entry

    def clear(self):
        self.tables = {}
        self.meta = {}
        self.ledger = []
        self._dirty.clear()
        self._dirty_meta.clear()
        self._new_ledger = []

    # -- persistence ------------------------------------------------------
    def snapshot(self):
        return {"tables": self.tables, "meta": self.meta, "ledger": self.ledger}

    def _load(self):
        with open(self.path, "r", encoding="utf-8") as fh:
            for n, line in enumerate(fh):
                line = line.strip()
                if not line:
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    break  # a torn last line after a kill: ignore it
                if "snapshot" in rec:
                    s = rec["snapshot"]
                    self.tables = s.get("tables", {})
                    self.meta = s.get("meta", {})
                    self.ledger = s.get("ledger", [])
                elif "put" in rec:
                    t, k, v = rec["put"]
                    self.tables.setdefault(t, {})[k] = v
                elif "del" in rec:
                    t, k = rec["del"]
                    self.tables.get(t, {}).pop(k, None)
                elif "meta" in rec:
                    k, v = rec["meta"]
                    self.meta[k] = v
                elif "ledger" in rec:
                    self.ledger.append(rec["ledger"])
                elif "reset" in rec:
                    self.tables, self.meta, self.ledger = {}, {}, []

    def compact(self):
        """Rewrite the file as one snapshot line (atomically)."""
        self._dirty.clear()
        self._dirty_meta.clear()
        self._new_ledger = []
        if not self.path:
            return
        if self._fh:
            self._fh.close()
            self._fh = None
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(dumps({"snapshot": self.snapshot()}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self._lines = 1

    def commit(self):
        """Write the changes made since the last commit (one line each)."""
        if not self.path:
            self._dirty.clear()
            self._dirty_meta.clear()
            self._new_ledger = []
            return
        lines = []
        for (t, k) in sorted(self._dirty):
            rec = self.tables.get(t, {}).get(k)
            if rec is None:
                lines.append(dumps({"del": [t, k]}))
            else:
                lines.append(dumps({"put": [t, k, rec]}))
        for k in sorted(self._dirty_meta):
            lines.append(dumps({"meta": [k, self.meta.get(k)]}))
        for e in self._new_ledger:
            lines.append(dumps({"ledger": e}))
        self._dirty.clear()
        self._dirty_meta.clear()
        self._new_ledger = []
        if not lines:
            return
        if self._lines + len(lines) > self.COMPACT_EVERY:
            self.compact()
            return
        if self._fh is None:
            self._fh = open(self.path, "a", encoding="utf-8")
        # One write per commit; survives kill -9 of this process (the page
        # cache keeps it). No fsync: power loss is not what these tests model.
        self._fh.write("\n".join(lines) + "\n")
        self._fh.flush()
        self._lines += len(lines)


# --------------------------------------------------------------------------
# Rate limiting
# --------------------------------------------------------------------------

class LeakyBucket:
    def __init__(self, size=40, leak=2.0):
        self.size = size
        self.leak = float(leak)
        self.level = 0.0
        self.stamp = time.monotonic()

    def _drain(self):
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.stamp) * self.leak)
        self.stamp = now

    def take(self):
        """Returns (allowed, level_after, retry_after_seconds)."""
        self._drain()
        if self.level + 1 > self.size + 1e-9:
            wait = (self.level + 1 - self.size) / self.leak if self.leak > 0 else 60.0
            return False, self.level, wait
        self.level += 1
        return True, self.level, 0.0

    def used(self):
        self._drain()
        return int(math.ceil(self.level - 1e-9))


# --------------------------------------------------------------------------
# The application base class
# --------------------------------------------------------------------------

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class App:
    system = "base"

    def __init__(self, seed=0, state_path=None, config=None):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.seed = seed
        self.rng = random.Random(seed)
        self.fault_rng = random.Random("%s:faults" % seed)
        self.store = Store(state_path)
        self.requests = deque(maxlen=5000)
        self.request_seq = 0
        self.routes = []
        self.control_routes = []
        self.bucket = None
        self.stopping = False
        self.port = None
        self._pending = set()
        self._register_common_control()
        self.register()
        if self.store.loaded:
            # Restarted from a state file: keep data and ledger; the random
            # stream continues from a seed derived from the restart count.
            n = self.store.meta.get("restarts", 0) + 1
            self.store.set_meta("restarts", n)
            self._pending = {d["id"] for d in self.store.values("deliveries") if d["state"] == "pending"}
            self.rng = random.Random(f"{seed}:{n}")
            self.fault_rng = random.Random(f"{seed}:faults:{n}")
            self.store.compact()
        else:
            self.reset(seed=seed, config=config or {}, with_data=True)
        self._apply_rate_limit()
        self.worker = threading.Thread(target=self._delivery_loop, name="webhooks", daemon=True)
        self.worker.start()

    # -- to be provided by subclasses -----------------------------------
    def register(self):
        """Add public routes (self.add) and control routes (self.control)."""

    def default_config(self):
        return {}

    def seed_data(self):
        """Fill the store with the seed data set."""

    def authenticate(self, req):
        """Raise HTTPError(401...) when the request's credentials are wrong."""

    def render_error(self, req, err):
        body = err.body if err.body is not None else {"error": err.message}
        return Response(err.status, body, err.headers)

    def deliver_request(self, delivery):
        """Return (url, headers, body bytes) for one webhook delivery attempt."""
        raise NotImplementedError

    def delivery_outcome(self, delivery, ok, status, error):
        """Called after each delivery attempt (under the lock)."""

    def decorate(self, req, resp, authed):
        """Last chance to add headers (e.g. Shopify's call-limit header)."""

    # -- routing ----------------------------------------------------------
    def add(self, method, pattern, fn):
        self.routes.append((method, re.compile("^" + pattern + "$"), fn))

    def control(self, method, pattern, fn):
        self.control_routes.append((method, re.compile("^/_emulator" + pattern + "$"), fn))

    @staticmethod
    def _match(routes, req):
        allowed = []
        for method, rx, fn in routes:
            m = rx.match(req.path)
            if m:
                if method == req.method or (method == "GET" and req.method == "HEAD"):
                    return fn, m.groupdict(), allowed
                allowed.append(method)
        return None, None, allowed

    # -- config and state -------------------------------------------------
    @property
    def config(self):
        return self.store.meta["config"]

    @property
    def faults(self):
        return self.store.meta.setdefault("faults", {})

    def set_faults(self, faults):
        self.store.set_meta("faults", faults)
        self.fault_rng = random.Random("%s:faults:%d" % (self.seed, self.store.next_id("fault_epoch", 1)))
        self._apply_rate_limit()

    def reset(self, seed=None, config=None, with_data=True):
        with self.lock:
            if seed is not None:
                self.seed = seed
            self.rng = random.Random(self.seed)
            self.fault_rng = random.Random("%s:faults" % self.seed)
            self.store.clear()
            self._pending = set()
            cfg = self.default_config()
            deep_merge(cfg, config or {})
            self.store.set_meta("config", cfg)
            self.store.set_meta("faults", {})
            self.store.set_meta("seed", self.seed)
            self.store.set_meta("started_at", time.time())
            self.requests.clear()
            self.request_seq = 0
            self.bucket = None
            if with_data and cfg.get("seed_data", True):
                self.seed_data()
            self.store.compact() if self.store.path else self.store.commit()
            self._apply_rate_limit()
            self.cond.notify_all()

    def _apply_rate_limit(self):
        rl = self.faults.get("rate_limit") or self.config.get("rate_limit")
        if rl and rl.get("enabled", True) and rl.get("bucket"):
            size, leak = int(rl["bucket"]), float(rl.get("leak", 2.0))
            if not self.bucket or self.bucket.size != size or self.bucket.leak != leak:
                self.bucket = LeakyBucket(size, leak)
        else:
            self.bucket = None

    def uuid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def now(self):
        return time.time()

    def visible(self, rec):
        """False while a just-created record is hidden from searches (search lag)."""
        v = rec.get("_visible_at")
        return v is None or v <= time.time()

    def search_lag_stamp(self, rec):
        lag = float(self.faults.get("search_lag") or 0)
        if lag > 0:
            rec["_visible_at"] = time.time() + lag
        return rec

    # -- the public pipeline ----------------------------------------------
    def _fault_matches(self, spec, req):
        if not spec:
            return False
        m = spec.get("method")
        if m and m.upper() != req.method:
            return False
        p = spec.get("path")
        if p and not re.search(p, req.path):
            return False
        return True

    def _take_count(self, key, req):
        spec = self.faults.get(key)
        if not self._fault_matches(spec, req):
            return None
        n = int(spec.get("count", 0))
        if n > 0:
            spec["count"] = n - 1
            self.store.set_meta("faults", self.faults)
            return spec
        pct = float(spec.get("percent", 0) or 0)
        if pct > 0 and self.fault_rng.random() * 100 < pct:
            return spec
        return None

    def too_many_requests(self, req, retry_after):
        return self.render_error(req, HTTPError(429, "Too many requests", "rate_limit",
                                                headers=[("Retry-After", fmt_retry(retry_after))]))

    def handle_public(self, req):
        """Returns (Response or None when the connection must be reset, hang seconds)."""
        lat = self.faults.get("latency")
        if lat and self._fault_matches(lat, req):
            with self.lock:
                extra = self.fault_rng.uniform(0, float(lat.get("jitter_ms", 0))) if lat.get("jitter_ms") else 0
            time.sleep((float(lat.get("ms", 0)) + extra) / 1000.0)
        with self.lock:
            self.request_seq += 1
            entry = {"seq": self.request_seq, "ts": round(time.time(), 3), "method": req.method,
                     "path": req.path, "query": req.raw_query}
            self.requests.append(entry)
            resp, drop = self._public_locked(req)
            entry["status"] = resp.status if resp else None
            if drop:
                entry["fault"] = "dropped_after_create"
            self.store.commit()
            self.cond.notify_all()
        if drop:
            return None, float(drop.get("hang_ms", 0)) / 1000.0
        return resp, 0

    def _public_locked(self, req):
        spec = self._take_count("burst_429", req)
        if spec:
            resp = self.too_many_requests(req, float(spec.get("retry_after", 1.0)))
            self.decorate(req, resp, False)
            return resp, None
        spec = self._take_count("server_errors", req)
        if spec:
            st = int(spec.get("status", 500))
            resp = self.render_error(req, HTTPError(st, "Injected server error", "server_error"))
            self.decorate(req, resp, False)
            return resp, None
        try:
            self.authenticate(req)
        except HTTPError as e:
            resp = self.render_error(req, e)
            self.decorate(req, resp, False)
            return resp, None
        if self.bucket:
            ok, level, wait = self.bucket.take()
            if not ok:
                resp = self.too_many_requests(req, wait)
                self.decorate(req, resp, True)
                return resp, None
        fn, params, allowed = self._match(self.routes, req)
        try:
            if fn is None:
                if allowed:
                    raise HTTPError(405, "Method not allowed", "method")
                raise HTTPError(404, "Not found", "no_route")
            req.params = params
            resp = fn(req, **params)
            if not isinstance(resp, Response):
                resp = Response(200, resp)
        except HTTPError as e:
            resp = self.render_error(req, e)
        except Exception as e:  # a bug in the emulator: say so loudly
            traceback.print_exc()
            resp = self.render_error(req, HTTPError(500, "Emulator error: %r" % (e,), "server_error"))
        self.decorate(req, resp, True)
        drop = None
        if resp.ledger is not None and resp.status < 400:
            e = {"ts": round(time.time(), 3), "method": req.method, "path": req.path,
                 "query": req.raw_query, "status": resp.status}
            e.update(resp.ledger)
            if "body" not in e:
                try:
                    e["body"] = req.json()
                except ValueError:
                    e["body"] = req.body.decode("utf-8", "replace")
            spec = self.faults.get("drop_after_create") or {}
            if resp.created or spec.get("any_write"):
                drop = self._take_count("drop_after_create", req)
                if drop:
                    e["dropped"] = True
            self.store.append_ledger(e)
        return resp, drop

    # -- the control API ----------------------------------------------------
    def handle_control(self, req):
        fn, params, allowed = self._match(self.control_routes, req)
        try:
            if fn is None:
                raise HTTPError(404 if not allowed else 405, "no such control endpoint")
            req.params = params
            with self.lock:
                out = fn(req, **params)
                self.store.commit()
                self.cond.notify_all()
            if isinstance(out, Response):
                return out
            return Response(200, out)
        except HTTPError as e:
            return Response(e.status, {"error": e.message})
        except (ValueError, KeyError, TypeError) as e:
            return Response(400, {"error": "%s: %s" % (type(e).__name__, e)})

    def _register_common_control(self):
        c = self.control
        c("GET", "/health", lambda r: {"system": self.system, "ok": True, "port": self.port,
                                       "seed": self.seed, "records": {k: len(v) for k, v in self.store.tables.items()}})
        c("POST", "/reset", self._c_reset)
        c("GET", "/config", lambda r: self.config)
        c("POST", "/config", self._c_config)
        c("PATCH", "/config", self._c_config)
        c("GET", "/faults", lambda r: self.faults)
        c("POST", "/faults", self._c_faults)
        c("DELETE", "/faults", self._c_faults_clear)
        c("GET", "/ledger", self._c_ledger)
        c("GET", "/requests", self._c_requests)
        c("GET", "/records/(?P<table>[A-Za-z0-9_\\-]+)", self._c_records)
        c("GET", "/state", lambda r: self.store.snapshot())
        c("GET", "/webhooks/deliveries", self._c_deliveries)
        c("POST", "/webhooks/wait", self._c_wait_deliveries)
        c("POST", "/shutdown", self._c_shutdown)

    def _c_shutdown(self, req):
        hook = getattr(self, "on_shutdown", None)
        if hook is None:
            raise HTTPError(501, "not started by serve.py")
        threading.Timer(0.05, hook).start()
        return {"ok": True}

    def _c_reset(self, req):
        body = req.json() or {}
        self.reset(seed=body.get("seed"), config=body.get("config") or {},
                   with_data=body.get("data", True))
        return {"ok": True, "seed": self.seed}

    def _c_config(self, req):
        body = req.json() or {}
        cfg = self.config
        deep_merge(cfg, body)
        self.store.set_meta("config", cfg)
        self._apply_rate_limit()
        return cfg

    def _c_faults(self, req):
        body = req.json() or {}
        f = dict(self.faults)
        for k, v in body.items():
            if v is None:
                f.pop(k, None)
            elif k == "search_lag":
                f[k] = float(v)
            elif isinstance(v, int) and k in ("burst_429", "server_errors", "drop_after_create"):
                f[k] = {"count": v}
            else:
                f[k] = v
        self.set_faults(f)
        return f

    def _c_faults_clear(self, req):
        self.set_faults({})
        return {}

    def _c_ledger(self, req):
        since = int(req.q("since", 0))
        ref = req.q("reference")
        out = [e for e in self.store.ledger if e["seq"] > since and (ref is None or e.get("reference") == ref)]
        return {"entries": out, "last": len(self.store.ledger)}

    def _c_requests(self, req):
        since = int(req.q("since", 0))
        return {"requests": [e for e in self.requests if e["seq"] > since], "last": self.request_seq}

    def _c_records(self, req, table):
        return {table: self.store.values(table)}

    def _c_deliveries(self, req):
        return {"deliveries": self.store.values("deliveries")}

    def _c_wait_deliveries(self, req):
        """Block until no webhook delivery is pending (or timeout)."""
        body = req.json() or {}
        deadline = time.time() + float(body.get("timeout", 10))
        while True:
            pending = self.pending_deliveries()
            if not pending or time.time() >= deadline:
                break
            self.cond.wait(timeout=0.05)
        return {"pending": len(pending)}

    # -- webhooks: outbox and delivery thread ----------------------------
    def enqueue_delivery(self, d):
        """d: a dict with at least subscription, topic, payload; stored as pending."""
        n = self.store.next_id("delivery")
        d.setdefault("attempts", [])
        d.update({"id": n, "state": "pending", "next_at": time.time() + float(d.get("delay", 0))})
        self.store.put("deliveries", n, d)
        self._pending.add(n)
        self.cond.notify_all()
        return d

    def pending_deliveries(self):
        out = []
        for i in list(self._pending):
            d = self.store.get("deliveries", i)
            if d is None or d["state"] != "pending":
                self._pending.discard(i)
            else:
                out.append(d)
        return out

    def _delivery_loop(self):
        while not self.stopping:
            job = None
            with self.lock:
                now = time.time()
                pending = self.pending_deliveries()
                due = [d for d in pending if d["next_at"] <= now]
                if due:
                    job = min(due, key=lambda d: (d["next_at"], d["id"]))
                    try:
                        url, headers, body = self.deliver_request(job)
                    except Exception:
                        traceback.print_exc()
                        job["state"] = "failed"
                        self.store.touch("deliveries", job["id"])
                        self.store.commit()
                        continue
                    timeout = float(self.config.get("webhook_timeout", 5.0))
                else:
                    nxt = [d["next_at"] for d in pending]
                    wait = min(0.5, max(0.005, min(nxt) - now)) if nxt else 0.5
                    self.cond.wait(timeout=wait)
                    continue
            ok, status, error = post_url(url, headers, body, timeout)
            with self.lock:
                job["attempts"].append({"ts": round(time.time(), 3), "status": status, "error": error})
                self.store.touch("deliveries", job["id"])
                try:
                    self.delivery_outcome(job, ok, status, error)
                except Exception:
                    traceback.print_exc()
                self.store.commit()
                self.cond.notify_all()


def fmt_retry(seconds):
    return "%.1f" % max(1.0, math.ceil(seconds))


def post_url(url, headers, body, timeout):
    """POST body to url; returns (ok, status, error). ok = 2xx."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return False, None, "unsupported scheme"
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = cls(parts.hostname, parts.port, timeout=timeout)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.request("POST", path, body=body, headers=dict(headers))
        r = conn.getresponse()
        r.read()
        conn.close()
        return 200 <= r.status < 300, r.status, None
    except Exception as e:
        return False, None, "%s: %s" % (type(e).__name__, e)


# --------------------------------------------------------------------------
# HTTP server glue
# --------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits
    # for the client's delayed ACK (40 ms per request on Linux loopback).
    disable_nagle_algorithm = True
    app = None  # set on the subclass made by make_server
    verbose = False

    def version_string(self):
        return self.app.server_header if hasattr(self.app, "server_header") else "emulator"

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("%s %s\n" % (self.app.system, fmt % args))

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _handle(self):
        body = self._read_body()
        req = Request(self.command, self.path, self.headers, body, self.client_address)
        if req.path.startswith("/_emulator/") or req.path == "/_emulator":
            resp = self.app.handle_control(req)
        else:
            resp, hang = self.app.handle_public(req)
            if resp is None:
                if hang > 0:
                    time.sleep(hang)
                self._reset_connection()
                return
        self._send(resp, head=(self.command == "HEAD"))

    def _send(self, resp, head=False):
        data = resp.encode()
        self.send_response(resp.status)
        names = {k.lower() for k, _ in resp.headers}
        if resp.body is not None and "content-type" not in names and resp.content_type:
            self.send_header("Content-Type", resp.content_type)
        for k, v in resp.headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head and data:
            self.wfile.write(data)

    def _reset_connection(self):
        """Abort with a TCP RST: the client cannot know whether we committed."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            fd = self.connection.detach()
            os.close(fd)
        except OSError:
            pass

    def finish(self):
        try:
            super().finish()
        except (OSError, ValueError):
            pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, OSError, ValueError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def make_server(app, host="127.0.0.1", port=0, verbose=False):
    handler = type("BoundHandler", (Handler,), {"app": app, "verbose": verbose})
    srv = Server((host, port), handler)
    app.port = srv.server_address[1]
    return srv
