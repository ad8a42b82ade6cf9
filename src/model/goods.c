/* The goods catalogue: products are (category, origin) pairs; this file answers what a product
 * is — how long it lasts, whether it must be disguised, what a state shop charges — and which
 * channels can carry it today. */
#include "model/world.h"
#include "model/goods.h"

double cb_goods_quality(const cb_sim *S, int product) {
  return S->sc.origins[cb_prod_origin(S, product)].quality + S->sc.categories[cb_prod_cat(S, product)].quality;
}

double cb_goods_lifetime(const cb_sim *S, int product) {
  return S->sc.categories[cb_prod_cat(S, product)].lifetime_days[cb_prod_origin(S, product)];
}

int cb_goods_is_foreign(const cb_sim *S, int origin) {
  return !S->sc.origins[origin].domestic && origin != S->sc.middlemen.relabel_as;
}

/* State shops price domestic goods in won; their dollar price follows the market exchange rate. */
double cb_goods_domestic_price(const cb_sim *S, int market, int product) {
  const cb_sc_category *c = &S->sc.categories[cb_prod_cat(S, product)];
  double won = c->price_usd[cb_prod_origin(S, product)] * cb_series_at(&S->rates, S->market_rate[market], S->start);
  return won / S->rate_market[market];
}

int cb_goods_relabel_options(const cb_sim *S, int product, int channel, int *forced) {
  int o = cb_prod_origin(S, product);
  const cb_sc_category *c = &S->sc.categories[cb_prod_cat(S, product)];
  *forced = 0;
  if (!cb_goods_is_foreign(S, o)) return 0; /* nothing to hide */
  if (channel == CB_CH_LEGAL) return 0;
  if (channel == CB_CH_DISGUISED || (channel == CB_CH_LUGGAGE && c->barred_foreign_label)) *forced = 1;
  return 1;
}

int cb_goods_channel_ok(const cb_sim *S, int product, int channel) {
  int o = cb_prod_origin(S, product);
  if (S->sc.origins[o].domestic) return 0;
  const cb_sc_category *c = &S->sc.categories[cb_prod_cat(S, product)];
  int foreign = cb_goods_is_foreign(S, o);
  switch (channel) {
    case CB_CH_LEGAL: return S->legal_ok[product] && !(foreign && c->barred_foreign_label);
    case CB_CH_DISGUISED: return foreign && (!S->legal_ok[product] || c->barred_foreign_label);
    default: return 1;
  }
}

int cb_goods_violation(const cb_sim *S, int kind, int channel, int product) {
  int foreign = cb_goods_is_foreign(S, cb_prod_origin(S, product));
  switch (kind) {
    case CB_CP_CN_CUSTOMS: return channel == CB_CH_DISGUISED;
    case CB_CP_KP_CUSTOMS: return (channel == CB_CH_DISGUISED || channel == CB_CH_LUGGAGE) && foreign;
    case CB_CP_BORDER_GUARD: return channel == CB_CH_SMUGGLED;
    case CB_CP_ROAD_CHECK: return channel == CB_CH_SMUGGLED || (channel != CB_CH_LEGAL && foreign);
    default: return 0;
  }
}

int cb_goods_label_matters(const cb_sim *S, int kind, int channel, int product) {
  if (kind == CB_CP_BORDER_GUARD) return 0;
  if (kind == CB_CP_ROAD_CHECK && channel == CB_CH_SMUGGLED && !cb_goods_is_foreign(S, cb_prod_origin(S, product))) return 0;
  return 1;
}

int cb_checkpoint_sees(int kind, int channel) {
  switch (kind) {
    case CB_CP_CN_CUSTOMS:
    case CB_CP_KP_CUSTOMS: return channel != CB_CH_SMUGGLED;
    case CB_CP_BORDER_GUARD: return channel == CB_CH_SMUGGLED;
    case CB_CP_ROAD_CHECK: return 1;
    default: return 0;
  }
}
