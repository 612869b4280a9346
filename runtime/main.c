/*
** iex: the runtime's command line. It only finds the command in
** runtime/commands.def and calls it; every command lives with its concern.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/cli.h"

#define IEX_VERSION "0.1.0"

typedef struct Command {
  const char *name;
  int (*function)(int argc, char **argv);
  const char *usage;
  const char *summary;
} Command;

static const Command commands[] = {
#define CMD(name, function, usage, summary) {#name, function, usage, summary},
#include "runtime/commands.def"
#undef CMD
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const Command *find_command(const char *name) {
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

static void print_help(FILE *out) {
  fprintf(out, "usage: iex COMMAND [ARGS...]\n\ncommands:\n");
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n`iex help COMMAND` shows a command's arguments.\n");
}

int cli_usage_error(const char *command, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "iex %s: ", command);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  const Command *c = find_command(command);
  if (c) fprintf(stderr, "usage: iex %s %s\n", c->name, c->usage);
  return 2;
}

int cmd_version(int argc, char **argv) {
  (void)argv;
  if (argc > 1) return cli_usage_error("version", "takes no arguments");
  printf("iex %s\n", IEX_VERSION);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    print_help(stderr);
    return 2;
  }
  const char *name = argv[1];
  if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 ||
      strcmp(name, "-h") == 0) {
    if (argc > 2) {
      const Command *c = find_command(argv[2]);
      if (!c) return cli_usage_error("help", "no command `%s`", argv[2]);
      printf("usage: iex %s %s\n\n%s\n", c->name, c->usage, c->summary);
      return 0;
    }
    print_help(stdout);
    return 0;
  }
  const Command *c = find_command(name);
  if (!c) {
    fprintf(stderr, "iex: no command `%s` (see `iex help`)\n", name);
    return 2;
  }
  return c->function(argc - 1, argv + 1);
}
