/* Buyers: officials holding hard currency. Each is reviewed on its own schedule (day buckets):
 * income accrues; the buyer may come to want kinds of product it did not want before (Bass
 * diffusion: innovation, and imitation of same-rank peers who hold one); worn-out holdings are
 * dropped; and for every product line it wants and lacks (or wants to upgrade, or whose newer
 * generation it has come to want) it picks a kind and origin by a logit over quality,
 * durability, status (the share of peers holding the product), price against income, a price's
 * status for high ranks (Veblen), the buy-domestic campaign (which bites only on buyers with
 * little hard currency) and expected possession penalties. Foreign goods are ordered secretly
 * through the buyer's trader; domestic ones bought in a shop. Nothing here depends on the
 * simulation's last day, so a shorter run is a prefix of a longer one. */
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

/* Monthly hard-currency income of buyer b on a day: growth, then what sanctions and shocks have
 * left of each of its income sources and of the whole. */
static double income_on(const cb_sim *S, uint32_t b) {
  const cb_buyer *r = cb_buyer_at(S, b);
  double kept = 1.0;
  for (int s = 0; s < S->sc.n_income_sources; s++) kept -= r->source[s] / 255.0 * (1.0 - S->income_left[s]);
  return r->income * S->growth_today * S->income_all * fmax(0.0, kept);
}

int cb_buyers_has_pupil(const cb_sim *S, uint32_t b, int32_t day) {
  int32_t born = cb_buyer_at(S, b)->child_born;
  if (born == CB_NO_CHILD) return 0;
  double age = (double)(day - born) / 365.25;
  return age >= S->sc.buyers.school_age_from && age < S->sc.buyers.school_age_to;
}

/* The kinds (bit k for kind k) buyer b wants today: those it has adopted, less any superseded by
 * a newer generation of the same line it has also adopted, and less kinds for schoolchildren
 * when it has no child at school. */
static uint32_t wanted_kinds(const cb_sim *S, uint32_t b, int32_t day) {
  uint32_t adopted = cb_buyer_at(S, b)->adopted, want = adopted;
  for (uint32_t x = adopted & S->has_newer; x; x &= x - 1) {
    int k = __builtin_ctz(x);
    if (adopted & S->newer[k]) want &= ~(UINT32_C(1) << k);
  }
  if ((want & S->schoolchildren) && !cb_buyers_has_pupil(S, b, day)) want &= ~S->schoolchildren;
  return want & S->available;
}

/* The kinds held whose unit has worn out by day. */
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
 * the campaign, income). The day's adoption hazards, by market, rank and kind, are set here too,
 * from the holdings at the start of the day, so no review sees another's effect. */
void cb_buyers_utility_tables(cb_sim *S, int constant) {
  const cb_sc_buyers *p = &S->sc.buyers;
  for (int prod = 0; prod < S->nprod; prod++) {
    int o = cb_prod_origin(S, prod);
    const cb_sc_origin *og = &S->sc.origins[o];
    const cb_sc_category *c = &S->sc.categories[cb_prod_cat(S, prod)];
    if (constant)
      S->util_const[prod] = p->quality_weight * cb_goods_quality(S, prod) + p->durability_weight * log(c->lifetime_days[o] / 365.0);
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
      u->status = p->status_weight * c->status * peers;
      u->campaign = og->domestic ? 0.0 : S->campaign * p->campaign_weight;
      u->price = cb_market_price(S, m, prod);
      u->per_income = possession + p->price_weight * u->price;
    }
  }
  S->growth_today = pow(1.0 + p->income_growth_per_year, (S->day - S->start) / 365.25);
  S->available = 0;
  for (int k = 0; k < S->ncat; k++)
    if (S->sc.categories[k].introduced <= S->day) S->available |= UINT32_C(1) << k;
  for (int g = 0; g < S->sc.n_markets * CB_NRANKS; g++) {
    double n = S->rank_count[g] ? (double)S->rank_count[g] : 1.0;
    for (int k = 0; k < S->ncat; k++) {
      const cb_sc_category *c = &S->sc.categories[k];
      double held = (double)S->rank_holders[g * S->ncat + k] / n;
      S->adopt_hazard[g * S->ncat + k] = p->diffusion * (c->innovation + c->imitation * held) / 365.25;
    }
  }
}

