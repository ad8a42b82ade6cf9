/* Tests of the file layer: atomic writes leave either the old complete file or the new one (also
 * when the writer fails, the directory is missing or the disk is full), and the directory,
 * dirname and SHA-256 helpers give the documented answers. */
#include "support.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/files.h"

static char *join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* Number of entries in dir other than "." and ".."; the only one must be `only` if given. */
static int count_entries(const char *dir, const char *only) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    if (only && strcmp(de->d_name, only) != 0) fail_msg("unexpected file %s/%s", dir, de->d_name);
    n++;
  }
  closedir(d);
  return n;
}

static void assert_content(const char *path, const char *want) {
  char *got = cbt_read_file(path, NULL);
  assert_non_null(got);
  assert_string_equal(got, want);
  free(got);
}

/* ---- writers ------------------------------------------------------------------------------- */

static int write_text(FILE *f, void *ctx, cb_err *e) {
  (void)e;
  return fputs((const char *)ctx, f) < 0 ? -1 : 0;
}

/* Writes half a file, then gives up without saying why. */
static int write_then_fail(FILE *f, void *ctx, cb_err *e) {
  (void)ctx;
  (void)e;
  fputs("partial content that must never replace the old file\n", f);
  fflush(f);
  return -1;
}

static int write_then_own_error(FILE *f, void *ctx, cb_err *e) {
  (void)ctx;
  fputs("partial", f);
  return cb_err_set(e, CB_ESCHEMA, "metric \"x\" is unknown; fix the scenario");
}

/* One megabyte, ignoring every error, as careless writers do: the stream's error flag must
 * still be noticed. */
static int write_megabyte_carelessly(FILE *f, void *ctx, cb_err *e) {
  (void)ctx;
  (void)e;
  for (int i = 0; i < 1 << 14; i++)
    fputs("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n", f);
  return 0;
}

/* One megabyte, stopping at the first failed write. */
static int write_megabyte_carefully(FILE *f, void *ctx, cb_err *e) {
  (void)ctx;
  (void)e;
  for (int i = 0; i < 1 << 14; i++)
    if (fputs("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n", f) < 0) return -1;
  return 0;
}

/* ---- atomic write -------------------------------------------------------------------------- */

static void test_atomic_write_creates_and_replaces(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("files-create");
  char *path = join(dir, "out.csv");
  cb_err e = {0};
  assert_int_equal(cb_atomic_write(path, write_text, "a,b\n1,2\n", &e), CB_OK);
  assert_content(path, "a,b\n1,2\n");
  assert_int_equal(cb_atomic_write(path, write_text, "new\n", &e), CB_OK);
  assert_content(path, "new\n");
  assert_int_equal(count_entries(dir, "out.csv"), 1);
  free(path);
}

static void test_relative_path_in_current_directory(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("files-relative");
  char *cwd = getcwd(NULL, 0);
  assert_int_equal(chdir(dir), 0);
  cb_err e = {0};
  int rc = cb_atomic_write("plain.txt", write_text, "x", &e);
  assert_int_equal(chdir(cwd), 0);
  free(cwd);
  assert_int_equal(rc, CB_OK);
  char *path = join(dir, "plain.txt");
  assert_content(path, "x");
  free(path);
}

static void test_failing_writer_keeps_old_file(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("files-fail");
  char *path = cbt_write_file(dir, "summary.json", "{\"old\": true}\n");
  cb_err e = {0};
  assert_int_equal(cb_atomic_write(path, write_then_fail, NULL, &e), CB_EIO);
  assert_non_null(strstr(e.msg, path));
  assert_content(path, "{\"old\": true}\n");
  assert_int_equal(count_entries(dir, "summary.json"), 1);

  /* A writer's own error is passed on unchanged, and the old file still survives. */
  cb_err_clear(&e);
  assert_int_equal(cb_atomic_write(path, write_then_own_error, NULL, &e), CB_ESCHEMA);
  assert_string_equal(e.msg, "metric \"x\" is unknown; fix the scenario");
  assert_content(path, "{\"old\": true}\n");
  assert_int_equal(count_entries(dir, "summary.json"), 1);
  free(path);
}

static void test_missing_directory(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("files-missing");
  char *path = join(dir, "no/such/dir/out.csv");
  cb_err e = {0};
  assert_int_equal(cb_atomic_write(path, write_text, "x", &e), CB_EIO);
  assert_non_null(strstr(e.msg, path));
  assert_non_null(strstr(e.msg, "No such file or directory"));
  assert_int_equal(count_entries(dir, NULL), 0);
  free(path);
}

static void test_target_is_a_directory(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("files-isdir");
  char *path = join(dir, "taken");
  assert_int_equal(mkdir(path, 0777), 0);
  cb_err e = {0};
  assert_int_equal(cb_atomic_write(path, write_text, "x", &e), CB_EIO);
  assert_non_null(strstr(e.msg, path));
  assert_non_null(strstr(e.msg, "Is a directory"));
  assert_int_equal(count_entries(dir, "taken"), 1); /* the temporary file is gone */
  cb_err_clear(&e);
  char *slash = join(dir, "taken/");
  assert_int_equal(cb_atomic_write(slash, write_text, "x", &e), CB_EIO);
  assert_non_null(strstr(e.msg, "not a file name"));
  free(slash);
  free(path);
}

