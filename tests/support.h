/* Helpers shared by the tests: temporary directories, reading files whole, running the CLI. */
#ifndef CB_TEST_SUPPORT_H
#define CB_TEST_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <cmocka.h>

/* A fresh empty directory under the build tree, named after tag; returns a static-lifetime path. */
const char *cbt_tmpdir(const char *tag);
/* Writes text to dir/name and returns the full path (malloc'd; caller frees). */
char *cbt_write_file(const char *dir, const char *name, const char *text);
/* Reads a whole file (malloc'd, NUL-terminated) or NULL; *len gets its size if len != NULL. */
char *cbt_read_file(const char *path, size_t *len);
/* Runs a shell command line, capturing stdout+stderr into *output (malloc'd); returns exit status. */
int cbt_run(char **output, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cmocka 1.1 compares only integers and floats to fixed precision; model values need doubles. */
#define assert_near(a, b, tol)                                                            \
  do {                                                                                    \
    double a_ = (a), b_ = (b);                                                            \
    if (!(fabs(a_ - b_) <= (tol))) fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);   \
  } while (0)

/* dir/metrics.csv, whole (malloc'd); fails the test if it cannot be read. */
char *cbt_metrics_csv(const char *dir);
/* dir/summary.json without the lines that describe the process rather than the model's results
 * (wall_seconds, forked_from): what two runs that must agree are compared on (malloc'd). */
char *cbt_summary_core(const char *dir);

/* A day number from YYYY-MM-DD; fails the test on a malformed date. */
int32_t cbt_day(const char *ymd);
/* Monotonic clock, seconds. */
double cbt_now(void);

#endif
