/* Mechanism tests for the agent modules (enforcement, possession checks, buyers, traders,
 * middlemen, market): each runs a small version of the baseline with one mechanism pushed to an
 * extreme and checks the consequence that mechanism alone must produce. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/world.h"
#include "support.h"

static cb_sim *run(const char *const *set, int n) {
  cb_sim *S = cb_new();
  assert_int_equal(cb_read_scenario(S, "scenarios/baseline.yaml"), CB_OK);
  const char *small[] = {"population.buyers=5000", "population.traders=100", "population.middlemen=20", "population.officials=100"};
  for (int i = 0; i < 4; i++) assert_int_equal(cb_set(S, small[i]), CB_OK);
  for (int i = 0; i < n; i++)
    if (cb_set(S, set[i]) != CB_OK) fail_msg("%s: %s", set[i], cb_errmsg(S));
  cb_set_seed(S, 5);
  cb_set_check(S, 1);
  if (cb_init(S) != CB_OK || cb_run(S) != CB_OK) fail_msg("%s", cb_errmsg(S));
  return S;
}

static int index_of(const cb_sim *S, cb_place_kind kind, const char *name) {
  for (int i = 0; i < S->metrics.nplace[kind]; i++)
    if (strcmp(S->metrics.place_names[kind][i], name) == 0) return i;
  fail_msg("no place %s", name);
  return -1;
}

/* Total of a metric at one place (all other coordinates summed). */
static double at_place(const cb_sim *S, cb_metric_id id, const char *place) {
  const cb_metrics *m = &S->metrics;
  int pl = place ? index_of(S, cb_metric_def_of(id)->place, place) : -1;
  double s = 0;
  for (uint32_t p = 0; p < m->nperiods; p++)
    for (uint32_t i = 0; i < m->size[id]; i++) {
      uint32_t per_place = m->size[id] / (uint32_t)(cb_metric_def_of(id)->place != CB_PLACE_NONE ? m->nplace[cb_metric_def_of(id)->place] : 1);
      if (pl >= 0 && i / per_place != (uint32_t)pl) continue;
      s += m->hist[(size_t)p * m->nslots + m->offset[id] + i];
    }
  return s;
}

/* The bribe is a bargain: officials whose deals are never found out always settle (the law only
 * when a trader cannot pay what the official needs); officials whose every deal is found out never
 * do, and their inspections end in fines and confiscations. */
static void enforcement_bribe_or_law(void **state) {
  (void)state;
  const char *dealing[] = {"checkpoints.kp_customs_sinuiju.inspect_prob=1", "checkpoints.kp_customs_sinuiju.skill=1",
                           "checkpoints.kp_customs_sinuiju.skill_sd=0", "checkpoints.kp_customs_sinuiju.monitoring=0",
                           "crackdowns={}"};
  cb_sim *A = run(dealing, 5);
  double bribes = at_place(A, CB_M_BRIBES, "kp_customs_sinuiju"), fines = at_place(A, CB_M_FINES, "kp_customs_sinuiju");
  double conf = at_place(A, CB_M_CONFISCATIONS, "kp_customs_sinuiju");
  assert_true(bribes > 1000);
  assert_true(fines + conf < 0.01 * bribes); /* only when a trader cannot pay */
  /* both gain: with nothing at risk and the surplus split evenly, a bribe is half the expected formal
   * penalty, far below the fines it replaced */
  assert_true(at_place(A, CB_M_BRIBES_USD, "kp_customs_sinuiju") < 0.8 * at_place(A, CB_M_FINES_AVOIDED_USD, "kp_customs_sinuiju"));
  cb_free(A);
  const char *honest[] = {"checkpoints.kp_customs_sinuiju.inspect_prob=1", "checkpoints.kp_customs_sinuiju.skill=1",
                          "checkpoints.kp_customs_sinuiju.monitoring=1", "checkpoints.kp_customs_sinuiju.connected_share=0"};
  cb_sim *B = run(honest, 4);
  assert_true(at_place(B, CB_M_BRIBES, "kp_customs_sinuiju") == 0);
  assert_true(at_place(B, CB_M_FINES, "kp_customs_sinuiju") > 100);
  assert_true(at_place(B, CB_M_CONFISCATIONS, "kp_customs_sinuiju") > 100);
  cb_free(B);
}

