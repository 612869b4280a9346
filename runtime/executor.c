/*
** The executor (runtime/executor.h): inbox -> transfers -> runs. The Host
** that carries out a run's operations is runtime/executor_host.c.
*/
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/datetime.h"
#include "common/util.h"
#include "runtime/bytecode.h"
#include "runtime/crash.h"
#include "runtime/executor_int.h"
#include "runtime/json_value.h"
#include "runtime/ledger.h"

/* ---- Flows ------------------------------------------------------------ */

IexStatus flow_load(Str bytes, const char *origin, Flow *out, Err *err) {
  size_t magic = strlen(FLOW_SCRIPT_MAGIC);
  if (bytes.len >= magic && memcmp(bytes.ptr, FLOW_SCRIPT_MAGIC, magic) == 0)
    return flow_script_load(bytes, origin, out, err);
  if (bytes.len >= BYTECODE_MAGIC_LEN &&
      memcmp(bytes.ptr, BYTECODE_MAGIC, BYTECODE_MAGIC_LEN) == 0)
    return flow_vm_load(bytes, origin, out, err);
  return err_set(err, IEX_E_INVALID,
                 "%s is not a flow this iex can run (neither a compiled "
                 ".iexb flow nor a scripted one)",
                 origin);
}

void flow_close(Flow *f) {
  if (f && f->close) f->close(f->ctx);
  if (f) memset(f, 0, sizeof *f);
}

/* ---- Connectors --------------------------------------------------------- */

const Connector *executor_builtin_connector(const char *system) {
  if (strcmp(system, connector_ledger.system) == 0) return &connector_ledger;
  return NULL;
}

/* ---- The executor's state -------------------------------------------- */

Executor *executor_new(Store *store, const ExecutorOptions *opt) {
  Executor *x = xcalloc(1, sizeof *x);
  x->store = store;
  if (opt) x->opt = *opt;
  if (x->opt.lease_us <= 0) x->opt.lease_us = 5 * 60 * SEC;
  if (x->opt.retry.base_us <= 0) x->opt.retry.base_us = retry_default.base_us;
  if (x->opt.retry.cap_us <= 0) x->opt.retry.cap_us = retry_default.cap_us;
  if (x->opt.retry.horizon_us <= 0)
    x->opt.retry.horizon_us = retry_default.horizon_us;
  if (!x->opt.notify_to) x->opt.notify_to = "operator";
  if (x->opt.worker_id) {
    snprintf(x->worker, sizeof x->worker, "%s", x->opt.worker_id);
  } else {
    char host[64] = "localhost";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(x->worker, sizeof x->worker, "%s:%ld", host, (long)getpid());
  }
  uint64_t seed = x->opt.seed;
  if (!seed) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
  }
  retry_random_seed(&x->rnd, seed);
  return x;
}

void executor_free(Executor *x) {
  if (!x) return;
  for (size_t i = 0; i < x->n_loaded; i++) {
    flow_close(&x->loaded[i]->flow);
    arena_fini(&x->loaded[i]->arena);
    free(x->loaded[i]);
  }
  free(x->loaded);
  free(x->conns);
  http_client_free(x->http);
  free(x);
}


static Loaded *find_loaded(Executor *x, int64_t id) {
  for (size_t i = 0; i < x->n_loaded; i++)
    if (x->loaded[i]->id == id) return x->loaded[i];
  return NULL;
}

static IexStatus load(Executor *x, int64_t id, Loaded **out, Err *err) {
  Loaded *l = find_loaded(x, id);
  if (l) {
    *out = l;
    return IEX_OK;
  }
  l = xcalloc(1, sizeof *l);
  l->id = id;
  arena_init(&l->arena);
  IexStatus rc = store_integration_get(x->store, id, &l->arena, &l->ig, err);
  if (rc == IEX_OK) {
    char origin[160];
    snprintf(origin, sizeof origin, "the flow of integration %s", l->ig.name);
    rc = flow_load(l->ig.iexb, origin, &l->flow, err);
  }
  if (rc == IEX_OK) {
    JsonvError je;
    const char *cj = l->ig.connections_json ? l->ig.connections_json : "{}";
    if (!jsonv_decode(&l->arena, str_from_cstr(cj), NULL, &l->connections,
                      &je) ||
        value_kind(l->connections) != VAL_RECORD)
      rc = err_set(err, IEX_E_INVALID,
                   "the connections of integration %s are not a JSON object",
                   l->ig.name);
  }
  if (rc != IEX_OK) {
    flow_close(&l->flow);
    arena_fini(&l->arena);
    free(l);
    return rc;
  }
  VEC_PUSH(x->loaded, x->n_loaded, x->cap_loaded, l);
  *out = l;
  return IEX_OK;
}

