/* Encoding a run's results (see result.h). Layout, native byte order (a result never outlives the
 * command that made it): magic, seed, the series table (each distinct series once: its order in
 * metrics.csv and five names), the rows (series number, day, value) and the totals (name, value).
 * Rows refer to series by number, which keeps a 100,000-row run near 2 MB. */
#include "exp/result.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/calendar.h"

#define RESULT_MAGIC 0x43425231u /* "CBR1" */

typedef struct writer {
  cb_result *r;
  cb_err *e;
} writer;

static int put(writer *w, const void *p, size_t n) {
  cb_result *r = w->r;
  if (r->len + n > r->cap) {
    size_t cap = r->cap ? r->cap : 1 << 16;
    while (cap < r->len + n) cap *= 2;
    uint8_t *b = cb_xrealloc(w->e, r->buf, cap);
    if (!b) return w->e->code;
    r->buf = b;
    r->cap = cap;
  }
  memcpy(r->buf + r->len, p, n);
  r->len += n;
  return CB_OK;
}

static int put_string(writer *w, const char *s) {
  size_t n = strlen(s);
  uint16_t len = (uint16_t)(n < 65535 ? n : 65535);
  return put(w, &len, sizeof len) || put(w, s, len);
}

/* First pass: the series table, in order of first appearance (the first period holds them all). */
typedef struct encode_ctx {
  writer series, rows;
  uint32_t *index_of;   /* series number + 1 by metrics order; 0 = not yet listed */
  uint32_t nindex, nseries, nrows;
  cb_err *e;
} encode_ctx;

static int encode_row(void *ctx, const cb_metric_row *row) {
  encode_ctx *c = ctx;
  uint32_t *a = cb_xcover(c->e, c->index_of, &c->nindex, row->order, sizeof *a);
  if (!a) return c->e->code;
  c->index_of = a;
  if (c->index_of[row->order] == 0) {
    c->index_of[row->order] = ++c->nseries;
    const char *names[5] = {row->metric, row->place, row->channel, row->origin, row->category};
    if (put(&c->series, &row->order, sizeof row->order)) return c->e->code;
    for (int i = 0; i < 5; i++)
      if (put_string(&c->series, names[i])) return c->e->code;
  }
  int32_t day;
  if (cb_parse_date(row->date, &day)) return cb_err_set(c->e, CB_EMISUSE, "result: bad date '%s'", row->date);
  uint32_t s = c->index_of[row->order] - 1;
  c->nrows++;
  return put(&c->rows, &s, sizeof s) || put(&c->rows, &day, sizeof day) || put(&c->rows, &row->value, sizeof row->value);
}

typedef struct totals_ctx {
  writer *w;
  uint32_t n;
} totals_ctx;

static void encode_total(void *ctx, const char *name, double value) {
  totals_ctx *t = ctx;
  if (t->w->e->code) return;
  if (!isfinite(value)) { /* as for summary.json: a store never holds NaN or infinity */
    cb_err_set(t->w->e, CB_ENUMERIC, "the total %s is not a finite number; nothing was stored. This is a fault in contraband: "
               "please report it with the scenario and seed", name);
    return;
  }
  t->n++;
  if (!put_string(t->w, name)) put(t->w, &value, sizeof value);
}

int cb_result_encode(cb_sim *S, cb_result *r, cb_err *e) {
  memset(r, 0, sizeof *r);
  cb_result series = {0}, rows = {0}, totals = {0};
  encode_ctx c = {{&series, e}, {&rows, e}, NULL, 0, 0, 0, e};
  int rc = cb_metric_rows(S, encode_row, &c);
  if (rc && !e->code) cb_err_set(e, rc, "%s", cb_errmsg(S));
  writer tw = {&totals, e};
  totals_ctx tc = {&tw, 0};
  if (!e->code) cb_total_figures(S, encode_total, &tc);
  /* each crossing's share of foreign electronics (summary.json's), none while no such goods came */
  for (int i = 0; i < cb_crossing_count(S) && !e->code; i++) {
    char name[128];
    snprintf(name, sizeof name, "foreign_electronics_share.%s", cb_crossing_name(S, i));
    if (cb_crossing_share(S, i) >= 0) encode_total(&tc, name, cb_crossing_share(S, i));
  }
  /* units ordered in each price tier (summary.json's ordered_units_by_tier) */
  for (int i = 0; i < cb_tier_count(S) && !e->code; i++) {
    char name[128];
    snprintf(name, sizeof name, "ordered_units_by_tier.%s", cb_tier_name(S, i));
    encode_total(&tc, name, cb_tier_ordered_units(S, i));
  }
  writer w = {r, e};
  uint32_t magic = RESULT_MAGIC;
  uint64_t seed = cb_seed(S);
  if (!e->code && !put(&w, &magic, sizeof magic) && !put(&w, &seed, sizeof seed) && !put(&w, &c.nseries, sizeof c.nseries) &&
      !put(&w, series.buf, series.len) && !put(&w, &c.nrows, sizeof c.nrows) && !put(&w, rows.buf, rows.len) &&
      !put(&w, &tc.n, sizeof tc.n))
    put(&w, totals.buf, totals.len);
  free(c.index_of);
  free(series.buf);
  free(rows.buf);
  free(totals.buf);
  if (e->code) {
    free(r->buf);
    memset(r, 0, sizeof *r);
  }
  return e->code;
}

