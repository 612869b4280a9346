/*
** The store's front: what is the same for every implementation.
**
** Each public function checks its arguments as store.h promises, applies
** the secrets rule (header JSON is redacted, connection configs hold
** references only), and calls the implementation through s->ops. The
** effect state machine and the text forms of the enumerations live here
** too, so SQLite and PostgreSQL cannot disagree about them.
*/
#include "runtime/store_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/redact.h"
#include "runtime/retry.h"

/* ---- Text forms of the enumerations --------------------------------- */

static const char *const run_status_names[] = {
    [STORE_RUN_ANY] = "any",         [STORE_RUN_QUEUED] = "queued",
    [STORE_RUN_RUNNING] = "running", [STORE_RUN_WAITING] = "waiting",
    [STORE_RUN_DONE] = "done",       [STORE_RUN_SKIPPED] = "skipped",
    [STORE_RUN_FAILED] = "failed",   [STORE_RUN_ATTENTION] = "attention",
};

static const char *const stage_kind_names[] = {
    [STORE_STAGE_RECEIVED] = "received", [STORE_STAGE_MAPPED] = "mapped",
    [STORE_STAGE_REQUEST] = "request",   [STORE_STAGE_RESPONSE] = "response",
    [STORE_STAGE_ERROR] = "error",       [STORE_STAGE_SKIPPED] = "skipped",
    [STORE_STAGE_NOTE] = "note",
};

static const char *const effect_state_names[] = {
    [STORE_EFFECT_RESERVED] = "reserved", [STORE_EFFECT_STARTED] = "started",
    [STORE_EFFECT_DONE] = "done",         [STORE_EFFECT_REFUSED] = "refused",
    [STORE_EFFECT_UNKNOWN] = "unknown",
};

static const char *const circuit_state_names[] = {
    [STORE_CIRCUIT_CLOSED] = "closed",
    [STORE_CIRCUIT_OPEN] = "open",
    [STORE_CIRCUIT_HALF_OPEN] = "half_open",
};

#define NAME_OF(table, v) ((unsigned)(v) < ARRAY_LEN(table) ? (table)[v] : "?")

const char *store_run_status_name(StoreRunStatus status) {
  return NAME_OF(run_status_names, status);
}
const char *store_stage_kind_name(StoreStageKind kind) {
  return NAME_OF(stage_kind_names, kind);
}
const char *store_effect_state_name(StoreEffectState state) {
  return NAME_OF(effect_state_names, state);
}

const char *store_circuit_state_name(StoreCircuitState state) {
  return NAME_OF(circuit_state_names, state);
}

static bool parse_name(const char *const *table, size_t n, const char *name,
                       int *out) {
  for (size_t i = 0; name && i < n; i++) {
    if (strcmp(table[i], name) == 0) {
      *out = (int)i;
      return true;
    }
  }
  return false;
}

bool store_run_status_parse(const char *name, StoreRunStatus *out) {
  int v;
  if (!parse_name(run_status_names, ARRAY_LEN(run_status_names), name, &v))
    return false;
  *out = (StoreRunStatus)v;
  return true;
}

bool store_stage_kind_parse(const char *name, StoreStageKind *out) {
  int v;
  if (!parse_name(stage_kind_names, ARRAY_LEN(stage_kind_names), name, &v))
    return false;
  *out = (StoreStageKind)v;
  return true;
}

bool store_effect_state_parse(const char *name, StoreEffectState *out) {
  int v;
  if (!parse_name(effect_state_names, ARRAY_LEN(effect_state_names), name, &v))
    return false;
  *out = (StoreEffectState)v;
  return true;
}

bool store_circuit_state_parse(const char *name, StoreCircuitState *out) {
  int v;
  if (!parse_name(circuit_state_names, ARRAY_LEN(circuit_state_names), name,
                  &v))
    return false;
  *out = (StoreCircuitState)v;
  return true;
}

/* ---- The effect state machine --------------------------------------- */

/* may_move[from][to]. The diagram in docs/runtime.md, plus:
** - reserved -> done: a lookup before the first send found the record
**   (match-or-create found the customer), nothing needs sending;
** - refused -> started: the data was fixed and the run retried; a refusal
**   created nothing, so sending again is safe;
** - unknown -> unknown: another failed lookup, with a new reason.
** Never: done -> anything, and started -> started (after a crash a started
** effect must go through unknown and a lookup first). */
static const bool may_move[5][5] = {
    /*             reserved started done   refused unknown */
    /* reserved */ {false,   true,   true,  false,  false},
    /* started  */ {false,   false,  true,  true,   true},
    /* done     */ {false,   false,  false, false,  false},
    /* refused  */ {false,   true,   false, false,  false},
    /* unknown  */ {false,   true,   true,  false,  true},
};

