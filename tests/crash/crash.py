#!/usr/bin/env python3
"""Crash test: every effect exactly once under kill -9.

The runtime (`iex run`, test build) transfers N orders (default 1000) to the
ledger target: per order a customer and an invoice, each an effect. The
ledger is an append-only file the iex process fsyncs before it answers, so
it lives outside the runtime process and is the oracle of what reached the
target. The runtime is killed with SIGKILL at every named crash point
(runtime/crashpoints.def, IEX_CRASH_AT=name:n at a random hit n) and at
random moments, and restarted each time; orders arrive in batches between
the kills. At the end one clean run drains what is left, and the ledger
must hold every order's customer and invoice exactly once: lost and
duplicated effects are counted separately and must both be 0.

Environment: IEX_BUILD (the test build), IEX_ROOT, IEX_CRASH_ORDERS,
IEX_CRASH_SEED (printed, to replay a failure), IEX_FAULT_SCALE.
"""
import json, os, random, re, signal, subprocess, sys, tempfile, time, shutil

build = os.environ["IEX_BUILD"]
root = os.environ["IEX_ROOT"]
iex = os.path.join(build, "bin", "iex")
# Named crash points exist only in the test build (ASan, slow); the bulk of
# the transfers and the random kills use the release build when there is
# one: a kill -9 is the same whatever the build.
fast = os.path.join(root, "build", "release", "bin", "iex")
if not os.access(fast, os.X_OK):
    fast = iex
scale = int(os.environ.get("IEX_FAULT_SCALE", "1"))
n_orders = int(os.environ.get("IEX_CRASH_ORDERS", str(1000 * scale)))
seed = int(os.environ.get("IEX_CRASH_SEED", str(int(time.time() * 1000) % 1000000)))
rnd = random.Random(seed)
budget = float(os.environ.get("IEX_CRASH_SECONDS", "20"))

base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
tmp = tempfile.mkdtemp(prefix="iex-crash-", dir=base)
store = os.path.join(tmp, "iex.db")
ledger = os.path.join(tmp, "ledger.txt")
env = dict(os.environ, IEX_STORE=store)
env.pop("IEX_CRASH_AT", None)
env.pop("IEX_LEDGER_FAULT", None)
env["ASAN_OPTIONS"] = "detect_leaks=0"  # a killed process leaks by design

def say(line):
    print(line, flush=True)

def fail(name, why):
    say("FAIL crash/%s: %s (seed %d, files in %s)" % (name, why, seed, tmp))

flow = {
    "name": "crash_to_ledger", "id": "id", "key": "name", "time": "updated_at",
    "steps": [
        {"name": "customer", "use": "books", "system": "ledger", "op": "customer.create",
         "writes": True, "location": "crash.iexflow:3:1",
         "map": {"reference": "{name}/customer", "email": "{email}"}},
        {"name": "invoice", "use": "books", "system": "ledger", "op": "invoice.create",
         "writes": True, "location": "crash.iexflow:6:1",
         "map": {"reference": "{name}", "customer": "{customer.id}", "total": "{total}"}},
    ],
}
with open(os.path.join(tmp, "crash.flowscript"), "w") as f:
    f.write("#!iex-script-flow\n" + json.dumps(flow))
conns = json.dumps({"books": {"system": "ledger", "base_url": "file:" + ledger}})
r = subprocess.run([iex, "integration", "add", "crash", "--flow", os.path.join(tmp, "crash.flowscript"),
                    "--connections", conns, "--activate-at", "2000-01-01"],
                   env=env, capture_output=True, text=True)
if r.returncode != 0:
    fail("setup", r.stderr.strip())
    sys.exit(0)

# Orders in batches; each batch file is fed (again) until one run reads it whole.
batch = 25
batches = []
for b in range(0, n_orders, batch):
    path = os.path.join(tmp, "batch%04d.jsonl" % b)
    with open(path, "w") as f:
        for i in range(b, min(b + batch, n_orders)):
            f.write(json.dumps({"id": 100000 + i, "name": "#%d" % (100000 + i),
                                "email": "c%d@example.com" % i, "total": "%d.%02d" % (i, i % 100),
                                "updated_at": "2030-01-01T10:00:00Z"}) + "\n")
    batches.append(path)

points = []
with open(os.path.join(root, "runtime", "crashpoints.def")) as f:
    for m in re.finditer(r'^CRASHPOINT\(\w+, "(\w+)"\)', f.read(), re.M):
        points.append(m.group(1))
# Points on the path of `iex run`; the others belong to other callers
# (explicit inbox transactions, polling) and cannot fire here.
must_fire = set(points) - {"inbox_before_commit", "cursor_advanced"}

