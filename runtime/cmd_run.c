/*
** `iex run`, `iex retry`, `iex replay`: making transfers happen from the
** command line, once, without a server.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "runtime/cli.h"
#include "runtime/cmd_common.h"
#include "runtime/executor.h"
#include "runtime/json_value.h"

static void print_stats(const ExecutorStats *st) {
  printf("%zu new revisions, %zu unchanged; %zu runs: %zu done, %zu skipped, "
         "%zu failed, %zu waiting, %zu attention; effects: %zu sent, %zu "
         "reused, %zu found by reference\n",
         st->events, st->unchanged, st->runs, st->done, st->skipped,
         st->failed, st->waiting, st->attention, st->sent, st->reused,
         st->adopted);
}

static int submit_file(Executor *x, Store *s, const char *integration,
                       const char *path) {
  Arena a;
  arena_init(&a);
  StoreIntegration ig;
  if (!cmd_find_integration(s, "run", integration, &a, &ig)) {
    arena_fini(&a);
    return 1;
  }
  JsonvLines r;
  char why[256];
  if (!jsonv_lines_open(&r, path, 16 << 20, why, sizeof why)) {
    fprintf(stderr, "iex run: cannot read %s: %s\n", path, why);
    arena_fini(&a);
    return 2;
  }
  int status = 0;
  Str line;
  int got;
  size_t added = 0, dups = 0;
  while ((got = jsonv_lines_next(&r, &line, why, sizeof why)) != 0) {
    if (got < 0) {
      fprintf(stderr, "iex run: %s line %llu: %s\n", path,
              (unsigned long long)r.line_no, why);
      status = 1;
      continue;
    }
    Err err;
    err_init(&err);
    bool dup;
    if (executor_submit(x, ig.id, line, "import", &dup, &err) != IEX_OK) {
      fprintf(stderr, "iex run: %s line %llu: %s\n", path,
              (unsigned long long)r.line_no, err_text(&err));
      status = status_group(err.code) == STATUS_GROUP_INTERNAL ? 2 : 1;
      if (status == 2) break;
      continue;
    }
    dup ? dups++ : added++;
  }
  jsonv_lines_close(&r);
  printf("%zu records stored, %zu already there\n", added, dups);
  arena_fini(&a);
  return status;
}

int cmd_run(int argc, char **argv) {
  const char *input = cmd_option(&argc, argv, "input");
  const char *integration = cmd_option(&argc, argv, "integration");
  Store *s = cmd_open_store("run", &argc, argv);
  if (!s) return 2;
  if (argc != 1 || cmd_unknown_option(argc, argv) ||
      (input && (!integration || !*integration))) {
    store_close(s);
    return cli_usage_error("run", input ? "--input needs --integration"
                                        : "takes only options");
  }
  ExecutorOptions opt = {.quiet = false};
  Executor *x = executor_new(s, &opt);
  int status = 0;
  if (input) status = submit_file(x, s, integration, input);
  if (status != 2) {
    ExecutorStats st;
    memset(&st, 0, sizeof st);
    Err err;
    err_init(&err);
    if (executor_run_pending(x, &st, &err) != IEX_OK) {
      fprintf(stderr, "iex run: %s\n", err_text(&err));
      status = 2;
    }
    print_stats(&st);
    if (status == 0 && (st.failed || st.attention)) status = 1;
  }
  executor_free(x);
  store_close(s);
  return status;
}

int cmd_retry(int argc, char **argv) {
  bool failed = cmd_flag(&argc, argv, "failed");
  const char *integration = cmd_option(&argc, argv, "integration");
  Store *s = cmd_open_store("retry", &argc, argv);
  if (!s) return 2;
  if (cmd_unknown_option(argc, argv) || (failed ? argc != 1 : argc != 2)) {
    store_close(s);
    return cli_usage_error("retry", "give a transfer, or --failed");
  }
  Arena a;
  arena_init(&a);
  Executor *x = executor_new(s, NULL);
  Err err;
  err_init(&err);
  int status = 0;
  size_t queued = 0;
  if (failed) {
    int64_t ig_id = 0;
    StoreIntegration ig;
    if (integration) {
      if (!cmd_find_integration(s, "retry", integration, &a, &ig)) status = 1;
      else ig_id = ig.id;
    }
    StoreTransfer *items = NULL;
    size_t n = 0;
    if (status == 0 && store_transfers_failed(s, ig_id, &a, &items, &n, &err) != IEX_OK) {
      fprintf(stderr, "iex retry: %s\n", err_text(&err));
      status = 2;
    }
    for (size_t i = 0; status == 0 && i < n; i++) {
      if (executor_retry(x, items[i].id, "retry --failed", &err) != IEX_OK) {
        fprintf(stderr, "iex retry: transfer %lld: %s\n",
                (long long)items[i].id, err_text(&err));
        status = 1;
      } else {
        queued++;
      }
    }
  } else {
    int64_t id;
    if (!cmd_resolve_transfer(s, "retry", argv[1], &id)) {
      status = 1;
    } else if (executor_retry(x, id, "retry", &err) != IEX_OK) {
      fprintf(stderr, "iex retry: %s\n", err_text(&err));
      status = 1;
    } else {
      queued = 1;
    }
  }
  if (status == 0) {
    printf("%zu transfers queued again\n", queued);
    ExecutorStats st;
    memset(&st, 0, sizeof st);
    if (executor_run_pending(x, &st, &err) != IEX_OK) {
      fprintf(stderr, "iex retry: %s\n", err_text(&err));
      status = 2;
    } else {
      print_stats(&st);
      if (st.failed || st.attention) status = 1;
    }
  }
  executor_free(x);
  arena_fini(&a);
  store_close(s);
  return status;
}

int cmd_replay(int argc, char **argv) {
  const char *flow_path = cmd_option(&argc, argv, "flow");
  Store *s = cmd_open_store("replay", &argc, argv);
  if (!s) return 2;
  if (cmd_unknown_option(argc, argv) || argc != 2 || !flow_path || !*flow_path) {
    store_close(s);
    return cli_usage_error("replay", "give a transfer and --flow NEW.iexb");
  }
  int status = 2;
  int64_t id;
  char why[256];
  size_t len;
  char *bytes = NULL;
  Flow flow;
  memset(&flow, 0, sizeof flow);
  Err err;
  err_init(&err);
  Executor *x = executor_new(s, NULL);
  if (!cmd_resolve_transfer(s, "replay", argv[1], &id)) {
    status = 1;
  } else if (!(bytes = read_file(flow_path, 64 << 20, &len, why, sizeof why))) {
    fprintf(stderr, "iex replay: cannot read %s: %s\n", flow_path, why);
  } else if (flow_load(str_make(bytes, len), flow_path, &flow, &err) != IEX_OK) {
    fprintf(stderr, "iex replay: %s\n", err_text(&err));
    status = 1;
  } else {
    StoreRunStatus rs = STORE_RUN_QUEUED;
    if (executor_replay(x, id, &flow, &rs, &err) != IEX_OK) {
      fprintf(stderr, "iex replay: %s\n", err_text(&err));
      status = status_group(err.code) == STATUS_GROUP_INTERNAL ? 2 : 1;
    } else {
      printf("transfer %lld replayed with %s: %s\n", (long long)id, flow_path,
             store_run_status_name(rs));
      status = rs == STORE_RUN_DONE || rs == STORE_RUN_SKIPPED ? 0 : 1;
    }
  }
  executor_free(x);
  flow_close(&flow);
  free(bytes);
  store_close(s);
  return status;
}
