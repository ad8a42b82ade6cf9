/* The work of one fuzz input per target (see inputs.h), shared by the fuzzers and the tests. */
#include "inputs.h"

#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contraband.h"
#include "io/files.h"
#include "io/scenario.h"
#include "io/series.h"
#include "engine/calendar.h"
#include "engine/text.h"
#include "io/ytree.h"
#include "model/snapshot.h"
#include "report/chart.h"
#include "report/results.h"

/* The bytes as a C string (cut at a first NUL, like any C string), or NULL if memory ran out. */
static char *text_of(const uint8_t *data, size_t size, cb_err *e) {
  char *t = cb_xmalloc(e, size + 1);
  if (!t) return NULL;
  if (size) memcpy(t, data, size);
  t[size] = '\0';
  return t;
}

/* Binds t into a scenario on the heap (the struct is large). */
static int bind(const cb_ytree *t, cb_err *e) {
  cb_scenario *sc = cb_xmalloc(e, sizeof *sc);
  if (!sc) return e->code;
  int rc = cb_scenario_bind(sc, t, e);
  free(sc);
  return rc;
}

int cbf_scenario(const uint8_t *data, size_t size, cb_err *e) {
  cb_err_clear(e);
  char *text = text_of(data, size, e);
  if (!text) return e->code;
  cb_ytree t;
  int rc = cb_ytree_load_string(&t, text, "fuzz.yaml", e);
  free(text);
  if (rc == CB_OK) {
    rc = bind(&t, e);
    cb_ytree_free(&t);
  }
  return rc;
}

int cbf_series(const uint8_t *data, size_t size, cb_err *e) {
  cb_err_clear(e);
  cb_series s;
  int rc = cb_series_parse(&s, (const char *)data, size, "fuzz.csv", e);
  if (rc == CB_OK) cb_series_free(&s);
  return rc;
}

int cbf_results(const uint8_t *data, size_t size, cb_err *e) {
  cb_err_clear(e);
  const uint8_t *nul = memchr(data, 0, size);
  size_t jlen = nul ? (size_t)(nul - data) : size, clen = nul ? size - jlen - 1 : size;
  const uint8_t *csv = nul ? nul + 1 : data;
  /* both readers want a buffer with a NUL after it, as cb_read_whole gives them */
  char *copy = malloc(size + 1);
  if (!copy) return cb_err_set(e, CB_ENOMEM, "out of memory");
  rp_experiment x;
  memset(&x, 0, sizeof x);
  char sha[65] = "";
  memcpy(copy, data, jlen);
  copy[jlen] = '\0';
  int rc = cb_rp_summary_parse(&x, copy, jlen, "summary.json", sha, e);
  cb_err metrics = {0};
  memcpy(copy, csv, clen);
  copy[clen] = '\0';
  int rc2 = cb_rp_metrics_parse(&x, copy, clen, "metrics.csv", &metrics);
  if (rc == CB_OK && rc2 != CB_OK) *e = metrics;
  cb_rp_experiment_free(&x);
  free(copy);
  return rc ? rc : rc2;
}

int cbf_override(const char *base_text, const char *base_name, const uint8_t *data, size_t size, cb_err *e) {
  cb_err_clear(e);
  char *text = text_of(data, size, e);
  if (!text) return e->code;
  cb_ytree t;
  int rc = cb_ytree_load_string(&t, base_text, base_name, e);
  if (rc != CB_OK) {
    free(text);
    cb_err_prefix(e, "fuzz: the base scenario does not load: ");
    return rc;
  }
  /* text[size] ends the last assignment */
  int index = 1;
  for (size_t at = 0; rc == CB_OK && at <= size; at += strlen(text + at) + 1)
    rc = cb_ytree_override(&t, text + at, index++, e);
  if (rc == CB_OK) rc = bind(&t, e);
  cb_ytree_free(&t);
  free(text);
  return rc;
}

/* A simulation of the fuzzed snapshots' world, initialised; NULL with a message in e if not. */
static cb_sim *snapshot_world(const char *scenario, cb_err *e) {
  static const char *const sets[] = CBF_SNAPSHOT_SETS;
  cb_sim *S = cb_new();
  if (!S) return NULL;
  int rc = cb_read_scenario(S, scenario);
  for (size_t i = 0; rc == CB_OK && i < sizeof sets / sizeof sets[0]; i++) rc = cb_set(S, sets[i]);
  if (rc == CB_OK) rc = cb_init(S);
  if (rc == CB_OK) return S;
  cb_err_set(e, CB_EMISUSE, "fuzz: cannot set up the snapshot world of %s: %s", scenario, cb_errmsg(S));
  cb_free(S);
  return NULL;
}

