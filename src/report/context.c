/* The scenario behind a report (see context.h). */
#include "report/context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/text.h"
#include "io/files.h"
#include "io/scenario.h"
#include "io/schema.h"

static int take_param(void *ctx, const char *key, const char *value, int is_default, const cb_field *f) {
  struct {
    rp_context *c;
    cb_err *e;
  } *t = ctx;
  rp_param *a = cb_xrealloc(t->e, t->c->params, (size_t)(t->c->nparams + 1) * sizeof *a);
  if (!a) return t->e->code;
  t->c->params = a;
  rp_param *p = &a[t->c->nparams++];
  memset(p, 0, sizeof *p);
  p->key = cb_xstrdup(t->e, key);
  p->value = cb_xstrdup(t->e, value);
  p->is_default = is_default;
  p->unit = f->unit;
  p->doc = f->doc;
  return t->e->code;
}

static int add_event(rp_context *c, cb_err *e, const char *kind, const char *name, int32_t start, int32_t end, const char *what) {
  rp_event_info *a = cb_xrealloc(e, c->events, (size_t)(c->nevents + 1) * sizeof *a);
  if (!a) return e->code;
  c->events = a;
  rp_event_info *v = &a[c->nevents++];
  snprintf(v->kind, sizeof v->kind, "%s", kind);
  snprintf(v->name, sizeof v->name, "%s", name);
  v->start = start;
  v->end = end;
  snprintf(v->what, sizeof v->what, "%s", what);
  return CB_OK;
}

/* Names of a reference list's entries, "a, b, c" (all when the list is empty). */
static void ref_names(char *buf, size_t cap, const cb_reflist *l, const char *base, size_t stride, const char *all) {
  buf[0] = '\0';
  if (l->n == 0) {
    snprintf(buf, cap, "%s", all);
    return;
  }
  for (int i = 0; i < l->n; i++) {
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", base + (size_t)l->idx[i] * stride);
  }
}

/* What a measure does, in words: its goods list, inspection regime and income effect. */
static void sanction_what(char *what, size_t cap, const cb_scenario *sc, const cb_sc_sanction *s) {
  char list[128], cats[128];
  size_t n = 0;
  what[0] = '\0';
  if (s->origins.n) {
    ref_names(list, sizeof list, &s->origins, sc->origins[0].name, sizeof sc->origins[0], "");
    ref_names(cats, sizeof cats, &s->categories, sc->categories[0].name, sizeof sc->categories[0], "every category");
    n += (size_t)snprintf(what + n, cap - n, "%s lists %s goods (%.60s; %.60s)", sc->authorities[s->by].name, s->action ? "lift" : "ban",
                          list, cats);
  }
  if (n < cap && s->inspected_at.n)
    n += (size_t)snprintf(what + n, cap - n, "%s%d checkpoints inspect x%g", n ? "; " : "", s->inspected_at.n, s->inspect_factor);
  if (n < cap && s->income_lost > 0) {
    ref_names(list, sizeof list, &s->income_sources, sc->income_sources[0].name, sizeof sc->income_sources[0], "");
    snprintf(what + n, cap - n, "%sincome from %.60s cut by %g", n ? "; " : "", list, s->income_lost);
  }
}

static int collect_events(rp_context *c, const cb_scenario *sc, cb_err *e) {
  char what[192], list[128];
  for (int i = 0; i < sc->n_sanctions && !e->code; i++) {
    const cb_sc_sanction *s = &sc->sanctions[i];
    sanction_what(what, sizeof what, sc, s);
    add_event(c, e, "sanction", s->name, s->date < sc->sim.start ? sc->sim.start : s->date, s->end < sc->sim.end ? s->end : sc->sim.end, what);
  }
  for (int i = 0; i < sc->n_crackdowns && !e->code; i++) {
    const cb_sc_crackdown *k = &sc->crackdowns[i];
    snprintf(what, sizeof what, "%d checkpoints; inspections x%g, bribes found out x%g, confiscations x%g", k->checkpoints.n, k->inspect_factor,
             k->monitor_factor, k->confiscate_factor);
    add_event(c, e, "crackdown", k->name, k->start, k->end, what);
  }
  for (int i = 0; i < sc->n_campaigns && !e->code; i++) {
    snprintf(what, sizeof what, "buy-domestic campaign, strength %g", sc->campaigns[i].strength);
    add_event(c, e, "campaign", sc->campaigns[i].name, sc->campaigns[i].start, sc->campaigns[i].end, what);
  }
  for (int i = 0; i < sc->n_closures && !e->code; i++) {
    const cb_sc_closure *k = &sc->closures[i];
    snprintf(what, sizeof what, "crossing %s closed", sc->crossings[k->crossing].name);
    add_event(c, e, "closure", k->name, k->start, k->end, what);
  }
  for (int i = 0; i < sc->n_income_shocks && !e->code; i++) {
    const cb_sc_income_shock *k = &sc->income_shocks[i];
    ref_names(list, sizeof list, &k->sources, sc->income_sources[0].name, sizeof sc->income_sources[0], "every buyer's whole income");
    snprintf(what, sizeof what, "income from %.100s cut by %g", list, k->factor);
    add_event(c, e, "income shock", k->name, k->date, k->date, what);
  }
  return e->code;
}

