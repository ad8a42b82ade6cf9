/* Key figures and effects (see figures.h). */
#include "report/figures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp/experiment.h"
#include "report/aggregate.h"

static rp_figure *add_figure(rp_figures *fs, const char *metric, const char *key, int absent_is_zero, cb_err *e) {
  rp_figure *a = cb_xrealloc(e, fs->f, (size_t)(fs->n + 1) * sizeof *a);
  if (!a) return NULL;
  fs->f = a;
  rp_figure *f = &a[fs->n++];
  memset(f, 0, sizeof *f);
  snprintf(f->metric, sizeof f->metric, "%s", metric);
  snprintf(f->key, sizeof f->key, "%s", key);
  f->absent_is_zero = absent_is_zero;
  f->v = cb_xcalloc(e, fs->nruns + 1, sizeof *f->v);
  f->has = cb_xcalloc(e, fs->nruns + 1, 1);
  return e->code ? NULL : f;
}

/* A figure summed (or, for prices, averaged) from the metrics over each whole run. */
static int from_metrics(rp_figures *fs, const rp_experiment *x, const char *metric, const char *key, const rp_filter *flt, cb_err *e) {
  rp_figure *f = add_figure(fs, metric, key, 1, e);
  if (!f) return e->code;
  if (cb_rp_select_total(x, flt, f->v, e) < 0) return e->code;
  memset(f->has, 1, x->nruns);
  return CB_OK;
}

/* One figure per value of a dimension of a metric ("crossing=sinuiju", ...). */
static int by_dim(rp_figures *fs, const rp_experiment *x, const char *metric, rp_dim dim, const char *keyname, const char *name, cb_err *e) {
  rp_filter base = {.metric = metric};
  const char **values = NULL;
  int n = cb_rp_dim_values(x, &base, dim, &values, e);
  for (int i = 0; i < n && !e->code; i++) {
    rp_filter f = base;
    cb_rp_filter_set(&f, dim, values[i]);
    char key[96];
    snprintf(key, sizeof key, "%s=%s", keyname, values[i]);
    from_metrics(fs, x, name, key, &f, e);
  }
  free(values);
  return e->code;
}

/* Each crossing's share of all delivered units over the run: from the two figures just made. */
static int route_shares(rp_figures *fs, const rp_experiment *x, int first, int ncross, const rp_figure *all, cb_err *e) {
  for (int i = 0; i < ncross && !e->code; i++) {
    char key[96];
    snprintf(key, sizeof key, "%s", fs->f[first + i].key);
    rp_figure *f = add_figure(fs, "route_share", key, 0, e);
    if (!f) break;
    const rp_figure *c = &fs->f[first + i];
    for (uint32_t r = 0; r < x->nruns; r++)
      if (all->v[r] > 0) {
        f->v[r] = c->v[r] / all->v[r];
        f->has[r] = 1;
      }
  }
  return e->code;
}

static int from_totals(rp_figures *fs, const rp_experiment *x, const char *total, const char *metric, const char *key, int share, cb_err *e) {
  int t = cb_rp_total_index(x, total);
  if (t < 0) return CB_OK;
  rp_figure *f = add_figure(fs, metric, key, !share, e);
  if (!f) return e->code;
  for (uint32_t r = 0; r < x->nruns; r++) {
    double v = x->totals[(size_t)t * x->nruns + r];
    f->has[r] = !isnan(v) && !(share && v < 0); /* a share of -1: no such deliveries in that run */
    f->v[r] = f->has[r] ? v : 0;
  }
  return CB_OK;
}

/* Each figure's median and 5-95% range over the runs that have it. */
static int spreads(rp_figures *fs, cb_err *e) {
  double *v = cb_xmalloc(e, (fs->nruns + 1) * sizeof *v);
  if (!v) return e->code;
  for (int i = 0; i < fs->n; i++) {
    rp_figure *f = &fs->f[i];
    f->n = 0;
    for (uint32_t r = 0; r < fs->nruns; r++)
      if (f->has[r]) v[f->n++] = f->v[r];
    cb_rp_quantiles(v, f->n, &f->mid, &f->lo, &f->hi);
  }
  free(v);
  return CB_OK;
}

