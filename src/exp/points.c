/* Parameter ranges and the points in them, shared by sweeps, calibrations and sensitivity
 * designs: a range key.path=LOW:HIGH (":log" for a log-uniform scale), a unit coordinate mapped to
 * the value --set writes, and a design's points built from their unit coordinates. A range whose
 * bounds are both written as integers varies an integer parameter: its values are rounded. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp/experiment.h"
#include "io/summary.h"

/* One bound of a range: a finite number; `integer` if written without '.', 'e' or 'E'. */
static int parse_bound(const char *s, size_t n, double *v, int *integer) {
  char buf[64];
  if (n == 0 || n >= sizeof buf) return -1;
  memcpy(buf, s, n);
  buf[n] = '\0';
  char *end;
  *v = strtod(buf, &end);
  if (*end || !isfinite(*v)) return -1;
  *integer = strpbrk(buf, ".eE") == NULL;
  return 0;
}

int cb_exp_parse_range(cb_err *e, const char *option, const char *spec, cb_exp_range *r) {
  memset(r, 0, sizeof *r);
  const char *eq = strchr(spec, '='), *colon = eq ? strchr(eq, ':') : NULL, *scale = colon ? strchr(colon + 1, ':') : NULL;
  const char *hi_end = scale ? scale : spec + strlen(spec);
  int i1 = 0, i2 = 0;
  if (!eq || eq == spec || !colon || parse_bound(eq + 1, (size_t)(colon - eq - 1), &r->lo, &i1) ||
      parse_bound(colon + 1, (size_t)(hi_end - colon - 1), &r->hi, &i2) || (scale && strcmp(scale, ":log")))
    return cb_err_set(e, CB_EPARSE, "%s '%s': write key.path=LOW:HIGH with two numbers (LOW:HIGH:log for a log scale), e.g. "
                      "%s buyers.review_days=20:40", option, spec, option);
  if (r->lo > r->hi) return cb_err_set(e, CB_ESCHEMA, "%s '%s': LOW is above HIGH; write the range from low to high", option, spec);
  r->log = scale != NULL;
  if (r->log && r->lo <= 0) return cb_err_set(e, CB_ESCHEMA, "%s '%s': a log scale needs LOW above 0", option, spec);
  r->integer = i1 && i2;
  if (!(r->key = cb_xmalloc(e, (size_t)(eq - spec) + 1))) return e->code;
  memcpy(r->key, spec, (size_t)(eq - spec));
  r->key[eq - spec] = '\0';
  return CB_OK;
}

double cb_exp_range_value(const cb_exp_range *r, double x) {
  double v = r->log ? exp(log(r->lo) + (log(r->hi) - log(r->lo)) * x) : r->lo + (r->hi - r->lo) * x;
  if (x <= 0) v = r->lo; /* the ends exactly, whatever exp and log round to */
  if (x >= 1) v = r->hi;
  return r->integer ? (double)llround(v) : v;
}

/* The value of range r at unit coordinate x, as --set writes it. */
static void format_value(const cb_exp_range *r, double x, char out[64]) {
  double v = cb_exp_range_value(r, x);
  if (r->integer) snprintf(out, 64, "%lld", (long long)v);
  else snprintf(out, 64, "%.17g", v);
}

void cb_exp_free_points(cb_exp_point *pts, uint32_t n) {
  for (uint32_t p = 0; pts && p < n; p++) {
    for (int i = 0; i < pts[p].n; i++) free(pts[p].sets[i]);
    free(pts[p].sets);
    free(pts[p].json);
  }
  free(pts);
}

char *cb_exp_json_text(void (*write)(FILE *, const void *), const void *ctx) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  write(f, ctx);
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

typedef struct point_ctx {
  const cb_exp_range *r;
  int d;
  char (*values)[64];
} point_ctx;

static void write_point(FILE *f, const void *ctx) {
  const point_ctx *c = ctx;
  fputc('{', f);
  for (int i = 0; i < c->d; i++) {
    fputs(i ? ", " : "", f);
    cb_json_string(f, c->r[i].key);
    fprintf(f, ": %s", c->values[i]);
  }
  fputc('}', f);
}

int cb_exp_build_points(cb_err *e, const cb_exp_range *r, int d, const double *u, uint32_t n, cb_exp_point **out) {
  cb_exp_point *pts = cb_xcalloc(e, n ? n : 1, sizeof *pts);
  if (!pts) return e->code;
  char values[CB_EXP_MAX_RANGES][64];
  for (uint32_t p = 0; p < n && !e->code; p++) {
    pts[p].sets = cb_xcalloc(e, (size_t)d, sizeof(char *));
    if (!pts[p].sets) break;
    pts[p].n = d;
    for (int i = 0; i < d && !e->code; i++) {
      format_value(&r[i], u[(uint64_t)p * (uint64_t)d + (uint64_t)i], values[i]);
      size_t len = strlen(r[i].key) + strlen(values[i]) + 2;
      if ((pts[p].sets[i] = cb_xmalloc(e, len))) snprintf(pts[p].sets[i], len, "%s=%s", r[i].key, values[i]);
    }
    point_ctx pc = {r, d, values};
    if (!e->code && !(pts[p].json = cb_exp_json_text(write_point, &pc))) cb_err_set(e, CB_ENOMEM, "out of memory");
  }
  if (e->code) {
    cb_exp_free_points(pts, n);
    return e->code;
  }
  *out = pts;
  return CB_OK;
}

int cb_exp_ranges(cb_experiment *X, const char *option, cb_exp_range *r, int *d) {
  *d = 0;
  if (X->n_vary > CB_EXP_MAX_RANGES) return cb_err_set(&X->err, CB_EMISUSE, "at most %d %s parameters", CB_EXP_MAX_RANGES, option);
  for (; *d < X->n_vary; (*d)++)
    if (cb_exp_parse_range(&X->err, option, X->vary[*d], &r[*d])) break;
  for (int i = 0; i < *d && !X->err.code; i++)
    for (int j = 0; j < i; j++)
      if (!strcmp(r[i].key, r[j].key)) {
        cb_err_set(&X->err, CB_EMISUSE, "%s %s is given twice; give each parameter once", option, r[i].key);
        break;
      }
  if (X->err.code) { /* nothing is left to free: *d says so */
    cb_exp_free_ranges(r, *d);
    *d = 0;
  }
  return X->err.code;
}

void cb_exp_free_ranges(cb_exp_range *r, int d) {
  for (int i = 0; i < d; i++) free(r[i].key);
}
