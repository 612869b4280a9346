/*
** Redaction: keeping secrets out of everything iex stores.
**
** The store never holds a secret value (docs/runtime.md, "Secrets"). Two
** guards sit in front of it:
** - header JSON (a webhook's headers, a request's headers inside stage
**   data) has the value of every secret-named header replaced by "***"
**   before it is stored;
** - a connections config must name its credentials by reference
**   (`env:SHOPIFY_TOKEN`, `file:/etc/iex/shop.token`), never hold them.
**
** A name is secret when, compared case-insensitively, it is one of
** Authorization, Proxy-Authorization, Cookie, Set-Cookie, or contains
** "token", "secret", "password", "passwd", "key" or "auth"; Idempotency-Key
** is the one exception (it identifies a request and secures nothing).
** Signatures (X-Shopify-Hmac-Sha256, X-WC-Webhook-Signature) are kept: a
** signature proves a body, it does not grant access.
**
** Redaction rewrites only the redacted values and copies every other byte
** as it was, so amounts in a body are never re-printed through a double.
*/
#ifndef IEX_RUNTIME_REDACT_H
#define IEX_RUNTIME_REDACT_H

#include <stdbool.h>

#include "common/str.h"
#include "runtime/status.h"

/* What a redacted value becomes. */
#define REDACTED "***"

/* True when a header or config key called `name` holds a secret. */
bool redact_is_secret_name(Str name);

/* Redact header JSON: an object {"Name": value, ...} or a list of
** ["Name", value] pairs. Returns IEX_OK and a new NUL-terminated copy with
** every secret header's value replaced by "***" in `*out` (the caller owns
** it and frees it with free()). Fails with IEX_E_INVALID_JSON when `json`
** is not JSON or not one of the two shapes; `*out` is NULL then. */
IexStatus redact_headers(Str json, char **out, Err *err);

/* Redact JSON of any shape: every member called "headers" (any case, at
** any depth) is treated as header JSON and redacted as above. Returns a
** new copy in `*out` (caller frees); IEX_E_INVALID_JSON when `json` is not
** JSON. Used for stage data (a recorded request holds its headers). */
IexStatus redact_nested_headers(Str json, char **out, Err *err);

/* Check that `json` is exactly one JSON value, with the scanner the
** redaction uses: numbers of any size are accepted as they are written
** (a parser into doubles would refuse or round them). IEX_OK or
** IEX_E_INVALID_JSON with the byte offset of the problem. */
IexStatus redact_check_json(Str json, Err *err);

/* Check that a connections config names its secrets by reference: every
** member with a secret name whose value is a string must start with "env:"
** or "file:", and must not be a number or boolean. Fails with
** IEX_E_SECRET_VALUE naming the member's path, never its value, or
** IEX_E_INVALID_JSON. */
IexStatus redact_check_references(Str json, Err *err);

#endif /* IEX_RUNTIME_REDACT_H */
