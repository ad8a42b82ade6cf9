/* Reading an analysis's runs back from the results store as target statistics per design point. */
#ifndef CB_ANALYSIS_OUTCOMES_H
#define CB_ANALYSIS_OUTCOMES_H

#include <stdint.h>

#include "analysis/targets.h"
#include "engine/err.h"

/* The number of values all of T's statistics take together (one per target, a series' points). */
uint32_t cb_an_width(const cb_targets *T);
/* For points first..first+npoints-1 of the experiment (runs point * replicates + r), the mean over
 * replicates r of every target's statistic: npoints rows of cb_an_width(T) values into out. */
int cb_an_point_stats(const char *db, int64_t experiment, const cb_targets *T, uint32_t first, uint32_t npoints, uint32_t replicates,
                      double *out, cb_err *e);

#endif
