/* The report's charts (see charts.h). Every line is a per-run series from aggregate.h reduced to
 * its median and 5-95% band, so a single run draws its own values and an ensemble its spread. */
#include "report/charts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/aggregate.h"
#include "report/html.h"

typedef enum { AS_IS, SHARE_OF_BASE, CUMULATIVE } line_mode;

static int add_band(rp_panel *p, const rp_sides *s, int side, const char *name, const double *by, int color, cb_err *e) {
  const rp_experiment *x = s->x[side];
  rp_band b;
  if (cb_rp_band_of(by, x->nruns, x->ndays, &b, e)) return e->code;
  char label[128];
  if (s->n > 1) snprintf(label, sizeof label, "%s%s%s", side ? "B" : "A", *name ? " " : "", name);
  else snprintf(label, sizeof label, "%s", name);
  return cb_rp_panel_add(p, label, &b, color, side, e);
}

/* One side's lines: one per value of dim among A's series matching base (one line named `name`
 * when dim < 0), as they are, as a share of base's total, or stacked. */
static int side_lines(rp_panel *p, const rp_sides *s, int side, const rp_filter *base, int dim, const char *name, line_mode mode, cb_err *e) {
  const rp_experiment *x = s->x[side];
  size_t cells = (size_t)x->nruns * x->ndays + 1;
  const char **values = NULL;
  int nv = 1;
  if (dim >= 0 && (nv = cb_rp_dim_values(s->x[0], base, (rp_dim)dim, &values, e)) < 0) return e->code;
  double *by = cb_xmalloc(e, cells * sizeof *by), *total = cb_xcalloc(e, cells, sizeof *total);
  if (!e->code && mode == SHARE_OF_BASE) cb_rp_select(x, base, total);
  for (int i = 0; i < nv && !e->code; i++) {
    rp_filter f = *base;
    if (dim >= 0) cb_rp_filter_set(&f, (rp_dim)dim, values[i]);
    cb_rp_select(x, &f, by);
    for (size_t k = 0; k + 1 < cells; k++) {
      if (mode == SHARE_OF_BASE) by[k] = total[k] > 0 ? by[k] / total[k] : 0;
      if (mode == CUMULATIVE) by[k] = total[k] += by[k];
    }
    add_band(p, s, side, values ? values[i] : name, by, i, e);
  }
  free(values);
  free(by);
  free(total);
  return e->code;
}

static int lines(rp_panel *p, const rp_sides *s, const rp_filter *base, int dim, const char *name, line_mode mode, cb_err *e) {
  for (int side = 0; side < s->n && !e->code; side++) side_lines(p, s, side, base, dim, name, mode, e);
  return e->code;
}

/* ---- the charts ---- */

static int start(rp_chart *c, const rp_sides *s, int npanels, int cols, const char *title, const char *ylabel, cb_err *e) {
  if (cb_rp_chart_init(c, npanels, cols, e)) return e->code;
  snprintf(c->title, sizeof c->title, "%s", title);
  snprintf(c->ylabel, sizeof c->ylabel, "%s", ylabel);
  c->days = s->x[0]->days;
  c->ndays = s->x[0]->ndays;
  c->bands = s->x[0]->nruns > 1 || (s->n > 1 && s->x[1]->nruns > 1);
  c->events = s->events;
  c->nevents = s->nevents;
  c->fork_day = s->fork_day;
  return CB_OK;
}

static int publish(rp_gallery *g, rp_chart *c, const char *id, const char *caption, cb_err *e) {
  int ok = 1;
  for (int k = 0; k < c->npanels; k++) ok &= c->panels[k].nlines > 0;
  if (!e->code && ok) { /* a chart with nothing to draw (no such series in these results) is left out */
    rp_rendered *a = cb_xrealloc(e, g->c, (size_t)(g->n + 1) * sizeof *a);
    if (a) {
      g->c = a;
      rp_rendered *r = &a[g->n];
      memset(r, 0, sizeof *r);
      cb_rp_html_id(r->id, sizeof r->id, id); /* the id names a market from the results */
      snprintf(r->caption, sizeof r->caption, "%s", caption);
      char prefix[72];
      snprintf(prefix, sizeof prefix, "%s-", r->id);
      if (!cb_rp_chart_render(c, RP_FMT_SVG_INLINE, prefix, &r->svg, &r->len, e)) g->n++;
    }
  }
  cb_rp_chart_free(c);
  return e->code;
}

static int prices(const rp_sides *s, rp_gallery *g, cb_err *e) {
  rp_filter any = {.metric = "price_usd"};
  const char **markets = NULL, **cats = NULL;
  int nm = cb_rp_dim_values(s->x[0], &any, RP_DIM_PLACE, &markets, e);
  int nc = nm < 0 ? -1 : cb_rp_dim_values(s->x[0], &any, RP_DIM_CATEGORY, &cats, e);
  for (int m = 0; m < nm && nc > 0 && !e->code; m++) {
    rp_chart c;
    char title[RP_TITLE_MAX], id[64], caption[600];
    snprintf(title, sizeof title, "Prices in %s by origin and category", markets[m]);
    if (start(&c, s, nc, 4, title, "USD per unit", e)) break;
    for (int k = 0; k < nc && !e->code; k++) {
      snprintf(c.panels[k].title, sizeof c.panels[k].title, "%s", cats[k]);
      rp_filter f = {.metric = "price_usd", .place = markets[m], .category = cats[k]};
      lines(&c.panels[k], s, &f, RP_DIM_ORIGIN, NULL, AS_IS, e);
    }
    snprintf(id, sizeof id, "chart-prices-%s", markets[m]);
    char market[200]; /* a name from the results, in contraband's HTML */
    cb_rp_html_escape_to(market, sizeof market, markets[m]);
    snprintf(caption, sizeof caption, "Market price per unit in %s at each period's end (<code>price_usd</code>), one panel per category, one line per origin.", market);
    publish(g, &c, id, caption, e);
  }
  free(markets);
  free(cats);
  return e->code;
}

