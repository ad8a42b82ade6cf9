/* Traders: firm executives, Sinuiju wholesale dealers and travellers. They take buyers' secret
 * orders, and on each buying trip choose, per product and market, a middleman (hence a hub), a
 * crossing, a channel and whether to relabel, by expected profit: the agreed price less goods,
 * commission, relabelling and transport, less the enforcement cost they expect from their own
 * discounted experience of bribes, fines and seizures on that route and channel (NarcoLogic's
 * learning; Becker's comparison of margin and expected penalty). Capital limits what they buy;
 * top-rank clients protect them; the ruined leave and, when trade pays, newcomers enter. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/apportion.h"
#include "model/goods.h"
#include "model/world.h"

static const cb_sc_trader_type *ttype(const cb_sim *S, const cb_trader *t) { return &S->sc.trader_types[t->type]; }

/* ---- order book ---- */

static int push_order(cb_sim *S, cb_trader *t, const cb_order *o) {
  cb_order *a = cb_xgrow(&S->err, t->orders, &t->cap_orders, t->norders, sizeof *a, 16);
  if (!a) return CB_ENOMEM;
  t->orders = a;
  t->orders[t->norders++] = *o;
  return CB_OK;
}

static void remove_order(cb_trader *t, uint32_t i) {
  memmove(&t->orders[i], &t->orders[i + 1], (t->norders - i - 1) * sizeof *t->orders);
  t->norders--;
}

/* Shelf entries exist only while they hold stock: an order looks its product up here, and a
 * list that kept every product ever stocked would be scanned mostly in vain. */
static cb_shelf *find_shelf(cb_trader *t, int product, int market) {
  for (uint32_t i = 0; i < t->nshelf; i++)
    if (t->shelf[i].product == product && t->shelf[i].market == market) return &t->shelf[i];
  return NULL;
}

static int add_shelf(cb_sim *S, cb_trader *t, int product, int market, uint32_t qty, double unit_cost) {
  cb_shelf *s = find_shelf(t, product, market);
  if (s) {
    s->unit_cost = (s->unit_cost * s->qty + unit_cost * qty) / (s->qty + qty);
    s->qty += qty;
    return CB_OK;
  }
  cb_shelf *a = cb_xgrow(&S->err, t->shelf, &t->cap_shelf, t->nshelf, sizeof *a, 8);
  if (!a) return CB_ENOMEM;
  t->shelf = a;
  t->shelf[t->nshelf++] = (cb_shelf){(uint16_t)product, (uint8_t)market, qty, unit_cost};
  return CB_OK;
}

/* A sale: the buyer's escrowed payment becomes the trader's revenue and the buyer gets the unit. */
static int sell(cb_sim *S, uint32_t tid, uint32_t b, int product, int32_t day, double price, double unit_cost) {
  cb_trader *t = &S->T[tid];
  t->capital += price;
  t->revenue_usd += price;
  t->month_profit += price - unit_cost;
  S->L.buyer_paid_traders += price;
  return cb_buyers_receive(S, b, product, day, price);
}

int cb_traders_take_order(cb_sim *S, uint32_t tid, uint32_t b, int product, int market, int32_t day, double price, int *filled_now) {
  cb_trader *t = &S->T[tid];
  cb_shelf *s = find_shelf(t, product, market);
  *filled_now = 0;
  if (s && s->qty > 0) {
    double unit_cost = s->unit_cost;
    if (--s->qty == 0) *s = t->shelf[--t->nshelf];
    *filled_now = 1;
    return sell(S, tid, b, product, day, price, unit_cost);
  }
  cb_order o = {b, (uint16_t)product, (uint8_t)market, 0, day, price};
  S->P[market * S->nprod + product].open_orders += 1;
  return push_order(S, t, &o);
}

static void cancel_order(cb_sim *S, cb_trader *t, uint32_t i) {
  const cb_order *o = &t->orders[i];
  cb_buyers_refund(S, o->buyer, o->product, o->price);
  S->P[o->market * S->nprod + o->product].open_orders -= 1;
  cb_metrics_add(&S->metrics, CB_M_CANCELLED_ORDERS, o->market, 0, 0, 0, 1);
  remove_order(t, i);
}

/* Orders sit in the book in the order they came, so stale ones are at the front: stop at the
 * first order still within the timeout. */
static void cancel_stale(cb_sim *S, cb_trader *t, int32_t day, int all) {
  double timeout = S->sc.buyers.order_timeout_days;
  for (uint32_t i = 0; i < t->norders;) {
    if (!all && day - t->orders[i].day <= timeout) break;
    if (t->orders[i].covered) i++;
    else cancel_order(S, t, i);
  }
}

/* ---- deliveries and losses (called by shipments) ---- */