IexStatus executor_flow(Executor *x, int64_t integration_id, Flow **out,
                        Err *err) {
  Loaded *l;
  IexStatus rc = load(x, integration_id, &l, err);
  if (rc == IEX_OK) *out = &l->flow;
  return rc;
}

/* ---- Recovery ----------------------------------------------------------- */

/* A lease owner "host:pid" is dead when it is on this host and no process
** has that pid any more. Owners of other hosts are left to their lease. */
static bool owner_is_dead(void *ctx, const char *owner) {
  Executor *x = ctx;
  const char *colon = strrchr(owner, ':');
  const char *mine = strrchr(x->worker, ':');
  if (!colon || !mine || colon - owner != mine - x->worker ||
      memcmp(owner, x->worker, (size_t)(colon - owner)) != 0)
    return false;
  char *end;
  long pid = strtol(colon + 1, &end, 10);
  if (*end || pid <= 0) return false;
  if (pid == (long)getpid()) return false;
  return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

IexStatus executor_recover(Executor *x, Err *err) {
  size_t n = 0;
  return store_run_release_dead(x->store, owner_is_dead, x, &n, err);
}

/* ---- Inbox -> transfers ------------------------------------------------- */

/* The text of field `name` of `rec` (string or number), or NULL. */
static const char *field_text(Value rec, const char *name, Arena *a) {
  if (!name || value_kind(rec) != VAL_RECORD) return NULL;
  const Value *v = value_field(rec, str_from_cstr(name), NULL);
  if (!v) return NULL;
  switch (value_kind(*v)) {
  case VAL_STRING:
  case VAL_NUMTEXT: {
    Str s = value_as_str(*v);
    return arena_strndup(a, s.ptr, s.len);
  }
  case VAL_INT:
    return arena_printf(a, "%lld", (long long)v->as.i);
  case VAL_DATETIME: {
    char buf[DATETIME_TEXT_SIZE];
    datetime_format_iso(value_as_datetime(*v), buf);
    return arena_strndup(a, buf, strlen(buf));
  }
  default:
    return NULL;
  }
}

IexStatus executor_submit(Executor *x, int64_t integration_id, Str record_json,
                          const char *source, bool *is_duplicate, Err *err) {
  Loaded *l;
  IexStatus rc = load(x, integration_id, &l, err);
  if (rc != IEX_OK) return rc;
  Arena a;
  arena_init(&a);
  Value rec;
  JsonvError je;
  if (!jsonv_decode(&a, record_json, NULL, &rec, &je)) {
    char why[256];
    jsonv_error_text(&je, why, sizeof why);
    arena_fini(&a);
    return err_set(err, IEX_E_INVALID_JSON, "the record is not JSON: %s", why);
  }
  const char *id = field_text(rec, l->flow.info.id_field, &a);
  if (!id) {
    arena_fini(&a);
    return err_set(err, IEX_E_INVALID, "the record has no `%s` to identify it",
                   l->flow.info.id_field);
  }
  const char *t = field_text(rec, l->flow.info.time_field, &a);
  char *key = arena_printf(&a, "%s/%s", id, t ? t : "");
  StoreEvent ev = {.integration_id = integration_id,
                   .dedup_key = key,
                   .source = source ? source : "import",
                   .topic = NULL,
                   .headers_json = NULL,
                   .body = record_json};
  int64_t ev_id;
  bool dup = false;
  rc = store_inbox_add(x->store, &ev, &ev_id, &dup, err);
  if (is_duplicate) *is_duplicate = dup;
  arena_fini(&a);
  return rc;
}

/* Time of the record by the flow's time field; 0 when it has none. */
static int64_t record_time_us(Value rec, const FlowInfo *info) {
  if (!info->time_field || value_kind(rec) != VAL_RECORD) return 0;
  const Value *v = value_field(rec, str_from_cstr(info->time_field), NULL);
  if (!v) return 0;
  DateTime dt;
  if (value_kind(*v) == VAL_DATETIME) {
    dt = value_as_datetime(*v);
  } else if (value_kind(*v) != VAL_STRING ||
             !datetime_parse(value_as_str(*v), &dt, NULL)) {
    return 0;
  }
  return dt.secs * SEC + dt.usec;
}

static IexStatus accept_one(Executor *x, const StoreInboxItem *it,
                            ExecutorStats *stats, Err *err) {
  Loaded *l;
  IexStatus rc = load(x, it->integration_id, &l, err);
  if (rc != IEX_OK) {
    /* The event stays pending: the flow may be fixed. */
    return rc;
  }
  const FlowInfo *info = &l->flow.info;
  Arena a;
  arena_init(&a);
  Value rec;
  JsonvError je;
  const char *outcome = NULL;
  const char *id = NULL;
  if (!jsonv_decode(&a, it->body, NULL, &rec, &je))
    outcome = "refused: the body is not JSON";
  else if (!(id = field_text(rec, info->id_field, &a)))
    outcome = arena_printf(&a, "refused: the record has no `%s`",
                           info->id_field);
  if (!outcome) {
    int64_t at = record_time_us(rec, info);
    if (!at) at = it->received_at_us;
    if (l->ig.activated_at_us && at < l->ig.activated_at_us)
      outcome = "skipped: before activation";
  }
  if (outcome) {
    rc = store_inbox_done(x->store, it->id, 0, outcome, err);
    arena_fini(&a);
    return rc;
  }
  const char *key = field_text(rec, info->key_field, &a);
  const char *when = field_text(rec, info->time_field, &a);
  /* The body is kept as it came (JSON bytes, amounts as written). */
  const char *data = arena_strndup(&a, it->body.ptr, it->body.len);
  int64_t transfer = 0, revision = 0, run = 0;
  bool is_new = false;
  rc = store_begin(x->store, err);
  if (rc == IEX_OK)
    rc = store_transfer_get_or_add(x->store, it->integration_id, id,
                                   key ? key : id, &transfer, NULL, err);
  if (rc == IEX_OK)
    rc = store_revision_add(x->store, transfer, data, when, it->id, &revision,
                            &is_new, err);
  if (rc == IEX_OK && is_new)
    rc = store_run_add(x->store, revision, 0, "event", &run, err);
  if (rc == IEX_OK)
    rc = store_inbox_done(x->store, it->id, transfer,
                          is_new ? "new revision" : "same content", err);
  if (rc == IEX_OK)
    rc = store_commit(x->store, err);
  else
    store_rollback(x->store);
  arena_fini(&a);
  if (rc != IEX_OK) return rc;
  crash_point(CRASH_REVISION_AFTER_COMMIT);
  if (stats) {
    if (is_new)
      stats->events++;
    else
      stats->unchanged++;
  }
  return IEX_OK;
}

IexStatus executor_accept_pending(Executor *x, ExecutorStats *stats,
                                  Err *err) {
  for (;;) {
    Arena a;
    arena_init(&a);
    StoreInboxItem *items;
    size_t n;
    IexStatus rc = store_inbox_pending(x->store, 64, &a, &items, &n, err);
    size_t accepted = 0;
    for (size_t i = 0; rc == IEX_OK && i < n; i++) {
      Err e;
      err_init(&e);
      IexStatus r = accept_one(x, &items[i], stats, &e);
      if (r == IEX_OK) {
        accepted++;
      } else if (status_group(r) == STATUS_GROUP_INTERNAL ||
                 r == IEX_E_STORE_BUSY) {
        if (err) *err = e;
        rc = r;
      } else if (!x->opt.quiet) {
        /* A flow that cannot load leaves its events pending. */
        fprintf(stderr, "iex: event %lld left pending: %s\n",
                (long long)items[i].id, err_text(&e));
      }
    }
    arena_fini(&a);
    if (rc != IEX_OK) return rc;
    if (n == 0 || accepted == 0) return IEX_OK;
  }
}

/* ---- Running: one run ---------------------------------------------------- */

/* End the run as failed or attention, telling a person in the same
** transaction. */
static IexStatus finish_and_tell(RunCtx *r, StoreRunStatus status,
                                 const StoreOutcome *o, Err *err) {
  Executor *x = r->x;
  char key[64], subject[400], body[1200];
  snprintf(key, sizeof key, "run-%lld-%s", (long long)r->run.id,
           store_run_status_name(status));
  snprintf(subject, sizeof subject, "iex: %s %s %s", r->l->ig.name,
           r->transfer.display_key ? r->transfer.display_key
                                   : r->transfer.source_id,
           status == STORE_RUN_FAILED ? "failed" : "needs attention");
  snprintf(body, sizeof body,
           "Transfer %lld (%s) of integration %s %s.\n\nReason: %s\nRule: "
           "%s\n\nSee `iex show %lld`; after fixing it, `iex retry %lld`.\n",
           (long long)r->transfer.id,
           r->transfer.display_key ? r->transfer.display_key
                                   : r->transfer.source_id,
           r->l->ig.name,
           status == STORE_RUN_FAILED ? "failed" : "needs a person",
           o->message ? o->message : status_message(o->code),
           o->location ? o->location : "-", (long long)r->transfer.id,
           (long long)r->transfer.id);
  StoreMessageNew m = {.key = key, .kind = "email",
                       .recipient = x->opt.notify_to, .subject = subject,
                       .body = body, .transfer_id = r->transfer.id};
  IexStatus rc = store_begin(x->store, err);
  if (rc == IEX_OK)
    rc = store_run_finish(x->store, r->run.id, x->worker, status, o, err);
  if (rc == IEX_OK) rc = store_outbox_add(x->store, &m, NULL, NULL, err);
  if (rc == IEX_OK)
    rc = store_commit(x->store, err);
  else
    store_rollback(x->store);
  return rc;
}

/* When the first run of this revision was made, for the retry horizon. */
static int64_t first_run_at(RunCtx *r) {
  StoreRun *runs;
  size_t n;
  if (store_run_list(r->x->store, r->run.transfer_id, r->a, &runs, &n, NULL) !=
      IEX_OK)
    return r->run.created_at_us;
  for (size_t i = 0; i < n; i++)
    if (runs[i].revision_id == r->run.revision_id) return runs[i].created_at_us;
  return r->run.created_at_us;
}

static IexStatus end_run(RunCtx *r, HostAnswer ans, Err *ferr, Err *err) {
  Executor *x = r->x;
  Store *st = x->store;
  StatusGroup g = status_group(ferr->code);
  StoreOutcome o = {ferr->code, ferr->message[0] ? ferr->message : NULL,
                    ferr->location[0] ? ferr->location : NULL};
  IexStatus rc;
  if (ans == HOST_DONE) {
    /* Done, with what connectors did instead of what was asked (a booked
    ** invoice left alone) as the transfer's message. */
    StoreOutcome said = {IEX_OK, r->notes, NULL};
    rc = store_run_finish(st, r->run.id, x->worker, STORE_RUN_DONE,
                          r->notes ? &said : NULL, err);
    x->last_status = STORE_RUN_DONE;
    if (rc == IEX_OK && r->stats) r->stats->done++;
  } else if (ans == HOST_SKIP || g == STATUS_GROUP_SKIP) {
    if (g != STATUS_GROUP_SKIP) o.code = IEX_SKIP;
    executor_add_stage(r, "", STORE_STAGE_SKIPPED, NULL, o.code, o.message, o.location);
    rc = store_run_finish(st, r->run.id, x->worker, STORE_RUN_SKIPPED, &o, err);
    x->last_status = STORE_RUN_SKIPPED;
    if (rc == IEX_OK && r->stats) r->stats->skipped++;
  } else if (g == STATUS_GROUP_RETRY || ferr->code == IEX_E_OUTCOME_UNKNOWN) {
    executor_add_stage(r, "", STORE_STAGE_ERROR, NULL, o.code, o.message, o.location);
    int64_t now = now_us(x);
    bool exhausted =
        x->opt.max_attempts > 0
            ? r->run.attempt >= x->opt.max_attempts
            : now - first_run_at(r) >= x->opt.retry.horizon_us;
    if (exhausted) {
      char msg[700];
      snprintf(msg, sizeof msg, "gave up after %lld attempts: %s",
               (long long)r->run.attempt, err_text(ferr));
      StoreOutcome f = {IEX_E_RETRIES_EXHAUSTED, msg, o.location};
      rc = finish_and_tell(r, STORE_RUN_FAILED, &f, err);
      x->last_status = STORE_RUN_FAILED;
      if (rc == IEX_OK && r->stats) r->stats->failed++;
    } else {
      int64_t due = now + retry_backoff_us(&x->opt.retry,
                                           (int)r->run.attempt, &x->rnd);
      if (r->wait_until_us > due) due = r->wait_until_us;
      rc = store_run_retry(st, r->run.id, x->worker, due, &o, NULL, err);
      x->last_status = STORE_RUN_WAITING;
      if (rc == IEX_OK && r->stats) r->stats->waiting++;
    }
  } else if (g == STATUS_GROUP_RECONCILE) {
    executor_add_stage(r, "", STORE_STAGE_ERROR, NULL, o.code, o.message, o.location);
    rc = finish_and_tell(r, STORE_RUN_ATTENTION, &o, err);
    x->last_status = STORE_RUN_ATTENTION;
    if (rc == IEX_OK && r->stats) r->stats->attention++;
  } else {
    if (o.code == IEX_OK) o.code = IEX_E_INTERNAL;
    executor_add_stage(r, "", STORE_STAGE_ERROR, NULL, o.code, o.message, o.location);
    rc = finish_and_tell(r, STORE_RUN_FAILED, &o, err);
    x->last_status = STORE_RUN_FAILED;
    if (rc == IEX_OK && r->stats) r->stats->failed++;
  }
  if (rc == IEX_OK) crash_point(CRASH_RUN_DONE);
  return rc;
}

/* What this run needs to know before the flow runs: the `updates:`
** choice with its settings, and whether an earlier revision of the
** transfer was transferred (a run of it ended done). */
static IexStatus run_context(RunCtx *r, Value settings, Err *err) {
  r->updates = r->flow->updates ? r->flow->updates(r->flow->ctx, settings)
                                 : r->flow->info.updates;
  if (r->rev.number <= 1) return IEX_OK;
  StoreRun *runs;
  size_t n;
  IexStatus rc = store_run_list(r->x->store, r->run.transfer_id, r->a, &runs,
                                &n, err);
  for (size_t i = 0; rc == IEX_OK && i < n; i++)
    if (runs[i].revision_id != r->run.revision_id &&
        runs[i].status == STORE_RUN_DONE)
      r->transferred = true;
  return rc;
}

static IexStatus run_one(Executor *x, const StoreRun *run,
                         ExecutorStats *stats, Err *err) {
  crash_point(CRASH_RUN_CLAIMED);
  Arena a;
  arena_init(&a);
  RunCtx r;
  memset(&r, 0, sizeof r);
  r.x = x;
  r.run = *run;
  r.a = &a;
  r.stats = stats;
  err_init(&r.store_err);
  IexStatus rc = load(x, run->integration_id, &r.l, err);
  if (rc == IEX_OK)
    rc = store_transfer_get(x->store, run->transfer_id, &a, &r.transfer, err);
  if (rc == IEX_OK)
    rc = store_revision_get(x->store, run->revision_id, &a, &r.rev, err);
  if (rc != IEX_OK) {
    Err e = *err;
    StoreOutcome o = {rc, err_text(&e), NULL};
    if (status_group(rc) != STATUS_GROUP_INTERNAL)
      rc = store_run_finish(x->store, run->id, x->worker, STORE_RUN_FAILED, &o,
                            err);
    arena_fini(&a);
    return rc;
  }
  r.flow = x->override && x->override_transfer == run->transfer_id
               ? x->override
               : &r.l->flow;
  Err ferr;
  err_init(&ferr);
  HostAnswer ans;
  Value record, settings;
  JsonvError je;
  executor_add_stage(&r, "", STORE_STAGE_RECEIVED, r.rev.data_json, IEX_OK, NULL, NULL);
  if (!jsonv_decode(&a, str_from_cstr(r.rev.data_json), NULL, &record, &je)) {
    err_set(&ferr, IEX_E_INVALID_JSON, "the stored record is not JSON");
    ans = HOST_FAIL;
  } else if (settings_values(x->store, r.l->id, r.flow->info.settings,
                             r.flow->info.n_settings, &a, &settings,
                             &ferr) != IEX_OK) {
    ans = HOST_FAIL;
  } else if ((rc = run_context(&r, settings, err)) != IEX_OK) {
    /* The store failed: leave the run to its lease; a restart re-runs it. */
    arena_fini(&a);
    return rc;
  } else if (r.transferred && r.updates == FLOW_UPDATES_IGNORE) {
    err_set(&ferr, IEX_SKIP_UPDATE_IGNORED,
            "revision %lld is an update of a transferred record; the flow "
            "ignores updates",
            (long long)r.rev.number);
    ans = HOST_SKIP;
  } else {
    Host host = {.ctx = &r, .operation = executor_host_operation,
                 .stage = executor_host_stage};
    ans = r.flow->run(r.flow->ctx, &a, record, settings, &host, &ferr);
    if (ans == HOST_SKIP && status_group(ferr.code) != STATUS_GROUP_SKIP)
      ferr.code = IEX_SKIP;
  }
  if (r.store_rc != IEX_OK) {
    /* The store failed: leave the run to its lease; a restart re-runs it. */
    if (err) *err = r.store_err;
    arena_fini(&a);
    return r.store_rc;
  }
  rc = end_run(&r, ans, &ferr, err);
  arena_fini(&a);
  return rc;
}

IexStatus executor_run_due(Executor *x, size_t max_runs, ExecutorStats *stats,
                           Err *err) {
  for (size_t done = 0; max_runs == 0 || done < max_runs; done++) {
    Arena a;
    arena_init(&a);
    StoreRun run;
    bool claimed = false;
    IexStatus rc = store_run_claim(x->store, x->worker, x->opt.lease_us, &a,
                                   &run, &claimed, err);
    if (rc == IEX_OK && claimed) {
      if (stats) stats->runs++;
      rc = run_one(x, &run, stats, err);
      if (rc == IEX_E_LEASE_LOST) rc = IEX_OK; /* another worker has it */
    }
    arena_fini(&a);
    if (rc != IEX_OK) return rc;
    if (!claimed) break;
  }
  return IEX_OK;
}

IexStatus executor_run_pending(Executor *x, ExecutorStats *stats, Err *err) {
  IexStatus rc = executor_recover(x, err);
  if (rc == IEX_OK) rc = executor_accept_pending(x, stats, err);
  if (rc == IEX_OK) rc = executor_run_due(x, 0, stats, err);
  return rc;
}

IexStatus executor_retry(Executor *x, int64_t transfer_id, const char *reason,
                         Err *err) {
  Arena a;
  arena_init(&a);
  StoreTransfer t;
  IexStatus rc = store_transfer_get(x->store, transfer_id, &a, &t, err);
  if (rc == IEX_OK && t.latest_revision_id <= 0)
    rc = err_set(err, IEX_E_NOT_FOUND, "transfer %lld has no revision to run",
                 (long long)transfer_id);
  if (rc == IEX_OK && t.status == STORE_RUN_RUNNING)
    rc = err_set(err, IEX_E_INVALID, "transfer %lld is running now",
                 (long long)transfer_id);
  int64_t id;
  if (rc == IEX_OK)
    rc = store_run_add(x->store, t.latest_revision_id, 0, reason, &id, err);
  arena_fini(&a);
  return rc;
}

IexStatus executor_replay(Executor *x, int64_t transfer_id, Flow *flow,
                          StoreRunStatus *status_out, Err *err) {
  IexStatus rc = executor_recover(x, err);
  if (rc == IEX_OK) rc = executor_retry(x, transfer_id, "replay", err);
  if (rc != IEX_OK) return rc;
  x->override = flow;
  x->override_transfer = transfer_id;
  x->last_status = STORE_RUN_QUEUED;
  /* Run due runs until this transfer's has run. */
  Arena a;
  arena_init(&a);
  for (;;) {
    StoreTransfer t;
    rc = store_transfer_get(x->store, transfer_id, &a, &t, err);
    if (rc != IEX_OK) break;
    if (t.status != STORE_RUN_QUEUED && t.status != STORE_RUN_RUNNING) {
      if (status_out) *status_out = t.status;
      break;
    }
    size_t before = 0;
    ExecutorStats st;
    memset(&st, 0, sizeof st);
    rc = executor_run_due(x, 1, &st, err);
    if (rc != IEX_OK) break;
    if (st.runs == before) { /* nothing claimable: held elsewhere */
      if (status_out) *status_out = t.status;
      break;
    }
  }
  arena_fini(&a);
  x->override = NULL;
  x->override_transfer = 0;
  return rc;
}
