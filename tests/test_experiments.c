/* Tests of ensembles and the results store: replicate i is exactly the single run with run number
 * i; replicates differ; the store's contents do not depend on the number of jobs; an ensemble
 * stopped part-way (SIGKILL included) resumes to the same store as an uninterrupted one; bad
 * input is refused before the store is touched; export gives metrics.csv's rows back. */
#include "support.h"

#include <math.h>
#include <signal.h>
#include <jansson.h>
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

/* A small world over one year, with the crackdowns, campaigns and closures removed (the standing
 * bans of the sanctions section stay: without them South Korean goods would pass customs freely). */
static const char *const small[] = {
    "population.buyers=2000", "population.traders=60", "population.middlemen=10", "population.officials=40",
    "simulation.end=2012-12-31", "crackdowns={}", "campaigns={}", "closures={}", "income_shocks={}",
};
#define NSMALL (int)(sizeof small / sizeof *small)
#define SMALL_CLI                                                                                              \
  "--set population.buyers=2000 --set population.traders=60 --set population.middlemen=10 "                   \
  "--set population.officials=40 --set simulation.end=2012-12-31 --set 'crackdowns={}' " \
  "--set 'campaigns={}' --set 'closures={}' --set 'income_shocks={}'"

typedef struct seen {
  uint32_t calls, first_done, last_done, new_done;
} seen;

static void record_progress(void *ctx, const cb_progress *p) {
  seen *s = ctx;
  if (s->calls++ == 0) s->first_done = p->done;
  s->last_done = p->done;
  s->new_done = p->new_done;
}

/* Runs an ensemble of the small world into db; returns the library's code. */
static int ensemble(const char *db, uint32_t runs, int jobs, uint64_t seed, seen *progress, const char *extra) {
  cb_experiment *X = cb_experiment_new();
  assert_non_null(X);
  assert_int_equal(cb_experiment_scenario(X, BASELINE), CB_OK);
  for (int i = 0; i < NSMALL; i++) assert_int_equal(cb_experiment_set(X, small[i]), CB_OK);
  if (extra) assert_int_equal(cb_experiment_set(X, extra), CB_OK);
  cb_experiment_seed(X, seed);
  if (progress) cb_experiment_progress(X, record_progress, progress);
  int rc = cb_experiment_ensemble(X, db, runs, jobs);
  if (rc) print_message("ensemble: %s\n", cb_experiment_errmsg(X));
  cb_experiment_free(X);
  return rc;
}

/* The store's metrics as CSV (malloc'd). */
static char *export_text(const char *dir, const char *db) {
  char path[1024];
  snprintf(path, sizeof path, "%s/export.csv", dir);
  cb_experiment *X = cb_experiment_new();
  if (cb_experiment_export_csv(X, db, path)) fail_msg("export of %s: %s", db, cb_experiment_errmsg(X));
  cb_experiment_free(X);
  char *t = cbt_read_file(path, NULL);
  assert_non_null(t);
  return t;
}

/* The rows of one run in an export, in metrics.csv's form (header included): each line without
 * the columns before date (experiment,run, and a sweep's point,replicate and parameters). */
static char *rows_of_run(const char *export, int experiment, int run) {
  char prefix[32];
  snprintf(prefix, sizeof prefix, "%d,%d,", experiment, run);
  const char *date = strstr(export, ",date,");
  assert_non_null(date);
  int before = 1; /* the columns before date */
  for (const char *c = export; c < date; c++) before += *c == ',';
  size_t cap = strlen(export) + 64, n = 0;
  char *out = malloc(cap);
  n += (size_t)sprintf(out, "date,metric,place,channel,origin,category,value\n");
  for (const char *line = strchr(export, '\n') + 1; *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
    if (!strncmp(line, prefix, strlen(prefix))) {
      const char *rest = line;
      for (int k = 0; k < before; k++) rest = strchr(rest, ',') + 1;
      memcpy(out + n, rest, len - (size_t)(rest - line));
      n += len - (size_t)(rest - line);
    }
    line += len;
  }
  out[n] = '\0';
  return out;
}

/* metrics.csv of the single run with the given seed and run number. */
static char *single_run(const char *dir, uint64_t seed, uint32_t run) {
  cb_sim *S = cb_new();
  assert_int_equal(cb_read_scenario(S, BASELINE), CB_OK);
  for (int i = 0; i < NSMALL; i++) assert_int_equal(cb_set(S, small[i]), CB_OK);
  cb_set_seed(S, seed);
  cb_set_run(S, run);
  if (cb_init(S) || cb_run(S) || cb_write_outputs(S, dir)) fail_msg("%s", cb_errmsg(S));
  cb_free(S);
  return cbt_metrics_csv(dir);
}

static int64_t query_int(const char *db, const char *sql) {
  sqlite3 *h = NULL;
  sqlite3_stmt *q = NULL;
  int64_t v = -1;
  if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK && sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(h);
  return v;
}

static void test_replicate_is_the_single_run(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("exp_replicate");
  char db[600];
  snprintf(db, sizeof db, "%s/r.db", dir);
  assert_int_equal(ensemble(db, 3, 1, 42, NULL, NULL), CB_OK);
  char *all = export_text(dir, db);
  for (uint32_t run = 0; run < 3; run += 2) {
    char *stored = rows_of_run(all, 1, (int)run);
    char *single = single_run(cbt_tmpdir(run ? "exp_single2" : "exp_single0"), 42, run);
    if (strcmp(stored, single)) fail_msg("run %u in the store differs from `run --seed 42 --run %u`", run, run);
    free(stored);
    free(single);
  }
  /* the runs table names each replicate with the master seed; totals are stored per run */
  assert_int_equal(query_int(db, "SELECT count(*) FROM runs WHERE seed = 42 AND status = 'done'"), 3);
  assert_int_equal(query_int(db, "SELECT group_concat(run, '') FROM (SELECT run FROM runs ORDER BY run)"), 12);
  assert_int_equal(query_int(db, "SELECT count(DISTINCT run) FROM summaries WHERE name = 'delivered_units'"), 3);
  /* replicates are different draws of the same world */
  char *r0 = rows_of_run(all, 1, 0), *r1 = rows_of_run(all, 1, 1);
  assert_true(strlen(r0) > 1000);
  assert_string_not_equal(r0, r1);
  free(r0);
  free(r1);
  free(all);
}