/* Without children there is no education pretext; with every buyer the parent of a pupil and a certain
 * pretext for every media device, no media device is ever fined (only banned-origin goods). */
static void possession_pretext(void **state) {
  (void)state;
  const char *none[] = {"buyers.children_share=0"};
  cb_sim *A = run(none, 1);
  assert_true(at_place(A, CB_M_PRETEXTS, NULL) == 0);
  assert_true(at_place(A, CB_M_BRIBES, "group109_pyongyang") > 0);
  cb_free(A);
  /* every buyer has a child aged 8 at the start, so at school (6 to 17) until the end of 2019 */
  const char *all[] = {"buyers.children_share=1", "buyers.child_age_min=8", "buyers.child_age_max=8",
                       "categories.laptops.pretext=1", "categories.laptops_advanced.pretext=1", "categories.mp3_players.pretext=1",
                       "categories.mp4_players.pretext=1", "categories.cameras.pretext=1", "categories.e_dictionaries.pretext=1",
                       "origins.kr.kp_banned=false"};
  cb_sim *B = run(all, (int)(sizeof all / sizeof *all));
  assert_true(at_place(B, CB_M_PRETEXTS, NULL) > 100);
  assert_true(at_place(B, CB_M_BRIBES, "group109_pyongyang") + at_place(B, CB_M_FINES, "group109_pyongyang") +
                  at_place(B, CB_M_CONFISCATIONS, "group109_pyongyang") == 0);
  cb_free(B);
}

/* A buyer who values buying nothing above everything buys almost nothing. */
static void buyers_outside_option(void **state) {
  (void)state;
  cb_sim *A = run(NULL, 0);
  const char *content[] = {"buyers.outside_utility=60"};
  cb_sim *B = run(content, 1);
  double a = at_place(A, CB_M_ORDERED_UNITS, NULL), b = at_place(B, CB_M_ORDERED_UNITS, NULL);
  assert_true(a > 100000);
  assert_true(b < 0.001 * a);
  cb_free(A);
  cb_free(B);
}

/* With every illicit channel stopped at both crossings only legal goods (Chinese) arrive. */
static void traders_respect_closures(void **state) {
  (void)state;
  const char *closed[] = {"closures.all_s.start=2012-01-01", "closures.all_s.end=2019-12-31", "closures.all_s.crossing=sinuiju",
                          "closures.all_s.channels=[disguised, smuggled, luggage]", "closures.all_h.start=2012-01-01",
                          "closures.all_h.end=2019-12-31", "closures.all_h.crossing=hyesan",
                          "closures.all_h.channels=[disguised, smuggled, luggage]"};
  cb_sim *S = run(closed, 8);
  const cb_metrics *m = &S->metrics;
  double legal = 0, illicit = 0;
  for (uint32_t p = 0; p < m->nperiods; p++)
    for (int x = 0; x < m->nplace[CB_PLACE_CROSSING]; x++)
      for (int ch = 0; ch < CB_NCHANNELS; ch++)
        for (int o = 0; o < m->norig; o++)
          for (int k = 0; k < m->ncat; k++) {
            double v = m->hist[(size_t)p * m->nslots + cb_metrics_slot(m, CB_M_DELIVERED_UNITS, x, ch, o, k)];
            if (ch == CB_CH_LEGAL) legal += v;
            else illicit += v;
          }
  assert_true(legal > 1000);
  assert_true(illicit == 0);
  cb_free(S);
}

/* Protection cuts inspections: when one top-rank client makes a trader untouchable, the traders
 * with such a client (most of them) are never inspected, so inspections collapse. */
static void traders_protection(void **state) {
  (void)state;
  const char *none[] = {"traders.protection_effect=0"};
  const char *full[] = {"traders.protection_effect=1", "traders.protection_clients=0.0001"};
  cb_sim *A = run(none, 1), *B = run(full, 2);
  double a = at_place(A, CB_M_INSPECTIONS, "kp_customs_sinuiju"), b = at_place(B, CB_M_INSPECTIONS, "kp_customs_sinuiju");
  assert_true(a > 1000);
  assert_true(b < 0.2 * a);
  cb_free(A);
  cb_free(B);
}

