/* Selections and bands (see aggregate.h). */
#include "report/aggregate.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <stdlib.h>
#include <string.h>

#include "io/metrics.h"

static const char *const dim_names[RP_NDIMS] = {"place", "channel", "origin", "category"};

const char *cb_rp_dim_name(rp_dim d) { return dim_names[d]; }

int cb_rp_dim_of(const char *name) {
  for (int d = 0; d < RP_NDIMS; d++)
    if (!strcmp(dim_names[d], name)) return d;
  return -1;
}

/* A series' coordinate along a dimension. */
static const char *rp_key_dim(const rp_key *k, rp_dim d) {
  switch (d) {
  case RP_DIM_PLACE: return k->place;
  case RP_DIM_CHANNEL: return k->channel;
  case RP_DIM_ORIGIN: return k->origin;
  default: return k->category;
  }
}

static const cb_metric_def *def_named(const char *metric) {
  for (int i = 0; i < CB_NMETRICS; i++)
    if (!strcmp(cb_metric_def_of((cb_metric_id)i)->name, metric)) return cb_metric_def_of((cb_metric_id)i);
  return NULL;
}

int cb_rp_metric_is_stock(const char *metric) {
  const cb_metric_def *d = def_named(metric);
  return d ? d->stock : -1;
}

const char *cb_rp_metric_unit(const char *metric) {
  const cb_metric_def *d = def_named(metric);
  return d ? d->unit : "";
}

static int matches(const rp_key *k, const rp_filter *f) {
  return (!f->metric || !strcmp(f->metric, k->metric)) && (!f->place || !strcmp(f->place, k->place)) &&
         (!f->channel || !strcmp(f->channel, k->channel)) && (!f->origin || !strcmp(f->origin, k->origin)) &&
         (!f->category || !strcmp(f->category, k->category));
}

void cb_rp_filter_set(rp_filter *f, rp_dim d, const char *value) {
  const char **slot[RP_NDIMS] = {&f->place, &f->channel, &f->origin, &f->category};
  *slot[d] = value;
}

uint32_t cb_rp_count_matching(const rp_experiment *x, const rp_filter *f) {
  uint32_t n = 0;
  for (uint32_t s = 0; s < x->nseries; s++) n += (uint32_t)matches(&x->series[s], f);
  return n;
}

uint32_t cb_rp_select(const rp_experiment *x, const rp_filter *f, double *out) {
  size_t cells = (size_t)x->nruns * x->ndays;
  memset(out, 0, cells * sizeof *out);
  uint32_t matched = 0;
  int stock = f->metric && cb_rp_metric_is_stock(f->metric) == 1;
  for (uint32_t s = 0; s < x->nseries; s++) {
    if (!matches(&x->series[s], f)) continue;
    matched++;
    for (uint32_t r = 0; r < x->nruns; r++) {
      const double *v = rp_values(x, s, r);
      double *o = out + (size_t)r * x->ndays;
      for (uint32_t d = 0; d < x->ndays; d++) o[d] += v[d];
    }
  }
  if (stock && matched > 1)
    for (size_t i = 0; i < cells; i++) out[i] /= matched;
  return matched;
}

int cb_rp_select_total(const rp_experiment *x, const rp_filter *f, double *out, cb_err *e) {
  double *by = cb_xmalloc(e, ((size_t)x->nruns * x->ndays + 1) * sizeof *by);
  if (!by) return -1;
  uint32_t matched = cb_rp_select(x, f, by);
  int stock = f->metric && cb_rp_metric_is_stock(f->metric) == 1;
  for (uint32_t r = 0; r < x->nruns; r++) {
    double t = 0;
    for (uint32_t d = 0; d < x->ndays; d++) t += by[(size_t)r * x->ndays + d];
    out[r] = stock && x->ndays ? t / x->ndays : t;
  }
  free(by);
  return (int)matched;
}

int cb_rp_dim_values(const rp_experiment *x, const rp_filter *f, rp_dim dim, const char ***out, cb_err *e) {
  const char **v = NULL;
  uint32_t n = 0, cap = 0;
  for (uint32_t s = 0; s < x->nseries; s++) {
    if (!matches(&x->series[s], f)) continue;
    const char *name = rp_key_dim(&x->series[s], dim);
    uint32_t i = 0;
    while (i < n && strcmp(v[i], name)) i++;
    if (i < n) continue;
    const char **a = cb_xgrow(e, v, &cap, n, sizeof *a, 8);
    if (!a) {
      free(v);
      return -1;
    }
    v = a;
    v[n++] = name;
  }
  *out = v;
  return (int)n;
}

void cb_rp_quantiles(double *v, uint32_t n, double *mid, double *lo, double *hi) {
  if (n == 0) {
    *mid = *lo = *hi = 0;
    return;
  }
  gsl_sort(v, 1, n);
  *mid = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.5);
  *lo = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.05);
  *hi = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.95);
}

int cb_rp_band_of(const double *by_run, uint32_t nruns, uint32_t ndays, rp_band *out, cb_err *e) {
  memset(out, 0, sizeof *out);
  out->ndays = ndays;
  out->mid = cb_xcalloc(e, ndays + 1, sizeof(double));
  out->lo = cb_xcalloc(e, ndays + 1, sizeof(double));
  out->hi = cb_xcalloc(e, ndays + 1, sizeof(double));
  double *col = cb_xcalloc(e, nruns + 1, sizeof(double));
  if (e->code) {
    free(col);
    cb_rp_band_free(out);
    return e->code;
  }
  for (uint32_t d = 0; d < ndays; d++) {
    for (uint32_t r = 0; r < nruns; r++) col[r] = by_run[(size_t)r * ndays + d];
    cb_rp_quantiles(col, nruns, &out->mid[d], &out->lo[d], &out->hi[d]);
  }
  free(col);
  return CB_OK;
}

void cb_rp_band_free(rp_band *b) {
  free(b->mid);
  free(b->lo);
  free(b->hi);
  memset(b, 0, sizeof *b);
}
