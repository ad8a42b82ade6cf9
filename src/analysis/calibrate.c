/* Calibration by approximate Bayesian computation with sequential Monte Carlo (ABC-SMC: Toni et al.
 * 2009; Beaumont et al. 2009). A population of particles (parameter values) is drawn from the
 * priors, simulated and scored by a distance between simulated and observed target statistics;
 * each later generation perturbs particles of the last one, keeps those within a tolerance that
 * shrinks to the median of the last generation's distances, and weighs them by prior over proposal
 * density. Every simulation runs through the experiment machinery and is stored (kind
 * "calibration", one experiment per generation, the candidate as its point), so a killed calibration
 * recomputes the same candidates from the stored runs and runs only what is missing; every random
 * draw is a counter-based draw of (generation, candidate, coordinate), and acceptance goes in
 * candidate order, so --jobs changes nothing. Every simulation has a replicate number of its own
 * (numbered on across generations): with common random numbers every candidate would be judged on
 * one noise realisation and the posterior would be conditional on it, narrower than the data
 * allow.
 *
 * Parameters live in the unit cube: coordinate x of a prior LOW:HIGH is LOW + (HIGH - LOW) x, of
 * LOW:HIGH:log the same on the log scale, so every prior is uniform on [0, 1]. The perturbation
 * kernel is Beaumont's: a normal per coordinate with twice the population's weighted variance,
 * truncated to [0, 1] with its normalising constant in the weights, so proposals never leave the
 * prior and the importance weights are exact. Distances use adaptive scales (pyABC's
 * AdaptivePNormDistance idea): each target's discrepancy is divided by the median absolute deviation
 * of its statistic over the last generation's simulations, so no statistic dominates by its units. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "analysis/outcomes.h"
#include "analysis/targets.h"
#include "engine/rng.h"
#include "exp/experiment.h"
#include "exp/mpi.h"
#include "io/files.h"
#include "io/summary.h"
#include "report/results.h"

#define ABC_ALPHA 0.5        /* the tolerance: this quantile of the last population's distances */
#define ABC_MAX_BATCHES 20u  /* a generation tries at most this many batches of N candidates */
#define ABC_MIN_SIGMA 1e-4   /* a collapsed coordinate still moves a little: the kernel stays a density */

typedef struct population {
  uint32_t n;
  double *z;      /* n x d unit coordinates */
  double *w;      /* normalised weights */
  double *dist;   /* distances under the scales that accepted them */
  uint32_t *cand; /* the candidate (store point) each came from */
  double *stats;  /* n x W: their target statistics */
} population;

typedef struct generation_log {
  double tolerance;   /* INFINITY for the first */
  uint32_t first_replicate; /* its simulations' replicate numbers start here */
  uint32_t candidates, accepted;
  double ess;
  int64_t experiment;
} generation_log;

typedef struct abc {
  cb_experiment *X;
  const char *db;
  cb_targets T;
  cb_exp_range r[CB_EXP_MAX_RANGES];
  int d;
  size_t dn;           /* d, for indexing */
  uint32_t N, R, W;
  int jobs;
  uint64_t seed;
  char *config;        /* the calibration's identity, without the generation */
  double *scale;       /* per target */
  population pop, prev;
  double *stats_all;   /* the current generation's candidates' statistics, cap x W */
  double *z_all;       /* and their coordinates, cap x d */
  uint32_t ncand, cap;
  generation_log *log;
  int nlog;
  char stopped[512];
  population *history; /* every generation's population, for posterior.csv */
} abc;

static double u01(const abc *A, uint32_t gen, uint32_t cand, uint32_t slot) {
  cb_rng rng = cb_rng_make(A->seed, 0);
  return cb_rng_u01(&rng, CB_RNG_ABC, cand, (int32_t)gen, slot);
}

