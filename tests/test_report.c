/* Reports and figures: that the numbers a report shows are those computed here, independently,
 * from the rows they summarise (a run's metrics.csv, a store's exported rows); that every chart is
 * there; that figures come out in each format, the same bytes every time; and that bad results,
 * bad choices and bad options are refused with a message, leaving what was written before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define BASELINE "scenarios/baseline.yaml"
#define SEALED "scenarios/hyesan-sealed.yaml"
#define SMALL "--set population.buyers=4000 --set population.traders=200"

static const char *dir;         /* everything this test writes */
static char run_dir[600], ens_db[600], cmp_db[600], cmp_out[600];

/* ---- reading the page ---- */

/* The value of attribute `attr` in the first tag holding `marker`, as a number. */
static double attr_in(const char *html, const char *marker, const char *attr) {
  const char *m = strstr(html, marker);
  if (!m) fail_msg("the report has no %s", marker);
  const char *end = strchr(m, '>');
  char key[96];
  snprintf(key, sizeof key, " %s=\"", attr);
  const char *a = strstr(m, key);
  if (!a || a > end) fail_msg("%s has no %s", marker, attr);
  return strtod(a + strlen(key), NULL);
}

static int count(const char *text, const char *what) {
  int n = 0;
  for (const char *p = text; (p = strstr(p, what)); p++) n++;
  return n;
}

/* ---- the rows, read here without the library ---- */

/* Σ value of `metric` rows whose place is `place` (NULL: any) in a metrics.csv text, or in the
 * export rows of experiment `exp`, run `run` (exp < 0: a plain metrics.csv). */
static double sum_rows_of(const char *csv, int exp, int run, const char *metric, const char *place, const char *category) {
  double total = 0;
  const char *line = strchr(csv, '\n') + 1; /* past the header */
  char buf[512];
  while (*line) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    snprintf(buf, sizeof buf, "%.*s", (int)len, line);
    char *f[10];
    int n = 0;
    for (char *p = buf, *s = buf;; p++)
      if (*p == ',' || !*p) {
        int last = !*p;
        *p = '\0';
        f[n++] = s;
        s = p + 1;
        if (last || n == 10) break;
      }
    int k = exp < 0 ? 0 : 2; /* export rows begin with experiment,run */
    if ((exp < 0 || (atoi(f[0]) == exp && atoi(f[1]) == run)) && !strcmp(f[k + 1], metric) && (!place || !strcmp(f[k + 2], place)) &&
        (!category || !strcmp(f[k + 5], category)))
      total += strtod(f[k + 6], NULL);
    line += len + (nl ? 1 : 0);
  }
  return total;
}

