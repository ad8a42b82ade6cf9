/* Buyers: officials holding hard currency. Each is reviewed on its own schedule (day buckets):
 * income accrues, worn-out holdings are dropped, and for every kind of product it wants and
 * lacks (or wants to upgrade) it picks an origin by a logit over quality, durability, status
 * (which rises as peers hold the same origin), price against income, the buy-domestic campaign
 * (which bites only on buyers with little hard currency) and expected possession penalties.
 * Foreign goods are ordered secretly through the buyer's trader; domestic ones bought in a shop. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "engine/apportion.h"
#include "model/world.h"

/* Whole days of an exponential draw with mean buyers.review_days from the 32-bit word w. */
static int32_t review_draw_days(const cb_sim *S, uint32_t w) { return (int32_t)cb_exponential(w, S->sc.buyers.review_days); }

/* review_draw_days by table rather than by a logarithm at every review. The days fall as the word
 * rises (consecutive words differ in log far beyond its rounding error), so within a stretch of
 * words they take a run of values; most stretches hold at most one step, stored as the days at
 * the stretch's first word and where the step is (found by bisection on the same function). */
static void build_gap_steps(cb_sim *S) {
  const uint32_t len = UINT32_C(1) << (32 - CB_GAP_INDEX_BITS);
  for (uint32_t j = 0; j < CB_GAP_STRETCHES; j++) {
    uint32_t lo = j * len, hi = lo + (len - 1);
    int32_t first = review_draw_days(S, lo), last = review_draw_days(S, hi);
    cb_gap_step *st = &S->gap_steps[j];
    if (first - last > 1) {
      *st = (cb_gap_step){-1, 0}; /* several steps: computed at each review */
      continue;
    }
    uint32_t step = len; /* none */
    if (last < first) {
      uint32_t a = lo, z = hi; /* review_draw_days(a) == first > review_draw_days(z) */
      while (z - a > 1) {
        uint32_t mid = a + (z - a) / 2;
        if (review_draw_days(S, mid) == first) a = mid;
        else z = mid;
      }
      step = z - lo;
    }
    *st = (cb_gap_step){first, step};
  }
}

/* A review's own draws come from one stream (purpose REVIEW, the buyer, the day): word 0 sets the
 * gap to the next review, words 1, 2, ... hold two 16-bit upgrade draws each, one per kind of
 * product. With eight kinds a review needs at most two Philox calls for all of them. */
static int32_t next_review_gap(const cb_sim *S, cb_rng_stream *draws) {
  uint32_t w = cb_rng_stream_word(&S->rng, draws, 0);
  const cb_gap_step *st = &S->gap_steps[w >> (32 - CB_GAP_INDEX_BITS)];
  uint32_t offset = w & ((UINT32_C(1) << (32 - CB_GAP_INDEX_BITS)) - 1);
  int32_t days = st->days >= 0 ? st->days - (offset >= st->step) : review_draw_days(S, w);
  int32_t gap = 1 + days;
  return gap < CB_REVIEW_HORIZON - 1 ? gap : CB_REVIEW_HORIZON - 1;
}

/* Monthly hard-currency income of buyer b on a day: growth, then the income shocks so far. */
static double income_on(const cb_sim *S, uint32_t b) {
  double k = cb_buyer_at(S, b)->kaesong;
  double shock = S->income_all * ((1.0 - k) + k * S->income_kaesong);
  return cb_buyer_at(S, b)->income * S->growth_today * shock;
}

static double appeal_on(const cb_sim *S, int cat, int32_t day) {
  const cb_sc_category *c = &S->sc.categories[cat];
  double f = S->end > S->start ? (double)(day - S->start) / (double)(S->end - S->start) : 0.0;
  return c->appeal_start + (c->appeal_end - c->appeal_start) * f;
}

static int wants(const cb_sim *S, uint32_t b, int cat) {
  return (S->appeal_some >> cat & 1u) && cb_buyer_appeal(S, b)[cat] <= S->appeal_max[cat];
}

/* The kinds of product (bit k for kind k) buyer b wants today, and those it holds a unit of that
 * has worn out by day: a review tests every kind, and masks built in one branch-free pass over the
 * record let it visit only the kinds where something happens. Up to 16 kinds the pass is a few
 * SSE2 instructions: 16-byte loads from each array's start (two for `until` beyond 8 kinds) stay
 * within the buyer's record (see alloc_buyers' stride), and lanes past ncat are masked off. */
static uint32_t wanted_kinds(const cb_sim *S, uint32_t b) {
  const uint8_t *appeal = cb_buyer_appeal(S, b);
  uint32_t mask = 0;
#ifdef __SSE2__
  if (S->ncat <= 16) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)appeal);
    __m128i max = _mm_loadu_si128((const __m128i *)(const void *)S->appeal_max);
    mask = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_subs_epu8(a, max), _mm_setzero_si128())); /* a <= max */
    return mask & S->appeal_some;
  }
