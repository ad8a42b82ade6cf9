/* Memory: allocation failure anywhere in contraband is handled and reported, never a crash; and
 * the estimate that guards against running out bounds what a run uses. A small
 * session (read, override, initialise, run, write outputs, snapshot and restore; then a stored
 * ensemble and its export) is repeated with its first, second, third ... allocation made to fail,
 * for each of its first thousand allocations and a stride through the rest. Each time the failing call must return CB_ENOMEM with an "out of
 * memory" message, the session must free everything (the AddressSanitizer build's leak check runs
 * at exit), and the output folder must hold the previous complete outputs or none. */
#define _DEFAULT_SOURCE /* wait4 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/err.h"
#include "support.h"

#define BASELINE CB_SOURCE_DIR "/scenarios/baseline.yaml"

static const char *const small[] = {"population.buyers=150", "population.traders=8", "population.middlemen=4", "population.officials=20",
                                    "simulation.end=2012-02-29", "sanctions={}", "crackdowns={}", "campaigns={}", "closures={}",
                                    "income_shocks={}"};
#define NSMALL (sizeof small / sizeof *small)

static char out_dir[700], snap_path[700], db_path[700], csv_path[700], report_db[700];

/* The code a failed step reports, after checking its message. */
static int failed(int code, const char *msg, long n) {
  if (code == CB_ENOMEM && !strstr(msg, "out of memory")) fail_msg("allocation %ld: CB_ENOMEM without saying so: %s", n, msg);
  return code;
}

static int sim_session(long n) {
  cb_sim *S = cb_new();
  if (!S) return CB_ENOMEM;
  int rc = cb_read_scenario(S, BASELINE);
  for (size_t i = 0; i < NSMALL && !rc; i++) rc = cb_set(S, small[i]);
  if (!rc) rc = cb_init(S);
  if (!rc) rc = cb_run_until(S, "2012-02-01");
  if (!rc) rc = cb_save_snapshot(S, snap_path);
  if (!rc) rc = cb_run(S) == CB_DONE ? CB_OK : cb_errcode(S);
  if (!rc) rc = cb_write_outputs(S, out_dir);
  if (rc) rc = failed(rc, cb_errmsg(S), n);
  cb_free(S);
  if (rc) return rc;
  cb_sim *R = cb_new();
  if (!R) return CB_ENOMEM;
  rc = cb_read_scenario(R, BASELINE);
  for (size_t i = 0; i < NSMALL && !rc; i++) rc = cb_set(R, small[i]);
  if (!rc) rc = cb_init(R);
  if (!rc) rc = cb_restore_snapshot(R, snap_path);
  if (!rc) rc = cb_run(R) == CB_DONE ? CB_OK : cb_errcode(R);
  if (rc) rc = failed(rc, cb_errmsg(R), n);
  cb_free(R);
  return rc;
}

static int ensemble_session(long n) {
  cb_experiment *X = cb_experiment_new();
  if (!X) return CB_ENOMEM;
  int rc = cb_experiment_scenario(X, BASELINE);
  for (size_t i = 0; i < NSMALL && !rc; i++) rc = cb_experiment_set(X, small[i]);
  if (!rc) rc = cb_experiment_ensemble(X, db_path, 2, 1);
  if (!rc) rc = cb_experiment_export_csv(X, db_path, csv_path);
  if (rc) rc = failed(rc, cb_experiment_errmsg(X), n);
  cb_experiment_free(X);
  return rc;
}

/* A report of a stored ensemble and a figure of it, drawn from a store made once beforehand. */
static int report_session(long n) {
  cb_report *R = cb_report_new();
  if (!R) return CB_ENOMEM;
  char html[800], fig[800];
  snprintf(html, sizeof html, "%s/report.html", out_dir);
  snprintf(fig, sizeof fig, "%s/figure.svg", out_dir);
  cb_plot_spec spec = {.metric = "delivered_units", .by = "place"};
  int rc = cb_report_open(R, report_db);
  if (!rc) rc = cb_report_write_html(R, html);
  if (!rc) rc = cb_report_plot(R, &spec, fig);
  if (rc) rc = failed(rc, cb_report_errmsg(R), n);
  cb_report_free(R);
  return rc;
}

/* The outputs are the complete ones of the unfailing session, or absent. */
static void outputs_whole_or_absent(const char *want_metrics, long n) {
  char path[800];
  snprintf(path, sizeof path, "%s/metrics.csv", out_dir);
  if (access(path, F_OK) != 0) return;
  char *m = cbt_read_file(path, NULL);
  if (!m || strcmp(m, want_metrics) != 0) fail_msg("allocation %ld: metrics.csv is not the complete output", n);
  free(m);
}

/* Sessions write outputs, snapshots and stores with fsync; on a memory file system (when there is
 * one) that costs nothing, and the test makes thousands of sessions. */
static const char *scratch_dir(const char *what) {
  static char dir[600];
  snprintf(dir, sizeof dir, "/dev/shm/contraband-%s-%ld", what, (long)getpid());
  if (mkdir(dir, 0700) == 0 || access(dir, W_OK) == 0) return dir;
  return cbt_tmpdir(what);
}

static void remove_scratch(const char *dir) {
  if (strncmp(dir, "/dev/shm/", 9) != 0) return;
  char *out = NULL;
  cbt_run(&out, "rm -rf '%s'", dir);
  free(out);
}

