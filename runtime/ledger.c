/*
** The ledger target (runtime/ledger.h): an append-only file, fsynced.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "runtime/crash.h"
#include "runtime/json_value.h"
#include "runtime/ledger.h"

#define SEC INT64_C(1000000)

static const char *ledger_path(const Connection *conn, Err *err) {
  const char *u = conn->base_url;
  if (!u || strncmp(u, "file:", 5) != 0 || u[5] != '/') {
    err_set(err, IEX_E_INVALID,
            "connection %s: a ledger's base_url must be file:/path",
            conn->name ? conn->name : "?");
    return NULL;
  }
  return u + 5;
}

/* The environment's fault, or NULL. */
static const char *fault(void) {
  const char *f = getenv("IEX_LEDGER_FAULT");
  return f && *f ? f : NULL;
}

static IexStatus common_fault(const Connection *conn, Err *err) {
  const char *f = fault();
  if (!f) return IEX_OK;
  if (strcmp(f, "down") == 0)
    return err_set(err, IEX_E_NETWORK, "could not reach the ledger of %s",
                   conn->name);
  if (strcmp(f, "busy") == 0) {
    err->http_status = 429;
    err->retry_after_us = 7 * SEC;
    return err_set(err, IEX_E_HTTP_429, "the ledger of %s is busy",
                   conn->name);
  }
  return IEX_OK;
}

static Str reference_of(const OpCall *call) {
  if (value_kind(call->input) != VAL_RECORD) return str_make("", 0);
  const Value *r = value_field(call->input, STR_LIT("reference"), NULL);
  if (!r || value_kind(*r) != VAL_STRING) return str_make("", 0);
  return value_as_str(*r);
}

/* The result a write answers with: {"id": N, "reference": "..."}, where
** N is the line's byte offset + 1 in the file (unique, stable). */
static IexStatus make_result(const OpCall *call, int64_t id, Str ref,
                             Value *out) {
  RecordBuilder rb;
  record_builder_init(&rb, call->arena, 2);
  record_builder_add(&rb, STR_LIT("id"), value_int(id));
  Value rv;
  value_string_copy(call->arena, ref, &rv);
  record_builder_add(&rb, STR_LIT("reference"), rv);
  *out = record_builder_finish(&rb);
  return IEX_OK;
}

