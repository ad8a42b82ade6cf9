/* Tests of snapshots: a run continued from a snapshot equals the uninterrupted run bit for bit
 * (REBOUND's test); the file is deterministic; a fork under another scenario shares the history
 * before the fork day and differs after it, and equals that scenario's own run when the two
 * scenarios agree before the fork; truncated, corrupted, foreign and ill-fitting files are
 * refused with their name and leave earlier outputs alone. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contraband.h"

#define SCEN(name) CB_SOURCE_DIR "/scenarios/" name
#define POP "--set population.buyers=4000 --set population.traders=80 --set population.middlemen=20 --set population.officials=60"

static const char *const pop[] = {"population.buyers=4000", "population.traders=80", "population.middlemen=20", "population.officials=60"};

/* A simulation of the small world of a scenario, initialised. */
static cb_sim *small_world(const char *scenario) {
  cb_sim *S = cb_new();
  assert_non_null(S);
  if (cb_read_scenario(S, scenario)) fail_msg("%s", cb_errmsg(S));
  for (int i = 0; i < 4; i++) assert_int_equal(cb_set(S, pop[i]), CB_OK);
  if (cb_init(S)) fail_msg("%s", cb_errmsg(S));
  return S;
}

static char *metrics_of(cb_sim *S, const char *dir) {
  if (cb_write_outputs(S, dir)) fail_msg("%s", cb_errmsg(S));
  return cbt_metrics_csv(dir);
}

static void test_continued_run_is_bit_identical(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("snap_same");
  char snap[700], full[700], cont[700];
  snprintf(snap, sizeof snap, "%s/mid.snap", dir);
  snprintf(full, sizeof full, "%s/full", dir);
  snprintf(cont, sizeof cont, "%s/continued", dir);
  cb_sim *A = small_world(SCEN("baseline.yaml"));
  assert_int_equal(cb_run(A), CB_OK);
  char *m_full = metrics_of(A, full);
  cb_free(A);
  /* snapshot in the middle of a month, of a crackdown and of everything in transit */
  const char *dates[] = {"2013-10-17", "2016-02-29"};
  for (int i = 0; i < 2; i++) {
    cb_sim *B = small_world(SCEN("baseline.yaml"));
    assert_int_equal(cb_run_until(B, dates[i]), CB_OK);
    if (cb_save_snapshot(B, snap)) fail_msg("%s", cb_errmsg(B));
    cb_free(B);
    cb_sim *C = small_world(SCEN("baseline.yaml"));
    if (cb_restore_snapshot(C, snap)) fail_msg("%s", cb_errmsg(C));
    assert_int_equal(cb_run(C), CB_OK);
    char *m_cont = metrics_of(C, cont);
    if (strcmp(m_full, m_cont)) fail_msg("continued from %s: metrics.csv differs from the uninterrupted run", dates[i]);
    cb_totals t;
    cb_get_totals(C, &t);
    assert_int_equal(t.days_simulated, cbt_day("2019-12-31") - cbt_day("2012-01-01") + 1);
    char *s_full = cbt_summary_core(full), *s_cont = cbt_summary_core(cont);
    assert_string_equal(s_full, s_cont);
    free(s_full);
    free(s_cont);
    free(m_cont);
    cb_free(C);
  }
  free(m_full);
}

static void test_snapshot_file_is_deterministic(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("snap_det");
  char a[700], b[700];
  snprintf(a, sizeof a, "%s/a.snap", dir);
  snprintf(b, sizeof b, "%s/b.snap", dir);
  for (int i = 0; i < 2; i++) {
    cb_sim *S = small_world(SCEN("baseline.yaml"));
    assert_int_equal(cb_run_until(S, "2014-03-03"), CB_OK);
    assert_int_equal(cb_save_snapshot(S, i ? b : a), CB_OK);
    cb_free(S);
  }
  size_t na = 0, nb = 0;
  char *ta = cbt_read_file(a, &na), *tb = cbt_read_file(b, &nb);
  assert_true(na > 100000);
  assert_int_equal(na, nb);
  assert_memory_equal(ta, tb, na);
  free(ta);
  free(tb);
}

/* Sum of a metric's values on dates before (or from) a day, from metrics.csv text. */
static double metric_sum(const char *csv, const char *metric, const char *place, const char *day, int before) {
  double s = 0;
  char *copy = strdup(csv);
  for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
    char date[16], m[64], pl[64];
    if (sscanf(line, "%15[^,],%63[^,],%63[^,],", date, m, pl) != 3) continue;
    if (strcmp(m, metric) || (place && strcmp(pl, place))) continue;
    if ((strcmp(date, day) < 0) != before) continue;
    s += atof(strrchr(line, ',') + 1);
  }
  free(copy);
  return s;
}