#endif
  for (int k = 0; k < S->ncat; k++) mask |= (uint32_t)(appeal[k] <= S->appeal_max[k]) << k;
  return mask & S->appeal_some;
}

static uint32_t worn_out_kinds(const cb_sim *S, uint32_t b, int32_t day) {
  const uint8_t *origin = cb_buyer_origin(S, b);
  const uint16_t *until = cb_buyer_until(S, b);
  uint16_t today = (uint16_t)(day - S->start);
  uint32_t mask = 0;
#ifdef __SSE2__
  if (S->ncat <= 16) {
    __m128i t = _mm_set1_epi16((short)today), zero = _mm_setzero_si128();
    __m128i lo = _mm_cmpeq_epi16(_mm_subs_epu16(_mm_loadu_si128((const __m128i *)(const void *)until), t), zero);
    __m128i hi = S->ncat > 8 ? _mm_cmpeq_epi16(_mm_subs_epu16(_mm_loadu_si128((const __m128i *)(const void *)(until + 8)), t), zero) : zero;
    __m128i none = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)origin), _mm_set1_epi8((char)CB_NO_HOLDING));
    mask = (uint32_t)_mm_movemask_epi8(_mm_andnot_si128(none, _mm_packs_epi16(lo, hi))); /* held and until <= today */
    return mask & ((UINT32_C(1) << S->ncat) - 1);
  }
#endif
  for (int k = 0; k < S->ncat; k++) mask |= (uint32_t)((origin[k] != CB_NO_HOLDING) & (until[k] <= today)) << k; /* & (not &&): no branch */
  return mask;
}

/* Utility splits into parts that depend on the market and product only, recomputed once a day
 * (quality, durability, status from peers holding the product, the campaign's pull, expected
 * possession penalties and the price), and the buyer's own scalings of them (rank, exposure to
 * the campaign, income). Status grows with the share of peers holding the product. */
void cb_buyers_utility_tables(cb_sim *S, int constant) {
  const cb_sc_buyers *p = &S->sc.buyers;
  for (int prod = 0; prod < S->nprod; prod++) {
    int o = cb_prod_origin(S, prod);
    const cb_sc_origin *og = &S->sc.origins[o];
    const cb_sc_category *c = &S->sc.categories[cb_prod_cat(S, prod)];
    if (constant)
      S->util_const[prod] = p->quality_weight * og->quality + p->durability_weight * log(c->lifetime_days[o] / 365.0);
    /* what possession checks look for: foreign media devices and anything of a banned origin,
     * a penalty risk over the item's life (capped at two years) */
    int checked = !og->domestic && (c->media_device || og->kp_banned);
    double life = c->lifetime_days[o], months = (life < 730.0 ? life : 730.0) / 30.4375;
    for (int m = 0; m < S->sc.n_markets; m++) {
      cb_util *u = &S->util[m * S->nprod + prod];
      double n = S->B.market_count[m] ? (double)S->B.market_count[m] : 1.0;
      double peers = (double)S->holders[m * S->nprod + prod] / n;
      double possession = checked ? p->possession_weight * S->poss_cost[m] * og->penalty_factor * months : 0.0;
      u->fixed = S->util_const[prod];
      u->status = p->status_weight * c->status * og->status * (1.0 + p->contagion * peers);
      u->campaign = og->domestic ? 0.0 : S->campaign * p->campaign_weight;
      u->price = cb_market_price(S, m, prod);
      u->per_income = possession + p->price_weight * u->price;
    }
  }
  S->growth_today = pow(1.0 + p->income_growth_per_year, (S->day - S->start) / 365.25);
  /* a buyer wants kind k once its threshold byte a is below 256 x the appeal; for an integer a,
   * a < x exactly when a <= ceil(x) - 1, so the comparison can be made in bytes */
  S->appeal_some = 0;
  for (int k = 0; k < S->ncat; k++) {
    double bar = ceil(appeal_on(S, k, S->day) * 256.0);
    S->appeal_max[k] = (uint8_t)(bar > 1 ? (bar < 256 ? bar - 1 : 255) : 0);
    if (bar > 0) S->appeal_some |= UINT32_C(1) << k;
  }
}

/* The buyer's side of utility at a review: the same for every kind of product it considers. */
typedef struct chooser {
  double inv_income;      /* 1 / monthly hard-currency income */
  double rank_scale;      /* higher ranks seek status more */
  double susceptibility;  /* exposure to the buy-domestic campaign (falls with hard-currency savings) */
  double savings;         /* what it can pay */
  cb_rng_stream draws;    /* origin choices: word k for kind of product k */
} chooser;

