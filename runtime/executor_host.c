/*
** The Host of real runs (runtime/executor_int.h): carries out the
** operations a flow asks for. For each one it finds the connection and
** its connector, asks the store's circuit breaker, paces the HTTP calls
** by the connection's rate limit, resolves the secrets just before the
** call and wipes them after, and for a write chooses the effect by the
** flow's `updates:` (write_key) and goes through the effects protocol
** (runtime/effects.h). Every request and answer is a stage of the run.
*/
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"
#include "runtime/crash.h"
#include "runtime/effects.h"
#include "runtime/executor_int.h"
#include "runtime/json_value.h"
#include "runtime/ledger.h"
#include "runtime/secrets.h"

void executor_add_stage(RunCtx *r, const char *step, StoreStageKind kind,
                        const char *data_json, IexStatus code,
                        const char *message, const char *location) {
  if (r->store_rc != IEX_OK) return;
  StoreStageNew st = {.run_id = r->run.id,
                      .step = step,
                      .kind = kind,
                      .data_json = data_json,
                      .outcome = {code, message, location}};
  int64_t id;
  IexStatus rc = store_stage_add(r->x->store, &st, &id, &r->store_err);
  if (rc != IEX_OK) {
    r->store_rc = rc;
    return;
  }
  crash_point(CRASH_STAGE_RECORDED);
}

void executor_host_stage(void *ctx, const char *name, Value data) {
  RunCtx *r = ctx;
  const char *step = "";
  StoreStageKind kind = STORE_STAGE_NOTE;
  if (strncmp(name, "mapped:", 7) == 0) {
    step = name + 7;
    kind = STORE_STAGE_MAPPED;
  }
  executor_add_stage(r, step, kind, jsonv_encode_arena(data, r->a), IEX_OK, NULL,
            kind == STORE_STAGE_NOTE ? name : NULL);
}

static ConnState *conn_state(Executor *x, int64_t integration_id, Str alias,
                             Value conf) {
  for (size_t i = 0; i < x->n_conns; i++)
    if (x->conns[i].integration_id == integration_id &&
        str_eq_cstr(alias, x->conns[i].alias))
      return &x->conns[i];
  ConnState cs;
  memset(&cs, 0, sizeof cs);
  cs.integration_id = integration_id;
  snprintf(cs.alias, sizeof cs.alias, "%.*s", STR_FMT(alias));
  const Value *rate = value_field(conf, STR_LIT("rate_per_second"), NULL);
  const Value *burst = value_field(conf, STR_LIT("burst"), NULL);
  if (rate && value_kind(*rate) == VAL_INT && rate->as.i > 0) {
    cs.limited = true;
    rate_init(&cs.rate, rate->as.i,
              burst && value_kind(*burst) == VAL_INT ? burst->as.i : 1);
  }
  const Value *thr = value_field(conf, STR_LIT("circuit_failures"), NULL);
  if (thr && value_kind(*thr) == VAL_INT && thr->as.i > 0)
    cs.circuit.threshold = thr->as.i > INT_MAX ? INT_MAX : (int)thr->as.i;
  const Value *pause = value_field(conf, STR_LIT("circuit_pause_seconds"), NULL);
  /* At most a year: a pause is a pause, not an overflow. */
  if (pause && value_kind(*pause) == VAL_INT && pause->as.i > 0)
    cs.circuit.pause_us =
        (pause->as.i > 366 * 86400 ? 366 * 86400 : pause->as.i) * SEC;
  VEC_PUSH(x->conns, x->n_conns, x->cap_conns, cs);
  return &x->conns[x->n_conns - 1];
}

/* Secrets of one call: resolved before, wiped after. */
typedef struct CallSecrets {
  const char *names[8];
  char *values[8];
  size_t n;
} CallSecrets;

static void secrets_wipe(CallSecrets *cs) {
  for (size_t i = 0; i < cs->n; i++) {
    secret_wipe(cs->values[i], SECRET_MAX);
    free(cs->values[i]);
  }
  cs->n = 0;
}