/* The buyer's side of utility at a review: the same for every kind of product it considers. */
typedef struct chooser {
  double inv_income;      /* 1 / monthly hard-currency income */
  double rank_scale;      /* higher ranks seek status more */
  double susceptibility;  /* exposure to the buy-domestic campaign (falls with hard-currency savings) */
  double veblen;          /* status per unit of log price above the cheapest choice (high ranks only) */
  double veblen_cap;      /* the price beyond which showing it adds nothing: veblen_cap_months of income */
  double savings;         /* what it can pay */
  cb_rng_stream draws;    /* origin choices: word k for kind of product k */
} chooser;

static chooser chooser_of(const cb_sim *S, uint32_t b, double income, int32_t day) {
  const cb_buyer *r = cb_buyer_at(S, b);
  chooser c;
  c.inv_income = 1.0 / income;
  c.rank_scale = (1.0 + r->rank) / 2.0;
  c.susceptibility = S->campaign > 0 ? exp(-r->savings / S->sc.buyers.campaign_fx_scale_usd) : 0.0;
  c.veblen = S->sc.buyers.veblen_weight * r->rank / 2.0;
  c.veblen_cap = S->sc.buyers.veblen_cap_months * income;
  c.savings = r->savings;
  c.draws = cb_rng_stream_make(CB_RNG_CHOICE, b, day, 0);
  return c;
}

/* Chooses a product among the kinds in `kinds` (one line) and their origins, or -1 for nothing.
 * Only affordable products of a quality above min_quality are considered (an upgrade excludes
 * what the buyer already has). The one uniform is word `line` of the review's choice stream. */
