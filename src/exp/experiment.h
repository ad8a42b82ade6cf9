/* What the experiment commands share: the cb_experiment object (scenario, overrides, seed,
 * progress callback, the last comparison's effects) and the ensemble runner they build on. */
#ifndef CB_EXP_EXPERIMENT_H
#define CB_EXP_EXPERIMENT_H

#include <stdint.h>

#include "contraband.h"
#include "engine/err.h"

struct cb_experiment {
  cb_err err;
  char *scenario;
  char **overrides;
  int n_overrides;
  uint64_t seed;
  int seed_set, check;
  cb_progress_fn progress;
  void *progress_ctx;
  cb_effect *effects;        /* the last comparison's, see compare.c */
  char **effect_strings;     /* their metric and key strings, owned here */
  int neffects;
};

/* Runs the replicates 0..runs-1 of scenario A missing from the store at db and, with a fork day,
 * those of scenario B continued from A's state on that day; experiment[k] gets the ids. */
int cb_exp_run(cb_experiment *X, const char *scenario_a, const char *scenario_b, const char *fork_day, const char *db,
               uint32_t runs, int jobs, int64_t experiment[2]);

/* Releases the last comparison's effects (compare.c). */
void cb_exp_free_effects(cb_experiment *X);

#endif
