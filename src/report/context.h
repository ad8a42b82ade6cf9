/* What a report says about the world behind the numbers: the parameters in effect and the policy
 * events on the time axis, read again from the scenario file the results name (after checking its
 * SHA-256 against the one recorded) with the recorded overrides applied. */
#ifndef CB_REPORT_CONTEXT_H
#define CB_REPORT_CONTEXT_H

#include <stdint.h>

#include "engine/err.h"
#include "report/chart.h"
#include "report/results.h"

typedef struct rp_param {
  char *key, *value;
  int is_default;
  const char *unit, *doc; /* from the parameter table */
} rp_param;

typedef struct rp_event_info {
  char kind[16];        /* sanction, crackdown, campaign, closure, income shock */
  char name[64];
  int32_t start, end;   /* end == start for a dated event */
  char what[192];       /* a short description */
} rp_event_info;

typedef struct rp_context {
  int ok;               /* parameters and events could be read */
  char note[1024];      /* why not, when !ok */
  rp_param *params;
  int nparams;
  rp_event_info *events;
  int nevents;
} rp_context;

/* Reads the scenario of x: from `path` when given (its hash must match, else an error), else from
 * the path recorded in x (on a missing file or another hash, ctx->ok is 0 and ctx->note says why;
 * this is not an error). */
int cb_rp_context_load(rp_context *ctx, const rp_experiment *x, const char *path, cb_err *e);
void cb_rp_context_free(rp_context *ctx);
/* The events as chart markers, labelled by their number in the list (1-based); periods longer
 * than half a year are drawn as a line at their start, so that they do not cover the chart. */
int cb_rp_context_markers(const rp_context *ctx, rp_event **out, cb_err *e);

#endif