static void test_jobs_give_the_same_store(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("exp_jobs");
  char a[600], b[600];
  snprintf(a, sizeof a, "%s/j1.db", dir);
  snprintf(b, sizeof b, "%s/j3.db", dir);
  assert_int_equal(ensemble(a, 4, 1, 7, NULL, NULL), CB_OK);
  assert_int_equal(ensemble(b, 4, 3, 7, NULL, NULL), CB_OK);
  char *ta = export_text(dir, a), *tb = export_text(dir, b);
  assert_string_equal(ta, tb);
  free(ta);
  free(tb);
  const char *sums = "SELECT total(value * (run + 1) * length(name)) FROM summaries";
  assert_int_equal(query_int(a, sums), query_int(b, sums));
  /* and with each run on 2 threads of its own */
  char c[600];
  snprintf(c, sizeof c, "%s/j2t2.db", dir);
  cb_experiment *X = cb_experiment_new();
  cb_experiment_scenario(X, BASELINE);
  for (int i = 0; i < NSMALL; i++) cb_experiment_set(X, small[i]);
  cb_experiment_seed(X, 7);
  assert_int_equal(cb_experiment_threads(X, 2), CB_OK);
  assert_int_equal(cb_experiment_ensemble(X, c, 4, 2), CB_OK);
  cb_experiment_free(X);
  char *ta2 = export_text(dir, a), *tc = export_text(dir, c);
  assert_string_equal(ta2, tc);
  free(ta2);
  free(tc);
}

static void test_resume_runs_only_what_is_missing(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("exp_resume");
  char part[600], whole[600];
  snprintf(part, sizeof part, "%s/part.db", dir);
  snprintf(whole, sizeof whole, "%s/whole.db", dir);
  seen first = {0}, second = {0};
  assert_int_equal(ensemble(part, 2, 2, 5, &first, NULL), CB_OK);
  assert_int_equal(first.first_done, 0);
  assert_int_equal(first.new_done, 2);
  assert_int_equal(ensemble(part, 4, 2, 5, &second, NULL), CB_OK);
  assert_int_equal(second.first_done, 2); /* found two stored */
  assert_int_equal(second.new_done, 2);   /* and ran two */
  assert_int_equal(second.last_done, 4);
  assert_int_equal(ensemble(whole, 4, 1, 5, NULL, NULL), CB_OK);
  char *tp = export_text(dir, part), *tw = export_text(dir, whole);
  assert_string_equal(tp, tw);
  free(tp);
  free(tw);
  /* another seed or other overrides make another experiment in the same store */
  assert_int_equal(ensemble(part, 1, 1, 6, NULL, NULL), CB_OK);
  assert_int_equal(ensemble(part, 1, 1, 5, NULL, "buyers.review_days=20"), CB_OK);
  assert_int_equal(query_int(part, "SELECT count(*) FROM experiments"), 3);
  assert_int_equal(query_int(part, "SELECT count(*) FROM runs"), 6);
}

/* SIGKILL part-way through, then the same command again: the store equals an uninterrupted one,
 * with no run missing, duplicated or half-stored. */
static void test_killed_ensemble_resumes(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("exp_kill");
  char db[600], ref[600], cmd[4096];
  snprintf(db, sizeof db, "%s/killed.db", dir);
  snprintf(ref, sizeof ref, "%s/ref.db", dir);
  const int runs = 12;
  snprintf(cmd, sizeof cmd, "'%s' ensemble '%s' " SMALL_CLI " --set population.buyers=6000 --seed 3 --runs %d --jobs 1 --quiet --db",
           CB_CLI, BASELINE, runs);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char full[5000];
    snprintf(full, sizeof full, "exec %s '%s' > /dev/null 2>&1", cmd, db);
    execl("/bin/sh", "sh", "-c", full, (char *)NULL);
    _exit(127);
  }
  /* wait until some runs are stored, then kill at once */
  int64_t stored = 0;
  for (int i = 0; i < 3000 && stored < 2; i++) {
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
    stored = query_int(db, "SELECT count(*) FROM runs");
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  assert_true(WIFSIGNALED(status)); /* it was still running: the kill interrupted it */
  int64_t before = query_int(db, "SELECT count(*) FROM runs");
  assert_true(before >= 2 && before < runs);
  char *out = NULL;
  if (cbt_run(&out, "%s '%s'", cmd, db) != 0) fail_msg("resuming failed:\n%s", out);
  free(out);
  if (cbt_run(&out, "%s '%s'", cmd, ref) != 0) fail_msg("reference failed:\n%s", out);
  free(out);
  assert_int_equal(query_int(db, "SELECT count(*) FROM runs"), runs);
  assert_int_equal(query_int(db, "SELECT count(DISTINCT run) FROM metric_values"), runs);
  char *a = export_text(dir, db), *b = export_text(dir, ref);
  assert_string_equal(a, b);
  free(a);
  free(b);
}

