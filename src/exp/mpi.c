/* Experiments across processes with MPI (Open MPI from Debian). Every rank runs the same command
 * and so builds the same plan; rank 0 alone opens the store, and hands out runs one at a time to
 * whichever rank asks (dynamic balancing: a slow run does not hold up the rest); the others run
 * what they are given and send back the encoded results (exp/result.h), which rank 0 stores as a
 * single process would. What is stored is therefore the same for any number of ranks.
 *
 * MPI's own state is per process; this file keeps whether this process joined an MPI job, its
 * rank and the job's size: the library's only process-wide state. A process started without
 * mpirun never initialises MPI (which would cost it a second). */
#include "exp/mpi.h"

#include "engine/err.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int joined, my_rank, world_size = 1;

enum { TAG_READY = 1, TAG_JOB, TAG_STOP, TAG_RESULT };

int cb_mpi_init(int *argc, char ***argv) {
  if (joined || (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_RANK"))) return CB_OK;
  if (MPI_Init(argc, argv) != MPI_SUCCESS) return CB_EMISUSE;
  joined = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &my_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  return CB_OK;
}

void cb_mpi_finalize(void) {
  if (joined) MPI_Finalize();
  joined = 0;
}

int cb_mpi_rank(void) { return my_rank; }
int cb_mpi_size(void) { return world_size; }

/* A result message: this header, then the two results' bytes. */
typedef struct result_header {
  uint32_t run;
  int32_t code;
  double wall[2];
  uint64_t len[2];
  char msg[CB_ERRMSG_MAX];
} result_header;

/* Receives one message if there is one (waiting up to a few milliseconds when nothing else is
 * to be done): stores a result, then answers the sender with the next job or a stop. Returns
 * whether the sender was told to stop, -1 if there was no message. */
static int serve_one(const cb_exp_serve_ops *ops, int block) {
  int flag = 0;
  MPI_Status st;
  MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
  if (!flag && !block) return -1;
  if (!flag) MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
  int count = 0;
  MPI_Get_count(&st, MPI_BYTE, &count);
  uint8_t *buf = cb_xmalloc(NULL, count > 0 ? (size_t)count : 1);
  if (!buf) return -1;
  MPI_Recv(buf, count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  if (st.MPI_TAG == TAG_RESULT && (size_t)count >= sizeof(result_header) && ops->store) {
    result_header h;
    memcpy(&h, buf, sizeof h);
    h.msg[sizeof h.msg - 1] = '\0';
    int ok = h.len[0] + h.len[1] <= (uint64_t)count - sizeof h;
    cb_exp_done d = {h.run, ok ? h.code : CB_EPARSE, ok ? h.msg : "a worker's message is shorter than it says",
                     {h.wall[0], h.wall[1]}, {h.len[0] ? buf + sizeof h : NULL, h.len[1] ? buf + sizeof h + h.len[0] : NULL},
                     {(size_t)h.len[0], (size_t)h.len[1]}, NULL, NULL};
    if (!ok) d.data[0] = d.data[1] = NULL;
    ops->store(ops->ctx, &d);
  }
  free(buf);
  cb_exp_job j;
  if (ops->next && ops->next(ops->ctx, &j)) {
    uint32_t job[3] = {j.run, j.need[0], j.need[1]};
    MPI_Send(job, 3, MPI_UINT32_T, st.MPI_SOURCE, TAG_JOB, MPI_COMM_WORLD);
    return 0;
  }
  MPI_Send(NULL, 0, MPI_BYTE, st.MPI_SOURCE, TAG_STOP, MPI_COMM_WORLD);
  return 1;
}

int cb_mpi_serve(const cb_exp_serve_ops *ops) {
  int waiting = world_size - 1, local = 1;
  while (waiting > 0 || local) {
    local = ops->local ? ops->local(ops->ctx) : 0;
    int r = waiting > 0 ? serve_one(ops, !local) : -1; /* with no local work left, wait for the other ranks */
    if (r > 0) waiting--;
    if (r < 0 && local) {
      struct timespec ts = {0, 500000};
      nanosleep(&ts, NULL);
    }
  }
  return CB_OK;
}

int cb_mpi_work(cb_exp_run_fn run, void *ctx) {
  MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_READY, MPI_COMM_WORLD);
  for (;;) {
    MPI_Status st;
    uint32_t job[3];
    MPI_Recv(job, 3, MPI_UINT32_T, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
    if (st.MPI_TAG == TAG_STOP) return CB_OK;
    cb_exp_job j = {job[0], {(uint8_t)job[1], (uint8_t)job[2]}};
    cb_exp_done d;
    memset(&d, 0, sizeof d);
    run(ctx, &j, &d);
    result_header h;
    memset(&h, 0, sizeof h);
    h.run = d.run;
    h.code = d.code;
    snprintf(h.msg, sizeof h.msg, "%s", d.msg ? d.msg : "");
    for (int k = 0; k < 2; k++) {
      h.wall[k] = d.wall[k];
      h.len[k] = d.len[k];
    }
    size_t total = sizeof h + d.len[0] + d.len[1];
    uint8_t *buf = cb_xmalloc(NULL, total);
    if (!buf) {
      h.code = CB_ENOMEM;
      h.len[0] = h.len[1] = 0;
      snprintf(h.msg, sizeof h.msg, "out of memory sending a run's results");
      total = sizeof h;
      buf = (uint8_t *)&h;
    } else {
      memcpy(buf, &h, sizeof h);
      if (d.len[0]) memcpy(buf + sizeof h, d.data[0], d.len[0]);
      if (d.len[1]) memcpy(buf + sizeof h + d.len[0], d.data[1], d.len[1]);
    }
    if (d.release) d.release(d.release_ctx);
    MPI_Send(buf, (int)total, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
    if (buf != (uint8_t *)&h) free(buf);
  }
}
