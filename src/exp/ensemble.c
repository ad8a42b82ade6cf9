/* Experiments: many runs of one scenario. An ensemble runs replicates 0..N-1 of a scenario (the
 * master seed with run i in every random draw's counter) on a pool of worker threads, and the
 * calling thread stores each finished run in the results store in a transaction of its own.
 * Each run is a pure function of (scenario, overrides, seed, run), so what is stored does not
 * depend on the number of threads or on the order runs finish in. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contraband.h"
#include "engine/err.h"
#include "exp/experiment.h"
#include "exp/mpi.h"
#include "exp/result.h"
#include "exp/store.h"
#include "model/snapshot.h"
#include "io/files.h"
#include "io/summary.h"

cb_experiment *cb_experiment_new(void) { return cb_xcalloc(NULL, 1, sizeof(cb_experiment)); }

void cb_experiment_free(cb_experiment *X) {
  if (!X) return;
  cb_exp_free_effects(X);
  for (int i = 0; i < X->n_vary; i++) free(X->vary[i]);
  free(X->vary);
  for (int i = 0; i < X->n_overrides; i++) free(X->overrides[i]);
  free(X->overrides);
  free(X->scenario);
  free(X);
}

int cb_experiment_errcode(const cb_experiment *X) { return X ? X->err.code : CB_ENOMEM; }
const char *cb_experiment_errmsg(const cb_experiment *X) { return X ? (X->err.code ? X->err.msg : "no error") : "out of memory"; }

int cb_experiment_scenario(cb_experiment *X, const char *path) {
  cb_err_clear(&X->err);
  free(X->scenario);
  X->scenario = cb_xstrdup(&X->err, path);
  return X->scenario ? CB_OK : X->err.code;
}

int cb_experiment_set(cb_experiment *X, const char *assignment) {
  cb_err_clear(&X->err);
  char **o = cb_xrealloc(&X->err, X->overrides, (size_t)(X->n_overrides + 1) * sizeof *o);
  if (!o) return X->err.code;
  X->overrides = o;
  if (!(o[X->n_overrides] = cb_xstrdup(&X->err, assignment))) return X->err.code;
  X->n_overrides++;
  return CB_OK;
}

int cb_experiment_seed(cb_experiment *X, uint64_t master_seed) {
  X->seed = master_seed;
  X->seed_set = 1;
  return CB_OK;
}

int cb_experiment_threads(cb_experiment *X, int threads) {
  cb_err_clear(&X->err);
  if (threads < 1 || threads > 256) return cb_err_set(&X->err, CB_EMISUSE, "--threads must be from 1 to 256");
  X->threads = threads;
  return CB_OK;
}

int cb_experiment_max_memory(cb_experiment *X, uint64_t bytes) {
  cb_err_clear(&X->err);
  X->max_memory = bytes;
  return CB_OK;
}

int cb_experiment_check(cb_experiment *X, int on) {
  X->check = on != 0;
  return CB_OK;
}

int cb_experiment_progress(cb_experiment *X, cb_progress_fn fn, void *ctx) {
  X->progress = fn;
  X->progress_ctx = ctx;
  return CB_OK;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A simulation of replicate `run` of a scenario at a sweep point (NULL: none), initialised; NULL
 * with e set (the simulation's own message). */
static cb_sim *make_run(const cb_experiment *X, const char *scenario, const cb_exp_point *pt, uint32_t run, cb_err *e) {
  cb_sim *S = cb_new();
  if (!S) {
    cb_err_set(e, CB_ENOMEM, "out of memory creating run %u", run);
    return NULL;
  }
  int rc = cb_read_scenario(S, scenario);
  for (int i = 0; i < X->n_overrides && !rc; i++) rc = cb_set(S, X->overrides[i]);
  for (int i = 0; pt && i < pt->n && !rc; i++) rc = cb_set(S, pt->sets[i]);
  if (!rc && X->seed_set) rc = cb_set_seed(S, X->seed);
  if (!rc) rc = cb_set_run(S, run);
  if (!rc) rc = cb_set_check(S, X->check);
  if (!rc && X->threads > 1) rc = cb_set_threads(S, X->threads);
  if (!rc && X->max_memory > 0) rc = cb_set_max_memory(S, X->max_memory / (uint64_t)(X->jobs > 0 ? X->jobs : 1));
  if (!rc) rc = cb_init(S);
  if (rc) {
    cb_err_set(e, rc, "%s", cb_errmsg(S));
    cb_free(S);
    return NULL;
  }
  return S;
}

