/* Price formation at each destination market, one price per product whatever channel brought it
 * (Bhagwati and Hansen: legal and smuggled goods meet in one market). The price is a cost index —
 * what delivered units really cost traders, bribes, fines and seized goods included — times a
 * markup that rises while orders pile up faster than deliveries and falls when they do not. So
 * enforcement raises prices through costs and scarcity, and easing lowers them, without any rule
 * that says so. */
#include <math.h>

#include "model/goods.h"
#include "model/world.h"

static cb_price *at(cb_sim *S, int market, int product) { return &S->P[market * S->nprod + product]; }

double cb_market_price(const cb_sim *S, int market, int product) { return S->P[market * S->nprod + product].price; }

/* The cheapest way any trader could bring a product to a market with the prior risk: where the
 * cost index starts before the first delivery. */
static double initial_cost(const cb_sim *S, int market, int product) {
  const cb_sc_category *c = &S->sc.categories[cb_prod_cat(S, product)];
  double source = c->price_usd[cb_prod_origin(S, product)], best = INFINITY;
  for (int r = 0; r < S->nroutes; r++) {
    const cb_route *rt = &S->routes[r];
    if (rt->market != market) continue;
    const cb_sc_crossing *x = &S->sc.crossings[rt->crossing];
    for (int ch = 0; ch < CB_NCHANNELS; ch++) {
      if (!cb_goods_channel_ok(S, product, ch)) continue;
      /* the middlemen's posted terms, as a trader with no bargaining power pays them (never below their cost) */
      double posted = fmax(S->sc.middlemen.commission_mean, S->sc.middlemen.cost_share);
      double goods = source * S->sc.hubs[rt->hub].price_factor * (1.0 + posted);
      double border = ch == CB_CH_SMUGGLED ? x->smuggling_cost_per_bulk_usd : ch == CB_CH_LUGGAGE ? 0.0 : x->official_fee_per_bulk_usd;
      double cost = goods + c->bulk * (rt->cost_per_bulk + border);
      if (ch != CB_CH_LEGAL) cost += S->sc.middlemen.illicit_premium * source * S->sc.hubs[rt->hub].price_factor;
      cost *= 1.0 + (ch == CB_CH_LEGAL ? 0.0 : S->sc.traders.risk_prior);
      if (cost < best) best = cost;
    }
  }
  return isfinite(best) ? best : source;
}

int cb_market_init(cb_sim *S) {
  int nm = S->sc.n_markets;
  S->P = cb_xcalloc(&S->err, (size_t)nm * (size_t)S->nprod, sizeof *S->P);
  S->poss_month = cb_xcalloc(&S->err, (size_t)nm, sizeof(double));
  if (S->err.code) return S->err.code;
  for (int m = 0; m < nm; m++)
    for (int p = 0; p < S->nprod; p++) {
      cb_price *x = at(S, m, p);
      if (S->sc.origins[cb_prod_origin(S, p)].domestic) {
        x->price = cb_goods_domestic_price(S, m, p);
        continue;
      }
      x->cost_index = initial_cost(S, m, p);
      x->markup = S->sc.market.markup_normal;
      x->price = x->cost_index * (1.0 + x->markup);
    }
  return CB_OK;
}

void cb_market_record_delivery(cb_sim *S, int market, int product, double qty, double landed_unit_cost) {
  cb_price *x = at(S, market, product);
  x->week_cost += qty * landed_unit_cost;
  x->week_units += qty;
  x->delivered_since_update += qty;
}

/* Seized goods add their cost but no units: the delivered units must pay for them. */
void cb_market_record_loss(cb_sim *S, int market, int product, double cost) { at(S, market, product)->week_cost += cost; }

/* State-shop prices follow the day's exchange rate. */
void cb_market_daily(cb_sim *S) {
  for (int m = 0; m < S->sc.n_markets; m++)
    for (int p = 0; p < S->nprod; p++)
      if (S->sc.origins[cb_prod_origin(S, p)].domestic) at(S, m, p)->price = cb_goods_domestic_price(S, m, p);
}

/* Scarcity pricing: the markup is the normal markup scaled by how long orders wait now against
 * how long they usually wait (open orders per month of deliveries over its slow average). A
 * crackdown that stops deliveries raises it; it returns to normal once the usual level adapts. */
static void update_markup(cb_price *x, const cb_sc_market_rules *r) {
  double backlog = x->open_orders / (x->deliveries_month > 1.0 ? x->deliveries_month : 1.0);
  if (x->deliveries_month <= 0 && x->weeks_seen == 0) return; /* nothing delivered yet: no usual wait */
  /* The usual backlog is a running mean at first (weight 1/weeks), then an exponential average
   * with half-life backlog_memory_weeks once that weight is the smaller (after about
   * backlog_memory_weeks / ln 2 weeks), so the first weeks do not set it for good. */
  x->weeks_seen += 1;
  double w = fmax(1.0 / x->weeks_seen, 1.0 - pow(0.5, 1.0 / r->backlog_memory_weeks));
  x->backlog_usual += w * (backlog - x->backlog_usual);
  double scarcity = x->backlog_usual > 1e-9 ? backlog / x->backlog_usual : 1.0;
  x->markup = r->markup_normal * pow(scarcity, r->scarcity_elasticity);
  x->markup = fmin(r->markup_max, fmax(r->markup_min, x->markup));
}

void cb_market_weekly(cb_sim *S) {
  const cb_sc_market_rules *r = &S->sc.market;
  for (int m = 0; m < S->sc.n_markets; m++)
    for (int p = 0; p < S->nprod; p++) {
      cb_price *x = at(S, m, p);
      if (S->sc.origins[cb_prod_origin(S, p)].domestic) continue;
      if (x->week_units > 0) {
        x->cost_index += r->cost_smoothing * (x->week_cost / x->week_units - x->cost_index);
        x->week_cost = x->week_units = 0;
      }
      /* monthly delivery rate, smoothed; the first week with deliveries seeds it */
      double week_rate = x->delivered_since_update * (30.4375 / 7.0);
      x->deliveries_month = x->deliveries_month > 0 ? 0.75 * x->deliveries_month + 0.25 * week_rate : week_rate;
      x->delivered_since_update = 0;
      if (x->deliveries_month > 0 || x->open_orders > 0) update_markup(x, r);
      x->price = x->cost_index * (1.0 + x->markup);
    }
}