static void test_bad_input_leaves_the_store_alone(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("exp_bad");
  char db[600];
  snprintf(db, sizeof db, "%s/r.db", dir);
  assert_int_equal(ensemble(db, 1, 1, 1, NULL, NULL), CB_OK);
  size_t n0 = 0, n1 = 0;
  char *before = cbt_read_file(db, &n0);
  /* an unknown key: refused with its name before the store is opened */
  cb_experiment *X = cb_experiment_new();
  cb_experiment_scenario(X, BASELINE);
  cb_experiment_set(X, "population.buyerz=10");
  assert_int_equal(cb_experiment_ensemble(X, db, 2, 1), CB_ESCHEMA);
  assert_non_null(strstr(cb_experiment_errmsg(X), "buyerz"));
  assert_non_null(strstr(cb_experiment_errmsg(X), "did you mean"));
  /* a missing scenario */
  cb_experiment_free(X);
  X = cb_experiment_new();
  cb_experiment_scenario(X, CB_SOURCE_DIR "/scenarios/no-such.yaml");
  assert_int_equal(cb_experiment_ensemble(X, db, 2, 1), CB_EIO);
  assert_non_null(strstr(cb_experiment_errmsg(X), "no-such.yaml"));
  cb_experiment_free(X);
  char *after = cbt_read_file(db, &n1);
  assert_int_equal(n0, n1);
  assert_memory_equal(before, after, n0);
  free(before);
  free(after);
  /* a file that is not a store is refused, by ensemble and by export, and left as it was */
  char *text = cbt_write_file(dir, "notes.db", "not a database, just notes\n");
  X = cb_experiment_new();
  cb_experiment_scenario(X, BASELINE);
  for (int i = 0; i < NSMALL; i++) cb_experiment_set(X, small[i]);
  assert_int_equal(cb_experiment_ensemble(X, text, 1, 1), CB_EIO);
  assert_non_null(strstr(cb_experiment_errmsg(X), "not a contraband results store"));
  assert_int_not_equal(cb_experiment_export_csv(X, text, "-"), CB_OK);
  assert_non_null(strstr(cb_experiment_errmsg(X), "not a contraband results store"));
  assert_int_not_equal(cb_experiment_export_csv(X, CB_BINARY_DIR "/tmp/exp_bad/none.db", "-"), CB_OK);
  assert_non_null(strstr(cb_experiment_errmsg(X), "none.db"));
  cb_experiment_free(X);
  char *still = cbt_read_file(text, NULL);
  assert_string_equal(still, "not a database, just notes\n");
  free(still);
  free(text);
}

static void test_cli_ensemble_and_export(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("exp_cli");
  char *out = NULL;
  /* usage errors: exit 2 */
  assert_int_equal(cbt_run(&out, "'%s' ensemble '%s'", CB_CLI, BASELINE), 2);
  assert_non_null(strstr(out, "--runs"));
  free(out);
  assert_int_equal(cbt_run(&out, "'%s' ensemble '%s' --runs 2 --jobs 0", CB_CLI, BASELINE), 2);
  free(out);
  assert_int_equal(cbt_run(&out, "'%s' ensemble '%s' --runs x", CB_CLI, BASELINE), 2);
  assert_non_null(strstr(out, "--runs takes a whole number"));
  free(out);
  assert_int_equal(cbt_run(&out, "'%s' export '%s/none.db' --format xml", CB_CLI, dir), 2);
  free(out);
  /* an ensemble, its progress lines when not on a terminal, and the export to a file */
  assert_int_equal(cbt_run(&out, "'%s' ensemble '%s' " SMALL_CLI " --runs 2 --jobs 2 --db '%s/r.db'", CB_CLI, BASELINE, dir), 0);
  assert_non_null(strstr(out, "ensemble: 2/2 runs stored"));
  free(out);
  assert_int_equal(cbt_run(&out, "'%s' ensemble '%s' " SMALL_CLI " --runs 2 --db '%s/r.db' --quiet", CB_CLI, BASELINE, dir), 0);
  assert_string_equal(out, "");
  free(out);
  assert_int_equal(cbt_run(&out, "'%s' export '%s/r.db' --out '%s/all.csv'", CB_CLI, dir, dir), 0);
  free(out);
  char path[800];
  snprintf(path, sizeof path, "%s/all.csv", dir);
  char *csv = cbt_read_file(path, NULL);
  assert_non_null(csv);
  const char *head = "experiment,run,date,metric,place,channel,origin,category,value\n1,0,2012-01-01,";
  assert_true(!strncmp(csv, head, strlen(head)));
  assert_non_null(strstr(csv, "\n1,1,"));
  free(csv);
  /* compare: two scenarios needed; the effects table on screen, the files in --out */
  assert_int_equal(cbt_run(&out, "'%s' compare '%s' --runs 2", CB_CLI, BASELINE), 2);
  assert_non_null(strstr(out, "two scenario files"));
  free(out);
  assert_int_equal(cbt_run(&out, "'%s' compare '%s' '%s' " SMALL_CLI " --runs 2 --db '%s/c.db' --out '%s/cmp'", CB_CLI,
                           BASELINE, BASELINE, dir, dir), 0);
  assert_non_null(strstr(out, "95% interval"));
  assert_non_null(strstr(out, "delivered_units            crossing=sinuiju"));
  free(out);
  snprintf(path, sizeof path, "%s/cmp/effects.json", dir);
  char *json = cbt_read_file(path, NULL);
  assert_non_null(json);
  free(json);
  /* sweep: its own usage errors, then a small grid */
  assert_int_equal(cbt_run(&out, "'%s' sweep '%s' --runs 1 --samples 2 --design grid", CB_CLI, BASELINE), 2);
  assert_non_null(strstr(out, "--vary"));
  free(out);
  assert_int_equal(cbt_run(&out, "'%s' sweep '%s' --runs 1 --samples 2 --vary buyers.review_days=20:40", CB_CLI, BASELINE), 2);
  assert_non_null(strstr(out, "--design"));
  free(out);
  assert_int_equal(cbt_run(&out, "'%s' sweep '%s' " SMALL_CLI " --runs 1 --samples 2 --design grid --vary buyers.review_days=20:40"
                           " --db '%s/s.db'", CB_CLI, BASELINE, dir), 0);
  assert_non_null(strstr(out, "ensemble: 2/2 runs stored"));
  free(out);
  /* export of a missing store: exit 1 and the path named */
  assert_int_equal(cbt_run(&out, "'%s' export '%s/none.db'", CB_CLI, dir), 1);
  assert_non_null(strstr(out, "none.db"));
  free(out);
}