/* The --set assignments as a JSON array, part of the experiment's identity. */
static char *overrides_json(const cb_experiment *X, cb_err *e) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) {
    cb_err_set(e, CB_ENOMEM, "out of memory");
    return NULL;
  }
  fputc('[', f);
  for (int i = 0; i < X->n_overrides; i++) {
    if (i) fputc(',', f);
    cb_json_string(f, X->overrides[i]);
  }
  fputc(']', f);
  if (fclose(f) != 0) {
    free(buf);
    cb_err_set(e, CB_ENOMEM, "out of memory");
    return NULL;
  }
  return buf;
}

/* ---- the worker pool ---- */

/* What a pool runs: replicates of scenario A into experiment A and, for a forked comparison, of
 * scenario B continued from A's state on fork_day into experiment B. */
typedef struct plan {
  const char *scenario[2];
  int64_t experiment[2];
  const char *fork_day;      /* NULL: plain runs of A */
  const cb_exp_point *points;
  uint32_t replicates;       /* per point: run i is a replicate of point i / replicates */
  int distinct;              /* run i is replicate first + i, else i % replicates (cb_exp_spec) */
  uint32_t first;
} plan;

static uint32_t replicate_of(const plan *pl, uint32_t run) { return pl->distinct ? pl->first + run : run % pl->replicates; }

typedef struct finished {
  uint32_t run;
  cb_result res[2];  /* the encoded results to store (empty where not needed or failed) */
  double wall[2];
  cb_err err;        /* set if the replicate failed */
} finished;

typedef struct pool {
  const cb_experiment *X;
  const plan *plan;
  pthread_mutex_t lock;
  pthread_cond_t ready;
  const cb_exp_job *todo;       /* ascending by run */
  uint32_t ntodo, next;
  finished *out;         /* finished replicates not yet stored (at most ntodo) */
  uint32_t nout;
  int workers, stop;
} pool;

/* Runs S to its end and encodes its results into out; S is freed either way. */
static void finish(cb_sim *S, cb_result *out, cb_err *e) {
  if (cb_run(S)) cb_err_set(e, cb_errcode(S), "%s", cb_errmsg(S));
  else cb_result_encode(S, out, e);
  cb_free(S);
}

/* What a fork's summary names as the snapshot it continued from. */
static const char *fork_name(const plan *pl) { return pl->scenario[0]; }

/* Replicate j of a plan: A run to the end (or to the fork day, then snapshotted in memory and run
 * on only if A's run is to be stored), and B restored from that snapshot and run to the end. */
static void run_job(const cb_experiment *X, const plan *pl, const cb_exp_job *j, finished *f) {
  memset(f, 0, sizeof *f);
  f->run = j->run;
  double t0 = now_seconds();
  const cb_exp_point *pt = &pl->points[j->run / pl->replicates];
  uint32_t rep = replicate_of(pl, j->run);
  cb_sim *A = make_run(X, pl->scenario[0], pt, rep, &f->err);
  if (!A) return;
  if (!pl->fork_day) {
    finish(A, &f->res[0], &f->err);
    f->wall[0] = now_seconds() - t0;
    return;
  }
  uint8_t *snap = NULL;
  size_t len = 0;
  if (cb_run_until(A, pl->fork_day) || cb_snapshot_to_buffer(A, &snap, &len)) {
    cb_err_set(&f->err, cb_errcode(A), "%s", cb_errmsg(A));
    cb_free(A);
    return;
  }
  if (j->need[0]) finish(A, &f->res[0], &f->err);
  else cb_free(A);
  f->wall[0] = now_seconds() - t0;
  double t1 = now_seconds();
  cb_sim *B = f->err.code ? NULL : make_run(X, pl->scenario[1], pt, rep, &f->err);
  if (B && cb_snapshot_from_buffer(B, snap, len, fork_name(pl))) {
    cb_err_set(&f->err, cb_errcode(B), "%s", cb_errmsg(B));
    cb_free(B);
  } else if (B) {
    finish(B, &f->res[1], &f->err);
  }
  f->wall[1] = now_seconds() - t1;
  free(snap);
}

