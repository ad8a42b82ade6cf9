/* Routes: every way from a Chinese hub across a border crossing to a market, built from the
 * scenario's supply legs (hub -> crossing) and delivery legs (crossing -> market). Which route
 * carries how much is not set anywhere: traders choose among these by cost and learned risk.
 * A crossing's lanes have a capacity (the bridge and railway at Sinuiju against small river
 * crossings): beyond it consignments queue, and the wait is a cost traders see. */
#include <math.h>

#include "model/world.h"

int cb_routes_build(cb_sim *S) {
  const cb_scenario *sc = &S->sc;
  int n = 0;
  for (int s = 0; s < sc->n_supply_legs; s++)
    for (int d = 0; d < sc->n_delivery_legs; d++)
      if (sc->delivery_legs[d].from == sc->supply_legs[s].to) n++;
  S->routes = cb_xcalloc(&S->err, (size_t)n, sizeof *S->routes);
  if (!S->routes) return CB_ENOMEM;
  S->nroutes = 0;
  /* Routes to one market are kept together (learned risk is stored in route order). */
  for (int mk = 0; mk < sc->n_markets; mk++)
  for (int s = 0; s < sc->n_supply_legs; s++)
    for (int d = 0; d < sc->n_delivery_legs; d++) {
      const cb_sc_leg *a = &sc->supply_legs[s], *b = &sc->delivery_legs[d];
      if (b->from != a->to || b->to != mk) continue;
      cb_route *r = &S->routes[S->nroutes++];
      r->hub = a->from;
      r->crossing = a->to;
      r->market = b->to;
      r->supply_leg = s;
      r->delivery_leg = d;
      r->days_to_cross = (int32_t)lround(a->days);
      r->days_to_market = (int32_t)lround(a->days + b->days);
      r->cost_per_bulk = a->cost_per_bulk_usd + b->cost_per_bulk_usd;
    }
  S->lane_free = cb_xcalloc(&S->err, (size_t)sc->n_crossings * 2, sizeof *S->lane_free);
  if (!S->lane_free) return CB_ENOMEM;
  for (int l = 0; l < sc->n_crossings * 2; l++) S->lane_free[l] = S->start;
  for (int m = 0; m < sc->n_markets; m++) {
    S->routes_of[m] = cb_xcalloc(&S->err, (size_t)S->nroutes, sizeof(int));
    if (!S->routes_of[m]) return CB_ENOMEM;
    S->nroutes_of[m] = 0;
    for (int r = 0; r < S->nroutes; r++)
      if (S->routes[r].market == m) S->routes_of[m][S->nroutes_of[m]++] = r;
  }
  return CB_OK;
}

double cb_lane_capacity(const cb_sim *S, int lane) {
  const cb_sc_crossing *x = &S->sc.crossings[lane / 2];
  return (lane % 2 ? x->smuggling_capacity : x->official_capacity) * S->B.n / 10000.0;
}

double cb_lane_wait(const cb_sim *S, int lane, double reach) {
  double w = S->lane_free[lane] - reach;
  return w > 0 && cb_lane_capacity(S, lane) > 0 ? w : 0;
}
