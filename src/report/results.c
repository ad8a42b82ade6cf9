/* Reading results for reports (see results.h). Both sources go through one builder: series are
 * looked up by their coordinates in a hash table, values are kept as loose rows, and the dense
 * table is laid out once every run and period is known. */
#include "report/results.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/calendar.h"
#include "exp/store.h"
#include "io/files.h"
#include "io/metrics.h"

/* ---- the builder ---- */

typedef struct loose {
  uint32_t series, run;
  int32_t day;
  double value;
} loose;

typedef struct builder {
  rp_experiment *x;
  cb_err *e;
  uint32_t *slots, nslots; /* open addressing over series indexes + 1 (0: empty) */
  uint32_t cap_series;
  loose *rows;
  uint32_t nrows, cap_rows;
  uint32_t *runs, nruns, cap_runs;
  int32_t *days;
  uint32_t ndays, cap_days;
} builder;

static uint64_t key_hash(const char *const k[5]) {
  uint64_t h = 1469598103934665603ull;
  for (int i = 0; i < 5; i++) {
    for (const char *p = k[i]; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
    h = (h ^ 0xFFu) * 1099511628211ull; /* a separator no name contains */
  }
  return h;
}

static int key_equal(const rp_key *s, const char *const k[5]) {
  return !strcmp(s->metric, k[0]) && !strcmp(s->place, k[1]) && !strcmp(s->channel, k[2]) && !strcmp(s->origin, k[3]) &&
         !strcmp(s->category, k[4]);
}

static int rehash(builder *b) {
  uint32_t n = b->nslots ? 2 * b->nslots : 1024;
  uint32_t *slots = cb_xcalloc(b->e, n, sizeof *slots);
  if (!slots) return b->e->code;
  for (uint32_t i = 0; i < b->x->nseries; i++) {
    const rp_key *s = &b->x->series[i];
    const char *k[5] = {s->metric, s->place, s->channel, s->origin, s->category};
    uint32_t h = (uint32_t)key_hash(k) & (n - 1);
    while (slots[h]) h = (h + 1) & (n - 1);
    slots[h] = i + 1;
  }
  free(b->slots);
  b->slots = slots;
  b->nslots = n;
  return CB_OK;
}

/* The series' index, added if new; UINT32_MAX if memory ran out. */
static uint32_t series_index(builder *b, const char *const k[5]) {
  if (2 * (b->x->nseries + 1) > b->nslots && rehash(b)) return UINT32_MAX;
  uint32_t h = (uint32_t)key_hash(k) & (b->nslots - 1);
  for (; b->slots[h]; h = (h + 1) & (b->nslots - 1))
    if (key_equal(&b->x->series[b->slots[h] - 1], k)) return b->slots[h] - 1;
  rp_key *a = cb_xgrow(b->e, b->x->series, &b->cap_series, b->x->nseries, sizeof *a, 64);
  if (!a) return UINT32_MAX;
  b->x->series = a;
  rp_key *s = &a[b->x->nseries];
  char **f[5] = {&s->metric, &s->place, &s->channel, &s->origin, &s->category};
  for (int i = 0; i < 5; i++) *f[i] = cb_xstrdup(b->e, k[i]);
  b->x->nseries++; /* counted even if a copy failed, so that cb_rp_results_free frees the others */
  if (b->e->code) return UINT32_MAX;
  b->slots[h] = b->x->nseries;
  return b->x->nseries - 1;
}

static int add_u32(builder *b, uint32_t **a, uint32_t *n, uint32_t *cap, uint32_t v) {
  for (uint32_t i = *n; i-- > 0;)
    if ((*a)[i] == v) return CB_OK;
  uint32_t *g = cb_xgrow(b->e, *a, cap, *n, sizeof *g, 16);
  if (!g) return b->e->code;
  *a = g;
  g[(*n)++] = v;
  return CB_OK;
}

static int add_row(builder *b, const char *const k[5], uint32_t run, int32_t day, double value) {
  uint32_t s = series_index(b, k);
  if (s == UINT32_MAX) return b->e->code;
  loose *r = cb_xgrow(b->e, b->rows, &b->cap_rows, b->nrows, sizeof *r, 4096);
  if (!r) return b->e->code;
  b->rows = r;
  r[b->nrows++] = (loose){s, run, day, value};
  if (b->nruns == 0 || b->runs[b->nruns - 1] != run)
    if (add_u32(b, &b->runs, &b->nruns, &b->cap_runs, run)) return b->e->code;
  if (b->ndays == 0 || b->days[b->ndays - 1] != day)
    if (add_u32(b, (uint32_t **)&b->days, &b->ndays, &b->cap_days, (uint32_t)day)) return b->e->code;
  return CB_OK;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}
static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

static uint32_t find_u32(const uint32_t *a, uint32_t n, uint32_t v) {
  const uint32_t *p = bsearch(&v, a, n, sizeof *a, cmp_u32);
  return (uint32_t)(p - a);
}

/* Lays the loose rows out as the dense table; runs must already be in x->runs when the experiment
 * lists its runs itself (a store), else they are the runs the rows named. */
static int finish(builder *b) {
  rp_experiment *x = b->x;
  if (!x->runs) {
    x->runs = b->runs;
    x->nruns = b->nruns;
    b->runs = NULL;
  }
  if (x->nruns > 1) qsort(x->runs, x->nruns, sizeof *x->runs, cmp_u32);
  if (b->ndays > 1) qsort(b->days, b->ndays, sizeof *b->days, cmp_i32);
  x->days = b->days;
  x->ndays = b->ndays;
  b->days = NULL;
  size_t cells = (size_t)x->nseries * x->nruns * x->ndays;
  x->v = cb_xcalloc(b->e, cells ? cells : 1, sizeof *x->v);
  if (!x->v) return b->e->code;
  for (uint32_t i = 0; i < b->nrows; i++) {
    const loose *r = &b->rows[i];
    int32_t *d = bsearch(&r->day, x->days, x->ndays, sizeof *x->days, cmp_i32);
    uint32_t run = find_u32(x->runs, x->nruns, r->run);
    if (run < x->nruns) x->v[((size_t)r->series * x->nruns + run) * x->ndays + (uint32_t)(d - x->days)] = r->value;
  }
  return CB_OK;
}

static void builder_free(builder *b) {
  free(b->slots);
  free(b->rows);
  free(b->runs);
  free(b->days);
}

static int add_total(rp_experiment *x, cb_err *e, const char *name, uint32_t run_index, double value) {
  int i = cb_rp_total_index(x, name);
  if (i < 0) {
    char **names = cb_xrealloc(e, x->total_names, (x->ntotals + 1) * sizeof *names);
    if (!names) return e->code;
    x->total_names = names;
    double *t = cb_xrealloc(e, x->totals, (size_t)(x->ntotals + 1) * x->nruns * sizeof *t);
    if (!t) return e->code;
    x->totals = t;
    for (uint32_t r = 0; r < x->nruns; r++) t[(size_t)x->ntotals * x->nruns + r] = NAN;
    if (!(names[x->ntotals] = cb_xstrdup(e, name))) return e->code;
    i = (int)x->ntotals++;
  }
  if (run_index < x->nruns) x->totals[(size_t)i * x->nruns + run_index] = value;
  return CB_OK;
}

long cb_rp_run_index(const rp_experiment *x, uint32_t run) {
  const uint32_t *p = x->nruns ? bsearch(&run, x->runs, x->nruns, sizeof run, cmp_u32) : NULL;
  return p ? (long)(p - x->runs) : -1;
}

int cb_rp_total_index(const rp_experiment *x, const char *name) {
  for (uint32_t i = 0; i < x->ntotals; i++)
    if (!strcmp(x->total_names[i], name)) return (int)i;
  return -1;
}

/* ---- a run's output folder ---- */

/* Splits one metrics.csv line into its 7 fields in place; the number found, at most 8. */
static int split_fields(char *line, char *field[8]) {
  int n = 0;
  field[n++] = line;
  for (char *p = line; *p && n < 8; p++)
    if (*p == ',') {
      *p = '\0';
      field[n++] = p + 1;
    }
  return n;
}

static int parse_metrics_line(builder *b, const char *file, long lineno, char *line) {
  char *field[8];
  char *start = line;
  int n = split_fields(line, field);
  if (n != 7)
    return cb_err_set(b->e, CB_EPARSE, "%s:%ld:1: a metrics row has %d fields, not 7 (%s); the file is damaged: run the scenario again",
                      file, lineno, n, CB_METRICS_CSV_HEADER);
  int32_t day;
  if (cb_parse_date(field[0], &day))
    return cb_err_set(b->e, CB_EPARSE, "%s:%ld:1: date: '%s' is not a date (YYYY-MM-DD); the file is damaged: run the scenario again",
                      file, lineno, field[0]);
  char *end;
  errno = 0;
  double v = strtod(field[6], &end);
  if (!*field[6] || *end || errno == ERANGE || !isfinite(v))
    return cb_err_set(b->e, CB_EPARSE, "%s:%ld:%ld: value: '%s' is not a finite number; the file is damaged: run the scenario again",
                      file, lineno, (long)(field[6] - start) + 1, field[6]);
  const char *k[5] = {field[1], field[2], field[3], field[4], field[5]};
  return add_row(b, k, 0, day, v);
}

static int load_metrics_csv(builder *b, const char *file, const char *text) {
  const char *p = text;
  long lineno = 0;
  char *line = NULL;
  size_t cap = 0;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    lineno++;
    if (len + 1 > cap) {
      char *l = cb_xrealloc(b->e, line, len + 1);
      if (!l) break;
      line = l;
      cap = len + 1;
    }
    memcpy(line, p, len);
    line[len] = '\0';
    if (lineno == 1 && strcmp(line, CB_METRICS_CSV_HEADER)) {
      cb_err_set(b->e, CB_EPARSE, "%s:1:1: the header is not '%s'; give the folder a contraband run wrote", file, CB_METRICS_CSV_HEADER);
      break;
    }
    if (lineno > 1 && len > 0 && parse_metrics_line(b, file, lineno, line)) break;
    p += len + (nl ? 1 : 0);
  }
  free(line);
  if (!b->e->code && lineno < 1) cb_err_set(b->e, CB_EPARSE, "%s: the file is empty; run the scenario again", file);
  return b->e->code;
}

