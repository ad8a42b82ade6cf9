/* Parameter sweeps: points in the box the --vary ranges span, laid out by a design (a full grid, a
 * Latin hypercube, or a Sobol sequence from GSL), each run for replicates 0..R-1 with the same
 * seeds at every point (common random numbers across points), every run stored with its point's
 * parameter values (ranges and points: points.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_qrng.h>

#include "engine/rng.h"
#include "exp/experiment.h"
#include "io/summary.h"

#define MAX_POINTS 1000000u

/* The ranges are checked as they are given and kept as written; the command parses them again. */
int cb_exp_add_range(cb_experiment *X, const char *option, const char *spec) {
  cb_err_clear(&X->err);
  cb_exp_range r;
  if (cb_exp_parse_range(&X->err, option, spec, &r)) return X->err.code;
  free(r.key);
  char **v = cb_xrealloc(&X->err, X->vary, (size_t)(X->n_vary + 1) * sizeof *v);
  if (!v) return X->err.code;
  X->vary = v;
  if (!(v[X->n_vary] = cb_xstrdup(&X->err, spec))) return X->err.code;
  X->n_vary++;
  return CB_OK;
}

int cb_experiment_vary(cb_experiment *X, const char *spec) { return cb_exp_add_range(X, "--vary", spec); }

/* The unit-cube coordinates of the design's points: npoints x d numbers in [0, 1]. */
static double *design_points(cb_experiment *X, const char *design, uint32_t samples, int d, uint32_t *npoints) {
  uint64_t n = samples;
  if (!strcmp(design, "grid"))
    for (int i = 1; i < d && n <= MAX_POINTS; i++) n *= samples;
  else if (strcmp(design, "lhs") && strcmp(design, "sobol")) {
    cb_err_set(&X->err, CB_EMISUSE, "--design '%s': use grid, lhs or sobol", design);
    return NULL;
  }
  if (n > MAX_POINTS) {
    cb_err_set(&X->err, CB_EMISUSE, "a grid of %u levels in %d parameters has more than %u points; use fewer --samples, "
               "or lhs or sobol", samples, d, MAX_POINTS);
    return NULL;
  }
  double *u = cb_xcalloc(&X->err, (size_t)n * (size_t)d, sizeof *u);
  if (!u) return NULL;
  *npoints = (uint32_t)n;
  if (!strcmp(design, "grid")) {
    /* levels j / (samples - 1), the first parameter varying slowest */
    for (uint64_t p = 0; p < n; p++) {
      uint64_t rest = p;
      for (int i = d - 1; i >= 0; i--) {
        uint64_t level = rest % samples;
        rest /= samples;
        u[p * (uint64_t)d + (uint64_t)i] = samples > 1 ? (double)level / (samples - 1) : 0.5;
      }
    }
  } else if (!strcmp(design, "lhs")) {
    /* each parameter's range cut into n strata, one point in each, the strata shuffled per
     * parameter; the draws are the master seed's, so the design is reproducible */
    cb_rng rng = cb_rng_make(X->seed_used, 0);
    uint32_t *perm = cb_xcalloc(&X->err, (size_t)n, sizeof *perm);
    if (!perm) {
      free(u);
      return NULL;
    }
    for (int i = 0; i < d; i++) {
      for (uint32_t j = 0; j < n; j++) perm[j] = j;
      for (uint32_t j = (uint32_t)n; j-- > 1;) { /* Fisher-Yates */
        uint32_t k = (uint32_t)(cb_rng_u01(&rng, CB_RNG_SWEEP, (uint32_t)i, 0, j) * (j + 1));
        uint32_t t = perm[j];
        perm[j] = perm[k];
        perm[k] = t;
      }
      for (uint32_t j = 0; j < n; j++)
        u[(uint64_t)j * (uint64_t)d + (uint64_t)i] = (perm[j] + cb_rng_u01(&rng, CB_RNG_SWEEP, (uint32_t)i, 1, j)) / (double)n;
    }
    free(perm);
  } else {
    gsl_qrng *q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)d);
    if (!q) {
      free(u);
      cb_err_set(&X->err, CB_ENOMEM, "cannot set up a Sobol sequence in %d dimensions", d);
      return NULL;
    }
    for (uint64_t p = 0; p < n; p++) gsl_qrng_get(q, &u[p * (uint64_t)d]);
    gsl_qrng_free(q);
  }
  return u;
}

typedef struct design_ctx {
  const cb_exp_range *r;
  int d;
  const char *design;
  uint32_t samples;
} design_ctx;

static void write_design(FILE *f, const void *ctx) {
  const design_ctx *c = ctx;
  fprintf(f, "{\"design\": \"%s\", \"samples\": %u, \"vary\": [", c->design, c->samples);
  for (int i = 0; i < c->d; i++) {
    fputs(i ? ", {\"key\": " : "{\"key\": ", f);
    cb_json_string(f, c->r[i].key);
    fprintf(f, ", \"low\": %.17g, \"high\": %.17g, \"integer\": %s%s}", c->r[i].lo, c->r[i].hi, c->r[i].integer ? "true" : "false",
            c->r[i].log ? ", \"log\": true" : ""); /* absent on a linear scale: older stores keep their identities */
  }
  fputs("]}", f);
}

int cb_experiment_sweep(cb_experiment *X, const char *db, const char *design, uint32_t samples, uint32_t runs, int jobs) {
  cb_err_clear(&X->err);
  if (X->n_vary == 0) return cb_err_set(&X->err, CB_EMISUSE, "a sweep needs at least one --vary key.path=LOW:HIGH");
  if (samples == 0) return cb_err_set(&X->err, CB_EMISUSE, "--samples must be at least 1");
  cb_exp_range r[CB_EXP_MAX_RANGES];
  int d = 0;
  if (cb_exp_ranges(X, "--vary", r, &d)) return X->err.code;
  double *u = NULL;
  cb_exp_point *pts = NULL;
  char *design_json = NULL;
  uint32_t n = 0;
  X->seed_used = X->seed_set ? X->seed : cb_exp_scenario_seed(X);
  if (!X->err.code && (u = design_points(X, design, samples, d, &n)) && !cb_exp_build_points(&X->err, r, d, u, n, &pts)) {
    design_ctx dc = {r, d, design, samples};
    if (!(design_json = cb_exp_json_text(write_design, &dc))) cb_err_set(&X->err, CB_ENOMEM, "out of memory");
  }
  if (!X->err.code) {
    cb_exp_spec spec = {.kind = "sweep", .scenario_a = X->scenario, .points = pts, .npoints = n, .design = design_json};
    int64_t experiment[2] = {0, 0};
    cb_exp_run(X, &spec, db, runs, jobs, experiment);
  }
  cb_exp_free_ranges(r, d);
  free(u);
  cb_exp_free_points(pts, n);
  free(design_json);
  return X->err.code;
}
