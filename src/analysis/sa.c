/* The designs and estimators of global sensitivity analysis (sa.h): Saltelli's design and the
 * Saltelli / Jansen estimators of Sobol indices, Morris trajectories chosen for spread as Campolongo
 * et al. propose, elementary effects, and the percentile bootstrap both sets of indices share. Kept
 * apart from the sweeps and the model so the arithmetic can be checked against functions whose
 * indices are known analytically. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_qrng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "analysis/sa.h"
#include "engine/rng.h"

/* The sizes of a design, or 0 when they are out of range (see check_size for the reasons). */
static uint32_t design_size(uint32_t n, int d, uint32_t per_row) {
  if (d < 1 || d > CB_SA_MAX_DIM || n == 0 || n > CB_SA_MAX_SAMPLES) return 0;
  uint64_t size = (uint64_t)n * per_row;
  return size > UINT32_MAX ? 0 : (uint32_t)size;
}

uint32_t cb_sa_saltelli_size(uint32_t n, int d) { return design_size(n, d, (uint32_t)d + 2); }

uint32_t cb_sa_morris_size(uint32_t r, int d) { return design_size(r, d, (uint32_t)d + 1); }

/* The arguments every function shares, checked with messages that give the limits; `what` names
 * the count n ("base rows", "trajectories"). */
static int check_args(const char *fn, uint32_t n, const char *what, int d, uint32_t nboot, cb_err *e) {
  if (d < 1 || d > CB_SA_MAX_DIM)
    return cb_err_set(e, CB_EMISUSE, "%s: %d inputs; give 1 to %d (GSL's Sobol sequence has 40 dimensions, "
                      "two per input in Saltelli's design)", fn, d, CB_SA_MAX_DIM);
  if (n == 0 || n > CB_SA_MAX_SAMPLES)
    return cb_err_set(e, CB_EMISUSE, "%s: %u %s; give 1 to %u", fn, n, what, CB_SA_MAX_SAMPLES);
  if (nboot > CB_SA_MAX_BOOT)
    return cb_err_set(e, CB_EMISUSE, "%s: %u bootstrap resamples; give 0 to %u", fn, nboot, CB_SA_MAX_BOOT);
  return CB_OK;
}

int cb_sa_saltelli_points(uint32_t n, int d, double *out, cb_err *e) {
  if (e) cb_err_clear(e);
  int rc = check_args("cb_sa_saltelli_points", n, "base rows", d, 0, e);
  if (rc) return rc;
  if (!out) return cb_err_set(e, CB_EMISUSE, "cb_sa_saltelli_points: no array for the points");
  size_t du = (size_t)d;
  gsl_qrng *q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)(2 * d));
  double *row = cb_xcalloc(e, 2 * du, sizeof *row);
  if (!q || !row) {
    if (q) gsl_qrng_free(q);
    free(row);
    return cb_err_set(e, CB_ENOMEM, "cannot set up a Sobol sequence in %d dimensions", 2 * d);
  }
  for (uint32_t j = 0; j < n; j++) {
    /* GSL's sequence starts at (1/2, ..., 1/2): the all-zero point never comes out */
    gsl_qrng_get(q, row);
    double *blk = out + (size_t)j * (du + 2) * du;
    memcpy(blk, row, du * sizeof *row);                  /* A_j */
    memcpy(blk + du, row + du, du * sizeof *row);        /* B_j */
    for (size_t i = 0; i < du; i++) {                    /* A_B^(i)_j */
      double *p = blk + (2 + i) * du;
      memcpy(p, row, du * sizeof *row);
      p[i] = row[du + i];
    }
  }
  free(row);
  gsl_qrng_free(q);
  return CB_OK;
}