static chooser chooser_of(const cb_sim *S, uint32_t b, double income, int32_t day) {
  const cb_buyer *r = cb_buyer_at(S, b);
  chooser c;
  c.inv_income = 1.0 / income;
  c.rank_scale = (1.0 + r->rank) / 2.0;
  c.susceptibility = S->campaign > 0 ? exp(-r->savings / S->sc.buyers.campaign_fx_scale_usd) : 0.0;
  c.savings = r->savings;
  c.draws = cb_rng_stream_make(CB_RNG_CHOICE, b, day, 0);
  return c;
}

/* Chooses an origin for category k, or -1 for nothing. Only affordable origins with a quality
 * above min_quality are considered (upgrades exclude what the buyer already has). */
static int choose_origin(const cb_sim *S, chooser *ch, int market, int k, double min_quality, double *price_out) {
  const cb_util *util = &S->util[market * S->nprod + cb_product(S, k, 0)];
  double v[CB_MAX_ENTRIES], best = S->sc.buyers.outside_utility;
  int ok[CB_MAX_ENTRIES];
  for (int o = 0; o < S->norig; o++) {
    const cb_util *u = &util[o];
    ok[o] = u->price <= ch->savings && S->sc.origins[o].quality > min_quality;
    if (!ok[o]) continue;
    v[o] = u->fixed + ch->rank_scale * u->status - u->campaign * ch->susceptibility - u->per_income * ch->inv_income;
    if (v[o] > best) best = v[o];
  }
  /* Logit weights in single precision: they only split one uniform draw, where 1e-7 relative
   * accuracy is ample, and expf costs a fraction of exp in this, the busiest loop. */
  double outside = S->sc.buyers.outside_utility, weight[CB_MAX_ENTRIES];
  double sum = outside == best ? 1.0 : expf((float)(outside - best)); /* the best weighs e^0 = 1 */
  for (int o = 0; o < S->norig; o++)
    if (ok[o]) sum += weight[o] = v[o] == best ? 1.0 : expf((float)(v[o] - best));
  double u = cb_u01(cb_rng_stream_word(&S->rng, &ch->draws, (uint32_t)k)) * sum;
  for (int o = 0; o < S->norig; o++) {
    if (!ok[o]) continue;
    u -= weight[o];
    if (u <= 0) {
      *price_out = util[o].price;
      return o;
    }
  }
  return -1;
}

/* ---- effects on shared state ----
 * A review changes its buyer's own record, and shared state only by adding to sums (metrics, the
 * ledger, holder counts, traders' top clients) and by appending (next reviews, the day's orders).
 * With --threads, reviews of disjoint stretches of the day's buyers run at once, each recording
 * those effects in order; the stretches' records are then applied in buyer order, which is
 * exactly the sequence of operations of one thread. Nothing a review reads is written during the
 * reviews, so the results are the same bit for bit for any number of threads. */
typedef struct fx_add { double *p; double v; } fx_add;
typedef struct fx_count { uint32_t *p; int32_t d; } fx_count;
typedef struct fx_push { int32_t day; uint32_t id; } fx_push;

typedef struct cb_fx {
  cb_sim *S;
  int deferred;             /* 0: apply at once */
  fx_add *add; uint32_t nadd, cap_add;
  fx_count *cnt; uint32_t ncnt, cap_cnt;
  fx_push *push; uint32_t npush, cap_push;
  cb_placed *place; uint32_t nplace, cap_place;
  cb_err err;               /* out of memory while recording */
} cb_fx;

#define FX_RECORD(fx, arr, n, cap, item)                                                   \
  do {                                                                                     \
    void *a_ = cb_xgrow(&(fx)->err, (fx)->arr, &(fx)->cap, (fx)->n, sizeof *(fx)->arr, 256); \
    if (a_) {                                                                              \
      (fx)->arr = a_;                                                                      \
      (fx)->arr[(fx)->n++] = (item);                                                       \
    }                                                                                      \
  } while (0)

static void fx_sum(cb_fx *fx, double *p, double v) {
  if (!fx->deferred) *p += v;
  else FX_RECORD(fx, add, nadd, cap_add, ((fx_add){p, v}));
}

static void fx_metric(cb_fx *fx, cb_metric_id id, int place, int ch, int origin, int cat, double v) {
  cb_metrics *m = &fx->S->metrics;
  fx_sum(fx, &m->cur[cb_metrics_slot(m, id, place, ch, origin, cat)], v);
}

static void fx_counter(cb_fx *fx, uint32_t *p, int32_t d) {
  if (!fx->deferred) *p += (uint32_t)d;
  else FX_RECORD(fx, cnt, ncnt, cap_cnt, ((fx_count){p, d}));
}