int cbf_snapshot(const char *scenario, const uint8_t *data, size_t size, cb_err *e) {
  cb_err_clear(e);
  cb_sim *S = snapshot_world(scenario, e);
  if (!S) return e->code ? e->code : cb_err_set(e, CB_ENOMEM, "fuzz: out of memory");
  /* an exact-size copy, so reading past the input's end is caught */
  uint8_t *buf = cb_xmalloc(e, size ? size : 1);
  if (!buf) {
    cb_free(S);
    return e->code;
  }
  if (size) memcpy(buf, data, size);
  if (size >= SHA256_DIGEST_SIZE) {
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, size - SHA256_DIGEST_SIZE, buf);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, buf + size - SHA256_DIGEST_SIZE);
  }
  int rc = cb_snapshot_from_buffer(S, buf, size, "fuzz.snap");
  if (rc != CB_OK) cb_err_set(e, rc, "%s", cb_errmsg(S));
  free(buf);
  cb_free(S);
  return rc;
}

/* ---- the gnuplot script writer ---- */

enum { GP_TEXTS = 16 }; /* chart: 11, interval plot: 5 */

/* A chart of two panels of two lines each over three periods, with two events, a fork and a
 * reference line, and an interval plot of three rows, their texts t[0..15]. */
typedef struct gp_figures {
  rp_chart chart;
  rp_event events[2];
  int32_t days[3];
  rp_forest forest;
  const char *labels[3];
  double est[3], lo[3], hi[3];
} gp_figures;

static int gp_build(gp_figures *g, const char *const t[GP_TEXTS], cb_err *e) {
  memset(g, 0, sizeof *g);
  const char *dates[3] = {"2012-01-01", "2013-06-01", "2015-12-31"};
  for (int d = 0; d < 3; d++) cb_parse_date(dates[d], &g->days[d]);
  rp_chart *c = &g->chart;
  if (cb_rp_chart_init(c, 2, 2, e)) return e->code;
  snprintf(c->title, sizeof c->title, "%s", t[0]);
  snprintf(c->ylabel, sizeof c->ylabel, "%s", t[1]);
  c->days = g->days;
  c->ndays = 3;
  c->bands = 1;
  c->ref_y = 0.7;
  snprintf(c->ref_label, sizeof c->ref_label, "%s", t[8]);
  g->events[0] = (rp_event){g->days[0] + 30, g->days[0] + 30, ""};
  g->events[1] = (rp_event){g->days[1], g->days[1] + 90, ""};
  snprintf(g->events[0].label, sizeof g->events[0].label, "%s", t[9]);
  snprintf(g->events[1].label, sizeof g->events[1].label, "%s", t[10]);
  c->events = g->events;
  c->nevents = 2;
  c->fork_day = g->days[1];
  for (int k = 0; k < 2 && !e->code; k++) {
    snprintf(c->panels[k].title, sizeof c->panels[k].title, "%s", t[2 + k]);
    for (int i = 0; i < 2 && !e->code; i++) {
      double runs[6] = {1, 2 + i, 3 + k, 2, 3, 5}; /* two runs of three periods */
      rp_band b;
      if (!cb_rp_band_of(runs, 2, 3, &b, e)) cb_rp_panel_add(&c->panels[k], t[4 + 2 * k + i], &b, i, k, e);
    }
  }
  rp_forest *p = &g->forest;
  for (int i = 0; i < 3; i++) {
    g->labels[i] = t[13 + i];
    g->est[i] = i - 1.0;
    g->lo[i] = i - 2.5;
    g->hi[i] = i + 0.5;
  }
  *p = (rp_forest){.n = 3, .labels = g->labels, .est = g->est, .lo = g->lo, .hi = g->hi};
  snprintf(p->title, sizeof p->title, "%s", t[11]);
  snprintf(p->xlabel, sizeof p->xlabel, "%s", t[12]);
  return e->code;
}

/* Both scripts of g, one after the other, in a malloc'd buffer (*len bytes). */
static char *gp_scripts(const gp_figures *g, size_t *len, cb_err *e) {
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  if (!f) return cb_err_set(e, CB_ENOMEM, "fuzz: open_memstream failed"), NULL;
  int bad = cb_rp_chart_script(f, &g->chart, RP_FMT_SVG) || cb_rp_forest_script(f, &g->forest, RP_FMT_SVG);
  if (fclose(f) || bad) {
    free(buf);
    return cb_err_set(e, CB_ENOMEM, "fuzz: writing the scripts failed"), NULL;
  }
  return buf;
}

/* Where in a script, for messages: the offset and the line around it. */
static int gp_broken(cb_err *e, const char *script, size_t len, size_t at, const char *what) {
  size_t from = at, to = at;
  while (from > 0 && script[from - 1] != '\n') from--;
  while (to < len && script[to] != '\n') to++;
  char raw[160], line[640];
  snprintf(raw, sizeof raw, "%.*s", (int)(to - from), script + from);
  cb_text_printable(line, sizeof line, raw);
  return cb_err_set(e, CB_EMISUSE, "fuzz_gnuplot: %s at byte %zu of the script, in the line: %s", what, at, line);
}

/* The script with each single-quoted literal's contents taken out ('' stays), each literal and
 * what lies outside them checked; NULL with e set on a broken rule. */
