/* Charts: a description of what to draw (time series with their bands, stacked layers, dated
 * events, a fork date; or an interval plot of effects) turned into SVG, PNG or PDF by gnuplot.
 * gnuplot does the drawing; this module only writes its script and data, runs it and takes back
 * the image, so reports and single figures share one look. */
#ifndef CB_REPORT_CHART_H
#define CB_REPORT_CHART_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/err.h"
#include "report/aggregate.h"

/* A policy event on the time axis: a period (start < end) is shaded, a day is a dashed line;
 * either carries a short label (its number in the report's table of events). */
typedef struct rp_event {
  int32_t start, end;
  char label[12];
} rp_event;

typedef struct rp_line {
  char label[128];
  rp_band band;  /* median and 5-95% band per period */
  int dashed;    /* the second scenario of a comparison */
  int color;     /* palette index */
} rp_line;

/* One panel of a chart: its own title and lines, on the chart's time axis and events. */
typedef struct rp_panel {
  char title[96];
  rp_line *lines;
  int nlines;
} rp_panel;

#define RP_TITLE_MAX 160 /* bytes of a chart's title, its terminating NUL included */

typedef struct rp_chart {
  char title[RP_TITLE_MAX], ylabel[96];
  const int32_t *days;
  uint32_t ndays;
  rp_panel *panels; /* small multiples, cols to a row; one panel for a simple chart */
  int npanels, cols;
  int stacked;   /* lines are cumulative: layer i is filled between line i-1 and line i */
  int bands;     /* draw the 5-95% bands (more than one run) */
  int percent;   /* values are shares, drawn as percentages */
  double ref_y;  /* a horizontal reference line (in the values' unit), or NAN */
  char ref_label[64];
  const rp_event *events;
  int nevents;
  int32_t fork_day; /* INT32_MIN: none */
} rp_chart;

/* An interval plot: one row per estimate with its 95% interval. */
typedef struct rp_forest {
  char title[RP_TITLE_MAX], xlabel[96];
  int n;
  const char *const *labels;
  const double *est, *lo, *hi;
} rp_forest;

typedef enum { RP_FMT_SVG_INLINE, RP_FMT_SVG, RP_FMT_PNG, RP_FMT_PDF } rp_format;

/* The format a file name asks for by its extension (.svg, .png, .pdf), or -1. */
int cb_rp_format_of_path(const char *path);

/* Renders into *out (malloc'ed, *len bytes). RP_FMT_SVG_INLINE gives an SVG element to place
 * inside HTML: no XML prologue, its ids prefixed with id_prefix so that many can share a page. */
int cb_rp_chart_render(const rp_chart *c, rp_format fmt, const char *id_prefix, char **out, size_t *len, cb_err *e);
int cb_rp_forest_render(const rp_forest *f, rp_format fmt, const char *id_prefix, char **out, size_t *len, cb_err *e);

/* The gnuplot script cb_rp_chart_render and cb_rp_forest_render run, written to f (for the tests
 * and the fuzzer): every text in it is a literal written by cb_rp_gnuplot_text; -1 if writing
 * failed. */
int cb_rp_chart_script(FILE *f, const rp_chart *c, rp_format fmt);
int cb_rp_forest_script(FILE *f, const rp_forest *p, rp_format fmt);

/* Any text as a gnuplot single-quoted literal that gnuplot draws as it is and cannot expand: a
 * quote doubled (after U+200B where gnuplot would not see the pair), control characters as spaces, bytes that are not valid UTF-8 as U+FFFD, and at
 * most RP_GNUPLOT_TEXT_MAX bytes of the text (then an ellipsis). The rule is stated in gnuplot.c. */
#define RP_GNUPLOT_TEXT_MAX 1024
void cb_rp_gnuplot_text(FILE *f, const char *s);

/* A chart with npanels empty panels (fork_day none, ref_y none); cb_rp_chart_free releases them. */
int cb_rp_chart_init(rp_chart *c, int npanels, int cols, cb_err *e);
/* Adds a line to a panel, taking over its band. */
int cb_rp_panel_add(rp_panel *p, const char *label, rp_band *band, int color, int dashed, cb_err *e);
void cb_rp_chart_free(rp_chart *c);

#endif