static int place_order(cb_sim *S, const cb_placed *o) {
  if (S->nplaced == S->cap_placed) {
    uint32_t cap = S->cap_placed;
    cb_placed *p = cb_xgrow(&S->err, S->placed, &cap, S->nplaced, sizeof *p, 4096);
    if (!p) return CB_ENOMEM;
    S->placed = p;
    uint32_t cap2 = S->cap_placed;
    cb_placed *q = cb_xgrow(&S->err, S->placed_sorted, &cap2, S->nplaced, sizeof *q, 4096);
    if (!q) return CB_ENOMEM;
    S->placed_sorted = q;
    S->cap_placed = cap;
  }
  S->placed[S->nplaced++] = *o;
  return CB_OK;
}

static int fx_place(cb_fx *fx, const cb_placed *o) {
  if (!fx->deferred) return place_order(fx->S, o);
  FX_RECORD(fx, place, nplace, cap_place, *o);
  return fx->err.code;
}

static int fx_schedule(cb_fx *fx, int32_t day, uint32_t id) {
  if (!fx->deferred) return cb_buckets_push(&fx->S->reviews, day, id, &fx->S->err);
  FX_RECORD(fx, push, npush, cap_push, ((fx_push){day, id}));
  return fx->err.code;
}

/* Applies a stretch's recorded effects in the order they were made, and empties the record. */
static int fx_apply(cb_fx *fx) {
  cb_sim *S = fx->S;
  if (fx->err.code) return cb_err_set(&S->err, fx->err.code, "%s", fx->err.msg);
  for (uint32_t i = 0; i < fx->nadd; i++) *fx->add[i].p += fx->add[i].v;
  for (uint32_t i = 0; i < fx->ncnt; i++) *fx->cnt[i].p += (uint32_t)fx->cnt[i].d;
  for (uint32_t i = 0; i < fx->npush; i++)
    if (cb_buckets_push(&S->reviews, fx->push[i].day, fx->push[i].id, &S->err)) return S->err.code;
  for (uint32_t i = 0; i < fx->nplace; i++)
    if (place_order(S, &fx->place[i])) return S->err.code;
  fx->nadd = fx->ncnt = fx->npush = fx->nplace = 0;
  return CB_OK;
}

static void fx_free(cb_fx *fx) {
  free(fx->add);
  free(fx->cnt);
  free(fx->push);
  free(fx->place);
}

static void drop_holding(cb_sim *S, cb_fx *fx, uint32_t b, int k) {
  uint8_t *origin = cb_buyer_origin(S, b);
  if (origin[k] == CB_NO_HOLDING) return;
  fx_counter(fx, &S->holders[cb_buyer_at(S, b)->market * S->nprod + cb_product(S, k, origin[k])], -1);
  origin[k] = CB_NO_HOLDING;
}

static void give_holding(cb_sim *S, cb_fx *fx, uint32_t b, int product, int32_t day) {
  int k = cb_prod_cat(S, product), o = cb_prod_origin(S, product);
  drop_holding(S, fx, b, k);
  double life = cb_exponential(cb_rng_words(&S->rng, CB_RNG_LIFETIME, b, day, (uint32_t)k).v[0], cb_goods_lifetime(S, product));
  double until = (double)(day - S->start) + 1.0 + life;
  cb_buyer_origin(S, b)[k] = (uint8_t)o;
  cb_buyer_until(S, b)[k] = (uint16_t)(until < 65534.0 ? until : 65534.0);
  fx_counter(fx, &S->holders[cb_buyer_at(S, b)->market * S->nprod + product], 1);
}

static void receive(cb_sim *S, cb_fx *fx, uint32_t b, int product, int32_t day, double price) {
  int m = cb_buyer_at(S, b)->market;
  cb_buyer_at(S, b)->pending &= ~(1u << cb_prod_cat(S, product));
  give_holding(S, fx, b, product, day);
  fx_metric(fx, CB_M_BUYER_SPENDING_USD, m, 0, 0, 0, price);
  fx_metric(fx, CB_M_SOLD_UNITS, m, 0, cb_prod_origin(S, product), cb_prod_cat(S, product), 1);
  if (!S->sc.origins[cb_prod_origin(S, product)].domestic) fx_sum(fx, &S->L.sold, 1); /* shop goods are not procured abroad */
}

/* A trader's sale reaches its buyer in a batch (cb_buyers_hand_over) rather than at once: a day's
 * deliveries serve buyers scattered over the population, and in a batch each buyer's record can
 * be fetched well ahead of use. Sales are handed over in the order they were made, before anything
 * else reads the buyers' state, so the batch changes no outcome. */
int cb_buyers_receive(cb_sim *S, uint32_t b, int product, int32_t day, double price) {
  cb_placed *a = cb_xgrow(&S->err, S->sales, &S->cap_sales, S->nsales, sizeof *a, 1024);
  if (!a) return CB_ENOMEM;
  S->sales = a;
  S->sales[S->nsales++] = (cb_placed){0, b, (uint16_t)product, 0, day, price};
  return CB_OK;
}