/* The --set assignments from a JSON list of strings (summary.json's, or a store's overrides). */
static int take_overrides(rp_experiment *x, json_t *list, const char *file, cb_err *e) {
  size_t n = json_array_size(list);
  if (!(x->overrides = cb_xcalloc(e, n ? n : 1, sizeof *x->overrides))) return e->code;
  for (size_t i = 0; i < n; i++) {
    const char *s = json_string_value(json_array_get(list, i));
    if (!s) return cb_err_set(e, CB_EPARSE, "%s: overrides[%zu] is not a string", file, i);
    if (!(x->overrides[x->noverrides++] = cb_xstrdup(e, s))) return e->code;
  }
  return CB_OK;
}

static const char *json_text(json_t *o, const char *field, const char *file, cb_err *e) {
  const char *s = json_string_value(json_object_get(o, field));
  if (!s) cb_err_set(e, CB_EPARSE, "%s: field '%s' is missing or not a string; give the summary.json a contraband run wrote", file, field);
  return s;
}

static int summary_identity(rp_experiment *x, json_t *root, const char *file, cb_err *e) {
  const char *f[3] = {"version", "scenario", "scenario_sha256"};
  char **dst[3] = {&x->version, &x->scenario, &x->scenario_sha256};
  for (int i = 0; i < 3; i++) {
    const char *s = json_text(root, f[i], file, e);
    if (!s || !(*dst[i] = cb_xstrdup(e, s))) return e->code;
  }
  json_t *seed = json_object_get(root, "seed"), *run = json_object_get(root, "run"), *ov = json_object_get(root, "overrides");
  if (!json_is_integer(seed) || !json_is_integer(run) || !json_is_array(ov))
    return cb_err_set(e, CB_EPARSE, "%s: fields 'seed', 'run' (integers) and 'overrides' (a list) are needed; give the summary.json a contraband run wrote", file);
  x->master_seed = (uint64_t)json_integer_value(seed);
  x->nruns = 1;
  if (!(x->runs = cb_xmalloc(e, sizeof *x->runs))) return e->code;
  x->runs[0] = (uint32_t)json_integer_value(run);
  if (take_overrides(x, ov, file, e)) return e->code;
  json_t *fork = json_object_get(root, "forked_from");
  const char *day = json_string_value(json_object_get(fork, "day"));
  if (day && !(x->fork_day = cb_xstrdup(e, day))) return e->code;
  return CB_OK;
}