bool store_effect_can_move(StoreEffectState from, StoreEffectState to) {
  if ((unsigned)from >= ARRAY_LEN(may_move) ||
      (unsigned)to >= ARRAY_LEN(may_move))
    return false;
  return may_move[from][to];
}

/* ---- Argument checks ------------------------------------------------ */

/* A required string: present and not empty. */
static IexStatus need_text(const char *what, const char *v, Err *err) {
  if (v && *v) return IEX_OK;
  return err_set(err, IEX_E_INVALID, "%s is missing", what);
}

static IexStatus need_id(const char *what, int64_t id, Err *err) {
  if (id > 0) return IEX_OK;
  return err_set(err, IEX_E_INVALID, "%s %lld is not a valid id", what,
                 (long long)id);
}

/* JSON text (NULL allowed when `optional`). */
static IexStatus need_json(const char *what, const char *json, bool optional,
                           Err *err) {
  if (!json)
    return optional ? IEX_OK
                    : err_set(err, IEX_E_INVALID, "%s is missing", what);
  IexStatus rc = redact_check_json(str_from_cstr(json), err);
  if (rc != IEX_OK) err_prefix(err, "%s", what);
  return rc;
}

static IexStatus need_object(const char *what, const char *json, Err *err) {
  IexStatus rc = need_json(what, json, false, err);
  if (rc != IEX_OK) return rc;
  const char *p = json + strspn(json, " \t\r\n");
  if (*p == '{') return IEX_OK;
  return err_set(err, IEX_E_INVALID_JSON, "%s must be a JSON object", what);
}

static IexStatus need_code(IexStatus code, Err *err) {
  if ((unsigned)code < IEX__STATUS_COUNT) return IEX_OK;
  return err_set(err, IEX_E_MISUSE, "result code %d is not in status.def",
                 (int)code);
}

/* Integration names appear in commands and file names: keep them plain. */
static IexStatus need_name(const char *name, Err *err) {
  IexStatus rc = need_text("integration name", name, err);
  if (rc != IEX_OK) return rc;
  static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "abcdefghijklmnopqrstuvwxyz"
                                "0123456789._-";
  size_t len = strlen(name);
  if (len > 64 || strspn(name, allowed) != len)
    return err_set(err, IEX_E_INVALID,
                   "integration name `%.64s` may only hold letters, digits, "
                   "'.', '_' and '-' (at most 64)",
                   name);
  return IEX_OK;
}

/* ---- Open, close, transactions -------------------------------------- */

IexStatus store_open(const char *path, const StoreOptions *opts, Store **out,
                     Err *err) {
  StoreOptions o = {0};
  *out = NULL;
  if (opts) o = *opts;
  if (!o.clock) o.clock = &clock_system;
  if (o.busy_timeout_ms <= 0) o.busy_timeout_ms = 5000;
  if (!path || !*path)
    return err_set(err, IEX_E_STORE_OPEN, "no store path given");
  if (strncmp(path, "postgres://", 11) == 0 ||
      strncmp(path, "postgresql://", 13) == 0)
    return err_set(err, IEX_E_STORE_OPEN,
                   "this iex has no PostgreSQL store yet; give the path of "
                   "an SQLite file");
  return store_sqlite_open(path, &o, out, err);
}

void store_close(Store *s) {
  if (s) s->ops->close(s);
}

int store_schema_version(Store *s) { return s->ops->schema_version(s); }
IexStatus store_check(Store *s, Err *err) { return s->ops->check(s, err); }
IexStatus store_begin(Store *s, Err *err) { return s->ops->begin(s, err); }
IexStatus store_commit(Store *s, Err *err) { return s->ops->commit(s, err); }
void store_rollback(Store *s) { s->ops->rollback(s); }

/* ---- Integrations and settings -------------------------------------- */

IexStatus store_integration_add(Store *s, const StoreIntegrationNew *in,
                                int64_t *id_out, Err *err) {
  IexStatus rc = need_name(in->name, err);
  if (rc == IEX_OK) rc = need_text("iexb hash", in->iexb_hash, err);
  if (rc == IEX_OK && in->iexb.len == 0)
    rc = err_set(err, IEX_E_INVALID, "the compiled flow (.iexb) is empty");
  if (rc == IEX_OK)
    rc = need_object("connections config", in->connections_json, err);
  if (rc == IEX_OK)
    rc = redact_check_references(str_from_cstr(in->connections_json), err);
  if (rc != IEX_OK) return rc;
  return s->ops->integration_add(s, in, id_out, err);
}

IexStatus store_integration_get(Store *s, int64_t id, Arena *a,
                                StoreIntegration *out, Err *err) {
  IexStatus rc = need_id("integration", id, err);
  if (rc != IEX_OK) return rc;
  return s->ops->integration_get(s, id, NULL, a, out, err);
}

IexStatus store_integration_find(Store *s, const char *name, Arena *a,
                                 StoreIntegration *out, Err *err) {
  IexStatus rc = need_text("integration name", name, err);
  if (rc != IEX_OK) return rc;
  return s->ops->integration_get(s, 0, name, a, out, err);
}