void cb_buyers_hand_over(cb_sim *S) {
  cb_fx now = {.S = S};
  for (uint32_t i = 0; i < S->nsales; i++) {
    if (i + 8 < S->nsales) __builtin_prefetch(cb_buyer_at(S, S->sales[i + 8].buyer), 1);
    const cb_placed *s = &S->sales[i];
    receive(S, &now, s->buyer, s->product, s->day, s->price);
  }
  S->nsales = 0;
}

void cb_buyers_refund(cb_sim *S, uint32_t b, int product, double price) {
  cb_buyer_at(S, b)->savings += price;
  cb_buyer_at(S, b)->pending &= ~(1u << cb_prod_cat(S, product));
}

/* Links buyer b to a trader in business, drawn by client weight. Traders keep count of their
 * top-rank clients as links change, since protection grows with them. */
static int link(cb_sim *S, cb_fx *fx, uint32_t b, int32_t day) {
  if (S->nactive == 0) return -1;
  double total = S->client_cdf[S->nactive - 1];
  double u = cb_rng_u01(&S->rng, CB_RNG_LINK, b, day, 0) * total;
  uint32_t lo = 0, hi = S->nactive - 1;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (S->client_cdf[mid] >= u) hi = mid;
    else lo = mid + 1;
  }
  cb_buyer *r = cb_buyer_at(S, b);
  if (r->rank == CB_TOP_RANK) {
    if (r->trader != CB_NO_TRADER) fx_counter(fx, &S->T[r->trader].top_clients, -1);
    fx_counter(fx, &S->T[S->active_ids[lo]].top_clients, 1);
  }
  r->trader = S->active_ids[lo];
  return 0;
}

int cb_buyers_link(cb_sim *S, uint32_t b, int32_t day) {
  cb_fx now = {.S = S};
  return link(S, &now, b, day);
}

static void buy_domestic(cb_sim *S, cb_fx *fx, uint32_t b, int product, int32_t day, double price) {
  cb_buyer_at(S, b)->savings -= price;
  fx_sum(fx, &S->L.buyer_paid_state, price);
  fx_sum(fx, &S->L.state_shop_revenue, price);
  receive(S, fx, b, product, day, price);
}

/* An order: the price goes into escrow now; the order reaches the trader's book when the day's
 * reviews are done (cb_buyers_place_orders), so each trader's book is touched once a day. */
static int order(cb_sim *S, cb_fx *fx, uint32_t b, int product, int32_t day, double price) {
  cb_buyer *r = cb_buyer_at(S, b);
  if (!S->trader_open[r->trader])
    if (link(S, fx, b, day) < 0) return CB_OK; /* no trader in business: the want waits */
  r->savings -= price;
  r->pending |= 1u << cb_prod_cat(S, product);
  fx_metric(fx, CB_M_ORDERED_UNITS, r->market, 0, cb_prod_origin(S, product), cb_prod_cat(S, product), 1);
  cb_placed o = {r->trader, b, (uint16_t)product, r->market, day, price};
  return fx_place(fx, &o);
}

/* The day's orders, grouped by trader with a stable counting sort (each trader still sees its
 * buyers in the order they ordered), go into the traders' books or are filled from their shelves. */
static int place_orders(cb_sim *S) {
  uint32_t n = S->nplaced, *count = S->placed_count;
  memset(count, 0, ((size_t)S->ntraders_max + 1) * sizeof *count);
  for (uint32_t i = 0; i < n; i++) count[S->placed[i].trader + 1]++;
  for (uint32_t t = 0; t < S->ntraders_max; t++) count[t + 1] += count[t];
  for (uint32_t i = 0; i < n; i++) S->placed_sorted[count[S->placed[i].trader]++] = S->placed[i];
  for (uint32_t i = 0; i < n; i++) {
    const cb_placed *p = &S->placed_sorted[i];
    int filled = 0;
    if (cb_traders_take_order(S, p->trader, p->buyer, p->product, p->market, p->day, p->price, &filled)) return S->err.code;
  }
  S->nplaced = 0;
  cb_buyers_hand_over(S);
  return CB_OK;
}

static void accrue_income(cb_sim *S, cb_fx *fx, uint32_t b, int32_t day) {
  double months = (day - cb_buyer_at(S, b)->last_accrual) / 30.4375;
  double budget = income_on(S, b) * S->sc.buyers.spend_share;
  double inc = budget * months;
  cb_buyer_at(S, b)->savings += inc;
  double cap = budget * S->sc.buyers.savings_cap_months;
  if (cb_buyer_at(S, b)->savings > cap) { /* hard currency beyond the cap goes to other things */
    fx_sum(fx, &S->L.buyer_other, cb_buyer_at(S, b)->savings - cap);
    cb_buyer_at(S, b)->savings = cap;
  }
  cb_buyer_at(S, b)->last_accrual = day;
  fx_sum(fx, &S->L.buyer_income, inc);
  fx_metric(fx, CB_M_BUYER_INCOME_USD, cb_buyer_at(S, b)->market, 0, 0, 0, inc);
}

