/* What the experiment commands share: the cb_experiment object (scenario, overrides, seed,
 * progress callback, the last comparison's effects) and the ensemble runner they build on. */
#ifndef CB_EXP_EXPERIMENT_H
#define CB_EXP_EXPERIMENT_H

#include <stdint.h>
#include <stdio.h>

#include "contraband.h"
#include "engine/err.h"

struct cb_experiment {
  cb_err err;
  char *scenario;
  char **overrides;
  int n_overrides;
  uint64_t seed;
  int seed_set, check, threads;
  int jobs;                  /* runs at a time in the current cb_exp_run */
  int store_checked;         /* the store was checked by this command, which alone has written it since:
                              * later cb_exp_run calls skip the full check (calibration generations) */
  uint64_t max_memory;       /* cb_experiment_max_memory: for all runs in progress together */
  cb_progress_fn progress;
  void *progress_ctx;
  char **vary;               /* the --vary ranges, as given (sweep.c) */
  int n_vary;
  uint64_t seed_used;        /* a sweep's master seed: --seed, else the scenario's */
  cb_effect *effects;        /* the last comparison's, see compare.c */
  char **effect_strings;     /* their metric and key strings, owned here */
  int neffects;
};

/* A point of a sweep: the --set assignments that give its parameter values, and those values as
 * a JSON object (stored with every run of the point). */
typedef struct cb_exp_point {
  int n;
  char **sets;
  char *json;
} cb_exp_point;

/* A parameter's range, key.path=LOW:HIGH[:log] (points.c). */
#define CB_EXP_MAX_RANGES 40 /* GSL's Sobol sequence goes to 40 dimensions */
typedef struct cb_exp_range {
  char *key;
  double lo, hi;
  int integer, log;
} cb_exp_range;
/* Parses one range given to option (named in messages). */
int cb_exp_parse_range(cb_err *e, const char *option, const char *spec, cb_exp_range *r);
/* Checks a range given to option and keeps it, as written, in X's list of ranges. */
int cb_exp_add_range(cb_experiment *X, const char *option, const char *spec);
/* X's ranges (cb_experiment_vary), parsed into r[0..*d-1]; a key given twice is refused (on failure none is kept: *d is 0). */
int cb_exp_ranges(cb_experiment *X, const char *option, cb_exp_range *r, int *d);
void cb_exp_free_ranges(cb_exp_range *r, int d);
/* The value at unit coordinate x in [0, 1]: uniform or log-uniform between the bounds, rounded for
 * an integer range. */
double cb_exp_range_value(const cb_exp_range *r, double x);
/* n points from their unit coordinates u (n x d): each point's --set assignments and JSON values. */
int cb_exp_build_points(cb_err *e, const cb_exp_range *r, int d, const double *u, uint32_t n, cb_exp_point **out);
void cb_exp_free_points(cb_exp_point *pts, uint32_t n);
/* Text written by write(f, ctx) into memory; NULL if memory ran out. */
char *cb_exp_json_text(void (*write)(FILE *, const void *), const void *ctx);

/* What to run: scenario A (and, with a fork day, B continued from A's state on that day), at
 * each sweep point (none: one point with no values), under the experiment kind and design. */
typedef struct cb_exp_spec {
  const char *kind;        /* "ensemble" (default) or "sweep" */
  const char *scenario_a, *scenario_b, *fork_day;
  const cb_exp_point *points;
  uint32_t npoints;
  const char *design;      /* a sweep's design as JSON, part of its identity; NULL otherwise */
  /* Zero: every point runs replicates 0..R-1 (common random numbers: points differ only by their
   * values). Nonzero: run i (point i / R) is replicate first_replicate + i, so no two runs share a
   * noise realisation (a calibration's candidates must not all be judged on one). */
  int distinct_replicates;
  uint32_t first_replicate;
} cb_exp_spec;

/* Runs the replicates 0..replicates-1 of every point that the store at db lacks; experiment[k]
 * gets the ids of A's (and B's) experiments. */
int cb_exp_run(cb_experiment *X, const cb_exp_spec *spec, const char *db, uint32_t replicates, int jobs, int64_t experiment[2]);

/* The key figures compare reports (deliveries by crossing and channel, foreign electronics shares,
 * prices by origin, orders by tier, totals), read per run from one or two experiments (compare.c). */
typedef struct cb_exp_figure {
  int query;
  char *key;           /* the query's key value */
  char *metric, *label; /* as compare's table names it: metric and key (e.g. delivered_units, crossing=sinuiju) */
  int absent_is_zero;  /* a run without a row counts as 0 (a flow), else it has no value (a mean or share) */
  double *v[2];        /* per side, per run */
  uint8_t *have[2];
} cb_exp_figure;
typedef struct cb_exp_figures {
  cb_experiment *X;
  cb_exp_figure *f;
  int n, cap, query, side;
  uint32_t runs;
} cb_exp_figures;
typedef struct cb_store cb_store;
/* The figures of runs 0..runs-1 of experiment[0..sides-1] (sides 1 or 2). */
int cb_exp_figures_read(cb_experiment *X, cb_store *st, const int64_t *experiment, int sides, uint32_t runs, cb_exp_figures *out);
void cb_exp_figures_free(cb_exp_figures *c);

/* The scenario's own seed (simulation.seed, with the overrides applied). */
uint64_t cb_exp_scenario_seed(cb_experiment *X);
/* Releases the last comparison's effects (compare.c). */
void cb_exp_free_effects(cb_experiment *X);
/* The effect of B against A over paired runs 0..runs-1: the mean of the differences B - A and its
 * Student-t 95% interval. A run missing on either side (has_* zero) counts as 0 when
 * absent_is_zero, else is left out. Fills everything in out but metric and key. */
void cb_exp_paired_effect(const double *va, const uint8_t *has_a, const double *vb, const uint8_t *has_b, uint32_t runs,
                          int absent_is_zero, cb_effect *out);

#endif