IexStatus store_integration_list(Store *s, Arena *a, StoreIntegration **items,
                                 size_t *n_items, Err *err) {
  return s->ops->integration_list(s, a, items, n_items, err);
}

IexStatus store_integration_activate(Store *s, int64_t id,
                                     int64_t activated_at_us, Err *err) {
  IexStatus rc = need_id("integration", id, err);
  if (rc != IEX_OK) return rc;
  return s->ops->integration_set_active(s, id, true, activated_at_us, err);
}

IexStatus store_integration_deactivate(Store *s, int64_t id, Err *err) {
  IexStatus rc = need_id("integration", id, err);
  if (rc != IEX_OK) return rc;
  return s->ops->integration_set_active(s, id, false, 0, err);
}

IexStatus store_settings_get(Store *s, int64_t integration_id, Arena *a,
                             const char **json_out, Err *err) {
  IexStatus rc = need_id("integration", integration_id, err);
  if (rc != IEX_OK) return rc;
  return s->ops->settings_get(s, integration_id, a, json_out, err);
}

IexStatus store_settings_set(Store *s, int64_t integration_id, const char *json,
                             Err *err) {
  IexStatus rc = need_id("integration", integration_id, err);
  if (rc == IEX_OK) rc = need_object("settings", json, err);
  if (rc != IEX_OK) return rc;
  return s->ops->settings_set(s, integration_id, json, err);
}

/* ---- Inbox and cursors ---------------------------------------------- */

IexStatus store_inbox_add(Store *s, const StoreEvent *ev, int64_t *id_out,
                          bool *is_duplicate, Err *err) {
  char *headers = NULL;
  IexStatus rc = need_id("integration", ev->integration_id, err);
  if (rc == IEX_OK) rc = need_text("dedup key", ev->dedup_key, err);
  if (rc == IEX_OK) rc = need_text("event source", ev->source, err);
  if (rc == IEX_OK) {
    rc = redact_headers(
        str_from_cstr(ev->headers_json ? ev->headers_json : "{}"), &headers,
        err);
    if (rc != IEX_OK) err_prefix(err, "event headers");
  }
  if (rc == IEX_OK) {
    StoreEvent redacted = *ev;
    redacted.headers_json = headers;
    if (!redacted.body.ptr) redacted.body = STR_LIT("");
    rc = s->ops->inbox_add(s, &redacted, id_out, is_duplicate, err);
  }
  free(headers);
  return rc;
}

IexStatus store_inbox_pending(Store *s, size_t limit, Arena *a,
                              StoreInboxItem **items, size_t *n_items,
                              Err *err) {
  return s->ops->inbox_pending(s, limit ? limit : 100, a, items, n_items, err);
}

IexStatus store_inbox_done(Store *s, int64_t id, int64_t transfer_id,
                           const char *outcome, Err *err) {
  IexStatus rc = need_id("inbox event", id, err);
  if (rc == IEX_OK) rc = need_text("outcome", outcome, err);
  if (rc != IEX_OK) return rc;
  return s->ops->inbox_done(s, id, transfer_id, outcome, err);
}

IexStatus store_cursor_get(Store *s, int64_t integration_id,
                           const char *record_type, Arena *a,
                           const char **value_out, Err *err) {
  IexStatus rc = need_id("integration", integration_id, err);
  if (rc == IEX_OK) rc = need_text("record type", record_type, err);
  if (rc != IEX_OK) return rc;
  return s->ops->cursor_get(s, integration_id, record_type, a, value_out, err);
}

IexStatus store_cursor_set(Store *s, int64_t integration_id,
                           const char *record_type, const char *value,
                           Err *err) {
  IexStatus rc = need_id("integration", integration_id, err);
  if (rc == IEX_OK) rc = need_text("record type", record_type, err);
  if (rc == IEX_OK) rc = need_text("cursor value", value, err);
  if (rc != IEX_OK) return rc;
  return s->ops->cursor_set(s, integration_id, record_type, value, err);
}

/* ---- Transfers and revisions ---------------------------------------- */

IexStatus store_transfer_get_or_add(Store *s, int64_t integration_id,
                                    const char *source_id,
                                    const char *display_key, int64_t *id_out,
                                    bool *created, Err *err) {
  bool ignored;
  IexStatus rc = need_id("integration", integration_id, err);
  if (rc == IEX_OK) rc = need_text("source record id", source_id, err);
  if (rc != IEX_OK) return rc;
  if (!display_key || !*display_key) display_key = source_id;
  return s->ops->transfer_get_or_add(s, integration_id, source_id, display_key,
                                     id_out, created ? created : &ignored, err);
}