/* Look for (operation, reference) in the file: `*id` its line's id. */
static IexStatus scan(const char *path, Str op, Str ref, bool *found,
                      int64_t *id, Err *err) {
  *found = false;
  FILE *f = fopen(path, "r");
  if (!f) {
    if (errno == ENOENT) return IEX_OK;
    return err_set(err, IEX_E_NETWORK, "cannot read the ledger %s: %s", path,
                   strerror(errno));
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  long offset = 0;
  while ((n = getline(&line, &cap, f)) > 0) {
    const char *tab1 = memchr(line, '\t', (size_t)n);
    const char *tab2 = tab1 ? memchr(tab1 + 1, '\t', (size_t)(line + n - tab1 - 1)) : NULL;
    /* A line cut by a crash has no final LF; it counts as written, as a
    ** request the target received counts. */
    if (tab2 && str_eq(str_make(line, (size_t)(tab1 - line)), op) &&
        str_eq(str_make(tab1 + 1, (size_t)(tab2 - tab1 - 1)), ref)) {
      *found = true;
      *id = offset + 1;
      break;
    }
    offset += n;
  }
  free(line);
  fclose(f);
  return IEX_OK;
}

static IexStatus ledger_write(const Connection *conn, const OpCall *call,
                              Value *result, Err *err) {
  const char *path = ledger_path(conn, err);
  if (!path) return IEX_E_INVALID;
  IexStatus rc = common_fault(conn, err);
  if (rc != IEX_OK) return rc;
  Str ref = reference_of(call);
  if (ref.len == 0 || memchr(ref.ptr, '\t', ref.len) || memchr(ref.ptr, '\n', ref.len)) {
    err->http_status = 422;
    return err_set(err, IEX_E_VALIDATION,
                   "the ledger refused the record: it has no reference "
                   "(field `reference`) to find it by");
  }
  const Value *refuse =
      value_kind(call->input) == VAL_RECORD
          ? value_field(call->input, STR_LIT("ledger_refuse"), NULL)
          : NULL;
  if (refuse && value_kind(*refuse) == VAL_STRING) {
    err->http_status = 422;
    return err_set(err, IEX_E_VALIDATION, "the ledger refused the %.*s: %.*s",
                   STR_FMT(call->operation), STR_FMT(value_as_str(*refuse)));
  }
  Buf b;
  buf_init(&b, 0);
  buf_append_str(&b, call->operation);
  buf_putc(&b, '\t');
  buf_append_str(&b, ref);
  buf_putc(&b, '\t');
  bool ok = jsonv_encode(call->input, &b, NULL);
  buf_putc(&b, '\n');
  if (!ok || !buf_ok(&b)) {
    buf_fini(&b);
    return err_set(err, IEX_E_MAPPING, "the record cannot be written as JSON");
  }
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    buf_fini(&b);
    return err_set(err, IEX_E_NETWORK, "cannot open the ledger %s: %s", path,
                   strerror(errno));
  }
  struct stat st;
  int64_t id = fstat(fd, &st) == 0 ? (int64_t)st.st_size + 1 : 0;
  /* One write() of the whole line: O_APPEND keeps lines whole. */
  ssize_t n = write(fd, b.data, b.len);
  int saved = errno;
  if (n == (ssize_t)b.len) fsync(fd);
  close(fd);
  buf_fini(&b);
  if (n < 0)
    return err_set(err, IEX_E_NETWORK, "cannot write the ledger %s: %s", path,
                   strerror(saved));
  /* The target has it; the answer is not yet read. */
  crash_point(CRASH_REQUEST_SENT);
  const char *f = fault();
  if (f && strcmp(f, "lost") == 0)
    return err_set(err, IEX_E_OUTCOME_UNKNOWN,
                   "the ledger's answer was lost after the record was sent");
  return make_result(call, id, ref, result);
}

static IexStatus ledger_find(const Connection *conn, const OpCall *call,
                             bool *found, Value *result, Err *err) {
  const char *path = ledger_path(conn, err);
  if (!path) return IEX_E_INVALID;
  const char *f = fault();
  if (f && strcmp(f, "down") == 0)
    return err_set(err, IEX_E_NETWORK, "could not reach the ledger of %s",
                   conn->name);
  Str ref = reference_of(call);
  int64_t id = 0;
  IexStatus rc = scan(path, call->operation, ref, found, &id, err);
  if (rc == IEX_OK && *found) make_result(call, id, ref, result);
  return rc;
}

/* invoice.find: reads by reference; null when there is none. */
static IexStatus ledger_invoice_find(const Connection *conn,
                                     const OpCall *call, Value *result,
                                     Err *err) {
  const char *path = ledger_path(conn, err);
  if (!path) return IEX_E_INVALID;
  IexStatus rc = common_fault(conn, err);
  if (rc != IEX_OK) return rc;
  bool found;
  int64_t id = 0;
  Str ref = reference_of(call);
  rc = scan(path, STR_LIT("invoice.create"), ref, &found, &id, err);
  if (rc != IEX_OK) return rc;
  if (!found) {
    *result = value_null();
    return IEX_OK;
  }
  return make_result(call, id, ref, result);
}

static const ConnectorOp ledger_ops[] = {
    {"customer.create", OP_WRITES, ledger_write, ledger_find, OP_UPDATE_KEEPS},
    {"invoice.create", OP_WRITES, ledger_write, ledger_find, OP_UPDATE_KEEPS},
    {"payment.create", OP_WRITES, ledger_write, ledger_find, OP_UPDATE_KEEPS},
    {"invoice.find", OP_READS, ledger_invoice_find, NULL, OP_UPDATE_KEEPS},
};

const Connector connector_ledger = {
    .system = "ledger",
    .title = "Ledger file",
    .ops = ledger_ops,
    .n_ops = sizeof ledger_ops / sizeof ledger_ops[0],
};