static int summary_totals(rp_experiment *x, json_t *root, const char *file, cb_err *e) {
  json_t *totals = json_object_get(root, "totals"), *shares = json_object_get(root, "foreign_electronics_share_by_crossing");
  if (!json_is_object(totals) || !json_is_object(shares))
    return cb_err_set(e, CB_EPARSE, "%s: 'totals' and 'foreign_electronics_share_by_crossing' must be objects", file);
  const char *name;
  json_t *v;
  json_object_foreach(totals, name, v) {
    if (!json_is_number(v)) return cb_err_set(e, CB_EPARSE, "%s: totals.%s is not a number", file, name);
    if (add_total(x, e, name, 0, json_number_value(v))) return e->code;
  }
  json_object_foreach(shares, name, v) {
    char key[160];
    snprintf(key, sizeof key, "foreign_electronics_share.%s", name);
    if (!json_is_number(v)) return cb_err_set(e, CB_EPARSE, "%s: foreign_electronics_share_by_crossing.%s is not a number", file, name);
    if (add_total(x, e, key, 0, json_number_value(v))) return e->code;
  }
  json_t *tiers = json_object_get(root, "ordered_units_by_tier"); /* absent in runs of 0.1.0 */
  if (tiers && !json_is_object(tiers)) return cb_err_set(e, CB_EPARSE, "%s: 'ordered_units_by_tier' must be an object", file);
  json_object_foreach(tiers, name, v) {
    char key[160];
    snprintf(key, sizeof key, "ordered_units_by_tier.%s", name);
    if (!json_is_number(v)) return cb_err_set(e, CB_EPARSE, "%s: ordered_units_by_tier.%s is not a number", file, name);
    if (add_total(x, e, key, 0, json_number_value(v))) return e->code;
  }
  return CB_OK;
}

