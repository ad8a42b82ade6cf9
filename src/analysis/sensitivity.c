/* Global sensitivity analysis of the model: which answers depend on which assumption. A design in
 * the unit cube (Saltelli's for Sobol indices, Campolongo's trajectories for Morris screening, both
 * from sa.c) is mapped onto the --vary ranges, every point is run for replicates 0..R-1 with the same
 * seeds at every point (common random numbers: seed noise is shared by the points, not read as
 * sensitivity), and each point's mean over its replicates of every key figure that compare reports,
 * and of every one-number target of a targets file, goes through the estimators. The design and every
 * run are stored (kind "sensitivity"), so a killed analysis resumes and --jobs or MPI ranks change
 * nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/outcomes.h"
#include "analysis/sa.h"
#include "analysis/targets.h"
#include "exp/experiment.h"
#include "exp/mpi.h"
#include "exp/store.h"
#include "io/files.h"
#include "io/summary.h"

#define SA_BOOT 1000u /* bootstrap resamples for every interval */

/* One output analysed: a key figure or a target, its value at every design point, its indices. */
typedef struct output {
  const char *figure, *key;  /* indices.csv's figure and key columns (borrowed from the figures or targets) */
  double *y;                 /* per point; NULL: left out (why says why) */
  const char *why;
  cb_sa_sobol_index *sobol;  /* d of them, for sobol */
  cb_sa_morris_index *morris;
} output;

typedef struct analysis {
  cb_experiment *X;
  const char *method, *db;
  int sobol;                 /* else morris */
  cb_exp_range r[CB_EXP_MAX_RANGES];
  int d;
  uint32_t samples, runs, npoints;
  double *u;                 /* npoints x d unit coordinates */
  uint64_t seed;
  int64_t experiment;
  cb_targets T;
  int have_targets;
  output *out;
  int nout;
} analysis;

/* ---- the design ---- */

static int design(analysis *A) {
  cb_err *e = &A->X->err;
  if (A->d > CB_SA_MAX_DIM) return cb_err_set(e, CB_EMISUSE, "sensitivity takes at most %d --vary parameters", CB_SA_MAX_DIM);
  A->npoints = A->sobol ? cb_sa_saltelli_size(A->samples, A->d) : cb_sa_morris_size(A->samples, A->d);
  if (A->npoints == 0) return cb_err_set(e, CB_EMISUSE, "--samples %u is out of range (1 to %u)", A->samples, CB_SA_MAX_SAMPLES);
  if (!(A->u = cb_xcalloc(e, (size_t)A->npoints * (size_t)A->d, sizeof *A->u))) return e->code;
  if (A->sobol) return cb_sa_saltelli_points(A->samples, A->d, A->u, e);
  /* Campolongo's selection from ten times as many candidate trajectories, as far as it goes */
  uint32_t candidates = A->samples * 10u;
  if (candidates > CB_SA_MORRIS_MAX_CANDIDATES) candidates = A->samples > CB_SA_MORRIS_MAX_CANDIDATES ? A->samples : CB_SA_MORRIS_MAX_CANDIDATES;
  if (candidates > CB_SA_MORRIS_MAX_CANDIDATES) return cb_err_set(e, CB_EMISUSE, "--samples for morris is at most %u", CB_SA_MORRIS_MAX_CANDIDATES);
  return cb_sa_morris_points(A->samples, A->d, 0, candidates, A->seed, A->u, e);
}

static void write_design(FILE *f, const void *ctx) {
  const analysis *A = ctx;
  fprintf(f, "{\"method\": \"%s\", \"samples\": %u, \"vary\": [", A->method, A->samples);
  for (int i = 0; i < A->d; i++) {
    fputs(i ? ", {\"key\": " : "{\"key\": ", f);
    cb_json_string(f, A->r[i].key);
    fprintf(f, ", \"low\": %.17g, \"high\": %.17g, \"integer\": %s, \"scale\": \"%s\"}", A->r[i].lo, A->r[i].hi,
            A->r[i].integer ? "true" : "false", A->r[i].log ? "log" : "linear");
  }
  fputs("]}", f);
}

static int run_design(analysis *A, uint32_t jobs) {
  cb_err *e = &A->X->err;
  cb_exp_point *pts = NULL;
  char *json = cb_exp_json_text(write_design, A);
  if (!json) return cb_err_set(e, CB_ENOMEM, "out of memory");
  if (!cb_exp_build_points(e, A->r, A->d, A->u, A->npoints, &pts)) {
    cb_exp_spec spec = {.kind = "sensitivity", .scenario_a = A->X->scenario, .points = pts, .npoints = A->npoints, .design = json};
    int64_t ids[2] = {0, 0};
    if (!cb_exp_run(A->X, &spec, A->db, A->runs, (int)jobs, ids)) A->experiment = ids[0];
  }
  cb_exp_free_points(pts, A->npoints);
  free(json);
  return e->code;
}

/* ---- the outputs at each point ---- */

