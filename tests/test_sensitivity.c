/* Tests of the sensitivity command on the model: a parameter that cannot affect anything in the
 * run (the relabelling cost of a kind introduced after the run ends) gets Sobol indices and Morris
 * effects of 0; the parameters that drive a figure are the ones its indices name; the indices do
 * not depend on --jobs; a killed-and-rerun analysis reads its stored runs; bad input is refused
 * with nothing written. (The estimators' arithmetic against analytic indices: test_sa.c.) */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "contraband.h"

#define BASELINE CB_SOURCE_DIR "/scenarios/baseline.yaml"

static const char *const tiny[] = {
    "population.buyers=300", "population.traders=15", "population.middlemen=4", "population.officials=8", "simulation.end=2012-12-31",
};
/* spend share drives spending, the markup drives prices, and laptops_advanced (introduced
 * 2014-07-01) is never shipped in 2012: its relabelling cost is a null parameter */
static const char *const vary[] = {"buyers.spend_share=0.1:0.4", "market.markup_normal=0.2:0.8",
                                   "categories.laptops_advanced.relabel_cost_usd=5:50"};
#define NULL_PARAM "categories.laptops_advanced.relabel_cost_usd"

static int sensitivity(const char *method, uint32_t samples, const char *targets, const char *db, const char *out, int jobs, char *msg,
                       size_t n) {
  cb_experiment *X = cb_experiment_new();
  assert_non_null(X);
  assert_int_equal(cb_experiment_scenario(X, BASELINE), CB_OK);
  for (int i = 0; i < 5; i++) assert_int_equal(cb_experiment_set(X, tiny[i]), CB_OK);
  for (int i = 0; i < 3; i++) assert_int_equal(cb_experiment_vary(X, vary[i]), CB_OK);
  cb_experiment_seed(X, 4);
  int rc = cb_experiment_sensitivity(X, method, samples, 1, targets, db, out, jobs);
  if (msg) snprintf(msg, n, "%s", cb_experiment_errmsg(X));
  cb_experiment_free(X);
  return rc;
}

/* The row of indices.csv for (figure, key, parameter, index): estimate, lo95, hi95. */
static void find_index(const char *csv, const char *figure, const char *key, const char *param, const char *index, double v[3]) {
  char prefix[512];
  int len = snprintf(prefix, sizeof prefix, ",%s,%s,%s,%s,", figure, key, param, index);
  for (const char *p = strchr(csv, '\n'); p; p = strchr(p + 1, '\n')) {
    const char *comma = strchr(p + 1, ',');
    if (comma && !strncmp(comma, prefix, (size_t)len)) {
      if (sscanf(comma + len, "%lf,%lf,%lf", &v[0], &v[1], &v[2]) == 3) return;
    }
  }
  fail_msg("no row %s in indices.csv", prefix);
}

static char *read_out(const char *out, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", out, name);
  char *t = cbt_read_file(path, NULL);
  if (!t) fail_msg("no %s", path);
  return t;
}

