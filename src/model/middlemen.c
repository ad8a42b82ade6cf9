/* Middlemen: Korean-Chinese procurers in the Chinese hubs. They buy goods at the hub's price,
 * take a commission, and for a fee replace labels and packaging; their relabelling quality
 * decides how well it hides the origin, and their capacity how long a trader waits. */
#include <math.h>
#include <stdint.h>

#include "engine/apportion.h"
#include "model/world.h"

/* A trader buys through the contact in the hub who charges the lowest commission (the first
 * such if several): the choice does not depend on the product, so it is made once per trader. */
void cb_middlemen_choose(const cb_sim *S, cb_trader *t) {
  for (int h = 0; h < S->sc.n_hubs; h++) {
    cb_supply *sp = &t->supply[h];
    sp->middleman = UINT32_MAX;
    sp->goods_factor = 0;
    double best = INFINITY;
    for (int i = 0; i < t->ncontacts; i++) {
      const cb_middleman *m = &S->M[t->contacts[i]];
      if (m->hub == h && m->commission < best) {
        best = m->commission;
        sp->middleman = t->contacts[i];
      }
    }
    /* what the trader pays per dollar of source price there: hub price, its discount, commission */
    if (sp->middleman != UINT32_MAX) sp->goods_factor = S->sc.hubs[h].price_factor * (1.0 - t->bargaining) * (1.0 + best);
  }
}

/* Middlemen are spread over hubs by share (interleaved, so every prefix follows the shares), with terms drawn per middleman. */
int cb_middlemen_init(cb_sim *S) {
  const cb_sc_middlemen *p = &S->sc.middlemen;
  S->nmiddlemen = (uint32_t)S->sc.pop.middlemen;
  S->M = cb_xcalloc(&S->err, S->nmiddlemen, sizeof *S->M);
  if (!S->M) return S->err.code;
  double shares[CB_MAX_ENTRIES], given[CB_MAX_ENTRIES] = {0};
  for (int h = 0; h < S->sc.n_hubs; h++) shares[h] = S->sc.hubs[h].middlemen_share;
  for (uint32_t i = 0; i < S->nmiddlemen; i++) {
    int best = cb_interleave_next(shares, S->sc.n_hubs, i, given);
    cb_middleman *m = &S->M[i];
    cb_rng_block w = cb_rng_words(&S->rng, CB_RNG_INIT_MIDDLEMAN, i, 0, 0);
    m->hub = best;
    m->commission = fmax(0.0, p->commission_mean + p->commission_sd * cb_normal(w.v[0], w.v[1]));
    m->relabel_skill = fmin(1.0, fmax(0.0, p->relabel_skill_mean + p->relabel_skill_sd * cb_normal(w.v[2], w.v[3])));
    m->capacity = p->capacity_bulk_day;
    m->busy_until = S->start;
  }
  return CB_OK;
}