static IexStatus secrets_load(Value conf, Arena *a, CallSecrets *cs,
                              Err *err) {
  cs->n = 0;
  const Value *sec = value_field(conf, STR_LIT("secrets"), NULL);
  if (!sec || value_kind(*sec) != VAL_RECORD) return IEX_OK;
  for (uint32_t i = 0; i < sec->len && cs->n < 8; i++) {
    const Field *f = value_field_at(*sec, i);
    if (value_kind(f->value) != VAL_STRING) continue;
    Str ref = value_as_str(f->value);
    char *refz = arena_strndup(a, ref.ptr, ref.len);
    char *v = xmalloc(SECRET_MAX);
    IexStatus rc = secret_resolve(refz, v, SECRET_MAX, err);
    if (rc != IEX_OK) {
      secret_wipe(v, SECRET_MAX);
      free(v);
      secrets_wipe(cs);
      return rc;
    }
    cs->names[cs->n] = arena_strndup(a, f->key.ptr, f->key.len);
    cs->values[cs->n++] = v;
  }
  return IEX_OK;
}

static const char *conf_text(Value conf, const char *key, Arena *a) {
  const Value *v = value_field(conf, str_from_cstr(key), NULL);
  if (!v || value_kind(*v) != VAL_STRING) return NULL;
  Str s = value_as_str(*v);
  return arena_strndup(a, s.ptr, s.len);
}

/* The message that tells a person a connection paused; the store enqueues
** it only if this failure is the one that opened the circuit, so one
** message goes out per outage whatever the number of workers. */
typedef struct CircuitNotice {
  char key[200], subject[300], body[1400];
  StoreMessageNew m;
} CircuitNotice;

static void circuit_notice(RunCtx *r, const char *alias, const char *system,
                           const StoreCircuitPolicy *p, const Err *cause,
                           CircuitNotice *n) {
  Executor *x = r->x;
  char at[CLOCK_TEXT_SIZE], until[CLOCK_TEXT_SIZE];
  int64_t now = now_us(x);
  int64_t pause = p->pause_us > 0 ? p->pause_us : 60 * SEC;
  clock_format_utc_seconds(now, at, sizeof at);
  clock_format_utc_seconds(now + pause, until, sizeof until);
  snprintf(n->key, sizeof n->key, "circuit-%lld-%s-%lld",
           (long long)r->l->id, alias, (long long)(now / SEC));
  snprintf(n->subject, sizeof n->subject,
           "iex: connection %s of %s paused after repeated failures", alias,
           r->l->ig.name);
  snprintf(n->body, sizeof n->body,
           "Calls to %s through connection %s of integration %s failed %d "
           "times in a row; iex paused the connection at %s until %s, then "
           "tries one call. Transfers that need it wait and are not lost.\n\n"
           "Last error: %s\n\nSee `iex integration show %s`; once the cause "
           "is fixed, `iex integration resume %s %s` ends the pause now.\n",
           system, alias, r->l->ig.name, p->threshold > 0 ? p->threshold : 5,
           at, until, err_text(cause), r->l->ig.name, r->l->ig.name, alias);
  n->m = (StoreMessageNew){.key = n->key, .kind = "notification",
                           .recipient = x->opt.notify_to,
                           .subject = n->subject, .body = n->body,
                           .transfer_id = 0};
}

/* The reason a call was not made: the connection is paused. */
static void circuit_refusal(const StoreConnectionHealth *h, const char *alias,
                            const char *system, Err *err) {
  char until[CLOCK_TEXT_SIZE];
  clock_format_utc_seconds(h->retry_at_us, until, sizeof until);
  const char *last = h->last_error ? h->last_error : "";
  if (h->state == STORE_CIRCUIT_HALF_OPEN)
    err_set(err, IEX_E_CIRCUIT_OPEN,
            "connection %s (%s) is paused after %lld failures in a row; a "
            "trial call is out (it may take until %s) (last: %s%s%s)",
            alias, system, (long long)h->failures, until,
            h->last_error_code ? h->last_error_code : "-", *last ? ": " : "",
            last);
  else
    err_set(err, IEX_E_CIRCUIT_OPEN,
            "connection %s (%s) is paused until %s after %lld failures in a "
            "row (last: %s%s%s)",
            alias, system, until, (long long)h->failures,
            h->last_error_code ? h->last_error_code : "-", *last ? ": " : "",
            last);
}

