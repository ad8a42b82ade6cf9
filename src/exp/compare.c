/* Policy comparison: two ensembles, A and B, over the same replicates (same master seed and run
 * numbers, hence common random numbers), and the effect of B against A on each key figure as the
 * mean of the paired differences with a Student-t 95% interval. Pairing removes the noise the
 * two worlds share, so a small effect shows with few runs, and A against itself gives exactly 0. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "exp/experiment.h"
#include "exp/store.h"
#include "io/files.h"
#include "io/metrics.h"
#include "io/summary.h"

/* The key figures, each a query over one experiment returning (key, run, value). Sums over an
 * absent series are 0 (metrics.csv omits flows that were always zero); an absent mean or share
 * leaves the run out of that figure's pairs. */
static const struct figure_query {
  const char *metric;  /* the figure's name in the table */
  const char *key;     /* what the key column holds, prefixed to each key ("" for none) */
  int absent_is_zero;
  const char *sql;
} figure_queries[] = {
    {"delivered_units", "crossing=", 1,
     "SELECT place, run, sum(value) FROM metrics WHERE experiment_id = ?1 AND metric = 'delivered_units' GROUP BY place, run"},
    {"delivered_units", "channel=", 1,
     "SELECT channel, run, sum(value) FROM metrics WHERE experiment_id = ?1 AND metric = 'delivered_units' GROUP BY channel, run"},
    {"foreign_electronics_share", "crossing=", 0,
     "SELECT substr(name, 27), run, value FROM summaries WHERE experiment_id = ?1 AND name LIKE 'foreign_electronics_share.%'"},
    {"price_usd_mean", "origin=", 0,
     "SELECT origin, run, avg(value) FROM metrics WHERE experiment_id = ?1 AND metric = 'price_usd' GROUP BY origin, run"},
    {"ordered_units", "tier=", 1,
     "SELECT substr(name, 23), run, value FROM summaries WHERE experiment_id = ?1 AND name LIKE 'ordered_units_by_tier.%'"},
    {"total", "", 1,
     "SELECT name, run, value FROM summaries WHERE experiment_id = ?1 AND name IN ('delivered_units', 'seized_units',"
     " 'bribes', 'bribes_usd', 'fines', 'fines_usd', 'confiscations', 'inspections', 'buyer_spending_usd')"},
};
#define NQUERIES (int)(sizeof figure_queries / sizeof *figure_queries)

static cb_exp_figure *find_or_add(cb_exp_figures *c, const char *key) {
  for (int i = 0; i < c->n; i++)
    if (c->f[i].query == c->query && !strcmp(c->f[i].key, key)) return &c->f[i];
  if (c->n == c->cap) {
    int cap = c->cap ? 2 * c->cap : 32;
    cb_exp_figure *a = cb_xrealloc(&c->X->err, c->f, (size_t)cap * sizeof *a);
    if (!a) return NULL;
    c->f = a;
    c->cap = cap;
  }
  cb_exp_figure *f = &c->f[c->n];
  memset(f, 0, sizeof *f);
  f->query = c->query;
  f->absent_is_zero = figure_queries[c->query].absent_is_zero;
  const struct figure_query *q = &figure_queries[c->query];
  int total = !strcmp(q->metric, "total");
  size_t len = strlen(q->key) + strlen(key) + 1;
  f->key = cb_xstrdup(&c->X->err, key);
  f->metric = cb_xstrdup(&c->X->err, total ? key : q->metric);
  if ((f->label = cb_xmalloc(&c->X->err, len))) snprintf(f->label, len, "%s%s", q->key, total ? "" : key);
  for (int s = 0; s < 2; s++) {
    f->v[s] = cb_xcalloc(&c->X->err, c->runs, sizeof(double));
    f->have[s] = cb_xcalloc(&c->X->err, c->runs, 1);
  }
  c->n++;
  return c->X->err.code ? NULL : f;
}

static void take(void *ctx, const char *key, uint32_t run, double value) {
  cb_exp_figures *c = ctx;
  if (c->X->err.code || run >= c->runs) return;
  cb_exp_figure *f = find_or_add(c, key);
  if (!f) return;
  f->v[c->side][run] = value;
  f->have[c->side][run] = 1;
}

