/* The public API (contraband.h): the simulation object's life cycle, the daily schedule, and
 * outputs. This file only orders the work; each piece of the model lives in src/model/. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/calendar.h"
#include "io/files.h"
#include "io/summary.h"
#include "model/snapshot.h"
#include "model/world.h"

#ifndef CB_VERSION
#define CB_VERSION "0.0.0"
#endif

const char *cb_version(void) { return CB_VERSION; }

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

cb_sim *cb_new(void) {
  cb_sim *S = cb_xcalloc(NULL, 1, sizeof *S);
  if (S) {
    S->seed = 1;
    S->threads = 1;
  }
  return S;
}

static void free_model(cb_sim *S) {
  cb_buyers_free(S);
  cb_traders_free(S);
  cb_shipments_free(S);
  free(S->M); free(S->O); free(S->cp_first); free(S->cp_count);
  free(S->P); free(S->poss_month); free(S->routes); free(S->lane_free);
  for (int m = 0; m < CB_MAX_ENTRIES; m++) free(S->routes_of[m]);
  free(S->listed); free(S->cp_inspect); free(S->cp_monitor); free(S->cp_confiscate); free(S->closed);
  free(S->market_rate); free(S->cp_rate); free(S->rate_market); free(S->rate_cp);
  free(S->metric_names);
  cb_metrics_free(&S->metrics);
  cb_series_free(&S->rates);
}

void cb_free(cb_sim *S) {
  if (!S) return;
  free_model(S);
  cb_ytree_free(&S->tree);
  for (int i = 0; i < S->n_overrides; i++) free(S->overrides[i]);
  free(S->overrides);
  free(S);
}

int cb_crossing_count(const cb_sim *S) { return S->initialized ? S->sc.n_crossings : 0; }
const char *cb_crossing_name(const cb_sim *S, int i) { return i >= 0 && i < cb_crossing_count(S) ? S->sc.crossings[i].name : NULL; }
double cb_crossing_share(const cb_sim *S, int i) { return i >= 0 && i < cb_crossing_count(S) ? cb_summary_route_share(S, i) : -1.0; }

int cb_tier_count(const cb_sim *S) {
  int n = 0;
  while (S->initialized && cb_summary_tier_category(S, n) >= 0) n++;
  return n;
}
const char *cb_tier_name(const cb_sim *S, int i) {
  int k = i >= 0 && i < cb_tier_count(S) ? cb_summary_tier_category(S, i) : -1;
  return k >= 0 ? S->sc.categories[k].tier : NULL;
}
double cb_tier_ordered_units(const cb_sim *S, int i) {
  const char *t = cb_tier_name(S, i);
  return t ? cb_summary_tier_units(S, t) : -1.0;
}

int cb_errcode(const cb_sim *S) { return S ? S->err.code : CB_ENOMEM; }
const char *cb_errmsg(const cb_sim *S) { return S ? (S->err.code ? S->err.msg : "no error") : "out of memory"; }

static int misuse(cb_sim *S, const char *what) { return cb_err_set(&S->err, CB_EMISUSE, "%s", what); }

int cb_read_scenario(cb_sim *S, const char *path) {
  if (S->have_tree) return misuse(S, "cb_read_scenario: a scenario is already loaded; use a new cb_sim");
  if (strlen(path) >= sizeof S->scenario_path) return cb_err_set(&S->err, CB_EIO, "%s: path too long", path);
  if (cb_scenario_read(&S->tree, path, &S->err)) return S->err.code;
  if (cb_sha256_file(path, S->scenario_sha256, &S->err)) return S->err.code;
  snprintf(S->scenario_path, sizeof S->scenario_path, "%s", path);
  S->have_tree = 1;
  return CB_OK;
}

int cb_set(cb_sim *S, const char *assignment) {
  if (!S->have_tree || S->initialized) return misuse(S, "cb_set: call it after cb_read_scenario and before cb_init");
  if (cb_ytree_override(&S->tree, assignment, S->n_overrides + 1, &S->err)) return S->err.code;
  char **o = cb_xrealloc(&S->err, S->overrides, (size_t)(S->n_overrides + 1) * sizeof *o);
  if (!o) return S->err.code;
  S->overrides = o;
  if (!(o[S->n_overrides] = cb_xstrdup(&S->err, assignment))) return S->err.code;
  S->n_overrides++;
  return CB_OK;
}

int cb_set_seed(cb_sim *S, uint64_t seed) {
  if (S->initialized) return misuse(S, "cb_set_seed: call it before cb_init");
  S->seed = seed;
  S->seed_set = 1;
  return CB_OK;
}

int cb_set_run(cb_sim *S, uint32_t run) {
  if (S->initialized) return misuse(S, "cb_set_run: call it before cb_init");
  S->run = run;
  return CB_OK;
}

int cb_set_threads(cb_sim *S, int threads) {
  if (threads < 1 || threads > CB_MAX_THREADS)
    return cb_err_set(&S->err, CB_EMISUSE, "threads must be from 1 to %d, not %d", CB_MAX_THREADS, threads);
  S->threads = threads;
  return CB_OK;
}

int cb_set_max_memory(cb_sim *S, uint64_t bytes) {
  if (S->initialized) return misuse(S, "cb_set_max_memory: call it before cb_init");
  S->max_memory = bytes;
  return CB_OK;
}

double cb_memory_estimate(const cb_sim *S) { return S->mem_estimate; }

int cb_set_check(cb_sim *S, int on) {
  S->check = on != 0;
  return CB_OK;
}

/* ---- initialisation ---- */

