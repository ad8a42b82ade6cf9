/* Running an experiment's runs across MPI ranks (see mpi.c): rank 0 serves runs and stores their
 * results, the other ranks work. The pool in ensemble.c supplies how to run and store one. */
#ifndef CB_EXP_MPI_H
#define CB_EXP_MPI_H

#include <stddef.h>
#include <stdint.h>

#include "contraband.h"

/* A run to do: its number in the experiment, and which of its runs (A, and B of a fork) to keep. */
typedef struct cb_exp_job {
  uint32_t run;
  uint8_t need[2];
} cb_exp_job;

/* A finished run: its number, failure (code, msg) or encoded results (data, len; none where not
 * needed), and seconds taken. release, if set, frees what data points to. */
typedef struct cb_exp_done {
  uint32_t run;
  int code;
  const char *msg;
  double wall[2];
  const uint8_t *data[2];
  size_t len[2];
  void (*release)(void *ctx);
  void *release_ctx;
} cb_exp_done;

typedef void (*cb_exp_run_fn)(void *ctx, const cb_exp_job *j, cb_exp_done *d);     /* a worker runs one */

/* What rank 0 serves from (the pool in ensemble.c, which its own threads draw on too): the next
 * job (0 when none is left or the pool stopped), storing a finished one, and storing what the
 * local threads finished (returning whether they may finish more). NULL functions: no jobs. */
typedef struct cb_exp_serve_ops {
  void *ctx;
  int (*next)(void *ctx, cb_exp_job *j);
  int (*store)(void *ctx, const cb_exp_done *d);
  int (*local)(void *ctx);
} cb_exp_serve_ops;

/* Rank 0: hands out jobs one at a time to ranks asking for work and stores what they send, while
 * storing its own threads' results, until every other rank has been told to stop and the local
 * threads are done. */
int cb_mpi_serve(const cb_exp_serve_ops *ops);
/* Ranks above 0: asks rank 0 for runs and sends back their results until told to stop. */
int cb_mpi_work(cb_exp_run_fn run, void *ctx);

#endif
