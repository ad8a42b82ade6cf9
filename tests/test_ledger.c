/* The ledger: with checking on, every shipped scenario keeps every unit and dollar accounted for
 * each day; and the check does catch goods or money that go missing or appear from nowhere. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/world.h"
#include "support.h"

static cb_sim *small(const char *scenario) {
  cb_sim *S = cb_new();
  char path[512];
  snprintf(path, sizeof path, "scenarios/%s", scenario);
  assert_int_equal(cb_read_scenario(S, path), CB_OK);
  const char *set[] = {"population.buyers=6000", "population.traders=120", "population.middlemen=20", "population.officials=60"};
  for (size_t i = 0; i < sizeof set / sizeof *set; i++) assert_int_equal(cb_set(S, set[i]), CB_OK);
  cb_set_check(S, 1);
  assert_int_equal(cb_init(S), CB_OK);
  return S;
}

/* Every scenario shipped in scenarios/ (listed from the folder, so a new one is covered too):
 * the daily check holds all period, and the written outputs hold only finite numbers. */
static int is_scenario(const struct dirent *d) {
  size_t n = strlen(d->d_name);
  return n > 5 && strcmp(d->d_name + n - 5, ".yaml") == 0;
}

static void holds_in_every_scenario(void **state) {
  (void)state;
  struct dirent **list;
  int n = scandir("scenarios", &list, is_scenario, alphasort);
  assert_true(n >= 4);
  for (int i = 0; i < n; i++) {
    const char *name = list[i]->d_name;
    cb_sim *S = small(name);
    int rc = cb_run(S);
    if (rc != CB_OK) fail_msg("%s: %s", name, cb_errmsg(S));
    assert_true(S->L.procured > 10000);
    assert_true(S->L.seized > 0);
    assert_true(S->L.bribes_paid > 0);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/%s", cbt_tmpdir("ledger"), name);
    if (cb_write_outputs(S, dir)) fail_msg("%s: %s", name, cb_errmsg(S));
    char *csv = cbt_metrics_csv(dir);
    for (char *line = strchr(csv, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
      const char *v = strrchr(line, ',');
      char *end;
      double x = strtod(v + 1, &end);
      if (!isfinite(x) || (*end != '\n' && *end != '\0')) fail_msg("%s: metrics.csv holds a value that is not a finite number: %.80s", name, line + 1);
    }
    free(csv);
    cb_free(S);
    free(list[i]);
  }
  free(list);
}

/* Runs a while, breaks one account, and expects the next check to name it. */
static void expect_caught(void (*tamper)(cb_sim *), const char *what) {
  cb_sim *S = small("baseline.yaml");
  for (int d = 0; d < 200; d++) assert_int_equal(cb_step(S), CB_OK);
  tamper(S);
  int rc = cb_step(S);
  assert_int_equal(rc, CB_ELEDGER);
  assert_non_null(strstr(cb_errmsg(S), what));
  assert_non_null(strstr(cb_errmsg(S), "ledger check failed on 2012-07-19"));
  cb_free(S);
}

static void lose_a_unit(cb_sim *S) { S->L.procured += 1; }
static void invent_savings(cb_sim *S) { cb_buyer_at(S, 17)->savings += 5.0; }
static void pocket_unpaid_bribe(cb_sim *S) { S->O[3].bribes_usd += 1.0; }
static void skim_revenue(cb_sim *S) {
  for (uint32_t t = 0; t < S->ntraders_max; t++)
    if (S->T[t].active) { S->T[t].revenue_usd -= 2.0; return; }
}
static void hide_a_shelf_unit(cb_sim *S) { S->in_transit += 1; }

static void catches_breaks(void **state) {
  (void)state;
  expect_caught(lose_a_unit, "units procured != sold to buyers + seized + in transit + on shelves");
  expect_caught(invent_savings, "buyers' income != savings");
  expect_caught(pocket_unpaid_bribe, "bribes paid != bribes received");
  expect_caught(skim_revenue, "what buyers paid traders != traders' revenue");
  expect_caught(hide_a_shelf_unit, "units in transit by consignment != running count");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(holds_in_every_scenario), cmocka_unit_test(catches_breaks)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