/* ---- distances ---- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, uint32_t n) {
  if (n == 0) return NAN;
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The median absolute deviation of column k of stats (n rows of W), over its finite values. */
static double mad(const double *stats, uint32_t n, uint32_t W, uint32_t k, double *tmp) {
  uint32_t m = 0;
  for (uint32_t i = 0; i < n; i++)
    if (isfinite(stats[(size_t)i * W + k])) tmp[m++] = stats[(size_t)i * W + k];
  double med = median(tmp, m);
  for (uint32_t i = 0; i < m; i++) tmp[i] = fabs(tmp[i] - med);
  return median(tmp, m);
}

/* Each target's scale: the MAD of its statistic over the n simulations (a series: the median of its
 * points' MADs). A target whose statistic did not vary gets scale 0 and is left out of the distance:
 * it cannot tell particles apart. */
static int update_scales(abc *A, const double *stats, uint32_t n) {
  double *tmp = cb_xcalloc(&A->X->err, n ? n : 1, sizeof *tmp), *pts = NULL;
  uint32_t k = 0;
  for (int i = 0; tmp && i < A->T.n; i++) {
    uint32_t w = cb_target_width(&A->T.t[i]);
    if (!(pts = cb_xcalloc(&A->X->err, w, sizeof *pts))) break;
    for (uint32_t j = 0; j < w; j++) pts[j] = mad(stats, n, A->W, k + j, tmp);
    A->scale[i] = median(pts, w);
    if (!isfinite(A->scale[i])) A->scale[i] = 0;
    free(pts);
    k += w;
  }
  free(tmp);
  return A->X->err.code;
}

static double distance(const abc *A, const double *s) {
  double sum = 0;
  for (int i = 0; i < A->T.n; i++) {
    const cb_target *t = &A->T.t[i];
    double r = cb_target_discrepancy(t, s);
    s += cb_target_width(t);
    if (isnan(r)) return INFINITY; /* an undefined statistic (a share of nothing) is never accepted */
    if (A->scale[i] > 0) sum += (r / A->scale[i]) * (r / A->scale[i]);
  }
  return sqrt(sum);
}

/* ---- weighted summaries ---- */

typedef struct wv {
  double v, w;
} wv;

static int cmp_wv(const void *a, const void *b) { return cmp_double(&((const wv *)a)->v, &((const wv *)b)->v); }

/* The q-quantile of values with weights (normalised to 1): the smallest value whose cumulative
 * weight reaches q. */
static double weighted_quantile(wv *a, uint32_t n, double q) {
  qsort(a, n, sizeof *a, cmp_wv);
  double c = 0;
  for (uint32_t i = 0; i < n; i++)
    if ((c += a[i].w) >= q - 1e-12) return a[i].v;
  return n ? a[n - 1].v : NAN;
}

/* ---- proposals ---- */