static int choose_product(const cb_sim *S, chooser *ch, int market, uint32_t kinds, int line, double min_quality, double *price_out) {
  const cb_util *util = &S->util[market * S->nprod];
  double outside = S->sc.buyers.outside_utility, best = outside, cheapest = INFINITY;
  double v[CB_MAX_ENTRIES * CB_MAX_ENTRIES];
  int prods[CB_MAX_ENTRIES * CB_MAX_ENTRIES], n = 0;
  for (uint32_t x = kinds; x; x &= x - 1) {
    int k = __builtin_ctz(x);
    for (int o = 0; o < S->norig; o++) {
      int p = cb_product(S, k, o);
      const cb_util *u = &util[p];
      if (u->price > ch->savings || cb_goods_quality(S, p) <= min_quality) continue;
      if (u->price < cheapest) cheapest = u->price;
      prods[n] = p;
      v[n++] = u->fixed + ch->rank_scale * u->status - u->campaign * ch->susceptibility - u->per_income * ch->inv_income;
    }
  }
  /* Conspicuous price (Veblen): a dearer choice shows more, in proportion to the log of its price
   * over the cheapest one on offer, but only up to what the buyer earns in veblen_cap_months. */
  for (int i = 0; i < n; i++) {
    if (ch->veblen > 0) v[i] += ch->veblen * log(fmin(util[prods[i]].price, fmax(ch->veblen_cap, cheapest)) / cheapest);
    if (v[i] > best) best = v[i];
  }
  /* Logit weights in single precision: they only split one uniform draw, where 1e-7 relative
   * accuracy is ample, and expf costs a fraction of exp in this, the busiest loop. */
  double sum = outside == best ? 1.0 : expf((float)(outside - best)); /* the best weighs e^0 = 1 */
  for (int i = 0; i < n; i++) sum += v[i] = v[i] == best ? 1.0 : expf((float)(v[i] - best));
  double u = cb_u01(cb_rng_stream_word(&S->rng, &ch->draws, (uint32_t)line)) * sum;
  for (int i = 0; i < n; i++) {
    u -= v[i];
    if (u <= 0) {
      *price_out = util[prods[i]].price;
      return prods[i];
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

static uint32_t *rank_holders_of(const cb_sim *S, uint32_t b, int k) {
  const cb_buyer *r = cb_buyer_at(S, b);
  return &S->rank_holders[(r->market * CB_NRANKS + r->rank) * S->ncat + k];
}

static void drop_holding(cb_sim *S, cb_fx *fx, uint32_t b, int k) {
  uint8_t *origin = cb_buyer_origin(S, b);
  if (origin[k] == CB_NO_HOLDING) return;
  fx_counter(fx, &S->holders[cb_buyer_at(S, b)->market * S->nprod + cb_product(S, k, origin[k])], -1);
  fx_counter(fx, rank_holders_of(S, b, k), -1);
  origin[k] = CB_NO_HOLDING;
}

void cb_buyers_confiscate(cb_sim *S, uint32_t b, int k) {
  cb_fx now = {.S = S};
  drop_holding(S, &now, b, k);
}

/* A buyer holds at most one unit of a product line: a new unit replaces whatever of its line the
 * buyer held (an older generation, another tier or origin). */
static void give_holding(cb_sim *S, cb_fx *fx, uint32_t b, int product, int32_t day) {
  int k = cb_prod_cat(S, product), o = cb_prod_origin(S, product);
  for (uint32_t x = S->line_mask[S->line_root[k]]; x; x &= x - 1) drop_holding(S, fx, b, __builtin_ctz(x));
  double life = cb_exponential(cb_rng_words(&S->rng, CB_RNG_LIFETIME, b, day, (uint32_t)k).v[0], cb_goods_lifetime(S, product));
  double until = (double)(day - S->start) + 1.0 + life;
  cb_buyer_origin(S, b)[k] = (uint8_t)o;
  cb_buyer_until(S, b)[k] = (uint16_t)(until < 65534.0 ? until : 65534.0);
  fx_counter(fx, &S->holders[cb_buyer_at(S, b)->market * S->nprod + product], 1);
  fx_counter(fx, rank_holders_of(S, b, k), 1);
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

/* Adoption (Bass 1969, per buyer): each kind the buyer may ever want (its potential), can have
 * by now and does not want yet, it comes to want with probability 1 - exp(-h t), h the day's
 * hazard for its market and rank (innovation plus imitation of peers holding one) and t the days
 * since its last review. Kinds for schoolchildren are open only to parents of a pupil. */
static void adopt(cb_sim *S, uint32_t b, int32_t day, int32_t since) {
  cb_buyer *r = cb_buyer_at(S, b);
  uint32_t todo = r->potential & S->available & ~r->adopted;
  if ((todo & S->schoolchildren) && !cb_buyers_has_pupil(S, b, day)) todo &= ~S->schoolchildren;
  if (!todo || since <= 0) return;
  const double *h = &S->adopt_hazard[(r->market * CB_NRANKS + r->rank) * S->ncat];
  cb_rng_stream draws = cb_rng_stream_make(CB_RNG_ADOPT, b, day, 0);
  for (; todo; todo &= todo - 1) {
    int k = __builtin_ctz(todo);
    if (h[k] <= 0) continue;
    if (cb_u01(cb_rng_stream_word(&S->rng, &draws, (uint32_t)k)) < -expm1(-h[k] * since)) r->adopted |= UINT32_C(1) << k;
  }
}

/* The kind of line `line` the buyer holds a unit of, or -1. */
static int held_kind(const cb_sim *S, uint32_t b, int line) {
  const uint8_t *origin = cb_buyer_origin(S, b);
  for (uint32_t x = S->line_mask[line]; x; x &= x - 1)
    if (origin[__builtin_ctz(x)] != CB_NO_HOLDING) return __builtin_ctz(x);
  return -1;
}

/* One product line at a review, once any worn-out unit is dropped, for a line the buyer wants
 * some kind of and has no open order in: maybe buy (new, replacement or upgrade). A buyer who
 * holds a kind it no longer wants, because it has come to want a newer generation, replaces it by
 * the newer one; one who holds a wanted kind looks for a better product only with probability
 * upgrade_prob. */
static int review_line(cb_sim *S, cb_fx *fx, uint32_t b, int line, uint32_t kinds, chooser *ch, cb_rng_stream *draws, int32_t day) {
  double min_q = -1.0;
  int hk = held_kind(S, b, line);
  if (hk >= 0) {
    if (kinds >> hk & 1u) {
      if (!upgrade_now(S, draws, line)) return CB_OK;
      min_q = cb_goods_quality(S, cb_product(S, hk, cb_buyer_origin(S, b)[hk]));
    } else {
      kinds &= S->newer[hk];
      if (!kinds) return CB_OK;
    }
  }
  int m = cb_buyer_at(S, b)->market;
  double price = 0;
  int p = choose_product(S, ch, m, kinds, line, min_q, &price);
  if (p < 0) return CB_OK;
  int o = cb_prod_origin(S, p);
  if (S->sc.origins[o].domestic) {
    fx_metric(fx, CB_M_ORDERED_UNITS, m, 0, o, cb_prod_cat(S, p), 1);
    buy_domestic(S, fx, b, p, day, price);
    return CB_OK;
  }
  return order(S, fx, b, p, day, price);
}

/* The lines (bit of each line's first kind) with a wanted kind and no open order. */
static uint32_t lines_to_review(const cb_sim *S, uint32_t wanted, uint32_t pending) {
  uint32_t lines = 0;
  for (uint32_t x = wanted; x; x &= x - 1) {
    int root = S->line_root[__builtin_ctz(x)];
    if (!(pending & S->line_mask[root])) lines |= UINT32_C(1) << root;
  }
  return lines;
}

/* A review: income accrues, new wants may be adopted, worn-out units of lines with no open order
 * are dropped, then the lines the buyer wants are considered in turn from `first` (a fair order
 * when money runs short). Lines affect each other only through savings, so dropping all worn-out
 * units first changes nothing. */
static int review(cb_sim *S, cb_fx *fx, uint32_t b, int32_t day) {
  int32_t since = day - cb_buyer_at(S, b)->last_accrual;
  accrue_income(S, fx, b, day);
  adopt(S, b, day, since);
  uint32_t pending = cb_buyer_at(S, b)->pending, busy = 0;
  for (uint32_t x = pending; x; x &= x - 1) busy |= S->line_mask[S->line_root[__builtin_ctz(x)]];
  for (uint32_t worn = ~busy & worn_out_kinds(S, b, day); worn; worn &= worn - 1) drop_holding(S, fx, b, __builtin_ctz(worn));
  cb_rng_stream draws = cb_rng_stream_make(CB_RNG_REVIEW, b, day, 0);
  uint32_t wanted = wanted_kinds(S, b, day), todo = lines_to_review(S, wanted, pending);
  if (todo) {
    double income = income_on(S, b);
    if (income < 1e-9) income = 1e-9;
    int n = S->ncat, first = (int)((b + (uint32_t)day) % (uint32_t)n);
    chooser ch = chooser_of(S, b, income, day);
    /* the lines rotated so that bit i is kind first + i (mod n) */
    uint64_t twice = (uint64_t)todo << n | todo;
    for (uint32_t turn = (uint32_t)((twice >> first) & ((UINT64_C(1) << n) - 1)); turn; turn &= turn - 1) {
      int k = first + __builtin_ctz(turn);
      if (k >= n) k -= n;
      if (review_line(S, fx, b, k, wanted & S->line_mask[k], &ch, &draws, day)) return S->err.code ? S->err.code : fx->err.code;
      ch.savings = cb_buyer_at(S, b)->savings; /* what is left after this line's purchase */
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
  B->stride = cb_buyer_stride(S->ncat);
  B->mem = cb_xaligned(NULL, 64, (size_t)n * B->stride);
  if (!B->mem) return cb_err_set(e, CB_ENOMEM, "out of memory for %u buyers (%zu bytes each); reduce population.buyers", n, B->stride);
  memset(B->mem, 0, (size_t)n * B->stride);
  size_t groups = (size_t)S->sc.n_markets * CB_NRANKS * (size_t)S->ncat;
  S->util_const = cb_xcalloc(e, (size_t)S->nprod, sizeof(double));
  S->util = cb_xcalloc(e, (size_t)S->sc.n_markets * (size_t)S->nprod, sizeof(cb_util));
  B->market_first = cb_xcalloc(e, (size_t)S->sc.n_markets, sizeof(uint32_t));
  B->market_count = cb_xcalloc(e, (size_t)S->sc.n_markets, sizeof(uint32_t));
  S->holders = cb_xcalloc(e, (size_t)S->sc.n_markets * (size_t)S->nprod, sizeof(uint32_t));
  S->rank_holders = cb_xcalloc(e, groups, sizeof(uint32_t));
  S->adopt_hazard = cb_xcalloc(e, groups, sizeof(double));
  S->poss_cost = cb_xcalloc(e, (size_t)S->sc.n_markets, sizeof(double));
  if (e->code) return e->code;
  for (uint32_t b = 0; b < n; b++) memset(cb_buyer_origin(S, b), CB_NO_HOLDING, (size_t)S->ncat);
  return CB_OK;
}

/* Product lines: kinds naming the same line form one, led by its first kind; within a line a
 * kind introduced later is a newer generation of every kind introduced before it. */
static void build_lines(cb_sim *S) {
  S->schoolchildren = S->has_newer = 0;
  memset(S->line_mask, 0, sizeof S->line_mask);
  for (int k = 0; k < S->ncat; k++) {
    const cb_sc_category *c = &S->sc.categories[k];
    S->line_root[k] = k;
    for (int j = 0; c->line[0] && j < k; j++)
      if (!strcmp(S->sc.categories[j].line, c->line)) {
        S->line_root[k] = S->line_root[j];
        break;
      }
    S->line_mask[S->line_root[k]] |= UINT32_C(1) << k;
    if (c->for_schoolchildren) S->schoolchildren |= UINT32_C(1) << k;
  }
  for (int k = 0; k < S->ncat; k++) {
    S->newer[k] = 0;
    for (uint32_t x = S->line_mask[S->line_root[k]]; x; x &= x - 1) {
      int j = __builtin_ctz(x);
      if (S->sc.categories[j].introduced > S->sc.categories[k].introduced) S->newer[k] |= UINT32_C(1) << j;
    }
    if (S->newer[k]) S->has_newer |= UINT32_C(1) << k;
  }
}

int64_t cb_buyers_first_invalid(const cb_sim *S) {
  for (uint32_t b = 0; b < S->B.n; b++) {
    const cb_buyer *r = cb_buyer_at(S, b);
    if (r->market >= S->sc.n_markets || r->rank >= CB_NRANKS) return b;
    const uint8_t *origin = cb_buyer_origin(S, b);
    for (int k = 0; k < S->ncat; k++)
      if (origin[k] != CB_NO_HOLDING && origin[k] >= S->norig) return b;
  }
  return -1;
}

void cb_buyers_recount(cb_sim *S) {
  size_t groups = (size_t)S->sc.n_markets * CB_NRANKS;
  memset(S->rank_count, 0, sizeof S->rank_count);
  memset(S->rank_holders, 0, groups * (size_t)S->ncat * sizeof *S->rank_holders);
  for (uint32_t b = 0; b < S->B.n; b++) {
    const cb_buyer *r = cb_buyer_at(S, b);
    size_t g = (size_t)r->market * CB_NRANKS + r->rank;
    S->rank_count[g]++;
    const uint8_t *origin = cb_buyer_origin(S, b);
    for (int k = 0; k < S->ncat; k++) S->rank_holders[g * (size_t)S->ncat + (size_t)k] += origin[k] != CB_NO_HOLDING;
  }
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

/* Bass's cumulative adoption F(t) = (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t) after t years. */
static double bass_share(double p, double q, double years) {
  if (years <= 0 || p <= 0) return 0.0;
  double e = exp(-(p + q) * years);
  return (1.0 - e) / (1.0 + q / p * e);
}

/* Each income source's share of the buyer's income, exponential around the source's mean and
 * scaled down together if they would sum above the whole. The first two sources use the spare
 * words of the buyer's two initial blocks; any others a block of their own. */
static void draw_sources(const cb_sim *S, uint32_t b, cb_buyer *r, uint32_t word0, uint32_t word1) {
  int n = S->sc.n_income_sources;
  double share[CB_MAX_SOURCES], sum = 0;
  cb_rng_block more = {{0}};
  if (n > 2) more = cb_rng_words(&S->rng, CB_RNG_INIT_BUYER, b, 0, 2);
  for (int s = 0; s < n; s++) {
    uint32_t w = s == 0 ? word0 : s == 1 ? word1 : more.v[s - 2];
    share[s] = fmin(1.0, cb_exponential(w, S->sc.income_sources[s].share_mean));
    sum += share[s];
  }
  for (int s = 0; s < n; s++) r->source[s] = (uint8_t)lround(255.0 * (sum > 1.0 ? share[s] / sum : share[s]));
}

static void draw_buyer(cb_sim *S, uint32_t b) {
  const cb_sc_buyers *p = &S->sc.buyers;
  cb_buyer *r = cb_buyer_at(S, b);
  cb_rng_block w = cb_rng_words(&S->rng, CB_RNG_INIT_BUYER, b, 0, 0);
  cb_rng_block w2 = cb_rng_words(&S->rng, CB_RNG_INIT_BUYER, b, 0, 1);
  double u = cb_u01(w.v[0]);
  int rank = u < p->rank3_share ? CB_TOP_RANK : (u < p->rank3_share + p->rank2_share ? 1 : 0);
  r->rank = (uint8_t)rank;
  r->trader = CB_NO_TRADER;
  double z = cb_normal(w.v[1], w.v[2]);
  r->income = (float)(p->income_usd_month * pow(p->rank_income_step, rank) * exp(p->income_sigma * z));
  draw_sources(S, b, r, w.v[3], w2.v[3]);
  r->child_born = CB_NO_CHILD;
  if (cb_u01(w2.v[0]) < p->children_share) {
    double age = p->child_age_min + (p->child_age_max - p->child_age_min) * cb_u01(w2.v[2]);
    r->child_born = S->start - (int32_t)floor(age * 365.25);
  }
  r->savings = r->income * p->spend_share * 2.0 * cb_u01(w2.v[1]);
  r->last_accrual = S->start;
  S->L.buyer_income += r->savings;
  /* one draw per line: a kind of smaller potential in the line goes to a subset of its buyers */
  r->potential = 0;
  for (int k = 0; k < S->ncat; k++) {
    double a = cb_rng_u01(&S->rng, CB_RNG_APPEAL, b, 0, (uint32_t)S->line_root[k]);
    if (a < S->sc.categories[k].potential) r->potential |= UINT32_C(1) << k;
  }
  /* wants at the start: of a kind introduced t years earlier, the share Bass's curve gives */
  r->adopted = 0;
  cb_rng_stream draws = cb_rng_stream_make(CB_RNG_ADOPT, b, S->start - 1, 0);
  int pupil = cb_buyers_has_pupil(S, b, S->start);
  for (uint32_t x = r->potential & S->available; x; x &= x - 1) {
    int k = __builtin_ctz(x);
    const cb_sc_category *c = &S->sc.categories[k];
    if (c->for_schoolchildren && !pupil) continue;
    double share = bass_share(c->innovation, c->imitation, (double)(S->start - c->introduced) / 365.25);
    if (cb_u01(cb_rng_stream_word(&S->rng, &draws, (uint32_t)k)) < share) r->adopted |= UINT32_C(1) << k;
  }
}

/* Starting holdings: for each line the buyer wants at the start, a product drawn by the same
 * choice rule at the starting prices (a unit bought before the start), part-way through its
 * life. This spares the run a burst of first purchases on day one. */
static void initial_holdings(cb_sim *S, uint32_t b) {
  int m = cb_buyer_at(S, b)->market;
  chooser ch = chooser_of(S, b, income_on(S, b), S->start - 1);
  ch.savings = INFINITY; /* holdings from before the start were paid for then */
  uint32_t wanted = wanted_kinds(S, b, S->start);
  for (uint32_t lines = lines_to_review(S, wanted, 0); lines; lines &= lines - 1) {
    int line = __builtin_ctz(lines);
    double price;
    int p = choose_product(S, &ch, m, wanted & S->line_mask[line], line, -1.0, &price);
    if (p < 0) continue;
    int k = cb_prod_cat(S, p);
    double left = cb_u01(cb_rng_words(&S->rng, CB_RNG_INIT_BUYER, b, 1, (uint32_t)k).v[0]) * cb_goods_lifetime(S, p);
    cb_buyer_origin(S, b)[k] = (uint8_t)cb_prod_origin(S, p);
    cb_buyer_until(S, b)[k] = (uint16_t)(left < 65534.0 ? left : 65534.0);
    S->holders[m * S->nprod + p]++;
  }
}

int cb_buyers_init(cb_sim *S) {
  uint32_t n = (uint32_t)S->sc.pop.buyers;
  if (alloc_buyers(S, n)) return S->err.code;
  if (cb_buckets_init(&S->reviews, CB_REVIEW_HORIZON, &S->err)) return S->err.code;
  assign_markets(S);
  build_lines(S);
  /* u = (bits + 0.5) / 65536 < upgrade_prob  <=>  bits < ceil(upgrade_prob * 65536 - 0.5) */
  S->upgrade_threshold = (uint32_t)fmax(0.0, ceil(S->sc.buyers.upgrade_prob * 65536.0 - 0.5));
  build_gap_steps(S);
  cb_buyers_recount(S); /* no holdings yet: today's hazards see none */
  cb_buyers_utility_tables(S, 1);
  for (uint32_t b = 0; b < n; b++) draw_buyer(S, b);
  cb_buyers_utility_tables(S, 1);
  for (uint32_t b = 0; b < n; b++) {
    initial_holdings(S, b);
    if (cb_buyers_link(S, b, S->start) < 0) return cb_err_set(&S->err, CB_EMISUSE, "no active trader to link buyers to");
    double first = cb_rng_u01(&S->rng, CB_RNG_REVIEW, b, S->start - 1, 0) * S->sc.buyers.review_days;
    int32_t gap = (int32_t)first < CB_REVIEW_HORIZON - 1 ? (int32_t)first : CB_REVIEW_HORIZON - 1;
    if (cb_buckets_push(&S->reviews, S->start + gap, b, &S->err)) return S->err.code;
  }
  cb_buyers_recount(S);
  return CB_OK;
}

void cb_buyers_free(cb_sim *S) {
  cb_buyers *B = &S->B;
  free(B->mem);
  free(S->util_const); free(S->util); free(B->market_first); free(B->market_count);
  free(S->holders); free(S->rank_holders); free(S->adopt_hazard); free(S->poss_cost);
  cb_buckets_free(&S->reviews);
  cb_buyers_free_threads(S);
}
