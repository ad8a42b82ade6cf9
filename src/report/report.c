/* The report API (contraband.h): results read once, then an HTML report or single figures drawn
 * from them. Which experiments are shown is settled here; the numbers come from figures.c and
 * aggregate.c, the drawing from charts.c and gnuplot.c, the page from html.c. */
#include <stdlib.h>
#include <string.h>

#include "contraband.h"
#include "engine/calendar.h"
#include "engine/err.h"
#include "engine/text.h"
#include "io/files.h"
#include "report/aggregate.h"
#include "report/charts.h"
#include "report/context.h"
#include "report/figures.h"
#include "report/html.h"
#include "report/results.h"

struct cb_report {
  cb_err err;
  rp_results res;
  int opened;
  int64_t chosen[2];
  int nchosen;
  char *scenario;        /* cb_report_scenario */
  char warning[1200];
};

cb_report *cb_report_new(void) { return cb_xcalloc(NULL, 1, sizeof(cb_report)); }

void cb_report_free(cb_report *R) {
  if (!R) return;
  cb_rp_results_free(&R->res);
  free(R->scenario);
  free(R);
}

int cb_report_errcode(const cb_report *R) { return R->err.code; }
const char *cb_report_errmsg(const cb_report *R) { return R->err.msg; }
const char *cb_report_warning(const cb_report *R) { return R->warning[0] ? R->warning : NULL; }

int cb_report_open(cb_report *R, const char *results) {
  cb_err_clear(&R->err);
  if (R->opened) return cb_err_set(&R->err, CB_EMISUSE, "cb_report_open: results are already open; use a new cb_report");
  if (cb_rp_results_load(&R->res, results, &R->err)) {
    cb_rp_results_free(&R->res);
    return R->err.code;
  }
  R->opened = 1;
  return CB_OK;
}

int cb_report_experiment(cb_report *R, int64_t id) {
  cb_err_clear(&R->err);
  if (R->nchosen == 2) return cb_err_set(&R->err, CB_EMISUSE, "at most two experiments (A and B) can be chosen");
  R->chosen[R->nchosen++] = id;
  return CB_OK;
}

int cb_report_scenario(cb_report *R, const char *path) {
  cb_err_clear(&R->err);
  free(R->scenario);
  R->scenario = cb_xstrdup(&R->err, path);
  return R->err.code;
}

/* ---- which experiments ---- */

static const rp_experiment *by_id(const cb_report *R, int64_t id) {
  for (int i = 0; i < R->res.nexp; i++)
    if (R->res.exp[i].id == id) return &R->res.exp[i];
  return NULL;
}

static void list_experiments(const cb_report *R, char *buf, size_t cap) {
  buf[0] = '\0';
  for (int i = 0; i < R->res.nexp; i++) {
    const rp_experiment *x = &R->res.exp[i];
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s%lld (%s of %s, %u runs)", i ? ", " : "", (long long)x->id, x->kind, x->scenario, x->nruns);
  }
}

/* The experiments to show, A first: as chosen, or the store's only one, or its only two (a fork
 * after its parent, else in the order they were made). */
static int pick(cb_report *R, rp_sides *s) {
  memset(s, 0, sizeof *s);
  s->fork_day = INT32_MIN;
  if (!R->opened) return cb_err_set(&R->err, CB_EMISUSE, "open results with cb_report_open first");
  char list[1024];
  list_experiments(R, list, sizeof list);
  if (R->nchosen) {
    if (!R->res.from_store) return cb_err_set(&R->err, CB_EMISUSE, "%s is a run's folder: --experiment applies to results stores only", R->res.path);
    for (int i = 0; i < R->nchosen; i++)
      if (!(s->x[s->n++] = by_id(R, R->chosen[i])))
        return cb_err_set(&R->err, CB_EPARSE, "%s holds no experiment %lld; it holds: %s", R->res.path, (long long)R->chosen[i], list);
  } else if (R->res.nexp <= 2) {
    for (int i = 0; i < R->res.nexp; i++) s->x[s->n++] = &R->res.exp[i];
    if (s->n == 2 && s->x[0]->parent_id == s->x[1]->id) {
      const rp_experiment *t = s->x[0];
      s->x[0] = s->x[1];
      s->x[1] = t;
    }
  } else
    return cb_err_set(&R->err, CB_EPARSE, "%s holds %d experiments: %s; choose one with --experiment ID, or two (A then B) to compare them",
                      R->res.path, R->res.nexp, list);
  for (int i = 0; i < s->n; i++)
    if (s->x[i]->nruns == 0) return cb_err_set(&R->err, CB_EPARSE, "experiment %lld in %s has no stored runs yet", (long long)s->x[i]->id, R->res.path);
  if (s->n == 2) {
    const rp_experiment *a = s->x[0], *b = s->x[1];
    if (a->ndays != b->ndays || (a->ndays && memcmp(a->days, b->days, a->ndays * sizeof *a->days)))
      return cb_err_set(&R->err, CB_EPARSE, "experiments %lld and %lld of %s record different periods, so they cannot be drawn together; compare scenarios with the same dates and recording period",
                        (long long)a->id, (long long)b->id, R->res.path);
    if (b->fork_day && cb_parse_date(b->fork_day, &s->fork_day)) s->fork_day = INT32_MIN;
  }
  return CB_OK;
}