int cb_rp_summary_parse(rp_experiment *x, const char *text, size_t len, const char *file, char metrics_sha[65], cb_err *e) {
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return cb_err_set(e, CB_EPARSE, "%s:%d:%d: not valid JSON (%s); give the summary.json a contraband run wrote", file, je.line,
                      je.column, je.text);
  int rc = summary_identity(x, root, file, e) || summary_totals(x, root, file, e);
  const char *sha = rc ? NULL : json_text(root, "metrics_sha256", file, e);
  if (sha) snprintf(metrics_sha, 65, "%s", sha);
  json_decref(root);
  return e->code;
}

int cb_rp_metrics_parse(rp_experiment *x, const char *text, size_t len, const char *file, cb_err *e) {
  size_t nul = strlen(text);
  if (nul < len) return cb_err_set(e, CB_EPARSE, "%s: a NUL byte at offset %zu; the file is damaged: run the scenario again", file, nul);
  builder b = {.x = x, .e = e};
  uint32_t run = x->nruns ? x->runs[0] : 0; /* the summary's run number; the rows carry none */
  free(x->runs);
  x->runs = NULL;
  x->nruns = 0;
  if (!load_metrics_csv(&b, file, text)) finish(&b);
  builder_free(&b);
  if (!e->code && x->nruns == 0) return cb_err_set(e, CB_EPARSE, "%s: no metrics rows; run the scenario again", file);
  if (!e->code) x->runs[0] = run;
  return e->code;
}

/* A file read whole and handed to a parser. */
static int parse_file(const char *path, int (*parse)(rp_experiment *, const uint8_t *, size_t, const char *, void *, cb_err *),
                      rp_experiment *x, void *arg, cb_err *e) {
  uint8_t *text = NULL;
  size_t len = 0;
  if (!cb_read_whole(path, &text, &len, e)) parse(x, text, len, path, arg, e);
  free(text);
  return e->code;
}

static int parse_summary(rp_experiment *x, const uint8_t *text, size_t len, const char *file, void *sha, cb_err *e) {
  return cb_rp_summary_parse(x, (const char *)text, len, file, sha, e);
}

/* metrics.csv, once its bytes are shown to be the ones summary.json was written with. */
static int parse_metrics(rp_experiment *x, const uint8_t *text, size_t len, const char *file, void *pair, cb_err *e) {
  const char *const *p = pair; /* the summary's metrics_sha256 and its path */
  char actual[65];
  cb_sha256_bytes(text, len, actual);
  if (strcmp(p[0], actual))
    return cb_err_set(e, CB_EPARSE, "%s does not belong with %s: its SHA-256 is %.12s..., the summary's metrics_sha256 %.12s...; "
                      "run the scenario again to write the pair", file, p[1], actual, p[0]);
  return cb_rp_metrics_parse(x, (const char *)text, len, file, e);
}