int cb_traders_deliver(cb_sim *S, const cb_consignment *c, int market, int32_t day) {
  cb_trader *t = &S->T[c->trader];
  uint32_t left = c->qty, kept = 0;
  double landed = c->unit_cost + c->enforcement_usd / c->qty;
  /* One pass: fill the oldest covered orders for this product and market, compacting the book
   * as it goes; once the consignment is used up the rest of the book moves down in one block. */
  uint32_t i = 0, n = t->norders;
  for (; i < n && left > 0; i++) {
    cb_order o = t->orders[i]; /* (buyers' records are touched later, in a batch: cb_buyers_hand_over) */
    if (o.covered && o.product == c->product && o.market == market) {
      S->P[market * S->nprod + o.product].open_orders -= 1;
      if (sell(S, c->trader, o.buyer, o.product, day, o.price, landed)) return S->err.code;
      left--;
      continue;
    }
    t->orders[kept++] = o;
  }
  if (kept < i) memmove(&t->orders[kept], &t->orders[i], (n - i) * sizeof *t->orders);
  t->norders = kept + (n - i);
  if (left > 0) return add_shelf(S, t, c->product, market, left, landed);
  return CB_OK;
}

void cb_traders_lost(cb_sim *S, const cb_consignment *c, int market) {
  cb_trader *t = &S->T[c->trader];
  uint32_t n = c->qty;
  t->month_profit -= c->qty * c->unit_cost;
  for (uint32_t i = t->norders; i-- > 0 && n > 0;) {
    cb_order *o = &t->orders[i];
    if (o->covered && o->product == c->product && o->market == market) {
      o->covered = 0;
      n--;
    }
  }
}

/* Discounted learning from one consignment's outcome: the enforcement cost it met as a share of
 * its value (1 + that share when it was seized). */
void cb_traders_learn(cb_sim *S, const cb_consignment *c, double cost_share) {
  cb_trader *t = &S->T[c->trader];
  int i = cb_risk_index_of(S, c);
  double lr = S->sc.traders.learning_rate;
  t->risk[i] = cb_risk_put((1.0 - lr) * cb_risk_get(t->risk[i]) + lr * cost_share);
  double value = c->qty * c->unit_cost;
  S->pool_cost[i] += cost_share * value;
  S->pool_value[i] += value;
}

/* ---- trip planning ---- */

/* The options open for each trader type, market and product today — route, channel (among those
 * the type uses), relabelling — with the part of the unit cost that is the same for every trader
 * (relabelling, the middleman's premium for illicit goods, transport and border costs). They
 * change only with the policy state that opens and closes channels (goods lists, closed
 * crossings), so they are rebuilt only on a day that state differs from the one they were built
 * for; a trader then adds its own goods price (source x its hub factor) and expected risk. */
static size_t option_list(const cb_sim *S, int type, int market, int product) {
  return ((size_t)type * (size_t)S->sc.n_markets + (size_t)market) * (size_t)S->nprod + (size_t)product;
}

static int build_options(cb_sim *S, int type, int m, int p, cb_option_proto *list) {
  int n = 0, cat = cb_prod_cat(S, p);
  const cb_sc_category *c = &S->sc.categories[cat];
  double source = c->price_usd[cb_prod_origin(S, p)];
  for (int ch = 0; ch < CB_NCHANNELS; ch++) {
    if (!(S->sc.trader_types[type].channels & (1u << ch)) || !cb_goods_channel_ok(S, p, ch)) continue;
    int can = cb_goods_can_relabel(S, p, ch); /* relabelling is a choice, weighed like any other */
    for (int j = 0; j < S->nroutes_of[m]; j++) {
      int r = S->routes_of[m][j];
      const cb_route *rt = &S->routes[r];
      if (S->closed[rt->crossing] & (1u << ch)) continue;
      const cb_sc_crossing *x = &S->sc.crossings[rt->crossing];
      double border = ch == CB_CH_SMUGGLED ? x->smuggling_cost_per_bulk_usd : ch == CB_CH_LUGGAGE ? 0.0 : x->official_fee_per_bulk_usd;
      double premium = ch == CB_CH_LEGAL ? 0.0 : S->sc.middlemen.illicit_premium * source * S->sc.hubs[rt->hub].price_factor;
      for (int rl = 0; rl <= can; rl++) {
        cb_option_proto *o = &list[n++];
        o->route = (uint16_t)r;
        o->channel = (uint8_t)ch;
        o->relabel = (uint8_t)rl;
        o->hub = (uint8_t)rt->hub;
        o->days = rt->days_to_market;
        o->fixed_cost = (rl ? c->relabel_cost_usd : 0.0) + premium + c->bulk * (rt->cost_per_bulk + border);
        o->risk_index = cb_risk_index(S, r, ch, cb_risk_slot(S, p, ch, rl), cat);
      }
    }
  }
  return n;
}