/* ---- the scenario behind the results ---- */

static int same_event(const rp_event_info *a, const rp_event_info *b) {
  return !strcmp(a->kind, b->kind) && !strcmp(a->name, b->name) && a->start == b->start && a->end == b->end;
}

/* B's events that A lacks join A's list, so one numbering serves both scenarios' charts. */
static int merge_events(rp_context *a, const rp_context *b, cb_err *e) {
  for (int i = 0; i < b->nevents; i++) {
    int have = 0;
    for (int k = 0; k < a->nevents && !have; k++) have = same_event(&a->events[k], &b->events[i]);
    if (have) continue;
    rp_event_info *v = cb_xrealloc(e, a->events, (size_t)(a->nevents + 1) * sizeof *v);
    if (!v) return e->code;
    a->events = v;
    v[a->nevents] = b->events[i];
    snprintf(v[a->nevents].name, sizeof v->name, "%.50s (B only)", b->events[i].name);
    a->nevents++;
  }
  return CB_OK;
}

static int contexts(cb_report *R, const rp_sides *s, rp_context ctx[2]) {
  R->warning[0] = '\0';
  for (int i = 0; i < s->n; i++) {
    if (cb_rp_context_load(&ctx[i], s->x[i], i == 0 || s->n == 1 ? R->scenario : NULL, &R->err)) return R->err.code;
    if (!ctx[i].ok) {
      char raw[sizeof R->warning];
      snprintf(raw, sizeof raw, "parameters and policy events left out: %s", ctx[i].note);
      cb_text_printable(R->warning, sizeof R->warning, raw); /* a cut may have split a character */
    }
  }
  return s->n == 2 ? merge_events(&ctx[0], &ctx[1], &R->err) : CB_OK;
}

/* ---- the HTML report ---- */

static int forest(const cb_effect *ef, int n, char **svg, size_t *len, cb_err *e) {
  const char **labels = cb_xcalloc(e, (size_t)n + 1, sizeof *labels);
  double *v = cb_xcalloc(e, 3 * (size_t)n + 3, sizeof *v);
  char *names = cb_xcalloc(e, (size_t)n + 1, 96);
  int k = 0;
  for (int i = 0; !e->code && i < n; i++) {
    if (ef[i].mean_a == 0 || ef[i].n == 0) continue;
    double scale = 100 / (ef[i].mean_a > 0 ? ef[i].mean_a : -ef[i].mean_a);
    snprintf(names + 96 * k, 96, "%s%s%s", ef[i].metric, *ef[i].key ? " " : "", ef[i].key);
    labels[k] = names + 96 * k;
    v[k] = ef[i].effect * scale;
    v[n + 1 + k] = ef[i].ci_low * scale;
    v[2 * n + 2 + k] = ef[i].ci_high * scale;
    k++;
  }
  *svg = NULL;
  if (!e->code && k > 0) {
    rp_forest p = {"Effects of B against A", "effect, % of A's mean (95% interval)", k, labels, v, v + n + 1, v + 2 * n + 2};
    cb_rp_forest_render(&p, RP_FMT_SVG_INLINE, "chart-effects-", svg, len, e);
  }
  free(labels);
  free(v);
  free(names);
  return e->code;
}

static int write_page(FILE *f, void *page, cb_err *e) { return cb_rp_html_write(f, page, e); }