/* The 2.5% and 97.5% quantiles of the nboot values v (sorted in place) into iv; NaN if none. */
static void percentile_interval(double *v, uint32_t nboot, cb_sa_interval *iv) {
  if (nboot == 0) {
    iv->lo95 = iv->hi95 = NAN;
    return;
  }
  gsl_sort(v, 1, nboot);
  iv->lo95 = gsl_stats_quantile_from_sorted_data(v, 1, nboot, 0.025);
  iv->hi95 = gsl_stats_quantile_from_sorted_data(v, 1, nboot, 0.975);
}

/* Resample b of n items with replacement: rows[k] = floor(u n), u drawn for (b, k, 0). */
static void resample(const cb_rng *rng, uint32_t b, uint32_t n, uint32_t *rows) {
  for (uint32_t k = 0; k < n; k++) {
    uint32_t j = (uint32_t)(cb_rng_u01(rng, CB_RNG_BOOTSTRAP, b, (int32_t)k, 0) * n);
    rows[k] = j < n ? j : n - 1;
  }
}

/* First-order and total indices (s1[i], st[i]) from the rows rows[0..n-1] of the outputs (all rows
 * in order when rows is NULL). The outputs are centred on the mean of f(A) and f(B) first: it changes
 * neither estimator in expectation, and keeps an output far from zero from adding noise to S_i. */
static void sobol_indices(const double *y, uint32_t n, int d, const uint32_t *rows, double *s1, double *st) {
  size_t stride = (size_t)d + 2;
  double mean = 0, var = 0;
  for (uint32_t k = 0; k < n; k++) {
    const double *b = y + (size_t)(rows ? rows[k] : k) * stride;
    mean += b[0] + b[1];
  }
  mean /= 2.0 * n;
  for (uint32_t k = 0; k < n; k++) {
    const double *b = y + (size_t)(rows ? rows[k] : k) * stride;
    var += (b[0] - mean) * (b[0] - mean) + (b[1] - mean) * (b[1] - mean);
  }
  var /= 2.0 * n;
  for (int i = 0; i < d; i++) {
    double v1 = 0, et = 0;
    for (uint32_t k = 0; k < n; k++) {
      const double *b = y + (size_t)(rows ? rows[k] : k) * stride;
      double diff = b[2 + i] - b[0];
      v1 += (b[1] - mean) * diff;
      et += diff * diff;
    }
    s1[i] = var > 0 ? v1 / n / var : 0;
    st[i] = var > 0 ? et / (2.0 * n) / var : 0;
  }
}

int cb_sa_sobol(const double *y, uint32_t n, int d, uint64_t seed, uint32_t nboot, cb_sa_sobol_index *out,
                cb_err *e) {
  if (e) cb_err_clear(e);
  int rc = check_args("cb_sa_sobol", n, "base rows", d, nboot, e);
  if (rc) return rc;
  if (!y || !out) return cb_err_set(e, CB_EMISUSE, "cb_sa_sobol: no outputs or no array for the indices");
  uint32_t size = cb_sa_saltelli_size(n, d);
  for (uint32_t k = 0; k < size; k++)
    if (!isfinite(y[k]))
      return cb_err_set(e, CB_EMISUSE, "cb_sa_sobol: output %u (base row %u, point %u of its block) is %g; "
                        "every output must be a finite number", k, k / ((uint32_t)d + 2), k % ((uint32_t)d + 2), y[k]);
  size_t du = (size_t)d;
  double *s1 = cb_xcalloc(e, 2 * du, sizeof *s1);
  double *boot = cb_xcalloc(e, 2 * du * ((size_t)nboot + 1), sizeof *boot); /* [index][resample] */
  uint32_t *rows = cb_xcalloc(e, n, sizeof *rows);
  if (!s1 || !boot || !rows) {
    free(s1);
    free(boot);
    free(rows);
    return CB_ENOMEM;
  }
  double *st = s1 + du;
  sobol_indices(y, n, d, NULL, s1, st);
  for (int i = 0; i < d; i++) {
    out[i].s1.estimate = s1[i];
    out[i].st.estimate = st[i];
  }
  cb_rng rng = cb_rng_make(seed, 0);
  for (uint32_t b = 0; b < nboot; b++) {
    resample(&rng, b, n, rows);
    sobol_indices(y, n, d, rows, s1, st);
    for (size_t i = 0; i < 2 * du; i++) boot[i * nboot + b] = s1[i];
  }
  for (size_t i = 0; i < du; i++) {
    percentile_interval(boot + i * nboot, nboot, &out[i].s1);
    percentile_interval(boot + (du + i) * nboot, nboot, &out[i].st);
  }
  free(s1);
  free(boot);
  free(rows);
  return CB_OK;
}