static void free_finished(finished *f) {
  free(f->res[0].buf);
  free(f->res[1].buf);
  f->res[0].buf = f->res[1].buf = NULL;
}

static void *worker(void *arg) {
  pool *P = arg;
  for (;;) {
    pthread_mutex_lock(&P->lock);
    if (P->stop || P->next == P->ntodo) {
      P->workers--;
      pthread_cond_signal(&P->ready);
      pthread_mutex_unlock(&P->lock);
      return NULL;
    }
    const cb_exp_job *j = &P->todo[P->next++];
    pthread_mutex_unlock(&P->lock);
    finished f;
    run_job(P->X, P->plan, j, &f);
    if (f.err.code) free_finished(&f);
    pthread_mutex_lock(&P->lock);
    P->out[P->nout++] = f;
    pthread_cond_signal(&P->ready);
    pthread_mutex_unlock(&P->lock);
  }
}

/* A finished replicate as the store sees it (its bytes still owned by f). */
static cb_exp_done done_of(const finished *f) {
  cb_exp_done d = {f->run, f->err.code, f->err.msg, {f->wall[0], f->wall[1]}, {f->res[0].buf, f->res[1].buf},
                   {f->res[0].len, f->res[1].len}, NULL, NULL};
  return d;
}

/* Stores a finished replicate (its results, or its failure as the experiment's error) and reports
 * progress. */
static int store_finished(cb_experiment *X, cb_store *st, const plan *pl, const cb_exp_done *d, cb_progress *pr, double t0) {
  int rc = X->err.code;
  if (d->code && !rc) rc = cb_err_set(&X->err, d->code, "run %u: %s", d->run, d->msg);
  if (!rc && d->run >= pr->total) rc = cb_err_set(&X->err, CB_EMISUSE, "a worker sent run %u of %u", d->run, pr->total);
  for (int k = 0; k < 2 && !rc; k++) {
    cb_store_run r = {d->run, d->run / pl->replicates, replicate_of(pl, d->run), pl->points[d->run / pl->replicates].json, d->wall[k]};
    if (d->data[k]) rc = cb_store_put_run(st, pl->experiment[k], &r, d->data[k], d->len[k], &X->err);
  }
  if (!rc) {
    pr->done++;
    pr->new_done++;
    pr->elapsed_seconds = now_seconds() - t0;
    if (X->progress) X->progress(X->progress_ctx, pr);
  }
  return rc;
}

/* Stores finished replicates as they come until every worker has stopped; the first failure (of
 * a run or of the store) stops the pool from starting more. */
static int drain(pool *P, cb_store *st, cb_experiment *X, cb_progress *pr, double t0) {
  pthread_mutex_lock(&P->lock);
  for (;;) {
    while (P->nout == 0 && P->workers > 0) pthread_cond_wait(&P->ready, &P->lock);
    if (P->nout == 0) break;
    finished f = P->out[--P->nout];
    pthread_mutex_unlock(&P->lock);
    cb_exp_done d = done_of(&f);
    int rc = store_finished(X, st, P->plan, &d, pr, t0);
    free_finished(&f);
    pthread_mutex_lock(&P->lock);
    if (rc) P->stop = 1;
  }
  pthread_mutex_unlock(&P->lock);
  return X->err.code;
}

/* ---- rank 0 of an MPI job: the pool's runs go to local threads and to other ranks alike ---- */

typedef struct serve_ctx {
  cb_experiment *X;
  pool *P;
  cb_store *st;
  cb_progress *pr;
  double t0;
} serve_ctx;

static int serve_next(void *ctx, cb_exp_job *j) {
  pool *P = ((serve_ctx *)ctx)->P;
  pthread_mutex_lock(&P->lock);
  int any = !P->stop && P->next < P->ntodo;
  if (any) *j = P->todo[P->next++];
  pthread_mutex_unlock(&P->lock);
  return any;
}

