/* The key figures of a report, one value per run: deliveries and the share of each crossing,
 * deliveries by channel, foreign electronics' share by crossing, mean prices by origin, and the
 * run totals. Shown as a median with a 5-95% range across runs, and for a comparison as the
 * paired effect of B against A with its 95% interval (the same statistics as compare). */
#ifndef CB_REPORT_FIGURES_H
#define CB_REPORT_FIGURES_H

#include <stdint.h>

#include "contraband.h"
#include "engine/err.h"
#include "report/results.h"

typedef struct rp_figure {
  char metric[64], key[96];
  int absent_is_zero;  /* a run without the figure counts as 0 (sums), or is left out (shares, means) */
  double *v;           /* [nruns] */
  uint8_t *has;        /* [nruns] */
  double mid, lo, hi;  /* median, 5% and 95% over the runs that have the figure */
  uint32_t n;          /* how many runs have it (0: none; then mid, lo and hi are 0) */
} rp_figure;

typedef struct rp_figures {
  int n;
  rp_figure *f;
  uint32_t nruns;
} rp_figures;

int cb_rp_figures_of(const rp_experiment *x, rp_figures *out, cb_err *e);
void cb_rp_figures_free(rp_figures *fs);

/* The effects of b against a on every figure of a, over the run numbers both hold. The effects'
 * metric and key point into fa, which must outlive them. */
int cb_rp_effects(const rp_experiment *a, const rp_experiment *b, const rp_figures *fa, const rp_figures *fb, cb_effect **out, int *n,
                  cb_err *e);

#endif