/* A store failure while reading or recording a connection's health: the
** store's own troubles stop the run (as inside the effects protocol); a
** busy store only fails this call, and the run waits. */
static void circuit_store_failed(RunCtx *r, IexStatus rc, const Err *serr) {
  if (status_group(rc) == STATUS_GROUP_INTERNAL && !r->store_rc) {
    r->store_rc = rc;
    r->store_err = *serr;
  }
}

/* Which effect a write is, by the flow's `updates:` (docs/runtime.md,
** "Updates"):
**   again   one effect per revision: "invoice@r2", a new record each time;
**   apply   one effect per transfer: "invoice". When an earlier revision
**           made it, an operation that replaces by reference runs again as
**           the update "invoice@r2-update" (not counted as an order); one
**           that keeps what it made gives the stored answer;
**   ignore  later revisions do not run (run_one), so "invoice" only. */
typedef struct WriteKey {
  const char *key, *reference; /* in the run's arena */
  bool update;   /* changes what an earlier revision made */
  bool kept;     /* an earlier revision made it and it stays as it is */
  bool rerun;    /* EffectCall.rerun_when_unknown */
  const char *why; /* for the stages: why this key; NULL: nothing to say */
} WriteKey;

static IexStatus write_key(RunCtx *r, const OpCall *call,
                           const ConnectorOp *op, WriteKey *wk, Err *err) {
  Arena *a = r->a;
  memset(wk, 0, sizeof *wk);
  const char *base = arena_printf(a, "%.*s", STR_FMT(call->effect_key));
  wk->key = base;
  wk->reference = arena_printf(a, "%s/%s/%s", r->l->ig.name,
                               r->transfer.source_id, base);
  if (r->updates == FLOW_UPDATES_AGAIN) {
    wk->key = arena_printf(a, "%s@r%lld", base, (long long)r->rev.number);
    wk->reference = arena_printf(a, "%s/%s/%s", r->l->ig.name,
                                 r->transfer.source_id, wk->key);
    return IEX_OK;
  }
  if (r->updates != FLOW_UPDATES_APPLY || r->rev.number <= 1) return IEX_OK;
  StoreEffect made;
  bool found;
  IexStatus rc = store_effect_find(r->x->store, r->run.transfer_id, base, a,
                                   &made, &found, err);
  if (rc != IEX_OK || !found || made.revision_id == r->run.revision_id)
    return rc;
  bool replaces = op->update == OP_UPDATE_REPLACES;
  if (made.state == STORE_EFFECT_DONE && made.run_id > 0) {
    /* Finished by a run of this revision (after an earlier one left it
    ** unfinished): this revision's data is in it already. */
    StoreRun by;
    rc = store_run_get(r->x->store, made.run_id, a, &by, err);
    if (rc != IEX_OK || by.revision_id == r->run.revision_id) return rc;
  }
  if (made.state != STORE_EFFECT_DONE) {
    /* An earlier revision's attempt that never finished: this revision's
    ** data goes in its place; a lookup would adopt the older record. */
    wk->rerun = replaces;
    return IEX_OK;
  }
  if (!replaces) {
    wk->kept = true;
    wk->why = arena_printf(a, "made for an earlier revision and kept: %s "
                              "does not change what it made; its stored "
                              "answer is used",
                           op->name);
    return IEX_OK;
  }
  wk->update = wk->rerun = true;
  wk->key = arena_printf(a, "%s@r%lld-update", base, (long long)r->rev.number);
  wk->why = arena_printf(a, "revision %lld updates what %s made for an "
                            "earlier revision (updates: apply)",
                         (long long)r->rev.number, base);
  return IEX_OK;
}

/* The connection's token bucket, taken before every HTTP request
** (Connection.pace): `rate_per_second` is calls the target sees. */
typedef struct Pacer {
  Executor *x;
  ConnState *cs;
} Pacer;

static void pace_call(void *ctx) {
  Pacer *p = ctx;
  int64_t wait;
  while ((wait = rate_take(&p->cs->rate, now_us(p->x))) > 0) clock_sleep_us(wait);
}

