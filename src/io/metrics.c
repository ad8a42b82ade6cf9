/* Metric definitions (names, dimensions, units: the output contract) and their accumulation. */
#include "io/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/calendar.h"

#define CH CB_DIM_CHANNEL
#define OR CB_DIM_ORIGIN
#define CA CB_DIM_CATEGORY

static const cb_metric_def defs[CB_NMETRICS] = {
    [CB_M_ORDERED_UNITS] = {"ordered_units", CB_PLACE_MARKET, OR | CA, 0, "units", "units buyers ordered from traders or bought in state shops"},
    [CB_M_DELIVERED_UNITS] = {"delivered_units", CB_PLACE_CROSSING, CH | OR | CA, 0, "units", "units that reached their market, by the crossing and channel they used"},
    [CB_M_SEIZED_UNITS] = {"seized_units", CB_PLACE_CHECKPOINT, CH | OR | CA, 0, "units", "units confiscated from consignments"},
    [CB_M_RELABELED_UNITS] = {"relabeled_units", CB_PLACE_HUB, OR | CA, 0, "units", "units whose labels and packaging were replaced with Chinese ones"},
    [CB_M_PRICE_USD] = {"price_usd", CB_PLACE_MARKET, OR | CA, 1, "USD", "market price per unit at the period's end"},
    [CB_M_PRICE_WON] = {"price_won", CB_PLACE_MARKET, OR | CA, 1, "won", "the same price in won at the market's exchange rate"},
    [CB_M_INSPECTIONS] = {"inspections", CB_PLACE_CHECKPOINT, 0, 0, "count", "consignments or buyers inspected"},
    [CB_M_BRIBES] = {"bribes", CB_PLACE_CHECKPOINT, 0, 0, "count", "detected violations settled by a bribe"},
    [CB_M_BRIBES_USD] = {"bribes_usd", CB_PLACE_CHECKPOINT, 0, 0, "USD", "bribes paid"},
    [CB_M_FINES] = {"fines", CB_PLACE_CHECKPOINT, 0, 0, "count", "detected violations punished by a fine"},
    [CB_M_FINES_USD] = {"fines_usd", CB_PLACE_CHECKPOINT, 0, 0, "USD", "fines paid"},
    [CB_M_CONFISCATIONS] = {"confiscations", CB_PLACE_CHECKPOINT, 0, 0, "count", "detected violations punished by confiscation"},
    [CB_M_PRETEXTS] = {"pretexts", CB_PLACE_CHECKPOINT, 0, 0, "count", "possession violations excused by the children's-education pretext"},
    [CB_M_BUYER_INCOME_USD] = {"buyer_income_usd", CB_PLACE_MARKET, 0, 0, "USD", "hard currency buyers put aside for goods"},
    [CB_M_BUYER_SPENDING_USD] = {"buyer_spending_usd", CB_PLACE_MARKET, 0, 0, "USD", "what buyers paid for goods received"},
    [CB_M_ACTIVE_TRADERS] = {"active_traders", CB_PLACE_NONE, 0, 1, "traders", "traders in business at the period's end"},
    [CB_M_CANCELLED_ORDERS] = {"cancelled_orders", CB_PLACE_MARKET, 0, 0, "orders", "orders cancelled and refunded because no goods came in time"},
    [CB_M_TRADER_ENTRIES] = {"trader_entries", CB_PLACE_NONE, 0, 0, "traders", "traders who entered"},
    [CB_M_TRADER_EXITS] = {"trader_exits", CB_PLACE_NONE, 0, 0, "traders", "traders ruined who left"},
    [CB_M_DECLARED_VALUE_USD] = {"declared_value_usd", CB_PLACE_CROSSING, OR | CA, 0, "USD", "value of goods through official customs by the origin on their labels (what customs records)"},
    [CB_M_TRUE_VALUE_USD] = {"true_value_usd", CB_PLACE_CROSSING, OR | CA, 0, "USD", "value of the same goods by true origin (the gap is relabelling)"},
    [CB_M_WON_PER_USD] = {"won_per_usd", CB_PLACE_MARKET, 0, 1, "won", "market exchange rate at the period's end"},
    [CB_M_LANDED_COST_USD] = {"landed_cost_usd", CB_PLACE_MARKET, OR | CA, 1, "USD", "traders' cost index per unit delivered: goods, transport, relabelling, bribes, fines and seized goods"},
    [CB_M_MARKUP] = {"markup", CB_PLACE_MARKET, OR | CA, 1, "share", "traders' markup over the cost index"},
    [CB_M_FINES_AVOIDED_USD] = {"fines_avoided_usd", CB_PLACE_CHECKPOINT, 0, 0, "USD", "statutory fines of the violations a bribe settled for good (what those bribes replaced)"},
    [CB_M_BASED_TRADERS] = {"based_traders", CB_PLACE_CROSSING, 0, 1, "traders", "traders in business based at the crossing (trader_types.*.based_at) at the period's end"},
    [CB_M_TRADER_MOVES] = {"trader_moves", CB_PLACE_CROSSING, 0, 0, "traders", "based traders who moved their base to the crossing"},
    [CB_M_SOLD_UNITS] = {"sold_units", CB_PLACE_MARKET, OR | CA, 0, "units", "units handed to buyers (orders filled, shelf and state-shop sales)"},
};

