/* The targets file and the statistics it names, computed from the report's results table (a run
 * folder or one experiment of a store), so a calibration reads its own runs and a reference run
 * the same way. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/targets.h"
#include "engine/calendar.h"
#include "io/files.h"
#include "io/series.h"
#include "io/summary.h"
#include "io/ytree.h"

static const char *const dim_names[CB_TARGET_DIMS] = {"metric", "place", "channel", "origin", "category"};
static const char *const statistic_names[] = {"sum", "mean", "share", "series"};

/* "file:line:col: target NAME, KEY: what is wrong; what to do" */
static int bad(cb_err *e, const cb_ynode *n, const char *target, const char *key, const char *what) {
  return cb_err_set(e, CB_ESCHEMA, "%s:%d:%d: target %s, %s: %s", n->src, n->line, n->col, target, key, what);
}

/* The same about key i of map m, placed at the key itself (an unknown key is a misspelt key). */
static int bad_key(cb_err *e, const cb_ynode *m, size_t i, const char *target, const char *what) {
  return cb_err_set(e, CB_ESCHEMA, "%s:%d:%d: target %s, %s: %s", m->src, m->key_line[i], m->key_col[i], target, m->keys[i], what);
}

static int scalar_number(cb_err *e, const cb_ynode *n, const char *target, const char *key, double *out) {
  if (n->kind != CB_Y_SCALAR || cb_yparse_double(n->value, out))
    return bad(e, n, target, key, "expected a finite number");
  return CB_OK;
}

static int scalar_date(cb_err *e, const cb_ynode *n, const char *target, const char *key, int32_t *out) {
  if (n->kind != CB_Y_SCALAR || cb_parse_date(n->value, out)) return bad(e, n, target, key, "expected a date YYYY-MM-DD");
  return CB_OK;
}

static int one_of(const char *s, const char *const *names, int n) {
  for (int i = 0; i < n; i++)
    if (!strcmp(s, names[i])) return i;
  return -1;
}

/* {metric: delivered_units, origin: [kr, jp]}: each dimension a name or a list of names. */
static int read_filter(cb_err *e, const cb_ynode *n, const char *target, const char *key, cb_target_filter *f) {
  if (n->kind != CB_Y_MAP)
    return bad(e, n, target, key, "expected a map of columns to names, e.g. {metric: delivered_units, place: sinuiju}");
  for (size_t i = 0; i < n->n; i++) {
    int d = one_of(n->keys[i], dim_names, CB_TARGET_DIMS);
    const cb_ynode *c = n->children[i];
    if (d < 0) return bad_key(e, n, i, target, "unknown column; use metric, place, channel, origin or category");
    size_t m = c->kind == CB_Y_SEQ ? c->n : 1;
    if (c->kind == CB_Y_MAP || m == 0) return bad(e, c, target, n->keys[i], "expected a name or a non-empty list of names");
    if (!(f->v[d] = cb_xcalloc(e, m, sizeof(char *)))) return e->code;
    for (size_t j = 0; j < m; j++) {
      const cb_ynode *s = c->kind == CB_Y_SEQ ? c->children[j] : c;
      if (s->kind != CB_Y_SCALAR || !s->value[0]) return bad(e, s, target, n->keys[i], "expected a name");
      if (!(f->v[d][j] = cb_xstrdup(e, s->value))) return e->code;
      f->n[d] = (uint32_t)(j + 1);
    }
  }
  return CB_OK;
}

/* A CSV series (entity,time,value, as the scenario's exogenous series) for a series target. */
static int read_csv_series(cb_err *e, cb_target *t, const cb_ynode *obs, const char *targets_path) {
  const cb_ynode *csv = cb_ynode_child(obs, "csv", NULL), *ent = cb_ynode_child(obs, "entity", NULL);
  if (!csv || !ent || csv->kind != CB_Y_SCALAR || ent->kind != CB_Y_SCALAR)
    return bad(e, obs, t->name, "observed", "a series is observed as {csv: FILE, entity: NAME} (FILE with the header entity,time,value)");
  char dir[4096], path[8192];
  cb_dirname(targets_path, dir, sizeof dir);
  snprintf(path, sizeof path, "%s%s%s", csv->value[0] == '/' ? "" : dir, csv->value[0] == '/' ? "" : "/", csv->value);
  cb_series s = {0};
  if (cb_series_load(&s, path, e)) {
    cb_err_prefix(e, "%s:%d:%d: target %s, observed.csv: ", csv->src, csv->line, csv->col, t->name);
    return e->code;
  }
  int k = cb_series_find(&s, ent->value);
  if (k < 0) {
    cb_series_free(&s);
    return bad(e, ent, t->name, "observed.entity", "no rows of this entity in the CSV file");
  }
  const cb_series_entity *se = &s.ent[k];
  t->day = cb_xcalloc(e, se->n, sizeof *t->day);
  t->obs = cb_xcalloc(e, se->n, sizeof *t->obs);
  for (size_t i = 0; t->day && t->obs && i < se->n; i++)
    if (se->day[i] >= t->from && se->day[i] <= t->to) {
      t->day[t->npoints] = se->day[i];
      t->obs[t->npoints++] = se->value[i];
    }
  cb_series_free(&s);
  if (!e->code && t->npoints == 0) return bad(e, csv, t->name, "observed.csv", "no observation falls between the target's from and to dates");
  t->observed = CB_OBSERVED_SERIES;
  return e->code;
}

