/* Reproducibility: the same scenario and seed give byte-identical outputs, whether run through
 * the CLI twice, stepped day by day through the library, or with the day's reviews shared among
 * threads; another seed gives other numbers; and a run stopped earlier is the longer run's start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/world.h"
#include "support.h"

#define SMALL "--set population.buyers=5000 --set population.traders=100 --set population.middlemen=20 " \
              "--set population.officials=60"

static void same_seed_same_bytes(void **state) {
  (void)state;
  const char *a = cbt_tmpdir("det_a"), *b = cbt_tmpdir("det_b"), *c = cbt_tmpdir("det_c");
  assert_int_equal(cbt_run(NULL, "%s run scenarios/baseline.yaml %s --seed 7 --out %s --quiet", CB_CLI, SMALL, a), 0);
  assert_int_equal(cbt_run(NULL, "%s run scenarios/baseline.yaml %s --seed 7 --out %s --quiet", CB_CLI, SMALL, b), 0);
  assert_int_equal(cbt_run(NULL, "%s run scenarios/baseline.yaml %s --seed 8 --out %s --quiet", CB_CLI, SMALL, c), 0);
  char *ma = cbt_metrics_csv(a), *mb = cbt_metrics_csv(b), *mc = cbt_metrics_csv(c);
  assert_true(strlen(ma) > 10000);
  assert_string_equal(ma, mb);
  assert_true(strcmp(ma, mc) != 0);
  char *sa = cbt_summary_core(a), *sb = cbt_summary_core(b);
  assert_string_equal(sa, sb);
  free(ma); free(mb); free(mc); free(sa); free(sb);
}

static cb_sim *small_sim(void) {
  cb_sim *S = cb_new();
  assert_int_equal(cb_read_scenario(S, "scenarios/baseline.yaml"), CB_OK);
  const char *set[] = {"population.buyers=5000", "population.traders=100", "population.middlemen=20",
                       "population.officials=60"};
  for (size_t i = 0; i < sizeof set / sizeof *set; i++) assert_int_equal(cb_set(S, set[i]), CB_OK);
  assert_int_equal(cb_set_seed(S, 3), CB_OK);
  assert_int_equal(cb_init(S), CB_OK);
  return S;
}

/* Stepping one day at a time is the same computation as running to the end. */
static void stepping_equals_running(void **state) {
  (void)state;
  cb_sim *A = small_sim(), *B = small_sim();
  assert_int_equal(cb_run(A), CB_OK);
  int rc, days = 0;
  while ((rc = cb_step(B)) == CB_OK) days++;
  assert_int_equal(rc, CB_DONE);
  assert_int_equal(days + 1, A->end - A->start + 1);
  assert_int_equal(A->metrics.nperiods, B->metrics.nperiods);
  assert_int_equal(A->metrics.nslots, B->metrics.nslots);
  assert_memory_equal(A->metrics.hist, B->metrics.hist, (size_t)A->metrics.nperiods * A->metrics.nslots * sizeof(double));
  assert_int_equal(cb_step(B), CB_DONE);
  cb_free(A);
  cb_free(B);
}

/* --threads: the day's reviews shared among threads give the same bytes as one thread, whatever
 * the number (including more threads than stretches of work and more than cores). */
static void threads_give_the_same_bytes(void **state) {
  (void)state;
  const char *dirs[] = {cbt_tmpdir("det_t1"), cbt_tmpdir("det_t2"), cbt_tmpdir("det_t5")};
  const int threads[] = {1, 2, 5};
  char *m[3], *s[3];
  for (int i = 0; i < 3; i++) {
    assert_int_equal(cbt_run(NULL, "%s run scenarios/baseline.yaml %s --seed 3 --threads %d --out %s --quiet --check", CB_CLI,
                             SMALL, threads[i], dirs[i]),
                     0);
    m[i] = cbt_metrics_csv(dirs[i]);
    s[i] = cbt_summary_core(dirs[i]);
  }
  for (int i = 1; i < 3; i++) {
    if (strcmp(m[0], m[i])) fail_msg("metrics.csv with %d threads differs from 1 thread", threads[i]);
    assert_string_equal(s[0], s[i]);
  }
  for (int i = 0; i < 3; i++) {
    free(m[i]);
    free(s[i]);
  }
  char *out = NULL;
  assert_int_equal(cbt_run(&out, "%s run scenarios/baseline.yaml --threads 0", CB_CLI), 2);
  free(out);
}

/* Nothing in the model looks at simulation.end: a run of the same scenario and seed stopped at an
 * earlier month's end writes exactly the first rows of the longer run's metrics.csv, whatever
 * events the longer run still has to come (here the 2016 crackdowns, campaign and Kaesong's
 * closure, all after the shorter run's end). */
static void shorter_run_is_a_prefix(void **state) {
  (void)state;
  const char *ends[] = {"2013-03-31", "2015-06-30"};
  const char *full = cbt_tmpdir("det_full");
  assert_int_equal(cbt_run(NULL, "%s run scenarios/baseline.yaml %s --seed 4 --out %s --quiet", CB_CLI, SMALL, full), 0);
  char *whole = cbt_metrics_csv(full);
  for (int i = 0; i < 2; i++) {
    const char *dir = cbt_tmpdir(i ? "det_prefix2" : "det_prefix1");
    assert_int_equal(cbt_run(NULL, "%s run scenarios/baseline.yaml %s --seed 4 --set simulation.end=%s --out %s --quiet", CB_CLI,
                             SMALL, ends[i], dir),
                     0);
    char *part = cbt_metrics_csv(dir);
    size_t n = strlen(part);
    assert_true(n > 1000 && n < strlen(whole));
    if (memcmp(part, whole, n)) fail_msg("metrics.csv of the run to %s is not the first part of the full run's", ends[i]);
    /* it ends exactly at a period boundary of the longer run: the next byte starts a new row */
    assert_int_equal(part[n - 1], '\n');
    char month[8];
    snprintf(month, sizeof month, "%.7s", ends[i]);
    assert_non_null(strstr(part, month));
    free(part);
  }
  free(whole);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(same_seed_same_bytes), cmocka_unit_test(stepping_equals_running),
                                     cmocka_unit_test(threads_give_the_same_bytes), cmocka_unit_test(shorter_run_is_a_prefix)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