/* where is a dotted path ("markets.pyongyang"); the message points at its rate_entity node. */
static int resolve_rate(cb_sim *S, const char *entity, const char *where, int *out) {
  *out = cb_series_find(&S->rates, entity);
  if (*out >= 0) return CB_OK;
  char path[CB_STR_MAX * 6], names[512] = "";
  snprintf(path, sizeof path, "%s.rate_entity", where);
  for (size_t i = 0; i < S->rates.n; i++) {
    if (i) strncat(names, ", ", sizeof names - strlen(names) - 1);
    strncat(names, S->rates.ent[i].name, sizeof names - strlen(names) - 1);
  }
  const cb_ynode *n = cb_ytree_get(&S->tree, path);
  char at[CB_STR_MAX * 5];
  if (n) snprintf(at, sizeof at, "%s:%d:%d", n->src, n->line, n->col);
  else snprintf(at, sizeof at, "%s", S->scenario_path);
  return cb_err_set(&S->err, CB_ESCHEMA, "%s: %s: '%s' is not an entity of the exchange-rate series %s; use one of: %s", at, path,
                    entity, S->sc.sim.won_per_usd_file, names);
}

static int load_rates(cb_sim *S) {
  char dir[CB_STR_MAX * 4], path[CB_STR_MAX * 5];
  const char *f = S->sc.sim.won_per_usd_file;
  cb_dirname(S->scenario_path, dir, sizeof dir);
  if (f[0] == '/') snprintf(path, sizeof path, "%s", f);
  else snprintf(path, sizeof path, "%s/%s", dir, f);
  if (cb_series_load(&S->rates, path, &S->err)) {
    const cb_ynode *n = cb_ytree_get(&S->tree, "simulation.won_per_usd_file");
    if (n) cb_err_prefix(&S->err, "%s:%d:%d: simulation.won_per_usd_file: ", n->src, n->line, n->col);
    else cb_err_prefix(&S->err, "%s: simulation.won_per_usd_file (default): ", S->scenario_path);
    return S->err.code;
  }
  int nm = S->sc.n_markets, nc = S->sc.n_checkpoints;
  S->market_rate = cb_xcalloc(&S->err, (size_t)nm, sizeof(int));
  S->cp_rate = cb_xcalloc(&S->err, (size_t)nc, sizeof(int));
  S->rate_market = cb_xcalloc(&S->err, (size_t)nm, sizeof(double));
  S->rate_cp = cb_xcalloc(&S->err, (size_t)nc, sizeof(double));
  if (S->err.code) return S->err.code;
  char where[CB_STR_MAX * 6];
  for (int m = 0; m < nm; m++) {
    snprintf(where, sizeof where, "markets.%s", S->sc.markets[m].name);
    if (resolve_rate(S, S->sc.markets[m].rate_entity, where, &S->market_rate[m])) return S->err.code;
  }
  for (int c = 0; c < nc; c++) {
    snprintf(where, sizeof where, "checkpoints.%s", S->sc.checkpoints[c].name);
    if (resolve_rate(S, S->sc.checkpoints[c].rate_entity, where, &S->cp_rate[c])) return S->err.code;
  }
  return CB_OK;
}

