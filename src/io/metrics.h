/* Metrics: named series with optional dimensions (place, channel, origin, category), accumulated
 * during each recording period and kept per period, then written as the tidy long-format
 * metrics.csv that later tools rely on (docs/outputs.md). Flows are summed over a period; stocks
 * (prices, counts of active traders) take their value at the period's end. */
#ifndef CB_IO_METRICS_H
#define CB_IO_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "contraband.h"
#include "engine/err.h"

typedef enum { CB_PLACE_NONE, CB_PLACE_MARKET, CB_PLACE_CROSSING, CB_PLACE_CHECKPOINT, CB_PLACE_HUB, CB_NPLACEKINDS } cb_place_kind;

enum { CB_DIM_CHANNEL = 1, CB_DIM_ORIGIN = 2, CB_DIM_CATEGORY = 4 };

typedef enum {
  CB_M_ORDERED_UNITS, CB_M_DELIVERED_UNITS, CB_M_SEIZED_UNITS, CB_M_RELABELED_UNITS,
  CB_M_PRICE_USD, CB_M_PRICE_WON, CB_M_INSPECTIONS, CB_M_BRIBES, CB_M_BRIBES_USD, CB_M_FINES,
  CB_M_FINES_USD, CB_M_CONFISCATIONS, CB_M_PRETEXTS, CB_M_BUYER_INCOME_USD, CB_M_BUYER_SPENDING_USD,
  CB_M_ACTIVE_TRADERS, CB_M_CANCELLED_ORDERS, CB_M_TRADER_ENTRIES, CB_M_TRADER_EXITS,
  CB_M_DECLARED_VALUE_USD, CB_M_TRUE_VALUE_USD, CB_M_WON_PER_USD, CB_M_SOLD_UNITS, CB_M_LANDED_COST_USD,
  CB_M_MARKUP, CB_M_FINES_AVOIDED_USD, CB_M_BASED_TRADERS, CB_M_TRADER_MOVES,
  CB_NMETRICS
} cb_metric_id;

typedef struct cb_metric_def {
  const char *name;
  cb_place_kind place;
  unsigned dims;
  int stock;            /* 1: value at period end; 0: sum over the period */
  const char *unit;
  const char *doc;
} cb_metric_def;

/* The definition of a metric (name, dimensions, unit, meaning). */
const cb_metric_def *cb_metric_def_of(cb_metric_id id);

typedef struct cb_metrics {
  int nplace[CB_NPLACEKINDS], nch, norig, ncat;
  const char *const *place_names[CB_NPLACEKINDS]; /* names per place kind, set by the caller */
  const char *const *channel_names, *const *origin_names, *const *category_names;
  uint32_t offset[CB_NMETRICS], size[CB_NMETRICS], nslots;
  uint32_t stride[CB_NMETRICS][4]; /* per place, channel, origin, category; 0 where a dimension is absent */
  double *cur;          /* [nslots] current period */
  double *hist;         /* [nperiods * nslots] */
  int32_t *period_start;
  uint32_t nperiods, cap_periods;
} cb_metrics;

/* Sizes every metric from the dimension counts; the name arrays must outlive the metrics. */
int cb_metrics_init(cb_metrics *m, cb_err *e);
void cb_metrics_free(cb_metrics *m);
/* Slot of a metric for given coordinates (use 0 for dimensions the metric does not have). */
static inline uint32_t cb_metrics_slot(const cb_metrics *m, cb_metric_id id, int place, int ch, int origin, int cat) {
  const uint32_t *s = m->stride[id];
  return m->offset[id] + (uint32_t)place * s[0] + (uint32_t)ch * s[1] + (uint32_t)origin * s[2] + (uint32_t)cat * s[3];
}
static inline void cb_metrics_add(cb_metrics *m, cb_metric_id id, int place, int ch, int origin, int cat, double v) {
  m->cur[cb_metrics_slot(m, id, place, ch, origin, cat)] += v;
}
static inline void cb_metrics_set(cb_metrics *m, cb_metric_id id, int place, int ch, int origin, int cat, double v) {
  m->cur[cb_metrics_slot(m, id, place, ch, origin, cat)] = v;
}
/* Closes the current period (which began on period_start): stores it and zeroes the flows. */
int cb_metrics_close_period(cb_metrics *m, int32_t period_start, cb_err *e);
/* Sum of a flow metric over all recorded periods and all coordinates (for totals). */
double cb_metrics_total(const cb_metrics *m, cb_metric_id id);
/* Writes metrics.csv: header date,metric,place,channel,origin,category,value; a series (metric and
 * coordinates) is written for every period if it is a stock or non-zero in at least one period. */
int cb_metrics_write_csv(const cb_metrics *m, FILE *f, cb_err *e);
#define CB_METRICS_CSV_HEADER "date,metric,place,channel,origin,category,value"
/* The rows of metrics.csv, one call each in file order (stocks in every period, flows where they
 * are not zero); stops at the first non-zero return of fn and returns it. */
typedef int (*cb_metrics_row_fn)(void *ctx, const cb_metric_row *row);
int cb_metrics_rows(const cb_metrics *m, cb_metrics_row_fn fn, void *ctx, cb_err *e);
/* How metrics.csv writes a value ("%.10g"); the results store's export writes the same. */
void cb_metrics_format_value(double v, char buf[32]);
int cb_metrics_write_row_csv(FILE *f, const cb_metric_row *r);  /* one data line; non-zero on error */
/* One CSV field as RFC 4180 has it: as it is, or in double quotes (a quote doubled) when it holds
 * a comma, a quote, CR or LF. */
void cb_csv_field(FILE *f, const char *s);

#endif