/* A comparison of the small world over the full period (the closure of hyesan-sealed.yaml spans
 * it, so the dated events stay). */
static cb_experiment *comparison(const char *a) {
  cb_experiment *X = cb_experiment_new();
  cb_experiment_scenario(X, a);
  const char *pop[] = {"population.buyers=2000", "population.traders=60", "population.middlemen=10", "population.officials=40"};
  for (int i = 0; i < 4; i++) cb_experiment_set(X, pop[i]);
  cb_experiment_seed(X, 11);
  return X;
}

static const cb_effect *effect_named(const cb_experiment *X, const char *metric, const char *key) {
  for (int i = 0; i < cb_experiment_effect_count(X); i++) {
    const cb_effect *e = cb_experiment_effect(X, i);
    if (!strcmp(e->metric, metric) && !strcmp(e->key, key)) return e;
  }
  fail_msg("no effect %s %s", metric, key);
  return NULL;
}

static void test_compare_against_itself_gives_zero(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("exp_cmp_zero");
  char db[600], out[600];
  snprintf(db, sizeof db, "%s/r.db", dir);
  snprintf(out, sizeof out, "%s/effects", dir);
  cb_experiment *X = comparison(BASELINE);
  if (cb_experiment_compare(X, BASELINE, NULL, db, 3, 2, out)) fail_msg("%s", cb_experiment_errmsg(X));
  int n = cb_experiment_effect_count(X);
  assert_true(n >= 15);
  for (int i = 0; i < n; i++) {
    const cb_effect *e = cb_experiment_effect(X, i);
    assert_int_equal(e->n, 3);
    if (!(e->ci_low <= 0 && 0 <= e->ci_high)) fail_msg("%s %s: [%g, %g] excludes 0", e->metric, e->key, e->ci_low, e->ci_high);
    assert_true(e->effect == 0.0); /* identical worlds, identical draws */
  }
  /* the files hold the same table */
  char path[800];
  snprintf(path, sizeof path, "%s/effects.csv", out);
  char *csv = cbt_read_file(path, NULL);
  assert_non_null(csv);
  assert_true(!strncmp(csv, "metric,key,n,mean_a,mean_b,effect,ci_low,ci_high\n", 49));
  int lines = 0;
  for (const char *p = csv; *p; p++) lines += *p == '\n';
  assert_int_equal(lines, n + 1);
  free(csv);
  snprintf(path, sizeof path, "%s/effects.json", out);
  char *json = cbt_read_file(path, NULL);
  assert_non_null(json);
  assert_non_null(strstr(json, "\"confidence\": 0.95"));
  assert_non_null(strstr(json, "\"metric\": \"delivered_units\", \"key\": \"crossing=hyesan\", \"n\": 3"));
  free(json);
  cb_experiment_free(X);
}

static void test_compare_detects_a_known_effect(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("exp_cmp_sealed");
  char db[600], out[600];
  snprintf(db, sizeof db, "%s/r.db", dir);
  snprintf(out, sizeof out, "%s/effects", dir);
  cb_experiment *X = comparison(BASELINE);
  if (cb_experiment_compare(X, CB_SOURCE_DIR "/scenarios/hyesan-sealed.yaml", NULL, db, 4, 2, out)) fail_msg("%s", cb_experiment_errmsg(X));
  /* sealing Hyesan's illicit channels: fewer deliveries through Hyesan, more through Sinuiju */
  const cb_effect *h = effect_named(X, "delivered_units", "crossing=hyesan");
  const cb_effect *s = effect_named(X, "delivered_units", "crossing=sinuiju");
  assert_int_equal(h->n, 4);
  assert_true(h->ci_high < 0 && h->effect < -0.5 * h->mean_a);
  assert_true(s->ci_low > 0);
  const cb_effect *share = effect_named(X, "foreign_electronics_share", "crossing=hyesan");
  if (!(share->mean_b < 0.1 * share->mean_a && share->ci_high < 0)) fail_msg("Hyesan share %g -> %g, upper %g", share->mean_a, share->mean_b, share->ci_high);
  /* a little remains: the declared channel stays open, and in the first year traders still try it */
  char sql[400];
  /* demand by price tier, from each run's totals: both tiers are there and sum to all orders */
  const cb_effect *luxury = effect_named(X, "ordered_units", "tier=luxury"), *standard = effect_named(X, "ordered_units", "tier=standard");
  assert_true(luxury->mean_a > 0 && standard->mean_a > luxury->mean_a);
  snprintf(sql, sizeof sql,
           "SELECT round(avg(value)) FROM summaries WHERE experiment_id = 1 AND name = 'ordered_units'");
  assert_int_equal(query_int(db, sql), (int64_t)llround(luxury->mean_a + standard->mean_a));
  /* the effect is the mean of the paired differences, as the stored totals give it */
  const cb_effect *d = effect_named(X, "delivered_units", "");
  snprintf(sql, sizeof sql,
           "SELECT round(1000 * avg(b.value - a.value)) FROM summaries a JOIN summaries b ON a.run = b.run AND a.name = b.name"
           " WHERE a.experiment_id = 1 AND b.experiment_id = 2 AND a.name = 'delivered_units'");
  assert_int_equal(query_int(db, sql), (int64_t)llround(1000 * d->effect));
  assert_near(d->effect, d->mean_b - d->mean_a, 1e-6 * (1 + fabs(d->mean_a)));
  cb_experiment_free(X);
}