static double sum_rows(const char *csv, int exp, int run, const char *metric, const char *place) {
  return sum_rows_of(csv, exp, run, metric, place, NULL);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The p-quantile with linear interpolation between order statistics (Hyndman and Fan's type 7). */
static double quantile(double *v, int n, double p) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  double h = (n - 1) * p;
  int lo = (int)h;
  return lo + 1 < n ? v[lo] + (h - lo) * (v[lo + 1] - v[lo]) : v[lo];
}

static void assert_rel(double got, double want, double rel) {
  if (fabs(got - want) > rel * fmax(1.0, fabs(want))) fail_msg("%.17g, expected %.17g", got, want);
}

/* ---- fixtures ---- */

static int make_results(void **state) {
  (void)state;
  char *out = NULL;
  dir = cbt_tmpdir("report");
  snprintf(run_dir, sizeof run_dir, "%s/run", dir);
  snprintf(ens_db, sizeof ens_db, "%s/ens.db", dir);
  snprintf(cmp_db, sizeof cmp_db, "%s/cmp.db", dir);
  snprintf(cmp_out, sizeof cmp_out, "%s/cmp", dir);
  char cmd[3][2000];
  snprintf(cmd[0], sizeof cmd[0], "'%s' run %s %s --quiet --out '%s'", CB_CLI, BASELINE, SMALL, run_dir);
  snprintf(cmd[1], sizeof cmd[1], "'%s' ensemble %s %s --runs 5 --jobs 2 --quiet --db '%s'", CB_CLI, BASELINE, SMALL, ens_db);
  snprintf(cmd[2], sizeof cmd[2], "'%s' compare %s %s %s --runs 5 --jobs 2 --fork-at 2015-01-01 --quiet --db '%s' --out '%s'", CB_CLI,
           BASELINE, SEALED, SMALL, cmp_db, cmp_out);
  int rc = 0;
  for (int i = 0; i < 3 && !rc; i++) {
    rc = cbt_run(&out, "%s", cmd[i]);
    if (rc) fprintf(stderr, "fixture failed: %s\n%s\n", cmd[i], out);
    free(out);
  }
  return rc;
}

static char *report_of(const char *results, const char *name) {
  char *out = NULL, path[700];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int rc = cbt_run(&out, "'%s' report '%s' -o '%s'", CB_CLI, results, path);
  if (rc) fail_msg("report failed (%d): %s", rc, out);
  free(out);
  char *html = cbt_read_file(path, NULL);
  assert_non_null(html);
  return html;
}

/* ---- a run ---- */

static void test_run_report_shows_the_rows_figures(void **state) {
  (void)state;
  char *html = report_of(run_dir, "run.html"), *csv = cbt_metrics_csv(run_dir);
  double all = sum_rows(csv, -1, 0, "delivered_units", NULL), sin = sum_rows(csv, -1, 0, "delivered_units", "sinuiju");
  assert_true(all > 0);
  assert_rel(attr_in(html, "data-figure=\"route_share\" data-key=\"crossing=sinuiju\"", "data-median"), sin / all, 1e-12);
  assert_rel(attr_in(html, "data-figure=\"delivered_units\" data-key=\"crossing=hyesan\"", "data-median"),
             sum_rows(csv, -1, 0, "delivered_units", "hyesan"), 1e-12);
  assert_rel(attr_in(html, "data-figure=\"bribes_usd\" data-key=\"\"", "data-median"), sum_rows(csv, -1, 0, "bribes_usd", NULL), 1e-6);
  /* demand by price tier: the luxury tier is the baseline's one luxury kind */
  assert_rel(attr_in(html, "data-figure=\"ordered_units\" data-key=\"tier=luxury\"", "data-median"),
             sum_rows_of(csv, -1, 0, "ordered_units", NULL, "cosmetics_luxury"), 1e-12);
  /* every chart, each an inline SVG; the events, parameters (with the override) and identity */
  const char *charts[] = {"chart-route", "chart-channel", "chart-route-share", "chart-enforcement", "chart-prices-pyongyang",
                          "chart-prices-sinuiju", "chart-prices-hyesan"};
  for (size_t i = 0; i < sizeof charts / sizeof *charts; i++) {
    char tag[96];
    snprintf(tag, sizeof tag, "<figure class=\"chart\" id=\"%s\"><svg", charts[i]);
    if (!strstr(html, tag)) fail_msg("no chart %s", charts[i]);
  }
  assert_int_equal(count(html, "<figure class=\"chart\""), 7);
  assert_non_null(strstr(html, "<td>kr_kaesong_closure_2016</td>"));
  assert_non_null(strstr(html, "<code>population.buyers</code></td><td><code>4000</code>"));
  assert_non_null(strstr(html, "<code>--set population.buyers=4000</code>"));
  char *summary = cbt_summary_core(run_dir);
  const char *sha = strstr(summary, "\"scenario_sha256\": \"");
  assert_non_null(sha);
  char want[80];
  snprintf(want, sizeof want, "<code>%.64s</code>", sha + 20);
  assert_non_null(strstr(html, want));
  /* nothing fetched: no external scripts, styles or images (SVG namespaces are names, not fetches) */
  assert_null(strstr(html, "src=\"http"));
  assert_null(strstr(html, "<link"));
  free(summary);
  free(html);
  free(csv);
}

/* ---- an ensemble ---- */

static void test_ensemble_report_shows_medians_and_bands(void **state) {
  (void)state;
  char *out = NULL, path[700];
  snprintf(path, sizeof path, "%s/ens.csv", dir);
  assert_int_equal(cbt_run(&out, "'%s' export '%s' --out '%s'", CB_CLI, ens_db, path), 0);
  char *rows = cbt_read_file(path, NULL), *html = report_of(ens_db, "ens.html");
  double share[5], seized[5];
  for (int r = 0; r < 5; r++) {
    share[r] = sum_rows(rows, 1, r, "delivered_units", "sinuiju") / sum_rows(rows, 1, r, "delivered_units", NULL);
    seized[r] = sum_rows(rows, 1, r, "seized_units", NULL);
  }
  const char *row = "data-figure=\"route_share\" data-key=\"crossing=sinuiju\"";
  double s2[5], s3[5];
  memcpy(s2, share, sizeof share);
  memcpy(s3, share, sizeof share);
  assert_rel(attr_in(html, row, "data-median"), quantile(share, 5, 0.5), 1e-12);
  assert_rel(attr_in(html, row, "data-p5"), quantile(s2, 5, 0.05), 1e-12);
  assert_rel(attr_in(html, row, "data-p95"), quantile(s3, 5, 0.95), 1e-12);
  assert_int_equal((int)attr_in(html, row, "data-runs"), 5);
  assert_rel(attr_in(html, "data-figure=\"seized_units\" data-key=\"\"", "data-median"), quantile(seized, 5, 0.5), 1e-12);
  /* bands: every line of a time chart has a filled 5-95% area (gnuplot draws them as paths) */
  assert_non_null(strstr(html, "An ensemble of 5 runs"));
  free(rows);
  free(html);
  free(out);
}

/* ---- a comparison ---- */

/* Paired differences B - A of Σ delivered_units through a crossing: mean and 95% interval, with
 * t(0.975, 4) = 2.7764451051977987 for five pairs. */
static void paired(const char *rows, const char *place, double *mean, double *lo, double *hi) {
  double d[5], s = 0, ss = 0;
  for (int r = 0; r < 5; r++) {
    d[r] = sum_rows(rows, 2, r, "delivered_units", place) - sum_rows(rows, 1, r, "delivered_units", place);
    s += d[r];
  }
  *mean = s / 5;
  for (int r = 0; r < 5; r++) ss += (d[r] - *mean) * (d[r] - *mean);
  double half = 2.7764451051977987 * sqrt(ss / 4) / sqrt(5.0);
  *lo = *mean - half;
  *hi = *mean + half;
}

static void test_comparison_report_shows_effects_and_intervals(void **state) {
  (void)state;
  char *out = NULL, path[700];
  snprintf(path, sizeof path, "%s/cmp.csv", dir);
  assert_int_equal(cbt_run(&out, "'%s' export '%s' --out '%s'", CB_CLI, cmp_db, path), 0);
  char *rows = cbt_read_file(path, NULL), *html = report_of(cmp_db, "cmp.html");
  const char *row = "data-effect=\"delivered_units\" data-key=\"crossing=hyesan\"";
  double mean, lo, hi;
  paired(rows, "hyesan", &mean, &lo, &hi);
  assert_true(mean < 0); /* sealing Hyesan moves goods away from it */
  assert_rel(attr_in(html, row, "data-effect"), mean, 1e-9);
  assert_rel(attr_in(html, row, "data-ci-low"), lo, 1e-9);
  assert_rel(attr_in(html, row, "data-ci-high"), hi, 1e-9);
  assert_int_equal((int)attr_in(html, row, "data-n"), 5);
  /* the same as compare's own effects.csv (printed there with 10 digits) */
  snprintf(path, sizeof path, "%s/effects.csv", cmp_out);
  char *effects = cbt_read_file(path, NULL);
  const char *e = strstr(effects, "delivered_units,crossing=hyesan,5,");
  assert_non_null(e);
  double ma, mb, ef, cl, ch;
  assert_int_equal(sscanf(e, "delivered_units,crossing=hyesan,5,%lf,%lf,%lf,%lf,%lf", &ma, &mb, &ef, &cl, &ch), 5);
  assert_rel(attr_in(html, row, "data-mean-a"), ma, 1e-9);
  assert_rel(attr_in(html, row, "data-ci-high"), ch, 1e-9);
  /* both scenarios drawn together, the fork day marked, the interval plot there */
  assert_non_null(strstr(html, "id=\"chart-effects\"><svg"));
  assert_non_null(strstr(html, "B continuing from A's state on 2015-01-01"));
  assert_non_null(strstr(html, ">fork</text>"));
  assert_non_null(strstr(html, "hyesan_sealed (B only)"));
  free(rows);
  free(html);
  free(effects);
  free(out);
}

/* ---- figures ---- */

static void test_plot_writes_each_format_the_same_every_time(void **state) {
  (void)state;
  const char *ext[] = {"svg", "png", "pdf"}, *magic[] = {"<?xml", "\x89PNG", "%PDF"};
  for (int i = 0; i < 3; i++) {
    char *out = NULL, a[700], b[700];
    snprintf(a, sizeof a, "%s/fig1.%s", dir, ext[i]);
    snprintf(b, sizeof b, "%s/fig2.%s", dir, ext[i]);
    for (int k = 0; k < 2; k++) {
      int rc = cbt_run(&out, "'%s' plot '%s' --metric price_usd --origin kr --by place -o '%s'", CB_CLI, ens_db, k ? b : a);
      if (rc) fail_msg("plot failed: %s", out);
      free(out);
    }
    size_t la, lb;
    char *x = cbt_read_file(a, &la), *y = cbt_read_file(b, &lb);
    assert_true(la > 1000);
    assert_memory_equal(x, magic[i], strlen(magic[i]));
    assert_int_equal(la, lb);
    assert_memory_equal(x, y, la);
    free(x);
    free(y);
  }
  /* the report too */
  char *h1 = report_of(cmp_db, "again1.html"), *h2 = report_of(cmp_db, "again2.html");
  assert_string_equal(h1, h2);
  free(h1);
  free(h2);
}

/* ---- refusals ---- */

static void expect_failure(int want, const char *needle, const char *fmt, const char *arg1, const char *arg2) {
  char *out = NULL, cmd[2000];
  snprintf(cmd, sizeof cmd, fmt, arg1, arg2);
  int rc = cbt_run(&out, "'%s' %s", CB_CLI, cmd);
  if (rc != want || !strstr(out, needle)) fail_msg("`%s` gave %d, wanted %d with '%s':\n%s", cmd, rc, want, needle, out);
  free(out);
}

static void test_bad_results_are_refused_and_nothing_is_lost(void **state) {
  (void)state;
  char *out = NULL, bad[700], prev[700];
  snprintf(prev, sizeof prev, "%s/kept.html", dir);
  free(cbt_write_file(dir, "kept.html", "previous report"));
  expect_failure(1, "nowhere: No such file or directory", "report '%s/nowhere' -o '%s'", dir, prev);
  /* a metrics.csv that is not the one its summary.json was written with */
  snprintf(bad, sizeof bad, "%s/changed", dir);
  assert_int_equal(cbt_run(&out, "cp -r '%s' '%s' && echo '2019-12-01,seized_units,,,,,1' >> '%s/metrics.csv'", run_dir, bad, bad), 0);
  free(out);
  expect_failure(1, "does not belong with", "report '%s' -o '%s'", bad, prev);
  /* a damaged row, its summary made to match: the error names the line and column */
  snprintf(bad, sizeof bad, "%s/damaged", dir);
  assert_int_equal(cbt_run(&out,
                           "cp -r '%s' '%s' && cd '%s' && sed -i '3s/,[^,]*$/,abc/' metrics.csv && "
                           "sed -i \"s/\\\"metrics_sha256\\\": \\\"[0-9a-f]*\\\"/\\\"metrics_sha256\\\": \\\"$(sha256sum metrics.csv | cut -c1-64)\\\"/\" summary.json",
                           run_dir, bad, bad),
                   0);
  free(out);
  expect_failure(1, "metrics.csv:3:", "report '%s' -o '%s'", bad, prev);
  expect_failure(1, "value: 'abc' is not a finite number", "report '%s' -o '%s'", bad, prev);
  /* a summary.json that is not JSON */
  snprintf(bad, sizeof bad, "%s/nojson", dir);
  assert_int_equal(cbt_run(&out, "cp -r '%s' '%s' && echo '{\"version\": ' > '%s/summary.json'", run_dir, bad, bad), 0);
  free(out);
  expect_failure(1, "summary.json:2:", "report '%s' -o '%s'", bad, prev);
  /* a file that is not a store */
  expect_failure(1, "kept.html", "report '%s' -o '%s/x.html'", prev, dir);
  char *kept = cbt_read_file(prev, NULL);
  assert_string_equal(kept, "previous report");
  free(kept);
}

static void test_choices_and_options_are_checked(void **state) {
  (void)state;
  char three[700], moved[700];
  snprintf(three, sizeof three, "%s/three.db", dir);
  char *out = NULL;
  assert_int_equal(cbt_run(&out, "cp '%s' '%s' && '%s' ensemble %s %s --runs 1 --seed 7 --quiet --db '%s'", cmp_db, three, CB_CLI, BASELINE,
                           SMALL, three),
                   0);
  free(out);
  expect_failure(1, "holds 3 experiments", "report '%s' -o '%s/t.html'", three, dir);
  expect_failure(1, "holds no experiment 9", "report '%s' --experiment 9 -o '%s/t.html'", three, dir);
  expect_failure(0, "report:", "report '%s' --experiment 3 -o '%s/t.html'", three, dir);
  expect_failure(0, "report:", "report '%s' --experiment 1 --experiment 3 -o '%s/t.html'", three, dir);
  expect_failure(1, "run's folder", "report '%s' --experiment 1 -o '%s/t.html'", run_dir, dir);
  expect_failure(1, "metric 'nonsense' is not one", "plot '%s' --metric nonsense -o '%s/f.svg'", ens_db, dir);
  expect_failure(1, "must end in .svg, .png or .pdf", "plot '%s' --metric bribes -o '%s/f.jpg'", ens_db, dir);
  expect_failure(1, "no series of bribes matches", "plot '%s' --metric bribes --place atlantis -o '%s/f.svg'", ens_db, dir);
  expect_failure(1, "--by 'colour'", "plot '%s' --metric bribes --by colour -o '%s/f.svg'", ens_db, dir);
  expect_failure(2, "plot needs -o", "plot '%s' --metric bribes%s", ens_db, "");
  expect_failure(2, "plot needs --metric", "plot '%s' -o '%s/f.svg'", ens_db, dir);
  expect_failure(2, "unknown option --metric", "report '%s' --metric bribes%s", ens_db, "");
  expect_failure(2, "--experiment can be given at most twice", "report '%s' --experiment 1 --experiment 1 --experiment 1%s", ens_db, "");
  /* the scenario named by the results is found from elsewhere only with --scenario, which must
   * be the same file */
  snprintf(moved, sizeof moved, "%s/moved.html", dir);
  assert_int_equal(cbt_run(&out, "cd /tmp && '%s' report '%s' -o '%s'", CB_CLI, run_dir, moved), 0);
  assert_non_null(strstr(out, "warning: parameters and policy events left out"));
  free(out);
  char *html = cbt_read_file(moved, NULL);
  assert_non_null(strstr(html, "class=\"note\""));
  free(html);
  expect_failure(1, "is not the", "report '%s' --scenario " SEALED " -o '%s/s.html'", run_dir, dir);
  expect_failure(0, "report:", "report '%s' --scenario " BASELINE " -o '%s/s.html'", run_dir, dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_run_report_shows_the_rows_figures),
      cmocka_unit_test(test_ensemble_report_shows_medians_and_bands),
      cmocka_unit_test(test_comparison_report_shows_effects_and_intervals),
      cmocka_unit_test(test_plot_writes_each_format_the_same_every_time),
      cmocka_unit_test(test_bad_results_are_refused_and_nothing_is_lost),
      cmocka_unit_test(test_choices_and_options_are_checked),
  };
  return cmocka_run_group_tests(tests, make_results, NULL);
}
