/*
** The `iex` command line: one function per command of runtime/commands.def,
** and the helpers every command uses to report usage errors the same way.
*/
#ifndef IEX_RUNTIME_CLI_H
#define IEX_RUNTIME_CLI_H

#include "common/util.h"

#define CMD(name, function, usage, summary) int function(int argc, char **argv);
#include "runtime/commands.def"
#undef CMD

/* Print "iex NAME: <message>" and the command's usage line to stderr and
** return 2, so a command can end with `return cli_usage_error(argv[0], …)`. */
int cli_usage_error(const char *command, const char *fmt, ...) IEX_PRINTF(2, 3);

#endif /* IEX_RUNTIME_CLI_H */
