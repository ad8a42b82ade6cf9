/* Consignments in transit: created when a trader dispatches goods bought through a middleman,
 * scheduled in day buckets for the day they reach the border (Chinese-side checks, then the
 * crossing's official or unofficial checkpoints) and the day they reach the market (road checks,
 * then delivery to the trader's open orders and shelf). Each outcome feeds the trader's learned
 * risk and the market's cost index. */
#include <math.h>
#include <stdlib.h>

#include "model/world.h"

enum { STAGE_CROSS = 0, STAGE_ARRIVE = 1 };

static int new_consignment(cb_sim *S, uint32_t *id) {
  if (S->nfree_cons > 0) {
    *id = S->free_cons[--S->nfree_cons];
    return CB_OK;
  }
  if (S->ncons == S->cap_cons) {
    uint32_t cap = S->cap_cons, cap_free = S->cap_cons;
    cb_consignment *c = cb_xgrow(&S->err, S->C, &cap, S->ncons, sizeof *c, 1024);
    if (!c) return CB_ENOMEM;
    S->C = c;
    uint32_t *f = cb_xgrow(&S->err, S->free_cons, &cap_free, S->ncons, sizeof *f, 1024);
    if (!f) return CB_ENOMEM;
    S->free_cons = f;
    S->cap_cons = cap;
  }
  *id = S->ncons++;
  return CB_OK;
}

static void release(cb_sim *S, uint32_t id) {
  cb_consignment *c = &S->C[id];
  S->in_transit -= c->qty;
  S->T[c->trader].in_flight--;
  c->live = 0;
  S->free_cons[S->nfree_cons++] = id;
}

/* Relabelling waits for the middleman's capacity; other goods leave the day they are bought. */
static int32_t dispatch_day(cb_sim *S, cb_consignment *c, int32_t day) {
  cb_middleman *m = &S->M[c->middleman];
  double bulk = S->sc.categories[cb_prod_cat(S, c->product)].bulk;
  if (!c->relabel) return day;
  double startd = m->busy_until > day ? m->busy_until : day;
  m->busy_until = startd + c->qty * bulk / m->capacity;
  int32_t ready = (int32_t)ceil(m->busy_until) - 1;
  int32_t latest = day + CB_SHIP_HORIZON / 2;
  return ready < day ? day : (ready > latest ? latest : ready);
}

/* The day a consignment crosses: lanes clear their capacity a day in the order consignments were
 * dispatched, so beyond capacity goods queue; the wait is capped well inside the shipment horizon. */
static int32_t crossing_day(cb_sim *S, const cb_consignment *c, int32_t reach) {
  int lane = cb_lane(S->routes[c->route].crossing, c->channel);
  double cap = cb_lane_capacity(S, lane);
  if (cap <= 0) return reach;
  double start = S->lane_free[lane] > reach ? S->lane_free[lane] : reach;
  int32_t latest = reach + CB_SHIP_HORIZON / 4;
  double free_at = start + c->qty * S->sc.categories[cb_prod_cat(S, c->product)].bulk / cap;
  S->lane_free[lane] = free_at < latest ? free_at : latest;
  int32_t done = (int32_t)ceil(S->lane_free[lane]) - 1;
  return done < reach ? reach : done;
}

int cb_shipments_dispatch(cb_sim *S, const cb_consignment *proto, int32_t day) {
  uint32_t id;
  if (new_consignment(S, &id)) return S->err.code;
  cb_consignment *c = &S->C[id];
  *c = *proto;
  const cb_route *r = &S->routes[c->route];
  cb_middleman *m = &S->M[c->middleman];
  int k = cb_prod_cat(S, c->product), o = cb_prod_origin(S, c->product);
  c->live = 1;
  c->stage = STAGE_CROSS;
  c->enforcement_usd = 0;
  c->relabel_skill = (float)m->relabel_skill;
  cb_trader *t = &S->T[c->trader];
  double source = S->sc.categories[k].price_usd[o], hub_price = source * S->sc.hubs[r->hub].price_factor;
  /* the bargained price the trader's unit cost was built on (the same state, so the same number),
   * less what the middleman paid the hub, plus the illicit premium, which is not bargained over */
  double goods = cb_middlemen_price(S, t, r->hub, source, c->qty * S->sc.categories[k].bulk);
  double premium = c->channel == CB_CH_LEGAL ? 0.0 : S->sc.middlemen.illicit_premium * hub_price;
  m->earnings_usd += c->qty * (goods - hub_price + premium);
  cb_middlemen_deal(t, r->hub);
  c->day_bought = day;
  int32_t d0 = dispatch_day(S, c, day);
  c->day_cross = crossing_day(S, c, d0 + r->days_to_cross);
  c->day_arrive = c->day_cross + (r->days_to_market - r->days_to_cross);
  S->T[c->trader].in_flight++;
  S->in_transit += c->qty;
  S->L.procured += c->qty;
  if (c->relabel) cb_metrics_add(&S->metrics, CB_M_RELABELED_UNITS, r->hub, 0, o, k, c->qty);
  return cb_buckets_push(&S->shipments, c->day_cross, id, &S->err);
}

/* The stream of a consignment's inspection draws, named by what identifies it in any run: its
 * trader, purchase day, product and market (a trader ships one consignment per product and
 * market on a trip). Itinerary positions stay below 3 * CB_MAX_REFS = 48, two words each: 24 of
 * the 32 blocks the base leaves, and the detection blocks (base << 1) + position stay apart too. */
static cb_rng_stream inspect_stream(const cb_sim *S, const cb_consignment *c) {
  uint32_t key = (uint32_t)(c->product * S->sc.n_markets + S->routes[c->route].market);
  return cb_rng_stream_make(CB_RNG_INSPECT, c->trader, c->day_bought, key << 5);
}

