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

int cb_goods_can_relabel(const cb_sim *S, int product, int channel) {
  return channel != CB_CH_LEGAL && cb_goods_is_foreign(S, cb_prod_origin(S, product));
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

static const cb_sc_checkpoint_kind *kind_of(const cb_sim *S, int checkpoint) {
  return &S->sc.checkpoint_kinds[S->sc.checkpoints[checkpoint].kind];
}

int cb_checkpoint_sees(const cb_sim *S, int checkpoint, int channel) {
  const cb_sc_checkpoint_kind *k = kind_of(S, checkpoint);
  return k->checks == CB_CHECKS_CONSIGNMENTS && (k->sees >> channel & 1u);
}

/* An offence whatever the label comes first: relabelling cannot hide an unofficial crossing. */
int cb_goods_offence(const cb_sim *S, int checkpoint, int channel, int product) {
  const cb_sc_checkpoint_kind *k = kind_of(S, checkpoint);
  uint32_t bit = 1u << channel;
  if (k->any_label & bit) return CB_OFFENCE_ANY_LABEL;
  if (!cb_goods_is_foreign(S, cb_prod_origin(S, product))) return CB_OFFENCE_NONE;
  if (k->foreign_label & bit) return CB_OFFENCE_LABEL;
  if ((k->barred_label & bit) && S->sc.categories[cb_prod_cat(S, product)].barred_foreign_label) return CB_OFFENCE_LABEL;
  return CB_OFFENCE_NONE;
}