static void rates_for(cb_sim *S, int32_t day) {
  for (int m = 0; m < S->sc.n_markets; m++) S->rate_market[m] = cb_series_at(&S->rates, S->market_rate[m], day);
  for (int c = 0; c < S->sc.n_checkpoints; c++) S->rate_cp[c] = cb_series_at(&S->rates, S->cp_rate[c], day);
}

static int init_metrics(cb_sim *S) {
  const cb_scenario *sc = &S->sc;
  cb_metrics *m = &S->metrics;
  int total = sc->n_markets + sc->n_crossings + sc->n_checkpoints + sc->n_hubs + sc->n_origins + sc->n_categories;
  S->metric_names = cb_xcalloc(&S->err, (size_t)total, sizeof(char *));
  if (!S->metric_names) return S->err.code;
  const char **n = S->metric_names;
  int i = 0;
#define NAMES(kind, arr, count)                                          \
  do {                                                                   \
    m->place_names[kind] = n + i;                                        \
    for (int j = 0; j < (count); j++) n[i++] = sc->arr[j].name;          \
    m->nplace[kind] = (count);                                           \
  } while (0)
  NAMES(CB_PLACE_MARKET, markets, sc->n_markets);
  NAMES(CB_PLACE_CROSSING, crossings, sc->n_crossings);
  NAMES(CB_PLACE_CHECKPOINT, checkpoints, sc->n_checkpoints);
  NAMES(CB_PLACE_HUB, hubs, sc->n_hubs);
#undef NAMES
  m->origin_names = n + i;
  for (int j = 0; j < sc->n_origins; j++) n[i++] = sc->origins[j].name;
  m->category_names = n + i;
  for (int j = 0; j < sc->n_categories; j++) n[i++] = sc->categories[j].name;
  m->channel_names = cb_channel_names();
  m->nplace[CB_PLACE_NONE] = 1;
  m->nch = CB_NCHANNELS;
  m->norig = sc->n_origins;
  m->ncat = sc->n_categories;
  return cb_metrics_init(m, &S->err);
}

int cb_init(cb_sim *S) {
  if (!S->have_tree) return misuse(S, "cb_init: read a scenario first (cb_read_scenario)");
  if (S->initialized) return misuse(S, "cb_init: already initialised");
  S->wall_start = now_seconds();
  if (cb_scenario_bind(&S->sc, &S->tree, &S->err)) return S->err.code;
  if (!S->seed_set) S->seed = (uint64_t)S->sc.sim.seed;
  S->rng = cb_rng_make(S->seed, S->run);
  S->start = S->sc.sim.start;
  S->end = S->sc.sim.end;
  S->day = S->start;
  S->ncat = S->sc.n_categories;
  S->norig = S->sc.n_origins;
  S->nprod = S->ncat * S->norig;
  for (int p = 0; p < S->nprod; p++) {
    S->prod_cat[p] = (uint8_t)(p / S->norig);
    S->prod_origin[p] = (uint8_t)(p % S->norig);
  }
  if (load_rates(S)) return S->err.code;
  rates_for(S, S->start);
  if (cb_routes_build(S) || cb_policy_init(S) || init_metrics(S) || cb_footprint_check(S)) return S->err.code;
  cb_policy_apply(S, S->start);
  if (cb_buckets_init(&S->shipments, CB_SHIP_HORIZON, &S->err)) return S->err.code;
  if (cb_market_init(S) || cb_middlemen_init(S) || cb_officials_init(S) || cb_traders_init(S) || cb_buyers_init(S))
    return S->err.code;
  cb_traders_protection(S);
  S->initialized = 1;
  return CB_OK;
}

