/*
** `iex import INTEGRATION --since DATE [--from-number N] [--dry-run]`.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/http.h"
#include "runtime/cli.h"
#include "runtime/import.h"
#include "runtime/serve.h"

static void on_signal(int sig) {
  (void)sig;
  serve_request_stop(); /* finish the page in hand; the next run resumes */
}

int cmd_import(int argc, char **argv) {
  ImportOptions o = {.find = connector_find};
  const char *store_path = getenv("IEX_STORE");
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--dry-run") == 0) {
      o.dry_run = true;
    } else if (strcmp(a, "--since") == 0 && v) {
      o.since = v;
      i++;
    } else if (strcmp(a, "--from-number") == 0 && v) {
      char *end;
      long long n = strtoll(v, &end, 10);
      if (!*v || *end || n < 1) return cli_usage_error("import", "--from-number must be >= 1");
      o.from_number = n;
      i++;
    } else if (strcmp(a, "--store") == 0 && v) {
      store_path = v;
      i++;
    } else if (a[0] != '-' && !o.integration) {
      o.integration = a;
    } else {
      return cli_usage_error("import", "unknown or incomplete option `%s`", a);
    }
  }
  if (!o.integration) return cli_usage_error("import", "which integration?");
  if (!o.since) return cli_usage_error("import", "--since DATE is required");
  if (!store_path) return cli_usage_error("import", "no store: give --store PATH or set IEX_STORE");
  o.is_tty = isatty(STDOUT_FILENO);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  Err err;
  err_init(&err);
  Store *s = NULL;
  if (store_open(store_path, NULL, &s, &err) != IEX_OK) {
    fprintf(stderr, "iex import: %s\n", err_text(&err));
    return 2;
  }
  o.http = http_client_new(NULL);
  ImportSummary sum;
  IexStatus rc = import_run(&o, s, &sum, &err);
  http_client_free(o.http);
  store_close(s);
  if (rc != IEX_OK) {
    fprintf(stderr, "iex import: %s\n", err_text(&err));
    return status_group(rc) == STATUS_GROUP_INTERNAL ? 2 : 1;
  }
  return 0;
}