/* Middlemen who relabel slowly delay disguised goods: fewer are delivered within the period
 * than with ample capacity, and more are still on their way at the end. */
static void middlemen_capacity_delays(void **state) {
  (void)state;
  const char *slow[] = {"middlemen.capacity_bulk_day=0.05"};
  cb_sim *A = run(NULL, 0), *B = run(slow, 1);
  assert_true(B->in_transit > 2 * A->in_transit);
  cb_free(A);
  cb_free(B);
}

/* Mean over the run's period ends of the market price of one product. */
static double mean_price(const cb_sim *S, int market, int product) {
  const cb_metrics *m = &S->metrics;
  double s = 0;
  for (uint32_t p = 0; p < m->nperiods; p++)
    s += m->hist[(size_t)p * m->nslots + cb_metrics_slot(m, CB_M_PRICE_USD, market, 0, cb_prod_origin(S, product), cb_prod_cat(S, product))];
  return s / m->nperiods;
}

static int product_of(const cb_sim *S, const char *origin, const char *category) {
  for (int p = 0; p < S->nprod; p++)
    if (!strcmp(S->sc.origins[cb_prod_origin(S, p)].name, origin) && !strcmp(S->sc.categories[cb_prod_cat(S, p)].name, category)) return p;
  fail_msg("no product %s %s", origin, category);
  return -1;
}

/* Prices follow costs: a dearer source price raises the market price of that product, and of
 * others only through what buyers then choose instead (a far smaller change). */
static void market_prices_follow_costs(void **state) {
  (void)state;
  const char *dear[] = {"categories.laptops.price_usd.jp=1400"};
  cb_sim *A = run(NULL, 0), *B = run(dear, 1);
  int m = index_of(A, CB_PLACE_MARKET, "pyongyang");
  int jp_laptops = product_of(A, "jp", "laptops"), jp_cameras = product_of(A, "jp", "cameras");
  double laptops = mean_price(B, m, jp_laptops) / mean_price(A, m, jp_laptops);
  double cameras = mean_price(B, m, jp_cameras) / mean_price(A, m, jp_cameras);
  printf("mean Pyongyang price with Japanese laptops at 1400 USD at source: laptops x%.3f, cameras x%.3f\n", laptops, cameras);
  assert_true(laptops > 1.6 && laptops < 2.4); /* about twice the source price, twice the price */
  assert_true(fabs(cameras - 1) < 0.15);
  cb_free(A);
  cb_free(B);
}

/* A small baseline initialised but not run, with the bargaining parameters overridden: the
 * bargain is a function of the state it is given, so it can be examined trader by trader. */
static cb_sim *world(const char *const *set, int n) {
  cb_sim *S = cb_new();
  assert_int_equal(cb_read_scenario(S, "scenarios/baseline.yaml"), CB_OK);
  const char *small[] = {"population.buyers=2000", "population.traders=100", "population.middlemen=20", "population.officials=100"};
  for (int i = 0; i < 4; i++) assert_int_equal(cb_set(S, small[i]), CB_OK);
  for (int i = 0; i < n; i++)
    if (cb_set(S, set[i]) != CB_OK) fail_msg("%s: %s", set[i], cb_errmsg(S));
  cb_set_seed(S, 5);
  if (cb_init(S) != CB_OK) fail_msg("%s", cb_errmsg(S));
  return S;
}

/* The first trader with a supplier in the first hub whose posted commission exceeds the
 * middlemen's cost (so there is a margin to bargain over). */
static uint32_t trader_with_margin(const cb_sim *S) {
  for (uint32_t t = 0; t < S->ntraders; t++) {
    uint32_t m = S->T[t].supply[0].middleman;
    if (m != UINT32_MAX && S->M[m].commission > S->sc.middlemen.cost_share + 0.01) return t;
  }
  fail_msg("no trader with a supplier whose commission exceeds its cost");
  return 0;
}

static const double LAPTOP_USD = 800; /* any source price: the bargain scales with it */