/* ---- the daily schedule ---- */

/* First day of the recording period containing day. */
static int32_t period_start(const cb_sim *S, int32_t day) {
  int y, m, d;
  cb_civil_from_days(day, &y, &m, &d);
  switch (S->sc.sim.record) {
    case CB_PERIOD_DAY: return day;
    case CB_PERIOD_WEEK: return day - (day - S->start) % 7;
    case CB_PERIOD_MONTH: return cb_days_from_civil(y, m, 1);
    case CB_PERIOD_QUARTER: return cb_days_from_civil(y, (m - 1) / 3 * 3 + 1, 1);
    default: return cb_days_from_civil(y, 1, 1);
  }
}

static void record_stocks(cb_sim *S) {
  cb_metrics *mt = &S->metrics;
  for (int m = 0; m < S->sc.n_markets; m++) {
    cb_metrics_set(mt, CB_M_WON_PER_USD, m, 0, 0, 0, S->rate_market[m]);
    for (int p = 0; p < S->nprod; p++) {
      double price = cb_market_price(S, m, p);
      int o = cb_prod_origin(S, p), k = cb_prod_cat(S, p);
      cb_metrics_set(mt, CB_M_PRICE_USD, m, 0, o, k, price);
      cb_metrics_set(mt, CB_M_PRICE_WON, m, 0, o, k, price * S->rate_market[m]);
      cb_metrics_set(mt, CB_M_LANDED_COST_USD, m, 0, o, k, S->P[m * S->nprod + p].cost_index);
      cb_metrics_set(mt, CB_M_MARKUP, m, 0, o, k, S->P[m * S->nprod + p].markup);
    }
  }
  cb_metrics_set(mt, CB_M_ACTIVE_TRADERS, 0, 0, 0, 0, S->nactive);
  double based[CB_MAX_ENTRIES] = {0};
  for (uint32_t k = 0; k < S->nactive; k++)
    if (S->T[S->active_ids[k]].home != CB_NO_HOME) based[S->T[S->active_ids[k]].home] += 1;
  for (int x = 0; x < S->sc.n_crossings; x++) cb_metrics_set(mt, CB_M_BASED_TRADERS, x, 0, 0, 0, based[x]);
}

static int end_of_day(cb_sim *S, int32_t day) {
  if ((day - S->start) % 7 == 6) cb_market_weekly(S);
  int y, m, d, y2, m2, d2;
  cb_civil_from_days(day, &y, &m, &d);
  cb_civil_from_days(day + 1, &y2, &m2, &d2);
  if (m2 != m) {
    if (cb_traders_monthly(S, day)) return S->err.code;
    cb_buyers_possession_month(S);
  }
  if (day == S->end || period_start(S, day + 1) != period_start(S, day)) {
    record_stocks(S);
    if (cb_metrics_close_period(&S->metrics, period_start(S, day), &S->err)) return S->err.code;
  }
  return CB_OK;
}

int cb_step(cb_sim *S) {
  if (!S->initialized) return misuse(S, "cb_step: call cb_init first");
  if (S->err.code) return S->err.code;
  if (S->day > S->end) return CB_DONE;
  int32_t day = S->day;
  cb_policy_apply(S, day);
  rates_for(S, day);
  cb_market_daily(S);
  cb_buyers_utility_tables(S, 0);
  if (cb_traders_daily_options(S)) return S->err.code;
  if (cb_buyers_step(S, day) || cb_enforcement_possession(S, day) || cb_traders_step(S, day) ||
      cb_shipments_step(S, day) || end_of_day(S, day))
    return S->err.code;
  if (S->check && cb_ledger_check(S, day)) return S->err.code;
  S->day++;
  return S->day > S->end ? CB_DONE : CB_OK;
}

