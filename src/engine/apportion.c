/* Apportioning agents by shares (see apportion.h). */
#include "engine/apportion.h"

#include <math.h>

void cb_apportion(const double *shares, int n, uint32_t total, uint32_t *counts) {
  double rem[64];
  uint32_t given = 0;
  for (int i = 0; i < n; i++) {
    double exact = shares[i] * total;
    counts[i] = (uint32_t)exact;
    rem[i] = exact - counts[i];
    given += counts[i];
  }
  while (given < total) {
    int best = 0;
    for (int i = 1; i < n; i++)
      if (rem[i] > rem[best]) best = i;
    counts[best]++;
    rem[best] = -1;
    given++;
  }
}

int cb_interleave_next(const double *shares, int n, uint32_t placed, double *given) {
  int best = 0;
  double gap = -INFINITY;
  for (int i = 0; i < n; i++) {
    double g = shares[i] * (placed + 1) - given[i];
    if (g > gap) {
      gap = g;
      best = i;
    }
  }
  given[best] += 1;
  return best;
}
