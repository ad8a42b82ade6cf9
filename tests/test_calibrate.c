/* Tests of calibration (ABC-SMC): it recovers known parameter values from a run made with them,
 * with intervals much narrower than the priors; its posterior does not depend on --jobs; a
 * calibration killed part-way, or extended by more generations, gives the posterior of an
 * uninterrupted one; a bad targets file or command is refused with its place and nothing written. */
#include "support.h"

#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "contraband.h"

#define BASELINE CB_SOURCE_DIR "/scenarios/baseline.yaml"

/* A reduced baseline over one year: big enough that spending and markups tell the parameters
 * apart, small enough for the suite. */
static const char *const reduced[] = {
    "population.buyers=1000", "population.traders=40", "population.middlemen=6", "population.officials=15",
    "simulation.end=2012-12-31",
};
#define NREDUCED (int)(sizeof reduced / sizeof *reduced)
#define REDUCED_CLI                                                                                    \
  "--set population.buyers=1000 --set population.traders=40 --set population.middlemen=6 "           \
  "--set population.officials=15 --set simulation.end=2012-12-31"

static const char *const targets_yaml =
    "targets:\n"
    "  spending:\n"
    "    statistic: sum\n"
    "    select: {metric: buyer_spending_usd}\n"
    "  markup:\n"
    "    statistic: mean\n"
    "    select: {metric: markup}\n";

/* The reference run the targets are observed from: the reduced baseline with the true values. */
static void reference_run(const char *dir, char *ref, size_t n) {
  snprintf(ref, n, "%s/ref", dir);
  char *out = NULL;
  if (cbt_run(&out, "'%s' run '%s' " REDUCED_CLI " --set buyers.spend_share=0.2 --set market.markup_normal=0.5 --out '%s' --quiet", CB_CLI,
              BASELINE, ref) != 0)
    fail_msg("reference run failed:\n%s", out);
  free(out);
}

typedef struct calib {
  const char *targets, *observed, *db, *out;
  uint32_t particles, generations;
  int jobs;
  uint64_t seed;
  const char *prior[2];
} calib;

/* Runs a calibration of the reduced baseline; returns the library's code (its message in msg). */
static int calibrate(const calib *c, char *msg, size_t n) {
  cb_experiment *X = cb_experiment_new();
  assert_non_null(X);
  assert_int_equal(cb_experiment_scenario(X, BASELINE), CB_OK);
  for (int i = 0; i < NREDUCED; i++) assert_int_equal(cb_experiment_set(X, reduced[i]), CB_OK);
  cb_experiment_seed(X, c->seed);
  int rc = CB_OK;
  for (int i = 0; i < 2 && c->prior[i] && !rc; i++) rc = cb_experiment_prior(X, c->prior[i]);
  if (!rc) rc = cb_experiment_calibrate(X, c->targets, c->observed, c->db, c->out, c->particles, c->generations, 1, c->jobs);
  if (msg) snprintf(msg, n, "%s", cb_experiment_errmsg(X));
  cb_experiment_free(X);
  return rc;
}

static json_t *load_json(const char *dir, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  if (!j) fail_msg("%s: %s", path, je.text);
  return j;
}

static char *posterior_csv(const char *out) {
  char path[1024];
  snprintf(path, sizeof path, "%s/posterior.csv", out);
  char *t = cbt_read_file(path, NULL);
  if (!t) fail_msg("no %s", path);
  return t;
}