const cb_metric_def *cb_metric_def_of(cb_metric_id id) { return &defs[id]; }

int cb_metrics_init(cb_metrics *m, cb_err *e) {
  uint32_t off = 0;
  for (int id = 0; id < CB_NMETRICS; id++) {
    const cb_metric_def *d = &defs[id];
    /* row-major over place, channel, origin, category; an absent dimension has size 1 and
     * stride 0, so whatever coordinate a caller passes for it lands on the one slot */
    uint32_t n = 1;
    m->stride[id][3] = d->dims & CA ? n : 0;
    n *= d->dims & CA ? (uint32_t)m->ncat : 1;
    m->stride[id][2] = d->dims & OR ? n : 0;
    n *= d->dims & OR ? (uint32_t)m->norig : 1;
    m->stride[id][1] = d->dims & CH ? n : 0;
    n *= d->dims & CH ? (uint32_t)m->nch : 1;
    m->stride[id][0] = d->place != CB_PLACE_NONE ? n : 0;
    n *= d->place != CB_PLACE_NONE ? (uint32_t)m->nplace[d->place] : 1;
    m->offset[id] = off;
    m->size[id] = n;
    off += n;
  }
  m->nslots = off;
  m->cur = cb_xcalloc(e, off, sizeof *m->cur);
  return m->cur ? CB_OK : CB_ENOMEM;
}

void cb_metrics_free(cb_metrics *m) {
  free(m->cur);
  free(m->hist);
  free(m->period_start);
  m->cur = m->hist = NULL;
  m->period_start = NULL;
}

static void coords(const cb_metrics *m, int id, uint32_t i, int *place, int *ch, int *orig, int *cat);

/* Outputs never hold NaN or infinity: a period with one is refused, naming the value, so a model
 * fault stops the run instead of spreading through every later number. */
static int check_finite(const cb_metrics *m, int32_t period_start, cb_err *e) {
  for (int id = 0; id < CB_NMETRICS; id++)
    for (uint32_t i = 0; i < m->size[id]; i++) {
      double v = m->cur[m->offset[id] + i];
      if (isfinite(v)) continue;
      int pl, ch, og, ca;
      char date[11];
      coords(m, id, i, &pl, &ch, &og, &ca);
      cb_format_date(period_start, date);
      return cb_err_set(e, CB_ENUMERIC,
                        "metrics: %s in the period from %s (place '%s', channel '%s', origin '%s', category '%s') is %s, not a "
                        "finite number; nothing was written. This is a fault in contraband: please report it with the scenario and seed",
                        defs[id].name, date, pl >= 0 ? m->place_names[defs[id].place][pl] : "", ch >= 0 ? m->channel_names[ch] : "",
                        og >= 0 ? m->origin_names[og] : "", ca >= 0 ? m->category_names[ca] : "", isnan(v) ? "NaN" : "infinite");
    }
  return CB_OK;
}