IexStatus store_transfer_get(Store *s, int64_t id, Arena *a, StoreTransfer *out,
                             Err *err) {
  IexStatus rc = need_id("transfer", id, err);
  if (rc != IEX_OK) return rc;
  return s->ops->transfer_get(s, id, a, out, err);
}

IexStatus store_revision_add(Store *s, int64_t transfer_id,
                             const char *data_json, const char *source_time,
                             int64_t inbox_id, int64_t *id_out, bool *is_new,
                             Err *err) {
  bool ignored;
  IexStatus rc = need_id("transfer", transfer_id, err);
  if (rc == IEX_OK) rc = need_json("revision data", data_json, false, err);
  if (rc != IEX_OK) return rc;
  return s->ops->revision_add(s, transfer_id, data_json, source_time, inbox_id,
                              id_out, is_new ? is_new : &ignored, err);
}

IexStatus store_revision_get(Store *s, int64_t id, Arena *a, StoreRevision *out,
                             Err *err) {
  IexStatus rc = need_id("revision", id, err);
  if (rc != IEX_OK) return rc;
  return s->ops->revision_get(s, id, a, out, err);
}

IexStatus store_revision_list(Store *s, int64_t transfer_id, Arena *a,
                              StoreRevision **items, size_t *n_items,
                              Err *err) {
  return s->ops->revision_list(s, transfer_id, a, items, n_items, err);
}

/* ---- Runs ----------------------------------------------------------- */

static IexStatus need_outcome(const StoreOutcome *o, Err *err) {
  return o ? need_code(o->code, err) : IEX_OK;
}

IexStatus store_run_add(Store *s, int64_t revision_id, int64_t due_at_us,
                        const char *reason, int64_t *id_out, Err *err) {
  IexStatus rc = need_id("revision", revision_id, err);
  if (rc == IEX_OK) rc = need_text("run reason", reason, err);
  if (rc != IEX_OK) return rc;
  return s->ops->run_add(s, revision_id, due_at_us ? due_at_us : store_now(s),
                         reason, id_out, err);
}

IexStatus store_run_claim(Store *s, const char *worker_id, int64_t lease_us,
                          Arena *a, StoreRun *out, bool *claimed, Err *err) {
  IexStatus rc = need_text("worker id", worker_id, err);
  if (rc == IEX_OK && lease_us <= 0)
    rc = err_set(err, IEX_E_INVALID,
                 "a lease must last longer than 0 microseconds");
  if (rc != IEX_OK) return rc;
  return s->ops->run_claim(s, worker_id, lease_us, a, out, claimed, err);
}

IexStatus store_run_renew(Store *s, int64_t run_id, const char *worker_id,
                          int64_t lease_us, Err *err) {
  IexStatus rc = need_id("run", run_id, err);
  if (rc == IEX_OK) rc = need_text("worker id", worker_id, err);
  if (rc != IEX_OK) return rc;
  return s->ops->run_renew(s, run_id, worker_id, lease_us, err);
}

IexStatus store_run_release_dead(Store *s,
                                 bool (*is_dead)(void *ctx, const char *owner),
                                 void *ctx, size_t *n_released, Err *err) {
  size_t n = 0;
  if (!is_dead) return err_set(err, IEX_E_MISUSE, "no is_dead function");
  IexStatus rc = s->ops->run_release_dead(s, is_dead, ctx, &n, err);
  if (n_released) *n_released = rc == IEX_OK ? n : 0;
  return rc;
}

IexStatus store_run_finish(Store *s, int64_t run_id, const char *worker_id,
                           StoreRunStatus status, const StoreOutcome *outcome,
                           Err *err) {
  IexStatus rc = need_id("run", run_id, err);
  if (rc == IEX_OK) rc = need_text("worker id", worker_id, err);
  if (rc == IEX_OK) rc = need_outcome(outcome, err);
  if (rc == IEX_OK && status != STORE_RUN_DONE && status != STORE_RUN_SKIPPED &&
      status != STORE_RUN_FAILED && status != STORE_RUN_ATTENTION)
    rc = err_set(err, IEX_E_MISUSE, "a run cannot finish as `%s`",
                 store_run_status_name(status));
  if (rc != IEX_OK) return rc;
  return s->ops->run_finish(s, run_id, worker_id, status, outcome, 0, NULL,
                            err);
}

IexStatus store_run_retry(Store *s, int64_t run_id, const char *worker_id,
                          int64_t due_at_us, const StoreOutcome *outcome,
                          int64_t *next_id_out, Err *err) {
  int64_t ignored;
  IexStatus rc = need_id("run", run_id, err);
  if (rc == IEX_OK) rc = need_text("worker id", worker_id, err);
  if (rc == IEX_OK) rc = need_outcome(outcome, err);
  if (rc != IEX_OK) return rc;
  if (due_at_us <= 0) due_at_us = store_now(s);
  return s->ops->run_finish(s, run_id, worker_id, STORE_RUN_WAITING, outcome,
                            due_at_us, next_id_out ? next_id_out : &ignored,
                            err);
}

