/*
** Secrets: credentials named by reference, read at the moment of use.
**
** An integration's connections name each credential by a reference:
**   env:NAME      the environment variable NAME of the iex process
**   file:/path    a file that only its owner may read (mode 0600 or 0400,
**                 owned by the user iex runs as); one trailing newline is
**                 dropped
** The store keeps only the reference. A value is read into a buffer the
** caller owns, used for one call and wiped (secret_wipe). No message this
** module writes holds a value: errors name the reference, never what it
** resolved to.
*/
#ifndef IEX_RUNTIME_SECRETS_H
#define IEX_RUNTIME_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/status.h"

/* Longest secret value accepted, in bytes (tokens are far shorter). */
#define SECRET_MAX 4096

/* Whether `text` is a reference (env:NAME with a valid name, or
** file:/absolute/path), as opposed to a value pasted in by mistake. */
bool secret_is_reference(const char *text);

/* Resolve `ref` into `out` (NUL-terminated, `size` >= 2). Fails with
** IEX_E_SECRET_VALUE when `ref` is not a reference, IEX_E_NOT_FOUND when
** the variable is unset or the file is missing, IEX_E_INVALID when the
** file is readable by others than its owner, not owned by this user, not
** a regular file, empty, or longer than `size` - 1. */
IexStatus secret_resolve(const char *ref, char *out, size_t size, Err *err);

/* Overwrite `n` bytes at `p` with zeros in a way the compiler keeps. */
void secret_wipe(void *p, size_t n);

#endif /* IEX_RUNTIME_SECRETS_H */
