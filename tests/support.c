/* Test helpers: small file and process utilities so each test states only what it checks. */
#include "support.h"

#include "engine/calendar.h"

#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

const char *cbt_tmpdir(const char *tag) {
  static char paths[16][512];
  static int next = 0;
  char *p = paths[next++ % 16];
  snprintf(p, 512, "%s/tmp/%s", CB_BINARY_DIR, tag);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", p, p);
  if (system(cmd) != 0) fail_msg("cannot create %s", p);
  return p;
}

char *cbt_write_file(const char *dir, const char *name, const char *text) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *path = malloc(n);
  snprintf(path, n, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) fail_msg("cannot write %s", path);
  fputs(text, f);
  fclose(f);
  return path;
}

char *cbt_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  size_t r;
  while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (cap - n < 2) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

int cbt_run(char **output, const char *fmt, ...) {
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd - 8, fmt, ap);
  va_end(ap);
  strcat(cmd, " 2>&1");
  FILE *p = popen(cmd, "r");
  if (!p) fail_msg("cannot run %s", cmd);
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  size_t r;
  while ((r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
    n += r;
    if (cap - n < 2) buf = realloc(buf, cap *= 2);
  }
  buf[n] = '\0';
  int st = pclose(p);
  if (output) *output = buf; else free(buf);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

char *cbt_metrics_csv(const char *dir) {
  char path[1024];
  snprintf(path, sizeof path, "%s/metrics.csv", dir);
  char *t = cbt_read_file(path, NULL);
  if (!t) fail_msg("cannot read %s", path);
  return t;
}

char *cbt_summary_core(const char *dir) {
  char path[1024];
  snprintf(path, sizeof path, "%s/summary.json", dir);
  char *t = cbt_read_file(path, NULL);
  if (!t) fail_msg("cannot read %s", path);
  char *out = calloc(strlen(t) + 1, 1);
  size_t n = 0;
  for (char *line = t; *line;) {
    char *eol = strchr(line, '\n');
    size_t len = eol ? (size_t)(eol - line) + 1 : strlen(line);
    if (!(strstr(line, "\"wall_seconds\"") && strstr(line, "\"wall_seconds\"") < line + len) &&
        !(strstr(line, "\"forked_from\"") && strstr(line, "\"forked_from\"") < line + len)) {
      memcpy(out + n, line, len);
      n += len;
    }
    line += len;
  }
  free(t);
  return out;
}

int32_t cbt_day(const char *ymd) {
  int32_t d = 0;
  if (cb_parse_date(ymd, &d)) fail_msg("bad date in test: %s", ymd);
  return d;
}

double cbt_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
