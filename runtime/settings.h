/*
** Settings: the typed values a flow declares and support staff change per
** integration without touching the flow (`iex settings get|set`).
**
** A flow declares each setting with a type, a default and a line of
** documentation (`setting invoice_mode: draft | booked = draft "..."`).
** A value set for an integration is checked against that declaration
** before it is stored: a value of the wrong type, or not one of the
** allowed choices, is refused with a message that lists what is allowed.
** The store keeps every change (store_settings_set); what a run uses is
** the declaration's defaults overlaid by the integration's latest values.
**
** Values are JSON in the store, as the flow sees them: money is an exact
** JSON number ("0.05" stays 0.05, never a double), a table is a JSON
** object.
**
** Besides the flow's own, every integration has the built-in settings
** (settings_builtins): values the runtime reads, not the flow, such as
** `included_orders`, the monthly order quota. They are set, checked and
** shown like declared ones and stored in the same object, but a flow does
** not see them in `settings.*` (settings_values gives the declared ones
** only), and a built-in's name always means the built-in: iexc refuses a
** flow setting of that name (E0205; compiler/resolve.c keeps the names,
** tests/usage checks that it knows every one).
*/
#ifndef IEX_RUNTIME_SETTINGS_H
#define IEX_RUNTIME_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "runtime/status.h"
#include "runtime/store.h"
#include "runtime/value.h"

typedef enum SettingType {
  SETTING_STRING, /* any text */
  SETTING_INT,    /* a whole number */
  SETTING_MONEY,  /* an exact decimal: 0.05 */
  SETTING_BOOL,   /* true | false */
  SETTING_CHOICE, /* one of `choices`: draft | booked */
  SETTING_TABLE,  /* a JSON object (table of string to ...) */
  SETTING_LIST,   /* a JSON list, or values separated by commas; each one
                     of `choices` when there are any */
  SETTING_COUNT   /* a whole number, 0 or more; built-ins only (a flow's
                     `int` is SETTING_INT) */
} SettingType;

/* One setting as the flow declares it. Strings are borrowed from whoever
** loaded the flow. */
typedef struct FlowSetting {
  const char *name;
  SettingType type;
  const char *const *choices; /* SETTING_CHOICE: the allowed values */
  size_t n_choices;
  const char *default_json; /* the default as JSON; NULL: null */
  const char *doc;          /* one line for people; may be NULL */
} FlowSetting;

/* The declared type for people: "money", "draft | booked". Returns a
** string in `a`. */
const char *setting_type_text(const FlowSetting *s, Arena *a);

/* The setting `name`: the built-in of that name, else its declaration
** among `decl`, else NULL. */
const FlowSetting *setting_find(const FlowSetting *decl, size_t n,
                                const char *name);

/* ---- Built-in settings ---------------------------------------------- */

/* The monthly order quota: the orders a month the integration's plan
** includes; orders beyond it are extra (`iex usage`, `iex import`). */
#define SETTING_INCLUDED_ORDERS "included_orders"
#define SETTING_INCLUDED_ORDERS_DEFAULT 100

/* Every built-in setting, `*n` of them, in the order people see them. */
const FlowSetting *settings_builtins(size_t *n);

/* The built-in `name`, or NULL. */
const FlowSetting *setting_builtin(const char *name);

/* The built-ins' values for the integration: a RECORD in `a`, one field
** per built-in (settings_builtins order), the set value or the default. */
IexStatus settings_builtin_values(Store *st, int64_t integration_id, Arena *a,
                                  Value *out, Err *err);

/* The integration's monthly quota (`included_orders`): its set value, else
** SETTING_INCLUDED_ORDERS_DEFAULT. IEX_E_INVALID when the stored value is
** not a whole number 0 or more (only a raw write to the store makes one). */
IexStatus settings_included_orders(Store *st, int64_t integration_id,
                                   int64_t *out, Err *err);

/* Check `text` as a value of `s` (as typed on a command line: `booked`,
** `0.05`, `true`, `{"a": 1}`) and give its JSON form in `*json_out` (in
** `a`). IEX_E_INVALID with the allowed values when it does not fit. */
IexStatus setting_parse(const FlowSetting *s, const char *text, Arena *a,
                        const char **json_out, Err *err);

/* Set `name` to `text` for `integration_id`, checked against the
** built-ins and `decl`. IEX_E_INVALID for an unknown name (listing the
** declared and built-in ones) or a refused value. Other stored values are
** kept. */
IexStatus settings_set(Store *st, int64_t integration_id,
                       const FlowSetting *decl, size_t n, const char *name,
                       const char *text, Err *err);

/* The settings a run sees: a RECORD in `a` with one field per declared
** setting, in declaration order: the integration's value where one was
** set, else the default. Stored values of settings the flow no longer
** declares are left out. */
IexStatus settings_values(Store *st, int64_t integration_id,
                          const FlowSetting *decl, size_t n, Arena *a,
                          Value *out, Err *err);

/* Whether `name` has a value set for the integration (else the default
** applies), read from the stored JSON object `stored_json`. */
bool settings_is_set(const char *stored_json, const char *name, Arena *a);

#endif /* IEX_RUNTIME_SETTINGS_H */
