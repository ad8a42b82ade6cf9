/* Enforcement: officials at checkpoints (customs, border guards, road checks, by the rules the
 * scenario gives each kind) and inspection teams checking buyers' holdings (Group 109). An
 * inspection may find a violation (relabelling hides foreign labels). Whether it ends in a bribe
 * is a bargain, not a draw: the official weighs the bribe against the chance his superiors find
 * out (monitoring, which crackdowns raise and his patrons lower) and what that would cost him; the
 * offender weighs it against the expected formal penalty, which he still faces if the deal comes
 * out. The bribe splits the surplus between them (Nash bargaining), so it falls below the penalty
 * because both gain (Shleifer and Vishny's corruption with theft), and no deal is struck when the
 * official's risk outweighs what the offender would save. */
#include <math.h>

#include "engine/apportion.h"
#include "model/goods.h"
#include "model/world.h"

/* Officials are spread over checkpoints by share (largest remainder), each with own skill and cost
 * of being found out (log-normal around the checkpoint's median); a share of them are connected to
 * cadres' networks. */
int cb_officials_init(cb_sim *S) {
  const cb_scenario *sc = &S->sc;
  cb_err *e = &S->err;
  S->nofficials = (uint32_t)sc->pop.officials;
  S->O = cb_xcalloc(e, S->nofficials, sizeof *S->O);
  S->cp_first = cb_xcalloc(e, (size_t)sc->n_checkpoints, sizeof(uint32_t));
  S->cp_count = cb_xcalloc(e, (size_t)sc->n_checkpoints, sizeof(uint32_t));
  if (e->code) return e->code;
  double shares[CB_MAX_ENTRIES];
  for (int c = 0; c < sc->n_checkpoints; c++) shares[c] = sc->checkpoints[c].officials_share;
  cb_apportion(shares, sc->n_checkpoints, S->nofficials, S->cp_count);
  uint32_t i = 0;
  for (int c = 0; c < sc->n_checkpoints; c++) {
    const cb_sc_checkpoint *cp = &sc->checkpoints[c];
    S->cp_first[c] = i;
    for (uint32_t k = 0; k < S->cp_count[c]; k++, i++) {
      cb_official *o = &S->O[i];
      cb_rng_block w = cb_rng_words(&S->rng, CB_RNG_INIT_OFFICIAL, i, 0, 0);
      cb_rng_block w2 = cb_rng_words(&S->rng, CB_RNG_INIT_OFFICIAL, i, 0, 1);
      o->checkpoint = c;
      o->skill = (float)fmin(1.0, fmax(0.0, cp->skill + cp->skill_sd * cb_normal(w.v[0], w.v[1])));
      o->penalty = (float)(cp->official_penalty_usd * exp(cp->official_penalty_sigma * cb_normal(w.v[2], w.v[3])));
      o->connected = (uint8_t)(cb_u01(w2.v[1]) < cp->connected_share);
    }
  }
  return CB_OK;
}

/* The statutory fine for units of a given value each: per-unit amounts (won at the day's rate)
 * plus a share of the value, scaled by how gravely the law treats the origin. */
static double statutory_fine(const cb_sim *S, int c, double units, double unit_value, int origin) {
  const cb_sc_checkpoint *cp = &S->sc.checkpoints[c];
  double per_unit = cp->fine_usd_per_unit + cp->fine_won_per_unit / S->rate_cp[c] + cp->fine_value_share * unit_value;
  return units * per_unit * S->sc.origins[origin].penalty_factor;
}

typedef enum { OUT_BRIBE, OUT_FINE, OUT_CONFISCATE } outcome;

/* The bargain over one detected violation, in dollars. Let E be the offender's expected formal
 * penalty and p the chance the deal is found out; found out, the official loses the bribe and pays
 * his penalty P_o, and the offender faces the law anyway. Against the law applying (the official
 * then gains reward_share x E), a bribe B gains the offender (1 - p) E - B and the official
 * (1 - p) B - p P_o - reward_share E. Both gain when B lies in [lo, hi] with
 *   lo = (p P_o + reward_share E) / (1 - p),   hi = (1 - p) E,
 * and the Nash bargaining solution with the official's power beta is B = lo + beta (hi - lo). */
