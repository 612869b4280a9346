/*
** `iex serve`: options, signals, and the glue between the server
** (runtime/serve.h), the poller (runtime/poller.h) and the executor.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connector.h"
#include "connectors/http.h"
#include "runtime/cli.h"
#include "runtime/poller.h"
#include "runtime/serve.h"
#include "runtime/serve_work.h"

static void on_signal(int sig) {
  (void)sig;
  serve_request_stop();
}

/* A whole number in [min, max] from `s`, or -1. */
static long long number(const char *s, long long min, long long max) {
  char *end;
  long long v = strtoll(s, &end, 10);
  if (!*s || *end || v < min || v > max) return -1;
  return v;
}

int cmd_serve(int argc, char **argv) {
  ServeOptions o = {.store_path = getenv("IEX_STORE")};
  bool polling = true, working = true;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--no-poll") == 0) {
      polling = false;
      continue;
    }
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    long long n;
    if (strcmp(a, "--store") == 0 && v) {
      o.store_path = v;
    } else if (strcmp(a, "--listen") == 0 && v) {
      o.listen_addr = v;
    } else if (strcmp(a, "--port") == 0 && v) {
      if ((n = number(v, 0, 65535)) < 0)
        return cli_usage_error("serve", "--port must be 0..65535");
      o.port = (int)n;
    } else if (strcmp(a, "--port-file") == 0 && v) {
      o.port_file = v;
    } else if (strcmp(a, "--max-body") == 0 && v) {
      if ((n = number(v, 1024, 64LL * 1024 * 1024)) < 0)
        return cli_usage_error("serve", "--max-body must be 1024..67108864 bytes");
      o.max_body_bytes = (size_t)n;
    } else if (strcmp(a, "--replay-window") == 0 && v) {
      if ((n = number(v, 60, 7 * 86400)) < 0)
        return cli_usage_error("serve", "--replay-window must be 60..604800 seconds");
      o.replay_window_us = n * 1000000;
    } else if (strcmp(a, "--workers") == 0 && v) {
      if ((n = number(v, 0, 64)) < 0)
        return cli_usage_error("serve", "--workers must be 0..64 (0: events wait in the inbox)");
      o.n_workers = (int)n;
      working = n > 0;
    } else if (strcmp(a, "--grace") == 0 && v) {
      if ((n = number(v, 1, 3600)) < 0)
        return cli_usage_error("serve", "--grace must be 1..3600 seconds");
      o.grace_us = n * 1000000;
    } else if (strcmp(a, "--poll-interval") == 0 && v) {
      if ((n = number(v, 1, 86400)) < 0)
        return cli_usage_error("serve", "--poll-interval must be 1..86400 seconds");
      o.poll_interval_us = n * 1000000;
    } else {
      return cli_usage_error("serve", "unknown or incomplete option `%s`", a);
    }
    i++;
  }
  if (!o.store_path)
    return cli_usage_error("serve", "no store: give --store PATH or set IEX_STORE");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  /* Polling: the connectors' own list calls, one HTTP client for all. */
  HttpClient *http = http_client_new(NULL);
  Poller poller = {.http = http, .find = connector_find};
  if (polling && http) o.poll = (ServePoll){&poller, poller_poll_all};

  if (working) o.work = serve_work_executor(); /* workers run the executor */

  Err err;
  err_init(&err);
  IexStatus rc = serve_run(&o, &err);
  serve_work_free();
  http_client_free(http);
  if (rc != IEX_OK) {
    fprintf(stderr, "iex serve: %s\n", err_text(&err));
    return 2;
  }
  return 0;
}
