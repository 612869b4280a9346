/*
** Replays inputs through the fuzz target without libFuzzer, so that every
** `make test` runs the whole corpus under ASan and UBSan with gcc.
**
**   replay_compile PATH...   each PATH is a file or a folder of files
**
** Prints "PASS fuzz/replay/<PATH> (N inputs)" per PATH. A crash aborts
** the program (and tests/fuzz/run.sh reports it with the input's name,
** which is printed to stderr before each input is run).
*/
#include "common/util.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs larger than this are not fuzz inputs but mistakes in a path. */
#define MAX_INPUT_BYTES ((size_t)64 * 1024 * 1024)

static int replay_file(const char *path) {
  char err[256];
  size_t len;
  char *data = read_file(path, MAX_INPUT_BYTES, &len, err, sizeof err);
  if (!data) {
    printf("FAIL fuzz/replay/%s: %s\n", path, err);
    return 0;
  }
  fprintf(stderr, "replay: %s\n", path);
  LLVMFuzzerTestOneInput((const uint8_t *)data, len);
  free(data);
  return 1;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    VEC_PUSH(names, n, cap, xstrdup(e->d_name));
  }
  closedir(d);
  if (n > 1) qsort(names, n, sizeof *names, compare_names);
  int count = 0;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(dir) + strlen(names[i]) + 2;
    char *path = xmalloc(len);
    snprintf(path, len, "%s/%s", dir, names[i]);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) count += replay_file(path);
    free(path);
    free(names[i]);
  }
  free(names);
  return count;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      printf("FAIL fuzz/replay/%s: no such file or folder\n", argv[i]);
      continue;
    }
    int n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]);
    printf("PASS fuzz/replay/%s (%d inputs)\n", argv[i], n);
    fflush(stdout);
  }
  return 0;
}
