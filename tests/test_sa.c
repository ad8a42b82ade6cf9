/* Sensitivity analysis arithmetic (analysis/sa.h) against functions whose indices are known: the
 * Ishigami function's Sobol indices from their closed forms, an input the function ignores, a
 * linear and a quadratic input for Morris; the layout of both designs, determinism of the
 * bootstrap, and the errors for arguments out of range. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "analysis/sa.h"

#define PI 3.14159265358979323846
#define ISHI_A 7.0
#define ISHI_B 0.1
#define NBASE 4096u
#define NBOOT 500u

static double ishigami(const double *u) {
  double x1 = -PI + 2 * PI * u[0], x2 = -PI + 2 * PI * u[1], x3 = -PI + 2 * PI * u[2];
  return sin(x1) + ISHI_A * sin(x2) * sin(x2) + ISHI_B * x3 * x3 * x3 * x3 * sin(x1);
}

/* The design for n base rows and d inputs with Ishigami's output at each point (inputs past the
 * third are ignored); both arrays malloc'd. */
static void ishigami_design(uint32_t n, int d, double **x, double **y) {
  uint32_t size = cb_sa_saltelli_size(n, d);
  assert_int_equal(size, n * (uint32_t)(d + 2));
  *x = calloc((size_t)size * (size_t)d, sizeof **x);
  *y = calloc(size, sizeof **y);
  assert_non_null(*x);
  assert_non_null(*y);
  cb_err e;
  int rc = cb_sa_saltelli_points(n, d, *x, &e);
  if (rc != CB_OK) fail_msg("design failed: %s", e.msg);
  for (uint32_t k = 0; k < size; k++) (*y)[k] = ishigami(*x + (size_t)k * (size_t)d);
}

static void sobol_ok(const double *y, uint32_t n, int d, uint64_t seed, uint32_t nboot, cb_sa_sobol_index *out) {
  cb_err e;
  int rc = cb_sa_sobol(y, n, d, seed, nboot, out, &e);
  if (rc != CB_OK) fail_msg("cb_sa_sobol failed: %s", e.msg);
}

static void expect_covers(const char *what, int i, cb_sa_interval iv, double truth, double max_width) {
  print_message("%s[%d] = %.4f [%.4f, %.4f], true %.4f\n", what, i + 1, iv.estimate, iv.lo95, iv.hi95, truth);
  if (!(iv.lo95 <= iv.estimate && iv.estimate <= iv.hi95))
    fail_msg("%s[%d]: estimate %.6f outside its interval [%.6f, %.6f]", what, i + 1, iv.estimate, iv.lo95, iv.hi95);
  if (!(iv.lo95 <= truth && truth <= iv.hi95))
    fail_msg("%s[%d]: true value %.6f outside the interval [%.6f, %.6f]", what, i + 1, truth, iv.lo95, iv.hi95);
  if (!(iv.hi95 - iv.lo95 < max_width))
    fail_msg("%s[%d]: interval [%.6f, %.6f] wider than %g", what, i + 1, iv.lo95, iv.hi95, max_width);
}

/* The blocks of the Saltelli design: A_j, B_j, then A_j with one coordinate from B_j; the first
 * base row is GSL's first Sobol point (1/2, ..., 1/2), so no point is the all-zero corner. */
static void test_saltelli_layout(void **state) {
  (void)state;
  const uint32_t n = 64;
  const int d = 5;
  double *x, *y;
  ishigami_design(n, d, &x, &y);
  for (int i = 0; i < 2 * d; i++) assert_near(x[i], 0.5, 0);
  for (uint32_t j = 0; j < n; j++) {
    const double *a = x + (size_t)j * (d + 2) * d, *b = a + d;
    int zero = 1;
    for (int i = 0; i < d; i++) zero &= a[i] == 0 && b[i] == 0;
    assert_false(zero);
    for (int i = 0; i < d; i++) {
      const double *ab = a + (size_t)(2 + i) * d;
      for (int c = 0; c < d; c++) assert_near(ab[c], c == i ? b[c] : a[c], 0);
    }
  }
  /* every coordinate in [0, 1) and the A rows spread over the cube (mean near 1/2) */
  double mean = 0;
  for (uint32_t k = 0; k < cb_sa_saltelli_size(n, d) * (uint32_t)d; k++) assert_true(x[k] >= 0 && x[k] < 1);
  for (uint32_t j = 0; j < n; j++) mean += x[(size_t)j * (d + 2) * d];
  assert_near(mean / n, 0.5, 0.05);
  free(x);
  free(y);
}

