/* summary.json writer and the summary figures it needs. */
#include "io/summary.h"

#include <string.h>

#include "engine/calendar.h"

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

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

int cb_summary_write_json(cb_sim *S, FILE *f, cb_err *e) {
  (void)e;
  cb_totals t;
  cb_get_totals(S, &t);
  char a[11], b[11];
  cb_format_date(S->start, a);
  cb_format_date(S->end, b);
  fputs("{\n  \"version\": ", f);
  json_string(f, cb_version());
  fputs(",\n  \"scenario\": ", f);
  json_string(f, S->scenario_path);
  fprintf(f, ",\n  \"scenario_sha256\": \"%s\",\n  \"seed\": %llu,\n", S->scenario_sha256, (unsigned long long)S->seed);
  fputs("  \"overrides\": [", f);
  for (int i = 0; i < S->n_overrides; i++) {
    if (i > 0) fputs(", ", f);
    json_string(f, S->overrides[i]);
  }
  fprintf(f, "],\n  \"start\": \"%s\",\n  \"end\": \"%s\",\n  \"days_simulated\": %d,\n", a, b, t.days_simulated);
  fprintf(f, "  \"wall_seconds\": %.3f,\n", t.wall_seconds);
  fprintf(f, "  \"agents\": {\"buyers\": %u, \"traders_max\": %u, \"middlemen\": %u, \"officials\": %u},\n", S->B.n,
          S->ntraders_max, S->nmiddlemen, S->nofficials);
  fputs("  \"totals\": {\n", f);
  fprintf(f, "    \"ordered_units\": %.0f,\n    \"procured_units\": %.0f,\n    \"delivered_units\": %.0f,\n", t.ordered_units, t.procured_units, t.delivered_units);
  fprintf(f, "    \"seized_units\": %.0f,\n    \"relabeled_units\": %.0f,\n    \"in_transit_units\": %.0f,\n    \"shelf_units\": %.0f,\n", t.seized_units, t.relabeled_units, t.in_transit_units, t.shelf_units);
  fprintf(f, "    \"inspections\": %.0f,\n    \"bribes\": %.0f,\n    \"fines\": %.0f,\n    \"confiscations\": %.0f,\n", t.inspections, t.bribes, t.fines, t.confiscations);
  fprintf(f, "    \"bribes_usd\": %.2f,\n    \"fines_usd\": %.2f,\n", t.bribes_usd, t.fines_usd);
  fprintf(f, "    \"buyer_income_usd\": %.2f,\n    \"buyer_spending_usd\": %.2f,\n", t.buyer_income_usd, t.buyer_spending_usd);
  fprintf(f, "    \"active_traders\": %d\n  },\n", t.active_traders);
  fputs("  \"foreign_electronics_share_by_crossing\": {", f);
  for (int x = 0; x < S->sc.n_crossings; x++) {
    fputs(x ? ", " : "", f);
    json_string(f, S->sc.crossings[x].name);
    fprintf(f, ": %.6f", cb_summary_route_share(S, x));
  }
  fputs("}\n}\n", f);
  return ferror(f) ? -1 : 0;
}