static const char *const run_totals[] = {"delivered_units", "seized_units", "bribes", "bribes_usd", "fines",
                                         "fines_usd", "confiscations", "inspections", "buyer_spending_usd"};

int cb_rp_figures_of(const rp_experiment *x, rp_figures *fs, cb_err *e) {
  memset(fs, 0, sizeof *fs);
  fs->nruns = x->nruns;
  rp_figures all = {.nruns = x->nruns};
  rp_filter delivered = {.metric = "delivered_units"};
  if (from_metrics(&all, x, "delivered_units", "", &delivered, e)) goto done;
  int first = fs->n;
  if (by_dim(fs, x, "delivered_units", RP_DIM_PLACE, "crossing", "delivered_units", e)) goto done;
  if (route_shares(fs, x, first, fs->n - first, &all.f[0], e)) goto done;
  if (by_dim(fs, x, "delivered_units", RP_DIM_CHANNEL, "channel", "delivered_units", e)) goto done;
  for (uint32_t i = 0; i < x->ntotals && !e->code; i++)
    if (!strncmp(x->total_names[i], "foreign_electronics_share.", 26)) {
      char key[96];
      snprintf(key, sizeof key, "crossing=%s", x->total_names[i] + 26);
      from_totals(fs, x, x->total_names[i], "foreign_electronics_share", key, 1, e);
    }
  if (!e->code) by_dim(fs, x, "price_usd", RP_DIM_ORIGIN, "origin", "price_usd_mean", e);
  for (uint32_t i = 0; i < x->ntotals && !e->code; i++)
    if (!strncmp(x->total_names[i], "ordered_units_by_tier.", 22)) {
      char key[96];
      snprintf(key, sizeof key, "tier=%s", x->total_names[i] + 22);
      from_totals(fs, x, x->total_names[i], "ordered_units", key, 0, e);
    }
  for (size_t i = 0; i < sizeof run_totals / sizeof *run_totals && !e->code; i++)
    from_totals(fs, x, run_totals[i], run_totals[i], "", 0, e);
  if (!e->code) spreads(fs, e);
done:
  cb_rp_figures_free(&all);
  return e->code;
}

void cb_rp_figures_free(rp_figures *fs) {
  for (int i = 0; i < fs->n; i++) {
    free(fs->f[i].v);
    free(fs->f[i].has);
  }
  free(fs->f);
  memset(fs, 0, sizeof *fs);
}

static const rp_figure *find(const rp_figures *fs, const char *metric, const char *key) {
  for (int i = 0; i < fs->n; i++)
    if (!strcmp(fs->f[i].metric, metric) && !strcmp(fs->f[i].key, key)) return &fs->f[i];
  return NULL;
}

int cb_rp_effects(const rp_experiment *a, const rp_experiment *b, const rp_figures *fa, const rp_figures *fb, cb_effect **out, int *n,
                  cb_err *e) {
  *n = 0;
  uint32_t cap = a->nruns + 1;
  double *va = cb_xcalloc(e, cap, sizeof *va), *vb = cb_xcalloc(e, cap, sizeof *vb);
  uint8_t *ha = cb_xcalloc(e, cap, 1), *hb = cb_xcalloc(e, cap, 1);
  *out = cb_xcalloc(e, (size_t)fa->n + 1, sizeof **out);
  for (int i = 0; i < fa->n && !e->code; i++) {
    const rp_figure *x = &fa->f[i], *y = find(fb, x->metric, x->key);
    uint32_t k = 0; /* the pairs: run numbers both experiments hold */
    for (uint32_t r = 0, s = 0; r < a->nruns; r++) {
      while (s < b->nruns && b->runs[s] < a->runs[r]) s++;
      if (s == b->nruns || b->runs[s] != a->runs[r]) continue;
      va[k] = x->v[r];
      ha[k] = x->has[r];
      vb[k] = y ? y->v[s] : 0;
      hb[k] = y ? y->has[s] : 0;
      k++;
    }
    cb_effect *ef = &(*out)[(*n)++];
    cb_exp_paired_effect(va, ha, vb, hb, k, x->absent_is_zero, ef);
    ef->metric = x->metric;
    ef->key = x->key;
  }
  free(va), free(vb), free(ha), free(hb);
  return e->code;
}