typedef struct bargain {
  double expected;   /* E */
  double found_out;  /* p */
  double lo, hi;     /* the range of bribes both accept (lo > hi: none) */
  double bribe;      /* the Nash bargaining outcome */
} bargain;

static bargain strike(const cb_sim *S, const cb_official *o, int c, double fine, double goods_value, double pc) {
  const cb_sc_checkpoint *cp = &S->sc.checkpoints[c];
  bargain b;
  b.expected = (1.0 - pc) * fine + pc * goods_value;
  b.found_out = fmin(1.0, cp->monitoring * S->cp_monitor[c] * (o->connected ? cp->connected_shield : 1.0));
  if (b.found_out >= 1.0) {
    b.lo = INFINITY;
    b.hi = b.bribe = 0;
    return b;
  }
  b.lo = (b.found_out * o->penalty + cp->reward_share * b.expected) / (1.0 - b.found_out);
  b.hi = (1.0 - b.found_out) * b.expected;
  b.bribe = b.lo + cp->bargaining_power * (b.hi - b.lo);
  return b;
}

/* Settles a detected violation: a deal when one exists that the offender can pay (he pays what he
 * has if that is short of the bargain but still enough for the official); then, if the deal is
 * found out (draw w_found) or there was none, the law: confiscation (draw w_take) or the fine.
 * Returns the outcome the law reached, or OUT_BRIBE if the deal held; *bribe and *paid get what
 * went to the official as a bribe and to the law. */
static outcome settle(cb_sim *S, const cb_official *o, int c, double fine, double goods_value, double can_pay,
                      uint32_t w_found, uint32_t w_take, double *bribe, double *paid) {
  double pc = fmin(1.0, S->sc.checkpoints[c].confiscate_prob * S->cp_confiscate[c]);
  bargain b = strike(S, o, c, fine, goods_value, pc);
  *bribe = *paid = 0;
  if (b.lo < b.hi && can_pay >= b.lo) {
    *bribe = fmin(b.bribe, can_pay);
    if (cb_u01(w_found) >= b.found_out) return OUT_BRIBE;
  }
  if (cb_u01(w_take) < pc) return OUT_CONFISCATE;
  *paid = fine;
  return OUT_FINE;
}

/* Counts a settlement: the bribe if one was paid (even a deal found out), the fine a deal that held
 * replaced, and the law's outcome if it applied. */
static void count_outcome(cb_sim *S, int c, outcome out, double bribe, double paid, double fine, cb_official *o) {
  cb_metrics *m = &S->metrics;
  if (out == OUT_BRIBE) cb_metrics_add(m, CB_M_FINES_AVOIDED_USD, c, 0, 0, 0, fine);
  if (bribe > 0) {
    cb_metrics_add(m, CB_M_BRIBES, c, 0, 0, 0, 1);
    cb_metrics_add(m, CB_M_BRIBES_USD, c, 0, 0, 0, bribe);
    o->bribes_usd += bribe;
    S->L.bribes_paid += bribe;
  }
  if (out == OUT_FINE) {
    cb_metrics_add(m, CB_M_FINES, c, 0, 0, 0, 1);
    cb_metrics_add(m, CB_M_FINES_USD, c, 0, 0, 0, paid);
    o->fines_usd += paid;
    S->L.fines_paid += paid;
  } else if (out == OUT_CONFISCATE) {
    cb_metrics_add(m, CB_M_CONFISCATIONS, c, 0, 0, 0, 1);
  }
}

/* The official on duty who handles a check, drawn uniformly from those posted at checkpoint c
 * by a uniform u in (0, 1). */
static cb_official *draw_official(cb_sim *S, int c, double u) {
  if (S->cp_count[c] == 0) return NULL;
  uint32_t i = (uint32_t)(u * S->cp_count[c]);
  return &S->O[S->cp_first[c] + (i < S->cp_count[c] ? i : S->cp_count[c] - 1)];
}

