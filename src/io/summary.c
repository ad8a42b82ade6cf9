/* summary.json writer and the summary figures it needs. */
#include "io/summary.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "engine/calendar.h"
#include "engine/text.h"

double cb_summary_route_share(const cb_sim *S, int crossing) {
  const cb_metrics *m = &S->metrics;
  double through = 0, all = 0;
  for (uint32_t p = 0; p < m->nperiods; p++) {
    const double *row = m->hist + (size_t)p * m->nslots;
    for (int x = 0; x < S->sc.n_crossings; x++)
      for (int ch = 0; ch < CB_NCHANNELS; ch++)
        for (int o = 0; o < S->norig; o++) {
          if (!cb_goods_is_foreign(S, o)) continue;
          for (int k = 0; k < S->ncat; k++) {
            if (!S->sc.categories[k].electronics) continue;
            double v = row[cb_metrics_slot(m, CB_M_DELIVERED_UNITS, x, ch, o, k)];
            all += v;
            if (x == crossing) through += v;
          }
        }
  }
  return all > 0 ? through / all : -1.0;
}

double cb_summary_tier_units(const cb_sim *S, const char *tier) {
  const cb_metrics *m = &S->metrics;
  int nmarkets = m->nplace[cb_metric_def_of(CB_M_ORDERED_UNITS)->place]; /* ordered_units is by market, origin, kind */
  double units = 0;
  for (uint32_t p = 0; p < m->nperiods; p++) {
    const double *row = m->hist + (size_t)p * m->nslots;
    for (int k = 0; k < S->ncat; k++) {
      if (strcmp(S->sc.categories[k].tier, tier) != 0) continue;
      for (int pl = 0; pl < nmarkets; pl++)
        for (int o = 0; o < S->norig; o++) units += row[cb_metrics_slot(m, CB_M_ORDERED_UNITS, pl, 0, o, k)];
    }
  }
  return units;
}

int cb_summary_tier_category(const cb_sim *S, int i) {
  for (int k = 0; k < S->ncat; k++) {
    int seen = 0;
    for (int j = 0; j < k && !seen; j++) seen = strcmp(S->sc.categories[j].tier, S->sc.categories[k].tier) == 0;
    if (!seen && i-- == 0) return k;
  }
  return -1;
}

static void write_tiers(const cb_sim *S, FILE *f) {
  fputs("  \"ordered_units_by_tier\": {", f);
  for (int i = 0, k; (k = cb_summary_tier_category(S, i)) >= 0; i++) {
    fputs(i ? ", " : "", f);
    cb_json_string(f, S->sc.categories[k].tier);
    fprintf(f, ": %.0f", cb_summary_tier_units(S, S->sc.categories[k].tier));
  }
  fputs("},\n", f);
}

void cb_json_string(FILE *f, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  fputc('"', f);
  for (size_t left = strlen(s); left > 0;) {
    uint32_t cp = 0;
    size_t len = cb_utf8_char(p, left, &cp);
    if (!len) fputs("\\ufffd", f); /* JSON is UTF-8: jansson refuses a file with an invalid byte */
    else if (cp == '"' || cp == '\\') fprintf(f, "\\%c", (char)cp);
    else if (cb_is_control(cp)) fprintf(f, "\\u%04x", (unsigned)cp);
    else fwrite(p, 1, len, f);
    len = len ? len : 1;
    p += len;
    left -= len;
  }
  fputc('"', f);
}

/* The run's totals as named figures: one table for summary.json and the results store. */
static const struct total_field {
  const char *name;
  size_t offset;   /* of a double in cb_totals, or of active_traders (int32_t) when decimals < 0 */
  int decimals;
} total_fields[] = {
  {"ordered_units", offsetof(cb_totals, ordered_units), 0},
  {"procured_units", offsetof(cb_totals, procured_units), 0},
  {"delivered_units", offsetof(cb_totals, delivered_units), 0},
  {"seized_units", offsetof(cb_totals, seized_units), 0},
  {"relabeled_units", offsetof(cb_totals, relabeled_units), 0},
  {"in_transit_units", offsetof(cb_totals, in_transit_units), 0},
  {"shelf_units", offsetof(cb_totals, shelf_units), 0},
  {"inspections", offsetof(cb_totals, inspections), 0},
  {"bribes", offsetof(cb_totals, bribes), 0},
  {"fines", offsetof(cb_totals, fines), 0},
  {"confiscations", offsetof(cb_totals, confiscations), 0},
  {"bribes_usd", offsetof(cb_totals, bribes_usd), 2},
  {"fines_usd", offsetof(cb_totals, fines_usd), 2},
  {"buyer_income_usd", offsetof(cb_totals, buyer_income_usd), 2},
  {"buyer_spending_usd", offsetof(cb_totals, buyer_spending_usd), 2},
  {"active_traders", offsetof(cb_totals, active_traders), -1},
};