static int read_observed(cb_err *e, cb_target *t, const cb_ynode *obs, const char *targets_path) {
  if (!obs || (obs->kind == CB_Y_SCALAR && !strcmp(obs->value, "run"))) {
    t->observed = CB_OBSERVED_RUN;
    return CB_OK;
  }
  if (obs->kind != CB_Y_MAP)
    return bad(e, obs, t->name, "observed", "expected run, {value: X}, {low: L, high: H} or, for a series, {csv: FILE, entity: NAME}");
  if (t->statistic == CB_TARGET_SERIES) return read_csv_series(e, t, obs, targets_path);
  const cb_ynode *v = cb_ynode_child(obs, "value", NULL), *lo = cb_ynode_child(obs, "low", NULL),
                 *hi = cb_ynode_child(obs, "high", NULL);
  for (size_t i = 0; i < obs->n; i++)
    if (one_of(obs->keys[i], (const char *const[]){"value", "low", "high"}, 3) < 0)
      return bad_key(e, obs, i, t->name, "unknown key; observed takes value, or low and high");
  if (v && (lo || hi)) return bad(e, obs, t->name, "observed", "give either value or low and high, not both");
  if (v) {
    t->observed = CB_OBSERVED_VALUE;
    return scalar_number(e, v, t->name, "observed.value", &t->value);
  }
  if (!lo || !hi) return bad(e, obs, t->name, "observed", "an interval needs both low and high");
  if (scalar_number(e, lo, t->name, "observed.low", &t->low) || scalar_number(e, hi, t->name, "observed.high", &t->high)) return e->code;
  if (t->low > t->high) return bad(e, lo, t->name, "observed.low", "low is above high; write the interval from low to high");
  t->observed = CB_OBSERVED_INTERVAL;
  return CB_OK;
}

static int read_target(cb_err *e, cb_target *t, const char *name, const cb_ynode *n, const char *path) {
  static const char *const keys[] = {"statistic", "select", "part", "from", "to", "observed"};
  char where[4200];
  snprintf(where, sizeof where, "%s:%d:%d", n->src, n->line, n->col);
  if (!(t->name = cb_xstrdup(e, name)) || !(t->where = cb_xstrdup(e, where))) return e->code;
  t->from = INT32_MIN;
  t->to = INT32_MAX;
  if (n->kind != CB_Y_MAP) return bad(e, n, name, "definition", "expected a map with statistic, select, observed, ...");
  for (size_t i = 0; i < n->n; i++)
    if (one_of(n->keys[i], keys, 6) < 0)
      return bad_key(e, n, i, name, "unknown key; a target takes statistic, select, part, from, to and observed");
  const cb_ynode *st = cb_ynode_child(n, "statistic", NULL), *sel = cb_ynode_child(n, "select", NULL),
                 *part = cb_ynode_child(n, "part", NULL), *from = cb_ynode_child(n, "from", NULL), *to = cb_ynode_child(n, "to", NULL);
  if (!st || st->kind != CB_Y_SCALAR || (t->statistic = one_of(st->value, statistic_names, 4)) < 0)
    return bad(e, st ? st : n, name, "statistic", "expected sum, mean, share or series");
  if (!sel) return bad(e, n, name, "select", "missing: say which rows, e.g. select: {metric: delivered_units}");
  if (read_filter(e, sel, name, "select", &t->select)) return e->code;
  if (t->select.n[0] == 0) return bad(e, sel, name, "select", "name the metric (or metrics) the statistic is of");
  if ((t->statistic == CB_TARGET_SHARE) != (part != NULL))
    return bad(e, part ? part : n, name, "part", part ? "only a share has a part" : "a share needs a part: the rows it is the share of");
  if (part && read_filter(e, part, name, "part", &t->part)) return e->code;
  if ((from && scalar_date(e, from, name, "from", &t->from)) || (to && scalar_date(e, to, name, "to", &t->to))) return e->code;
  if (t->from > t->to) return bad(e, from, name, "from", "from is after to");
  return read_observed(e, t, cb_ynode_child(n, "observed", NULL), path);
}

