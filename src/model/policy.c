/* The policy timeline: each day, the scenario's dated events set the state the agents face —
 * which goods are on which authority's list (sanctions and the North's own bans), how hard each
 * checkpoint enforces (crackdowns, sanctions' inspection regimes), which channels are stopped at
 * which crossing, whether a buy-domestic campaign runs, and how much hard currency each source
 * of buyers' income still yields (Kaesong's closure, sanctions on exports). */
#include <math.h>
#include <string.h>

#include "model/world.h"

int cb_policy_init(cb_sim *S) {
  const cb_scenario *sc = &S->sc;
  cb_err *e = &S->err;
  S->listed = cb_xcalloc(e, (size_t)S->nprod, sizeof *S->listed);
  S->cp_inspect = cb_xcalloc(e, (size_t)sc->n_checkpoints, sizeof(double));
  S->cp_monitor = cb_xcalloc(e, (size_t)sc->n_checkpoints, sizeof(double));
  S->cp_confiscate = cb_xcalloc(e, (size_t)sc->n_checkpoints, sizeof(double));
  S->closed = cb_xcalloc(e, (size_t)sc->n_crossings, sizeof(uint32_t));
  if (e->code) return e->code;
  S->enforced_any = 0;
  for (int a = 0; a < sc->n_authorities; a++)
    for (int j = 0; j < sc->authorities[a].enforced_by.n; j++) {
      S->kind_enforces[sc->authorities[a].enforced_by.idx[j]] |= UINT32_C(1) << a;
      S->enforced_any |= UINT32_C(1) << a;
    }
  /* sanctions in date order, stable, so a later ban or easing overrides an earlier one */
  for (int i = 0; i < sc->n_sanctions; i++) {
    int j = i;
    for (; j > 0 && sc->sanctions[S->sanction_order[j - 1]].date > sc->sanctions[i].date; j--) S->sanction_order[j] = S->sanction_order[j - 1];
    S->sanction_order[j] = i;
  }
  return CB_OK;
}

static int in_force(const cb_sc_sanction *s, int32_t day) { return day >= s->date && day <= s->end; }

/* Puts a measure's goods on its authority's list, or takes them off. */
static void list_goods(cb_sim *S, const cb_sc_sanction *s) {
  uint32_t bit = UINT32_C(1) << s->by;
  for (int j = 0; j < s->origins.n; j++)
    for (int k = 0; k < S->ncat; k++) {
      int covered = s->categories.n == 0;
      for (int c = 0; c < s->categories.n; c++) covered |= s->categories.idx[c] == k;
      if (!covered) continue;
      uint32_t *l = &S->listed[cb_product(S, k, s->origins.idx[j])];
      *l = s->action == CB_SANCTION_EASE ? *l & ~bit : *l | bit;
    }
}

/* One rule for every cut in hard currency, whether a sanction's or an income shock's: the named
 * sources keep (1 - lost) of what they yielded; no sources named means every buyer's whole
 * income. Nothing falls below zero. */
static void cut_income(cb_sim *S, const cb_reflist *sources, double lost) {
  double keep = 1.0 - lost;
  if (sources->n == 0) {
    S->income_all = fmax(0.0, S->income_all * keep);
    return;
  }
  for (int j = 0; j < sources->n; j++) S->income_left[sources->idx[j]] = fmax(0.0, S->income_left[sources->idx[j]] * keep);
}

static void step_up(cb_sim *S, const cb_reflist *checkpoints, double inspect, double monitor, double confiscate) {
  for (int j = 0; j < checkpoints->n; j++) {
    int c = checkpoints->idx[j];
    S->cp_inspect[c] *= inspect;
    S->cp_monitor[c] *= monitor;
    S->cp_confiscate[c] *= confiscate;
  }
}

/* The state on a day is recomputed from the scenario alone — measures replayed in date order (the
 * scenario's order on one date), intervals composed — so applying a day twice, or restoring a run
 * mid-way, gives the same state. */
void cb_policy_apply(cb_sim *S, int32_t day) {
  const cb_scenario *sc = &S->sc;
  memset(S->listed, 0, (size_t)S->nprod * sizeof *S->listed);
  for (int c = 0; c < sc->n_checkpoints; c++) S->cp_inspect[c] = S->cp_monitor[c] = S->cp_confiscate[c] = 1.0;
  S->income_all = 1.0;
  for (int s = 0; s < CB_MAX_SOURCES; s++) S->income_left[s] = 1.0;
  for (int n = 0; n < sc->n_sanctions; n++) {
    const cb_sc_sanction *s = &sc->sanctions[S->sanction_order[n]];
    if (!in_force(s, day)) continue;
    list_goods(S, s);
    step_up(S, &s->inspected_at, s->inspect_factor, s->monitor_factor, 1.0);
    if (s->income_lost > 0) cut_income(S, &s->income_sources, s->income_lost);
  }
  for (int i = 0; i < sc->n_income_shocks; i++)
    if (sc->income_shocks[i].date <= day) cut_income(S, &sc->income_shocks[i].sources, sc->income_shocks[i].factor);
  for (int i = 0; i < sc->n_crackdowns; i++) {
    const cb_sc_crackdown *k = &sc->crackdowns[i];
    if (day >= k->start && day <= k->end) step_up(S, &k->checkpoints, k->inspect_factor, k->monitor_factor, k->confiscate_factor);
  }
  for (int c = 0; c < sc->n_crossings; c++) S->closed[c] = 0;
  for (int i = 0; i < sc->n_closures; i++)
    if (day >= sc->closures[i].start && day <= sc->closures[i].end)
      S->closed[sc->closures[i].crossing] |= sc->closures[i].channels;
  S->campaign = 0;
  for (int i = 0; i < sc->n_campaigns; i++)
    if (day >= sc->campaigns[i].start && day <= sc->campaigns[i].end) S->campaign += sc->campaigns[i].strength;
}