/* ---- Morris ---- */

/* Campolongo's distance between two trajectories of d + 1 points: the sum of the Euclidean
 * distances between every point of one and every point of the other. */
static double trajectory_distance(const double *a, const double *b, int d) {
  size_t du = (size_t)d;
  double sum = 0;
  for (size_t p = 0; p <= du; p++)
    for (size_t q = 0; q <= du; q++) {
      double s = 0;
      for (size_t i = 0; i < du; i++) {
        double diff = a[p * du + i] - b[q * du + i];
        s += diff * diff;
      }
      sum += sqrt(s);
    }
  return sum;
}

double cb_sa_morris_spread(const double *x, uint32_t r, int d) {
  if (!x || d < 1 || r < 2) return 0;
  size_t len = ((size_t)d + 1) * (size_t)d;
  double sum = 0;
  for (uint32_t m = 0; m < r; m++)
    for (uint32_t l = m + 1; l < r; l++) {
      double dml = trajectory_distance(x + m * len, x + l * len, d);
      sum += dml * dml;
    }
  return sqrt(sum);
}

/* Trajectory c in out (d + 1 points of d coordinates). Levels are integers 0..p-1 standing for
 * level / (p - 1); a step moves a level by p / 2, which is delta = p / (2 (p - 1)) in [0, 1]. */
static void morris_trajectory(const cb_rng *rng, uint32_t c, int d, int p, int *level, int *up, int *order,
                              double *out) {
  size_t du = (size_t)d;
  int half = p / 2;
  for (int i = 0; i < d; i++) order[i] = i;
  for (int i = 0; i < d; i++) {
    cb_rng_block w = cb_rng_words(rng, CB_RNG_MORRIS, c, (int32_t)i, 0);
    int base = (int)(cb_u01(w.v[0]) * half);          /* 0..p/2-1: base + delta stays <= 1 */
    if (base >= half) base = half - 1;
    up[i] = cb_u01(w.v[1]) < 0.5;
    level[i] = up[i] ? base : base + half;
    if (i > 0) {                                      /* Fisher-Yates, one swap per coordinate */
      int k = (int)(cb_u01(w.v[2]) * (i + 1));
      if (k > i) k = i;
      int t = order[i];
      order[i] = order[k];
      order[k] = t;
    }
  }
  double top = (double)(p - 1);
  for (size_t i = 0; i < du; i++) out[i] = level[i] / top;
  for (size_t s = 1; s <= du; s++) {
    int i = order[s - 1];
    level[i] += up[i] ? half : -half;
    double *pt = out + s * du;
    memcpy(pt, pt - du, du * sizeof *pt);
    pt[i] = level[i] / top;
  }
}

