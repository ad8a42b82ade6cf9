/* Middlemen: Korean-Chinese procurers in the Chinese hubs. They buy goods at the hub's price and
 * sell them on to traders at a price the two bargain over, and for a fee replace labels and
 * packaging; their relabelling quality decides how well it hides the origin, and their capacity
 * how long a trader waits.
 *
 * The bargain is an asymmetric Nash bargain over the middleman's margin. The middleman's posted
 * commission sets the most a trader pays (the terms it quotes anyone); its own cost per unit
 * (hub price times 1 + middlemen.cost_share) is its reservation price, below which it walks away.
 * The trader wins the share beta of the margin between the two, where beta grows with three
 * things the seeds name: the trader's haggling ("will say anything to get a discount"), the
 * consignment's bulk ("small quantities or in bulk") and the deals the two have already done. */
#include <math.h>
#include <stdint.h>

#include "engine/apportion.h"
#include "model/world.h"

/* The share of the margin won from one source of power, saturating in its driver: most at
 * `power`, half of it when the driver equals `half`. */
static double saturating(double power, double driver, double half) { return driver > 0 ? power * driver / (driver + half) : 0.0; }

/* Each source of power wins its share of what the others leave, so none alone can take the whole
 * margin and the order they are combined in does not matter. */
double cb_middlemen_power(const cb_sim *S, double haggling, double bulk_units, double deals) {
  const cb_sc_middlemen *p = &S->sc.middlemen;
  double bulk = saturating(p->bulk_power, bulk_units, p->bulk_half);
  double repeat = saturating(p->repeat_power, deals, p->repeat_half_deals);
  return 1.0 - (1.0 - haggling) * (1.0 - bulk) * (1.0 - repeat);
}

double cb_middlemen_cost(const cb_sim *S, int hub, double source) {
  return source * S->sc.hubs[hub].price_factor * (1.0 + S->sc.middlemen.cost_share);
}

/* The Nash bargain: the cost plus the middleman's share (1 - beta) of the margin up to its posted
 * price. A posted commission below the middleman's cost leaves no margin: it sells at cost. */
double cb_middlemen_price(const cb_sim *S, const cb_trader *t, int hub, double source, double bulk_units) {
  const cb_supply *sp = &t->supply[hub];
  double cost = cb_middlemen_cost(S, hub, source);
  double posted = source * S->sc.hubs[hub].price_factor * (1.0 + S->M[sp->middleman].commission);
  double margin = posted > cost ? posted - cost : 0.0;
  double beta = cb_middlemen_power(S, t->haggling, bulk_units, sp->deals);
  return cost + (1.0 - beta) * margin;
}

/* A deal done: the pair trusts each other a little more next time. */
void cb_middlemen_deal(cb_trader *t, int hub) {
  if (t->supply[hub].deals < UINT32_MAX) t->supply[hub].deals++;
}

/* A trader buys through the contact in the hub who posts the lowest commission (the first such
 * if several). Whatever the trader's power, the bargained price rises with the posted
 * commission and every middleman's cost is the same, so this is also the contact that would
 * sell cheapest; the choice does not depend on the product and is made once per trader, which
 * starts with no deals done. */
void cb_middlemen_choose(const cb_sim *S, cb_trader *t) {
  for (int h = 0; h < S->sc.n_hubs; h++) {
    cb_supply *sp = &t->supply[h];
    sp->middleman = UINT32_MAX;
    sp->deals = 0;
    double best = INFINITY;
    for (int i = 0; i < t->ncontacts; i++) {
      const cb_middleman *m = &S->M[t->contacts[i]];
      if (m->hub == h && m->commission < best) {
        best = m->commission;
        sp->middleman = t->contacts[i];
      }
    }
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