/* compare --fork-at: each run of B continues from its run of A on the fork day. Japan's easing
 * comes after the fork day, so the forked runs equal Japan's own runs; the pair resumes as a whole. */
static void test_compare_forked_from_a_shared_history(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("exp_cmp_fork");
  char db[600], own[600], out[600];
  snprintf(db, sizeof db, "%s/fork.db", dir);
  snprintf(own, sizeof own, "%s/own.db", dir);
  snprintf(out, sizeof out, "%s/effects", dir);
  const char *japan = CB_SOURCE_DIR "/scenarios/japan-eases-2014.yaml";
  seen first = {0}, again = {0};
  cb_experiment *X = comparison(BASELINE);
  cb_experiment_progress(X, record_progress, &first);
  if (cb_experiment_compare(X, japan, "2014-07-01", db, 3, 2, out)) fail_msg("%s", cb_experiment_errmsg(X));
  assert_int_equal(first.new_done, 3);
  const cb_effect *legal = effect_named(X, "delivered_units", "channel=legal");
  assert_true(legal->ci_low > 0); /* legal Japanese imports after the easing */
  cb_experiment_progress(X, record_progress, &again);
  if (cb_experiment_compare(X, japan, "2014-07-01", db, 3, 2, out)) fail_msg("%s", cb_experiment_errmsg(X));
  assert_int_equal(again.first_done, 3);
  assert_int_equal(again.new_done, 0);
  cb_experiment_free(X);
  assert_int_equal(query_int(db, "SELECT count(*) FROM experiments WHERE kind = 'fork' AND fork_day = '2014-07-01' AND parent_id = 1"), 1);
  /* the forked runs are Japan's own runs */
  X = comparison(japan);
  assert_int_equal(cb_experiment_ensemble(X, own, 3, 1), CB_OK);
  cb_experiment_free(X);
  char *forked = export_text(dir, db), *plain = export_text(dir, own);
  for (int run = 0; run < 3; run++) {
    char *a = rows_of_run(forked, 2, run), *b = rows_of_run(plain, 1, run);
    assert_true(strlen(a) > 1000);
    assert_string_equal(a, b);
    free(a);
    free(b);
  }
  free(forked);
  free(plain);
  /* a fork day outside A's period: refused before a store is made */
  char none[600];
  snprintf(none, sizeof none, "%s/none.db", dir);
  X = comparison(BASELINE);
  assert_int_equal(cb_experiment_compare(X, japan, "2011-07-01", none, 2, 1, out), CB_ESCHEMA);
  assert_non_null(strstr(cb_experiment_errmsg(X), "2011-07-01"));
  cb_experiment_free(X);
  assert_null(cbt_read_file(none, NULL));
}

/* The parameter values stored with the runs, in run order, as one string "json|json|...". */
static char *stored_parameters(const char *db) {
  sqlite3 *h = NULL;
  sqlite3_stmt *q = NULL;
  size_t cap = 1 << 16, n = 0;
  char *out = calloc(cap, 1);
  if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(h, "SELECT point, replicate, parameters FROM runs ORDER BY run", -1, &q, NULL) != SQLITE_OK)
    fail_msg("cannot read runs of %s", db);
  while (sqlite3_step(q) == SQLITE_ROW)
    n += (size_t)snprintf(out + n, cap - n, "%d/%d %s|", sqlite3_column_int(q, 0), sqlite3_column_int(q, 1),
                          (const char *)sqlite3_column_text(q, 2));
  sqlite3_finalize(q);
  sqlite3_close(h);
  return out;
}

static int sweep(const char *db, const char *design, uint32_t samples, uint32_t runs, const char *const *vary, int nvary) {
  cb_experiment *X = cb_experiment_new();
  cb_experiment_scenario(X, BASELINE);
  for (int i = 0; i < NSMALL; i++) cb_experiment_set(X, small[i]);
  cb_experiment_seed(X, 9);
  for (int i = 0; i < nvary; i++)
    if (cb_experiment_vary(X, vary[i])) fail_msg("%s", cb_experiment_errmsg(X));
  int rc = cb_experiment_sweep(X, db, design, samples, runs, 2);
  if (rc) print_message("sweep: %s\n", cb_experiment_errmsg(X));
  cb_experiment_free(X);
  return rc;
}

static void test_sweep_grid_keeps_its_parameters(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("exp_sweep_grid");
  char db[600];
  snprintf(db, sizeof db, "%s/grid.db", dir);
  const char *vary[] = {"buyers.review_days=20:40", "population.buyers=1000:3000"};
  assert_int_equal(sweep(db, "grid", 2, 2, vary, 2), CB_OK);
  char *p = stored_parameters(db);
  assert_string_equal(p,
                      "0/0 {\"buyers.review_days\": 20, \"population.buyers\": 1000}|"
                      "0/1 {\"buyers.review_days\": 20, \"population.buyers\": 1000}|"
                      "1/0 {\"buyers.review_days\": 20, \"population.buyers\": 3000}|"
                      "1/1 {\"buyers.review_days\": 20, \"population.buyers\": 3000}|"
                      "2/0 {\"buyers.review_days\": 40, \"population.buyers\": 1000}|"
                      "2/1 {\"buyers.review_days\": 40, \"population.buyers\": 1000}|"
                      "3/0 {\"buyers.review_days\": 40, \"population.buyers\": 3000}|"
                      "3/1 {\"buyers.review_days\": 40, \"population.buyers\": 3000}|");
  free(p);
  /* run 5 is point 2, replicate 1: the single run with those values and --run 1 */
  char *all = export_text(dir, db), *stored = rows_of_run(all, 1, 5);
  cb_sim *S = cb_new();
  cb_read_scenario(S, BASELINE);
  for (int i = 0; i < NSMALL; i++) cb_set(S, small[i]);
  cb_set(S, "buyers.review_days=40");
  cb_set(S, "population.buyers=1000");
  cb_set_seed(S, 9);
  cb_set_run(S, 1);
  const char *one = cbt_tmpdir("exp_sweep_one");
  if (cb_init(S) || cb_run(S) || cb_write_outputs(S, one)) fail_msg("%s", cb_errmsg(S));
  cb_free(S);
  char *single = cbt_metrics_csv(one);
  assert_string_equal(stored, single);
  free(single);
  free(stored);
  free(all);
  /* the same command again runs nothing; the design is part of the experiment */
  assert_int_equal(sweep(db, "grid", 2, 2, vary, 2), CB_OK);
  assert_int_equal(query_int(db, "SELECT count(*) FROM runs"), 8);
  assert_int_equal(sweep(db, "grid", 3, 1, vary, 2), CB_OK);
  assert_int_equal(query_int(db, "SELECT count(*) FROM experiments WHERE kind = 'sweep'"), 2);
}