fired = {}
kills = {"named": 0, "random": 0}
runs = 0
next_batch = 0
start = time.time()

unsure = []  # batches fed to a run that was killed: maybe partly stored

def one_run(crash_at=None, kill_after=None, feed=True, batch_path=None):
    """Run `iex run` once, feeding a fresh batch; True when it was killed.
    A batch fed to a killed run is fed again at the end (the inbox drops
    what it has already)."""
    global next_batch, runs
    args = [iex if crash_at else fast, "run"]
    if batch_path is None and feed and next_batch < len(batches):
        batch_path = batches[next_batch]
        next_batch += 1
    if batch_path:
        args += ["--integration", "crash", "--input", batch_path]
    e = dict(env)
    if crash_at:
        e["IEX_CRASH_AT"] = crash_at
    p = subprocess.Popen(args, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if kill_after is not None:
        try:
            out, err = p.communicate(timeout=kill_after)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            out, err = p.communicate()
    else:
        out, err = p.communicate()
    runs += 1
    killed = p.returncode == -signal.SIGKILL
    if not killed and p.returncode not in (0,):
        fail("run", "iex run exited with %d: %s" % (p.returncode, err.strip()[-400:]))
        sys.exit(0)
    if killed and batch_path:
        unsure.append(batch_path)
    return killed, out

# Every named point, twice, at a random hit; random kills in between.
plan = []
for rnd_round in range(scale):
    names = list(points)
    rnd.shuffle(names)
    plan += names
for name in plan:
    # A batch at full speed, killed at a random moment (while time allows:
    # every named point is tried whatever the time).
    if time.time() - start < budget:
        killed, _ = one_run(kill_after=rnd.uniform(0.02, 0.4))
        kills["random"] += killed
    # A batch in the test build, killed at the point's n-th hit: a point hit
    # once per transfer fires within a few transfers.
    killed, _ = one_run(crash_at="%s:%d" % (name, rnd.randint(1, 6)))
    if killed:
        kills["named"] += 1
        fired[name] = fired.get(name, 0) + 1
# Feed what is left, still with random kills, then everything again that a
# killed run may have stored only in part, then drain without faults.
while next_batch < len(batches) and time.time() - start < budget:
    killed, _ = one_run(kill_after=rnd.uniform(0.05, 1.0))
    kills["random"] += killed
while next_batch < len(batches):
    one_run()
for path in list(unsure):
    one_run(batch_path=path)
for _ in range(5):
    killed, out = one_run(feed=False)
    if "; 0 runs" in out:
        break
elapsed = time.time() - start

# The oracle: the ledger.
count = {}
with open(ledger, "rb") as f:
    for line in f:
        parts = line.split(b"\t", 2)
        if len(parts) == 3:
            key = (parts[0].decode(), parts[1].decode())
            count[key] = count.get(key, 0) + 1
lost = dup = 0
for i in range(n_orders):
    name = "#%d" % (100000 + i)
    for key in (("customer.create", name + "/customer"), ("invoice.create", name)):
        c = count.get(key, 0)
        lost += c == 0
        dup += max(0, c - 1)
say("crash: %d orders, %d effects expected; %d runs, %d named kills (%d points fired), "
    "%d random kills; %.1fs; lost %d, duplicated %d (seed %d)"
    % (n_orders, 2 * n_orders, runs, kills["named"], len(fired), kills["random"],
       elapsed, lost, dup, seed))
if lost == 0:
    say("PASS crash/no_lost_effects")
else:
    fail("no_lost_effects", "%d effects never reached the target" % lost)
if dup == 0:
    say("PASS crash/no_duplicated_effects")
else:
    fail("no_duplicated_effects", "%d effects reached the target more than once" % dup)
missing = sorted(must_fire - set(fired))
if not missing:
    say("PASS crash/every_named_point_fired")
else:
    fail("every_named_point_fired", "never killed at: " + ", ".join(missing))

# Every transfer done, usage counted once per order.
r = subprocess.run([iex, "log", "--status", "done", "--json", "--limit", str(n_orders + 10)],
                   env=env, capture_output=True, text=True)
done = len(json.loads(r.stdout)) if r.returncode == 0 else -1
u = subprocess.run([iex, "usage", "--json"], env=env, capture_output=True, text=True)
used = json.loads(u.stdout)["total"]["orders"] if u.returncode == 0 else -1
if done == n_orders and used == n_orders:
    say("PASS crash/every_transfer_done_and_counted_once")
else:
    fail("every_transfer_done_and_counted_once", "%d done, %d counted, of %d" % (done, used, n_orders))
if lost == 0 and dup == 0 and not missing:
    shutil.rmtree(tmp, ignore_errors=True)