/* A consignment's check at checkpoint c, the position-th checkpoint of its itinerary. The draws
 * belong to the consignment (its trader, purchase day, product and market), not to the day or a
 * storage slot, so a consignment that exists in two runs of a comparison meets the same luck.
 * Words 2 * position and 2 * position + 1 of its inspect stream decide whether it is inspected
 * and whether the inspection finds the violation; given an inspection, the first uniform divided
 * by the inspection probability is again uniform, and picks the official. Only a detected
 * violation needs a block of its own (whether a deal is found out, confiscation).
 * Returns 1 if the consignment was confiscated, 0 if it goes on. */
int cb_enforcement_check(cb_sim *S, uint32_t id, int c, uint32_t position, cb_rng_stream *inspect) {
  cb_consignment *k = &S->C[id];
  const cb_sc_checkpoint *cp = &S->sc.checkpoints[c];
  if (!cb_checkpoint_sees(S, c, k->channel)) return 0;
  if (S->cp_count[c] == 0) return 0; /* nobody posted there */
  cb_trader *t = &S->T[k->trader];
  int offence = cb_goods_offence(S, c, k->channel, k->product);
  /* Goods declared as what they are show an offence on their papers: every such consignment is
   * stopped and nothing needs finding; what remains is the official's choice, the bargain. */
  int on_papers = k->channel == CB_CH_LEGAL && offence != CB_OFFENCE_NONE;
  double p_inspect = on_papers ? 1.0 : fmin(1.0, cp->inspect_prob * S->cp_inspect[c]) * (1.0 - t->protection * S->sc.traders.protection_effect);
  double u = cb_u01(cb_rng_stream_word(&S->rng, inspect, 2 * position));
  if (u >= p_inspect) return 0;
  cb_official *o = draw_official(S, c, u / p_inspect);
  cb_metrics_add(&S->metrics, CB_M_INSPECTIONS, c, 0, 0, 0, 1);
  if (offence == CB_OFFENCE_NONE) return 0;
  double detect = on_papers ? 1.0 : o->skill;
  if (k->relabel && offence == CB_OFFENCE_LABEL)
    detect *= 1.0 - S->sc.categories[cb_prod_cat(S, k->product)].relabel_efficacy * k->relabel_skill;
  if (cb_u01(cb_rng_stream_word(&S->rng, inspect, 2 * position + 1)) >= detect) return 0;
  double fine = statutory_fine(S, c, k->qty, k->unit_cost, cb_prod_origin(S, k->product)), paid = 0;
  double can_pay = t->capital > 0 ? t->capital : 0;
  cb_rng_block w = cb_rng_words(&S->rng, CB_RNG_CHECK, k->trader, k->day_bought, (inspect->base << 1) + position);
  double bribe;
  outcome out = settle(S, o, c, fine, k->qty * k->unit_cost, can_pay, w.v[0], w.v[1], &bribe, &paid);
  count_outcome(S, c, out, bribe, paid, fine, o);
  t->capital -= bribe + paid;
  k->enforcement_usd += bribe + paid;
  t->bribes_usd += bribe;
  t->fines_usd += paid;
  return out == OUT_CONFISCATE;
}

/* ---- possession checks on buyers ---- */

/* The first working item a possession check finds against the buyer: a media device from
 * abroad (it could play South Korean media) or anything of an origin North Korea bans outright;
 * -1 if none. */
static int held_violation(const cb_sim *S, uint32_t b, int32_t day) {
  const uint8_t *origin = cb_buyer_origin(S, b);
  const uint16_t *until = cb_buyer_until(S, b);
  for (int k = 0; k < S->ncat; k++) {
    int o = origin[k];
    if (o == CB_NO_HOLDING || S->sc.origins[o].domestic) continue;
    if (!S->sc.categories[k].media_device && !S->sc.origins[o].kp_banned) continue;
    if (until[k] <= (uint16_t)(day - S->start)) continue;
    return k;
  }
  return -1;
}

/* The j-th check of team c in market m today: which buyer it stops, and its draws. */
typedef struct stop {
  uint32_t agent, buyer;
  cb_rng_block w;
} stop;

static stop draw_stop(const cb_sim *S, int c, int m, uint32_t j, int32_t day) {
  stop s;
  s.agent = (uint32_t)c * 1000003u + j;
  s.w = cb_rng_words(&S->rng, CB_RNG_POSSESSION, s.agent, day, (uint32_t)m);
  s.buyer = S->B.market_first[m] + (uint32_t)(cb_u01(s.w.v[0]) * S->B.market_count[m]);
  return s;
}

