/* Day-indexed event buckets (see buckets.h). */
#include "engine/buckets.h"

#include <stdlib.h>
#include <string.h>

int cb_buckets_init(cb_buckets *b, int32_t horizon, cb_err *e) {
  b->horizon = horizon;
  b->slot = cb_xcalloc(e, (size_t)horizon, sizeof *b->slot);
  return b->slot ? CB_OK : CB_ENOMEM;
}

void cb_buckets_free(cb_buckets *b) {
  if (!b->slot) return;
  for (int32_t i = 0; i < b->horizon; i++) free(b->slot[i].ids);
  free(b->slot);
  free(b->scratch);
  b->slot = NULL;
  b->scratch = NULL;
}

int cb_buckets_push(cb_buckets *b, int32_t day, uint32_t id, cb_err *e) {
  cb_bucket *s = &b->slot[day % b->horizon];
  if (s->n == s->cap) {
    uint32_t cap = s->cap ? s->cap * 2 : 16;
    uint32_t *ids = cb_xrealloc(e, s->ids, (size_t)cap * sizeof *ids);
    if (!ids) return CB_ENOMEM;
    s->ids = ids;
    s->cap = cap;
  }
  s->ids[s->n++] = id;
  return CB_OK;
}

/* LSD radix sort on 11-bit digits (three passes cover 32 bits): a day's bucket holds thousands
 * of ids, where this is several times faster than a comparison sort, and the small count table
 * keeps it cheap for small buckets too. */
static void radix_sort(uint32_t *a, uint32_t *tmp, uint32_t n) {
  uint32_t count[2048];
  uint32_t *src = a, *dst = tmp;
  for (int pass = 0; pass < 3; pass++) {
    int shift = 11 * pass;
    memset(count, 0, sizeof count);
    for (uint32_t i = 0; i < n; i++) count[(src[i] >> shift) & 0x7FFu]++;
    uint32_t sum = 0;
    for (uint32_t d = 0; d < 2048; d++) {
      uint32_t c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (uint32_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & 0x7FFu]++] = src[i];
    uint32_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != a) memcpy(a, src, n * sizeof *a);
}

cb_bucket *cb_buckets_take(cb_buckets *b, int32_t day, cb_err *e) {
  cb_bucket *s = &b->slot[day % b->horizon];
  if (s->n < 2) return s;
  if (b->scratch_cap < s->n) {
    uint32_t *t = cb_xrealloc(e, b->scratch, (size_t)s->cap * sizeof *t);
    if (!t) return NULL;
    b->scratch = t;
    b->scratch_cap = s->cap;
  }
  radix_sort(s->ids, b->scratch, s->n);
  return s;
}

void cb_buckets_clear(cb_buckets *b, int32_t day) { b->slot[day % b->horizon].n = 0; }

size_t cb_buckets_count(const cb_buckets *b) {
  size_t n = 0;
  for (int32_t i = 0; i < b->horizon; i++) n += b->slot[i].n;
  return n;
}