static int serve_store(void *ctx, const cb_exp_done *d) {
  serve_ctx *c = ctx;
  int rc = store_finished(c->X, c->st, c->P->plan, d, c->pr, c->t0);
  if (rc) {
    pthread_mutex_lock(&c->P->lock);
    c->P->stop = 1;
    pthread_mutex_unlock(&c->P->lock);
  }
  return rc;
}

/* Stores what the local threads finished; returns whether they may finish more. */
static int serve_local(void *ctx) {
  serve_ctx *c = ctx;
  pool *P = c->P;
  pthread_mutex_lock(&P->lock);
  while (P->nout > 0) {
    finished f = P->out[--P->nout];
    pthread_mutex_unlock(&P->lock);
    cb_exp_done d = done_of(&f);
    serve_store(c, &d);
    free_finished(&f);
    pthread_mutex_lock(&P->lock);
  }
  int active = P->workers > 0;
  pthread_mutex_unlock(&P->lock);
  return active;
}

static int run_pool(cb_experiment *X, const plan *pl, cb_store *st, const cb_exp_job *todo, uint32_t ntodo, int jobs,
                    cb_progress *pr) {
  pool P = {.X = X, .plan = pl, .todo = todo, .ntodo = ntodo};
  P.out = cb_xcalloc(&X->err, ntodo ? ntodo : 1, sizeof *P.out);
  if (!P.out) return X->err.code;
  pthread_mutex_init(&P.lock, NULL);
  pthread_cond_init(&P.ready, NULL);
  int n = jobs < (int)ntodo ? jobs : (int)ntodo; /* under MPI, rank 0 computes with these threads too */
  pthread_t *tid = cb_xcalloc(&X->err, (size_t)(n > 0 ? n : 1), sizeof *tid);
  double t0 = now_seconds();
  for (int i = 0; tid && i < n; i++) {
    pthread_mutex_lock(&P.lock);
    int rc = pthread_create(&tid[i], NULL, worker, &P);
    if (rc == 0) P.workers++;
    pthread_mutex_unlock(&P.lock);
    if (rc != 0) {
      cb_err_set(&X->err, CB_ENOMEM, "cannot start worker thread %d of %d; use fewer --jobs", i + 1, n);
      n = i;
      pthread_mutex_lock(&P.lock);
      P.stop = 1;
      pthread_mutex_unlock(&P.lock);
    }
  }
  if (tid && cb_mpi_size() > 1) {
    serve_ctx sc = {X, &P, st, pr, t0};
    cb_exp_serve_ops ops = {&sc, serve_next, serve_store, serve_local};
    cb_mpi_serve(&ops);
  } else if (tid) {
    drain(&P, st, X, pr, t0);
  }
  for (int i = 0; tid && i < n; i++) pthread_join(tid[i], NULL);
  for (uint32_t i = 0; i < P.nout; i++) free_finished(&P.out[i]);
  free(tid);
  free(P.out);
  pthread_cond_destroy(&P.ready);
  pthread_mutex_destroy(&P.lock);
  return X->err.code;
}

/* Identity of scenario's experiment: builds replicate 0 to check the scenario and overrides
 * (before the store is touched) and to learn the scenario's hash and seed. The probe is returned
 * in *probe if asked for. */
static int identify(cb_experiment *X, const char *scenario, const cb_exp_point *pt, char sha[65], uint64_t *seed,
                    cb_sim **probe) {
  cb_sim *S = make_run(X, scenario, pt, 0, &X->err);
  if (!S) return X->err.code;
  snprintf(sha, 65, "%s", cb_scenario_sha256(S));
  *seed = cb_seed(S);
  if (probe) *probe = S;
  else cb_free(S);
  return CB_OK;
}

static const cb_exp_point no_sweep = {0, NULL, "{}"};

uint64_t cb_exp_scenario_seed(cb_experiment *X) {
  uint64_t seed = 0;
  char sha[65];
  identify(X, X->scenario, NULL, sha, &seed, NULL);
  return seed;
}

/* Checks everything a run of the spec needs before the store is touched: every sweep point's
 * values, and for a fork that B fits A's world on the fork day. */
