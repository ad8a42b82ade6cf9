/* What the analyses read back from the store: each design point's target statistics, averaged over
 * its replicates (whichever replicate numbers the design gave them: shared across points for a
 * sensitivity design, distinct for a calibration's candidates). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/outcomes.h"
#include "exp/store.h"
#include "report/results.h"

uint32_t cb_an_width(const cb_targets *T) {
  uint32_t w = 0;
  for (int i = 0; i < T->n; i++) w += cb_target_width(&T->t[i]);
  return w;
}

int cb_an_point_stats(const char *db, int64_t experiment, const cb_targets *T, uint32_t first, uint32_t npoints, uint32_t replicates,
                      double *out, cb_err *e) {
  if (npoints == 0) return CB_OK;
  cb_store *st = NULL;
  rp_experiment x;
  memset(&x, 0, sizeof x);
  uint32_t w = cb_an_width(T);
  double *one = cb_xcalloc(e, w ? w : 1, sizeof *one);
  if (one && !cb_store_open(&st, db, CB_STORE_CHECKED, e) && !cb_rp_store_experiment(&x, st, db, experiment, first * replicates, (first + npoints) * replicates - 1, e)) {
    for (uint32_t p = 0; p < npoints && !e->code; p++) {
      double *o = out + (size_t)p * w;
      for (uint32_t k = 0; k < w; k++) o[k] = 0;
      for (uint32_t rep = 0; rep < replicates && !e->code; rep++) {
        uint32_t run = (first + p) * replicates + rep;
        long ri = cb_rp_run_index(&x, run);
        if (ri < 0) {
          cb_err_set(e, CB_EPARSE, "%s: experiment %lld lacks run %u, which was just stored; is another command writing the store?", db,
                     (long long)experiment, run);
          break;
        }
        double *q = o;
        for (int i = 0; i < T->n && !e->code; i++) {
          if (cb_target_compute(&T->t[i], &x, (uint32_t)ri, one, e)) break;
          for (uint32_t k = 0; k < cb_target_width(&T->t[i]); k++) *q++ += one[k] / replicates;
        }
      }
    }
  }
  free(one);
  cb_rp_experiment_free(&x);
  cb_store_close(st);
  return e->code;
}