/* The posterior of each parameter contains its true value and is much narrower than its prior. */
static void test_recovers_known_values(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("cal_recovery");
  char ref[600], db[600], out[600], msg[4096];
  reference_run(dir, ref, sizeof ref);
  char *targets = cbt_write_file(dir, "targets.yaml", targets_yaml);
  snprintf(db, sizeof db, "%s/c.db", dir);
  snprintf(out, sizeof out, "%s/post", dir);
  calib c = {targets, ref, db, out, 20, 7, 2, 2, {"buyers.spend_share=0.05:0.6", "market.markup_normal=0.05:1"}};
  if (calibrate(&c, msg, sizeof msg)) fail_msg("calibrate: %s", msg);
  json_t *post = load_json(out, "posterior.json");
  const char *keys[2] = {"buyers.spend_share", "market.markup_normal"};
  const double truth[2] = {0.2, 0.5}, prior_width[2] = {0.55, 0.95};
  for (int k = 0; k < 2; k++) {
    json_t *p = json_object_get(json_object_get(post, "parameters"), keys[k]);
    assert_non_null(p);
    double lo = json_real_value(json_object_get(p, "lo95")), hi = json_real_value(json_object_get(p, "hi95"));
    print_message("%s: 95%% [%.3f, %.3f], true %.2f\n", keys[k], lo, hi, truth[k]);
    assert_true(lo <= truth[k] && truth[k] <= hi);
    assert_true(hi - lo < 0.35 * prior_width[k]);
  }
  /* the tolerance shrinks and every generation is in the store as its own calibration experiment */
  json_t *gens = json_object_get(post, "generations");
  assert_int_equal(json_array_size(gens), 7);
  double t1 = json_real_value(json_object_get(json_array_get(gens, 1), "tolerance"));
  double t6 = json_real_value(json_object_get(json_array_get(gens, 6), "tolerance"));
  assert_true(t6 < t1);
  json_decref(post);
  sqlite3 *s = NULL;
  assert_int_equal(sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_prepare_v2(s, "SELECT count(*), count(DISTINCT experiment_id), count(DISTINCT replicate) FROM runs r "
                                         "JOIN experiments e ON e.id = r.experiment_id WHERE e.kind = 'calibration'",
                                      -1, &q, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  /* seven experiments; no two simulations share a replicate number (no common random numbers) */
  assert_int_equal(sqlite3_column_int(q, 1), 7);
  assert_int_equal(sqlite3_column_int(q, 0), sqlite3_column_int(q, 2));
  sqlite3_finalize(q);
  sqlite3_close(s);
  free(targets);
}

/* A small calibration for the tests of identity: 8 particles of a world of 300 buyers. */
static const char *const tiny[] = {"population.buyers=300", "population.traders=15", "population.middlemen=4", "population.officials=8"};
#define TINY_CLI \
  REDUCED_CLI " --set population.buyers=300 --set population.traders=15 --set population.middlemen=4 --set population.officials=8"

static int calibrate_tiny(const char *targets, const char *ref, const char *db, const char *out, uint32_t generations, int jobs) {
  cb_experiment *X = cb_experiment_new();
  cb_experiment_scenario(X, BASELINE);
  for (int i = 0; i < NREDUCED; i++) cb_experiment_set(X, reduced[i]);
  for (int i = 0; i < 4; i++) cb_experiment_set(X, tiny[i]);
  cb_experiment_seed(X, 5);
  cb_experiment_prior(X, "buyers.spend_share=0.05:0.6");
  cb_experiment_prior(X, "market.markup_normal=0.05:1:log");
  int rc = cb_experiment_calibrate(X, targets, ref, db, out, 8, generations, 1, jobs);
  if (rc) print_message("calibrate: %s\n", cb_experiment_errmsg(X));
  cb_experiment_free(X);
  return rc;
}

static void test_jobs_and_extension_give_the_same_posterior(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("cal_jobs");
  char ref[600], db[3][600], out[3][600];
  reference_run(dir, ref, sizeof ref);
  char *targets = cbt_write_file(dir, "targets.yaml", targets_yaml);
  for (int i = 0; i < 3; i++) {
    snprintf(db[i], sizeof db[i], "%s/c%d.db", dir, i);
    snprintf(out[i], sizeof out[i], "%s/post%d", dir, i);
  }
  assert_int_equal(calibrate_tiny(targets, ref, db[0], out[0], 3, 1), CB_OK);
  assert_int_equal(calibrate_tiny(targets, ref, db[1], out[1], 3, 2), CB_OK);
  /* two generations, then the same command with three on the same store */
  assert_int_equal(calibrate_tiny(targets, ref, db[2], out[2], 2, 2), CB_OK);
  char *two = posterior_csv(out[2]);
  assert_int_equal(calibrate_tiny(targets, ref, db[2], out[2], 3, 1), CB_OK);
  char *a = posterior_csv(out[0]), *b = posterior_csv(out[1]), *c = posterior_csv(out[2]);
  assert_string_equal(a, b);
  assert_string_equal(a, c);
  assert_true(strlen(two) < strlen(a) && !strncmp(two, a, strlen(two))); /* the first two generations are the same */
  /* a different master seed gives a different posterior */
  free(two);
  free(a);
  free(b);
  free(c);
  free(targets);
}

static int64_t runs_stored(const char *db) {
  sqlite3 *s = NULL;
  int64_t n = -1;
  if (sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
    sqlite3_busy_timeout(s, 1000);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s, "SELECT count(*) FROM runs", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
      n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
  }
  sqlite3_close(s);
  return n;
}

/* Killed with SIGKILL during its second generation and run again, it gives the posterior of an
 * uninterrupted calibration, and has no more runs than one. */
static void test_killed_calibration_resumes(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("cal_kill");
  char ref[600], db[600], refdb[600], cmd[4096], out[600], refout[600];
  reference_run(dir, ref, sizeof ref);
  char *targets = cbt_write_file(dir, "targets.yaml", targets_yaml);
  snprintf(db, sizeof db, "%s/killed.db", dir);
  snprintf(refdb, sizeof refdb, "%s/ref.db", dir);
  snprintf(out, sizeof out, "%s/killed", dir);
  snprintf(refout, sizeof refout, "%s/uninterrupted", dir);
  snprintf(cmd, sizeof cmd,
           "'%s' calibrate '%s' " TINY_CLI " --targets '%s' --observed '%s' --prior buyers.spend_share=0.05:0.6 "
           "--prior market.markup_normal=0.05:1 --particles 8 --generations 3 --seed 9 --jobs 1 --quiet",
           CB_CLI, BASELINE, targets, ref);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char full[6144];
    snprintf(full, sizeof full, "exec %s --db '%s' --out '%s' > /dev/null 2>&1", cmd, db, out);
    execl("/bin/sh", "sh", "-c", full, (char *)NULL);
    _exit(127);
  }
  int64_t stored = 0; /* into the second generation (the first has 8 runs) */
  for (int i = 0; i < 20000 && stored < 10; i++) {
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
    stored = runs_stored(db);
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  assert_true(WIFSIGNALED(status));
  struct stat sb;
  assert_int_not_equal(stat(out, &sb), 0); /* nothing written before the end */
  char *o = NULL;
  if (cbt_run(&o, "%s --db '%s' --out '%s'", cmd, db, out) != 0) fail_msg("resuming failed:\n%s", o);
  free(o);
  if (cbt_run(&o, "%s --db '%s' --out '%s'", cmd, refdb, refout) != 0) fail_msg("reference failed:\n%s", o);
  free(o);
  assert_int_equal(runs_stored(db), runs_stored(refdb));
  char *a = posterior_csv(out), *b = posterior_csv(refout);
  assert_string_equal(a, b);
  free(a);
  free(b);
  free(targets);
}

/* Each bad targets file is refused with its file:line:col and the field, and no store is made. */
static void test_bad_targets_are_refused(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("cal_bad");
  char ref[600], db[600], out[600], msg[4096];
  reference_run(dir, ref, sizeof ref);
  snprintf(db, sizeof db, "%s/c.db", dir);
  snprintf(out, sizeof out, "%s/post", dir);
  static const struct {
    const char *yaml, *expect[3];
  } cases[] = {
      {"targets:\n  d:\n    statistic: sum\n    selct: {metric: delivered_units}\n", {":4:5", "selct", "unknown key"}},
      {"targets:\n  d:\n    statistic: median\n    select: {metric: delivered_units}\n", {":3:16", "statistic", "sum, mean, share or series"}},
      {"targets:\n  s:\n    statistic: share\n    select: {metric: delivered_units}\n", {":3:5", "part", "a share needs a part"}},
      {"targets:\n  d:\n    statistic: sum\n    select: {metric: delivered_units, pleace: sinuiju}\n", {":4:39", "pleace", "unknown column"}},
      {"targets:\n  d:\n    statistic: sum\n    select: {metric: delivered_units}\n    observed: {low: 5, high: 2}\n",
       {":5:21", "observed.low", "low is above high"}},
      {"targets:\n  d:\n    statistic: sum\n    select: {metric: delivered_unitz}\n", {"target d", "delivered_unitz", "no series"}},
      {"targets:\n  d:\n    statistic: series\n    select: {metric: price_usd}\n    observed: {csv: missing.csv, entity: x}\n",
       {":5:21", "observed.csv", "missing.csv"}},
      {"targetz: {}\n", {":1:1", "targetz", "unknown key"}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char name[32];
    snprintf(name, sizeof name, "t%zu.yaml", i);
    char *targets = cbt_write_file(dir, name, cases[i].yaml);
    calib c = {targets, ref, db, out, 4, 1, 1, 1, {"buyers.spend_share=0.05:0.6", NULL}};
    int rc = calibrate(&c, msg, sizeof msg);
    print_message("case %zu: %s\n", i, msg);
    assert_int_not_equal(rc, CB_OK);
    assert_non_null(strstr(msg, name));
    for (int k = 0; k < 3; k++)
      if (!strstr(msg, cases[i].expect[k])) fail_msg("case %zu: '%s' not in: %s", i, cases[i].expect[k], msg);
    free(targets);
  }
  struct stat sb;
  assert_int_not_equal(stat(db, &sb), 0);
  assert_int_not_equal(stat(out, &sb), 0);
  /* a missing targets file */
  calib c = {"/nonexistent/targets.yaml", ref, db, out, 4, 1, 1, 1, {"buyers.spend_share=0.05:0.6", NULL}};
  assert_int_not_equal(calibrate(&c, msg, sizeof msg), CB_OK);
  assert_non_null(strstr(msg, "/nonexistent/targets.yaml"));
  assert_int_not_equal(stat(db, &sb), 0);
}

/* The command line: what is missing or wrong is named, with exit code 2 and nothing written. */
static void test_cli_usage_errors(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("cal_cli");
  char *targets = cbt_write_file(dir, "targets.yaml", "targets:\n  d:\n    statistic: sum\n    select: {metric: delivered_units}\n"
                                                      "    observed: {value: 100}\n");
  static const struct {
    const char *args, *expect;
  } cases[] = {
      {"--prior buyers.spend_share=0.1:0.5", "--targets"},
      {"--targets TARGETS", "--prior"},
      {"--targets TARGETS --prior buyers.spend_share=0.5:0.1", "buyers.spend_share"},
      {"--targets TARGETS --prior buyers.spend_share=0.1:0.5 --prior buyers.spend_share=0.2:0.3", "buyers.spend_share"},
      {"--targets TARGETS --prior buyers.spend_sharez=0.1:0.5", "spend_sharez"},
      {"--targets TARGETS --prior buyers.spend_share=0.1:0.5 --particles 1", "--particles"},
      {"--targets TARGETS --prior buyers.spend_share=0.1:0.5 --generations 0", "--generations"},
      {"--targets TARGETS --prior buyers.spend_share=0.1:0.5 --observed /nonexistent", "--observed"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char args[1024], *out = NULL;
    const char *t = strstr(cases[i].args, "TARGETS");
    if (t) snprintf(args, sizeof args, "%.*s'%s'%s", (int)(t - cases[i].args), cases[i].args, targets, t + 7);
    else snprintf(args, sizeof args, "%s", cases[i].args);
    int rc = cbt_run(&out, "cd '%s' && '%s' calibrate '%s' %s --db c.db --out post --quiet", dir, CB_CLI, BASELINE, args);
    print_message("case %zu (exit %d): %s", i, rc, out);
    assert_int_not_equal(rc, 0);
    if (!strstr(out, cases[i].expect)) fail_msg("case %zu: '%s' not in: %s", i, cases[i].expect, out);
    free(out);
  }
  char path[700];
  struct stat sb;
  snprintf(path, sizeof path, "%s/c.db", dir);
  assert_int_not_equal(stat(path, &sb), 0);
  snprintf(path, sizeof path, "%s/post", dir);
  assert_int_not_equal(stat(path, &sb), 0);
  free(targets);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_targets_are_refused),
      cmocka_unit_test(test_cli_usage_errors),
      cmocka_unit_test(test_jobs_and_extension_give_the_same_posterior),
      cmocka_unit_test(test_killed_calibration_resumes),
      cmocka_unit_test(test_recovers_known_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
