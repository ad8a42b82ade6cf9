/* The results store: one SQLite file holding experiments, their runs, every run's metrics (the
 * rows of metrics.csv) and totals; schema in docs/outputs.md. A run is written in one
 * transaction with its runs row, so a run is either wholly stored or absent: an interrupted
 * ensemble resumes by running exactly the runs that are absent. */
#ifndef CB_EXP_STORE_H
#define CB_EXP_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "contraband.h"
#include "engine/err.h"

typedef struct cb_store cb_store;

/* What identifies an experiment: the same identity names the same experiment, whose stored runs
 * an interrupted command finds again. */
typedef struct cb_store_experiment {
  const char *kind;            /* "ensemble" */
  const char *scenario;        /* path as given */
  const char *scenario_sha256;
  const char *overrides_json;  /* JSON array of the --set assignments, in order */
  uint64_t master_seed;
  const char *fork_day;                        /* a fork: the day B continues from A's state; NULL if none */
  const struct cb_store_experiment *parent;    /* a fork: A's experiment */
  const char *design;                          /* a sweep: its design (JSON); NULL otherwise */
} cb_store_experiment;

/* Opens a store for reading, or with CB_STORE_CREATE for writing (creating it if missing). An
 * existing file that is not a contraband store, one written by a newer schema, or one that fails
 * the integrity check and the runs' checksums is refused with a message naming it. The check reads
 * the whole store; CB_STORE_CHECKED skips it when the same command has just checked and written
 * the store itself. */
enum { CB_STORE_CREATE = 1, CB_STORE_CHECKED = 2 };
int cb_store_open(cb_store **out, const char *path, int mode, cb_err *e);
void cb_store_close(cb_store *s);
/* The experiment's id, inserting it if absent. */
int cb_store_experiment_id(cb_store *s, const cb_store_experiment *x, int64_t *id, cb_err *e);
/* Marks done[i] = 1 for every stored run i < n of the experiment. */
int cb_store_runs_done(cb_store *s, int64_t experiment, uint8_t *done, uint32_t n, cb_err *e);
/* A run's place in its experiment: its number there (unique), the sweep point (0 otherwise), the
 * replicate (the run number in its random draws) and the point's parameter values as JSON. */
typedef struct cb_store_run {
  uint32_t run, point, replicate;
  const char *parameters_json;
  double wall_seconds;
} cb_store_run;
/* Stores a finished run from its encoded results (exp/result.h): its metrics rows, totals and
 * runs row, in one transaction. */
int cb_store_put_run(cb_store *s, int64_t experiment, const cb_store_run *r, const uint8_t *result, size_t len, cb_err *e);
/* Runs a query over one experiment's results: sql has ?1 for the experiment id and returns rows
 * (key TEXT, run INTEGER, value REAL); fn gets each. */
typedef void (*cb_store_figure_fn)(void *ctx, const char *key, uint32_t run, double value);
int cb_store_figures(cb_store *s, int64_t experiment, const char *sql, cb_store_figure_fn fn, void *ctx, cb_err *e);
/* Runs any read query with ?1 bound to param and calls fn for each result row: a column holding a
 * number as num (text NULL), any other as text (NULL for SQL NULL; num 0); a non-zero return of fn
 * stops and is returned. */
#define CB_STORE_MAX_COLUMNS 16
typedef struct cb_store_row {
  int n;
  const char *const *text;
  const double *num;
} cb_store_row;
typedef int (*cb_store_row_fn)(void *ctx, const cb_store_row *row);
int cb_store_query(cb_store *s, const char *sql, int64_t param, cb_store_row_fn fn, void *ctx, cb_err *e);
/* The same with ?1..?nparams bound to params. */
int cb_store_query_params(cb_store *s, const char *sql, const int64_t *params, int nparams, cb_store_row_fn fn, void *ctx, cb_err *e);
/* Writes every stored metrics row as CSV: experiment,run and then metrics.csv's columns, ordered
 * by experiment, run, date and the row order of metrics.csv; values formatted as there. When any
 * run has parameters (a sweep's), point,replicate and one column per parameter key (the union over
 * the store, in order of first appearance) come after experiment,run; a cell is empty where a run
 * lacks the key. A run's parameters that are not a JSON object are refused (CB_EIO). */
int cb_store_export_csv(cb_store *s, FILE *f, cb_err *e);
/* Writes one CSV row per stored run, ordered by experiment and run: experiment,kind,run,point,
 * replicate,seed, the parameter columns as above (if any), then one column per total name in
 * summaries (sorted by name), formatted as metrics.csv's values; empty where a run lacks it. */
int cb_store_export_summaries_csv(cb_store *s, FILE *f, cb_err *e);

#endif