static void test_sweep_lhs_and_sobol(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("exp_sweep_lhs");
  char a[600], b[600], c[600];
  snprintf(a, sizeof a, "%s/a.db", dir);
  snprintf(b, sizeof b, "%s/b.db", dir);
  snprintf(c, sizeof c, "%s/c.db", dir);
  const char *vary[] = {"buyers.spend_share=0.0:1.0", "buyers.review_days=10.0:50.0"};
  assert_int_equal(sweep(a, "lhs", 5, 1, vary, 2), CB_OK);
  /* a Latin hypercube: one point in each fifth of each range */
  for (int k = 0; k < 5; k++) {
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM runs WHERE json_extract(parameters, '$.\"buyers.spend_share\"') >= %g "
             "AND json_extract(parameters, '$.\"buyers.spend_share\"') < %g",
             k / 5.0, (k + 1) / 5.0);
    assert_int_equal(query_int(a, sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM runs WHERE json_extract(parameters, '$.\"buyers.review_days\"') >= %g "
             "AND json_extract(parameters, '$.\"buyers.review_days\"') < %g",
             10 + 8.0 * k, 18 + 8.0 * k);
    assert_int_equal(query_int(a, sql), 1);
  }
  /* drawn from the master seed: the same design again */
  assert_int_equal(sweep(b, "lhs", 5, 1, vary, 2), CB_OK);
  char *pa = stored_parameters(a), *pb = stored_parameters(b);
  assert_string_equal(pa, pb);
  free(pa);
  free(pb);
  /* Sobol: points inside the box, all different */
  assert_int_equal(sweep(c, "sobol", 4, 1, vary, 2), CB_OK);
  assert_int_equal(query_int(c, "SELECT count(DISTINCT parameters) FROM runs"), 4);
  assert_int_equal(query_int(c, "SELECT count(*) FROM runs WHERE json_extract(parameters, '$.\"buyers.review_days\"')"
                                " BETWEEN 10 AND 50"), 4);
  /* bad sweeps are refused before a store is made */
  char none[600];
  snprintf(none, sizeof none, "%s/none.db", dir);
  const char *unknown[] = {"buyers.review_dayz=10:20"};
  assert_int_equal(sweep(none, "grid", 2, 1, unknown, 1), CB_ESCHEMA);
  assert_int_equal(sweep(none, "cube", 2, 1, vary, 2), CB_EMISUSE);
  cb_experiment *X = cb_experiment_new();
  assert_int_equal(cb_experiment_vary(X, "buyers.review_days=40:20"), CB_ESCHEMA);
  assert_non_null(strstr(cb_experiment_errmsg(X), "LOW is above HIGH"));
  assert_int_equal(cb_experiment_vary(X, "buyers.review_days=a:b"), CB_EPARSE);
  cb_experiment_free(X);
  assert_null(cbt_read_file(none, NULL));
}

/* The same commands under MPI with 2 ranks store exactly what one process stores. Under the
 * sanitizers, Open MPI's own allocations kept until exit are suppressed by library name, which
 * needs its plugins kept loaded and full stacks (tests/lsan-mpi.supp). */
#define MPIRUN                                                                                             \
  "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 "     \
  "OMPI_MCA_mca_base_component_disable_dlclose=1 PMIX_MCA_mca_base_component_disable_dlclose=1 "       \
  "ASAN_OPTIONS=fast_unwind_on_malloc=0 LSAN_OPTIONS=suppressions=" CB_SOURCE_DIR                         \
  "/tests/lsan-mpi.supp:print_suppressions=0:fast_unwind_on_malloc=0 timeout 300 mpirun -np 2 "