int cb_run(cb_sim *S) {
  int rc;
  while ((rc = cb_step(S)) == CB_OK) {
  }
  return rc == CB_DONE ? CB_OK : rc;
}

int cb_run_until(cb_sim *S, const char *date) {
  if (!S->initialized) return misuse(S, "cb_run_until: call cb_init first");
  int32_t d;
  if (cb_parse_date(date, &d)) return cb_err_set(&S->err, CB_ESCHEMA, "'%s' is not a date; write YYYY-MM-DD", date);
  char a[11], b[11];
  if (d < S->day || d > S->end) {
    cb_format_date(S->day, a);
    cb_format_date(S->end, b);
    return cb_err_set(&S->err, CB_ESCHEMA, "%s is outside the days still to simulate (%s to %s); choose a date in that range",
                      date, a, b);
  }
  int rc = CB_OK;
  while (S->day < d && (rc = cb_step(S)) == CB_OK) {
  }
  return rc == CB_DONE ? CB_OK : rc;
}

static int write_snapshot(FILE *f, void *ctx, cb_err *e) {
  (void)e;
  const uint8_t **buf = ctx;
  size_t len = (size_t)(buf[1] - buf[0]);
  return fwrite(buf[0], 1, len, f) == len ? 0 : -1;
}

int cb_save_snapshot(cb_sim *S, const char *path) {
  if (!S->initialized) return misuse(S, "cb_save_snapshot: call cb_init first");
  uint8_t *buf = NULL;
  size_t len = 0;
  if (cb_snapshot_to_buffer(S, &buf, &len)) return S->err.code;
  const uint8_t *range[2] = {buf, buf + len};
  cb_atomic_write(path, write_snapshot, range, &S->err);
  free(buf);
  return S->err.code;
}

int cb_restore_snapshot(cb_sim *S, const char *path) {
  if (!S->initialized || S->day != S->start) return misuse(S, "cb_restore_snapshot: call it after cb_init, before cb_step");
  uint8_t *buf = NULL;
  size_t len = 0;
  if (cb_read_whole(path, &buf, &len, &S->err)) return S->err.code;
  cb_snapshot_from_buffer(S, buf, len, path);
  free(buf);
  return S->err.code;
}

/* ---- results ---- */

int cb_get_totals(const cb_sim *S, cb_totals *o) {
  memset(o, 0, sizeof *o);
  if (!S->initialized) return CB_EMISUSE;
  const cb_metrics *m = &S->metrics;
  o->days_simulated = S->day - S->start;
  o->ordered_units = cb_metrics_total(m, CB_M_ORDERED_UNITS);
  o->procured_units = S->L.procured;
  o->delivered_units = cb_metrics_total(m, CB_M_DELIVERED_UNITS);
  o->seized_units = cb_metrics_total(m, CB_M_SEIZED_UNITS);
  o->relabeled_units = cb_metrics_total(m, CB_M_RELABELED_UNITS);
  o->in_transit_units = S->in_transit;
  double shelves = 0;
  for (uint32_t t = 0; t < S->ntraders_max; t++)
    for (uint32_t i = 0; i < S->T[t].nshelf; i++) shelves += S->T[t].shelf[i].qty;
  o->shelf_units = shelves;
  o->inspections = cb_metrics_total(m, CB_M_INSPECTIONS);
  o->bribes = cb_metrics_total(m, CB_M_BRIBES);
  o->fines = cb_metrics_total(m, CB_M_FINES);
  o->confiscations = cb_metrics_total(m, CB_M_CONFISCATIONS);
  o->bribes_usd = cb_metrics_total(m, CB_M_BRIBES_USD);
  o->fines_usd = cb_metrics_total(m, CB_M_FINES_USD);
  o->buyer_income_usd = cb_metrics_total(m, CB_M_BUYER_INCOME_USD);
  o->buyer_spending_usd = cb_metrics_total(m, CB_M_BUYER_SPENDING_USD);
  o->active_traders = (int32_t)S->nactive;
  o->buyers = S->B.n;
  o->traders_max = S->ntraders_max;
  o->middlemen = S->nmiddlemen;
  o->officials = S->nofficials;
  o->wall_seconds = now_seconds() - S->wall_start;
  return CB_OK;
}

