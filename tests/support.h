/* Helpers shared by the tests: temporary directories, reading files whole, running the CLI. */
#ifndef CB_TEST_SUPPORT_H
#define CB_TEST_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
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

#endif