int cb_traders_daily_options(cb_sim *S) {
  int nt = S->sc.n_trader_types, nm = S->sc.n_markets, per = S->nroutes * CB_NCHANNELS * 2;
  size_t lists = (size_t)nt * (size_t)nm * (size_t)S->nprod, closed_bytes = (size_t)S->sc.n_crossings * sizeof *S->closed,
         listed_bytes = (size_t)S->nprod * sizeof *S->listed;
  if (!S->opt_protos) {
    S->opt_protos = cb_xcalloc(&S->err, lists * (size_t)per, sizeof *S->opt_protos);
    S->opt_count = cb_xcalloc(&S->err, lists, sizeof(int));
    S->opt_listed = cb_xcalloc(&S->err, (size_t)S->nprod, sizeof *S->opt_listed);
    S->opt_closed = cb_xcalloc(&S->err, (size_t)S->sc.n_crossings, sizeof *S->closed);
    if (S->err.code) return S->err.code;
  } else if (!memcmp(S->opt_listed, S->listed, listed_bytes) && !memcmp(S->opt_closed, S->closed, closed_bytes)) {
    return CB_OK;
  }
  memcpy(S->opt_listed, S->listed, listed_bytes);
  memcpy(S->opt_closed, S->closed, closed_bytes);
  for (int type = 0; type < nt; type++)
    for (int m = 0; m < nm; m++)
      for (int p = 0; p < S->nprod; p++) {
        size_t l = option_list(S, type, m, p);
        S->opt_count[l] = build_options(S, type, m, p, S->opt_protos + l * (size_t)per);
      }
  return CB_OK;
}

typedef struct option {
  int route, channel, relabel, hub;
  uint32_t middleman;
  double unit_cost, fixed_cost, profit;  /* fixed_cost: the unit cost but the bargained goods price */
} option;

/* The bargained goods price at each hub for a consignment of bulk_units (options share hubs, so it
 * is found once per hub); 0 where the trader has no middleman. */
static void goods_prices(const cb_sim *S, const cb_trader *t, double source, double bulk_units, double goods[CB_MAX_ENTRIES]) {
  for (int h = 0; h < S->sc.n_hubs; h++)
    goods[h] = t->supply[h].middleman == UINT32_MAX ? 0.0 : cb_middlemen_price(S, t, h, source, bulk_units);
}

/* Whether a trader could take an option if it were based at crossing `base` (CB_NO_HOME: anywhere). */
static int option_open(const cb_sim *S, const cb_trader *t, const cb_option_proto *p, unsigned base) {
  if (t->supply[p->hub].middleman == UINT32_MAX) return 0; /* no middleman at that hub */
  return base == CB_NO_HOME || S->routes[p->route].crossing == (int)base;
}

/* Expected profit per unit of an option: the price less the unit cost times (1 + expected
 * enforcement cost share + holding cost over the transit and the queue at the border). The expected
 * share blends the trader's own experience with the trade's (traders.gossip). */
static double option_profit(const cb_sim *S, const cb_trader *t, const cb_option_proto *p, double price, const double *goods,
                            int32_t day, double *unit_cost) {
  double g = S->sc.traders.gossip, hold = S->sc.traders.holding_cost_per_day;
  *unit_cost = goods[p->hub] + p->fixed_cost;
  double risk = (1.0 - g) * cb_risk_get(t->risk[p->risk_index]) + g * S->risk_pooled[p->risk_index];
  double wait = cb_lane_wait(S, cb_lane(S->routes[p->route].crossing, p->channel), day + S->routes[p->route].days_to_cross);
  return price - *unit_cost * (1.0 + risk + hold * (p->days + wait));
}

static const cb_option_proto *options_of(const cb_sim *S, int type, int market, int product, int *count) {
  size_t l = option_list(S, type, market, product);
  *count = S->opt_count[l];
  return S->opt_protos + l * (size_t)(S->nroutes * CB_NCHANNELS * 2);
}

/* The option a trader takes for a product and market: a logit over expected profit (option_profit);
 * noise scales with the price. A based trader chooses among its base's routes only. The goods part
 * of the unit cost is the price the trader would bargain from the hub's middleman for a
 * consignment of `bulk_units` — the intended quantity, since what it can afford depends on that
 * price in turn (ship_group settles the quantity). Returns 0 if no option is open. */
