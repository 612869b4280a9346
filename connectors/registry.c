/*
** The connectors linked into iex (connectors/registry.def) and lookups of
** connectors and their operations by name (connectors/connector.h).
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "connectors/connector.h"

#define CONNECTOR(sys) extern const Connector connector_##sys;
#include "connectors/registry.def"
#undef CONNECTOR

static const Connector *const all_connectors[] = {
#define CONNECTOR(sys) &connector_##sys,
#include "connectors/registry.def"
#undef CONNECTOR
};

const Connector *connector_find(const char *system) {
  if (!system) return NULL;
  for (size_t i = 0; i < sizeof all_connectors / sizeof all_connectors[0]; i++)
    if (strcmp(all_connectors[i]->system, system) == 0) return all_connectors[i];
  return NULL;
}

const ConnectorOp *connector_op(const Connector *c, Str name) {
  if (!c) return NULL;
  for (size_t i = 0; i < c->n_ops; i++)
    if (str_eq_cstr(name, c->ops[i].name)) return &c->ops[i];
  return NULL;
}

void connector_note(const OpCall *call, const char *fmt, ...) {
  if (!call || !call->note) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(call->note->text, sizeof call->note->text, fmt, ap);
  va_end(ap);
}
