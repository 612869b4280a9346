/*
** Secret references resolved at the moment of use (runtime/secrets.h).
*/
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/secrets.h"

static bool valid_env_name(const char *s) {
  if (!*s || isdigit((unsigned char)*s)) return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_') return false;
  return true;
}

bool secret_is_reference(const char *text) {
  if (!text) return false;
  if (strncmp(text, "env:", 4) == 0) return valid_env_name(text + 4);
  if (strncmp(text, "file:", 5) == 0) return text[5] == '/';
  return false;
}

void secret_wipe(void *p, size_t n) {
  volatile unsigned char *v = p;
  while (n--) *v++ = 0;
}

static IexStatus copy_value(const char *ref, const char *v, size_t len,
                            char *out, size_t size, Err *err) {
  if (len > 0 && v[len - 1] == '\n') len--;
  if (len > 0 && v[len - 1] == '\r') len--;
  if (len == 0)
    return err_set(err, IEX_E_INVALID, "the secret %s is empty", ref);
  if (len >= size)
    return err_set(err, IEX_E_INVALID,
                   "the secret %s is longer than %zu bytes", ref, size - 1);
  memcpy(out, v, len);
  out[len] = '\0';
  return IEX_OK;
}

static IexStatus from_file(const char *ref, const char *path, char *out,
                           size_t size, Err *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return err_set(err, errno == ENOENT ? IEX_E_NOT_FOUND : IEX_E_INVALID,
                   "cannot open the secret file of %s: %s", ref,
                   strerror(errno));
  struct stat st;
  IexStatus rc = IEX_OK;
  if (fstat(fd, &st) != 0)
    rc = err_set(err, IEX_E_INVALID, "cannot read the secret file of %s: %s",
                 ref, strerror(errno));
  else if (!S_ISREG(st.st_mode))
    rc = err_set(err, IEX_E_INVALID, "the secret file of %s is not a file",
                 ref);
  else if (st.st_uid != geteuid())
    rc = err_set(err, IEX_E_INVALID,
                 "the secret file of %s belongs to another user; it must "
                 "belong to the user iex runs as",
                 ref);
  else if (st.st_mode & 077)
    rc = err_set(err, IEX_E_INVALID,
                 "the secret file of %s can be read by others (mode %03o); "
                 "make it readable by its owner only: chmod 600 %s",
                 ref, (unsigned)(st.st_mode & 0777), path);
  if (rc != IEX_OK) {
    close(fd);
    return rc;
  }
  char buf[SECRET_MAX + 2];
  size_t len = 0;
  for (;;) {
    ssize_t n = read(fd, buf + len, sizeof buf - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      rc = err_set(err, IEX_E_INVALID, "cannot read the secret file of %s: %s",
                   ref, strerror(errno));
      break;
    }
    if (n == 0) break;
    len += (size_t)n;
    if (len == sizeof buf) break;
  }
  close(fd);
  if (rc == IEX_OK) rc = copy_value(ref, buf, len, out, size, err);
  secret_wipe(buf, sizeof buf);
  return rc;
}

IexStatus secret_resolve(const char *ref, char *out, size_t size, Err *err) {
  if (size < 2) return err_set(err, IEX_E_MISUSE, "secret buffer too small");
  out[0] = '\0';
  if (!secret_is_reference(ref))
    return err_set(err, IEX_E_SECRET_VALUE,
                   "a credential must be a reference, env:NAME or "
                   "file:/path, not a value");
  if (ref[0] == 'e') {
    const char *v = getenv(ref + 4);
    if (!v)
      return err_set(err, IEX_E_NOT_FOUND,
                     "the environment variable of %s is not set", ref);
    return copy_value(ref, v, strlen(v), out, size, err);
  }
  return from_file(ref, ref + 5, out, size, err);
}