static int choose_option(const cb_sim *S, const cb_trader *t, uint32_t tid, int product, int market, double price,
                         double bulk_units, int32_t day, uint32_t salt, option *chosen) {
  enum { MAX_OPTIONS = CB_MAX_ENTRIES * CB_NCHANNELS * 2 };
  int count;
  const cb_option_proto *list = options_of(S, t->type, market, product, &count);
  double profit[MAX_OPTIONS], cost[MAX_OPTIONS], weight[MAX_OPTIONS], best = -INFINITY, goods[CB_MAX_ENTRIES];
  goods_prices(S, t, S->sc.categories[cb_prod_cat(S, product)].price_usd[cb_prod_origin(S, product)], bulk_units, goods);
  int idx[MAX_OPTIONS], n = 0;
  for (int i = 0; i < count && n < MAX_OPTIONS; i++) {
    if (!option_open(S, t, &list[i], t->home)) continue;
    idx[n] = i;
    profit[n] = option_profit(S, t, &list[i], price, goods, day, &cost[n]);
    if (profit[n] > best) best = profit[n];
    n++;
  }
  if (n == 0) return 0;
  /* below e^-40 an option is never drawn; single precision suffices for a weight (see buyers.c) */
  double inv_tau = 1.0 / (S->sc.traders.choice_temperature * price), sum = 0;
  for (int i = 0; i < n; i++) {
    double z = (profit[i] - best) * inv_tau;
    sum += weight[i] = z == 0.0 ? 1.0 : z < -40.0 ? 0.0 : expf((float)z); /* the best weighs e^0 = 1 */
  }
  double u = cb_rng_u01(&S->rng, CB_RNG_PLAN, tid, day, salt) * sum;
  int k = n - 1;
  for (int i = 0; i < n; i++)
    if ((u -= weight[i]) <= 0) {
      k = i;
      break;
    }
  const cb_option_proto *p = &list[idx[k]];
  chosen->route = p->route;
  chosen->hub = p->hub;
  chosen->fixed_cost = p->fixed_cost;
  chosen->channel = p->channel;
  chosen->relabel = p->relabel;
  chosen->middleman = t->supply[p->hub].middleman;
  chosen->unit_cost = cost[k];
  chosen->profit = profit[k];
  return 1;
}

typedef struct group {
  int product, market;
  uint32_t uncovered, to_cover;
  double price_sum;
} group;

/* Groups the uncovered orders (every order if `all`) by market and product in one pass, using
 * S->group_of (one slot per market and product, -1 when unused) as the index; the caller resets
 * the slots it used (release_groups). */
static int collect_groups(cb_sim *S, const cb_trader *t, group *g, int max, int all) {
  int n = 0;
  for (uint32_t i = 0; i < t->norders; i++) {
    const cb_order *o = &t->orders[i];
    if (o->covered && !all) continue;
    int *slot = &S->group_of[o->market * S->nprod + o->product];
    if (*slot < 0) {
      if (n == max) continue;
      g[n] = (group){o->product, o->market, 0, 0, 0};
      *slot = n++;
    }
    g[*slot].uncovered++;
    g[*slot].price_sum += o->price;
  }
  return n;
}

static void release_groups(cb_sim *S, const group *g, int n) {
  for (int i = 0; i < n; i++) S->group_of[g[i].market * S->nprod + g[i].product] = -1;
}

/* Marks, oldest first, as many uncovered orders of each group as its consignment will fill. */
static void cover_orders(cb_sim *S, cb_trader *t, group *g) {
  for (uint32_t i = 0; i < t->norders; i++) {
    cb_order *o = &t->orders[i];
    if (o->covered) continue;
    int j = S->group_of[o->market * S->nprod + o->product];
    if (j >= 0 && g[j].to_cover > 0) {
      o->covered = 1;
      g[j].to_cover--;
    }
  }
}

/* The unit cost of the chosen option for a consignment of q units of a product of this bulk. */
static double unit_cost_for(const cb_sim *S, const cb_trader *t, const option *o, double source, double q, double bulk) {
  return cb_middlemen_price(S, t, o->hub, source, q * bulk) + o->fixed_cost;
}

/* Buys and dispatches one product for one market; *room is the trip's remaining capacity. */
static int ship_group(cb_sim *S, uint32_t tid, group *g, int salt, double *room, int32_t day) {
  cb_trader *t = &S->T[tid];
  double price = g->price_sum / g->uncovered;
  double bulk = S->sc.categories[cb_prod_cat(S, g->product)].bulk;
  double source = S->sc.categories[cb_prod_cat(S, g->product)].price_usd[cb_prod_origin(S, g->product)];
  double want = floor(g->uncovered * (1.0 + ttype(S, t)->stock_share)), fit = floor(*room / bulk);
  double q = want < fit ? want : fit;
  option chosen, *o = &chosen;
  if (!choose_option(S, t, tid, g->product, g->market, price, (q > 1 ? q : 1) * bulk, day, (uint32_t)salt, o)) return CB_OK;
  if (o->profit < -S->sc.traders.profit_tolerance * price) return CB_OK; /* wait: it would not pay */
  if (t->capital <= 0) return CB_OK;
  /* Capital may not stretch to the intended quantity; a smaller consignment bargains a higher
   * unit price, so shrink until what is bought is paid for (the quantity falls each time). */
  double unit = unit_cost_for(S, t, o, source, q, bulk);
  while (q >= 1 && q * unit > t->capital) {
    q = t->capital > 0 ? floor(t->capital / unit) : 0;
    if (q >= 1) unit = unit_cost_for(S, t, o, source, q, bulk);
  }
  if (q < 1) return CB_OK;
  o->unit_cost = unit;
  uint32_t qty = (uint32_t)q;
  *room -= qty * bulk;
  t->capital -= qty * o->unit_cost;
  g->to_cover = qty < g->uncovered ? qty : g->uncovered;
  cb_consignment c = {0};
  c.trader = tid;
  c.middleman = o->middleman;
  c.qty = qty;
  c.product = (uint16_t)g->product;
  c.route = (uint16_t)o->route;
  c.channel = (uint8_t)o->channel;
  c.relabel = (uint8_t)o->relabel;
  c.unit_cost = o->unit_cost;
  return cb_shipments_dispatch(S, &c, day);
}

