/* Global sensitivity analysis as pure arithmetic on arrays: the designs (which points in the unit
 * cube to run) and the estimators (which indices the outputs at those points give), with bootstrap
 * confidence intervals. Variance-based Sobol indices use Saltelli's (2010) design; screening uses
 * Morris's (1991) elementary effects with Campolongo et al.'s (2007) choice of trajectories. Nothing
 * here runs the model: callers map the unit coordinates onto parameter ranges, run, and pass the
 * outputs back. Every random draw is a counter-based Philox draw (engine/rng.h), so the same seed
 * gives the same design and the same intervals whatever the call order. */
#ifndef CB_ANALYSIS_SA_H
#define CB_ANALYSIS_SA_H

#include <stdint.h>

#include "engine/err.h"

#define CB_SA_MAX_DIM 20               /* GSL's Sobol sequence has 40 dimensions: A and B take d each */
#define CB_SA_MAX_SAMPLES (1u << 24)   /* base rows n (Sobol) or trajectories r (Morris) at most */
#define CB_SA_MORRIS_MAX_CANDIDATES 2000u /* the selection keeps a candidates x candidates matrix */
#define CB_SA_MAX_BOOT 100000u         /* bootstrap resamples at most */
#define CB_SA_MORRIS_LEVELS 4          /* the grid's levels when the caller passes 0 */

/* An estimate with its 95% bootstrap percentile interval (2.5% and 97.5% quantiles of the
 * estimates over the resamples, nboot of them, at most CB_SA_MAX_BOOT). With nboot = 0 there is no
 * interval: lo95 and hi95 are NaN. */
typedef struct cb_sa_interval {
  double estimate, lo95, hi95;
} cb_sa_interval;

/* ---- Sobol indices (Saltelli 2010) ---- */

/* Points in the Saltelli design for n base rows and d inputs: n * (d + 2); 0 if d is not in
 * 1..CB_SA_MAX_DIM, n is 0 or above CB_SA_MAX_SAMPLES, or the count does not fit in 32 bits. */
uint32_t cb_sa_saltelli_size(uint32_t n, int d);

/* The Saltelli (2010) design in unit coordinates. The base is the first n points of GSL's
 * 2d-dimensional Sobol sequence (GSL starts at (1/2, ..., 1/2): the all-zero point that opens the
 * mathematical sequence is never produced, so nothing needs skipping); row j gives A_j (its first d
 * coordinates) and B_j (its last d). out receives cb_sa_saltelli_size(n, d) points of d coordinates
 * each (row-major), in blocks of d + 2 points per j: A_j, B_j, then A_B^(1)_j ... A_B^(d)_j, where
 * A_B^(i)_j is A_j with coordinate i taken from B_j. Returns CB_OK, or CB_EMISUSE (n or d out of
 * range, out NULL) or CB_ENOMEM with the reason in e. */
int cb_sa_saltelli_points(uint32_t n, int d, double *out, cb_err *e);

typedef struct cb_sa_sobol_index {
  cb_sa_interval s1;   /* first-order index S_i */
  cb_sa_interval st;   /* total-order index S_Ti */
} cb_sa_sobol_index;

/* First-order and total Sobol indices of each of the d inputs from the model's outputs y at the
 * points of cb_sa_saltelli_points (same n, d, same order: n * (d + 2) values). With f(A), f(B) the
 * 2n outputs at the A and B points and V their variance (taken together, divided by 2n):
 *   S_i  = mean_j f(B_j) (f(A_B^(i)_j) - f(A_j)) / V            (Saltelli et al. 2010)
 *   S_Ti = mean_j (f(A_j) - f(A_B^(i)_j))^2 / 2 / V             (Jansen 1999)
 * (f(B_j) in S_i is taken less the mean of the 2n outputs: the same in expectation, and an output
 * far from zero then adds no noise). The intervals resample the rows j with replacement nboot times
 * and recompute every index (V included) from each resample; row k of resample b is row floor(u n),
 * u the draw of cb_rng_make(seed, 0), purpose CB_RNG_BOOTSTRAP, counters (b, k, 0). The estimates
 * do not depend on seed or nboot. Where V is 0 (the output did not vary) the index is 0, in the
 * estimate and in each resample alike, so a constant output gets estimates 0 and intervals [0, 0].
 * out receives d entries. Returns CB_OK, or CB_EMISUSE (n or d out of range, a non-finite output, named by its
 * index) or CB_ENOMEM with the reason in e. */