/* Truncated to [0, 1]: a normal N(mu, s^2) draw by its inverse distribution function. */
static double truncated_normal(double mu, double s, double u) {
  double a = gsl_cdf_ugaussian_P((0 - mu) / s), b = gsl_cdf_ugaussian_P((1 - mu) / s);
  double x = mu + s * gsl_cdf_ugaussian_Pinv(a + u * (b - a));
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

static double truncated_density(double x, double mu, double s) {
  double mass = gsl_cdf_ugaussian_P((1 - mu) / s) - gsl_cdf_ugaussian_P((0 - mu) / s);
  double t = (x - mu) / s;
  return exp(-0.5 * t * t) / (s * 2.5066282746310002 * mass); /* sqrt(2 pi) */
}

/* Beaumont et al. (2009): twice the weighted variance of each coordinate. */
static void kernel_sigma(const abc *A, const population *p, double *sigma) {
  for (size_t j = 0; j < A->dn; j++) {
    double m = 0, v = 0;
    for (uint32_t i = 0; i < p->n; i++) m += p->w[i] * p->z[(size_t)i * A->dn + j];
    for (uint32_t i = 0; i < p->n; i++) v += p->w[i] * (p->z[(size_t)i * A->dn + j] - m) * (p->z[(size_t)i * A->dn + j] - m);
    sigma[j] = fmax(sqrt(2 * v), ABC_MIN_SIGMA);
  }
}

/* Candidate c of generation g: from the prior (g = 0), else an ancestor drawn by weight and moved by
 * the kernel. */
static void propose(const abc *A, uint32_t g, uint32_t c, const double *sigma, double *z) {
  if (g == 0) {
    for (size_t j = 0; j < A->dn; j++) z[j] = u01(A, g, c, (uint32_t)(1 + j));
    return;
  }
  double u = u01(A, g, c, 0), acc = 0;
  uint32_t a = 0;
  for (; a + 1 < A->prev.n; a++)
    if ((acc += A->prev.w[a]) > u) break;
  for (size_t j = 0; j < A->dn; j++) z[j] = truncated_normal(A->prev.z[(size_t)a * A->dn + j], sigma[j], u01(A, g, c, (uint32_t)(1 + j)));
}

/* The importance weight of z: the prior's density (1 in the unit cube) over the proposal's. */
static double importance(const abc *A, const double *z, const double *sigma) {
  double q = 0;
  for (uint32_t a = 0; a < A->prev.n; a++) {
    double k = A->prev.w[a];
    for (size_t j = 0; j < A->dn && k > 0; j++) k *= truncated_density(z[j], A->prev.z[(size_t)a * A->dn + j], sigma[j]);
    q += k;
  }
  return q > 0 ? 1.0 / q : 0.0;
}

/* ---- the store ---- */

typedef struct gen_ctx {
  const abc *A;
  uint32_t g, first;
} gen_ctx;

static void write_design(FILE *f, const void *ctx) {
  const gen_ctx *c = ctx;
  fprintf(f, "{\"calibration\": %s, \"generation\": %u, \"first_replicate\": %u}", c->A->config, c->g, c->first);
}

static void write_config(FILE *f, const void *ctx) {
  const abc *A = ctx;
  char *targets = NULL;
  cb_err e = {0};
  cb_targets_json(&A->T, &targets, &e);
  fprintf(f, "{\"particles\": %u, \"runs_per_particle\": %u, \"alpha\": %.17g, \"priors\": [", A->N, A->R, ABC_ALPHA);
  for (size_t j = 0; j < A->dn; j++) {
    fputs(j ? ", {\"key\": " : "{\"key\": ", f);
    cb_json_string(f, A->r[j].key);
    fprintf(f, ", \"low\": %.17g, \"high\": %.17g, \"scale\": \"%s\", \"integer\": %s}", A->r[j].lo, A->r[j].hi,
            A->r[j].log ? "log" : "linear", A->r[j].integer ? "true" : "false");
  }
  fprintf(f, "], \"targets\": %s}", targets ? targets : "null");
  free(targets);
}

/* Runs (or finds stored) candidates 0..n-1 of generation g and reads the statistics of those from
 * `from` on into stats_all. */
static int simulate(abc *A, uint32_t g, uint32_t first, uint32_t from, uint32_t n, int64_t *experiment) {
  cb_err *e = &A->X->err;
  cb_exp_point *pts = NULL;
  gen_ctx gc = {A, g, first};
  char *design = cb_exp_json_text(write_design, &gc);
  if (!design) return cb_err_set(e, CB_ENOMEM, "out of memory");
  if (!cb_exp_build_points(e, A->r, A->d, A->z_all, n, &pts)) {
    cb_exp_spec spec = {.kind = "calibration", .scenario_a = A->X->scenario, .points = pts, .npoints = n, .design = design,
                        .distinct_replicates = 1, .first_replicate = first};
    int64_t ids[2] = {0, 0};
    int ok = !cb_exp_run(A->X, &spec, A->db, A->R, A->jobs, ids);
    A->X->store_checked = 1; /* checked by the first call; only this command writes it since */
    if (ok) {
      *experiment = ids[0];
      cb_an_point_stats(A->db, ids[0], &A->T, from, n - from, A->R, A->stats_all + (size_t)from * A->W, e);
    }
  }
  cb_exp_free_points(pts, n);
  free(design);
  if (e->code) cb_err_prefix(e, "calibration generation %u: ", g);
  return e->code;
}

static int grow(abc *A, uint32_t need) {
  if (need <= A->cap) return CB_OK;
  uint32_t cap = A->cap ? A->cap : A->N;
  while (cap < need) cap *= 2;
  double *z = cb_xrealloc(&A->X->err, A->z_all, (size_t)cap * A->dn * sizeof *z);
  if (!z) return A->X->err.code;
  A->z_all = z;
  double *s = cb_xrealloc(&A->X->err, A->stats_all, (size_t)cap * (A->W ? A->W : 1) * sizeof *s);
  if (!s) return A->X->err.code;
  A->stats_all = s;
  A->cap = cap;
  return CB_OK;
}

static int alloc_population(cb_err *e, population *p, uint32_t n, size_t d, uint32_t W) {
  memset(p, 0, sizeof *p);
  p->stats = cb_xcalloc(e, (size_t)n * (W ? W : 1), sizeof *p->stats);
  p->z = cb_xcalloc(e, (size_t)n * d, sizeof *p->z);
  p->w = cb_xcalloc(e, n, sizeof *p->w);
  p->dist = cb_xcalloc(e, n, sizeof *p->dist);
  p->cand = cb_xcalloc(e, n, sizeof *p->cand);
  return e->code;
}

static void free_population(population *p) {
  free(p->z);
  free(p->w);
  free(p->dist);
  free(p->cand);
  free(p->stats);
  memset(p, 0, sizeof *p);
}

/* One generation: candidates in batches of N until N are within the tolerance (all of the first N
 * in generation 0). Returns 1 if it filled its population, 0 if it stopped the calibration. */
static int run_generation(abc *A, uint32_t g) {
  cb_err *e = &A->X->err;
  double sigma[CB_EXP_MAX_RANGES] = {0}, eps = INFINITY;
  if (g > 0) {
    kernel_sigma(A, &A->prev, sigma);
    /* the scales come from all of the last generation's simulations; the tolerance is the
     * ALPHA-quantile of its accepted particles' distances under them */
    if (update_scales(A, A->stats_all, A->ncand)) return 0;
    wv *a = cb_xcalloc(e, A->prev.n, sizeof *a);
    if (!a) return 0;
    for (uint32_t i = 0; i < A->prev.n; i++) /* prev.dist keeps the distances that accepted them */
      a[i] = (wv){distance(A, A->prev.stats + (size_t)i * A->W), A->prev.w[i]};
    eps = weighted_quantile(a, A->prev.n, ABC_ALPHA);
    free(a);
  }
  population *p = &A->pop;
  if (alloc_population(e, p, A->N, A->dn, A->W)) return 0;
  /* replicate numbers follow on from the last generation's, which used candidates x R of them */
  uint64_t first = A->nlog ? A->log[A->nlog - 1].first_replicate + (uint64_t)A->log[A->nlog - 1].candidates * A->R : 0;
  if (first + (uint64_t)A->N * ABC_MAX_BATCHES * A->R > UINT32_MAX) {
    cb_err_set(e, CB_EMISUSE, "generation %u would need replicate numbers past 2^32: use fewer --generations or --particles", g);
    return 0;
  }
  generation_log lg = {eps, (uint32_t)first, 0, 0, 0, 0};
  uint32_t batches = g == 0 ? 1 : ABC_MAX_BATCHES;
  for (uint32_t b = 0; b < batches && p->n < A->N && !e->code; b++) {
    uint32_t from = b * A->N, to = from + A->N;
    if (grow(A, to)) return 0;
    for (uint32_t c = from; c < to; c++) propose(A, g, c, sigma, A->z_all + (size_t)c * A->dn);
    if (simulate(A, g, lg.first_replicate, from, to, &lg.experiment)) return 0;
    lg.candidates = to;
    if (g == 0) update_scales(A, A->stats_all, to);
    for (uint32_t c = from; c < to && p->n < A->N; c++) {
      double dist = distance(A, A->stats_all + (size_t)c * A->W);
      if (g > 0 && !(dist <= eps)) continue;
      const double *z = A->z_all + (size_t)c * A->dn;
      memcpy(p->z + (size_t)p->n * A->dn, z, A->dn * sizeof *z);
      p->w[p->n] = g == 0 ? 1.0 : importance(A, z, sigma);
      p->dist[p->n] = dist;
      memcpy(p->stats + (size_t)p->n * A->W, A->stats_all + (size_t)c * A->W, (size_t)A->W * sizeof *p->stats);
      p->cand[p->n++] = c;
    }
  }
  A->ncand = lg.candidates;
  if (e->code) return 0;
  lg.accepted = p->n;
  if (p->n < A->N) {
    snprintf(A->stopped, sizeof A->stopped,
             "generation %u found %u of %u particles within the tolerance %.6g in %u candidates; the calibration ends with generation %u", g,
             p->n, A->N, eps, lg.candidates, g - 1);
    free_population(p);
    return 0;
  }
  double sw = 0, sw2 = 0;
  for (uint32_t i = 0; i < p->n; i++) sw += p->w[i];
  for (uint32_t i = 0; i < p->n; i++) {
    p->w[i] = sw > 0 ? p->w[i] / sw : 1.0 / p->n;
    sw2 += p->w[i] * p->w[i];
  }
  lg.ess = 1.0 / sw2;
  generation_log *l = cb_xrealloc(e, A->log, (size_t)(A->nlog + 1) * sizeof *l);
  population *h = l ? cb_xrealloc(e, A->history, (size_t)(A->nlog + 1) * sizeof *h) : NULL;
  if (!h) return 0;
  A->log = l;
  A->history = h;
  l[A->nlog] = lg;
  h[A->nlog] = *p; /* the history owns it; prev is a view of the last */
  A->nlog++;
  A->prev = *p;
  memset(p, 0, sizeof *p);
  return 1;
}

/* ---- outputs ---- */

static double param_value(const abc *A, const population *p, uint32_t i, size_t j) {
  return cb_exp_range_value(&A->r[j], p->z[(size_t)i * A->dn + j]);
}

static int write_posterior_csv(FILE *f, void *ctx, cb_err *e) {
  const abc *A = ctx;
  fputs("generation,particle,weight", f);
  for (size_t j = 0; j < A->dn; j++) fprintf(f, ",%s", A->r[j].key);
  fputs(",distance\n", f);
  for (int g = 0; g < A->nlog; g++) {
    const population *p = &A->history[g];
    for (uint32_t i = 0; i < p->n; i++) {
      fprintf(f, "%d,%u,%.17g", g, p->cand[i], p->w[i]);
      for (size_t j = 0; j < A->dn; j++) fprintf(f, ",%.17g", param_value(A, p, i, j));
      fprintf(f, ",%.17g\n", p->dist[i]);
    }
  }
  return ferror(f) ? cb_err_set(e, CB_EIO, "cannot write posterior.csv") : CB_OK;
}

static void json_number(FILE *f, double v) {
  if (isfinite(v)) fprintf(f, "%.17g", v);
  else fputs("null", f);
}

/* "mean": ..., "median": ..., "lo95": ..., "hi95": ... of weighted values */
static void write_summary(FILE *f, wv *a, uint32_t n) {
  double mean = 0;
  for (uint32_t i = 0; i < n; i++) mean += a[i].w * a[i].v;
  fputs("\"mean\": ", f);
  json_number(f, mean);
  fputs(", \"median\": ", f);
  json_number(f, weighted_quantile(a, n, 0.5));
  fputs(", \"lo95\": ", f);
  json_number(f, weighted_quantile(a, n, 0.025));
  fputs(", \"hi95\": ", f);
  json_number(f, weighted_quantile(a, n, 0.975));
}

static int write_posterior_json(FILE *f, void *ctx, cb_err *e) {
  const abc *A = ctx;
  const population *p = &A->history[A->nlog - 1];
  wv *a = cb_xcalloc(e, p->n, sizeof *a);
  if (!a) return e->code;
  fprintf(f, "{\n  \"method\": \"ABC-SMC\",\n  \"particles\": %u,\n  \"runs_per_particle\": %u,\n  \"master_seed\": %llu,\n", A->N, A->R,
          (unsigned long long)A->seed);
  fputs("  \"parameters\": {", f);
  for (size_t j = 0; j < A->dn; j++) {
    for (uint32_t i = 0; i < p->n; i++) a[i] = (wv){param_value(A, p, i, j), p->w[i]};
    fputs(j ? ",\n    " : "\n    ", f);
    cb_json_string(f, A->r[j].key);
    fputs(": {", f);
    write_summary(f, a, p->n);
    fprintf(f, ", \"prior\": {\"low\": %.17g, \"high\": %.17g, \"scale\": \"%s\"}}", A->r[j].lo, A->r[j].hi, A->r[j].log ? "log" : "linear");
  }
  fputs("\n  },\n  \"generations\": [", f);
  for (int g = 0; g < A->nlog; g++) {
    const generation_log *l = &A->log[g];
    fprintf(f, "%s\n    {\"generation\": %d, \"experiment\": %lld, \"tolerance\": ", g ? "," : "", g, (long long)l->experiment);
    json_number(f, l->tolerance);
    fprintf(f, ", \"candidates\": %u, \"simulations\": %u, \"accepted\": %u, \"acceptance_rate\": %.17g, \"ess\": %.17g}", l->candidates,
            l->candidates * A->R, l->accepted, (double)l->accepted / l->candidates, l->ess);
  }
  fputs("\n  ],\n  \"targets\": [", f);
  /* the posterior predictive check: each target's statistic over the final particles' simulations */
  uint32_t k = 0;
  for (int i = 0; i < A->T.n; i++) {
    const cb_target *t = &A->T.t[i];
    fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
    cb_json_string(f, t->name);
    fputs(", \"observed\": ", f);
    if (t->observed == CB_OBSERVED_VALUE) fprintf(f, "{\"value\": %.17g}", t->value);
    else if (t->observed == CB_OBSERVED_INTERVAL) fprintf(f, "{\"low\": %.17g, \"high\": %.17g}", t->low, t->high);
    else fprintf(f, "{\"series_points\": %u}", t->npoints);
    fputs(", \"scale\": ", f);
    json_number(f, A->scale[i]);
    if (cb_target_width(t) == 1) {
      for (uint32_t q = 0; q < p->n; q++) a[q] = (wv){p->stats[(size_t)q * A->W + k], p->w[q]};
      fputs(", \"simulated\": {", f);
      write_summary(f, a, p->n);
      fputc('}', f);
    }
    fputc('}', f);
    k += cb_target_width(t);
  }
  fputs("\n  ],\n  \"stopped\": ", f);
  if (A->stopped[0]) cb_json_string(f, A->stopped);
  else fputs("null", f);
  fputs("\n}\n", f);
  free(a);
  return ferror(f) ? cb_err_set(e, CB_EIO, "cannot write posterior.json") : CB_OK;
}

/* ---- the command ---- */

static void free_abc(abc *A) {
  cb_targets_free(&A->T);
  cb_exp_free_ranges(A->r, A->d);
  free(A->config);
  free(A->scale);
  free(A->stats_all);
  free(A->z_all);
  free(A->log);
  for (int g = 0; g < A->nlog; g++) free_population(&A->history[g]);
  free(A->history);
  free_population(&A->pop);
}

/* The targets, with what a reference run folder says of those observed from it. */
static int load_targets(abc *A, const char *targets, const char *observed) {
  cb_err *e = &A->X->err;
  if (cb_targets_load(&A->T, targets, e)) return e->code;
  if (!cb_targets_need_run(&A->T)) {
    if (observed) return cb_err_set(e, CB_EMISUSE, "--observed %s: no target of %s takes its value from a run (observed: run)", observed, targets);
    return CB_OK;
  }
  if (!observed)
    return cb_err_set(e, CB_EMISUSE, "%s: some targets are observed from a run (observed: run, or no observed key): give --observed RUN_DIR",
                      targets);
  rp_results ref;
  if (!cb_rp_results_load(&ref, observed, e)) {
    if (ref.from_store) cb_err_set(e, CB_EMISUSE, "--observed %s: give a run's output folder (contraband run --out DIR), not a store", observed);
    else cb_targets_observe(&A->T, &ref.exp[0], observed, e);
  }
  cb_rp_results_free(&ref);
  return e->code;
}

int cb_experiment_prior(cb_experiment *X, const char *range) { return cb_exp_add_range(X, "--prior", range); }

int cb_experiment_calibrate(cb_experiment *X, const char *targets, const char *observed, const char *db, const char *out,
                            uint32_t particles, uint32_t generations, uint32_t runs_per_particle, int jobs) {
  cb_err_clear(&X->err);
  cb_err *e = &X->err;
  if (cb_mpi_size() > 1)
    return cb_err_set(e, CB_EMISUSE, "calibrate runs its generations one after another and does not run under MPI yet; run it without mpirun "
                      "and use --jobs");
  if (!targets) return cb_err_set(e, CB_EMISUSE, "calibrate needs --targets TARGETS.yaml");
  if (X->n_vary == 0) return cb_err_set(e, CB_EMISUSE, "calibrate needs at least one --prior key.path=LOW:HIGH");
  if (particles < 2) return cb_err_set(e, CB_EMISUSE, "--particles must be at least 2");
  if (generations < 1) return cb_err_set(e, CB_EMISUSE, "--generations must be at least 1");
  if (runs_per_particle < 1) return cb_err_set(e, CB_EMISUSE, "--runs-per-particle must be at least 1");
  if ((uint64_t)particles * ABC_MAX_BATCHES * runs_per_particle > UINT32_MAX)
    return cb_err_set(e, CB_EMISUSE, "--particles x --runs-per-particle is too large");
  abc A = {.X = X, .db = db, .N = particles, .R = runs_per_particle, .jobs = jobs};
  if (!cb_exp_ranges(X, "--prior", A.r, &A.d) && !load_targets(&A, targets, observed)) {
    A.W = cb_an_width(&A.T);
    A.dn = (size_t)A.d;
    A.seed = X->seed_used = X->seed_set ? X->seed : cb_exp_scenario_seed(X);
    if (!e->code && (A.scale = cb_xcalloc(e, (size_t)A.T.n, sizeof *A.scale)) && !(A.config = cb_exp_json_text(write_config, &A)))
      cb_err_set(e, CB_ENOMEM, "out of memory");
  }
  for (uint32_t g = 0; g < generations && !e->code; g++) {
    if (!run_generation(&A, g)) break;
  }
  if (!e->code && A.nlog == 0) cb_err_set(e, CB_EMISUSE, "the first generation could not be completed");
  if (!e->code) {
    cb_output outs[2] = {{"posterior.csv", write_posterior_csv, &A}, {"posterior.json", write_posterior_json, &A}};
    cb_atomic_write_in(out, outs, 2, e);
  }
  free_abc(&A);
  X->store_checked = 0;
  return e->code;
}