static int single(const rp_sides *s, rp_gallery *g, const char *id, const char *title, const char *ylabel, const rp_filter *f, int dim,
                  const char *name, line_mode mode, const char *caption, cb_err *e) {
  rp_chart c;
  if (start(&c, s, 1, 1, title, ylabel, e)) return e->code;
  c.stacked = mode == CUMULATIVE;
  c.percent = mode == SHARE_OF_BASE;
  if (c.percent) {
    c.ref_y = 0.7;
    snprintf(c.ref_label, sizeof c.ref_label, "70%%");
  }
  lines(&c.panels[0], s, f, dim, name, mode, e);
  return publish(g, &c, id, caption, e);
}

static int enforcement(const rp_sides *s, rp_gallery *g, cb_err *e) {
  static const char *const metrics[] = {"inspections", "bribes", "fines", "confiscations"};
  rp_chart c;
  if (start(&c, s, 4, 2, "Enforcement outcomes, all checkpoints", "per period", e)) return e->code;
  for (int k = 0; k < 4 && !e->code; k++) {
    snprintf(c.panels[k].title, sizeof c.panels[k].title, "%s", metrics[k]);
    rp_filter f = {.metric = metrics[k]};
    lines(&c.panels[k], s, &f, -1, "", AS_IS, e); /* the panel's title names the metric */
  }
  return publish(g, &c, "chart-enforcement", "Inspections, and detected violations settled by a bribe, a fine or a confiscation, summed over every checkpoint (consignment and possession checks).", e);
}

int cb_rp_report_charts(const rp_sides *s, rp_gallery *g, cb_err *e) {
  memset(g, 0, sizeof *g);
  rp_filter delivered = {.metric = "delivered_units"};
  int cmp = s->n > 1;
  single(s, g, "chart-route", "Delivered units by crossing", "units per period", &delivered, RP_DIM_PLACE, NULL, cmp ? AS_IS : CUMULATIVE,
         cmp ? "Units delivered to markets through each crossing (<code>delivered_units</code> by place), all channels."
             : "Units delivered to markets through each crossing, stacked (<code>delivered_units</code> by place), all channels. "
               "In an ensemble each layer's top is the median of the runs' running totals, and the grey band its 5-95% range.",
         e);
  if (!e->code)
    single(s, g, "chart-channel", "Delivered units by channel", "units per period", &delivered, RP_DIM_CHANNEL, NULL, AS_IS,
           "Units delivered by channel: legal import, disguised (relabelled) import, smuggling and travellers' luggage.", e);
  if (!e->code)
    single(s, g, "chart-route-share", "Share of deliveries by crossing", "% of delivered units", &delivered, RP_DIM_PLACE, NULL, SHARE_OF_BASE,
           "Each crossing's share of the units delivered in each period; the dotted line marks 70%.", e);
  if (!e->code) enforcement(s, g, e);
  if (!e->code) prices(s, g, e);
  return e->code;
}

void cb_rp_gallery_free(rp_gallery *g) {
  for (int i = 0; i < g->n; i++) free(g->c[i].svg);
  free(g->c);
  memset(g, 0, sizeof *g);
}

int cb_rp_plot_chart(const rp_sides *s, const rp_plot_request *q, rp_format fmt, char **out, size_t *len, cb_err *e) {
  rp_filter f = {q->metric, q->place, q->channel, q->origin, q->category};
  char title[RP_TITLE_MAX], ylabel[96];
  if (q->title) snprintf(title, sizeof title, "%s", q->title);
  else { /* the metric, what it was narrowed to, and what its lines are */
    const char *vals[RP_NDIMS] = {q->place, q->channel, q->origin, q->category};
    snprintf(title, sizeof title, "%s", q->metric);
    for (int d = 0; d < RP_NDIMS; d++)
      if (vals[d]) snprintf(title + strlen(title), sizeof title - strlen(title), ", %s %s", cb_rp_dim_name((rp_dim)d), vals[d]);
    if (q->by >= 0) snprintf(title + strlen(title), sizeof title - strlen(title), ", by %s", cb_rp_dim_name((rp_dim)q->by));
  }
  snprintf(ylabel, sizeof ylabel, "%s%s", cb_rp_metric_unit(q->metric), cb_rp_metric_is_stock(q->metric) == 1 ? "" : " per period");
  rp_chart c;
  if (start(&c, s, 1, 1, title, ylabel, e)) return e->code;
  if (!lines(&c.panels[0], s, &f, q->by, q->metric, AS_IS, e)) cb_rp_chart_render(&c, fmt, "", out, len, e);
  cb_rp_chart_free(&c);
  return e->code;
}