/* In a child limited to 4 KiB per file, so the disk is "full" at 4 KiB: the write must fail
 * with CB_EIO and "File too large". Exit status 0 means it did; others say what went wrong. */
static int full_disk_child(const char *path, cb_writer_fn writer) {
  signal(SIGXFSZ, SIG_IGN); /* otherwise the kernel kills the process instead of failing write */
  struct rlimit lim = {4096, 4096};
  if (setrlimit(RLIMIT_FSIZE, &lim) != 0) return 10;
  cb_err e = {0};
  int rc = cb_atomic_write(path, writer, NULL, &e);
  if (rc != CB_EIO) return 11;
  if (!strstr(e.msg, path)) return 12;
  if (!strstr(e.msg, "File too large")) return 13;
  return 0;
}

static void run_full_disk(cb_writer_fn writer) {
  const char *dir = cbt_tmpdir("files-full");
  char *path = cbt_write_file(dir, "snapshot.bin", "old snapshot\n");
  fflush(NULL); /* the child must not repeat buffered test output */
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) _exit(full_disk_child(path, writer));
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_content(path, "old snapshot\n");
  assert_int_equal(count_entries(dir, "snapshot.bin"), 1);
  free(path);
}

static void test_full_disk_careless_writer(void **state) {
  (void)state;
  run_full_disk(write_megabyte_carelessly);
}

static void test_full_disk_careful_writer(void **state) {
  (void)state;
  run_full_disk(write_megabyte_carefully);
}

/* ---- hashing, directories, dirname --------------------------------------------------------- */

static void expect_sha256(const char *dir, const char *name, const char *text, const char *want) {
  char *path = cbt_write_file(dir, name, text);
  char hex[65];
  cb_err e = {0};
  assert_int_equal(cb_sha256_file(path, hex, &e), CB_OK);
  assert_string_equal(hex, want);
  free(path);
}

static void test_sha256_known_digests(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("files-sha");
  expect_sha256(dir, "abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  expect_sha256(dir, "empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  /* A million 'a's spans many read buffers (FIPS 180-2 test vector). */
  char *million = malloc(1000001);
  memset(million, 'a', 1000000);
  million[1000000] = '\0';
  expect_sha256(dir, "million", million, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  free(million);
}

static void test_sha256_unreadable(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("files-sha-missing");
  char *path = join(dir, "absent");
  char hex[65];
  cb_err e = {0};
  assert_int_equal(cb_sha256_file(path, hex, &e), CB_EIO);
  assert_non_null(strstr(e.msg, path));
  assert_non_null(strstr(e.msg, "No such file or directory"));
  cb_err_clear(&e);
  assert_int_equal(cb_sha256_file(dir, hex, &e), CB_EIO);
  assert_non_null(strstr(e.msg, "Is a directory"));
  free(path);
}

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_mkdir_p(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("files-mkdir");
  char *deep = join(dir, "a/b//c/d/");
  cb_err e = {0};
  assert_int_equal(cb_mkdir_p(deep, &e), CB_OK);
  char *d = join(dir, "a/b/c/d");
  assert_true(is_dir(d));
  assert_int_equal(cb_mkdir_p(d, &e), CB_OK); /* existing: nothing to do */
  free(d);
  free(deep);

  char *file = cbt_write_file(dir, "plain", "x");
  char *under = join(dir, "plain/sub");
  assert_int_equal(cb_mkdir_p(under, &e), CB_EIO);
  assert_non_null(strstr(e.msg, under));
  assert_non_null(strstr(e.msg, "not a directory"));
  cb_err_clear(&e);
  assert_int_equal(cb_mkdir_p("", &e), CB_EIO);
  cb_err_clear(&e);
  assert_int_equal(cb_mkdir_p("/", &e), CB_OK);
  free(under);
  free(file);
}

static void expect_dirname(const char *path, const char *want) {
  char out[64];
  cb_dirname(path, out, sizeof out);
  if (strcmp(out, want) != 0) fail_msg("dirname(\"%s\") = \"%s\", expected \"%s\"", path, out, want);
}

static void test_dirname(void **state) {
  (void)state;
  expect_dirname("a/b/c.yaml", "a/b");
  expect_dirname("c.yaml", ".");
  expect_dirname("", ".");
  expect_dirname("/c.yaml", "/");
  expect_dirname("/", "/");
  expect_dirname("a/b/", "a");
  expect_dirname("a//b", "a");
  expect_dirname("/usr/lib", "/usr");
  expect_dirname("./x", ".");
  char small[4];
  cb_dirname("abcdef/g", small, sizeof small); /* truncated, still terminated */
  assert_string_equal(small, "abc");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_atomic_write_creates_and_replaces),
      cmocka_unit_test(test_relative_path_in_current_directory),
      cmocka_unit_test(test_failing_writer_keeps_old_file),
      cmocka_unit_test(test_missing_directory),
      cmocka_unit_test(test_target_is_a_directory),
      cmocka_unit_test(test_full_disk_careless_writer),
      cmocka_unit_test(test_full_disk_careful_writer),
      cmocka_unit_test(test_sha256_known_digests),
      cmocka_unit_test(test_sha256_unreadable),
      cmocka_unit_test(test_mkdir_p),
      cmocka_unit_test(test_dirname),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