/* ---- decoding ---- */

typedef struct reader {
  const uint8_t *p, *end;
  cb_err *e;
} reader;

static int take(reader *rd, void *out, size_t n) {
  if ((size_t)(rd->end - rd->p) < n) return cb_err_set(rd->e, CB_EPARSE, "a run's results end early: the result is corrupt");
  memcpy(out, rd->p, n);
  rd->p += n;
  return CB_OK;
}

/* A length-prefixed string copied into out (NUL-terminated, truncated to outsz - 1). */
static int take_string(reader *rd, char *out, size_t outsz) {
  uint16_t len = 0; /* set by take; zeroed so every optimisation level sees it set */
  if (take(rd, &len, sizeof len)) return rd->e->code;
  if ((size_t)(rd->end - rd->p) < len) return cb_err_set(rd->e, CB_EPARSE, "a run's results end early: the result is corrupt");
  size_t n = len < outsz ? len : outsz - 1;
  memcpy(out, rd->p, n);
  out[n] = '\0';
  rd->p += len;
  return CB_OK;
}

int cb_result_seed(const uint8_t *buf, size_t len, uint64_t *seed, cb_err *e) {
  reader rd = {buf, buf + len, e};
  uint32_t magic = 0;
  if (take(&rd, &magic, sizeof magic) || magic != RESULT_MAGIC)
    return cb_err_set(e, CB_EPARSE, "not a run's results (bad magic): the result is corrupt");
  return take(&rd, seed, sizeof *seed);
}

typedef struct series_names {
  uint32_t order;
  char name[5][256];
} series_names;

int cb_result_visit(const uint8_t *buf, size_t len, const cb_result_visitor *v, cb_err *e) {
  reader rd = {buf, buf + len, e};
  uint64_t seed;
  uint32_t nseries = 0, nrows = 0, ntotals = 0;
  if (cb_result_seed(buf, len, &seed, e)) return e->code;
  rd.p += sizeof(uint32_t) + sizeof(uint64_t);
  if (take(&rd, &nseries, sizeof nseries)) return e->code;
  if (nseries > len / 12) return cb_err_set(e, CB_EPARSE, "a run's results list too many series: the result is corrupt");
  series_names *s = cb_xcalloc(e, nseries ? nseries : 1, sizeof *s);
  if (!s) return e->code;
  for (uint32_t i = 0; i < nseries && !e->code; i++) {
    take(&rd, &s[i].order, sizeof s[i].order);
    for (int k = 0; k < 5 && !e->code; k++) take_string(&rd, s[i].name[k], sizeof s[i].name[k]);
  }
  int rc = e->code ? e->code : take(&rd, &nrows, sizeof nrows);
  for (uint32_t i = 0; i < nrows && !rc; i++) {
    uint32_t k = 0;
    int32_t day = 0;
    double value = 0;
    if ((rc = take(&rd, &k, sizeof k) || take(&rd, &day, sizeof day) || take(&rd, &value, sizeof value) ? e->code : 0)) break;
    if (k >= nseries) {
      rc = cb_err_set(e, CB_EPARSE, "a run's results refer to series %u of %u: the result is corrupt", k, nseries);
      break;
    }
    char date[11];
    cb_format_date(day, date);
    cb_metric_row row = {date, s[k].name[0], s[k].name[1], s[k].name[2], s[k].name[3], s[k].name[4], value, s[k].order};
    rc = v->row(v->ctx, &row);
  }
  if (!rc) rc = take(&rd, &ntotals, sizeof ntotals);
  for (uint32_t i = 0; i < ntotals && !rc; i++) {
    char name[256];
    double value;
    if (take_string(&rd, name, sizeof name) || take(&rd, &value, sizeof value)) rc = e->code;
    else rc = v->total(v->ctx, name, value);
  }
  free(s);
  return rc;
}
