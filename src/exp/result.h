/* A finished run's results in one buffer: what the results store keeps of it (the seed, the rows
 * of its metrics.csv, its totals and route shares). A run is encoded as soon as it ends, so the
 * simulation's memory is freed at once, and the same bytes can travel between processes (MPI)
 * and be stored by whichever process owns the store. */
#ifndef CB_EXP_RESULT_H
#define CB_EXP_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "contraband.h"
#include "engine/err.h"

typedef struct cb_result {
  uint8_t *buf;
  size_t len, cap;
} cb_result;

/* Encodes S's results into r (its buffer malloc'd; free it with free(r->buf)). */
int cb_result_encode(cb_sim *S, cb_result *r, cb_err *e);

/* What a decoder calls back with. */
typedef struct cb_result_visitor {
  void *ctx;
  int (*row)(void *ctx, const cb_metric_row *row);          /* every metrics row, in file order */
  int (*total)(void *ctx, const char *name, double value);  /* every total and route share */
} cb_result_visitor;

/* Checks a result's framing and reads its seed; CB_EPARSE if it is malformed. */
int cb_result_seed(const uint8_t *buf, size_t len, uint64_t *seed, cb_err *e);
/* Calls the visitor for every row and total; stops at a non-zero return and returns it. */
int cb_result_visit(const uint8_t *buf, size_t len, const cb_result_visitor *v, cb_err *e);

#endif