IexStatus store_run_get(Store *s, int64_t id, Arena *a, StoreRun *out,
                        Err *err) {
  IexStatus rc = need_id("run", id, err);
  if (rc != IEX_OK) return rc;
  return s->ops->run_get(s, id, a, out, err);
}

IexStatus store_run_list(Store *s, int64_t transfer_id, Arena *a,
                         StoreRun **items, size_t *n_items, Err *err) {
  return s->ops->run_list(s, transfer_id, a, items, n_items, err);
}

IexStatus store_transfers_failed(Store *s, int64_t integration_id, Arena *a,
                                 StoreTransfer **items, size_t *n_items,
                                 Err *err) {
  return s->ops->transfers_failed(s, integration_id, a, items, n_items, err);
}

/* ---- Stages --------------------------------------------------------- */

IexStatus store_stage_add(Store *s, const StoreStageNew *in, int64_t *id_out,
                          Err *err) {
  char *data = NULL;
  IexStatus rc = need_id("run", in->run_id, err);
  if (rc == IEX_OK) rc = need_code(in->outcome.code, err);
  if (rc == IEX_OK && (unsigned)in->kind >= ARRAY_LEN(stage_kind_names))
    rc = err_set(err, IEX_E_MISUSE, "stage kind %d does not exist",
                 (int)in->kind);
  if (rc == IEX_OK && in->data_json) {
    /* A recorded request carries its headers: the secrets rule applies. */
    rc = redact_nested_headers(str_from_cstr(in->data_json), &data, err);
    if (rc != IEX_OK) err_prefix(err, "stage data");
  }
  if (rc == IEX_OK) {
    StoreStageNew copy = *in;
    int64_t now = store_now(s);
    copy.data_json = data;
    if (!copy.step) copy.step = "";
    if (!copy.started_at_us) copy.started_at_us = now;
    if (!copy.finished_at_us) copy.finished_at_us = now;
    rc = s->ops->stage_add(s, &copy, id_out, err);
  }
  free(data);
  return rc;
}

IexStatus store_stage_list(Store *s, int64_t run_id, Arena *a,
                           StoreStage **items, size_t *n_items, Err *err) {
  return s->ops->stage_list(s, run_id, a, items, n_items, err);
}

/* ---- Effects -------------------------------------------------------- */

IexStatus store_effect_reserve(Store *s, const StoreEffectNew *in, Arena *a,
                               StoreEffect *out, bool *created, Err *err) {
  bool ignored;
  IexStatus rc = need_id("transfer", in->transfer_id, err);
  if (rc == IEX_OK) rc = need_id("revision", in->revision_id, err);
  if (rc == IEX_OK) rc = need_id("run", in->run_id, err);
  if (rc == IEX_OK) rc = need_text("effect key", in->key, err);
  if (rc == IEX_OK) rc = need_text("effect step", in->step, err);
  if (rc == IEX_OK) rc = need_text("target system", in->target_system, err);
  if (rc == IEX_OK) rc = need_text("operation", in->operation, err);
  if (rc == IEX_OK) rc = need_text("effect reference", in->reference, err);
  if (rc != IEX_OK) return rc;
  return s->ops->effect_reserve(s, in, a, out, created ? created : &ignored,
                                err);
}

IexStatus store_effect_start(Store *s, int64_t effect_id, int64_t run_id,
                             Err *err) {
  IexStatus rc = need_id("effect", effect_id, err);
  if (rc == IEX_OK) rc = need_id("run", run_id, err);
  if (rc != IEX_OK) return rc;
  return s->ops->effect_move(s, effect_id, STORE_EFFECT_STARTED, run_id, NULL,
                             NULL, NULL, NULL, err);
}

IexStatus store_effect_done(Store *s, int64_t effect_id,
                            const char *result_json, const char *external_id,
                            bool *counted, Err *err) {
  bool ignored;
  IexStatus rc = need_id("effect", effect_id, err);
  if (rc == IEX_OK) rc = need_json("effect result", result_json, true, err);
  if (rc != IEX_OK) return rc;
  return s->ops->effect_move(s, effect_id, STORE_EFFECT_DONE, 0, result_json,
                             external_id, NULL, counted ? counted : &ignored,
                             err);
}

IexStatus store_effect_refused(Store *s, int64_t effect_id, const char *reason,
                               Err *err) {
  IexStatus rc = need_id("effect", effect_id, err);
  if (rc == IEX_OK) rc = need_text("refusal reason", reason, err);
  if (rc != IEX_OK) return rc;
  return s->ops->effect_move(s, effect_id, STORE_EFFECT_REFUSED, 0, NULL, NULL,
                             reason, NULL, err);
}