static int plan_trip(cb_sim *S, uint32_t tid, int32_t day) {
  cb_trader *t = &S->T[tid];
  group g[256];
  int n = collect_groups(S, t, g, 256, 0), rc = CB_OK;
  double room = ttype(S, t)->capacity_bulk;
  for (int i = 0; i < n && rc == CB_OK; i++) rc = ship_group(S, tid, &g[i], i, &room, day);
  if (rc == CB_OK) cover_orders(S, t, g);
  release_groups(S, g, n);
  return rc;
}

static void retire(cb_sim *S, uint32_t tid) {
  cb_trader *t = &S->T[tid];
  t->active = 0;
  t->exiting = 0;
  S->trader_open[tid] = 0;
  cb_metrics_add(&S->metrics, CB_M_TRADER_EXITS, 0, 0, 0, 0, 1);
}

/* Stock left by a ruined trader passes to another trader in business (creditors take the goods). */
static int hand_over_shelf(cb_sim *S, uint32_t tid) {
  cb_trader *t = &S->T[tid];
  while (t->nshelf > 0) {
    cb_shelf *s = &t->shelf[t->nshelf - 1];
    uint32_t heir = UINT32_MAX;
    for (uint32_t k = 0; k < S->nactive && heir == UINT32_MAX; k++) {
      uint32_t cand = S->active_ids[(tid + k) % S->nactive];
      if (cand != tid && S->T[cand].active && !S->T[cand].exiting) heir = cand;
    }
    if (heir == UINT32_MAX) return CB_OK; /* nobody to take it: it stays on this shelf */
    if (add_shelf(S, &S->T[heir], s->product, s->market, s->qty, s->unit_cost)) return S->err.code;
    t->nshelf--;
  }
  return CB_OK;
}

static int schedule_trip(cb_sim *S, uint32_t tid, int32_t day) {
  S->T[tid].next_trip = day;
  return cb_buckets_push(&S->trips, day, tid, &S->err);
}

/* The blocks of learned risk (one per kind of product: route x channel x relabelling) that the
 * next trip will price, found from the kinds in its order book. */
static void prefetch_risk(const cb_sim *S, const cb_trader *t) {
  uint32_t kinds = 0;
  for (uint32_t i = 0; i < t->norders; i++) kinds |= 1u << cb_prod_cat(S, t->orders[i].product);
  size_t block = (size_t)cb_risk_index(S, 0, 0, 0, 1) * sizeof *t->risk;
  for (int k = 0; kinds; k++, kinds >>= 1) {
    if (!(kinds & 1u)) continue;
    const char *r = (const char *)&t->risk[cb_risk_index(S, 0, 0, 0, k)];
    for (size_t off = 0; off < block; off += 64) __builtin_prefetch(r + off);
  }
}

/* Traders act on their trip days only (day buckets), so a day costs what its trips cost, not a
 * visit to every trader. On a trip a trader first drops orders that waited past the timeout. */
int cb_traders_step(cb_sim *S, int32_t day) {
  cb_bucket *due = cb_buckets_take(&S->trips, day, &S->err);
  if (!due) return S->err.code;
  for (uint32_t i = 0; i < due->n; i++) {
    uint32_t tid = due->ids[i];
    cb_trader *t = &S->T[tid];
    /* fetch ahead, in a chain: a trader's record, its order book, then the risk its trip will read */
    if (i + 3 < due->n) __builtin_prefetch(&S->T[due->ids[i + 3]]);
    if (i + 2 < due->n && S->T[due->ids[i + 2]].orders) {
      const char *o = (const char *)S->T[due->ids[i + 2]].orders;
      size_t bytes = S->T[due->ids[i + 2]].norders * sizeof(cb_order);
      for (size_t off = 0; off < bytes && off < 512; off += 64) __builtin_prefetch(o + off);
    }
    if (i + 1 < due->n) prefetch_risk(S, &S->T[due->ids[i + 1]]);
    if (!t->active || t->exiting || t->next_trip != day) continue; /* a stale entry */
    cancel_stale(S, t, day, 0);
    if (schedule_trip(S, tid, day + (int32_t)lround(ttype(S, t)->trip_days))) return S->err.code;
    if (plan_trip(S, tid, day)) return S->err.code;
  }
  cb_buckets_clear(&S->trips, day);
  return CB_OK;
}

