#!/usr/bin/env python3
"""Start one emulator: serve.py SYSTEM [--port 0] [--seed N] [--state FILE].

SYSTEM is shopify, woocommerce, economic or dinero. Prints exactly one line,
"listening 127.0.0.1:PORT", once the socket is bound, then serves until
SIGTERM/SIGINT. With --state FILE everything the emulator commits (records,
ledger, counters, config, faults) is written to FILE and read back on the
next start, so it survives kill -9.
"""
import argparse
import json
import os
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import emulib  # noqa: E402

SYSTEMS = ("shopify", "woocommerce", "economic", "dinero")


def build_app(system, seed=0, state=None, config=None):
    if system not in SYSTEMS:
        raise SystemExit("unknown system %r (one of: %s)" % (system, ", ".join(SYSTEMS)))
    mod = __import__(system)
    return mod.create(seed=seed, state_path=state, config=config)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("system", choices=SYSTEMS)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--state", help="JSON-lines state file (created if missing)")
    ap.add_argument("--config", help="JSON object (or @file) merged into the default config")
    ap.add_argument("--port-file", help="also write the bound port to this file")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    a = ap.parse_args(argv)
    cfg = None
    if a.config:
        text = open(a.config[1:]).read() if a.config.startswith("@") else a.config
        cfg = json.loads(text)
    app = build_app(a.system, seed=a.seed, state=a.state, config=cfg)
    srv = emulib.make_server(app, a.host, a.port, verbose=a.verbose)
    host, port = srv.server_address[:2]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write("%d\n" % port)
        os.replace(tmp, a.port_file)
    print("listening %s:%d" % (host, port), flush=True)

    def stop(signum=None, frame=None):
        threading.Thread(target=srv.shutdown, daemon=True).start()
    app.on_shutdown = stop
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        app.stopping = True
        with app.lock:
            app.store.commit()
        srv.server_close()


if __name__ == "__main__":
    main()