IexStatus store_effect_unknown(Store *s, int64_t effect_id, const char *reason,
                               Err *err) {
  IexStatus rc = need_id("effect", effect_id, err);
  if (rc == IEX_OK) rc = need_text("reason", reason, err);
  if (rc != IEX_OK) return rc;
  return s->ops->effect_move(s, effect_id, STORE_EFFECT_UNKNOWN, 0, NULL, NULL,
                             reason, NULL, err);
}

IexStatus store_effect_find(Store *s, int64_t transfer_id, const char *key,
                            Arena *a, StoreEffect *out, bool *found, Err *err) {
  IexStatus rc = need_id("transfer", transfer_id, err);
  if (rc == IEX_OK) rc = need_text("effect key", key, err);
  if (rc != IEX_OK) return rc;
  return s->ops->effect_find(s, transfer_id, key, a, out, found, err);
}

IexStatus store_effect_list_unsettled(Store *s, Arena *a, StoreEffect **items,
                                      size_t *n_items, Err *err) {
  return s->ops->effect_list_unsettled(s, a, items, n_items, err);
}

IexStatus store_effect_list(Store *s, int64_t transfer_id, Arena *a,
                            StoreEffect **items, size_t *n_items, Err *err) {
  return s->ops->effect_list(s, transfer_id, a, items, n_items, err);
}

/* ---- Usage ---------------------------------------------------------- */

IexStatus store_usage_month(Store *s, int year, int month, int64_t quota,
                            int64_t integration_id, StoreUsage *out, Err *err) {
  if (month < 1 || month > 12 || year < 1970 || year > 9999)
    return err_set(err, IEX_E_INVALID, "%04d-%02d is not a month", year, month);
  if (quota < 0)
    return err_set(err, IEX_E_INVALID, "a quota cannot be negative");
  int64_t used = 0;
  /* The month is [first instant, first instant of the next) in UTC. */
  IexStatus rc = s->ops->usage_count(s, clock_utc_us(year, month, 1, 0, 0, 0),
                                     clock_utc_us(year, month + 1, 1, 0, 0, 0),
                                     integration_id, &used, err);
  if (rc != IEX_OK) return rc;
  out->year = year;
  out->month = month;
  out->used = used;
  out->quota = quota;
  out->included = used < quota ? used : quota;
  out->extra = used - out->included;
  return IEX_OK;
}

/* ---- Outbox --------------------------------------------------------- */

static IexStatus need_message(const StoreMessageNew *in, Err *err) {
  IexStatus rc = need_text("message key", in->key, err);
  if (rc == IEX_OK) rc = need_text("message kind", in->kind, err);
  if (rc == IEX_OK) rc = need_text("recipient", in->recipient, err);
  if (rc == IEX_OK) rc = need_text("subject", in->subject, err);
  if (rc == IEX_OK && !in->body)
    rc = err_set(err, IEX_E_INVALID, "message body is missing");
  return rc;
}

IexStatus store_outbox_add(Store *s, const StoreMessageNew *in, int64_t *id_out,
                           bool *created, Err *err) {
  bool ignored;
  IexStatus rc = need_message(in, err);
  if (rc != IEX_OK) return rc;
  return s->ops->outbox_add(s, in, id_out, created ? created : &ignored, err);
}

IexStatus store_outbox_claim(Store *s, const char *worker_id, int64_t lease_us,
                             Arena *a, StoreMessage *out, bool *claimed,
                             Err *err) {
  IexStatus rc = need_text("worker id", worker_id, err);
  if (rc == IEX_OK && lease_us <= 0)
    rc = err_set(err, IEX_E_INVALID,
                 "a lease must last longer than 0 microseconds");
  if (rc != IEX_OK) return rc;
  return s->ops->outbox_claim(s, worker_id, lease_us, a, out, claimed, err);
}

IexStatus store_outbox_sent(Store *s, int64_t id, Err *err) {
  IexStatus rc = need_id("message", id, err);
  if (rc != IEX_OK) return rc;
  return s->ops->outbox_sent(s, id, err);
}

IexStatus store_outbox_defer(Store *s, int64_t id, int64_t due_at_us,
                             const char *error, Err *err) {
  IexStatus rc = need_id("message", id, err);
  if (rc == IEX_OK) rc = need_text("send error", error, err);
  if (rc != IEX_OK) return rc;
  return s->ops->outbox_defer(s, id, due_at_us, error, err);
}

/* ---- Connection health: the circuit breaker -------------------------- */