/* Every allocation up to the thousandth fails in turn, then every k-th, about 1,500 sessions in
 * all: allocations past the first thousand come from the same places again (day buckets and order
 * books growing). With CB_TEST_EVERY_ALLOCATION set, every one (about 18,000 sessions). */
static long next_n(long n, long total) {
  long stride = total > 1000 ? (total - 1000) / 500 + 1 : 1;
  return n < 1000 || getenv("CB_TEST_EVERY_ALLOCATION") ? n + 1 : n + stride;
}

static void every_allocation_fails_cleanly(int (*session)(long), const char *what) {
  const char *dir = scratch_dir(what);
  snprintf(out_dir, sizeof out_dir, "%s/out", dir);
  snprintf(snap_path, sizeof snap_path, "%s/state.snap", dir);
  snprintf(db_path, sizeof db_path, "%s/runs.db", dir);
  snprintf(csv_path, sizeof csv_path, "%s/runs.csv", dir);
  remove(db_path);
  cb_alloc_fail_at(0);
  long before = cb_alloc_count();
  mkdir(out_dir, 0700);
  if (session(0) != CB_OK) fail_msg("%s: the session fails without any injected failure", what);
  long total = cb_alloc_count() - before;
  assert_true(total > 50);
  char path[800];
  snprintf(path, sizeof path, "%s/metrics.csv", out_dir);
  char *want = session == sim_session ? cbt_read_file(path, NULL) : NULL;
  long failures = 0, tried = 0;
  for (long n = 1; n <= total; n = next_n(n, total), tried++) {
    remove(db_path);
    cb_alloc_fail_at(n);
    int rc = session(n);
    cb_alloc_fail_at(0);
    if (rc != CB_OK && rc != CB_ENOMEM) fail_msg("%s: allocation %ld failed and the session returned %d, not CB_ENOMEM", what, n, rc);
    failures += rc == CB_ENOMEM;
    if (want) outputs_whole_or_absent(want, n);
  }
  /* every injected failure is seen: none is swallowed and turned into a success */
  if (failures != tried) fail_msg("%s: %ld of %ld injected allocation failures were reported", what, failures, tried);
  printf("%s: %ld of its %ld allocations made to fail in turn, each reported as CB_ENOMEM\n", what, tried, total);
  free(want);
  remove_scratch(dir);
}

static void test_run_survives_every_failed_allocation(void **state) {
  (void)state;
  every_allocation_fails_cleanly(sim_session, "alloc-run");
}

static void test_ensemble_survives_every_failed_allocation(void **state) {
  (void)state;
  every_allocation_fails_cleanly(ensemble_session, "alloc-ensemble");
}

static void test_report_survives_every_failed_allocation(void **state) {
  (void)state;
  snprintf(report_db, sizeof report_db, "%s/report.db", cbt_tmpdir("alloc-report"));
  cb_experiment *X = cb_experiment_new();
  assert_non_null(X);
  assert_int_equal(cb_experiment_scenario(X, BASELINE), CB_OK);
  for (size_t i = 0; i < NSMALL; i++) assert_int_equal(cb_experiment_set(X, small[i]), CB_OK);
  assert_int_equal(cb_experiment_ensemble(X, report_db, 2, 1), CB_OK);
  cb_experiment_free(X);
  every_allocation_fails_cleanly(report_session, "alloc-report");
}

/* The estimate cb_init checks against the memory limit bounds what a run really uses: it is at
 * least the peak resident memory of the run, and not more than three times it. Measured in a
 * child process so the peak is the run's alone. Sanitizers' shadow memory would inflate the peak. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CB_SANITIZED 1
#else
#define CB_SANITIZED 0
#endif

static void test_memory_estimate_bounds_use(void **state) {
  (void)state;
  if (CB_SANITIZED) skip();
  const char *sizes[] = {"population.buyers=20000", "population.buyers=200000"};
  for (int i = 0; i < 2; i++) {
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      cb_sim *S = cb_new();
      double est = -1;
      if (S && !cb_read_scenario(S, BASELINE) && !cb_set(S, sizes[i]) && !cb_set(S, "simulation.end=2013-12-31") &&
          !cb_set(S, "sanctions={}") && !cb_set(S, "crackdowns={}") && !cb_set(S, "campaigns={}") && !cb_set(S, "closures={}") &&
          !cb_set(S, "income_shocks={}") && !cb_init(S) && !cb_run(S))
        est = cb_memory_estimate(S);
      if (write(fd[1], &est, sizeof est) != (ssize_t)sizeof est) _exit(1);
      _exit(0);
    }
    close(fd[1]);
    double est = -1;
    assert_int_equal(read(fd[0], &est, sizeof est), (ssize_t)sizeof est);
    close(fd[0]);
    int status;
    struct rusage ru;
    assert_int_equal(wait4(pid, &status, 0, &ru), pid);
    assert_true(est > 0);
    double peak = (double)ru.ru_maxrss * 1024.0;
    printf("%s: estimated %.1f MiB, peak resident %.1f MiB\n", sizes[i], est / 1048576.0, peak / 1048576.0);
    assert_true(est >= peak);
    assert_true(est <= 3.0 * peak);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_run_survives_every_failed_allocation),
      cmocka_unit_test(test_ensemble_survives_every_failed_allocation),
      cmocka_unit_test(test_report_survives_every_failed_allocation),
      cmocka_unit_test(test_memory_estimate_bounds_use),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