static int cmp_event(const void *a, const void *b) {
  const rp_event_info *x = a, *y = b;
  if (x->start != y->start) return (x->start > y->start) - (x->start < y->start);
  return strcmp(x->name, y->name);
}

/* Reads, overrides and binds the scenario; a problem with the file itself is a note, not an error,
 * unless the caller named the file. */
static int read_scenario(rp_context *c, const rp_experiment *x, const char *path, cb_ytree *t, cb_scenario *sc, cb_err *e) {
  const char *file = path ? path : x->scenario;
  cb_err local = {0};
  char sha[65];
  if (!file || cb_sha256_file(file, sha, &local)) {
    if (path || local.code == CB_ENOMEM) return cb_err_set(e, local.code ? local.code : CB_EIO, "%s", local.msg);
    snprintf(c->note, sizeof c->note, "the scenario file %.300s could not be read (%.600s); give it with --scenario FILE", file ? file : "(none)",
             local.msg);
    return CB_OK;
  }
  if (x->scenario_sha256 && strcmp(sha, x->scenario_sha256)) {
    if (path)
      return cb_err_set(e, CB_EPARSE, "%s: its SHA-256 %.12s... is not the %.12s... recorded with the results; give the scenario file they were made from",
                        file, sha, x->scenario_sha256);
    snprintf(c->note, sizeof c->note, "the scenario file %s has changed since the results were made (SHA-256 %.12s..., not %.12s...)", file, sha,
             x->scenario_sha256);
    return CB_OK;
  }
  int rc = cb_scenario_read(t, file, &local);
  for (uint32_t i = 0; !rc && i < x->noverrides; i++) rc = cb_ytree_override(t, x->overrides[i], (int)i + 1, &local);
  if (!rc) rc = cb_scenario_bind(sc, t, &local);
  if (rc == CB_ENOMEM) return cb_err_set(e, CB_ENOMEM, "%s", local.msg);
  if (rc) snprintf(c->note, sizeof c->note, "the scenario file %.300s no longer reads: %.600s", file, local.msg);
  else c->ok = 1;
  return CB_OK;
}

int cb_rp_context_load(rp_context *c, const rp_experiment *x, const char *path, cb_err *e) {
  memset(c, 0, sizeof *c);
  cb_ytree t = {0};
  cb_scenario *sc = cb_xcalloc(e, 1, sizeof *sc);
  if (sc && !read_scenario(c, x, path, &t, sc, e) && c->ok) {
    struct {
      rp_context *c;
      cb_err *e;
    } take = {c, e};
    if (!cb_schema_each_value(cb_scenario_schema(), &t, take_param, &take) && !collect_events(c, sc, e) && c->nevents > 1)
      qsort(c->events, (size_t)c->nevents, sizeof *c->events, cmp_event);
  }
  cb_ytree_free(&t);
  free(sc);
  if (c->note[0]) { /* it names a path recorded with the results: shown escaped, like messages */
    char raw[sizeof c->note];
    memcpy(raw, c->note, sizeof raw);
    cb_text_printable(c->note, sizeof c->note, raw);
  }
  return e->code;
}

void cb_rp_context_free(rp_context *c) {
  for (int i = 0; i < c->nparams; i++) {
    free(c->params[i].key);
    free(c->params[i].value);
  }
  free(c->params);
  free(c->events);
  memset(c, 0, sizeof *c);
}

int cb_rp_context_markers(const rp_context *c, rp_event **out, cb_err *e) {
  *out = cb_xcalloc(e, (size_t)c->nevents + 1, sizeof **out);
  if (!*out) return e->code;
  for (int i = 0; i < c->nevents; i++) {
    const rp_event_info *v = &c->events[i];
    (*out)[i].start = v->start;
    (*out)[i].end = v->end - v->start > 183 ? v->start : v->end;
    snprintf((*out)[i].label, sizeof (*out)[i].label, "%d", i + 1);
  }
  return CB_OK;
}