static double total_value(const cb_totals *t, const struct total_field *f) {
  const char *base = (const char *)t + f->offset;
  if (f->decimals < 0) {
    int32_t v;
    memcpy(&v, base, sizeof v);
    return v;
  }
  double v;
  memcpy(&v, base, sizeof v);
  return v;
}

void cb_summary_each_total(const cb_totals *t, void (*fn)(void *ctx, const char *name, double value), void *ctx) {
  for (size_t i = 0; i < sizeof total_fields / sizeof *total_fields; i++) fn(ctx, total_fields[i].name, total_value(t, &total_fields[i]));
}

int cb_summary_write_json(cb_sim *S, const char *metrics_sha256, FILE *f, cb_err *e) {
  cb_totals t;
  cb_get_totals(S, &t);
  for (size_t i = 0; i < sizeof total_fields / sizeof *total_fields; i++)
    if (!isfinite(total_value(&t, &total_fields[i])))
      return cb_err_set(e, CB_ENUMERIC, "summary: the total %s is not a finite number; nothing was written. This is a fault in "
                        "contraband: please report it with the scenario and seed", total_fields[i].name);
  char a[11], b[11];
  cb_format_date(S->start, a);
  cb_format_date(S->end, b);
  fputs("{\n  \"version\": ", f);
  cb_json_string(f, cb_version());
  fputs(",\n  \"scenario\": ", f);
  cb_json_string(f, S->scenario_path);
  fprintf(f, ",\n  \"scenario_sha256\": \"%s\",\n", S->scenario_sha256);
  if (metrics_sha256) fprintf(f, "  \"metrics_sha256\": \"%s\",\n", metrics_sha256);
  fprintf(f, "  \"seed\": %llu,\n  \"run\": %u,\n", (unsigned long long)S->seed, S->run);
  fputs("  \"forked_from\": ", f);
  if (S->forked_from[0]) {
    char fd[11];
    cb_format_date(S->forked_day, fd);
    fputs("{\"snapshot\": ", f);
    cb_json_string(f, S->forked_from);
    fprintf(f, ", \"day\": \"%s\"},\n", fd);
  } else {
    fputs("null,\n", f);
  }
  fputs("  \"overrides\": [", f);
  for (int i = 0; i < S->n_overrides; i++) {
    if (i > 0) fputs(", ", f);
    cb_json_string(f, S->overrides[i]);
  }
  fprintf(f, "],\n  \"start\": \"%s\",\n  \"end\": \"%s\",\n  \"days_simulated\": %d,\n", a, b, t.days_simulated);
  fprintf(f, "  \"wall_seconds\": %.3f,\n", t.wall_seconds);
  fprintf(f, "  \"agents\": {\"buyers\": %u, \"traders_max\": %u, \"middlemen\": %u, \"officials\": %u},\n", S->B.n,
          S->ntraders_max, S->nmiddlemen, S->nofficials);
  fputs("  \"totals\": {\n", f);
  size_t nt = sizeof total_fields / sizeof *total_fields;
  for (size_t i = 0; i < nt; i++)
    fprintf(f, "    \"%s\": %.*f%s\n", total_fields[i].name, total_fields[i].decimals > 0 ? total_fields[i].decimals : 0,
            total_value(&t, &total_fields[i]), i + 1 < nt ? "," : "");
  fputs("  },\n", f);
  write_tiers(S, f);
  fputs("  \"foreign_electronics_share_by_crossing\": {", f);
  for (int x = 0; x < S->sc.n_crossings; x++) {
    fputs(x ? ", " : "", f);
    cb_json_string(f, S->sc.crossings[x].name);
    fprintf(f, ": %.6f", cb_summary_route_share(S, x));
  }
  fputs("}\n}\n", f);
  return ferror(f) ? -1 : 0;
}