static output *add_output(analysis *A, const char *figure, const char *key) {
  output *o = cb_xrealloc(&A->X->err, A->out, (size_t)(A->nout + 1) * sizeof *o);
  if (!o) return NULL;
  A->out = o;
  o = &A->out[A->nout++];
  memset(o, 0, sizeof *o);
  o->figure = figure;
  o->key = key;
  if (!(o->y = cb_xcalloc(&A->X->err, A->npoints, sizeof *o->y))) return NULL;
  return o;
}

/* A key figure's mean over each point's replicates; a mean or share missing from some run of a point
 * (nothing to average: no price, no deliveries) leaves the figure out. */
static int figure_outputs(analysis *A, const cb_exp_figures *F) {
  for (int i = 0; i < F->n && !A->X->err.code; i++) {
    const cb_exp_figure *f = &F->f[i];
    output *o = add_output(A, f->metric, f->label);
    if (!o) break;
    for (uint32_t p = 0; p < A->npoints && o->y; p++) {
      double s = 0;
      for (uint32_t r = 0; r < A->runs; r++) {
        uint32_t run = p * A->runs + r;
        if (!f->have[0][run] && !f->absent_is_zero) {
          o->why = "undefined in some runs (a mean or share of nothing)";
          free(o->y);
          o->y = NULL;
          break;
        }
        s += f->have[0][run] ? f->v[0][run] : 0.0;
      }
      if (o->y) o->y[p] = s / A->runs;
    }
  }
  return A->X->err.code;
}

static int target_outputs(analysis *A) {
  cb_err *e = &A->X->err;
  uint32_t W = cb_an_width(&A->T);
  double *stats = cb_xcalloc(e, (size_t)A->npoints * W, sizeof *stats);
  if (!stats || cb_an_point_stats(A->db, A->experiment, &A->T, 0, A->npoints, A->runs, stats, e)) {
    free(stats);
    return e->code;
  }
  for (int i = 0; i < A->T.n && !e->code; i++) { /* every target is one number: checked on loading */
    output *o = add_output(A, "target", A->T.t[i].name);
    for (uint32_t p = 0; o && p < A->npoints; p++) {
      o->y[p] = stats[(size_t)p * W + (uint32_t)i];
      if (!isfinite(o->y[p])) {
        o->why = "undefined at some point (a share of nothing)";
        free(o->y);
        o->y = NULL;
        break;
      }
    }
  }
  free(stats);
  return e->code;
}

static int indices(analysis *A) {
  cb_err *e = &A->X->err;
  for (int i = 0; i < A->nout && !e->code; i++) {
    output *o = &A->out[i];
    if (!o->y) continue;
    if (A->sobol) {
      if ((o->sobol = cb_xcalloc(e, (size_t)A->d, sizeof *o->sobol))) cb_sa_sobol(o->y, A->samples, A->d, A->seed, SA_BOOT, o->sobol, e);
    } else if ((o->morris = cb_xcalloc(e, (size_t)A->d, sizeof *o->morris))) {
      cb_sa_morris(A->u, o->y, A->samples, A->d, A->seed, SA_BOOT, o->morris, e);
    }
    if (e->code) cb_err_prefix(e, "%s %s: ", o->figure, o->key);
  }
  return e->code;
}

/* ---- writing ---- */

/* The indices of output o for parameter j: names and intervals, as many as the method has. */
static int index_list(const analysis *A, const output *o, int j, const char **names, cb_sa_interval *v) {
  if (A->sobol) {
    names[0] = "S1", v[0] = o->sobol[j].s1;
    names[1] = "ST", v[1] = o->sobol[j].st;
    return 2;
  }
  names[0] = "mu", v[0] = o->morris[j].mu;
  names[1] = "mu_star", v[1] = o->morris[j].mu_star;
  names[2] = "sigma", v[2] = o->morris[j].sigma;
  return 3;
}

static int write_csv(FILE *f, void *ctx, cb_err *e) {
  const analysis *A = ctx;
  fputs("method,figure,key,parameter,index,estimate,lo95,hi95\n", f);
  for (int i = 0; i < A->nout; i++) {
    const output *o = &A->out[i];
    for (int j = 0; o->y && j < A->d; j++) {
      const char *names[3];
      cb_sa_interval v[3];
      int n = index_list(A, o, j, names, v);
      for (int k = 0; k < n; k++) {
        fprintf(f, "%s,", A->method);
        cb_csv_field(f, o->figure);
        fputc(',', f);
        cb_csv_field(f, o->key);
        fputc(',', f);
        cb_csv_field(f, A->r[j].key);
        fprintf(f, ",%s,%.10g,%.10g,%.10g\n", names[k], v[k].estimate, v[k].lo95, v[k].hi95);
      }
    }
  }
  return ferror(f) ? cb_err_set(e, CB_EIO, "cannot write indices.csv") : CB_OK;
}