/* Ishigami's indices, from V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2, V1 = (1 + b pi^4/5)^2 / 2,
 * V2 = a^2/8, V3 = 0, V13 = 8 b^2 pi^8 / 225, lie in the bootstrap intervals. */
static void test_ishigami(void **state) {
  (void)state;
  const double a = ISHI_A, b = ISHI_B, pi4 = pow(PI, 4), pi8 = pow(PI, 8);
  double V = a * a / 8 + b * pi4 / 5 + b * b * pi8 / 18 + 0.5;
  double V1 = 0.5 * (1 + b * pi4 / 5) * (1 + b * pi4 / 5), V2 = a * a / 8, V13 = 8 * b * b * pi8 / 225;
  double s1[3] = {V1 / V, V2 / V, 0}, st[3] = {(V1 + V13) / V, V2 / V, V13 / V};
  assert_near(s1[0], 0.3139, 1e-4);
  assert_near(s1[1], 0.4424, 1e-4);
  assert_near(st[0], 0.5576, 1e-4);
  assert_near(st[2], 0.2437, 1e-4);
  double *x, *y;
  ishigami_design(NBASE, 3, &x, &y);
  cb_sa_sobol_index idx[3];
  sobol_ok(y, NBASE, 3, 42, NBOOT, idx);
  for (int i = 0; i < 3; i++) {
    expect_covers("S1", i, idx[i].s1, s1[i], 0.1);
    expect_covers("ST", i, idx[i].st, st[i], 0.1);
  }
  free(x);
  free(y);
}

/* A fourth input the function ignores: f(A_B^(4)) = f(A) exactly, so both its estimates are 0 (not
 * just near it) in the sample and in every resample; the other indices are as without it. */
static void test_dummy_input(void **state) {
  (void)state;
  double *x, *y;
  ishigami_design(NBASE, 4, &x, &y);
  cb_sa_sobol_index idx[4];
  sobol_ok(y, NBASE, 4, 42, NBOOT, idx);
  assert_true(idx[3].s1.estimate == 0 && idx[3].st.estimate == 0);
  assert_true(idx[3].s1.lo95 <= 0 && idx[3].s1.hi95 >= 0);
  assert_true(idx[3].st.lo95 <= 0 && idx[3].st.hi95 >= 0);
  assert_true(idx[3].st.lo95 == 0 && idx[3].st.hi95 == 0);
  assert_near(idx[1].s1.estimate, 0.4424, 0.05);
  free(x);
  free(y);
}

/* The same seed gives the same indices and intervals to the bit; another seed other intervals
 * around the same estimates (those do not depend on the bootstrap). */
static void test_determinism(void **state) {
  (void)state;
  const uint32_t n = 1024;
  double *x, *y;
  ishigami_design(n, 3, &x, &y);
  cb_sa_sobol_index i1[3], i2[3], i3[3];
  memset(i1, 0, sizeof i1);
  memset(i2, 0xff, sizeof i2);
  sobol_ok(y, n, 3, 7, 200, i1);
  sobol_ok(y, n, 3, 7, 200, i2);
  assert_memory_equal(i1, i2, sizeof i1);
  sobol_ok(y, n, 3, 8, 200, i3);
  int differ = 0;
  for (int i = 0; i < 3; i++) {
    assert_true(i1[i].s1.estimate == i3[i].s1.estimate && i1[i].st.estimate == i3[i].st.estimate);
    differ |= i1[i].s1.lo95 != i3[i].s1.lo95 || i1[i].st.hi95 != i3[i].st.hi95;
  }
  assert_true(differ);
  /* no resamples: estimates alone, the intervals NaN */
  sobol_ok(y, n, 3, 7, 0, i3);
  assert_true(i3[0].s1.estimate == i1[0].s1.estimate && isnan(i3[0].s1.lo95) && isnan(i3[0].st.hi95));
  free(x);
  free(y);
}

/* A constant output has no variance to apportion: every index and interval is 0. */
static void test_constant_output(void **state) {
  (void)state;
  const uint32_t n = 16;
  double y[16 * 4];
  for (size_t k = 0; k < sizeof y / sizeof y[0]; k++) y[k] = 0.1;
  cb_sa_sobol_index idx[2];
  sobol_ok(y, n, 2, 1, 50, idx);
  for (int i = 0; i < 2; i++) {
    const cb_sa_interval *iv[2] = {&idx[i].s1, &idx[i].st};
    for (int k = 0; k < 2; k++) assert_true(iv[k]->estimate == 0 && iv[k]->lo95 == 0 && iv[k]->hi95 == 0);
  }
}