/* A consignment's checks along one stretch of its itinerary (supply leg, then the crossing's
 * official or unofficial checkpoints, then the delivery leg); *position counts checkpoints from
 * the itinerary's start. Returns the checkpoint that confiscated it, or -1. */
static int run_checks(cb_sim *S, uint32_t id, const cb_reflist *cps, uint32_t *position, cb_rng_stream *inspect) {
  for (int i = 0; i < cps->n; i++, (*position)++)
    if (cb_enforcement_check(S, id, cps->idx[i], *position, inspect)) return cps->idx[i];
  return -1;
}

static void seized(cb_sim *S, uint32_t id, int checkpoint) {
  cb_consignment *c = &S->C[id];
  const cb_route *r = &S->routes[c->route];
  int k = cb_prod_cat(S, c->product), o = cb_prod_origin(S, c->product);
  double value = c->qty * c->unit_cost;
  cb_metrics_add(&S->metrics, CB_M_SEIZED_UNITS, checkpoint, c->channel, o, k, c->qty);
  S->L.seized += c->qty;
  cb_traders_learn(S, c, 1.0 + c->enforcement_usd / value);
  cb_traders_lost(S, c, r->market);
  cb_market_record_loss(S, r->market, c->product, value + c->enforcement_usd);
  release(S, id);
}

/* What official customs record: the declared (label) origin against the true one. */
static void record_declaration(cb_sim *S, const cb_consignment *c) {
  if (c->channel != CB_CH_LEGAL && c->channel != CB_CH_DISGUISED) return;
  const cb_route *r = &S->routes[c->route];
  int k = cb_prod_cat(S, c->product), o = cb_prod_origin(S, c->product);
  int declared = c->relabel ? S->sc.middlemen.relabel_as : o;
  double value = c->qty * S->sc.categories[k].price_usd[o];
  cb_metrics_add(&S->metrics, CB_M_DECLARED_VALUE_USD, r->crossing, 0, declared, k, value);
  cb_metrics_add(&S->metrics, CB_M_TRUE_VALUE_USD, r->crossing, 0, o, k, value);
}

static int cross(cb_sim *S, uint32_t id) {
  cb_consignment *c = &S->C[id];
  const cb_route *r = &S->routes[c->route];
  const cb_sc_crossing *x = &S->sc.crossings[r->crossing];
  uint32_t position = 0;
  cb_rng_stream inspect = inspect_stream(S, c);
  int hit = run_checks(S, id, &S->sc.supply_legs[r->supply_leg].checkpoints, &position, &inspect);
  if (hit < 0) hit = run_checks(S, id, c->channel == CB_CH_SMUGGLED ? &x->smuggling_checkpoints : &x->official_checkpoints, &position, &inspect);
  if (hit >= 0) {
    seized(S, id, hit);
    return 0;
  }
  record_declaration(S, c);
  return 1;
}

static int arrive(cb_sim *S, uint32_t id, int32_t day) {
  cb_consignment *c = &S->C[id];
  const cb_route *r = &S->routes[c->route];
  uint32_t position = 2 * CB_MAX_REFS; /* after the supply leg's and the crossing's */
  cb_rng_stream inspect = inspect_stream(S, c);
  int hit = run_checks(S, id, &S->sc.delivery_legs[r->delivery_leg].checkpoints, &position, &inspect);
  if (hit >= 0) {
    seized(S, id, hit);
    return CB_OK;
  }
  int k = cb_prod_cat(S, c->product), o = cb_prod_origin(S, c->product);
  double value = c->qty * c->unit_cost;
  cb_metrics_add(&S->metrics, CB_M_DELIVERED_UNITS, r->crossing, c->channel, o, k, c->qty);
  cb_traders_learn(S, c, c->enforcement_usd / value);
  cb_market_record_delivery(S, r->market, c->product, c->qty, c->unit_cost + c->enforcement_usd / c->qty);
  int rc = cb_traders_deliver(S, c, r->market, day);
  release(S, id);
  return rc;
}

int cb_shipments_step(cb_sim *S, int32_t day) {
  cb_bucket *due = cb_buckets_take(&S->shipments, day, &S->err);
  if (!due) return S->err.code;
  for (uint32_t i = 0; i < due->n; i++) {
    uint32_t id = due->ids[i];
    cb_consignment *c = &S->C[id];
    /* fetch ahead, in a chain: a consignment, then its trader, then the trader's risk entry */
    if (i + 8 < due->n) __builtin_prefetch(&S->C[due->ids[i + 8]]);
    if (i + 2 < due->n) __builtin_prefetch(&S->T[S->C[due->ids[i + 2]].trader]);
    if (i + 1 < due->n) {
      const cb_consignment *nx = &S->C[due->ids[i + 1]];
      __builtin_prefetch(&S->T[nx->trader].risk[cb_risk_index_of(S, nx)], 1);
    }
    if (c->stage == STAGE_CROSS) {
      if (!cross(S, id)) continue;
      if (c->day_arrive > day) {
        c->stage = STAGE_ARRIVE;
        if (cb_buckets_push(&S->shipments, c->day_arrive, id, &S->err)) return S->err.code;
        continue;
      }
    }
    if (arrive(S, id, day)) return S->err.code;
  }
  cb_buckets_clear(&S->shipments, day);
  cb_buyers_hand_over(S);
  return CB_OK;
}

void cb_shipments_free(cb_sim *S) {
  free(S->C);
  free(S->free_cons);
  cb_buckets_free(&S->shipments);
}
