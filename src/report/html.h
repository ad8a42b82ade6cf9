/* The report page: one HTML file with its style and charts inline, so it opens offline and can be
 * mailed or archived as it is. Numbers appear as text and in data- attributes (full precision),
 * so a reader or a test can take them from the page. */
#ifndef CB_REPORT_HTML_H
#define CB_REPORT_HTML_H

#include <stdio.h>

#include "contraband.h"
#include "engine/err.h"
#include "report/charts.h"
#include "report/context.h"
#include "report/figures.h"
#include "report/results.h"

typedef struct rp_page {
  const char *results_path;
  int from_store;
  const rp_experiment *x[2];  /* A, and B for a comparison */
  int n;
  const rp_context *ctx[2];
  const rp_figures *fig[2];
  const cb_effect *effects;   /* comparison only */
  int neffects;
  const char *forest_svg;     /* the effects' interval plot, or NULL */
  const rp_gallery *charts;
} rp_page;

int cb_rp_html_write(FILE *f, const rp_page *p, cb_err *e);

/* Text for HTML element content or a double-quoted attribute: < > & " ' as entities, control
 * characters and bytes that are not valid UTF-8 as U+FFFD. _to writes into dst (cap bytes,
 * NUL-terminated, cut at a character's end if it does not fit) and returns dst. */
void cb_rp_html_escape(FILE *f, const char *s);
char *cb_rp_html_escape_to(char *dst, size_t cap, const char *s);
/* s as an id: letters, digits, '-' and '_' kept, any other byte '_' (into dst, cap bytes). */
char *cb_rp_html_id(char *dst, size_t cap, const char *s);

#endif