/* f = 2 x1 + x2^2 + 0 x3 */
static double morris_f(const double *u) { return 2 * u[0] + u[1] * u[1] + 0 * u[2]; }

static void morris_design(uint32_t r, int d, uint32_t candidates, uint64_t seed, double *x) {
  cb_err e;
  int rc = cb_sa_morris_points(r, d, 4, candidates, seed, x, &e);
  if (rc != CB_OK) fail_msg("cb_sa_morris_points failed: %s", e.msg);
}

static void test_morris(void **state) {
  (void)state;
  enum { R = 12, D = 3, C = 60 };
  const double delta = 4.0 / 6.0;
  uint32_t size = cb_sa_morris_size(R, D);
  assert_int_equal(size, R * (D + 1));
  double x[R * (D + 1) * D], y[R * (D + 1)], first[R * (D + 1) * D];
  morris_design(R, D, C, 11, x);
  for (int t = 0; t < R; t++) {
    const double *p = x + (size_t)t * (D + 1) * D;
    int seen[D] = {0};
    for (int k = 0; k < (D + 1) * D; k++) {
      assert_true(p[k] >= 0 && p[k] <= 1);
      double level = p[k] * 3;  /* on the grid 0, 1/3, 2/3, 1 */
      assert_near(level, round(level), 1e-12);
    }
    for (int s = 1; s <= D; s++) {
      int changed = 0;
      for (int i = 0; i < D; i++) {
        double step = p[s * D + i] - p[(s - 1) * D + i];
        if (step != 0) {
          assert_near(fabs(step), delta, 1e-12);
          seen[i]++;
          changed++;
        }
      }
      assert_int_equal(changed, 1);
    }
    for (int i = 0; i < D; i++) assert_int_equal(seen[i], 1);
  }
  /* the kept trajectories are spread at least as widely as the first R drawn (which are what
   * candidates == R gives: trajectory c's draws depend on c alone) */
  morris_design(R, D, R, 11, first);
  double kept = cb_sa_morris_spread(x, R, D), plain = cb_sa_morris_spread(first, R, D);
  print_message("Campolongo spread %.3f of %d kept from %d, %.3f of the first %d\n", kept, R, C, plain, R);
  assert_true(kept >= plain);
  assert_true(kept > 0);

  for (uint32_t k = 0; k < size; k++) y[k] = morris_f(x + (size_t)k * D);
  cb_sa_morris_index idx[D], again[D];
  cb_err e;
  int rc = cb_sa_morris(x, y, R, D, 5, NBOOT, idx, &e);
  if (rc != CB_OK) fail_msg("cb_sa_morris failed: %s", e.msg);
  for (int i = 0; i < D; i++)
    print_message("x%d: mu %.4f [%.4f, %.4f] mu* %.4f [%.4f, %.4f] sigma %.4f [%.4f, %.4f]\n", i + 1,
                  idx[i].mu.estimate, idx[i].mu.lo95, idx[i].mu.hi95, idx[i].mu_star.estimate, idx[i].mu_star.lo95,
                  idx[i].mu_star.hi95, idx[i].sigma.estimate, idx[i].sigma.lo95, idx[i].sigma.hi95);
  /* x1: every effect is 2 */
  assert_near(idx[0].mu.estimate, 2, 1e-12);
  assert_near(idx[0].mu_star.estimate, 2, 1e-12);
  assert_near(idx[0].sigma.estimate, 0, 1e-12);
  assert_near(idx[0].mu.lo95, 2, 1e-12);
  assert_near(idx[0].mu.hi95, 2, 1e-12);
  /* x2: effects 2 x2 + delta with x2 in {0, 1/3}, i.e. 2/3 or 4/3 */
  assert_true(idx[1].mu_star.estimate >= 2.0 / 3 - 1e-12 && idx[1].mu_star.estimate <= 4.0 / 3 + 1e-12);
  assert_true(idx[1].sigma.estimate > 0 && idx[1].sigma.estimate < 0.5);
  assert_true(idx[1].mu_star.lo95 <= idx[1].mu_star.estimate && idx[1].mu_star.estimate <= idx[1].mu_star.hi95);
  /* x3: no effect at all */
  assert_true(idx[2].mu_star.estimate == 0 && idx[2].sigma.estimate == 0 && idx[2].mu_star.hi95 == 0);
  /* deterministic */
  rc = cb_sa_morris(x, y, R, D, 5, NBOOT, again, &e);
  assert_int_equal(rc, CB_OK);
  assert_memory_equal(idx, again, sizeof idx);
  double again_x[R * (D + 1) * D];
  morris_design(R, D, C, 11, again_x);
  assert_memory_equal(x, again_x, sizeof x);

  /* a single trajectory: sigma is 0 */
  rc = cb_sa_morris(x, y, 1, D, 5, 20, idx, &e);
  assert_int_equal(rc, CB_OK);
  assert_true(idx[1].sigma.estimate == 0 && idx[1].sigma.hi95 == 0);

  /* steps that change two coordinates, or none */
  x[D + 1] = x[1] + 0.5;
  x[D] = x[0] == 0 ? 1 : 0;
  x[D + 2] = x[2];
  rc = cb_sa_morris(x, y, R, D, 5, 10, idx, &e);
  assert_int_equal(rc, CB_EMISUSE);
  assert_non_null(strstr(e.msg, "step 1 of trajectory 0"));
  memcpy(x + D, x, D * sizeof *x);
  rc = cb_sa_morris(x, y, R, D, 5, 10, idx, &e);
  assert_int_equal(rc, CB_EMISUSE);
  assert_non_null(strstr(e.msg, "changes 0 coordinates"));
}

