/* The charts of a report, and the single figure of `contraband plot`, built from one experiment
 * or two (a comparison: A solid, B dashed) as gnuplot charts (chart.h). */
#ifndef CB_REPORT_CHARTS_H
#define CB_REPORT_CHARTS_H

#include <stddef.h>

#include "engine/err.h"
#include "report/chart.h"
#include "report/results.h"

/* The experiments a chart draws: one, or A and B of a comparison. */
typedef struct rp_sides {
  const rp_experiment *x[2];
  int n;
  const rp_event *events;
  int nevents;
  int32_t fork_day; /* INT32_MIN: none */
} rp_sides;

/* A chart rendered for the page. */
typedef struct rp_rendered {
  char id[64];
  char caption[600];
  char *svg;
  size_t len;
} rp_rendered;

typedef struct rp_gallery {
  rp_rendered *c;
  int n;
} rp_gallery;

/* Renders every chart of the report into g. */
int cb_rp_report_charts(const rp_sides *s, rp_gallery *g, cb_err *e);
void cb_rp_gallery_free(rp_gallery *g);

/* One metric's chart for `contraband plot` (see cb_plot_spec), rendered in fmt. */
typedef struct rp_plot_request {
  const char *metric, *place, *channel, *origin, *category, *title;
  int by; /* an rp_dim, or -1 for one line */
} rp_plot_request;
int cb_rp_plot_chart(const rp_sides *s, const rp_plot_request *q, rp_format fmt, char **out, size_t *len, cb_err *e);

#endif