int cb_sa_morris_points(uint32_t r, int d, int levels, uint32_t candidates, uint64_t seed, double *out,
                        cb_err *e) {
  if (e) cb_err_clear(e);
  int rc = check_args("cb_sa_morris_points", r, "trajectories", d, 0, e);
  if (rc) return rc;
  if (!out) return cb_err_set(e, CB_EMISUSE, "cb_sa_morris_points: no array for the points");
  int p = levels ? levels : CB_SA_MORRIS_LEVELS;
  if (p < 2 || p % 2)
    return cb_err_set(e, CB_EMISUSE, "cb_sa_morris_points: %d levels; the grid needs an even number of levels, "
                      "at least 2 (4 is usual)", levels);
  if (candidates < r || candidates > CB_SA_MORRIS_MAX_CANDIDATES)
    return cb_err_set(e, CB_EMISUSE, "cb_sa_morris_points: %u candidate trajectories for %u kept; give %u to %u",
                      candidates, r, r, CB_SA_MORRIS_MAX_CANDIDATES);
  size_t du = (size_t)d, len = (du + 1) * du, nc = candidates;
  cb_rng rng = cb_rng_make(seed, 0);
  int *work = cb_xcalloc(e, 3 * du, sizeof *work);
  if (!work) return CB_ENOMEM;
  if (candidates == r) {
    for (uint32_t c = 0; c < r; c++) morris_trajectory(&rng, c, d, p, work, work + du, work + 2 * du, out + c * len);
    free(work);
    return CB_OK;
  }
  double *cand = cb_xcalloc(e, nc * len, sizeof *cand);
  double *d2 = cb_xcalloc(e, nc * nc, sizeof *d2);     /* squared distances between candidates */
  double *rowsum = cb_xcalloc(e, nc, sizeof *rowsum);   /* sum of d2 to those still kept */
  unsigned char *kept = cb_xcalloc(e, nc, 1);
  if (!cand || !d2 || !rowsum || !kept) {
    free(work);
    free(cand);
    free(d2);
    free(rowsum);
    free(kept);
    return CB_ENOMEM;
  }
  for (uint32_t c = 0; c < candidates; c++)
    morris_trajectory(&rng, c, d, p, work, work + du, work + 2 * du, cand + c * len);
  for (size_t m = 0; m < nc; m++) {
    kept[m] = 1;
    for (size_t l = m + 1; l < nc; l++) {
      double dml = trajectory_distance(cand + m * len, cand + l * len, d);
      d2[m * nc + l] = d2[l * nc + m] = dml * dml;
    }
  }
  for (size_t m = 0; m < nc; m++)
    for (size_t l = 0; l < nc; l++) rowsum[m] += d2[m * nc + l];
  /* Dropping m takes rowsum[m] off the sum of squares, so the spread left is largest when the
   * candidate dropped has the smallest rowsum. */
  for (size_t left = nc; left > r; left--) {
    size_t drop = nc;
    for (size_t m = 0; m < nc; m++)
      if (kept[m] && (drop == nc || rowsum[m] < rowsum[drop])) drop = m;
    kept[drop] = 0;
    for (size_t l = 0; l < nc; l++)
      if (kept[l]) rowsum[l] -= d2[l * nc + drop];
  }
  size_t k = 0;
  for (size_t m = 0; m < nc; m++)
    if (kept[m]) memcpy(out + k++ * len, cand + m * len, len * sizeof *cand);
  free(work);
  free(cand);
  free(d2);
  free(rowsum);
  free(kept);
  return CB_OK;
}

/* mu, mu_star and sigma of input i over the trajectories rows[0..r-1] (all in order if rows is
 * NULL) of the effects ee (r x d). */
static void morris_stats(const double *ee, uint32_t r, int d, int i, const uint32_t *rows, double *mu,
                         double *mu_star, double *sigma) {
  double sum = 0, asum = 0;
  for (uint32_t k = 0; k < r; k++) {
    double v = ee[(size_t)(rows ? rows[k] : k) * (size_t)d + (size_t)i];
    sum += v;
    asum += fabs(v);
  }
  *mu = sum / r;
  *mu_star = asum / r;
  double ss = 0;
  for (uint32_t k = 0; k < r; k++) {
    double v = ee[(size_t)(rows ? rows[k] : k) * (size_t)d + (size_t)i] - *mu;
    ss += v * v;
  }
  *sigma = r > 1 ? sqrt(ss / (r - 1)) : 0;
}

/* The elementary effects of trajectory t into ee (d values), checking that each step changes one
 * coordinate not changed before; `changed` is d flags of scratch. */