static void test_mpi_two_ranks_store_the_same(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("exp_mpi");
  char *out = NULL;
  /* an ensemble */
  if (cbt_run(&out, MPIRUN "'%s' ensemble '%s' " SMALL_CLI " --seed 4 --runs 3 --db '%s/mpi.db'", CB_CLI, BASELINE, dir))
    fail_msg("mpirun ensemble failed:\n%s", out);
  assert_non_null(strstr(out, "ensemble: 3/3 runs stored")); /* rank 0 speaks, once */
  assert_null(strstr(strstr(out, "ensemble: 3/3 runs stored") + 1, "ensemble: 3/3 runs stored"));
  free(out);
  if (cbt_run(&out, "'%s' ensemble '%s' " SMALL_CLI " --seed 4 --runs 3 --quiet --db '%s/one.db'", CB_CLI, BASELINE, dir))
    fail_msg("%s", out);
  free(out);
  char a[600], b[600];
  snprintf(a, sizeof a, "%s/mpi.db", dir);
  snprintf(b, sizeof b, "%s/one.db", dir);
  char *ta = export_text(dir, a), *tb = export_text(dir, b);
  assert_string_equal(ta, tb);
  free(ta);
  free(tb);
  /* a forked comparison: the same effects */
  if (cbt_run(&out, MPIRUN "'%s' compare '%s' '%s' " SMALL_CLI " --runs 2 --fork-at 2012-07-01 --quiet --db '%s/c2.db' --out '%s/e2'",
              CB_CLI, BASELINE, CB_SOURCE_DIR "/scenarios/hyesan-sealed.yaml", dir, dir))
    fail_msg("mpirun compare failed:\n%s", out);
  free(out);
  if (cbt_run(&out, "'%s' compare '%s' '%s' " SMALL_CLI " --runs 2 --fork-at 2012-07-01 --quiet --db '%s/c1.db' --out '%s/e1'",
              CB_CLI, BASELINE, CB_SOURCE_DIR "/scenarios/hyesan-sealed.yaml", dir, dir))
    fail_msg("%s", out);
  free(out);
  assert_int_equal(cbt_run(&out, "cmp '%s/e1/effects.csv' '%s/e2/effects.csv'", dir, dir), 0);
  free(out);
  /* bad input: every rank refuses it, the job fails, no store is made */
  assert_int_not_equal(cbt_run(&out, MPIRUN "'%s' ensemble '%s' --set population.buyerz=3 --runs 2 --db '%s/bad.db'", CB_CLI,
                               BASELINE, dir), 0);
  assert_non_null(strstr(out, "buyerz"));
  free(out);
  snprintf(a, sizeof a, "%s/bad.db", dir);
  assert_null(cbt_read_file(a, NULL));
}

/* A tiny world over half a year, for the export's tests. */
#define TINY_CLI                                                                                               \
  "--set population.buyers=300 --set population.traders=20 --set population.middlemen=4 "                     \
  "--set population.officials=10 --set simulation.end=2012-06-30"

/* The fields of a CSV line without quoted fields (names and numbers only), as a NULL-ended array
 * pointing into a copy kept in *buf. */
static char **fields_of(const char *line, char **buf) {
  const char *end = strchr(line, '\n');
  size_t len = end ? (size_t)(end - line) : strlen(line);
  *buf = strndup(line, len);
  char **f = calloc(len + 2, sizeof *f);
  int n = 0;
  for (char *p = *buf;; p++) {
    f[n++] = p;
    p = strchr(p, ',');
    if (!p) break;
    *p = '\0';
  }
  return f;
}

static int column_of(char **header, const char *name) {
  for (int i = 0; header[i]; i++)
    if (!strcmp(header[i], name)) return i;
  fail_msg("no column %s", name);
  return -1;
}

