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
  b->slot = NULL;
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

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

cb_bucket *cb_buckets_take(cb_buckets *b, int32_t day) {
  cb_bucket *s = &b->slot[day % b->horizon];
  if (s->n > 1) qsort(s->ids, s->n, sizeof *s->ids, cmp_u32);
  return s;
}

void cb_buckets_clear(cb_buckets *b, int32_t day) { b->slot[day % b->horizon].n = 0; }

size_t cb_buckets_count(const cb_buckets *b) {
  size_t n = 0;
  for (int32_t i = 0; i < b->horizon; i++) n += b->slot[i].n;
  return n;
}