int cb_exp_figures_read(cb_experiment *X, cb_store *st, const int64_t *experiment, int sides, uint32_t runs, cb_exp_figures *c) {
  memset(c, 0, sizeof *c);
  c->X = X;
  c->runs = runs;
  for (c->side = 0; c->side < sides && !X->err.code; c->side++)
    for (c->query = 0; c->query < NQUERIES && !X->err.code; c->query++)
      cb_store_figures(st, experiment[c->side], figure_queries[c->query].sql, take, c, &X->err);
  return X->err.code;
}

void cb_exp_figures_free(cb_exp_figures *c) {
  for (int i = 0; i < c->n; i++) {
    free(c->f[i].key);
    free(c->f[i].metric);
    free(c->f[i].label);
    for (int s = 0; s < 2; s++) {
      free(c->f[i].v[s]);
      free(c->f[i].have[s]);
    }
  }
  free(c->f);
  memset(c, 0, sizeof *c);
}

void cb_exp_free_effects(cb_experiment *X) {
  for (int i = 0; i < 2 * X->neffects; i++) free(X->effect_strings[i]);
  free(X->effect_strings);
  free(X->effects);
  X->effects = NULL;
  X->effect_strings = NULL;
  X->neffects = 0;
}

void cb_exp_paired_effect(const double *va, const uint8_t *has_a, const double *vb, const uint8_t *has_b, uint32_t runs,
                          int absent_is_zero, cb_effect *out) {
  double sa = 0, sb = 0, sd = 0, sdd = 0;
  uint32_t n = 0;
  for (uint32_t r = 0; r < runs; r++) {
    int ha = has_a[r], hb = has_b[r];
    if (!(ha && hb) && !absent_is_zero) continue;
    double a = ha ? va[r] : 0.0, b = hb ? vb[r] : 0.0, d = b - a;
    sa += a;
    sb += b;
    sd += d;
    sdd += d * d;
    n++;
  }
  out->n = n;
  out->mean_a = n ? sa / n : 0;
  out->mean_b = n ? sb / n : 0;
  out->effect = n ? sd / n : 0;
  out->ci_low = out->ci_high = out->effect;
  if (n >= 2) {
    double var = (sdd - sd * sd / n) / (n - 1);
    double half = gsl_cdf_tdist_Pinv(0.975, (double)(n - 1)) * sqrt(var > 0 ? var : 0) / sqrt((double)n);
    out->ci_low = out->effect - half;
    out->ci_high = out->effect + half;
  }
}

/* The paired effect of one figure over the runs where both sides have it. */
static void effect_of(const cb_exp_figure *f, uint32_t runs, int absent_is_zero, cb_effect *out) {
  cb_exp_paired_effect(f->v[0], f->have[0], f->v[1], f->have[1], runs, absent_is_zero, out);
}

static int build_effects(cb_experiment *X, cb_exp_figures *c) {
  cb_exp_free_effects(X);
  X->effects = cb_xcalloc(&X->err, (size_t)(c->n ? c->n : 1), sizeof *X->effects);
  X->effect_strings = cb_xcalloc(&X->err, (size_t)(2 * c->n + 1), sizeof *X->effect_strings);
  if (X->err.code) return X->err.code;
  for (int i = 0; i < c->n; i++) {
    char *metric = cb_xstrdup(&X->err, c->f[i].metric), *key = cb_xstrdup(&X->err, c->f[i].label);
    if (!key || !metric) {
      free(key);
      free(metric);
      return X->err.code;
    }
    X->effect_strings[2 * i] = metric;
    X->effect_strings[2 * i + 1] = key;
    cb_effect *e = &X->effects[X->neffects++];
    effect_of(&c->f[i], c->runs, c->f[i].absent_is_zero, e);
    e->metric = metric;
    e->key = key;
  }
  return CB_OK;
}

/* ---- writing the effects ---- */

static int write_csv(FILE *f, void *ctx, cb_err *e) {
  (void)e;
  const cb_experiment *X = ctx;
  fputs("metric,key,n,mean_a,mean_b,effect,ci_low,ci_high\n", f);
  for (int i = 0; i < X->neffects; i++) {
    const cb_effect *x = &X->effects[i];
    cb_csv_field(f, x->metric);
    fputc(',', f);
    cb_csv_field(f, x->key);
    fprintf(f, ",%u,%.10g,%.10g,%.10g,%.10g,%.10g\n", x->n, x->mean_a, x->mean_b, x->effect, x->ci_low, x->ci_high);
  }
  return ferror(f) ? -1 : 0;
}