static void test_sobol_indices_name_their_drivers(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("sens_sobol");
  char db[600], db2[600], out[600], out2[600], msg[2048];
  snprintf(db, sizeof db, "%s/s.db", dir);
  snprintf(db2, sizeof db2, "%s/s2.db", dir);
  snprintf(out, sizeof out, "%s/out", dir);
  snprintf(out2, sizeof out2, "%s/out2", dir);
  char *targets = cbt_write_file(dir, "targets.yaml", "targets:\n  sinuiju_share:\n    statistic: share\n"
                                                      "    select: {metric: delivered_units}\n    part: {place: sinuiju}\n");
  if (sensitivity("sobol", 12, targets, db, out, 1, msg, sizeof msg)) fail_msg("sensitivity: %s", msg);
  char *csv = read_out(out, "indices.csv");
  assert_true(!strncmp(csv, "method,figure,key,parameter,index,estimate,lo95,hi95\n", 53));
  double v[3];
  const char *figures[][2] = {{"buyer_spending_usd", ""}, {"delivered_units", "crossing=sinuiju"}, {"price_usd_mean", "origin=kr"},
                              {"target", "sinuiju_share"}};
  for (int f = 0; f < 4; f++)
    for (int k = 0; k < 2; k++) { /* the null parameter: exactly nothing */
      find_index(csv, figures[f][0], figures[f][1], NULL_PARAM, k ? "ST" : "S1", v);
      assert_true(v[1] <= 0 && 0 <= v[2]);
      assert_true(fabs(v[0]) < 1e-12);
    }
  /* spending depends on the spend share, not on the markup; the price the other way round */
  find_index(csv, "buyer_spending_usd", "", "buyers.spend_share", "ST", v);
  assert_true(v[1] > 0.3);
  double s[3];
  find_index(csv, "buyer_spending_usd", "", "market.markup_normal", "ST", s);
  assert_true(s[0] < v[0] && s[2] < v[1] + 0.5);
  find_index(csv, "price_usd_mean", "origin=kr", "market.markup_normal", "ST", v);
  assert_true(v[1] > 0.3);
  find_index(csv, "price_usd_mean", "origin=kr", "buyers.spend_share", "ST", s);
  assert_true(s[2] < v[1]);
  /* the same with two jobs, into another store; and again on the first store (nothing to run) */
  if (sensitivity("sobol", 12, targets, db2, out2, 2, msg, sizeof msg)) fail_msg("sensitivity: %s", msg);
  char *csv2 = read_out(out2, "indices.csv");
  assert_string_equal(csv, csv2);
  free(csv2);
  if (sensitivity("sobol", 12, targets, db, out2, 2, msg, sizeof msg)) fail_msg("sensitivity: %s", msg);
  csv2 = read_out(out2, "indices.csv");
  assert_string_equal(csv, csv2);
  char *json = read_out(out, "indices.json");
  assert_non_null(strstr(json, "\"method\": \"sobol\""));
  assert_non_null(strstr(json, "\"points\": 60"));
  free(json);
  free(csv2);
  free(csv);
  free(targets);
}

static void test_morris_screens_out_the_null(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("sens_morris");
  char db[600], out[600], msg[2048];
  snprintf(db, sizeof db, "%s/m.db", dir);
  snprintf(out, sizeof out, "%s/out", dir);
  if (sensitivity("morris", 5, NULL, db, out, 2, msg, sizeof msg)) fail_msg("sensitivity: %s", msg);
  char *csv = read_out(out, "indices.csv");
  double v[3];
  find_index(csv, "buyer_spending_usd", "", NULL_PARAM, "mu_star", v);
  assert_true(v[0] == 0 && v[2] == 0);
  find_index(csv, "buyer_spending_usd", "", "buyers.spend_share", "mu_star", v);
  assert_true(v[1] > 0);
  find_index(csv, "price_usd_mean", "origin=kr", "market.markup_normal", "mu", v);
  assert_true(v[1] > 0); /* a higher markup raises the price */
  free(csv);
}

static void test_bad_input_is_refused(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("sens_bad");
  char db[600], out[600], msg[2048];
  snprintf(db, sizeof db, "%s/b.db", dir);
  snprintf(out, sizeof out, "%s/out", dir);
  assert_int_not_equal(sensitivity("fast", 4, NULL, db, out, 1, msg, sizeof msg), CB_OK);
  assert_non_null(strstr(msg, "sobol or morris"));
  char *series = cbt_write_file(dir, "series.yaml", "targets:\n  p:\n    statistic: series\n    select: {metric: price_usd}\n");
  assert_int_not_equal(sensitivity("sobol", 4, series, db, out, 1, msg, sizeof msg), CB_OK);
  assert_non_null(strstr(msg, "series.yaml:3:5"));
  assert_non_null(strstr(msg, "a series has no single sensitivity index"));
  struct stat sb;
  assert_int_not_equal(stat(db, &sb), 0);
  assert_int_not_equal(stat(out, &sb), 0);
  /* the command line: no --vary, no --method */
  char *o = NULL;
  assert_int_equal(cbt_run(&o, "'%s' sensitivity '%s' --method sobol --samples 4 --runs 1 --db '%s'", CB_CLI, BASELINE, db), 2);
  assert_non_null(strstr(o, "--vary"));
  free(o);
  assert_int_equal(cbt_run(&o, "'%s' sensitivity '%s' --vary buyers.spend_share=0.1:0.4 --samples 4 --runs 1 --db '%s'", CB_CLI, BASELINE, db), 2);
  assert_non_null(strstr(o, "--method"));
  free(o);
  assert_int_not_equal(stat(db, &sb), 0);
  free(series);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_input_is_refused),
      cmocka_unit_test(test_morris_screens_out_the_null),
      cmocka_unit_test(test_sobol_indices_name_their_drivers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