int cb_metric_rows(cb_sim *S, int (*fn)(void *ctx, const cb_metric_row *row), void *ctx) {
  if (!S->initialized) return misuse(S, "cb_metric_rows: nothing simulated yet");
  int rc = cb_metrics_rows(&S->metrics, fn, ctx, &S->err);
  return rc == -1 && S->err.code ? S->err.code : rc;
}

int cb_total_figures(const cb_sim *S, void (*fn)(void *ctx, const char *name, double value), void *ctx) {
  cb_totals t;
  if (cb_get_totals(S, &t)) return CB_EMISUSE;
  cb_summary_each_total(&t, fn, ctx);
  return CB_OK;
}

const char *cb_scenario_sha256(const cb_sim *S) { return S->scenario_sha256; }
uint64_t cb_seed(const cb_sim *S) { return S->seed; }

/* metrics.csv is rendered in memory first: summary.json records its SHA-256, which ties the two
 * files of a run together (a pair from different runs can be recognised). */
typedef struct rendered {
  cb_sim *S;
  char *text;
  size_t len;
  char sha256[65];
} rendered;

static int write_rendered(FILE *f, void *ctx, cb_err *e) {
  (void)e;
  const rendered *r = ctx;
  return fwrite(r->text, 1, r->len, f) != r->len;
}

static int write_summary(FILE *f, void *ctx, cb_err *e) {
  rendered *r = ctx;
  return cb_summary_write_json(r->S, r->sha256, f, e);
}

static int render_metrics(rendered *r) {
  cb_sim *S = r->S;
  FILE *m = open_memstream(&r->text, &r->len);
  if (!m) return cb_err_set(&S->err, CB_ENOMEM, "out of memory rendering metrics.csv");
  int bad = cb_metrics_write_csv(&S->metrics, m, &S->err);
  if (fclose(m) != 0 || bad) {
    free(r->text);
    r->text = NULL;
    return S->err.code ? S->err.code : cb_err_set(&S->err, CB_ENOMEM, "out of memory rendering metrics.csv");
  }
  cb_sha256_bytes(r->text, r->len, r->sha256);
  return CB_OK;
}

int cb_write_outputs(cb_sim *S, const char *dir) {
  if (!S->initialized) return misuse(S, "cb_write_outputs: nothing simulated yet");
  char metrics[4096], summary[4096];
  if (cb_mkdir_p(dir, &S->err)) return S->err.code;
  rendered r = {.S = S};
  if (render_metrics(&r)) return S->err.code;
  snprintf(metrics, sizeof metrics, "%s/metrics.csv", dir);
  snprintf(summary, sizeof summary, "%s/summary.json", dir);
  const cb_output outs[2] = {{metrics, write_rendered, &r}, {summary, write_summary, &r}};
  int rc = cb_atomic_write_all(outs, 2, &S->err);
  free(r.text);
  return rc;
}

static int write_docs(FILE *f, void *ctx, cb_err *e) {
  (void)ctx;
  (void)e;
  fputs("# Scenario parameters\n\nGenerated from the parameter table in `src/io/scenario.c` by "
        "`contraband params`; do not edit by hand.\n\n", f);
  return cb_schema_write_markdown(cb_scenario_schema(), f);
}

int cb_write_param_docs(cb_sim *S, const char *path) {
  if (strcmp(path, "-") == 0) return write_docs(stdout, NULL, &S->err) ? cb_err_set(&S->err, CB_EIO, "cannot write to stdout") : CB_OK;
  return cb_atomic_write(path, write_docs, NULL, &S->err);
}