static int write_json(FILE *f, void *ctx, cb_err *e) {
  const analysis *A = ctx;
  fprintf(f, "{\n  \"method\": \"%s\",\n  \"samples\": %u,\n  \"points\": %u,\n  \"runs\": %u,\n  \"bootstrap\": %u,\n"
             "  \"master_seed\": %llu,\n  \"experiment\": %lld,\n  \"parameters\": [",
          A->method, A->samples, A->npoints, A->runs, SA_BOOT, (unsigned long long)A->seed, (long long)A->experiment);
  for (int j = 0; j < A->d; j++) {
    fputs(j ? ", " : "", f);
    cb_json_string(f, A->r[j].key);
  }
  fputs("],\n  \"outputs\": [", f);
  for (int i = 0; i < A->nout; i++) {
    const output *o = &A->out[i];
    fputs(i ? ",\n    {\"figure\": " : "\n    {\"figure\": ", f);
    cb_json_string(f, o->figure);
    fputs(", \"key\": ", f);
    cb_json_string(f, o->key);
    if (!o->y) {
      fputs(", \"left_out\": ", f);
      cb_json_string(f, o->why);
      fputc('}', f);
      continue;
    }
    fputs(", \"indices\": {", f);
    for (int j = 0; j < A->d; j++) {
      const char *names[3];
      cb_sa_interval v[3];
      int n = index_list(A, o, j, names, v);
      fputs(j ? ", " : "", f);
      cb_json_string(f, A->r[j].key);
      fputs(": {", f);
      for (int k = 0; k < n; k++)
        fprintf(f, "%s\"%s\": {\"estimate\": %.10g, \"lo95\": %.10g, \"hi95\": %.10g}", k ? ", " : "", names[k], v[k].estimate, v[k].lo95,
                v[k].hi95);
      fputc('}', f);
    }
    fputs("}}", f);
  }
  fputs("\n  ]\n}\n", f);
  return ferror(f) ? cb_err_set(e, CB_EIO, "cannot write indices.json") : CB_OK;
}

/* ---- the command ---- */

static void free_analysis(analysis *A) {
  for (int i = 0; i < A->nout; i++) {
    free(A->out[i].y);
    free(A->out[i].sobol);
    free(A->out[i].morris);
  }
  free(A->out);
  free(A->u);
  if (A->have_targets) cb_targets_free(&A->T);
  cb_exp_free_ranges(A->r, A->d);
}

/* The targets file, if any: every target one number (a series has no single index). */
static int load_targets(analysis *A, const char *targets) {
  if (!targets) return CB_OK;
  cb_err *e = &A->X->err;
  if (cb_targets_load(&A->T, targets, e)) return e->code;
  A->have_targets = 1;
  for (int i = 0; i < A->T.n; i++)
    if (cb_target_width(&A->T.t[i]) != 1)
      return cb_err_set(e, CB_EMISUSE, "%s: target %s: a series has no single sensitivity index; use sum, mean or share", A->T.t[i].where,
                        A->T.t[i].name);
  return CB_OK;
}

int cb_experiment_sensitivity(cb_experiment *X, const char *method, uint32_t samples, uint32_t runs, const char *targets, const char *db,
                              const char *out_dir, int jobs) {
  cb_err_clear(&X->err);
  cb_err *e = &X->err;
  if (!method || (strcmp(method, "sobol") && strcmp(method, "morris")))
    return cb_err_set(e, CB_EMISUSE, "--method '%s': use sobol or morris", method ? method : "");
  if (X->n_vary == 0) return cb_err_set(e, CB_EMISUSE, "sensitivity needs at least one --vary key.path=LOW:HIGH");
  if (samples == 0) return cb_err_set(e, CB_EMISUSE, "--samples must be at least 1");
  if (runs == 0) return cb_err_set(e, CB_EMISUSE, "--runs must be at least 1");
  analysis A = {.X = X, .method = method, .db = db, .sobol = !strcmp(method, "sobol"), .samples = samples, .runs = runs};
  if (!cb_exp_ranges(X, "--vary", A.r, &A.d) && !load_targets(&A, targets)) {
    A.seed = X->seed_used = X->seed_set ? X->seed : cb_exp_scenario_seed(X);
    if (!e->code && !design(&A)) run_design(&A, (uint32_t)jobs);
  }
  if (!e->code && cb_mpi_rank() == 0) {
    cb_store *st = NULL;
    cb_exp_figures F = {0};
    if (!cb_store_open(&st, db, CB_STORE_CHECKED, e) && !cb_exp_figures_read(X, st, &A.experiment, 1, A.npoints * runs, &F))
      figure_outputs(&A, &F); /* the outputs borrow F's names until written */
    cb_store_close(st);
    if (!e->code && A.have_targets) target_outputs(&A);
    if (!e->code) indices(&A);
    if (!e->code) {
      cb_output outs[2] = {{"indices.csv", write_csv, &A}, {"indices.json", write_json, &A}};
      cb_atomic_write_in(out_dir, outs, 2, e);
    }
    cb_exp_figures_free(&F);
  }
  free_analysis(&A);
  return e->code;
}