static int load_run_folder(rp_results *r, const char *dir, cb_err *e) {
  char csv[4096], json[4096], sha[65] = "";
  snprintf(csv, sizeof csv, "%s/metrics.csv", dir);
  snprintf(json, sizeof json, "%s/summary.json", dir);
  if (!(r->exp = cb_xcalloc(e, 1, sizeof *r->exp))) return e->code;
  r->nexp = 1;
  rp_experiment *x = &r->exp[0];
  const char *pair[2] = {sha, json};
  if (!(x->kind = cb_xstrdup(e, "run")) || parse_file(json, parse_summary, x, sha, e)) return e->code;
  return parse_file(csv, parse_metrics, x, (void *)pair, e);
}

/* ---- a results store ---- */

typedef struct store_ctx {
  rp_results *r;
  builder *b;
  cb_err *e;
  const char *path; /* the store, for messages */
} store_ctx;

static char *dup_or_null(cb_err *e, const char *s) { return s ? cb_xstrdup(e, s) : NULL; }

static int take_experiment(void *ctx, const cb_store_row *row) {
  store_ctx *c = ctx;
  rp_experiment *a = cb_xrealloc(c->e, c->r->exp, (size_t)(c->r->nexp + 1) * sizeof *a);
  if (!a) return c->e->code;
  c->r->exp = a;
  rp_experiment *x = &a[c->r->nexp++];
  memset(x, 0, sizeof *x);
  x->id = (int64_t)row->num[0];
  x->kind = dup_or_null(c->e, row->text[1]);
  x->scenario = dup_or_null(c->e, row->text[2]);
  x->scenario_sha256 = dup_or_null(c->e, row->text[3]);
  x->master_seed = (uint64_t)strtoull(row->text[5] ? row->text[5] : "0", NULL, 10);
  x->fork_day = dup_or_null(c->e, row->text[6]);
  x->parent_id = (int64_t)row->num[7];
  x->version = dup_or_null(c->e, row->text[8]);
  if (c->e->code) return c->e->code;
  json_t *ov = json_loads(row->text[4] ? row->text[4] : "[]", 0, NULL);
  take_overrides(x, ov, c->path, c->e);
  json_decref(ov);
  return c->e->code;
}

static int take_run(void *ctx, const cb_store_row *row) {
  store_ctx *c = ctx;
  rp_experiment *x = &c->r->exp[c->r->nexp - 1];
  uint32_t *a = cb_xrealloc(c->e, x->runs, (x->nruns + 1) * sizeof *a);
  if (!a) return c->e->code;
  x->runs = a;
  a[x->nruns++] = (uint32_t)row->num[0];
  return CB_OK;
}

static int take_value(void *ctx, const cb_store_row *row) {
  store_ctx *c = ctx;
  const char *k[5];
  for (int i = 0; i < 5; i++) k[i] = row->text[2 + i] ? row->text[2 + i] : "";
  return add_row(c->b, k, (uint32_t)row->num[0], (int32_t)row->num[1], row->num[7]);
}

static int take_total(void *ctx, const cb_store_row *row) {
  store_ctx *c = ctx;
  rp_experiment *x = &c->r->exp[c->r->nexp - 1];
  uint32_t run = find_u32(x->runs, x->nruns, (uint32_t)row->num[1]);
  return add_total(x, c->e, row->text[0] ? row->text[0] : "", run, row->num[2]);
}

/* The experiment's runs first..last (all: 0..UINT32_MAX). */
static int load_experiment_data(cb_store *st, store_ctx *c, int64_t id, uint32_t first, uint32_t last) {
  static const char runs_sql[] = "SELECT run FROM runs WHERE experiment_id = ?1 AND run BETWEEN ?2 AND ?3 ORDER BY run";
  static const char values_sql[] =
      "SELECT v.run, v.day, s.metric, s.place, s.channel, s.origin, s.category, v.value FROM metric_values v"
      " JOIN series s ON s.id = v.series_id WHERE v.experiment_id = ?1 AND v.run BETWEEN ?2 AND ?3 ORDER BY s.ord, v.run, v.day";
  static const char totals_sql[] =
      "SELECT name, run, value FROM summaries WHERE experiment_id = ?1 AND run BETWEEN ?2 AND ?3 ORDER BY name, run";
  const int64_t p[3] = {id, first, last};
  builder b = {.x = &c->r->exp[c->r->nexp - 1], .e = c->e};
  c->b = &b;
  if (!cb_store_query_params(st, runs_sql, p, 3, take_run, c, c->e) && !cb_store_query_params(st, values_sql, p, 3, take_value, c, c->e))
    if (!finish(&b)) cb_store_query_params(st, totals_sql, p, 3, take_total, c, c->e);
  builder_free(&b);
  return c->e->code;
}