/* Bulk: other things equal, a consignment of 50 bulk units pays a lower unit price than one of
 * 0.1; with bulk_power 0 (the mechanism removed) both pay the same. */
static void middlemen_bulk_discount(void **state) {
  (void)state;
  const char *on[] = {"middlemen.bulk_power=0.6", "middlemen.bulk_half=2"}, *off[] = {"middlemen.bulk_power=0"};
  cb_sim *A = world(on, 2), *B = world(off, 1);
  uint32_t t = trader_with_margin(A);
  double small = cb_middlemen_price(A, &A->T[t], 0, LAPTOP_USD, 0.1), big = cb_middlemen_price(A, &A->T[t], 0, LAPTOP_USD, 50);
  printf("unit price for 0.1 bulk units %.3f, for 50 %.3f USD\n", small, big);
  assert_true(big < small - 0.5);
  assert_near(cb_middlemen_price(B, &B->T[t], 0, LAPTOP_USD, 0.1), cb_middlemen_price(B, &B->T[t], 0, LAPTOP_USD, 50), 1e-9);
  cb_free(A);
  cb_free(B);
}

/* Repeat relations: the price falls with every further deal between the same pair, and a run
 * leaves traders with deals on record (shipments count them); with repeat_power 0 deals are
 * worth nothing. */
static void middlemen_repeat_deals(void **state) {
  (void)state;
  const char *on[] = {"middlemen.repeat_power=0.6", "middlemen.repeat_half_deals=5"}, *off[] = {"middlemen.repeat_power=0"};
  cb_sim *A = world(on, 2), *B = world(off, 1);
  uint32_t t = trader_with_margin(A);
  cb_trader *ta = &A->T[t], *tb = &B->T[t];
  double last = INFINITY;
  for (uint32_t d = 0; d <= 40; d += 5) {
    ta->supply[0].deals = d;
    double p = cb_middlemen_price(A, ta, 0, LAPTOP_USD, 1);
    assert_true(p < last);
    last = p;
  }
  ta->supply[0].deals = 0;
  double first = cb_middlemen_price(A, ta, 0, LAPTOP_USD, 1);
  printf("unit price at the first deal %.3f, after 40 deals %.3f USD\n", first, last);
  assert_true(last < first - 0.5);
  tb->supply[0].deals = 40;
  double b40 = cb_middlemen_price(B, tb, 0, LAPTOP_USD, 1);
  tb->supply[0].deals = 0;
  assert_near(b40, cb_middlemen_price(B, tb, 0, LAPTOP_USD, 1), 1e-9);
  cb_free(A);
  cb_free(B);
  /* in a run, dispatches are deals: traders come out of it with deals done */
  cb_sim *R = run(on, 2);
  uint64_t deals = 0;
  for (uint32_t i = 0; i < R->ntraders_max; i++)
    for (int h = 0; h < R->sc.n_hubs; h++) deals += R->T[i].supply[h].deals;
  assert_true(deals > 1000);
  cb_free(R);
}

/* Haggling: the same trader (same contacts, hence the same supplier) drawn with a higher skill
 * pays less; a type's skill reaches its traders through the draw. */
static void middlemen_haggling(void **state) {
  (void)state;
  const char *soft[] = {"trader_types.executive.haggling=0.1", "trader_types.dealer.haggling=0.1", "trader_types.traveller.haggling=0.1"};
  const char *hard[] = {"trader_types.executive.haggling=0.8", "trader_types.dealer.haggling=0.8", "trader_types.traveller.haggling=0.8"};
  cb_sim *A = world(soft, 3), *B = world(hard, 3);
  uint32_t t = trader_with_margin(A);
  assert_int_equal(A->T[t].supply[0].middleman, B->T[t].supply[0].middleman);
  assert_true(B->T[t].haggling > A->T[t].haggling);
  double soft_price = cb_middlemen_price(A, &A->T[t], 0, LAPTOP_USD, 1), hard_price = cb_middlemen_price(B, &B->T[t], 0, LAPTOP_USD, 1);
  printf("unit price with haggling %.2f: %.3f USD, with %.2f: %.3f USD\n", A->T[t].haggling, soft_price, B->T[t].haggling, hard_price);
  assert_true(hard_price < soft_price - 0.5);
  cb_free(A);
  cb_free(B);
}

