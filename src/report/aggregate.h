/* From an experiment's table to what a chart or a figure shows: the series that match a filter,
 * summed (flows) or averaged (stocks) per run and period, and the median and 5-95% band of such
 * per-run series across the runs. Every number a report prints comes through here. */
#ifndef CB_REPORT_AGGREGATE_H
#define CB_REPORT_AGGREGATE_H

#include <stdint.h>

#include "engine/err.h"
#include "report/results.h"

/* Which series: NULL in a field matches any value. */
typedef struct rp_filter {
  const char *metric, *place, *channel, *origin, *category;
} rp_filter;

typedef enum { RP_DIM_PLACE, RP_DIM_CHANNEL, RP_DIM_ORIGIN, RP_DIM_CATEGORY, RP_NDIMS } rp_dim;

const char *cb_rp_dim_name(rp_dim d);
/* The dimension called name ("place", ...), or -1. */
int cb_rp_dim_of(const char *name);
/* The filter narrowed along a dimension to one value (NULL: any). */
void cb_rp_filter_set(rp_filter *f, rp_dim d, const char *value);
/* How many series match the filter. */
uint32_t cb_rp_count_matching(const rp_experiment *x, const rp_filter *f);
/* Whether the metric is a stock (a value at the period's end, averaged when series are combined)
 * rather than a flow (summed); -1 for an unknown metric. */
int cb_rp_metric_is_stock(const char *metric);
/* The metric's unit as docs/outputs.md gives it ("units", "USD", ...); "" if unknown. */
const char *cb_rp_metric_unit(const char *metric);

/* Per run and period, the sum (flow) or mean (stock) of the matching series:
 * out[run * ndays + period]. Returns how many series matched. */
uint32_t cb_rp_select(const rp_experiment *x, const rp_filter *f, double *out);
/* The same over the whole run: out[run] is the sum over periods (flows) or the mean (stocks).
 * Returns how many series matched, or -1 if memory ran out. */
int cb_rp_select_total(const rp_experiment *x, const rp_filter *f, double *out, cb_err *e);
/* The distinct values along dim of the series that match f, in order of first appearance
 * (pointers into x, valid while x lives). Returns the count, or -1 if memory ran out. */
int cb_rp_dim_values(const rp_experiment *x, const rp_filter *f, rp_dim dim, const char ***out, cb_err *e);

/* A band across runs: for each period, the median and the 5% and 95% quantiles (linear
 * interpolation between order statistics, GSL's quantile) of by_run[run * ndays + period]. */
typedef struct rp_band {
  uint32_t ndays;
  double *mid, *lo, *hi;
} rp_band;
int cb_rp_band_of(const double *by_run, uint32_t nruns, uint32_t ndays, rp_band *out, cb_err *e);
void cb_rp_band_free(rp_band *b);
/* Median, 5% and 95% of n values (the values are reordered). */
void cb_rp_quantiles(double *v, uint32_t n, double *mid, double *lo, double *hi);

#endif