#define EXPERIMENT_COLUMNS \
  "SELECT id, kind, scenario, scenario_sha256, overrides, CAST(master_seed AS TEXT), fork_day, coalesce(parent_id, 0), version" \
  " FROM experiments"

int cb_rp_store_experiment(rp_experiment *x, cb_store *st, const char *path, int64_t id, uint32_t first, uint32_t last, cb_err *e) {
  memset(x, 0, sizeof *x);
  rp_results one = {0};
  store_ctx c = {.r = &one, .e = e, .path = path};
  if (!cb_store_query(st, EXPERIMENT_COLUMNS " WHERE id = ?1", id, take_experiment, &c, e)) {
    if (one.nexp == 1) load_experiment_data(st, &c, id, first, last);
    else cb_err_set(e, CB_EPARSE, "%s: the store holds no experiment %lld", path, (long long)id);
  }
  if (!e->code) {
    *x = one.exp[0];
    memset(&one.exp[0], 0, sizeof one.exp[0]);
  }
  cb_rp_results_free(&one);
  return e->code;
}

static int load_store(rp_results *r, const char *path, cb_err *e) {
  static const char exp_sql[] = EXPERIMENT_COLUMNS " WHERE ?1 = ?1 ORDER BY id";
  cb_store *st = NULL;
  if (cb_store_open(&st, path, 0, e)) return e->code;
  r->from_store = 1;
  rp_results listed = {0};
  store_ctx c = {.r = &listed, .e = e, .path = path};
  if (!cb_store_query(st, exp_sql, 0, take_experiment, &c, e)) {
    /* each experiment's data, read into r one by one so that a failure leaves r freeable */
    for (int i = 0; i < listed.nexp && !e->code; i++) {
      rp_experiment *a = cb_xrealloc(e, r->exp, (size_t)(r->nexp + 1) * sizeof *a);
      if (!a) break;
      r->exp = a;
      r->exp[r->nexp++] = listed.exp[i];
      memset(&listed.exp[i], 0, sizeof listed.exp[i]);
      c.r = r;
      load_experiment_data(st, &c, r->exp[r->nexp - 1].id, 0, UINT32_MAX);
    }
  }
  cb_rp_results_free(&listed);
  cb_store_close(st);
  if (!e->code && r->nexp == 0)
    cb_err_set(e, CB_EPARSE, "%s: the results store holds no experiments; store runs with contraband ensemble or compare first", path);
  return e->code;
}

int cb_rp_results_load(rp_results *r, const char *path, cb_err *e) {
  memset(r, 0, sizeof *r);
  struct stat st;
  if (stat(path, &st))
    return cb_err_set(e, CB_EIO, "%s: %s; give a run's output folder (contraband run --out DIR) or a results store (--db FILE)", path,
                      strerror(errno));
  if (!(r->path = cb_xstrdup(e, path))) return e->code;
  return S_ISDIR(st.st_mode) ? load_run_folder(r, path, e) : load_store(r, path, e);
}

void cb_rp_experiment_free(rp_experiment *x) {
  free(x->kind);
  free(x->scenario);
  free(x->scenario_sha256);
  free(x->version);
  free(x->fork_day);
  for (uint32_t i = 0; i < x->noverrides; i++) free(x->overrides[i]);
  free(x->overrides);
  free(x->runs);
  for (uint32_t i = 0; i < x->nseries; i++) {
    rp_key *s = &x->series[i];
    free(s->metric), free(s->place), free(s->channel), free(s->origin), free(s->category);
  }
  free(x->series);
  free(x->days);
  free(x->v);
  for (uint32_t i = 0; i < x->ntotals; i++) free(x->total_names[i]);
  free(x->total_names);
  free(x->totals);
}

void cb_rp_results_free(rp_results *r) {
  for (int i = 0; i < r->nexp; i++) cb_rp_experiment_free(&r->exp[i]);
  free(r->exp);
  free(r->path);
  memset(r, 0, sizeof *r);
}
