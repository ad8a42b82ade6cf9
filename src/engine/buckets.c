/* Day-indexed event buckets (see buckets.h). */
#include "engine/buckets.h"

#include <stdlib.h>
#include <string.h>

int cb_buckets_init(cb_buckets *b, int32_t horizon, cb_err *e) {
  if (horizon <= 0 || (horizon & (horizon - 1)))
    return cb_err_set(e, CB_EMISUSE, "buckets: horizon %d is not a power of two", (int)horizon);
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
  cb_bucket *s = &b->slot[day & (b->horizon - 1)];
  uint32_t *ids = cb_xgrow(e, s->ids, &s->cap, s->n, sizeof *ids, 16);
  if (!ids) return CB_ENOMEM;
  s->ids = ids;
  s->ids[s->n++] = id;
  return CB_OK;
}

/* Sorting a day's ids: insertion sort for a handful, otherwise an LSD radix sort with as few
 * passes as the largest id allows with digits of at most 11 bits (the count table stays in L1),
 * the bits split evenly between passes: buyer ids under 2^17 take two passes of 9 bits. */
#define RADIX_MAX_BITS 11

static void insertion_sort(uint32_t *a, uint32_t n) {
  for (uint32_t i = 1; i < n; i++) {
    uint32_t v = a[i], j = i;
    for (; j > 0 && a[j - 1] > v; j--) a[j] = a[j - 1];
    a[j] = v;
  }
}

static void radix_sort(uint32_t *a, uint32_t *tmp, uint32_t n) {
  uint32_t max = 0;
  for (uint32_t i = 0; i < n; i++) max = a[i] > max ? a[i] : max;
  int bits = 0;
  while (bits < 32 && (max >> bits) != 0) bits++;
  int passes = (bits + RADIX_MAX_BITS - 1) / RADIX_MAX_BITS, width = passes ? (bits + passes - 1) / passes : 0;
  uint32_t count[1u << RADIX_MAX_BITS], mask = (1u << width) - 1u, *src = a, *dst = tmp;
  for (int pass = 0, shift = 0; pass < passes; pass++, shift += width) {
    memset(count, 0, (mask + 1u) * sizeof *count);
    for (uint32_t i = 0; i < n; i++) count[(src[i] >> shift) & mask]++;
    uint32_t sum = 0;
    for (uint32_t d = 0; d <= mask; d++) {
      uint32_t c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (uint32_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & mask]++] = src[i];
    uint32_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != a) memcpy(a, src, n * sizeof *a);
}

cb_bucket *cb_buckets_take(cb_buckets *b, int32_t day, cb_err *e) {
  cb_bucket *s = &b->slot[day & (b->horizon - 1)];
  if (s->n < 2) return s;
  if (s->n <= 32) {
    insertion_sort(s->ids, s->n);
    return s;
  }
  if (b->scratch_cap < s->n) {
    uint32_t *t = cb_xrealloc(e, b->scratch, (size_t)s->cap * sizeof *t);
    if (!t) return NULL;
    b->scratch = t;
    b->scratch_cap = s->cap;
  }
  radix_sort(s->ids, b->scratch, s->n);
  return s;
}

/* A processed day's storage is released: the ring has thousands of slots and each would
 * otherwise keep an array sized for the busiest day it ever held (most of the memory). */
void cb_buckets_clear(cb_buckets *b, int32_t day) {
  cb_bucket *s = &b->slot[day & (b->horizon - 1)];
  free(s->ids);
  s->ids = NULL;
  s->n = s->cap = 0;
}

size_t cb_buckets_count(const cb_buckets *b) {
  size_t n = 0;
  for (int32_t i = 0; i < b->horizon; i++) n += b->slot[i].n;
  return n;
}