/* Whether a buyer holding a working item of kind k looks for a better one at this review. */
static int upgrade_now(const cb_sim *S, cb_rng_stream *draws, int k) {
  uint32_t bits = (cb_rng_stream_word(&S->rng, draws, 1 + (uint32_t)k / 2) >> (16 * (k % 2))) & 0xFFFFu;
  return bits < S->upgrade_threshold;
}

/* One kind of product at a review, once any worn-out unit is dropped, for a kind the buyer wants
 * and has no open order for: maybe buy (new, replacement or upgrade). */
static int review_category(cb_sim *S, cb_fx *fx, uint32_t b, int k, chooser *ch, cb_rng_stream *draws, int32_t day) {
  const uint8_t *origin = cb_buyer_origin(S, b);
  double min_q = -1.0;
  if (origin[k] != CB_NO_HOLDING) {
    if (!upgrade_now(S, draws, k)) return CB_OK;
    min_q = S->sc.origins[origin[k]].quality;
  }
  int m = cb_buyer_at(S, b)->market;
  double price = 0;
  int o = choose_origin(S, ch, m, k, min_q, &price);
  if (o < 0) return CB_OK;
  int p = cb_product(S, k, o);
  if (S->sc.origins[o].domestic) {
    fx_metric(fx, CB_M_ORDERED_UNITS, m, 0, o, k, 1);
    buy_domestic(S, fx, b, p, day, price);
    return CB_OK;
  }
  return order(S, fx, b, p, day, price);
}

/* A review looks at the kinds with no open order: worn-out units are dropped, then the kinds the
 * buyer wants are considered in turn from `first` (a fair order when money runs short). Kinds
 * affect each other only through savings, so dropping all worn-out units first changes nothing. */
static int review(cb_sim *S, cb_fx *fx, uint32_t b, int32_t day) {
  accrue_income(S, fx, b, day);
  uint32_t open = ~cb_buyer_at(S, b)->pending;
  for (uint32_t worn = open & worn_out_kinds(S, b, day); worn; worn &= worn - 1) drop_holding(S, fx, b, __builtin_ctz(worn));
  cb_rng_stream draws = cb_rng_stream_make(CB_RNG_REVIEW, b, day, 0);
  uint32_t todo = open & wanted_kinds(S, b);
  if (todo) {
    double income = income_on(S, b);
    if (income < 1e-9) income = 1e-9;
    int n = S->ncat, first = (int)((b + (uint32_t)day) % (uint32_t)n);
    chooser ch = chooser_of(S, b, income, day);
    /* the kinds rotated so that bit i is kind first + i (mod n) */
    uint64_t twice = (uint64_t)todo << n | todo;
    for (uint32_t turn = (uint32_t)((twice >> first) & ((UINT64_C(1) << n) - 1)); turn; turn &= turn - 1) {
      int k = first + __builtin_ctz(turn);
      if (k >= n) k -= n;
      if (review_category(S, fx, b, k, &ch, &draws, day)) return S->err.code ? S->err.code : fx->err.code;
      ch.savings = cb_buyer_at(S, b)->savings; /* what is left after this kind's purchase */
    }
  }
  return fx_schedule(fx, day + next_review_gap(S, &draws), b);
}

/* Reviews of the day's buyers from `from` to `to` (indexes into the sorted due list). */
static int review_stretch(cb_sim *S, cb_fx *fx, const uint32_t *ids, uint32_t from, uint32_t to, int32_t day) {
  for (uint32_t i = from; i < to; i++) {
    /* the day's buyers are scattered over the population: fetch a record well ahead of use */
    if (i + 8 < to) __builtin_prefetch(cb_buyer_at(S, ids[i + 8]), 1);
    if (review(S, fx, ids[i], day)) return S->err.code ? S->err.code : fx->err.code;
  }
  return CB_OK;
}

/* The day's reviews on S->threads threads: the due list cut into stretches, taken in turn by
 * whichever thread is free, each recording its effects; then applied in order (see above). */
typedef struct review_team {
  cb_sim *S;
  const uint32_t *ids;
  uint32_t n, stretch, nstretch, next;
  int32_t day;
  pthread_mutex_t lock;
} review_team;