/* The row as retry.h's breaker, with the connection's current settings. An
** open circuit keeps the pause it was opened with, so the time people
** were told ("paused until ...") holds even if the setting changed. */
static CircuitBreaker breaker_of(const StoreConnectionHealth *h,
                                 const StoreCircuitPolicy *p) {
  CircuitBreaker cb = {.threshold = p->threshold, .pause_us = p->pause_us};
  cb.failures = h->failures > INT_MAX - 1 ? INT_MAX - 1 : (int)h->failures;
  cb.opened_at_us = h->opened_at_us;
  switch (h->state) {
  case STORE_CIRCUIT_CLOSED:
    cb.state = CIRCUIT_CLOSED;
    break;
  case STORE_CIRCUIT_OPEN:
    cb.state = CIRCUIT_OPEN;
    if (h->retry_at_us > h->opened_at_us)
      cb.pause_us = h->retry_at_us - h->opened_at_us;
    break;
  case STORE_CIRCUIT_HALF_OPEN:
    cb.state = CIRCUIT_HALF_OPEN;
    cb.trial_until_us = h->retry_at_us;
    break;
  }
  return cb;
}

/* The configured pause (retry.h's default for 0): how long an open
** circuit opened at 0 stays shut. */
static int64_t pause_of(const StoreCircuitPolicy *p) {
  CircuitBreaker probe = {.pause_us = p->pause_us, .state = CIRCUIT_OPEN};
  return circuit_retry_at(&probe);
}

static void health_set(StoreConnectionHealth *h, const CircuitBreaker *cb) {
  h->state = cb->state == CIRCUIT_OPEN        ? STORE_CIRCUIT_OPEN
             : cb->state == CIRCUIT_HALF_OPEN ? STORE_CIRCUIT_HALF_OPEN
                                              : STORE_CIRCUIT_CLOSED;
  h->failures = cb->failures;
  h->opened_at_us = cb->opened_at_us;
  h->retry_at_us = circuit_retry_at(cb);
}

typedef bool (*HealthUpdate)(void *ctx, StoreConnectionHealth *h,
                             int64_t now_us, bool *notify);

/* Apply `update` to the connection's health. Most calls change nothing (a
** closed circuit allows; a success on one without failures): those are
** decided on a plain read, with no lock and no write. Any change is made
** again on the row read under the write lock, so that two processes cannot
** both claim a trial or lose each other's failures. */
static IexStatus health_apply(Store *s, int64_t integration_id,
                              const char *alias, HealthUpdate update,
                              void *ctx, const StoreMessageNew *notify,
                              Arena *a, StoreConnectionHealth *out, Err *err) {
  IexStatus rc = need_id("integration", integration_id, err);
  if (rc == IEX_OK) rc = need_text("connection alias", alias, err);
  if (rc == IEX_OK && notify) rc = need_message(notify, err);
  if (rc != IEX_OK) return rc;
  Arena tmp;
  arena_init(&tmp);
  StoreConnectionHealth h;
  bool found = false, notify_now = false;
  rc = s->ops->health_get(s, integration_id, alias, a ? a : &tmp, &h, &found,
                          err);
  if (rc == IEX_OK) {
    if (!update(ctx, &h, store_now(s), &notify_now)) {
      if (out) *out = h;
    } else {
      rc = s->ops->health_update(s, integration_id, alias, update, ctx, notify,
                                 a ? a : &tmp, out, err);
    }
  }
  arena_fini(&tmp);
  return rc;
}

IexStatus store_connection_health(Store *s, int64_t integration_id,
                                  const char *alias, Arena *a,
                                  StoreConnectionHealth *out, Err *err) {
  bool found;
  IexStatus rc = need_id("integration", integration_id, err);
  if (rc == IEX_OK) rc = need_text("connection alias", alias, err);
  if (rc != IEX_OK) return rc;
  return s->ops->health_get(s, integration_id, alias, a, out, &found, err);
}

IexStatus store_connection_health_list(Store *s, int64_t integration_id,
                                       Arena *a, StoreConnectionHealth **items,
                                       size_t *n_items, Err *err) {
  IexStatus rc = need_id("integration", integration_id, err);
  if (rc != IEX_OK) return rc;
  return s->ops->health_list(s, integration_id, a, items, n_items, err);
}

typedef struct AllowCtx {
  const StoreCircuitPolicy *policy;
  bool allowed;
} AllowCtx;

static bool allow_update(void *ctx, StoreConnectionHealth *h, int64_t now_us,
                         bool *notify) {
  AllowCtx *c = ctx;
  CircuitBreaker cb = breaker_of(h, c->policy);
  CircuitBreaker before = cb;
  *notify = false;
  c->allowed = circuit_allow(&cb, now_us);
  if (cb.state == before.state && cb.trial_until_us == before.trial_until_us)
    return false;
  /* A trial's claim lapses after the configured pause, not the one the
  ** circuit was opened with. */
  if (cb.state == CIRCUIT_HALF_OPEN)
    cb.trial_until_us = now_us + pause_of(c->policy);
  health_set(h, &cb);
  return true;
}

IexStatus store_circuit_allow(Store *s, int64_t integration_id,
                              const char *alias, const StoreCircuitPolicy *p,
                              bool *allowed, Arena *a,
                              StoreConnectionHealth *out, Err *err) {
  static const StoreCircuitPolicy defaults = {0, 0};
  AllowCtx c = {.policy = p ? p : &defaults};
  IexStatus rc = health_apply(s, integration_id, alias, allow_update, &c, NULL,
                              a, out, err);
  if (rc == IEX_OK) *allowed = c.allowed;
  return rc;
}

