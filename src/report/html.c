/* Writing the report page (see html.h).
 *
 * The rule for text in the page: every text that is not contraband's own (a path, an override,
 * a place or category name from the results, a message) is written through cb_rp_html_escape, in
 * element content or in a double-quoted attribute, never anywhere else (no URL, script or style
 * is ever made from it, so a javascript: or data: text stays text). The charts' SVG is gnuplot's,
 * which escapes < and & in the texts it draws; their ids are contraband's own, made plain by
 * cb_rp_html_id. */
#include "report/html.h"

#include <math.h>
#include <string.h>

#include "engine/calendar.h"
#include "engine/text.h"

static const char style[] =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;color:#222;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc;padding-bottom:.2em}"
    ".sub{color:#555;margin-top:0}table{border-collapse:collapse;margin:.8em 0;font-size:.92em}"
    "th,td{border-bottom:1px solid #e2e2e2;padding:.25em .7em;text-align:left;vertical-align:top}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}th{background:#f4f4f4}"
    "figure.chart{margin:1.5em 0;padding:0}figure.chart svg{width:100%;height:auto;display:block}"
    "figcaption{color:#444;font-size:.9em;margin-top:.3em}.note{background:#fff6e0;border-left:4px solid #e69f00;padding:.5em .8em}"
    "code{font-size:.92em}.sig{font-weight:bold}.dflt{color:#888}details summary{cursor:pointer;font-weight:bold}";

/* What stands for the character at p (len bytes, 0: an invalid byte) in the page: an entity for
 * the five characters HTML gives meaning to, U+FFFD for a control character or an invalid byte,
 * else NULL (the bytes as they are). */
static const char *html_piece(const unsigned char *p, size_t len, uint32_t cp) {
  if (!len || cb_is_control(cp)) return CB_UTF8_REPLACEMENT;
  switch (*p) {
  case '<': return "&lt;";
  case '>': return "&gt;";
  case '&': return "&amp;";
  case '"': return "&quot;";
  case '\'': return "&#39;";
  default: return NULL;
  }
}

void cb_rp_html_escape(FILE *f, const char *s) {
  if (!s) return;
  const unsigned char *p = (const unsigned char *)s;
  for (size_t left = strlen(s); left > 0;) {
    uint32_t cp = 0;
    size_t len = cb_utf8_char(p, left, &cp);
    const char *piece = html_piece(p, len, cp);
    if (piece) fputs(piece, f);
    else fwrite(p, 1, len, f);
    len = len ? len : 1;
    p += len;
    left -= len;
  }
}

char *cb_rp_html_escape_to(char *dst, size_t cap, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t n = 0;
  for (size_t left = strlen(s); left > 0;) {
    uint32_t cp = 0;
    size_t len = cb_utf8_char(p, left, &cp);
    const char *piece = html_piece(p, len, cp);
    size_t plen = piece ? strlen(piece) : len;
    if (n + plen >= cap) break;
    memcpy(dst + n, piece ? piece : (const char *)p, plen);
    n += plen;
    len = len ? len : 1;
    p += len;
    left -= len;
  }
  dst[n] = '\0';
  return dst;
}

char *cb_rp_html_id(char *dst, size_t cap, const char *s) {
  size_t n = 0;
  for (; *s && n + 1 < cap; s++) {
    char c = *s;
    int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    dst[n++] = plain ? c : '_';
  }
  dst[n] = '\0';
  return dst;
}

static void esc(FILE *f, const char *s) { cb_rp_html_escape(f, s); }

/* Escaped texts as the cells of a row, "a</td><td>b": the caller opens and closes the row. */
static void cells(FILE *f, const char *const *texts, int n) {
  for (int i = 0; i < n; i++) {
    if (i) fputs("</td><td>", f);
    esc(f, texts[i]);
  }
}

static int is_share(const char *metric) { return !strcmp(metric, "route_share") || !strcmp(metric, "foreign_electronics_share"); }

