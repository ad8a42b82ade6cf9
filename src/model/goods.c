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
  /* Goods declared as what they are may be refused or fined where a list bans them: that is a
   * cost the trader weighs, not a closed channel. Only Chinese customs' refusal of any foreign
   * label on barred kinds closes the declared channel outright: such papers are never accepted. */
  switch (channel) {
    case CB_CH_LEGAL: return !(foreign && c->barred_foreign_label);
    case CB_CH_DISGUISED: return foreign;
    default: return 1;
  }
}

static int kind_index(const cb_sim *S, int checkpoint) { return S->sc.checkpoints[checkpoint].kind; }

static const cb_sc_checkpoint_kind *kind_of(const cb_sim *S, int checkpoint) {
  return &S->sc.checkpoint_kinds[kind_index(S, checkpoint)];
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
  int cat = cb_prod_cat(S, product);
  if ((k->listed_label & bit) && (S->listed[product] & S->kind_enforces[kind_index(S, checkpoint)])) {
    /* relabelling hides a listed origin, unless the label it is given is on the list too */
    int as = cb_product(S, cat, S->sc.middlemen.relabel_as);
    return S->listed[as] & S->kind_enforces[kind_index(S, checkpoint)] ? CB_OFFENCE_ANY_LABEL : CB_OFFENCE_LABEL;
  }
  if (!cb_goods_is_foreign(S, cb_prod_origin(S, product))) return CB_OFFENCE_NONE;
  if (k->foreign_label & bit) return CB_OFFENCE_LABEL;
  if ((k->barred_label & bit) && S->sc.categories[cat].barred_foreign_label) return CB_OFFENCE_LABEL;
  return CB_OFFENCE_NONE;
}
