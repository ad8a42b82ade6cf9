/* What a report reads: a run's output folder (metrics.csv and summary.json) or the experiments of
 * a results store, each brought into one shape, an experiment holding its runs' time series as a
 * dense [series][run][period] table (a missing row is zero, as docs/outputs.md says) and their
 * totals. Charts and figures are computed from this table only. */
#ifndef CB_REPORT_RESULTS_H
#define CB_REPORT_RESULTS_H

#include <stdint.h>

#include "engine/err.h"

/* A series' coordinates, as in metrics.csv ("" where a dimension does not apply). */
typedef struct rp_key {
  char *metric, *place, *channel, *origin, *category;
} rp_key;

typedef struct rp_experiment {
  int64_t id;           /* the store's experiment id; 0 for a run folder */
  int64_t parent_id;    /* a fork's parent in the store; 0 otherwise */
  char *kind;           /* "run", "ensemble", "fork" or "sweep" */
  char *scenario, *scenario_sha256, *version, *fork_day; /* fork_day: NULL unless forked */
  uint64_t master_seed;
  char **overrides;     /* the --set assignments, in order */
  uint32_t noverrides;
  uint32_t nruns;
  uint32_t *runs;       /* run numbers, ascending */
  uint32_t nseries;
  rp_key *series;       /* in metrics.csv's order of first appearance */
  uint32_t ndays;
  int32_t *days;        /* first day of each recording period, ascending */
  double *v;            /* [nseries][nruns][ndays] */
  uint32_t ntotals;
  char **total_names;   /* summary.json's totals and foreign_electronics_share.NAME */
  double *totals;       /* [ntotals][nruns]; NAN where a run lacks it */
} rp_experiment;

typedef struct rp_results {
  char *path;
  int from_store;
  int nexp;
  rp_experiment *exp;
} rp_results;

/* Reads a run's output folder or a results store (checked as every command checks it). Errors name
 * the file and, for metrics.csv, the line and column. */
int cb_rp_results_load(rp_results *r, const char *path, cb_err *e);
void cb_rp_results_free(rp_results *r);
/* The two files of a run folder, parsed from their bytes into x (file names them in messages):
 * summary.json (its identity and totals; metrics_sha gets its metrics_sha256) and metrics.csv
 * (its rows, as run x->runs[0] when the summary set one). cb_rp_results_load also checks that the
 * two belong together. */
int cb_rp_summary_parse(rp_experiment *x, const char *text, size_t len, const char *file, char metrics_sha[65], cb_err *e);
int cb_rp_metrics_parse(rp_experiment *x, const char *text, size_t len, const char *file, cb_err *e);
/* One experiment of an open store, as cb_rp_results_load reads each, with its runs first..last
 * only (path names the store in messages). */
struct cb_store;
int cb_rp_store_experiment(rp_experiment *x, struct cb_store *st, const char *path, int64_t id, uint32_t first, uint32_t last, cb_err *e);
/* Frees what an experiment holds (not the experiment itself). */
void cb_rp_experiment_free(rp_experiment *x);

static inline const double *rp_values(const rp_experiment *x, uint32_t series, uint32_t run) {
  return x->v + ((size_t)series * x->nruns + run) * x->ndays;
}
/* Index of a run number in x->runs, or -1. */
long cb_rp_run_index(const rp_experiment *x, uint32_t run);
/* Index of a total by name, or -1. */
int cb_rp_total_index(const rp_experiment *x, const char *name);

#endif
