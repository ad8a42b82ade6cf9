/* Day-indexed event buckets: a ring of per-day lists of integer ids (buyers due for review,
 * consignments reaching a checkpoint). Scheduling and taking a day's events are O(1) per event,
 * which keeps a million buyers cheap when each acts only a few times a year. */
#ifndef CB_ENGINE_BUCKETS_H
#define CB_ENGINE_BUCKETS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

typedef struct cb_bucket {
  uint32_t *ids;
  uint32_t n, cap;
} cb_bucket;

typedef struct cb_buckets {
  cb_bucket *slot;
  int32_t horizon;   /* number of slots, a power of two (a day's slot is a mask, not a division):
                        events may be scheduled at most horizon-1 days ahead */
  uint32_t *scratch; /* radix-sort buffer */
  uint32_t scratch_cap;
} cb_buckets;

int cb_buckets_init(cb_buckets *b, int32_t horizon, cb_err *e);
void cb_buckets_free(cb_buckets *b);
/* Schedules id on day (absolute day index >= 0). The caller guarantees day - today < horizon. */
int cb_buckets_push(cb_buckets *b, int32_t day, uint32_t id, cb_err *e);
/* The list for a day; the caller processes it and then calls cb_buckets_clear for that day.
 * Ids are sorted ascending first, so processing order never depends on scheduling order. */
cb_bucket *cb_buckets_take(cb_buckets *b, int32_t day, cb_err *e);
void cb_buckets_clear(cb_buckets *b, int32_t day);
/* Total ids scheduled (for accounting and snapshots). */
size_t cb_buckets_count(const cb_buckets *b);

#endif