HostAnswer executor_host_operation(void *ctx, const OpCall *call,
                                   Value *result, Err *err) {
  RunCtx *r = ctx;
  Executor *x = r->x;
  Arena *a = r->a;
  char step[128], alias[64];
  snprintf(step, sizeof step, "%.*s", STR_FMT(call->step));
  snprintf(alias, sizeof alias, "%.*s", STR_FMT(call->connection));
  const Value *conf = value_field(r->l->connections, call->connection, NULL);
  if (!conf || value_kind(*conf) != VAL_RECORD) {
    err_set(err, IEX_E_INVALID,
            "integration %s has no connection `%s` (step %s)",
            r->l->ig.name, alias, step);
    err_set_location(err, call->location);
    return HOST_FAIL;
  }
  const char *system = conf_text(*conf, "system", a);
  if (!system) system = arena_strndup(a, call->system.ptr, call->system.len);
  const Connector *c = x->opt.find_connector ? x->opt.find_connector(system)
                                             : connector_find(system);
  if (!c) c = executor_builtin_connector(system);
  if (c && c != &connector_ledger && !x->http) x->http = http_client_new(NULL);
  const ConnectorOp *op = c ? connector_op(c, call->operation) : NULL;
  if (!op) {
    err_set(err, IEX_E_INVALID, "%s %s: this iex has no %s%.*s",
            c ? "system" : "no connector for system", system,
            c ? "operation " : "", c ? (int)call->operation.len : 0,
            call->operation.ptr);
    err_set_location(err, call->location);
    return HOST_FAIL;
  }
  ConnState *cs = conn_state(x, r->l->id, call->connection, *conf);
  int64_t now = now_us(x);
  StoreConnectionHealth health;
  bool allowed = false;
  Err serr;
  err_init(&serr);
  IexStatus src = store_circuit_allow(x->store, r->l->id, alias, &cs->circuit,
                                      &allowed, a, &health, &serr);
  if (src != IEX_OK) {
    circuit_store_failed(r, src, &serr);
    if (err) *err = serr;
    err_set_location(err, call->location);
    return HOST_FAIL;
  }
  if (!allowed) {
    r->wait_until_us = health.retry_at_us;
    circuit_refusal(&health, alias, system, err);
    err_set_location(err, call->location);
    return HOST_FAIL;
  }
  CallSecrets secrets;
  IexStatus rc = secrets_load(*conf, a, &secrets, err);
  if (rc != IEX_OK) {
    /* No call went out: give back a trial's claim, if this was one. */
    store_circuit_record(x->store, r->l->id, alias, &cs->circuit,
                         STORE_CALL_NEUTRAL, IEX_OK, NULL, NULL, NULL, NULL);
    err_prefix(err, "connection %s", alias);
    err_set_location(err, call->location);
    return HOST_FAIL;
  }
  Connection conn = {.name = arena_strndup(a, alias, strlen(alias)),
                     .system = system,
                     .base_url = conf_text(*conf, "base_url", a),
                     .secret_names = secrets.names,
                     .secret_values = (const char *const *)secrets.values,
                     .n_secrets = secrets.n,
                     .http = x->http};
  Pacer pacer = {x, cs};
  if (cs->limited) {
    conn.pace = pace_call;
    conn.pace_ctx = &pacer;
  }
  char op_name[128];
  snprintf(op_name, sizeof op_name, "%.*s", STR_FMT(call->operation));
  bool writes = call->effect == OP_WRITES || op->effect == OP_WRITES;
  Err cerr;
  err_init(&cerr);
  Value res = value_null();
  const char *how = "read";
  /* The connector's own call, with somewhere to leave its note. */
  OpNote note = {{0}};
  OpCall own = *call;
  own.note = &note;
  if (writes) {
    WriteKey wk;
    rc = write_key(r, call, op, &wk, &cerr);
    if (rc != IEX_OK) {
      /* The store failed; no call went out: give back a trial's claim. */
      store_circuit_record(x->store, r->l->id, alias, &cs->circuit,
                           STORE_CALL_NEUTRAL, IEX_OK, NULL, NULL, NULL, NULL);
      secrets_wipe(&secrets);
      r->store_rc = rc;
      r->store_err = cerr;
      if (err) *err = cerr;
      return HOST_FAIL;
    }
    EffectCall ec = {.store = x->store,
                     .transfer_id = r->run.transfer_id,
                     .revision_id = r->run.revision_id,
                     .run_id = r->run.id,
                     .key = wk.key,
                     .reference = wk.reference,
                     .counts_usage = !wk.update &&
                                     effect_counts_usage(call->operation),
                     .reconcile_window_us = x->opt.reconcile_window_us,
                     .now_us = now,
                     .rerun_when_unknown = wk.rerun,
                     .conn = &conn,
                     .op = op,
                     .call = &own};
    executor_add_stage(r, step, STORE_STAGE_REQUEST,
              arena_printf(a, "{\"system\":\"%s\",\"operation\":\"%s\","
                              "\"effect\":\"%s\"}",
                           system, op_name, wk.key),
              IEX_OK, wk.why, NULL);
    EffectReport rep;
    rc = effect_perform(&ec, &res, &rep, &cerr);
    if (rc == IEX_OK && r->stats) {
      if (rep.how == EFFECT_SENT) r->stats->sent++;
      if (rep.how == EFFECT_REUSED) r->stats->reused++;
      if (rep.how == EFFECT_ADOPTED) r->stats->adopted++;
    }
    how = rep.how == EFFECT_SENT      ? (wk.update ? "sent as an update" : "sent")
          : rep.how == EFFECT_REUSED  ? (wk.kept ? wk.why : "already done; the stored answer is used")
          : rep.how == EFFECT_ADOPTED ? "found by its reference after an unknown outcome"
                                      : "not sent";
  } else {
    rc = op->run(&conn, &own, &res, &cerr);
  }
  if (note.text[0]) {
    /* What the connector did instead: on the step, and on the run. */
    how = arena_printf(a, "%s; %s", how, note.text);
    r->notes = r->notes ? arena_printf(a, "%s\n%s: %s", r->notes, step, note.text)
                        : arena_printf(a, "%s: %s", step, note.text);
  }
  secrets_wipe(&secrets);
  if (rc != IEX_OK && cerr.code == IEX_OK) cerr.code = rc;
  StatusGroup g = status_group(rc);
  bool outage = rc != IEX_OK && (g == STATUS_GROUP_RETRY ||
                                 rc == IEX_E_OUTCOME_UNKNOWN);
  /* A 429 is a system that works and asks us to slow down: the wait it
  ** asks for (Retry-After) is the remedy, and pausing the connection on
  ** top of it would stall an import for the whole pause. So it neither
  ** opens the circuit nor counts as the success that closes it. A failing
  ** store tells nothing about the connection. */
  if (g != STATUS_GROUP_INTERNAL) {
    StoreCallResult verdict = rc == IEX_E_HTTP_429 ? STORE_CALL_NEUTRAL
                              : outage             ? STORE_CALL_FAILED
                                                   : STORE_CALL_OK;
    CircuitNotice notice;
    if (verdict == STORE_CALL_FAILED)
      circuit_notice(r, alias, system, &cs->circuit, &cerr, &notice);
    err_init(&serr);
    src = store_circuit_record(
        x->store, r->l->id, alias, &cs->circuit, verdict, rc,
        verdict == STORE_CALL_FAILED ? cerr.message : NULL,
        verdict == STORE_CALL_FAILED ? &notice.m : NULL, NULL, &serr);
    if (src != IEX_OK) circuit_store_failed(r, src, &serr);
  }
  if (rc == IEX_OK) {
    executor_add_stage(r, step, STORE_STAGE_RESPONSE, jsonv_encode_arena(res, a), IEX_OK, how,
              NULL);
    *result = res;
    return HOST_DONE;
  }
  if (g == STATUS_GROUP_INTERNAL && !r->store_rc) {
    /* The store failed inside the protocol: stop without recording. */
    r->store_rc = rc;
    r->store_err = cerr;
  }
  if (cerr.retry_after_us > 0) r->wait_until_us = now_us(x) + cerr.retry_after_us;
  if (!cerr.location[0]) err_set_location(&cerr, call->location);
  if (err) *err = cerr;
  return HOST_FAIL;
}