/* A number for the reader: shares as percentages, money and counts to a sensible precision. */
static void shown(FILE *f, double v, int share) {
  if (isnan(v)) fputs("&ndash;", f);
  else if (share) fprintf(f, "%.1f%%", 100 * v);
  else if (fabs(v) >= 1e4) fprintf(f, "%.0f", v);
  else fprintf(f, "%.4g", v);
}

static void date_text(FILE *f, int32_t day) {
  char b[11];
  cb_format_date(day, b);
  fputs(b, f);
}

static void runs_text(FILE *f, const rp_experiment *x) {
  int contiguous = x->nruns > 0 && x->runs[x->nruns - 1] - x->runs[0] + 1 == x->nruns;
  if (x->nruns == 1) fprintf(f, "%u", x->runs[0]);
  else if (contiguous) fprintf(f, "%u&ndash;%u", x->runs[0], x->runs[x->nruns - 1]);
  else
    for (uint32_t i = 0; i < x->nruns; i++) fprintf(f, "%s%u", i ? ", " : "", x->runs[i]);
}

static void what_it_is(FILE *f, const rp_page *p) {
  const rp_experiment *a = p->x[0];
  fputs("<p class=\"sub\">", f);
  if (p->n == 2) {
    fputs("Comparison of <b>B</b> <code>", f);
    esc(f, p->x[1]->scenario);
    fputs("</code> against <b>A</b> <code>", f);
    esc(f, a->scenario);
    fprintf(f, "</code>: %d key figures over the paired runs", p->neffects);
    if (p->x[1]->fork_day) {
      fputs(", B continuing from A's state on ", f);
      esc(f, p->x[1]->fork_day);
    }
    fputs(".", f);
  } else if (!strcmp(a->kind, "run")) {
    fputs("One run of <code>", f);
    esc(f, a->scenario);
    fprintf(f, "</code> (seed %llu, run %u).", (unsigned long long)a->master_seed, a->runs[0]);
  } else {
    fprintf(f, "%s of %u runs of <code>", !strcmp(a->kind, "sweep") ? "A sweep" : "An ensemble", a->nruns);
    esc(f, a->scenario);
    fprintf(f, "</code> (master seed %llu). Lines are medians across the runs; bands span the 5%% to 95%% quantiles.",
            (unsigned long long)a->master_seed);
    if (!strcmp(a->kind, "sweep")) fputs(" The runs are at different points of the design, so the bands show the spread across it.", f);
  }
  fprintf(f, " %s <code>", p->from_store ? "Results store" : "Run folder");
  esc(f, p->results_path);
  fputs("</code>.</p>\n", f);
}

static void notes(FILE *f, const rp_page *p) {
  for (int s = 0; s < p->n; s++)
    if (!p->ctx[s]->ok) {
      fputs("<p class=\"note\">Parameters and policy events are not shown", f);
      if (p->n == 2) fprintf(f, " for %s", s ? "B" : "A");
      fputs(": ", f);
      esc(f, p->ctx[s]->note);
      fputs("</p>\n", f);
    }
}