static char *gp_outside(const char *s, size_t len, cb_err *e) {
  char *out = cb_xmalloc(e, len + 1), *text = cb_xmalloc(e, len + 1);
  if (!out || !text) {
    free(out);
    free(text);
    return NULL;
  }
  size_t n = 0;
  for (size_t i = 0; i < len && !e->code;) {
    unsigned char c = (unsigned char)s[i];
    if (c != '\'') {
      if (c == '`' || c == '@' || c == '"' || c >= 0x80 || (c < 0x20 && c != '\n') || c == 0x7F)
        gp_broken(e, s, len, i, "a backquote, '@', double quote or a byte outside printable ASCII outside a literal");
      out[n++] = (char)c;
      i++;
      continue;
    }
    /* where the literal ends as gnuplot 5.4's scanner sees it: at the first quote, except that a
     * character followed by two quotes takes them in as one quote of the text */
    size_t j = i + 1, m = 0;
    while (!e->code) {
      if (j >= len || s[j] == '\n') {
        gp_broken(e, s, len, i, "a literal not closed on its line");
        break;
      }
      if (s[j] == '\'') break;
      text[m++] = s[j];
      if (j + 2 < len && s[j + 1] == '\'' && s[j + 2] == '\'') {
        text[m++] = '\'';
        j += 3;
      } else j++;
    }
    /* the text gnuplot draws: UTF-8 without control characters */
    for (size_t k = 0; k < m && !e->code;) {
      uint32_t cp = 0;
      size_t c_len = cb_utf8_char((const unsigned char *)text + k, m - k, &cp);
      if (!c_len || cb_is_control(cp)) gp_broken(e, s, len, i, "a control character or invalid UTF-8 inside a literal");
      k += c_len ? c_len : 1;
    }
    out[n++] = '\'';
    out[n++] = '\'';
    i = j + 1;
  }
  out[n] = '\0';
  free(text);
  if (!e->code && strstr(out, "\\\n")) gp_broken(e, out, n, (size_t)(strstr(out, "\\\n") - out), "a line ending in a backslash (continued)");
  if (!e->code && strstr(out, "system")) gp_broken(e, out, n, (size_t)(strstr(out, "system") - out), "\"system\" outside literals");
  if (e->code) {
    free(out);
    return NULL;
  }
  return out;
}

int cbf_gnuplot_check_script(const char *script, size_t len, cb_err *e) {
  cb_err_clear(e);
  free(gp_outside(script, len, e));
  return e->code;
}

/* The scripts of the figures with texts t, checked; their outside-literals form in *outside. */
static int gp_check(const char *const t[GP_TEXTS], gp_figures *g, char **outside, cb_err *e) {
  *outside = NULL;
  size_t len = 0;
  char *script = NULL;
  if (!gp_build(g, t, e) && (script = gp_scripts(g, &len, e))) *outside = gp_outside(script, len, e);
  free(script);
  return e->code;
}

int cbf_gnuplot(const uint8_t *data, size_t size, int render, cb_err *e) {
  cb_err_clear(e);
  char *text = text_of(data, size, e);
  if (!text) return e->code;
  const char *t[GP_TEXTS], *none[GP_TEXTS];
  size_t starts[GP_TEXTS], k = 0;
  for (size_t at = 0; k < GP_TEXTS && at <= size; at += strlen(text + at) + 1) starts[k++] = at;
  for (size_t i = 0; i < GP_TEXTS; i++) {
    t[i] = text + starts[i % k];
    none[i] = "";
  }
  gp_figures *g = cb_xcalloc(e, 2, sizeof *g);
  char *hostile = NULL, *blank = NULL;
  if (g && !gp_check(t, &g[0], &hostile, e) && !gp_check(none, &g[1], &blank, e) && strcmp(hostile, blank)) {
    size_t at = 0;
    while (hostile[at] == blank[at]) at++;
    gp_broken(e, hostile, strlen(hostile), at, "text reaching the script outside a literal (it differs from the script with empty texts)");
  }
  if (!e->code && render) {
    char *img = NULL;
    size_t len = 0;
    if (!cb_rp_chart_render(&g[0].chart, RP_FMT_SVG, "", &img, &len, e)) {
      free(img);
      img = NULL;
      cb_rp_forest_render(&g[0].forest, RP_FMT_SVG, "", &img, &len, e);
    }
    free(img);
  }
  if (g) {
    cb_rp_chart_free(&g[0].chart);
    cb_rp_chart_free(&g[1].chart);
  }
  free(g);
  free(hostile);
  free(blank);
  free(text);
  return e->code;
}

void cbf_print(const char *target, int rc, const cb_err *e) {
  if (getenv("CB_FUZZ_PRINT")) fprintf(stderr, "%s: %d %s\n", target, rc, rc ? e->msg : "(accepted)");
}

uint8_t *cbf_read_file(const char *path, size_t *size) {
  cb_err e;
  cb_err_clear(&e);
  uint8_t *b;
  return cb_read_whole(path, &b, size, &e) == CB_OK ? b : NULL;
}