int cb_targets_load(cb_targets *T, const char *path, cb_err *e) {
  memset(T, 0, sizeof *T);
  cb_ytree tree = {0};
  if (cb_ytree_load_file(&tree, path, e)) return e->code;
  const cb_ynode *root = tree.root, *list = cb_ynode_child(root, "targets", NULL);
  for (size_t i = 0; i < root->n && !e->code; i++)
    if (strcmp(root->keys[i], "targets"))
      cb_err_set(e, CB_ESCHEMA, "%s:%d:%d: unknown key '%s'; a targets file has one key, targets", path, root->key_line[i],
                 root->key_col[i], root->keys[i]);
  if (!e->code && (!list || list->kind != CB_Y_MAP || list->n == 0))
    cb_err_set(e, CB_ESCHEMA, "%s:%d:%d: targets: expected a map of target names to their definitions (see docs/calibration.md)", path,
               list ? list->line : 1, list ? list->col : 1);
  if (!e->code && (T->t = cb_xcalloc(e, list->n, sizeof *T->t)))
    for (size_t i = 0; i < list->n && !e->code; i++, T->n++) read_target(e, &T->t[i], list->keys[i], list->children[i], path);
  cb_ytree_free(&tree);
  if (e->code) cb_targets_free(T);
  return e->code;
}

static void free_filter(cb_target_filter *f) {
  for (int d = 0; d < CB_TARGET_DIMS; d++) {
    for (uint32_t j = 0; j < f->n[d]; j++) free(f->v[d][j]);
    free(f->v[d]);
  }
}

void cb_targets_free(cb_targets *T) {
  for (int i = 0; T->t && i < T->n; i++) {
    cb_target *t = &T->t[i];
    free(t->name);
    free(t->where);
    free_filter(&t->select);
    free_filter(&t->part);
    free(t->day);
    free(t->obs);
  }
  free(T->t);
  memset(T, 0, sizeof *T);
}

int cb_targets_need_run(const cb_targets *T) {
  for (int i = 0; i < T->n; i++)
    if (T->t[i].observed == CB_OBSERVED_RUN) return 1;
  return 0;
}

uint32_t cb_target_width(const cb_target *t) { return t->statistic == CB_TARGET_SERIES ? t->npoints : 1; }

static int matches(const cb_target_filter *f, const rp_key *k) {
  const char *col[CB_TARGET_DIMS] = {k->metric, k->place, k->channel, k->origin, k->category};
  for (int d = 0; d < CB_TARGET_DIMS; d++) {
    if (f->n[d] == 0) continue;
    uint32_t j = 0;
    while (j < f->n[d] && strcmp(f->v[d][j], col[d])) j++;
    if (j == f->n[d]) return 0;
  }
  return 1;
}

