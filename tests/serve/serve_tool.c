/*
** serve_tool: the store-side fixtures of the serve suite (tests/serve/).
** It goes through runtime/store.h, never around it, so the suite does not
** depend on the store's tables.
**
**   serve_tool add-integration STORE NAME CONNECTIONS_JSON   -> prints id
**   serve_tool inbox STORE          -> one line per pending event:
**                                      id source topic dedup_key duplicates body_bytes
**   serve_tool cursor STORE NAME RECORD_TYPE    -> the poll cursor or "-"
**   serve_tool add-failed STORE NAME SOURCE_ID  -> a transfer whose run
**                                      failed; prints its id
**   serve_tool runs STORE TRANSFER_ID  -> one line per run: id reason status
**   serve_tool settings STORE NAME JSON -> replace the settings values
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/store.h"

static int die(const char *what, const Err *err) {
  fprintf(stderr, "serve_tool: %s: %s\n", what, err_text(err));
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: serve_tool COMMAND STORE ...\n");
    return 2;
  }
  const char *cmd = argv[1];
  Err err;
  err_init(&err);
  Store *s = NULL;
  if (store_open(argv[2], NULL, &s, &err) != IEX_OK) return die("open", &err);
  Arena a;
  arena_init(&a);
  int rc = 0;
  if (strcmp(cmd, "add-integration") == 0 && argc == 5) {
    StoreIntegrationNew in = {.name = argv[3],
                              .iexb = STR_LIT("IEXB"),
                              .iexb_hash = "test",
                              .connections_json = argv[4],
                              .activated_at_us = 1,
                              .is_active = true};
    int64_t id = 0;
    if (store_integration_add(s, &in, &id, &err) != IEX_OK)
      rc = die("add-integration", &err);
    else
      printf("%lld\n", (long long)id);
  } else if (strcmp(cmd, "inbox") == 0 && argc == 3) {
    StoreInboxItem *items;
    size_t n;
    if (store_inbox_pending(s, 100000, &a, &items, &n, &err) != IEX_OK)
      rc = die("inbox", &err);
    for (size_t i = 0; rc == 0 && i < n; i++)
      printf("%lld %s %s %s %lld %zu\n", (long long)items[i].id,
             items[i].source, items[i].topic ? items[i].topic : "-",
             items[i].dedup_key, (long long)items[i].n_duplicates,
             items[i].body.len);
  } else if (strcmp(cmd, "cursor") == 0 && argc == 5) {
    StoreIntegration it;
    const char *v = NULL;
    if (store_integration_find(s, argv[3], &a, &it, &err) != IEX_OK ||
        store_cursor_get(s, it.id, argv[4], &a, &v, &err) != IEX_OK)
      rc = die("cursor", &err);
    else
      printf("%s\n", v ? v : "-");
  } else if (strcmp(cmd, "add-failed") == 0 && argc == 5) {
    StoreIntegration it;
    int64_t t = 0, rev = 0, run = 0;
    bool is_new, claimed;
    StoreRun r;
    StoreOutcome out = {.code = IEX_E_VALIDATION,
                        .message = "e-conomic refused the invoice"};
    if (store_integration_find(s, argv[3], &a, &it, &err) != IEX_OK ||
        store_transfer_get_or_add(s, it.id, argv[4], argv[4], &t, NULL, &err) ||
        store_revision_add(s, t, "{\"id\": 1, \"total\": 19.99}", NULL, 0,
                           &rev, &is_new, &err) ||
        store_run_add(s, rev, 0, "event", &run, &err) ||
        store_run_claim(s, "tool", 60000000, &a, &r, &claimed, &err) ||
        !claimed ||
        store_run_finish(s, r.id, "tool", STORE_RUN_FAILED, &out, &err))
      rc = die("add-failed", &err);
    else
      printf("%lld\n", (long long)t);
  } else if (strcmp(cmd, "settings") == 0 && argc == 5) {
    StoreIntegration it;
    if (store_integration_find(s, argv[3], &a, &it, &err) != IEX_OK ||
        store_settings_set(s, it.id, argv[4], &err) != IEX_OK)
      rc = die("settings", &err);
  } else if (strcmp(cmd, "runs") == 0 && argc == 4) {
    StoreRun *runs;
    size_t n;
    if (store_run_list(s, strtoll(argv[3], NULL, 10), &a, &runs, &n, &err))
      rc = die("runs", &err);
    for (size_t i = 0; rc == 0 && i < n; i++)
      printf("%lld %s %s\n", (long long)runs[i].id, runs[i].reason,
             store_run_status_name(runs[i].status));
  } else {
    fprintf(stderr, "serve_tool: bad command line\n");
    rc = 2;
  }
  arena_fini(&a);
  store_close(s);
  return rc;
}