/* Monthly: a ruined trader takes no new orders; once its last goods have arrived it leaves. */
static int wind_up(cb_sim *S, int32_t day) {
  for (uint32_t tid = 0; tid < S->ntraders_max; tid++) {
    cb_trader *t = &S->T[tid];
    if (!t->active || !t->exiting) continue;
    cancel_stale(S, t, day, 1);
    if (t->in_flight > 0 || t->norders > 0) continue;
    if (hand_over_shelf(S, tid)) return S->err.code;
    retire(S, tid);
  }
  return CB_OK;
}

/* ---- population: creation, entry, exit, protection ---- */

static void draw_trader(cb_sim *S, uint32_t tid, int32_t day) {
  cb_trader *t = &S->T[tid];
  const cb_sc_trader_type *ty = ttype(S, t);
  cb_rng_block w = cb_rng_words(&S->rng, CB_RNG_INIT_TRADER, tid, day, 0);
  double sig = ty->capital_sigma;
  t->capital = ty->capital_usd * exp(sig * cb_normal(w.v[0], w.v[1]) - 0.5 * sig * sig);
  t->haggling = fmin(0.95, fmax(0.0, ty->haggling + ty->haggling_spread * (2.0 * cb_u01(w.v[2]) - 1.0)));
  t->next_trip = day + 1 + (int32_t)(cb_u01(w.v[3]) * ty->trip_days);
  t->home = (uint8_t)CB_NO_HOME;
  if (ty->based_at.n > 0) { /* salt past the contacts' draws below */
    double u = cb_rng_u01(&S->rng, CB_RNG_INIT_TRADER, tid, day, CB_MAX_CONTACTS + 1);
    int k = (int)(u * ty->based_at.n);
    t->home = (uint8_t)ty->based_at.idx[k < ty->based_at.n ? k : ty->based_at.n - 1];
  }
  t->active = 1;
  t->exiting = 0;
  S->trader_open[tid] = 1;
  t->month_profit = 0;
  t->month_start_capital = t->capital;
  int nc = (int)S->sc.middlemen.contacts_per_trader;
  t->ncontacts = nc < CB_MAX_CONTACTS ? nc : CB_MAX_CONTACTS;
  for (int i = 0; i < t->ncontacts; i++) {
    double u = cb_rng_u01(&S->rng, CB_RNG_INIT_TRADER, tid, day, (uint32_t)(1 + i));
    t->contacts[i] = (uint32_t)(u * S->nmiddlemen);
  }
  cb_middlemen_choose(S, t);
}

/* Everyone's prior: an option that breaks a rule somewhere (every illicit channel, and goods
 * declared while on a list) is expected to cost risk_prior of the goods' value; declaring goods
 * no list holds, nothing. */
static double prior_of(const cb_sim *S, int index) {
  return cb_risk_channel(index) == CB_CH_LEGAL && index % 2 == 0 ? 0.0 : S->sc.traders.risk_prior;
}

/* A trader entering later starts from what the trade as a whole has learned (the pooled estimate). */
static void prior_risk(cb_sim *S, cb_trader *t, int pooled) {
  int nr = cb_risk_size(S);
  for (int i = 0; i < nr; i++) t->risk[i] = cb_risk_put(pooled ? S->risk_pooled[i] : prior_of(S, i));
}

static void assign_types(cb_sim *S) {
  /* Types are laid out by share over the whole pool, interleaved so entrants have the same mix. */
  int nt = S->sc.n_trader_types;
  double shares[CB_MAX_ENTRIES], given[CB_MAX_ENTRIES] = {0};
  for (int k = 0; k < nt; k++) shares[k] = S->sc.trader_types[k].share;
  for (uint32_t tid = 0; tid < S->ntraders_max; tid++) S->T[tid].type = (uint8_t)cb_interleave_next(shares, nt, tid, given);
}