/* The recording period holding day: the last whose first day is not after it; -1 before the first. */
static long period_of(const rp_experiment *x, int32_t day) {
  long lo = 0, hi = (long)x->ndays;
  while (lo < hi) {
    long mid = (lo + hi) / 2;
    if (x->days[mid] <= day) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

int cb_target_compute(const cb_target *t, const rp_experiment *x, uint32_t ri, double *out, cb_err *e) {
  uint32_t width = cb_target_width(t), found = 0;
  double all = 0, part = 0;
  uint64_t cells = 0;
  for (uint32_t i = 0; i < width; i++) out[i] = 0;
  for (uint32_t s = 0; s < x->nseries; s++) {
    if (!matches(&t->select, &x->series[s])) continue;
    found++;
    const double *v = rp_values(x, s, ri);
    int in_part = t->statistic == CB_TARGET_SHARE && matches(&t->part, &x->series[s]);
    if (t->statistic == CB_TARGET_SERIES) {
      for (uint32_t i = 0; i < width; i++) {
        long p = period_of(x, t->day[i]);
        if (p < 0) return cb_err_set(e, CB_ESCHEMA, "%s: target %s: an observed date lies before the run's first recording period", t->where, t->name);
        out[i] += v[p];
      }
      continue;
    }
    for (uint32_t d = 0; d < x->ndays; d++) {
      if (x->days[d] < t->from || x->days[d] > t->to) continue;
      all += v[d];
      cells++;
      if (in_part) part += v[d];
    }
  }
  if (!found) {
    char metrics[512] = "";
    for (uint32_t i = 0; i < t->select.n[0]; i++)
      snprintf(metrics + strlen(metrics), sizeof metrics - strlen(metrics), "%s%s", i ? ", " : "", t->select.v[0][i]);
    return cb_err_set(e, CB_ESCHEMA, "%s: target %s: no series of the results matches its select (metric %s; check the names against the "
                      "metric, place, channel, origin and category columns of metrics.csv; a flow that was always zero has no rows)",
                      t->where, t->name, metrics);
  }
  if (t->statistic == CB_TARGET_SUM) out[0] = all;
  else if (t->statistic == CB_TARGET_MEAN) out[0] = cells ? all / (double)cells : NAN;
  else if (t->statistic == CB_TARGET_SHARE) out[0] = all != 0 ? part / all : NAN; /* a share of nothing is undefined */
  return CB_OK;
}

int cb_targets_observe(cb_targets *T, const rp_experiment *x, const char *path, cb_err *e) {
  for (int i = 0; i < T->n && !e->code; i++) {
    cb_target *t = &T->t[i];
    if (t->observed != CB_OBSERVED_RUN) continue;
    if (t->statistic == CB_TARGET_SERIES) {
      if (!(t->day = cb_xcalloc(e, x->ndays ? x->ndays : 1, sizeof *t->day)) || !(t->obs = cb_xcalloc(e, x->ndays ? x->ndays : 1, sizeof *t->obs)))
        break;
      for (uint32_t d = 0; d < x->ndays; d++)
        if (x->days[d] >= t->from && x->days[d] <= t->to) t->day[t->npoints++] = x->days[d];
      if (t->npoints == 0) {
        cb_err_set(e, CB_ESCHEMA, "%s: target %s: %s has no recording period between the target's dates", t->where, t->name, path);
        break;
      }
      if (!cb_target_compute(t, x, 0, t->obs, e)) t->observed = CB_OBSERVED_SERIES;
    } else if (!cb_target_compute(t, x, 0, &t->value, e)) {
      if (!isfinite(t->value)) cb_err_set(e, CB_ESCHEMA, "%s: target %s: undefined in %s (a share of nothing)", t->where, t->name, path);
      t->observed = CB_OBSERVED_VALUE;
    }
    if (e->code) cb_err_prefix(e, "--observed %s: ", path);
  }
  return e->code;
}

double cb_target_discrepancy(const cb_target *t, const double *values) {
  switch (t->observed) {
    case CB_OBSERVED_VALUE: return values[0] - t->value;
    case CB_OBSERVED_INTERVAL: return values[0] < t->low ? values[0] - t->low : values[0] > t->high ? values[0] - t->high : isnan(values[0]) ? NAN : 0.0;
    case CB_OBSERVED_SERIES: {
      double ss = 0;
      for (uint32_t i = 0; i < t->npoints; i++) ss += (values[i] - t->obs[i]) * (values[i] - t->obs[i]);
      return sqrt(ss / t->npoints);
    }
    default: return NAN;
  }
}

static void write_filter(FILE *f, const cb_target_filter *fl) {
  fputc('{', f);
  int first = 1;
  for (int d = 0; d < CB_TARGET_DIMS; d++) {
    if (!fl->n[d]) continue;
    fprintf(f, "%s\"%s\": [", first ? "" : ", ", dim_names[d]);
    first = 0;
    for (uint32_t j = 0; j < fl->n[d]; j++) {
      if (j) fputs(", ", f);
      cb_json_string(f, fl->v[d][j]);
    }
    fputc(']', f);
  }
  fputc('}', f);
}

int cb_targets_json(const cb_targets *T, char **out, cb_err *e) {
  size_t len = 0;
  *out = NULL;
  FILE *f = open_memstream(out, &len);
  if (!f) return cb_err_set(e, CB_ENOMEM, "out of memory");
  fputc('[', f);
  for (int i = 0; i < T->n; i++) {
    const cb_target *t = &T->t[i];
    fputs(i ? ", {\"name\": " : "{\"name\": ", f);
    cb_json_string(f, t->name);
    fprintf(f, ", \"statistic\": \"%s\", \"select\": ", statistic_names[t->statistic]);
    write_filter(f, &t->select);
    if (t->statistic == CB_TARGET_SHARE) {
      fputs(", \"part\": ", f);
      write_filter(f, &t->part);
    }
    fprintf(f, ", \"from\": %d, \"to\": %d", (int)t->from, (int)t->to);
    if (t->observed == CB_OBSERVED_VALUE) fprintf(f, ", \"observed\": {\"value\": %.17g}", t->value);
    else if (t->observed == CB_OBSERVED_INTERVAL) fprintf(f, ", \"observed\": {\"low\": %.17g, \"high\": %.17g}", t->low, t->high);
    else if (t->observed == CB_OBSERVED_SERIES) {
      fputs(", \"observed\": {\"series\": [", f);
      for (uint32_t k = 0; k < t->npoints; k++) fprintf(f, "%s[%d, %.17g]", k ? ", " : "", (int)t->day[k], t->obs[k]);
      fputs("]}", f);
    }
    fputc('}', f);
  }
  fputc(']', f);
  if (fclose(f) != 0) {
    free(*out);
    *out = NULL;
    return cb_err_set(e, CB_ENOMEM, "out of memory");
  }
  return CB_OK;
}