static void check_buyer(cb_sim *S, int c, int m, const stop *s, int32_t day) {
  uint32_t agent = s->agent, b = s->buyer;
  cb_rng_block w = s->w;
  cb_metrics_add(&S->metrics, CB_M_INSPECTIONS, c, 0, 0, 0, 1);
  int k = held_violation(S, b, day);
  if (k < 0) return;
  cb_official *o = draw_official(S, c, cb_u01(w.v[3]));
  if (!o || cb_u01(w.v[1]) >= o->skill) return;
  if (cb_buyers_has_pupil(S, b, day) && cb_u01(w.v[2]) < S->sc.categories[k].pretext) {
    cb_metrics_add(&S->metrics, CB_M_PRETEXTS, c, 0, 0, 0, 1);
    return;
  }
  uint8_t *held = cb_buyer_origin(S, b);
  int origin = held[k];
  int p = cb_product(S, k, origin);
  double value = cb_market_price(S, m, p);
  double fine = statutory_fine(S, c, 1, value, origin), paid = 0;
  double can_pay = cb_buyer_at(S, b)->savings > 0 ? cb_buyer_at(S, b)->savings : 0;
  cb_rng_block deal = cb_rng_words(&S->rng, CB_RNG_POSSESSION_DEAL, agent, day, (uint32_t)m);
  double bribe;
  outcome out = settle(S, o, c, fine, value, can_pay, deal.v[0], deal.v[1], &bribe, &paid);
  count_outcome(S, c, out, bribe, paid, fine, o);
  cb_buyer_at(S, b)->savings -= bribe + paid;
  S->poss_month[m] += bribe + paid + (out == OUT_CONFISCATE ? value : 0);
  S->L.buyer_bribes += bribe;
  S->L.buyer_fines += paid;
  if (out == OUT_CONFISCATE) cb_buyers_confiscate(S, b, k);
}

int cb_enforcement_possession(cb_sim *S, int32_t day) {
  for (int m = 0; m < S->sc.n_markets; m++) {
    if (S->B.market_count[m] == 0) continue;
    const cb_reflist *teams = &S->sc.markets[m].possession_checkpoints;
    for (int i = 0; i < teams->n; i++) {
      int c = teams->idx[i];
      double expected = S->cp_count[c] * S->sc.checkpoints[c].checks_per_official_day * S->cp_inspect[c];
      double u = cb_rng_u01(&S->rng, CB_RNG_POSSESSION, (uint32_t)c, day, 0xFFFFu);
      uint32_t n = (uint32_t)(expected + u); /* stochastic rounding keeps the mean */
      /* the stopped buyers are scattered over the market: draw a batch, fetch their records, check */
      enum { BATCH = 16 };
      stop batch[BATCH];
      for (uint32_t j0 = 0; j0 < n; j0 += BATCH) {
        uint32_t nb = n - j0 < BATCH ? n - j0 : BATCH;
        for (uint32_t j = 0; j < nb; j++) {
          batch[j] = draw_stop(S, c, m, j0 + j, day);
          __builtin_prefetch(cb_buyer_at(S, batch[j].buyer));
        }
        for (uint32_t j = 0; j < nb; j++) check_buyer(S, c, m, &batch[j], day);
      }
    }
  }
  return CB_OK;
}

/* Buyers' expected possession penalty per foreign device per month, from last month's checks. */
void cb_buyers_possession_month(cb_sim *S) {
  for (int m = 0; m < S->sc.n_markets; m++) {
    double devices = 0; /* items a check would count against their holder */
    for (int k = 0; k < S->ncat; k++)
      for (int o = 0; o < S->norig; o++)
        if (!S->sc.origins[o].domestic && (S->sc.categories[k].media_device || S->sc.origins[o].kp_banned))
          devices += S->holders[m * S->nprod + cb_product(S, k, o)];
    S->poss_cost[m] = devices > 0 ? S->poss_month[m] / devices : 0;
    S->poss_month[m] = 0;
  }
}