static int validate(cb_experiment *X, const cb_exp_spec *spec, const cb_exp_point *points, uint32_t npoints,
                    char sha[2][65], uint64_t seed[2]) {
  cb_sim *probe[2] = {NULL, NULL};
  int forked = spec->fork_day != NULL;
  for (uint32_t p = 1; p < npoints; p++)
    if (identify(X, spec->scenario_a, &points[p], sha[0], &seed[0], NULL)) {
      cb_err_prefix(&X->err, "%s point %u (%s): ", spec->kind ? spec->kind : "sweep", p, points[p].json);
      return X->err.code;
    }
  if (identify(X, spec->scenario_a, &points[0], sha[0], &seed[0], forked ? &probe[0] : NULL) || !forked) return X->err.code;
  uint8_t *snap = NULL;
  size_t len = 0;
  if (!identify(X, spec->scenario_b, &points[0], sha[1], &seed[1], &probe[1])) {
    cb_sim *bad = cb_snapshot_check_fork_day(probe[0], spec->fork_day) ? probe[0]
                  : cb_snapshot_check_fork_day(probe[1], spec->fork_day) ? probe[1]
                  : cb_snapshot_to_buffer(probe[0], &snap, &len) ? probe[0]
                  : cb_snapshot_from_buffer(probe[1], snap, len, spec->scenario_a) ? probe[1] : NULL;
    if (bad) cb_err_set(&X->err, cb_errcode(bad), "%s", cb_errmsg(bad));
  }
  free(snap);
  cb_free(probe[0]);
  cb_free(probe[1]);
  return X->err.code;
}

/* ---- the same pool across MPI ranks (exp/mpi.c) ---- */

typedef struct mpi_ctx {
  cb_experiment *X;
  cb_store *st;
  const plan *pl;
  cb_progress *pr;
  double t0;
  finished f;   /* a worker's current run */
} mpi_ctx;

static void mpi_release(void *ctx) { free_finished(ctx); }

static void mpi_run(void *ctx, const cb_exp_job *j, cb_exp_done *d) {
  mpi_ctx *c = ctx;
  if (c->X->err.code) { /* this rank could not even check the command: report that */
    *d = (cb_exp_done){j->run, c->X->err.code, c->X->err.msg, {0, 0}, {NULL, NULL}, {0, 0}, NULL, NULL};
    return;
  }
  run_job(c->X, c->pl, j, &c->f);
  *d = done_of(&c->f);
  d->release = mpi_release;
  d->release_ctx = &c->f;
}