int cb_metrics_close_period(cb_metrics *m, int32_t period_start, cb_err *e) {
  if (m->nperiods == m->cap_periods) {
    uint32_t cap = m->cap_periods ? m->cap_periods * 2 : 128;
    double *h = cb_xrealloc(e, m->hist, (size_t)cap * m->nslots * sizeof *h);
    if (!h) return CB_ENOMEM;
    m->hist = h;
    int32_t *ps = cb_xrealloc(e, m->period_start, (size_t)cap * sizeof *ps);
    if (!ps) return CB_ENOMEM;
    m->period_start = ps;
    m->cap_periods = cap;
  }
  if (check_finite(m, period_start, e)) return e->code;
  memcpy(m->hist + (size_t)m->nperiods * m->nslots, m->cur, m->nslots * sizeof *m->cur);
  m->period_start[m->nperiods++] = period_start;
  for (int id = 0; id < CB_NMETRICS; id++)
    if (!defs[id].stock) memset(m->cur + m->offset[id], 0, m->size[id] * sizeof *m->cur);
  return CB_OK;
}

double cb_metrics_total(const cb_metrics *m, cb_metric_id id) {
  double s = 0;
  for (uint32_t p = 0; p < m->nperiods; p++) {
    const double *v = m->hist + (size_t)p * m->nslots + m->offset[id];
    for (uint32_t i = 0; i < m->size[id]; i++) s += v[i];
  }
  return s;
}

/* Splits a slot index back into coordinates (the inverse of cb_metrics_slot). */
static void coords(const cb_metrics *m, int id, uint32_t i, int *place, int *ch, int *orig, int *cat) {
  const cb_metric_def *d = &defs[id];
  *cat = *orig = *ch = *place = -1;
  if (d->dims & CA) { *cat = (int)(i % (uint32_t)m->ncat); i /= (uint32_t)m->ncat; }
  if (d->dims & OR) { *orig = (int)(i % (uint32_t)m->norig); i /= (uint32_t)m->norig; }
  if (d->dims & CH) { *ch = (int)(i % (uint32_t)m->nch); i /= (uint32_t)m->nch; }
  if (d->place != CB_PLACE_NONE) *place = (int)i;
}

/* Every row of metrics.csv in file order: periods, then metrics in table order, then coordinates.
 * A row's `order` is its slot in the metrics layout, the same for every run of a scenario. Stocks
 * are written in every period, flows only where they are not zero: whether a row is written
 * depends on its own period alone, so a run stopped early writes the first rows of the longer run. */
int cb_metrics_rows(const cb_metrics *m, cb_metrics_row_fn fn, void *ctx, cb_err *e) {
  (void)e;
  int rc = 0;
  for (uint32_t p = 0; p < m->nperiods && !rc; p++) {
    char date[11];
    cb_format_date(m->period_start[p], date);
    const double *row = m->hist + (size_t)p * m->nslots;
    for (int id = 0; id < CB_NMETRICS && !rc; id++) {
      const cb_metric_def *d = &defs[id];
      for (uint32_t i = 0; i < m->size[id] && !rc; i++) {
        uint32_t slot = m->offset[id] + i;
        if (!d->stock && row[slot] == 0.0) continue;
        int pl, ch, og, ca;
        coords(m, id, i, &pl, &ch, &og, &ca);
        cb_metric_row r = {date, d->name, pl >= 0 ? m->place_names[d->place][pl] : "", ch >= 0 ? m->channel_names[ch] : "",
                           og >= 0 ? m->origin_names[og] : "", ca >= 0 ? m->category_names[ca] : "", row[slot], slot};
        rc = fn(ctx, &r);
      }
    }
  }
  return rc;
}

void cb_metrics_format_value(double v, char buf[32]) { snprintf(buf, 32, "%.10g", v); }

void cb_csv_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

int cb_metrics_write_row_csv(FILE *f, const cb_metric_row *r) {
  char v[32];
  cb_metrics_format_value(r->value, v);
  /* a run's names are plain (the scenario's rules), so metrics.csv never needs quotes; a store's
   * export may hold names someone else wrote */
  const char *names[5] = {r->metric, r->place, r->channel, r->origin, r->category};
  fputs(r->date, f);
  for (int i = 0; i < 5; i++) {
    fputc(',', f);
    cb_csv_field(f, names[i]);
  }
  return fprintf(f, ",%s\n", v) < 0;
}

static int csv_row(void *ctx, const cb_metric_row *r) { return cb_metrics_write_row_csv((FILE *)ctx, r); }

int cb_metrics_write_csv(const cb_metrics *m, FILE *f, cb_err *e) {
  fputs(CB_METRICS_CSV_HEADER "\n", f);
  int rc = cb_metrics_rows(m, csv_row, f, e);
  return rc || ferror(f) ? -1 : 0;
}
