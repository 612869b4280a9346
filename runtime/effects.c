/*
** The effects protocol around one write (runtime/effects.h). The store
** enforces the state machine; this file decides the moves.
*/
#include <string.h>

#include "common/buf.h"
#include "runtime/crash.h"
#include "runtime/effects.h"
#include "runtime/json_value.h"

bool effect_counts_usage(Str op) {
  return str_eq_cstr(op, "invoice.create") || str_eq_cstr(op, "order.create");
}

/* The target's id of the record: its field "id" (or "number"), as text. */
static const char *external_id(Value rec, Arena *a) {
  if (value_kind(rec) != VAL_RECORD) return NULL;
  static const char *const names[] = {"id", "number", "bookedInvoiceNumber",
                                      "draftInvoiceNumber", "guid"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const Value *v = value_field(rec, str_from_cstr(names[i]), NULL);
    if (!v) continue;
    if (value_kind(*v) == VAL_INT) return arena_printf(a, "%lld", (long long)v->as.i);
    if (value_kind(*v) == VAL_STRING) {
      Str s = value_as_str(*v);
      return arena_strndup(a, s.ptr, s.len);
    }
  }
  return NULL;
}

/* Record `rec` as the effect's result: effect done (and usage counted). */
static IexStatus finish_done(const EffectCall *ec, int64_t id, Value rec,
                             EffectReport *rep, Err *err) {
  Arena *a = ec->call->arena;
  const char *json = jsonv_encode_arena(rec, a);
  if (!json) json = "null";
  IexStatus rc = store_effect_done(ec->store, id, json, external_id(rec, a),
                                   &rep->counted, err);
  if (rc != IEX_OK) return rc;
  crash_point(CRASH_EFFECT_DONE);
  rep->result_json = json;
  return IEX_OK;
}

/* Look the record up by its reference. IEX_OK with `*found`. */
static IexStatus look_up(const EffectCall *ec, const StoreEffect *e,
                         bool *found, Value *rec, EffectReport *rep,
                         Err *err) {
  *found = false;
  if (!ec->op->find)
    return err_set(err, IEX_E_NOT_RECONCILED,
                   "%s %.*s (reference %s) may have reached %s, and the "
                   "connector cannot look it up; check %s and decide",
                   e->step ? e->step : "the write", STR_FMT(ec->call->operation),
                   e->reference, ec->conn->system, ec->conn->system);
  Err lerr;
  err_init(&lerr);
  rep->looked_up = true;
  IexStatus rc = ec->op->find(ec->conn, ec->call, found, rec, &lerr);
  if (rc != IEX_OK) {
    char reason[600];
    snprintf(reason, sizeof reason, "lookup failed: %s", err_text(&lerr));
    IexStatus src = store_effect_unknown(ec->store, e->id, reason, err);
    if (src != IEX_OK) return src;
    return err_set(err, IEX_E_LOOKUP_FAILED,
                   "could not look up %.*s %s in %s: %s",
                   STR_FMT(ec->call->operation), e->reference,
                   ec->conn->system, err_text(&lerr));
  }
  rep->lookup_found = *found;
  return IEX_OK;
}

IexStatus effect_perform(const EffectCall *ec, Value *result,
                         EffectReport *rep, Err *err) {
  memset(rep, 0, sizeof *rep);
  rep->how = EFFECT_NOT_SENT;
  const OpCall *call = ec->call;
  Arena *a = call->arena;
  char step[128], op[128];
  snprintf(step, sizeof step, "%.*s", STR_FMT(call->step));
  snprintf(op, sizeof op, "%.*s", STR_FMT(call->operation));
  StoreEffectNew in = {
      .transfer_id = ec->transfer_id,
      .revision_id = ec->revision_id,
      .run_id = ec->run_id,
      .key = ec->key,
      .step = step,
      .target_system = ec->conn->system,
      .operation = op,
      .reference = ec->reference,
      .counts_usage = ec->counts_usage,
  };
  StoreEffect e;
  bool created;
  IexStatus rc = store_effect_reserve(ec->store, &in, a, &e, &created, err);
  if (rc != IEX_OK) return rc;
  if (created) crash_point(CRASH_EFFECT_RESERVED);
  rep->effect_id = e.id;

  switch (e.state) {
  case STORE_EFFECT_DONE: {
    JsonvError je;
    if (!e.result_json ||
        !jsonv_decode(a, str_from_cstr(e.result_json), NULL, result, &je))
      *result = value_null();
    rep->how = EFFECT_REUSED;
    rep->result_json = e.result_json;
    return IEX_OK;
  }
  case STORE_EFFECT_STARTED:
    /* The process that started it died before the outcome was stored. */
    rc = store_effect_unknown(ec->store, e.id,
                              "the runtime stopped while the request was out",
                              err);
    if (rc != IEX_OK) return rc;
    e.unknown_since_us = ec->now_us;
    /* fall through */
  case STORE_EFFECT_UNKNOWN: {
    if (ec->rerun_when_unknown) break; /* replaces by reference: send */
    bool found;
    Value rec = value_null();
    rc = look_up(ec, &e, &found, &rec, rep, err);
    if (rc != IEX_OK) return rc;
    if (found) {
      rc = finish_done(ec, e.id, rec, rep, err);
      if (rc != IEX_OK) return rc;
      *result = rec;
      rep->how = EFFECT_ADOPTED;
      return IEX_OK;
    }
    if (ec->reconcile_window_us > 0 && e.unknown_since_us > 0 &&
        ec->now_us - e.unknown_since_us < ec->reconcile_window_us)
      return err_set(err, IEX_E_OUTCOME_UNKNOWN,
                     "%s (reference %s) is not in %s yet; looking again "
                     "before sending it again",
                     op, e.reference, ec->conn->system);
    break; /* not there: it never arrived; send it */
  }
  case STORE_EFFECT_RESERVED:
  case STORE_EFFECT_REFUSED:
    break;
  }

  rc = store_effect_start(ec->store, e.id, ec->run_id, err);
  if (rc != IEX_OK) return rc;
  crash_point(CRASH_EFFECT_STARTED);
  Err cerr;
  err_init(&cerr);
  Value rec = value_null();
  IexStatus crc = ec->op->run(ec->conn, call, &rec, &cerr);
  crash_point(CRASH_RESPONSE_RECEIVED);
  if (crc == IEX_OK) {
    rc = finish_done(ec, e.id, rec, rep, err);
    if (rc != IEX_OK) return rc;
    *result = rec;
    rep->how = EFFECT_SENT;
    return IEX_OK;
  }
  if (cerr.code == IEX_OK) cerr.code = crc;
  StatusGroup g = status_group(crc);
  /* A transient failure or a refusal created nothing: it may be sent
  ** again as it is. Anything else may have reached the target. */
  if (g == STATUS_GROUP_RETRY || g == STATUS_GROUP_FAIL)
    rc = store_effect_refused(ec->store, e.id, err_text(&cerr), err);
  else
    rc = store_effect_unknown(ec->store, e.id, err_text(&cerr), err);
  if (rc != IEX_OK) return rc;
  if (err) *err = cerr;
  return crc;
}