static void test_fork_shares_history_then_differs(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("snap_fork");
  char snap[700], base[700], fork[700], own[700];
  snprintf(snap, sizeof snap, "%s/2015.snap", dir);
  snprintf(base, sizeof base, "%s/base", dir);
  snprintf(fork, sizeof fork, "%s/fork", dir);
  snprintf(own, sizeof own, "%s/own", dir);
  cb_sim *A = small_world(SCEN("baseline.yaml"));
  assert_int_equal(cb_run_until(A, "2015-01-01"), CB_OK);
  assert_int_equal(cb_save_snapshot(A, snap), CB_OK);
  assert_int_equal(cb_run(A), CB_OK);
  char *m_base = metrics_of(A, base);
  cb_free(A);
  /* Hyesan sealed from 2015 on, after the baseline's history up to then */
  cb_sim *F = small_world(SCEN("hyesan-sealed.yaml"));
  if (cb_restore_snapshot(F, snap)) fail_msg("%s", cb_errmsg(F));
  assert_int_equal(cb_run(F), CB_OK);
  char *m_fork = metrics_of(F, fork);
  cb_free(F);
  /* before the fork day: the baseline's history, to the unit */
  const char *metrics[] = {"delivered_units", "seized_units", "bribes", "ordered_units", "price_usd"};
  for (int i = 0; i < 5; i++) {
    assert_near(metric_sum(m_fork, metrics[i], NULL, "2015-01-01", 1), metric_sum(m_base, metrics[i], NULL, "2015-01-01", 1), 0);
    assert_true(metric_sum(m_base, metrics[i], NULL, "2015-01-01", 1) > 0);
  }
  assert_true(metric_sum(m_fork, "delivered_units", "hyesan", "2015-01-01", 1) > 1000);
  /* after it: Hyesan's illicit traffic moves to Sinuiju */
  double hy_base = metric_sum(m_base, "delivered_units", "hyesan", "2015-01-01", 0);
  double hy_fork = metric_sum(m_fork, "delivered_units", "hyesan", "2015-01-01", 0);
  assert_true(hy_fork < 0.2 * hy_base);
  assert_true(metric_sum(m_fork, "delivered_units", "sinuiju", "2015-01-01", 0) >
              metric_sum(m_base, "delivered_units", "sinuiju", "2015-01-01", 0));
  /* the fork's summary names the snapshot and the day */
  char path[800];
  snprintf(path, sizeof path, "%s/summary.json", fork);
  char *sum = cbt_read_file(path, NULL);
  assert_non_null(strstr(sum, "\"forked_from\": {\"snapshot\": "));
  assert_non_null(strstr(sum, "\"day\": \"2015-01-01\"}"));
  free(sum);
  free(m_base);
  free(m_fork);
  /* Japan's easing comes in July 2014: forked from the baseline on 2014-07-01, the run is Japan's
   * own run to the bit, because the two worlds drew the same numbers until then */
  A = small_world(SCEN("baseline.yaml"));
  assert_int_equal(cb_run_until(A, "2014-07-01"), CB_OK);
  assert_int_equal(cb_save_snapshot(A, snap), CB_OK);
  cb_free(A);
  F = small_world(SCEN("japan-eases-2014.yaml"));
  assert_int_equal(cb_restore_snapshot(F, snap), CB_OK);
  assert_int_equal(cb_run(F), CB_OK);
  m_fork = metrics_of(F, fork);
  cb_free(F);
  cb_sim *J = small_world(SCEN("japan-eases-2014.yaml"));
  assert_int_equal(cb_run(J), CB_OK);
  char *m_own = metrics_of(J, own);
  cb_free(J);
  assert_string_equal(m_fork, m_own);
  free(m_fork);
  free(m_own);
}

static void expect_refused(const char *snap, const char *scenario, const char *extra, int code, const char *words) {
  cb_sim *S = cb_new();
  assert_int_equal(cb_read_scenario(S, scenario), CB_OK);
  for (int i = 0; i < 4; i++) cb_set(S, pop[i]);
  if (extra) assert_int_equal(cb_set(S, extra), CB_OK);
  assert_int_equal(cb_init(S), CB_OK);
  assert_int_equal(cb_restore_snapshot(S, snap), code);
  if (!strstr(cb_errmsg(S), words)) fail_msg("expected '%s' in: %s", words, cb_errmsg(S));
  if (!strstr(cb_errmsg(S), snap)) fail_msg("the message does not name %s: %s", snap, cb_errmsg(S));
  cb_free(S);
}