int cb_sa_sobol(const double *y, uint32_t n, int d, uint64_t seed, uint32_t nboot, cb_sa_sobol_index *out,
                cb_err *e);

/* ---- Morris elementary effects ---- */

/* Points in r Morris trajectories over d inputs: r * (d + 1); 0 if d is not in 1..CB_SA_MAX_DIM,
 * r is 0 or above CB_SA_MAX_SAMPLES, or the count does not fit in 32 bits. */
uint32_t cb_sa_morris_size(uint32_t r, int d);

/* r Morris (1991) trajectories on a grid of `levels` levels (even, at least 2; 0 means
 * CB_SA_MORRIS_LEVELS) {0, 1/(p-1), ..., 1} with step delta = p / (2 (p - 1)). A trajectory is d + 1
 * points: a base point whose coordinates are grid levels in [0, 1 - delta], each coordinate starting
 * at its base value if it moves up or at base + delta if it moves down, then d steps that each move
 * one coordinate by +-delta, every coordinate once, in a random order; every point stays on the grid
 * in [0, 1]. Following Campolongo et al. (2007), `candidates` (>= r, at most
 * CB_SA_MORRIS_MAX_CANDIDATES) such trajectories are drawn and the r of them with the largest spread
 * are kept: the spread of a set is sqrt(sum over its pairs of d_ml^2), where d_ml is the sum over
 * every point of trajectory m and every point of trajectory l of their Euclidean distance. Finding
 * the best set exactly is combinatorial; this keeps the greedy of Ruano et al. (2012): start from all
 * candidates and drop, one at a time, the candidate whose removal leaves the largest spread (the one
 * with the smallest sum of d_ml^2 to those still kept; ties drop the lowest-numbered) until r remain.
 * With candidates == r every draw is kept. The kept trajectories appear in the order they were drawn.
 * Trajectory c draws from cb_rng_make(seed, 0) with purpose CB_RNG_MORRIS, counters (c, i, 0) for
 * coordinate i: the draw's words give the coordinate's base level, its direction and its place in
 * the order (a Fisher-Yates shuffle). out receives cb_sa_morris_size(r, d) points of d coordinates.
 * Returns CB_OK, or CB_EMISUSE (an argument out of range) or CB_ENOMEM with the reason in e. */
int cb_sa_morris_points(uint32_t r, int d, int levels, uint32_t candidates, uint64_t seed, double *out,
                        cb_err *e);

/* The Campolongo spread, sqrt(sum over pairs m < l of d_ml^2), of r trajectories x laid out as
 * cb_sa_morris_points writes them (r * (d + 1) points of d coordinates); 0 for r < 2. */
double cb_sa_morris_spread(const double *x, uint32_t r, int d);

typedef struct cb_sa_morris_index {
  cb_sa_interval mu;       /* mean elementary effect */
  cb_sa_interval mu_star;  /* mean absolute elementary effect (Campolongo et al. 2007) */
  cb_sa_interval sigma;    /* sample standard deviation of the effects (divided by r - 1; 0 if r = 1) */
} cb_sa_morris_index;

/* Elementary effects from r trajectories x (laid out as cb_sa_morris_points writes them, in unit
 * coordinates or any other scale) and the outputs y at those r * (d + 1) points. The step from
 * point s - 1 to point s of a trajectory must change exactly one coordinate i (coordinates compare
 * exactly: an unchanged coordinate must be the same double), every coordinate once per trajectory;
 * its effect is EE_i = (y_s - y_(s-1)) / (x_s,i - x_(s-1),i). Per input: mu = mean EE_i, mu_star =
 * mean |EE_i|, sigma = sample standard deviation of EE_i. The intervals resample trajectories with
 * replacement nboot times (trajectory k of resample b is floor(u r), u the draw of
 * cb_rng_make(seed, 0), purpose CB_RNG_BOOTSTRAP, counters (b, k, 0)). out receives d entries.
 * Returns CB_OK, or CB_EMISUSE (an argument out of range, a non-finite x or y, a step that changes
 * no coordinate, several, or one already changed, each named by trajectory and step) or CB_ENOMEM
 * with the reason in e. */
int cb_sa_morris(const double *x, const double *y, uint32_t r, int d, uint64_t seed, uint32_t nboot,
                 cb_sa_morris_index *out, cb_err *e);

#endif
