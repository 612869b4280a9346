/* The shipped flows' own tests (`iexc --test flows/NAME.iexflow`) run end
** to end against this stdlib: OSS rates on the order date, cent
** differences, time zones, joins and truncation as the flows use them.
** One case per flow; a failure shows iexc's diff. Needs IEX_BUILD (set by
** tests/run) to find iexc. */
#include "tests/lib/check.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

int main(void) {
  check_suite = "unit/stdlib_flows";
  char pattern[4096];
  glob_t g;
  snprintf(pattern, sizeof pattern, "%s/flows/*.iexflow", env("IEX_ROOT", "."));
  if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
    printf("FAIL unit/stdlib_flows: no flows at %s\n", pattern);
    return 1;
  }
  for (size_t i = 0; i < g.gl_pathc; i++) {
    const char *path = g.gl_pathv[i], *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char cmd[8192], output[16384];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s/bin/iexc' --test 'flows/%s' 2>&1", env("IEX_ROOT", "."),
             env("IEX_BUILD", "build/test"), base);
    FILE *p = popen(cmd, "r");
    size_t len = p ? fread(output, 1, sizeof output - 1, p) : 0;
    output[len] = '\0';
    int status = p ? pclose(p) : -1;
    const char *last = output + len;
    while (last > output && last[-1] == '\n') last--;
    while (last > output && last[-1] != '\n') last--;
    if (status != 0 || !strstr(last, " passed, 0 failed")) {
      /* Detail lines are indented, so the runner does not count iexc's
      ** own PASS lines as ours. */
      printf("FAIL unit/stdlib_flows/%s: iexc --test exited with status %d\n", base, status);
      for (char *line = output; *line;) {
        char *end = strchr(line, '\n');
        if (end) *end = '\0';
        printf("    %s\n", line);
        line = end ? end + 1 : line + strlen(line);
      }
    } else
      printf("PASS unit/stdlib_flows/%s\n", base);
  }
  globfree(&g);
  return 0;
}