static void figures_table(FILE *f, const rp_page *p) {
  const rp_figures *fs = p->fig[0];
  const rp_experiment *x = p->x[0];
  int many = x->nruns > 1;
  fputs("<h2 id=\"figures\">Key figures</h2>\n<p>Over the whole simulated period", f);
  fputs(many ? ": the median across runs and the 5% and 95% quantiles.</p>\n" : ".</p>\n", f);
  fputs("<table id=\"key-figures\"><tr><th>figure</th><th>key</th><th>", f);
  fputs(many ? "median</th><th>5%</th><th>95%</th><th>runs</th></tr>\n" : "value</th></tr>\n", f);
  for (int i = 0; i < fs->n; i++) {
    const rp_figure *g = &fs->f[i];
    double mid = g->mid, lo = g->lo, hi = g->hi;
    uint32_t n = g->n;
    if (n == 0) continue;
    int share = is_share(g->metric);
    fputs("<tr data-figure=\"", f);
    esc(f, g->metric);
    fputs("\" data-key=\"", f);
    esc(f, g->key);
    fprintf(f, "\" data-median=\"%.17g\" data-p5=\"%.17g\" data-p95=\"%.17g\" data-runs=\"%u\"><td>", mid, lo, hi, n);
    const char *names[] = {g->metric, g->key};
    cells(f, names, 2);
    fputs("</td><td class=\"n\">", f);
    shown(f, mid, share);
    if (many) {
      fputs("</td><td class=\"n\">", f);
      shown(f, lo, share);
      fputs("</td><td class=\"n\">", f);
      shown(f, hi, share);
      fprintf(f, "</td><td class=\"n\">%u", n);
    }
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
}

static void effects_table(FILE *f, const rp_page *p) {
  fputs("<h2 id=\"effects\">Effects of B against A</h2>\n<p>For each key figure over the whole period: the means of A and B over "
        "the paired runs (same seeds and run numbers, so common random numbers), the mean paired difference B &minus; A and its 95% "
        "confidence interval (Student's t). <span class=\"sig\">Bold</span>: the interval excludes 0.</p>\n",
        f);
  fputs("<table id=\"effects-table\"><tr><th>figure</th><th>key</th><th>pairs</th><th>mean A</th><th>mean B</th><th>effect</th>"
        "<th>95% interval</th><th>relative</th></tr>\n",
        f);
  for (int i = 0; i < p->neffects; i++) {
    const cb_effect *x = &p->effects[i];
    int share = is_share(x->metric), sig = x->ci_low > 0 || x->ci_high < 0;
    fputs("<tr data-effect=\"", f);
    esc(f, x->metric);
    fputs("\" data-key=\"", f);
    esc(f, x->key);
    fprintf(f, "\" data-n=\"%u\" data-mean-a=\"%.17g\" data-mean-b=\"%.17g\" data-effect=\"%.17g\" data-ci-low=\"%.17g\" data-ci-high=\"%.17g\"%s><td>",
            x->n, x->mean_a, x->mean_b, x->effect, x->ci_low, x->ci_high, sig ? " class=\"sig\"" : "");
    const char *names[] = {x->metric, x->key};
    cells(f, names, 2);
    fprintf(f, "</td><td class=\"n\">%u</td><td class=\"n\">", x->n);
    shown(f, x->mean_a, share);
    fputs("</td><td class=\"n\">", f);
    shown(f, x->mean_b, share);
    fputs("</td><td class=\"n\">", f);
    shown(f, x->effect, share);
    fputs("</td><td class=\"n\">", f);
    shown(f, x->ci_low, share);
    fputs(" to ", f);
    shown(f, x->ci_high, share);
    fputs("</td><td class=\"n\">", f);
    if (x->mean_a != 0) fprintf(f, "%+.1f%%", 100 * x->effect / fabs(x->mean_a));
    else fputs("&ndash;", f);
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
  if (p->forest_svg) {
    fputs("<figure class=\"chart\" id=\"chart-effects\">", f);
    fputs(p->forest_svg, f);
    fputs("<figcaption>Each effect relative to A's mean, with its 95% interval (figures whose A mean is 0 are left out).</figcaption></figure>\n", f);
  }
}

static void charts(FILE *f, const rp_page *p) {
  fputs("<h2 id=\"charts\">Over time</h2>\n", f);
  if (p->ctx[0]->nevents) fputs("<p>Numbers above the plots are the policy events listed below: shaded for a period, a dashed line for a day "
                                "(or the start of a period longer than half a year).</p>\n", f);
  if (p->n == 2) fputs("<p>A solid, B dashed.</p>\n", f);
  for (int i = 0; i < p->charts->n; i++) {
    const rp_rendered *r = &p->charts->c[i];
    fputs("<figure class=\"chart\" id=\"", f);
    esc(f, r->id);
    fputs("\">", f);
    fwrite(r->svg, 1, r->len, f);
    fprintf(f, "<figcaption>%s</figcaption></figure>\n", r->caption); /* contraband's own HTML, names in it escaped (charts.c) */
  }
}

static void events(FILE *f, const rp_context *c) {
  if (!c->nevents) return;
  fputs("<h2 id=\"events\">Policy events</h2>\n<table id=\"events-table\"><tr><th>#</th><th>from</th><th>to</th><th>kind</th><th>name</th><th>what</th></tr>\n", f);
  for (int i = 0; i < c->nevents; i++) {
    const rp_event_info *v = &c->events[i];
    fprintf(f, "<tr><td class=\"n\">%d</td><td>", i + 1);
    date_text(f, v->start);
    fputs("</td><td>", f);
    if (v->end != v->start) date_text(f, v->end);
    fputs("</td><td>", f);
    const char *texts[] = {v->kind, v->name, v->what};
    cells(f, texts, 3);
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
}

static void identity(FILE *f, const rp_experiment *x, const char *side) {
  fprintf(f, "<table class=\"identity\" data-side=\"%s\">", side);
  fputs("<tr><th>scenario</th><td><code>", f);
  esc(f, x->scenario);
  fputs("</code></td></tr><tr><th>scenario SHA-256</th><td><code>", f);
  esc(f, x->scenario_sha256);
  fputs("</code></td></tr><tr><th>kind</th><td>", f);
  esc(f, x->kind);
  if (x->id) fprintf(f, " (experiment %lld in the store)", (long long)x->id);
  fprintf(f, "</td></tr><tr><th>%s</th><td>%llu</td></tr><tr><th>runs</th><td>", strcmp(x->kind, "run") ? "master seed" : "seed",
          (unsigned long long)x->master_seed);
  runs_text(f, x);
  fputs("</td></tr><tr><th>overrides</th><td>", f);
  for (uint32_t i = 0; i < x->noverrides; i++) {
    fputs(i ? "<br><code>--set " : "<code>--set ", f);
    esc(f, x->overrides[i]);
    fputs("</code>", f);
  }
  if (!x->noverrides) fputs("none", f);
  fputs("</td></tr><tr><th>fork day</th><td>", f);
  esc(f, x->fork_day ? x->fork_day : "none");
  fputs("</td></tr><tr><th>made by</th><td>contraband ", f);
  esc(f, x->version);
  fputs("</td></tr></table>\n", f);
}

static void parameters(FILE *f, const rp_context *c, const char *side) {
  if (!c->ok) return;
  fprintf(f, "<details><summary>All %d parameters in effect%s%s (grey: the default)</summary>\n<table class=\"parameters\">"
          "<tr><th>key</th><th>value</th><th>unit</th><th>meaning</th></tr>\n", c->nparams, *side ? " in " : "", side);
  for (int i = 0; i < c->nparams; i++) {
    const rp_param *q = &c->params[i];
    fputs(q->is_default ? "<tr class=\"dflt\"><td><code>" : "<tr><td><code>", f);
    esc(f, q->key);
    fputs("</code></td><td><code>", f);
    esc(f, q->value);
    fputs("</code></td><td>", f);
    const char *texts[] = {q->unit, q->doc};
    cells(f, texts, 2);
    fputs("</td></tr>\n", f);
  }
  fputs("</table></details>\n", f);
}

int cb_rp_html_write(FILE *f, const rp_page *p, cb_err *e) {
  (void)e;
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\n<title>contraband report: ", f);
  esc(f, p->x[p->n - 1]->scenario);
  fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n<h1>contraband report</h1>\n", style);
  what_it_is(f, p);
  notes(f, p);
  if (p->n == 2) effects_table(f, p);
  else figures_table(f, p);
  charts(f, p);
  events(f, p->ctx[0]); /* for a comparison, B's own events are merged in */
  fputs("<h2 id=\"identity\">What was run</h2>\n", f);
  for (int s = 0; s < p->n; s++) {
    if (p->n == 2) fprintf(f, "<h3>%s</h3>\n", s ? "B" : "A");
    identity(f, p->x[s], p->n == 2 ? (s ? "B" : "A") : "");
    parameters(f, p->ctx[s], p->n == 2 ? (s ? "B" : "A") : "");
  }
  fputs("<p class=\"sub\">Written by <code>contraband report</code> ", f);
  esc(f, cb_version());
  fputs(". Charts drawn by gnuplot. Series and their meanings: docs/outputs.md.</p>\n</body></html>\n", f);
  return ferror(f) ? -1 : 0;
}