typedef struct RecordCtx {
  const StoreCircuitPolicy *policy;
  StoreCallResult result;
  const char *code, *message;
  bool opened;
} RecordCtx;

static bool record_update(void *ctx, StoreConnectionHealth *h, int64_t now_us,
                          bool *notify) {
  RecordCtx *c = ctx;
  CircuitBreaker cb = breaker_of(h, c->policy);
  c->opened = false;
  *notify = false;
  switch (c->result) {
  case STORE_CALL_NEUTRAL:
    /* A trial without a verdict gives its claim back at once: the next
    ** call is the trial, instead of the connection waiting for the claim
    ** to lapse. Otherwise a 429 changes nothing. */
    if (cb.state != CIRCUIT_HALF_OPEN) return false;
    h->state = STORE_CIRCUIT_OPEN;
    h->retry_at_us = now_us;
    return true;
  case STORE_CALL_OK:
    if (cb.state == CIRCUIT_CLOSED && cb.failures == 0) return false;
    circuit_record(&cb, true, now_us);
    health_set(h, &cb);
    return true;
  case STORE_CALL_FAILED:
    c->opened = circuit_record(&cb, false, now_us);
    health_set(h, &cb);
    h->last_error_code = c->code;
    h->last_error = c->message;
    *notify = c->opened;
    return true;
  }
  return false;
}

IexStatus store_circuit_record(Store *s, int64_t integration_id,
                               const char *alias, const StoreCircuitPolicy *p,
                               StoreCallResult result, IexStatus code,
                               const char *message,
                               const StoreMessageNew *notify, bool *opened,
                               Err *err) {
  static const StoreCircuitPolicy defaults = {0, 0};
  IexStatus rc = need_code(code, err);
  if (rc == IEX_OK && (unsigned)result > STORE_CALL_NEUTRAL)
    rc = err_set(err, IEX_E_MISUSE, "call result %d does not exist",
                 (int)result);
  if (rc != IEX_OK) return rc;
  RecordCtx c = {.policy = p ? p : &defaults,
                 .result = result,
                 .code = status_name(code),
                 .message = message && *message ? message : NULL};
  rc = health_apply(s, integration_id, alias, record_update, &c, notify, NULL,
                    NULL, err);
  if (opened) *opened = rc == IEX_OK && c.opened;
  return rc;
}

typedef struct CloseCtx {
  bool was_paused;
} CloseCtx;

static bool close_update(void *ctx, StoreConnectionHealth *h, int64_t now_us,
                         bool *notify) {
  CloseCtx *c = ctx;
  (void)now_us;
  *notify = false;
  c->was_paused = h->state != STORE_CIRCUIT_CLOSED;
  if (!c->was_paused && h->failures == 0) return false;
  h->state = STORE_CIRCUIT_CLOSED;
  h->failures = 0;
  h->retry_at_us = 0;
  return true;
}

IexStatus store_circuit_close(Store *s, int64_t integration_id,
                              const char *alias, bool *was_paused, Err *err) {
  CloseCtx c = {false};
  IexStatus rc = health_apply(s, integration_id, alias, close_update, &c, NULL,
                              NULL, NULL, err);
  if (was_paused) *was_paused = rc == IEX_OK && c.was_paused;
  return rc;
}

IexStatus store_runs_due_now(Store *s, int64_t integration_id, size_t *n_runs,
                             Err *err) {
  size_t n = 0;
  IexStatus rc = need_id("integration", integration_id, err);
  if (rc == IEX_OK) rc = s->ops->runs_due_now(s, integration_id, &n, err);
  if (n_runs) *n_runs = rc == IEX_OK ? n : 0;
  return rc;
}

/* ---- Queries -------------------------------------------------------- */

IexStatus store_log(Store *s, const StoreLogFilter *f, Arena *a,
                    StoreTransfer **items, size_t *n_items, Err *err) {
  StoreLogFilter copy = f ? *f : (StoreLogFilter){0};
  if (copy.limit == 0) copy.limit = 50;
  if ((unsigned)copy.status >= ARRAY_LEN(run_status_names))
    return err_set(err, IEX_E_MISUSE, "run status %d does not exist",
                   (int)copy.status);
  if (copy.key && !*copy.key) copy.key = NULL;
  return s->ops->log(s, &copy, a, items, n_items, err);
}

IexStatus store_transfer_show(Store *s, int64_t id, Arena *a,
                              StoreTransferDetail *out, Err *err) {
  IexStatus rc = need_id("transfer", id, err);
  if (rc != IEX_OK) return rc;
  return s->ops->transfer_show(s, id, a, out, err);
}
