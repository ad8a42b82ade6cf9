/* Apportioning agents by shares (see apportion.h). */
#include "engine/apportion.h"

#include <math.h>

/* Shares are validated to sum to 1 only within 1e-6, so they are divided by their sum: the floors
 * then never add up to more than total, which would overrun the caller's blocks. */
void cb_apportion(const double *shares, int n, uint32_t total, uint32_t *counts) {
  double rem[64], sum = 0;
  uint32_t given = 0;
  for (int i = 0; i < n; i++) sum += shares[i];
  for (int i = 0; i < n; i++) {
    double exact = sum > 0 ? shares[i] / sum * total : 0;
    counts[i] = (uint32_t)exact;
    rem[i] = exact - counts[i];
    given += counts[i];
  }
  while (given > total) { /* rounding of the quotient: take back from the smallest remainder */
    int worst = -1;
    for (int i = 0; i < n; i++)
      if (counts[i] > 0 && (worst < 0 || rem[i] < rem[worst])) worst = i;
    counts[worst]--;
    rem[worst] += 1;
    given--;
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