static void test_bad_snapshots_are_refused(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("snap_bad");
  char good[700], cut[700], flip[700], junk[700];
  snprintf(good, sizeof good, "%s/good.snap", dir);
  snprintf(cut, sizeof cut, "%s/cut.snap", dir);
  snprintf(flip, sizeof flip, "%s/flip.snap", dir);
  cb_sim *S = small_world(SCEN("baseline.yaml"));
  assert_int_equal(cb_run_until(S, "2013-01-01"), CB_OK);
  assert_int_equal(cb_save_snapshot(S, good), CB_OK);
  cb_free(S);
  size_t n = 0;
  char *bytes = cbt_read_file(good, &n);
  FILE *f = fopen(cut, "wb");
  fwrite(bytes, 1, n / 2, f);
  fclose(f);
  bytes[n / 3] ^= 0x10;
  f = fopen(flip, "wb");
  fwrite(bytes, 1, n, f);
  fclose(f);
  free(bytes);
  char *text = cbt_write_file(dir, "notes.snap", "CB notes, not a snapshot\n");
  snprintf(junk, sizeof junk, "%s", text);
  free(text);
  expect_refused(cut, SCEN("baseline.yaml"), NULL, CB_EPARSE, "truncated or corrupt");
  expect_refused(flip, SCEN("baseline.yaml"), NULL, CB_EPARSE, "checksum mismatch");
  expect_refused(junk, SCEN("baseline.yaml"), NULL, CB_EPARSE, "not a contraband snapshot");
  expect_refused(SCEN("baseline.yaml"), SCEN("baseline.yaml"), NULL, CB_EPARSE, "not a contraband snapshot");
  expect_refused(good, SCEN("baseline.yaml"), "population.buyers=4001", CB_ESCHEMA, "population sizes");
  expect_refused(good, SCEN("baseline.yaml"), "simulation.record=week", CB_ESCHEMA, "simulation.start and simulation.record");
  char missing[700];
  snprintf(missing, sizeof missing, "%s/none.snap", dir);
  expect_refused(missing, SCEN("baseline.yaml"), NULL, CB_EIO, "cannot open");
  /* restoring is for a fresh simulation only */
  S = small_world(SCEN("baseline.yaml"));
  assert_int_equal(cb_step(S), CB_OK);
  assert_int_equal(cb_restore_snapshot(S, good), CB_EMISUSE);
  cb_free(S);
  /* a run that cannot reach the snapshot date is refused before anything is saved */
  S = small_world(SCEN("baseline.yaml"));
  assert_int_equal(cb_run_until(S, "2020-01-02"), CB_ESCHEMA);
  assert_non_null(strstr(cb_errmsg(S), "outside the days still to simulate"));
  cb_free(S);
}

static void test_cli_snapshots(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("snap_cli");
  char *out = NULL;
  /* usage */
  assert_int_equal(cbt_run(&out, "'%s' run '%s' --snapshot-at 2013-01-01", CB_CLI, SCEN("baseline.yaml")), 2);
  assert_non_null(strstr(out, "go together"));
  free(out);
  assert_int_equal(cbt_run(&out, "'%s' run '%s' --from x.snap --seed 3", CB_CLI, SCEN("baseline.yaml")), 2);
  assert_non_null(strstr(out, "from the snapshot"));
  free(out);
  /* save, continue, compare with the uninterrupted run */
  assert_int_equal(cbt_run(&out, "'%s' run '%s' " POP " --quiet --out '%s/a' --snapshot-at 2017-06-15 --snapshot '%s/s.snap'",
                           CB_CLI, SCEN("baseline.yaml"), dir, dir), 0);
  free(out);
  assert_int_equal(cbt_run(&out, "'%s' run '%s' " POP " --quiet --out '%s/b' --from '%s/s.snap'", CB_CLI, SCEN("baseline.yaml"), dir, dir), 0);
  free(out);
  assert_int_equal(cbt_run(&out, "cmp '%s/a/metrics.csv' '%s/b/metrics.csv'", dir, dir), 0);
  free(out);
  /* a bad snapshot: exit 1, the file named, the earlier outputs untouched */
  char path[800];
  snprintf(path, sizeof path, "%s/b/metrics.csv", dir);
  size_t n0 = 0, n1 = 0;
  char *before = cbt_read_file(path, &n0);
  assert_int_equal(cbt_run(&out, "'%s' run '%s' " POP " --quiet --out '%s/b' --from '%s'", CB_CLI, SCEN("baseline.yaml"), dir,
                           SCEN("baseline.yaml")),
                   1);
  assert_non_null(strstr(out, "not a contraband snapshot"));
  free(out);
  /* a snapshot date outside the period: exit 1, nothing written */
  assert_int_equal(cbt_run(&out, "'%s' run '%s' " POP " --quiet --out '%s/b' --snapshot-at 2011-01-01 --snapshot '%s/t.snap'",
                           CB_CLI, SCEN("baseline.yaml"), dir, dir),
                   1);
  assert_non_null(strstr(out, "2011-01-01"));
  free(out);
  char *after = cbt_read_file(path, &n1);
  assert_int_equal(n0, n1);
  assert_memory_equal(before, after, n0);
  snprintf(path, sizeof path, "%s/t.snap", dir);
  assert_null(cbt_read_file(path, NULL));
  free(before);
  free(after);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_continued_run_is_bit_identical),
      cmocka_unit_test(test_snapshot_file_is_deterministic),
      cmocka_unit_test(test_fork_shares_history_then_differs),
      cmocka_unit_test(test_bad_snapshots_are_refused),
      cmocka_unit_test(test_cli_snapshots),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
