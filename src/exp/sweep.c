/* Parameter sweeps: points in the box the --vary ranges span, laid out by a design (a full grid, a
 * Latin hypercube, or a Sobol sequence from GSL), each run for replicates 0..R-1 with the same
 * seeds at every point (common random numbers across points), every run stored with its point's
 * parameter values. A range whose bounds are both written as integers varies an integer
 * parameter: its values are rounded. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_qrng.h>

#include "engine/rng.h"
#include "exp/experiment.h"
#include "io/summary.h"

#define MAX_VARY 40          /* GSL's Sobol sequence goes to 40 dimensions */
#define MAX_POINTS 1000000u

typedef struct range {
  char *key;
  double lo, hi;
  int integer;
} range;

/* One bound of a --vary range: a finite number; `integer` if written without '.', 'e' or 'E'. */
static int parse_bound(const char *s, size_t n, double *v, int *integer) {
  char buf[64];
  if (n == 0 || n >= sizeof buf) return -1;
  memcpy(buf, s, n);
  buf[n] = '\0';
  char *end;
  *v = strtod(buf, &end);
  if (*end || !isfinite(*v)) return -1;
  *integer = strpbrk(buf, ".eE") == NULL;
  return 0;
}

static int parse_range(cb_experiment *X, const char *spec, range *r) {
  const char *eq = strchr(spec, '='), *colon = eq ? strchr(eq, ':') : NULL;
  int i1 = 0, i2 = 0;
  if (!eq || eq == spec || !colon || parse_bound(eq + 1, (size_t)(colon - eq - 1), &r->lo, &i1) ||
      parse_bound(colon + 1, strlen(colon + 1), &r->hi, &i2))
    return cb_err_set(&X->err, CB_EPARSE, "--vary '%s': write key.path=LOW:HIGH with two numbers, e.g. "
                      "--vary buyers.review_days=20:40", spec);
  if (r->lo > r->hi)
    return cb_err_set(&X->err, CB_ESCHEMA, "--vary '%s': LOW is above HIGH; write the range from low to high", spec);
  r->integer = i1 && i2;
  r->key = cb_xmalloc(&X->err, (size_t)(eq - spec) + 1);
  if (!r->key) return X->err.code;
  memcpy(r->key, spec, (size_t)(eq - spec));
  r->key[eq - spec] = '\0';
  return CB_OK;
}

/* The ranges are checked as they are given and kept as written; the sweep parses them again. */
int cb_experiment_vary(cb_experiment *X, const char *spec) {
  cb_err_clear(&X->err);
  range r;
  if (parse_range(X, spec, &r)) return X->err.code;
  free(r.key);
  char **v = cb_xrealloc(&X->err, X->vary, (size_t)(X->n_vary + 1) * sizeof *v);
  if (!v) return X->err.code;
  X->vary = v;
  if (!(v[X->n_vary] = cb_xstrdup(&X->err, spec))) return X->err.code;
  X->n_vary++;
  return CB_OK;
}

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

/* The value of range r at unit coordinate x, as --set writes it. */
static void format_value(const range *r, double x, char out[64]) {
  double v = r->lo + (r->hi - r->lo) * x;
  if (r->integer) snprintf(out, 64, "%lld", (long long)llround(v));
  else snprintf(out, 64, "%.17g", v);
}

static void free_points(cb_exp_point *pts, uint32_t n) {
  for (uint32_t p = 0; pts && p < n; p++) {
    for (int i = 0; i < pts[p].n; i++) free(pts[p].sets[i]);
    free(pts[p].sets);
    free(pts[p].json);
  }
  free(pts);
}

/* Text held in a memory stream (the one JSON escaper writes the names). */
static char *json_text(void (*write)(FILE *, const void *), const void *ctx) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  write(f, ctx);
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

typedef struct point_ctx {
  const range *r;
  int d;
  char (*values)[64];
} point_ctx;

static void write_point(FILE *f, const void *ctx) {
  const point_ctx *c = ctx;
  fputc('{', f);
  for (int i = 0; i < c->d; i++) {
    fputs(i ? ", " : "", f);
    cb_json_string(f, c->r[i].key);
    fprintf(f, ": %s", c->values[i]);
  }
  fputc('}', f);
}

typedef struct design_ctx {
  const range *r;
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
    fprintf(f, ", \"low\": %.17g, \"high\": %.17g, \"integer\": %s}", c->r[i].lo, c->r[i].hi, c->r[i].integer ? "true" : "false");
  }
  fputs("]}", f);
}

static int build_points(cb_experiment *X, const range *r, int d, const double *u, uint32_t n, cb_exp_point **out) {
  cb_exp_point *pts = cb_xcalloc(&X->err, n, sizeof *pts);
  if (!pts) return X->err.code;
  char values[MAX_VARY][64];
  for (uint32_t p = 0; p < n && !X->err.code; p++) {
    pts[p].sets = cb_xcalloc(&X->err, (size_t)d, sizeof(char *));
    if (!pts[p].sets) break;
    pts[p].n = d;
    for (int i = 0; i < d && !X->err.code; i++) {
      format_value(&r[i], u[(uint64_t)p * (uint64_t)d + (uint64_t)i], values[i]);
      size_t len = strlen(r[i].key) + strlen(values[i]) + 2;
      if ((pts[p].sets[i] = cb_xmalloc(&X->err, len))) snprintf(pts[p].sets[i], len, "%s=%s", r[i].key, values[i]);
    }
    point_ctx pc = {r, d, values};
    if (!X->err.code && !(pts[p].json = json_text(write_point, &pc))) cb_err_set(&X->err, CB_ENOMEM, "out of memory");
  }
  if (X->err.code) {
    free_points(pts, n);
    return X->err.code;
  }
  *out = pts;
  return CB_OK;
}

int cb_experiment_sweep(cb_experiment *X, const char *db, const char *design, uint32_t samples, uint32_t runs, int jobs) {
  cb_err_clear(&X->err);
  if (X->n_vary == 0) return cb_err_set(&X->err, CB_EMISUSE, "a sweep needs at least one --vary key.path=LOW:HIGH");
  if (X->n_vary > MAX_VARY) return cb_err_set(&X->err, CB_EMISUSE, "at most %d --vary parameters", MAX_VARY);
  if (samples == 0) return cb_err_set(&X->err, CB_EMISUSE, "--samples must be at least 1");
  range r[MAX_VARY];
  int d = 0;
  for (; d < X->n_vary; d++)
    if (parse_range(X, X->vary[d], &r[d])) break;
  double *u = NULL;
  cb_exp_point *pts = NULL;
  char *design_json = NULL;
  uint32_t n = 0;
  X->seed_used = X->seed_set ? X->seed : cb_exp_scenario_seed(X);
  if (!X->err.code && (u = design_points(X, design, samples, d, &n)) && !build_points(X, r, d, u, n, &pts)) {
    design_ctx dc = {r, d, design, samples};
    if (!(design_json = json_text(write_design, &dc))) cb_err_set(&X->err, CB_ENOMEM, "out of memory");
  }
  if (!X->err.code) {
    cb_exp_spec spec = {.kind = "sweep", .scenario_a = X->scenario, .points = pts, .npoints = n, .design = design_json};
    int64_t experiment[2] = {0, 0};
    cb_exp_run(X, &spec, db, runs, jobs, experiment);
  }
  for (int i = 0; i < d; i++) free(r[i].key);
  free(u);
  free_points(pts, n);
  free(design_json);
  return X->err.code;
}