static int trajectory_effects(const double *x, const double *y, uint32_t t, int d, unsigned char *changed,
                              double *ee, cb_err *e) {
  size_t du = (size_t)d;
  memset(changed, 0, du);
  for (size_t s = 1; s <= du; s++) {
    const double *a = x + s * du - du, *b = x + s * du;
    int which = -1, count = 0;
    for (size_t i = 0; i < du; i++)
      if (a[i] != b[i]) {
        which = (int)i;
        count++;
      }
    if (count != 1)
      return cb_err_set(e, CB_EMISUSE, "cb_sa_morris: step %zu of trajectory %u changes %d coordinates; each step "
                        "of a Morris trajectory changes exactly one", s, t, count);
    if (changed[which])
      return cb_err_set(e, CB_EMISUSE, "cb_sa_morris: step %zu of trajectory %u changes coordinate %d again; a "
                        "Morris trajectory changes each coordinate once", s, t, which);
    changed[which] = 1;
    ee[which] = (y[s] - y[s - 1]) / (b[which] - a[which]);
  }
  return CB_OK;
}

int cb_sa_morris(const double *x, const double *y, uint32_t r, int d, uint64_t seed, uint32_t nboot,
                 cb_sa_morris_index *out, cb_err *e) {
  if (e) cb_err_clear(e);
  int rc = check_args("cb_sa_morris", r, "trajectories", d, nboot, e);
  if (rc) return rc;
  if (!x || !y || !out) return cb_err_set(e, CB_EMISUSE, "cb_sa_morris: no points, no outputs or no array for the indices");
  uint32_t size = cb_sa_morris_size(r, d);
  size_t du = (size_t)d;
  for (uint32_t k = 0; k < size; k++) {
    if (!isfinite(y[k]))
      return cb_err_set(e, CB_EMISUSE, "cb_sa_morris: output %u (trajectory %u, point %u) is %g; every output must "
                        "be a finite number", k, k / ((uint32_t)d + 1), k % ((uint32_t)d + 1), y[k]);
    for (size_t i = 0; i < du; i++)
      if (!isfinite(x[k * du + i]))
        return cb_err_set(e, CB_EMISUSE, "cb_sa_morris: coordinate %zu of point %u is %g; every coordinate must be "
                          "a finite number", i, k, x[k * du + i]);
  }
  double *ee = cb_xcalloc(e, (size_t)r * du, sizeof *ee);
  double *boot = cb_xcalloc(e, 3 * du * ((size_t)nboot + 1), sizeof *boot); /* [stat][input][resample] */
  uint32_t *rows = cb_xcalloc(e, r, sizeof *rows);
  unsigned char *changed = cb_xcalloc(e, du, 1);
  if (!ee || !boot || !rows || !changed) rc = CB_ENOMEM;
  size_t len = (du + 1) * du;
  for (uint32_t t = 0; t < r && rc == CB_OK; t++)
    rc = trajectory_effects(x + t * len, y + (size_t)t * (du + 1), t, d, changed, ee + t * du, e);
  if (rc == CB_OK) {
    for (int i = 0; i < d; i++)
      morris_stats(ee, r, d, i, NULL, &out[i].mu.estimate, &out[i].mu_star.estimate, &out[i].sigma.estimate);
    cb_rng rng = cb_rng_make(seed, 0);
    for (uint32_t b = 0; b < nboot; b++) {
      resample(&rng, b, r, rows);
      for (size_t i = 0; i < du; i++)
        morris_stats(ee, r, d, (int)i, rows, &boot[i * nboot + b], &boot[(du + i) * nboot + b],
                     &boot[(2 * du + i) * nboot + b]);
    }
    for (size_t i = 0; i < du; i++) {
      percentile_interval(boot + i * nboot, nboot, &out[i].mu);
      percentile_interval(boot + (du + i) * nboot, nboot, &out[i].mu_star);
      percentile_interval(boot + (2 * du + i) * nboot, nboot, &out[i].sigma);
    }
  }
  free(ee);
  free(boot);
  free(rows);
  free(changed);
  return rc;
}