int cb_exp_run(cb_experiment *X, const cb_exp_spec *spec, const char *db, uint32_t replicates, int jobs, int64_t experiment[2]) {
  const char *scenario_a = spec->scenario_a, *scenario_b = spec->scenario_b, *fork_day = spec->fork_day;
  const cb_exp_point *points = spec->npoints ? spec->points : &no_sweep;
  uint32_t npoints = spec->npoints ? spec->npoints : 1, runs = 0, ntodo = 0;
  int forked = fork_day != NULL;
  char sha[2][65] = {"", ""};
  uint64_t seed[2] = {0, 0};
  X->jobs = jobs;
  if (!scenario_a) cb_err_set(&X->err, CB_EMISUSE, "cb_experiment_ensemble: no scenario given");
  else if (replicates == 0) cb_err_set(&X->err, CB_EMISUSE, "--runs must be at least 1");
  else if (jobs < 1) cb_err_set(&X->err, CB_EMISUSE, "--jobs must be at least 1");
  else if ((uint64_t)npoints * replicates > UINT32_MAX) cb_err_set(&X->err, CB_EMISUSE, "too many runs: points x --runs must stay below 2^32");
  else if (spec->distinct_replicates && (uint64_t)spec->first_replicate + (uint64_t)npoints * replicates > UINT32_MAX)
    cb_err_set(&X->err, CB_EMISUSE, "too many runs: their replicate numbers would pass 2^32");
  else validate(X, spec, points, npoints, sha, seed);
  runs = X->err.code ? 0 : npoints * replicates;
  plan pl = {{scenario_a, scenario_b}, {0, 0}, fork_day, points, replicates, spec->distinct_replicates, spec->first_replicate};
  cb_progress pr = {0, runs, 0, 0.0};
  mpi_ctx mc = {X, NULL, &pl, &pr, now_seconds(), {0}};
  if (cb_mpi_rank() > 0) { /* an MPI worker: runs what rank 0 hands out, never opens the store */
    cb_mpi_work(mpi_run, &mc);
    return X->err.code;
  }
  char *ov = X->err.code ? NULL : overrides_json(X, &X->err);
  cb_store *st = NULL;
  uint8_t *done[2] = {NULL, NULL};
  cb_exp_job *todo = NULL;
  cb_store_experiment id[2] = {{spec->kind ? spec->kind : "ensemble", scenario_a, sha[0], ov, seed[0], NULL, NULL, spec->design}, {0}};
  if (forked) id[1] = (cb_store_experiment){"fork", scenario_b, sha[1], ov, seed[0], fork_day, &id[0], spec->design};
  if (!X->err.code && !cb_store_open(&st, db, CB_STORE_CREATE | (X->store_checked ? CB_STORE_CHECKED : 0), &X->err)) {
    for (int k = 0; k <= forked && !X->err.code; k++)
      if (!cb_store_experiment_id(st, &id[k], &experiment[k], &X->err) && (done[k] = cb_xcalloc(&X->err, runs, 1)))
        cb_store_runs_done(st, experiment[k], done[k], runs, &X->err);
    if (!X->err.code && (todo = cb_xcalloc(&X->err, runs, sizeof *todo)))
      for (uint32_t i = 0; i < runs; i++) {
        cb_exp_job j = {i, {(uint8_t)!done[0][i], (uint8_t)(forked && !done[1][i])}};
        if (j.need[0] || j.need[1]) todo[ntodo++] = j;
      }
  }
  pl.experiment[0] = experiment[0];
  pl.experiment[1] = forked ? experiment[1] : 0;
  pr.done = runs - ntodo;
  if (!X->err.code && X->progress) X->progress(X->progress_ctx, &pr);
  mc.st = st;
  mc.t0 = now_seconds();
  if (!X->err.code) run_pool(X, &pl, st, todo, ntodo, jobs, &pr);
  else if (cb_mpi_size() > 1) cb_mpi_serve(&(cb_exp_serve_ops){NULL, NULL, NULL, NULL}); /* tell every rank to stop */
  free(ov);
  free(done[0]);
  free(done[1]);
  free(todo);
  cb_store_close(st);
  return X->err.code;
}

int cb_experiment_ensemble(cb_experiment *X, const char *db, uint32_t runs, int jobs) {
  cb_err_clear(&X->err);
  int64_t experiment[2] = {0, 0};
  cb_exp_spec spec = {.scenario_a = X->scenario};
  return cb_exp_run(X, &spec, db, runs, jobs, experiment);
}

typedef int (*export_fn)(cb_store *s, FILE *f, cb_err *e);
typedef struct export_ctx {
  cb_store *st;
  export_fn fn;
} export_ctx;

static int write_export(FILE *f, void *ctx, cb_err *e) {
  const export_ctx *c = ctx;
  return c->fn(c->st, f, e);
}

static int export_store(cb_experiment *X, const char *db, const char *path, export_fn fn) {
  cb_err_clear(&X->err);
  cb_store *st = NULL;
  if (cb_store_open(&st, db, 0, &X->err) == CB_OK) {
    if (!strcmp(path, "-")) {
      if (!fn(st, stdout, &X->err) && fflush(stdout) != 0)
        cb_err_set(&X->err, CB_EIO, "export of %s: cannot write to standard output", db);
    } else {
      export_ctx c = {st, fn};
      cb_atomic_write(path, write_export, &c, &X->err);
    }
  }
  cb_store_close(st);
  return X->err.code;
}

int cb_experiment_export_csv(cb_experiment *X, const char *db, const char *path) {
  return export_store(X, db, path, cb_store_export_csv);
}

int cb_experiment_export_summaries_csv(cb_experiment *X, const char *db, const char *path) {
  return export_store(X, db, path, cb_store_export_summaries_csv);
}
