/*
** What the runtime's commands share: the store they work on and their
** options.
**
** Every command that touches the store takes `--store PATH`; without it
** IEX_STORE from the environment, else "iex.db" in the current folder.
** Options are taken out of argv as they are read, so what is left is the
** command's positional arguments, checked by the command.
*/
#ifndef IEX_RUNTIME_CMD_COMMON_H
#define IEX_RUNTIME_CMD_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/store.h"

/* Remove "--name VALUE" (or "--name=VALUE") from argv and return VALUE;
** NULL when absent. A missing VALUE returns "" (the command reports it). */
const char *cmd_option(int *argc, char **argv, const char *name);
/* Remove "--name" from argv; whether it was there. */
bool cmd_flag(int *argc, char **argv, const char *name);
/* The first argument left that starts with "--", or NULL: an unknown
** option the command refuses. */
const char *cmd_unknown_option(int argc, char **argv);

/* Open the store named by --store / IEX_STORE / "iex.db". Prints the
** reason and returns NULL on failure. */
Store *cmd_open_store(const char *command, int *argc, char **argv);

/* The integration called `name`, into `*out` (in `a`); prints why not and
** returns false. */
bool cmd_find_integration(Store *s, const char *command, const char *name,
                     Arena *a, StoreIntegration *out);

/* The transfer named by `text`: its id, or a display key / source id that
** names exactly one transfer ("#1001", "1001"). Prints why not (none, or
** several: give the id) and returns false. */
bool cmd_resolve_transfer(Store *s, const char *command, const char *text,
                          int64_t *id);

/* Parse "2024-05-01" or "2024-05-01T10:00:00Z" as UTC microseconds. */
bool cmd_parse_time(const char *text, int64_t *out_us);

/* Print `json` pretty (two spaces), each line prefixed with `indent`. */
void cmd_print_json(const char *json, const char *indent);

#endif /* IEX_RUNTIME_CMD_COMMON_H */