static void expect_error(int rc, const cb_err *e, const char *part) {
  assert_int_equal(rc, CB_EMISUSE);
  assert_int_equal(e->code, CB_EMISUSE);
  if (!strstr(e->msg, part)) fail_msg("no \"%s\" in the message \"%s\"", part, e->msg);
}

static void test_bad_input(void **state) {
  (void)state;
  cb_err e;
  double x[8 * 22 * 21] = {0}, y[8 * 22] = {0};
  cb_sa_sobol_index si[21];
  cb_sa_morris_index mi[21];
  assert_int_equal(cb_sa_saltelli_size(8, 21), 0);
  assert_int_equal(cb_sa_saltelli_size(0, 3), 0);
  assert_int_equal(cb_sa_morris_size(8, 0), 0);
  expect_error(cb_sa_saltelli_points(8, 21, x, &e), &e, "give 1 to 20");
  expect_error(cb_sa_saltelli_points(0, 3, x, &e), &e, "0 base rows; give 1 to 16777216");
  expect_error(cb_sa_sobol(y, 8, 21, 1, 10, si, &e), &e, "21 inputs; give 1 to 20");
  expect_error(cb_sa_sobol(y, 0, 3, 1, 10, si, &e), &e, "give 1 to 16777216");
  expect_error(cb_sa_sobol(y, 8, 3, 1, CB_SA_MAX_BOOT + 1, si, &e), &e, "give 0 to 100000");
  expect_error(cb_sa_morris_points(8, 21, 4, 8, 1, x, &e), &e, "give 1 to 20");
  expect_error(cb_sa_morris_points(8, 3, 5, 8, 1, x, &e), &e, "even number of levels");
  expect_error(cb_sa_morris_points(8, 3, 4, 7, 1, x, &e), &e, "give 8 to 2000");
  expect_error(cb_sa_morris(x, y, 0, 3, 1, 10, mi, &e), &e, "0 trajectories");
  y[5] = NAN;
  expect_error(cb_sa_sobol(y, 8, 3, 1, 10, si, &e), &e, "output 5 (base row 1, point 0 of its block) is nan");
  expect_error(cb_sa_morris(x, y, 8, 3, 1, 10, mi, &e), &e, "output 5 (trajectory 1, point 1) is nan");
  y[5] = 0;
  x[7] = INFINITY;
  expect_error(cb_sa_morris(x, y, 8, 3, 1, 10, mi, &e), &e, "coordinate 1 of point 2 is inf");
  /* a success clears an earlier error */
  assert_int_equal(cb_sa_saltelli_points(2, 2, x, &e), CB_OK);
  assert_int_equal(e.code, CB_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_saltelli_layout),
      cmocka_unit_test(test_ishigami),
      cmocka_unit_test(test_dummy_input),
      cmocka_unit_test(test_determinism),
      cmocka_unit_test(test_constant_output),
      cmocka_unit_test(test_morris),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