static void test_export_wide_and_summaries(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("exp_export_wide");
  char *out = NULL, path[800], db[700];
  /* an ensemble store: the export keeps its narrow form, the summaries have no parameter columns */
  snprintf(db, sizeof db, "%s/e.db", dir);
  if (cbt_run(&out, "'%s' ensemble '%s' " TINY_CLI " --seed 5 --runs 2 --quiet --db '%s' && '%s' export '%s' --out '%s/e.csv'"
              " && '%s' export '%s' --summaries --out '%s/es.csv'", CB_CLI, BASELINE, db, CB_CLI, db, dir, CB_CLI, db, dir))
    fail_msg("%s", out);
  free(out);
  snprintf(path, sizeof path, "%s/e.csv", dir);
  char *csv = cbt_read_file(path, NULL);
  assert_non_null(csv);
  const char *narrow = "experiment,run,date,metric,place,channel,origin,category,value\n1,0,2012-01-01,";
  assert_true(!strncmp(csv, narrow, strlen(narrow)));
  for (const char *line = csv; *line; line = strchr(line, '\n') + 1) { /* 9 fields on every line */
    int commas = 0;
    for (const char *c = line; *c != '\n'; c++) commas += *c == ',';
    assert_int_equal(commas, 8);
  }
  free(csv);
  snprintf(path, sizeof path, "%s/es.csv", dir);
  csv = cbt_read_file(path, NULL);
  assert_non_null(csv);
  const char *plain = "experiment,kind,run,point,replicate,seed,active_traders,bribes,";
  assert_true(!strncmp(csv, plain, strlen(plain)));
  assert_non_null(strstr(csv, "\n1,ensemble,1,0,1,5,"));
  free(csv);

  /* a sweep of 2 points x 2 replicates into the ensemble's store: the parameter columns (empty for
   * the ensemble's runs), with point and replicate */
  if (cbt_run(&out, "'%s' sweep '%s' " TINY_CLI " --seed 5 --runs 2 --samples 2 --design grid --vary buyers.review_days=20:40"
              " --quiet --db '%s' && '%s' export '%s' --out '%s/w.csv' && '%s' export '%s' --summaries --out '%s/ws.csv'",
              CB_CLI, BASELINE, db, CB_CLI, db, dir, CB_CLI, db, dir))
    fail_msg("%s", out);
  free(out);
  snprintf(path, sizeof path, "%s/w.csv", dir);
  csv = cbt_read_file(path, NULL);
  assert_non_null(csv);
  const char *wide = "experiment,run,point,replicate,buyers.review_days,date,metric,place,channel,origin,category,value\n"
                     "1,0,0,0,,2012-01-01,";
  assert_true(!strncmp(csv, wide, strlen(wide)));
  /* every sweep row carries its run's point, replicate and value, as in runs */
  sqlite3 *h = NULL;
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(h, "SELECT point, replicate, json_extract(parameters, '$.\"buyers.review_days\"')"
                                         " FROM runs WHERE experiment_id = ?1 AND run = ?2", -1, &q, NULL), SQLITE_OK);
  int rows = 0;
  for (const char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
    char *buf;
    char **f = fields_of(line, &buf);
    sqlite3_bind_int64(q, 1, atoll(f[0]));
    sqlite3_bind_int64(q, 2, atoll(f[1]));
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(atoi(f[2]), sqlite3_column_int(q, 0));
    assert_int_equal(atoi(f[3]), sqlite3_column_int(q, 1));
    if (sqlite3_column_type(q, 2) == SQLITE_NULL) assert_string_equal(f[4], "");
    else assert_true(strtod(f[4], NULL) == sqlite3_column_double(q, 2));
    rows += atoi(f[0]) == 2;
    sqlite3_reset(q);
    free(f);
    free(buf);
  }
  sqlite3_finalize(q);
  assert_true(rows > 0);
  assert_non_null(strstr(csv, "\n2,3,1,1,40,2012-01-01,"));
  free(csv);

  /* the summaries: one row per run, the parameter and total columns, the totals as stored */
  snprintf(path, sizeof path, "%s/ws.csv", dir);
  csv = cbt_read_file(path, NULL);
  assert_non_null(csv);
  char *hbuf;
  char **header = fields_of(csv, &hbuf);
  const char *fixed[] = {"experiment", "kind", "run", "point", "replicate", "seed", "buyers.review_days", "active_traders"};
  for (int i = 0; i < 8; i++) assert_string_equal(header[i], fixed[i]);
  for (int i = 8; header[i]; i++) assert_true(strcmp(header[i - 1], header[i]) < 0); /* totals sorted by name */
  int delivered = column_of(header, "delivered_units");
  assert_int_equal(sqlite3_prepare_v2(h, "SELECT value FROM summaries WHERE experiment_id = ?1 AND run = ?2 AND name = ?3", -1, &q,
                                      NULL), SQLITE_OK);
  int lines = 0;
  char run3[64] = "";
  for (const char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1, lines++) {
    char *buf;
    char **f = fields_of(line, &buf);
    assert_string_equal(f[1], atoi(f[0]) == 1 ? "ensemble" : "sweep");
    assert_string_equal(f[5], "5");
    if (atoi(f[0]) == 1) assert_string_equal(f[6], "");
    for (int i = 7; header[i]; i++) {
      assert_non_null(f[i]);
      sqlite3_bind_int64(q, 1, atoll(f[0]));
      sqlite3_bind_int64(q, 2, atoll(f[2]));
      sqlite3_bind_text(q, 3, header[i], -1, SQLITE_STATIC);
      if (sqlite3_step(q) == SQLITE_ROW) {
        char want[32];
        snprintf(want, sizeof want, "%.10g", sqlite3_column_double(q, 0));
        assert_string_equal(f[i], want);
      } else {
        assert_string_equal(f[i], "");
      }
      sqlite3_reset(q);
    }
    if (atoi(f[0]) == 2 && atoi(f[2]) == 3) {
      assert_string_equal(f[3], "1");
      assert_string_equal(f[4], "1");
      assert_string_equal(f[6], "40");
      snprintf(run3, sizeof run3, "%s", f[delivered]);
    }
    free(f);
    free(buf);
  }
  sqlite3_finalize(q);
  sqlite3_close(h);
  assert_int_equal(lines, 2 + 4);
  /* run 3 of the sweep (point 1, replicate 1) is `run --seed 5 --run 1` with its value */
  if (cbt_run(&out, "'%s' run '%s' " TINY_CLI " --set buyers.review_days=40 --seed 5 --run 1 --quiet --out '%s/one'", CB_CLI,
              BASELINE, dir))
    fail_msg("%s", out);
  free(out);
  snprintf(path, sizeof path, "%s/one/summary.json", dir);
  json_error_t je;
  json_t *summary = json_load_file(path, 0, &je);
  assert_non_null(summary);
  json_t *d = json_object_get(json_object_get(summary, "totals"), "delivered_units");
  assert_true(json_is_number(d));
  assert_true(run3[0] != '\0');
  assert_true(strtod(run3, NULL) == json_number_value(d));
  json_decref(summary);
  free(header);
  free(hbuf);
  free(csv);

  /* parameters that are not a JSON object are refused, naming the run */
  snprintf(path, sizeof path, "%s/bad.db", dir);
  if (cbt_run(&out, "cp '%s' '%s' && sqlite3 '%s' \"UPDATE runs SET parameters = '[1]' WHERE experiment_id = 2 AND run = 1\"", db,
              path, path))
    fail_msg("%s", out);
  free(out);
  for (int k = 0; k < 2; k++) {
    assert_int_equal(cbt_run(&out, "'%s' export '%s' %s --out '%s/bad.csv'", CB_CLI, path, k ? "--summaries" : "", dir), 1);
    assert_non_null(strstr(out, "run 1 of experiment 2"));
    assert_non_null(strstr(out, "not a JSON object"));
    free(out);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_replicate_is_the_single_run),
      cmocka_unit_test(test_jobs_give_the_same_store),
      cmocka_unit_test(test_resume_runs_only_what_is_missing),
      cmocka_unit_test(test_killed_ensemble_resumes),
      cmocka_unit_test(test_bad_input_leaves_the_store_alone),
      cmocka_unit_test(test_cli_ensemble_and_export),
      cmocka_unit_test(test_compare_against_itself_gives_zero),
      cmocka_unit_test(test_compare_detects_a_known_effect),
      cmocka_unit_test(test_compare_forked_from_a_shared_history),
      cmocka_unit_test(test_sweep_grid_keeps_its_parameters),
      cmocka_unit_test(test_sweep_lhs_and_sobol),
      cmocka_unit_test(test_export_wide_and_summaries),
      cmocka_unit_test(test_mpi_two_ranks_store_the_same),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