static void *review_worker(void *arg) {
  review_team *t = arg;
  for (;;) {
    pthread_mutex_lock(&t->lock);
    uint32_t k = t->next++;
    pthread_mutex_unlock(&t->lock);
    if (k >= t->nstretch) return NULL;
    uint32_t from = k * t->stretch, to = from + t->stretch < t->n ? from + t->stretch : t->n;
    cb_fx *fx = &t->S->fx[k];
    if (review_stretch(t->S, fx, t->ids, from, to, t->day) && !fx->err.code)
      cb_err_set(&fx->err, CB_EMISUSE, "a review failed on a worker thread");
  }
}

static int review_in_parallel(cb_sim *S, const uint32_t *ids, uint32_t n, int32_t day) {
  review_team t = {S, ids, n, 0, 0, 0, day, PTHREAD_MUTEX_INITIALIZER};
  t.nstretch = (uint32_t)S->threads * 8;
  t.stretch = (n + t.nstretch - 1) / t.nstretch;
  t.nstretch = (n + t.stretch - 1) / t.stretch;
  if (t.nstretch > S->nfx) {
    cb_fx *a = cb_xrealloc(&S->err, S->fx, t.nstretch * sizeof *a);
    if (!a) return S->err.code;
    memset(a + S->nfx, 0, (t.nstretch - S->nfx) * sizeof *a);
    S->fx = a;
    S->nfx = t.nstretch;
  }
  for (uint32_t k = 0; k < t.nstretch; k++) {
    S->fx[k].S = S;
    S->fx[k].deferred = 1;
  }
  pthread_t tid[CB_MAX_THREADS];
  int started = 0;
  for (int i = 1; i < S->threads; i++)
    if (pthread_create(&tid[started], NULL, review_worker, &t) == 0) started++;
  review_worker(&t); /* this thread works too; if a thread could not start, the others do its part */
  for (int i = 0; i < started; i++) pthread_join(tid[i], NULL);
  for (uint32_t k = 0; k < t.nstretch; k++)
    if (fx_apply(&S->fx[k])) return S->err.code;
  return CB_OK;
}

int cb_buyers_step(cb_sim *S, int32_t day) {
  cb_bucket *due = cb_buckets_take(&S->reviews, day, &S->err);
  if (!due) return S->err.code;
  cb_fx now = {.S = S};
  int rc = S->threads > 1 && due->n >= 64 ? review_in_parallel(S, due->ids, due->n, day)
                                           : review_stretch(S, &now, due->ids, 0, due->n, day);
  if (rc) return rc;
  cb_buckets_clear(&S->reviews, day);
  return place_orders(S);
}

void cb_buyers_free_threads(cb_sim *S) {
  for (uint32_t k = 0; k < S->nfx; k++) fx_free(&S->fx[k]);
  free(S->fx);
  S->fx = NULL;
  S->nfx = 0;
}

/* ---- initialisation ---- */

static int alloc_buyers(cb_sim *S, uint32_t n) {
  cb_buyers *B = &S->B;
  cb_err *e = &S->err;
  B->n = n;
  B->stride = (sizeof(cb_buyer) + 4 * (size_t)S->ncat + 63) / 64 * 64;
  B->mem = cb_xaligned(NULL, 64, (size_t)n * B->stride);
  if (!B->mem) return cb_err_set(e, CB_ENOMEM, "out of memory for %u buyers (%zu bytes each); reduce population.buyers", n, B->stride);
  memset(B->mem, 0, (size_t)n * B->stride);
  S->util_const = cb_xcalloc(e, (size_t)S->nprod, sizeof(double));
  S->util = cb_xcalloc(e, (size_t)S->sc.n_markets * (size_t)S->nprod, sizeof(cb_util));
  B->market_first = cb_xcalloc(e, (size_t)S->sc.n_markets, sizeof(uint32_t));
  B->market_count = cb_xcalloc(e, (size_t)S->sc.n_markets, sizeof(uint32_t));
  S->holders = cb_xcalloc(e, (size_t)S->sc.n_markets * (size_t)S->nprod, sizeof(uint32_t));
  S->poss_cost = cb_xcalloc(e, (size_t)S->sc.n_markets, sizeof(double));
  if (e->code) return e->code;
  for (uint32_t b = 0; b < n; b++) memset(cb_buyer_origin(S, b), CB_NO_HOLDING, (size_t)S->ncat);
  return CB_OK;
}

/* Buyers are stored grouped by market, in blocks sized by the markets' shares (largest remainder). */
static void assign_markets(cb_sim *S) {
  int nm = S->sc.n_markets;
  double shares[CB_MAX_ENTRIES] = {0};
  for (int m = 0; m < nm; m++) shares[m] = S->sc.markets[m].buyer_share;
  cb_apportion(shares, nm, S->B.n, S->B.market_count);
  uint32_t first = 0;
  for (int m = 0; m < nm; m++) {
    S->B.market_first[m] = first;
    for (uint32_t i = 0; i < S->B.market_count[m]; i++) cb_buyer_at(S, first + i)->market = (uint8_t)m;
    first += S->B.market_count[m];
  }
}

