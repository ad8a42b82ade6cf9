/* Calibration targets: named summary statistics of a run's metrics rows (a sum, a mean, a share of
 * one selection of rows within another, or a series over recording periods) and what was observed
 * of each (a number, an interval, a CSV series, or the same statistic of a reference run). One
 * reader serves a run folder (--observed) and a results store, through the report's results table,
 * so a statistic means the same thing wherever it is computed. Format in docs/calibration.md. */
#ifndef CB_ANALYSIS_TARGETS_H
#define CB_ANALYSIS_TARGETS_H

#include <stdint.h>

#include "engine/err.h"
#include "report/results.h"

enum { CB_TARGET_SUM, CB_TARGET_MEAN, CB_TARGET_SHARE, CB_TARGET_SERIES };
enum { CB_OBSERVED_RUN, CB_OBSERVED_VALUE, CB_OBSERVED_INTERVAL, CB_OBSERVED_SERIES };
#define CB_TARGET_DIMS 5 /* metric, place, channel, origin, category: the columns of metrics.csv */

/* Rows whose every listed dimension takes one of the listed values (an unlisted dimension: any). */
typedef struct cb_target_filter {
  uint32_t n[CB_TARGET_DIMS];
  char **v[CB_TARGET_DIMS];
} cb_target_filter;

typedef struct cb_target {
  char *name;
  char *where;                 /* "file:line:col" of its definition, for messages */
  int statistic;               /* CB_TARGET_* */
  cb_target_filter select, part; /* part: a share's numerator, within select */
  int32_t from, to;            /* recording periods starting in [from, to] */
  int observed;                /* CB_OBSERVED_* */
  double value, low, high;     /* a value; an interval [low, high] */
  uint32_t npoints;            /* a series: the observed dates and values */
  int32_t *day;
  double *obs;
} cb_target;

typedef struct cb_targets {
  int n;
  cb_target *t;
} cb_targets;

/* Reads a targets file; every error names file:line:column, the key and what is allowed. */
int cb_targets_load(cb_targets *T, const char *path, cb_err *e);
void cb_targets_free(cb_targets *T);
/* Whether any target takes its observed value from a reference run (--observed). */
int cb_targets_need_run(const cb_targets *T);
/* Fills every CB_OBSERVED_RUN target from run 0 of x (a run folder); the target becomes a value,
 * or a series at every recording period in its dates. */
int cb_targets_observe(cb_targets *T, const rp_experiment *x, const char *path, cb_err *e);
/* The number of values target t's statistic has: 1, or a series' observed points. */
uint32_t cb_target_width(const cb_target *t);
/* Target t's statistic in run index ri of x (an index into x->runs), cb_target_width values into out.
 * A selection that matches no series of x is an error naming the target (a misspelt name). */
int cb_target_compute(const cb_target *t, const rp_experiment *x, uint32_t ri, double *out, cb_err *e);
/* How far values (cb_target_width of them) fall from what was observed, before scaling: the
 * difference from a value, the distance outside an interval (0 inside), or for a series the root
 * mean square of the differences. */
double cb_target_discrepancy(const cb_target *t, const double *values);
/* Writes the targets with their observed values as canonical JSON (part of a calibration's identity). */
int cb_targets_json(const cb_targets *T, char **out, cb_err *e);

#endif