/* The middleman's cost is a floor: with every source of power at its most the price stays at or
 * above it, and a middleman whose posted commission is below its cost sells at cost. Over a run,
 * what traders paid middlemen never falls below what the middlemen's goods cost them. */
static void middlemen_price_floor(void **state) {
  (void)state;
  const char *strong[] = {"middlemen.cost_share=0.05", "middlemen.bulk_power=0.95", "middlemen.repeat_power=0.95",
                          "trader_types.executive.haggling=0.95", "trader_types.dealer.haggling=0.95", "trader_types.traveller.haggling=0.95"};
  cb_sim *A = world(strong, 6);
  for (uint32_t t = 0; t < A->ntraders; t++) {
    cb_trader *tr = &A->T[t];
    for (int h = 0; h < A->sc.n_hubs; h++) {
      if (tr->supply[h].middleman == UINT32_MAX) continue;
      double cost = cb_middlemen_cost(A, h, LAPTOP_USD);
      tr->supply[h].deals = 1000000;
      double p = cb_middlemen_price(A, tr, h, LAPTOP_USD, 1e6);
      assert_true(p >= cost);
      if (A->M[tr->supply[h].middleman].commission <= A->sc.middlemen.cost_share) assert_near(p, cost, 1e-9);
      else assert_true(p > cost);
    }
  }
  cb_free(A);
  cb_sim *R = run(strong, 6);
  double earned = 0;
  for (uint32_t i = 0; i < R->nmiddlemen; i++) {
    assert_true(R->M[i].earnings_usd >= 0);
    earned += R->M[i].earnings_usd;
  }
  assert_true(earned > 0);
  cb_free(R);
}

/* Shipments charge the bargained price: with strong bargaining, middlemen earn less per unit
 * they procure than with none (the run as a whole, not the price function alone). */
static void middlemen_earn_the_bargain(void **state) {
  (void)state;
  const char *none[] = {"middlemen.bulk_power=0", "middlemen.repeat_power=0", "trader_types.executive.haggling=0",
                        "trader_types.executive.haggling_spread=0", "trader_types.dealer.haggling=0", "trader_types.dealer.haggling_spread=0",
                        "trader_types.traveller.haggling=0", "trader_types.traveller.haggling_spread=0", "middlemen.illicit_premium=0"};
  const char *strong[] = {"middlemen.bulk_power=0.9", "middlemen.repeat_power=0.9", "trader_types.executive.haggling=0.9",
                          "trader_types.executive.haggling_spread=0", "trader_types.dealer.haggling=0.9", "trader_types.dealer.haggling_spread=0",
                          "trader_types.traveller.haggling=0.9", "trader_types.traveller.haggling_spread=0", "middlemen.illicit_premium=0"};
  cb_sim *A = run(none, 9), *B = run(strong, 9);
  double ea = 0, eb = 0;
  for (uint32_t i = 0; i < A->nmiddlemen; i++) ea += A->M[i].earnings_usd;
  for (uint32_t i = 0; i < B->nmiddlemen; i++) eb += B->M[i].earnings_usd;
  double a = ea / A->L.procured, b = eb / B->L.procured;
  printf("middlemen's earnings per unit procured: %.3f USD without bargaining power, %.3f with strong power\n", a, b);
  assert_true(b < 0.5 * a);
  cb_free(A);
  cb_free(B);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(enforcement_bribe_or_law), cmocka_unit_test(possession_pretext),
      cmocka_unit_test(buyers_outside_option),    cmocka_unit_test(traders_respect_closures),
      cmocka_unit_test(traders_protection),       cmocka_unit_test(middlemen_capacity_delays),
      cmocka_unit_test(market_prices_follow_costs), cmocka_unit_test(middlemen_bulk_discount),
      cmocka_unit_test(middlemen_repeat_deals),     cmocka_unit_test(middlemen_haggling),
      cmocka_unit_test(middlemen_price_floor),      cmocka_unit_test(middlemen_earn_the_bargain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