int cb_traders_init(cb_sim *S) {
  cb_err *e = &S->err;
  S->ntraders = (uint32_t)S->sc.pop.traders;
  S->ntraders_max = (uint32_t)ceil(S->ntraders * S->sc.pop.trader_pool_factor);
  size_t nr = (size_t)cb_risk_size(S);
  S->T = cb_xcalloc(e, S->ntraders_max, sizeof *S->T);
  S->active_ids = cb_xcalloc(e, S->ntraders_max, sizeof(uint32_t));
  S->client_cdf = cb_xcalloc(e, S->ntraders_max, sizeof(double));
  S->pool_cost = cb_xcalloc(e, nr, sizeof(double));
  S->pool_value = cb_xcalloc(e, nr, sizeof(double));
  S->pool_cost_all = cb_xcalloc(e, nr, sizeof(double));
  S->pool_value_all = cb_xcalloc(e, nr, sizeof(double));
  S->risk_pooled = cb_xcalloc(e, nr, sizeof(float));
  S->group_of = cb_xmalloc(e, (size_t)S->sc.n_markets * (size_t)S->nprod * sizeof(int));
  if (e->code) return e->code;
  for (int i = 0; i < S->sc.n_markets * S->nprod; i++) S->group_of[i] = -1;
  for (size_t i = 0; i < nr; i++) S->risk_pooled[i] = (float)prior_of(S, (int)i);
  S->supply = cb_xcalloc(e, (size_t)S->ntraders_max * (size_t)S->sc.n_hubs, sizeof *S->supply);
  S->trader_open = cb_xcalloc(e, S->ntraders_max, 1);
  S->placed_count = cb_xcalloc(e, (size_t)S->ntraders_max + 1, sizeof(uint32_t));
  if (e->code) return e->code;
  for (uint32_t tid = 0; tid < S->ntraders_max; tid++) {
    S->T[tid].risk = cb_xcalloc(e, nr, sizeof(uint16_t));
    if (!S->T[tid].risk) return e->code;
    S->T[tid].supply = S->supply + (size_t)tid * (size_t)S->sc.n_hubs;
  }
  assign_types(S);
  if (cb_buckets_init(&S->trips, CB_TRIP_HORIZON, e)) return e->code;
  for (uint32_t tid = 0; tid < S->ntraders; tid++) {
    draw_trader(S, tid, S->start - 1);
    prior_risk(S, &S->T[tid], 0);
    if (schedule_trip(S, tid, S->T[tid].next_trip)) return e->code;
  }
  cb_traders_rebuild_active(S);
  return CB_OK;
}

void cb_traders_free(cb_sim *S) {
  if (S->T)
    for (uint32_t tid = 0; tid < S->ntraders_max; tid++) {
      free(S->T[tid].orders);
      free(S->T[tid].shelf);
      free(S->T[tid].risk);
    }
  free(S->T); free(S->supply); free(S->active_ids); free(S->client_cdf);
  free(S->trader_open); free(S->placed); free(S->placed_sorted); free(S->placed_count); free(S->sales);
  cb_buckets_free(&S->trips);
  free(S->pool_cost); free(S->pool_value); free(S->pool_cost_all); free(S->pool_value_all); free(S->risk_pooled); free(S->group_of); free(S->opt_protos); free(S->opt_count);
  free(S->opt_listed); free(S->opt_closed);
}

void cb_traders_rebuild_active(cb_sim *S) {
  double acc = 0;
  S->nactive = 0;
  for (uint32_t tid = 0; tid < S->ntraders_max; tid++) {
    const cb_trader *t = &S->T[tid];
    if (!t->active || t->exiting) continue;
    acc += ttype(S, t)->client_weight;
    S->active_ids[S->nactive] = tid;
    S->client_cdf[S->nactive++] = acc;
  }
}

/* Officials need the traders and protect them: a trader's protection grows with its top-rank
 * clients (counted as buyers link to traders, see cb_buyers_link). */
void cb_traders_protection(cb_sim *S) {
  for (uint32_t tid = 0; tid < S->ntraders_max; tid++) {
    double p = S->T[tid].top_clients / S->sc.traders.protection_clients;
    S->T[tid].protection = (float)(p < 1.0 ? p : 1.0);
  }
}

/* Monthly: the trade's pooled experience (what all traders met on each route, channel,
 * relabelling and kind of product) is discounted with a half-life of traders.memory_months and becomes the
 * trade-wide estimate that every trader weighs by traders.gossip when choosing. */
static void pool_experience(cb_sim *S) {
  int nr = cb_risk_size(S);
  double keep = pow(0.5, 1.0 / S->sc.traders.memory_months);
  for (int i = 0; i < nr; i++) {
    S->pool_cost_all[i] = keep * S->pool_cost_all[i] + S->pool_cost[i];
    S->pool_value_all[i] = keep * S->pool_value_all[i] + S->pool_value[i];
    if (S->pool_value_all[i] > 0) S->risk_pooled[i] = (float)(S->pool_cost_all[i] / S->pool_value_all[i]);
    S->pool_cost[i] = S->pool_value[i] = 0;
  }
}

static void exits(cb_sim *S) {
  for (uint32_t tid = 0; tid < S->ntraders_max; tid++) {
    cb_trader *t = &S->T[tid];
    if (t->active && !t->exiting && t->capital < S->sc.traders.exit_capital_usd) {
      t->exiting = 1;
      S->trader_open[tid] = 0;
    }
  }
}

