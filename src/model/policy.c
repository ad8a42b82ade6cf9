/* The policy timeline: each day, the scenario's dated events set the state the agents face —
 * which products may be imported legally, how hard each checkpoint enforces (crackdowns), which
 * channels are stopped at which crossing, whether a buy-domestic campaign runs, and how much hard
 * currency buyers earn after income shocks such as the closing of Kaesong. */
#include "model/world.h"

int cb_policy_init(cb_sim *S) {
  const cb_scenario *sc = &S->sc;
  cb_err *e = &S->err;
  S->legal_ok = cb_xcalloc(e, (size_t)S->nprod, 1);
  S->cp_inspect = cb_xcalloc(e, (size_t)sc->n_checkpoints, sizeof(double));
  S->cp_monitor = cb_xcalloc(e, (size_t)sc->n_checkpoints, sizeof(double));
  S->cp_confiscate = cb_xcalloc(e, (size_t)sc->n_checkpoints, sizeof(double));
  S->closed = cb_xcalloc(e, (size_t)sc->n_crossings, sizeof(uint32_t));
  if (e->code) return e->code;
  /* sanctions in date order, stable, so a later ban or easing overrides an earlier one */
  for (int i = 0; i < sc->n_sanctions; i++) {
    int j = i;
    for (; j > 0 && sc->sanctions[S->sanction_order[j - 1]].date > sc->sanctions[i].date; j--) S->sanction_order[j] = S->sanction_order[j - 1];
    S->sanction_order[j] = i;
  }
  return CB_OK;
}

/* Dated events (sanctions, income shocks) in force on a day, replayed from the start state in
 * date order (the scenario's order on the same date): the policy state is a function of the day alone, so applying a day twice,
 * or restoring a run mid-way, gives the same state. */
static void apply_dated(cb_sim *S, int32_t day) {
  const cb_scenario *sc = &S->sc;
  for (int p = 0; p < S->nprod; p++) S->legal_ok[p] = (uint8_t)sc->origins[cb_prod_origin(S, p)].legal_trade;
  for (int n = 0; n < sc->n_sanctions; n++) {
    const cb_sc_sanction *s = &sc->sanctions[S->sanction_order[n]];
    if (s->date > day) break;
    for (int j = 0; j < s->origins.n; j++)
      for (int k = 0; k < S->ncat; k++) {
        int listed = s->categories.n == 0;
        for (int c = 0; c < s->categories.n; c++) listed |= s->categories.idx[c] == k;
        if (listed) S->legal_ok[cb_product(S, k, s->origins.idx[j])] = (uint8_t)(s->action == CB_SANCTION_EASE);
      }
  }
  S->income_all = S->income_kaesong = 1.0;
  for (int i = 0; i < sc->n_income_shocks; i++) {
    const cb_sc_income_shock *x = &sc->income_shocks[i];
    if (x->date > day) continue;
    double *f = x->target == CB_SHOCK_ALL ? &S->income_all : &S->income_kaesong;
    *f *= 1.0 - x->factor;
    if (*f < 0) *f = 0;
  }
}

/* Interval events are recomputed from scratch each day, so overlapping events compose and the
 * state never depends on what happened before today. */
static void apply_intervals(cb_sim *S, int32_t day) {
  const cb_scenario *sc = &S->sc;
  for (int c = 0; c < sc->n_checkpoints; c++) S->cp_inspect[c] = S->cp_monitor[c] = S->cp_confiscate[c] = 1.0;
  for (int i = 0; i < sc->n_crackdowns; i++) {
    const cb_sc_crackdown *k = &sc->crackdowns[i];
    if (day < k->start || day > k->end) continue;
    for (int j = 0; j < k->checkpoints.n; j++) {
      int c = k->checkpoints.idx[j];
      S->cp_inspect[c] *= k->inspect_factor;
      S->cp_monitor[c] *= k->monitor_factor;
      S->cp_confiscate[c] *= k->confiscate_factor;
    }
  }
  for (int c = 0; c < sc->n_crossings; c++) S->closed[c] = 0;
  for (int i = 0; i < sc->n_closures; i++)
    if (day >= sc->closures[i].start && day <= sc->closures[i].end)
      S->closed[sc->closures[i].crossing] |= sc->closures[i].channels;
  S->campaign = 0;
  for (int i = 0; i < sc->n_campaigns; i++)
    if (day >= sc->campaigns[i].start && day <= sc->campaigns[i].end) S->campaign += sc->campaigns[i].strength;
}

void cb_policy_apply(cb_sim *S, int32_t day) {
  apply_dated(S, day);
  apply_intervals(S, day);
}