typedef struct json_ctx {
  const cb_experiment *X;
  const char *scenario_b, *fork_day;
  uint32_t runs;
} json_ctx;

static int write_json(FILE *f, void *ctx, cb_err *e) {
  (void)e;
  const json_ctx *j = ctx;
  const cb_experiment *X = j->X;
  fputs("{\n  \"version\": ", f);
  cb_json_string(f, cb_version());
  fputs(",\n  \"a\": ", f);
  cb_json_string(f, X->scenario);
  fputs(",\n  \"b\": ", f);
  cb_json_string(f, j->scenario_b);
  fputs(",\n  \"fork_day\": ", f);
  if (j->fork_day) cb_json_string(f, j->fork_day);
  else fputs("null", f);
  fprintf(f, ",\n  \"runs\": %u,\n  \"confidence\": 0.95,\n  \"effects\": [", j->runs);
  for (int i = 0; i < X->neffects; i++) {
    const cb_effect *x = &X->effects[i];
    fputs(i ? ",\n    {\"metric\": " : "\n    {\"metric\": ", f);
    cb_json_string(f, x->metric);
    fputs(", \"key\": ", f);
    cb_json_string(f, x->key);
    fprintf(f, ", \"n\": %u, \"mean_a\": %.10g, \"mean_b\": %.10g, \"effect\": %.10g, \"ci_low\": %.10g, \"ci_high\": %.10g}",
            x->n, x->mean_a, x->mean_b, x->effect, x->ci_low, x->ci_high);
  }
  fputs("\n  ]\n}\n", f);
  return ferror(f) ? -1 : 0;
}

static int write_effects(cb_experiment *X, const char *scenario_b, const char *fork_day, uint32_t runs, const char *out_dir) {
  char path[4096];
  if (cb_mkdir_p(out_dir, &X->err)) return X->err.code;
  snprintf(path, sizeof path, "%s/effects.csv", out_dir);
  if (cb_atomic_write(path, write_csv, X, &X->err)) return X->err.code;
  json_ctx j = {X, scenario_b, fork_day, runs};
  snprintf(path, sizeof path, "%s/effects.json", out_dir);
  return cb_atomic_write(path, write_json, &j, &X->err);
}

/* ---- the comparison ---- */

int cb_experiment_compare(cb_experiment *X, const char *scenario_b, const char *fork_day, const char *db, uint32_t runs,
                          int jobs, const char *out_dir) {
  cb_err_clear(&X->err);
  cb_exp_free_effects(X);
  if (!X->scenario || !scenario_b) return cb_err_set(&X->err, CB_EMISUSE, "compare needs two scenarios, A and B");
  int64_t exp[2] = {0, 0};
  if (fork_day) {
    cb_exp_spec pair = {.scenario_a = X->scenario, .scenario_b = scenario_b, .fork_day = fork_day};
    if (cb_exp_run(X, &pair, db, runs, jobs, exp)) return X->err.code;
  } else {
    int64_t b[2] = {0, 0};
    cb_exp_spec a = {.scenario_a = X->scenario}, bb = {.scenario_a = scenario_b};
    if (cb_exp_run(X, &a, db, runs, jobs, exp) || cb_exp_run(X, &bb, db, runs, jobs, b)) return X->err.code;
    exp[1] = b[0];
  }
  if (cb_mpi_rank() > 0) return X->err.code; /* an MPI worker: rank 0 computes the effects */
  cb_store *st = NULL;
  cb_exp_figures c = {0};
  if (cb_store_open(&st, db, CB_STORE_CHECKED, &X->err) == CB_OK) /* checked by the runs above */
    cb_exp_figures_read(X, st, exp, 2, runs, &c);
  cb_store_close(st);
  if (!X->err.code && !build_effects(X, &c)) write_effects(X, scenario_b, fork_day, runs, out_dir);
  cb_exp_figures_free(&c);
  return X->err.code;
}

int cb_experiment_effect_count(const cb_experiment *X) { return X->neffects; }

const cb_effect *cb_experiment_effect(const cb_experiment *X, int i) {
  return i >= 0 && i < X->neffects ? &X->effects[i] : NULL;
}