/* Entry follows the last month's return on capital of the traders in business. */
static int entries(cb_sim *S, int32_t day) {
  double profit = 0, capital = 0;
  for (uint32_t k = 0; k < S->nactive; k++) {
    cb_trader *t = &S->T[S->active_ids[k]];
    profit += t->month_profit;
    capital += t->month_start_capital > 0 ? t->month_start_capital : 0;
  }
  double rate = capital > 0 ? profit / capital : 0, thr = S->sc.traders.entry_profit_rate;
  if (rate <= thr || thr <= 0) return CB_OK;
  double u = cb_rng_u01(&S->rng, CB_RNG_ENTRY, 0, day, 0);
  double want = S->sc.traders.entry_rate * S->nactive * (rate - thr) / thr + u;
  for (uint32_t tid = 0; tid < S->ntraders_max && want >= 1.0; tid++) {
    cb_trader *t = &S->T[tid];
    if (t->active) continue;
    draw_trader(S, tid, day);
    prior_risk(S, t, 1);
    if (schedule_trip(S, tid, t->next_trip)) return S->err.code;
    cb_metrics_add(&S->metrics, CB_M_TRADER_ENTRIES, 0, 0, 0, 0, 1);
    want -= 1.0;
  }
  return CB_OK;
}

/* What a trader's whole order book would earn, by expected profit, from each crossing as its
 * base: per product and market, the best option open from there times the orders waiting (an order
 * nothing from there would fill earns nothing). One pass over the options serves every crossing. */
static void book_values(cb_sim *S, const cb_trader *t, const group *g, int n, int32_t day, double value[CB_MAX_ENTRIES]) {
  for (int x = 0; x < S->sc.n_crossings; x++) value[x] = 0;
  for (int i = 0; i < n; i++) {
    int count, cat = cb_prod_cat(S, g[i].product);
    const cb_option_proto *list = options_of(S, t->type, g[i].market, g[i].product, &count);
    double price = g[i].price_sum / g[i].uncovered, best[CB_MAX_ENTRIES] = {0}, goods[CB_MAX_ENTRIES], unit;
    goods_prices(S, t, S->sc.categories[cat].price_usd[cb_prod_origin(S, g[i].product)], g[i].uncovered * S->sc.categories[cat].bulk, goods);
    for (int j = 0; j < count; j++) {
      if (!option_open(S, t, &list[j], CB_NO_HOME)) continue;
      int x = S->routes[list[j].route].crossing;
      best[x] = fmax(best[x], option_profit(S, t, &list[j], price, goods, day, &unit));
    }
    for (int x = 0; x < S->sc.n_crossings; x++) value[x] += best[x] * g[i].uncovered;
  }
}

/* "Officials have already taken measures in Sinuiju ... This is why there are so many wholesale
 * dealers in Sinuiju" [DNK 2014]: where dealers are based is their choice, not an input. Each
 * month a based trader reviews its base with chance relocate_prob and moves to the crossing of its
 * type's based_at where its order book would earn most, if the gain beats the cost of moving. */
static void relocate(cb_sim *S, int32_t day) {
  double p = S->sc.traders.relocate_prob, cost = S->sc.traders.relocate_cost_usd;
  if (p <= 0) return;
  for (uint32_t k = 0; k < S->nactive; k++) {
    uint32_t tid = S->active_ids[k];
    cb_trader *t = &S->T[tid];
    const cb_reflist *at = &ttype(S, t)->based_at;
    if (t->exiting || t->home == CB_NO_HOME || at->n < 2 || cb_rng_u01(&S->rng, CB_RNG_RELOCATE, tid, day, 0) >= p) continue;
    group g[256];
    double value[CB_MAX_ENTRIES];
    int n = collect_groups(S, t, g, 256, 1), to = t->home;
    book_values(S, t, g, n, day, value);
    release_groups(S, g, n);
    for (int j = 0; j < at->n; j++)
      if (value[at->idx[j]] > value[to]) to = at->idx[j];
    if (to == t->home || value[to] - value[t->home] <= cost || t->capital < cost) continue;
    t->home = (uint8_t)to;
    t->capital -= cost;
    t->month_profit -= cost;
    cb_metrics_add(&S->metrics, CB_M_TRADER_MOVES, to, 0, 0, 0, 1);
  }
}

int cb_traders_monthly(cb_sim *S, int32_t day) {
  pool_experience(S);
  exits(S);
  relocate(S, day);
  if (wind_up(S, day) || entries(S, day)) return S->err.code;
  for (uint32_t tid = 0; tid < S->ntraders_max; tid++) {
    S->T[tid].month_profit = 0;
    S->T[tid].month_start_capital = S->T[tid].capital;
  }
  cb_traders_rebuild_active(S);
  cb_traders_protection(S);
  return CB_OK;
}