static void draw_buyer(cb_sim *S, uint32_t b) {
  const cb_sc_buyers *p = &S->sc.buyers;
  cb_rng_block w = cb_rng_words(&S->rng, CB_RNG_INIT_BUYER, b, 0, 0);
  cb_rng_block w2 = cb_rng_words(&S->rng, CB_RNG_INIT_BUYER, b, 0, 1);
  double u = cb_u01(w.v[0]);
  int rank = u < p->rank3_share ? CB_TOP_RANK : (u < p->rank3_share + p->rank2_share ? 1 : 0);
  cb_buyer_at(S, b)->rank = (uint8_t)rank;
  cb_buyer_at(S, b)->trader = CB_NO_TRADER;
  double z = cb_normal(w.v[1], w.v[2]);
  cb_buyer_at(S, b)->income = (float)(p->income_usd_month * pow(p->rank_income_step, rank) * exp(p->income_sigma * z));
  double ks = cb_exponential(w.v[3], p->kaesong_share_mean);
  cb_buyer_at(S, b)->kaesong = (float)(ks < 1.0 ? ks : 1.0);
  cb_buyer_at(S, b)->children = (uint8_t)(cb_u01(w2.v[0]) < p->children_share);
  cb_buyer_at(S, b)->savings = cb_buyer_at(S, b)->income * p->spend_share * 2.0 * cb_u01(w2.v[1]);
  cb_buyer_at(S, b)->last_accrual = S->start;
  S->L.buyer_income += cb_buyer_at(S, b)->savings;
  for (int k = 0; k < S->ncat; k++) {
    double a = cb_rng_u01(&S->rng, CB_RNG_APPEAL, b, 0, (uint32_t)k);
    cb_buyer_appeal(S, b)[k] = (uint8_t)(a * 256.0);
  }
}

/* Starting holdings: a buyer who wants a kind of product already owns one with probability equal to
 * the appeal, of an origin drawn by the same choice rule at the starting prices, part-way through
 * its life. This spares the run a burst of first purchases on day one. */
static void initial_holdings(cb_sim *S, uint32_t b) {
  int m = cb_buyer_at(S, b)->market;
  chooser ch = chooser_of(S, b, income_on(S, b), S->start - 1);
  ch.savings = INFINITY; /* holdings from before the start were paid for then */
  for (int k = 0; k < S->ncat; k++) {
    if (!wants(S, b, k)) continue;
    double price;
    int o = choose_origin(S, &ch, m, k, -1.0, &price);
    if (o < 0) continue;
    int p = cb_product(S, k, o);
    double left = cb_u01(cb_rng_words(&S->rng, CB_RNG_INIT_BUYER, b, 1, (uint32_t)k).v[0]) * cb_goods_lifetime(S, p);
    cb_buyer_origin(S, b)[k] = (uint8_t)o;
    cb_buyer_until(S, b)[k] = (uint16_t)(left < 65534.0 ? left : 65534.0);
    S->holders[m * S->nprod + p]++;
  }
}

int cb_buyers_init(cb_sim *S) {
  uint32_t n = (uint32_t)S->sc.pop.buyers;
  if (alloc_buyers(S, n)) return S->err.code;
  if (cb_buckets_init(&S->reviews, CB_REVIEW_HORIZON, &S->err)) return S->err.code;
  assign_markets(S);
  /* u = (bits + 0.5) / 65536 < upgrade_prob  <=>  bits < ceil(upgrade_prob * 65536 - 0.5) */
  S->upgrade_threshold = (uint32_t)fmax(0.0, ceil(S->sc.buyers.upgrade_prob * 65536.0 - 0.5));
  build_gap_steps(S);
  for (uint32_t b = 0; b < n; b++) draw_buyer(S, b);
  cb_buyers_utility_tables(S, 1);
  for (uint32_t b = 0; b < n; b++) {
    initial_holdings(S, b);
    if (cb_buyers_link(S, b, S->start) < 0) return cb_err_set(&S->err, CB_EMISUSE, "no active trader to link buyers to");
    double first = cb_rng_u01(&S->rng, CB_RNG_REVIEW, b, S->start - 1, 0) * S->sc.buyers.review_days;
    int32_t gap = (int32_t)first < CB_REVIEW_HORIZON - 1 ? (int32_t)first : CB_REVIEW_HORIZON - 1;
    if (cb_buckets_push(&S->reviews, S->start + gap, b, &S->err)) return S->err.code;
  }
  return CB_OK;
}

void cb_buyers_free(cb_sim *S) {
  cb_buyers *B = &S->B;
  free(B->mem);
  free(S->util_const); free(S->util); free(B->market_first); free(B->market_count);
  free(S->holders); free(S->poss_cost);
  cb_buckets_free(&S->reviews);
  cb_buyers_free_threads(S);
}