int cb_report_write_html(cb_report *R, const char *path) {
  cb_err_clear(&R->err);
  rp_sides s;
  if (pick(R, &s)) return R->err.code;
  rp_context ctx[2] = {{0}, {0}};
  rp_figures fig[2] = {{0}, {0}};
  rp_gallery gallery = {0};
  rp_event *markers = NULL;
  cb_effect *effects = NULL;
  int neffects = 0;
  char *forest_svg = NULL;
  size_t forest_len = 0;
  cb_err *e = &R->err;
  if (contexts(R, &s, ctx) || cb_rp_context_markers(&ctx[0], &markers, e)) goto done;
  s.events = markers;
  s.nevents = ctx[0].nevents;
  for (int i = 0; i < s.n; i++)
    if (cb_rp_figures_of(s.x[i], &fig[i], e)) goto done;
  if (s.n == 2 && (cb_rp_effects(s.x[0], s.x[1], &fig[0], &fig[1], &effects, &neffects, e) || forest(effects, neffects, &forest_svg, &forest_len, e)))
    goto done;
  if (cb_rp_report_charts(&s, &gallery, e)) goto done;
  rp_page page = {R->res.path, R->res.from_store, {s.x[0], s.x[1]}, s.n, {&ctx[0], &ctx[1]}, {&fig[0], &fig[1]},
                  effects, neffects, forest_svg, &gallery};
  cb_atomic_write(path, write_page, &page, e);
done:
  for (int i = 0; i < 2; i++) {
    cb_rp_context_free(&ctx[i]);
    cb_rp_figures_free(&fig[i]);
  }
  cb_rp_gallery_free(&gallery);
  free(markers);
  free(effects);
  free(forest_svg);
  return R->err.code;
}

/* ---- single figures ---- */

typedef struct bytes_job {
  const char *bytes;
  size_t len;
} bytes_job;

static int write_bytes(FILE *f, void *ctx, cb_err *e) {
  (void)e;
  const bytes_job *b = ctx;
  return fwrite(b->bytes, 1, b->len, f) == b->len ? 0 : -1;
}

static int check_plot(cb_report *R, const cb_plot_spec *q, const char *path, int *by, int *fmt) {
  if (!q->metric) return cb_err_set(&R->err, CB_EMISUSE, "a figure needs a metric");
  if (q->title && strlen(q->title) >= RP_TITLE_MAX)
    return cb_err_set(&R->err, CB_EPARSE, "--title is %zu bytes long; a figure's title can be at most %d bytes (of UTF-8)", strlen(q->title),
                      RP_TITLE_MAX - 1);
  if (cb_rp_metric_is_stock(q->metric) < 0)
    return cb_err_set(&R->err, CB_EPARSE, "metric '%s' is not one contraband writes; the metrics are listed in docs/outputs.md section 1.2", q->metric);
  *by = q->by ? cb_rp_dim_of(q->by) : -1;
  if (q->by && *by < 0) return cb_err_set(&R->err, CB_EPARSE, "--by '%s': give place, channel, origin or category", q->by);
  if ((*fmt = cb_rp_format_of_path(path)) < 0)
    return cb_err_set(&R->err, CB_EPARSE, "%s: the figure's file name must end in .svg, .png or .pdf (the format follows it)", path);
  return CB_OK;
}

int cb_report_plot(cb_report *R, const cb_plot_spec *q, const char *path) {
  cb_err_clear(&R->err);
  int by = -1, fmt = -1;
  rp_sides s;
  if (check_plot(R, q, path, &by, &fmt) || pick(R, &s)) return R->err.code;
  rp_filter f = {q->metric, q->place, q->channel, q->origin, q->category};
  if (!cb_rp_count_matching(s.x[0], &f))
    return cb_err_set(&R->err, CB_EPARSE, "no series of %s matches the filters in %s (a flow that was always zero is not written; check the names with the place, channel, origin and category columns of metrics.csv)",
                      q->metric, R->res.path);
  rp_context ctx[2] = {{0}, {0}};
  rp_event *markers = NULL;
  char *img = NULL;
  size_t len = 0;
  if (!contexts(R, &s, ctx) && !cb_rp_context_markers(&ctx[0], &markers, &R->err)) {
    for (int i = 0; i < ctx[0].nevents; i++) markers[i].label[0] = '\0'; /* a lone figure has no table to number them in */
    s.events = markers;
    s.nevents = ctx[0].nevents;
    rp_plot_request req = {q->metric, q->place, q->channel, q->origin, q->category, q->title, by};
    if (!cb_rp_plot_chart(&s, &req, (rp_format)fmt, &img, &len, &R->err)) {
      bytes_job b = {img, len};
      cb_atomic_write(path, write_bytes, &b, &R->err);
    }
  }
  for (int i = 0; i < 2; i++) cb_rp_context_free(&ctx[i]);
  free(markers);
  free(img);
  return R->err.code;
}
