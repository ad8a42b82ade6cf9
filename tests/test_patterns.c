/* Pattern-oriented tests: each of the brief's nine patterns, checked by running the model on the
 * shipped scenarios (at a reduced population, same world) over several seeds. Nothing in the
 * scenarios sets these answers; each test compares runs that differ only in the mechanism under
 * test, with common seeds, so what is checked is the effect of that mechanism. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/calendar.h"
#include "model/world.h"
#include "support.h"

#define NSEEDS 3
static const uint64_t seeds[NSEEDS] = {11, 12, 13};

/* The baseline world at 30,000 buyers: small enough for a test, large enough for stable shares. */
static const char *const small[] = {"population.buyers=30000", "population.traders=600", "population.middlemen=60",
                                    "population.officials=150"};

static cb_sim *run(const char *scenario, uint64_t seed, const char *const *extra, int nextra) {
  cb_sim *S = cb_new();
  assert_non_null(S);
  char path[1024];
  snprintf(path, sizeof path, "%s/scenarios/%s", CB_SOURCE_DIR, scenario);
  int rc = cb_read_scenario(S, path);
  for (size_t i = 0; rc == CB_OK && i < sizeof small / sizeof *small; i++) rc = cb_set(S, small[i]);
  for (int i = 0; rc == CB_OK && i < nextra; i++) rc = cb_set(S, extra[i]);
  if (rc == CB_OK) rc = cb_set_seed(S, seed);
  if (rc == CB_OK) rc = cb_init(S);
  if (rc == CB_OK) rc = cb_run(S);
  if (rc != CB_OK) fail_msg("%s seed %llu: %s", scenario, (unsigned long long)seed, cb_errmsg(S));
  return S;
}

/* ---- reading metrics back: a filter names a coordinate by name, NULL meaning any ---- */

typedef struct filter {
  const char *place, *channel, *origin, *category;
  const char *from, *to; /* period start dates, inclusive; NULL = open */
  int electronics;       /* only categories flagged electronics */
  int foreign;           /* only origins that must be disguised (South Korean, Japanese) */
} filter;

static int name_is(const char *want, const char *have) { return !want || strcmp(want, have) == 0; }

static double msum(const cb_sim *S, cb_metric_id id, filter f) {
  const cb_metrics *m = &S->metrics;
  const cb_metric_def *d = cb_metric_def_of(id);
  int32_t from = INT32_MIN, to = INT32_MAX;
  if (f.from) assert_int_equal(cb_parse_date(f.from, &from), 0);
  if (f.to) assert_int_equal(cb_parse_date(f.to, &to), 0);
  int np = d->place != CB_PLACE_NONE ? m->nplace[d->place] : 1;
  int nch = d->dims & CB_DIM_CHANNEL ? m->nch : 1, no = d->dims & CB_DIM_ORIGIN ? m->norig : 1, nk = d->dims & CB_DIM_CATEGORY ? m->ncat : 1;
  double s = 0;
  for (uint32_t p = 0; p < m->nperiods; p++) {
    if (m->period_start[p] < from || m->period_start[p] > to) continue;
    const double *row = m->hist + (size_t)p * m->nslots;
    for (int pl = 0; pl < np; pl++) {
      if (d->place != CB_PLACE_NONE && !name_is(f.place, m->place_names[d->place][pl])) continue;
      for (int ch = 0; ch < nch; ch++) {
        if ((d->dims & CB_DIM_CHANNEL) && !name_is(f.channel, m->channel_names[ch])) continue;
        for (int o = 0; o < no; o++) {
          if ((d->dims & CB_DIM_ORIGIN) && (!name_is(f.origin, m->origin_names[o]) || (f.foreign && !cb_goods_is_foreign(S, o)))) continue;
          for (int k = 0; k < nk; k++) {
            if ((d->dims & CB_DIM_CATEGORY) && (!name_is(f.category, m->category_names[k]) || (f.electronics && !S->sc.categories[k].electronics))) continue;
            s += row[cb_metrics_slot(m, id, pl, ch, o, k)];
          }
        }
      }
    }
  }
  return s;
}

/* Mean over periods of a stock metric's values summed over the filter's coordinates. */
static double mmean(const cb_sim *S, cb_metric_id id, filter f) {
  int32_t from = INT32_MIN, to = INT32_MAX;
  if (f.from) cb_parse_date(f.from, &from);
  if (f.to) cb_parse_date(f.to, &to);
  int n = 0;
  for (uint32_t p = 0; p < S->metrics.nperiods; p++) n += S->metrics.period_start[p] >= from && S->metrics.period_start[p] <= to;
  assert_true(n > 0);
  return msum(S, id, f) / n;
}

/* 1. Sinuiju carries over 70% of South Korean and Japanese electronics. */
static void pattern1_route_concentration(void **state) {
  (void)state;
  for (int i = 0; i < NSEEDS; i++) {
    cb_sim *S = run("baseline.yaml", seeds[i], NULL, 0);
    double all = msum(S, CB_M_DELIVERED_UNITS, (filter){.electronics = 1, .foreign = 1});
    double sinuiju = msum(S, CB_M_DELIVERED_UNITS, (filter){.place = "sinuiju", .electronics = 1, .foreign = 1});
    printf("pattern 1, seed %llu: Sinuiju carries %.1f%% of %.0f units\n", (unsigned long long)seeds[i], 100 * sinuiju / all, all);
    assert_true(all > 10000);
    assert_true(sinuiju / all > 0.70);
    assert_true(sinuiju / all < 0.999); /* Hyesan still matters: the share is not built in */
    cb_free(S);
  }
}

/* 2. Stopping illicit trade at Hyesan barely reduces total supply: traffic moves to Sinuiju. */
static void pattern2_displacement(void **state) {
  (void)state;
  for (int i = 0; i < NSEEDS; i++) {
    cb_sim *A = run("baseline.yaml", seeds[i], NULL, 0);
    cb_sim *B = run("hyesan-sealed.yaml", seeds[i], NULL, 0);
    filter illicit_hyesan = {.place = "hyesan", .foreign = 1};
    double a_total = msum(A, CB_M_DELIVERED_UNITS, (filter){0}), b_total = msum(B, CB_M_DELIVERED_UNITS, (filter){0});
    double a_hyesan = msum(A, CB_M_DELIVERED_UNITS, illicit_hyesan), b_hyesan = msum(B, CB_M_DELIVERED_UNITS, illicit_hyesan);
    double a_sinuiju = msum(A, CB_M_DELIVERED_UNITS, (filter){.place = "sinuiju"});
    double b_sinuiju = msum(B, CB_M_DELIVERED_UNITS, (filter){.place = "sinuiju"});
    printf("pattern 2, seed %llu: total %.0f -> %.0f (%.2f%%); Hyesan foreign %.0f -> %.0f; Sinuiju %.0f -> %.0f\n",
           (unsigned long long)seeds[i], a_total, b_total, 100 * (b_total / a_total - 1), a_hyesan, b_hyesan, a_sinuiju, b_sinuiju);
    assert_true(a_hyesan > 0.02 * a_total); /* Hyesan carried a real share before */
    assert_true(b_hyesan == 0);
    assert_true(b_sinuiju > a_sinuiju);           /* the traffic moved */
    assert_true(b_total > 0.95 * a_total);        /* and total supply barely fell */
    cb_free(A);
    cb_free(B);
  }
}

/* Mean Pyongyang price of South Korean and Japanese goods over a window, as a simple index
 * (sum over products of mean prices). */
static double foreign_price_index(const cb_sim *S, const char *origin, const char *from, const char *to) {
  return mmean(S, CB_M_PRICE_USD, (filter){.place = "pyongyang", .origin = origin, .foreign = 1, .from = from, .to = to});
}

/* 3. Enforcement raises prices: a crackdown raises destination prices against the same world
 * without it; easing Japan's sanctions lowers Japanese prices. */
static void pattern3_enforcement_prices(void **state) {
  (void)state;
  const char *no_crackdown[] = {"crackdowns.congress_2016.inspect_factor=1", "crackdowns.congress_2016.accept_factor=1",
                                "crackdowns.congress_2016.confiscate_factor=1"};
  for (int i = 0; i < NSEEDS; i++) {
    cb_sim *with = run("baseline.yaml", seeds[i], NULL, 0);
    cb_sim *without = run("baseline.yaml", seeds[i], no_crackdown, 3);
    double p_with = foreign_price_index(with, NULL, "2016-05-01", "2016-06-01");
    double p_without = foreign_price_index(without, NULL, "2016-05-01", "2016-06-01");
    double before_with = foreign_price_index(with, NULL, "2016-02-01", "2016-03-01");
    double before_without = foreign_price_index(without, NULL, "2016-02-01", "2016-03-01");
    printf("pattern 3, seed %llu: crackdown price index %.1f vs %.1f without (before: %.1f vs %.1f)\n",
           (unsigned long long)seeds[i], p_with, p_without, before_with, before_without);
    assert_true(fabs(before_with / before_without - 1) < 1e-12); /* identical until the crackdown */
    assert_true(p_with > 1.03 * p_without);
    cb_free(with);
    cb_free(without);
    cb_sim *base = run("baseline.yaml", seeds[i], NULL, 0);
    cb_sim *eased = run("japan-eases-2014.yaml", seeds[i], NULL, 0);
    double jp_base = foreign_price_index(base, "jp", "2015-01-01", "2019-12-01");
    double jp_eased = foreign_price_index(eased, "jp", "2015-01-01", "2019-12-01");
    printf("pattern 3, seed %llu: Japanese price index %.1f baseline, %.1f after easing\n", (unsigned long long)seeds[i], jp_base, jp_eased);
    assert_true(jp_eased < 0.97 * jp_base);
    cb_free(base);
    cb_free(eased);
  }
}

/* 4. Most detected violations end in a bribe, not a fine or a confiscation. */
static void pattern4_corruption_equilibrium(void **state) {
  (void)state;
  for (int i = 0; i < NSEEDS; i++) {
    cb_sim *S = run("baseline.yaml", seeds[i], NULL, 0);
    double bribes = msum(S, CB_M_BRIBES, (filter){0}), fines = msum(S, CB_M_FINES, (filter){0});
    double conf = msum(S, CB_M_CONFISCATIONS, (filter){0});
    double share = bribes / (bribes + fines + conf);
    printf("pattern 4, seed %llu: %.0f bribes, %.0f fines, %.0f confiscations: %.1f%% bribes\n", (unsigned long long)seeds[i], bribes, fines, conf, 100 * share);
    assert_true(fines > 0 && conf > 0); /* the law does apply sometimes */
    assert_true(share > 0.6);
    /* bribes are below the statutory fine, so the average bribe is below the average fine */
    assert_true(msum(S, CB_M_BRIBES_USD, (filter){0}) / bribes < msum(S, CB_M_FINES_USD, (filter){0}) / fines);
    cb_free(S);
  }
}

static double relabel_share(const cb_sim *S, const char *category) {
  filter f = {.origin = "kr", .category = category};
  double moved = msum(S, CB_M_DELIVERED_UNITS, f) + msum(S, CB_M_SEIZED_UNITS, f);
  return msum(S, CB_M_RELABELED_UNITS, f) / moved;
}

/* 5. South Korean cosmetics (barred from Chinese customs under a foreign label) are almost always
 * relabelled; appliances, which pass Chinese customs anyway, far less. */
static void pattern5_disguise(void **state) {
  (void)state;
  for (int i = 0; i < NSEEDS; i++) {
    cb_sim *S = run("baseline.yaml", seeds[i], NULL, 0);
    double cosmetics = relabel_share(S, "cosmetics"), appliances = relabel_share(S, "appliances");
    printf("pattern 5, seed %llu: relabelled: cosmetics %.1f%%, appliances %.1f%%\n", (unsigned long long)seeds[i], 100 * cosmetics, 100 * appliances);
    assert_true(cosmetics > 0.85);
    assert_true(appliances < 0.5 * cosmetics);
    cb_free(S);
  }
}

static double ordered(const cb_sim *S, const char *origin, const char *from, const char *to) {
  return msum(S, CB_M_ORDERED_UNITS, (filter){.origin = origin, .from = from, .to = to});
}

/* 6. Demand for South Korean goods keeps growing despite bans; the buy-domestic campaign hardly
 * moves buyers who hold foreign currency (while it would move buyers without savings). */
static void pattern6_demand_growth(void **state) {
  (void)state;
  const char *no_campaign[] = {"campaigns.kim_jong_un_patriotism.strength=0"};
  const char *no_savings_shield[] = {"buyers.campaign_fx_scale_usd=1000000"};
  for (int i = 0; i < NSEEDS; i++) {
    cb_sim *S = run("baseline.yaml", seeds[i], NULL, 0);
    int rises = 0;
    double prev = 0;
    char from[11], to[11];
    for (int y = 2012; y <= 2019; y++) {
      snprintf(from, sizeof from, "%04d-01-01", y);
      snprintf(to, sizeof to, "%04d-12-01", y);
      double v = ordered(S, "kr", from, to);
      if (y > 2012 && v > prev) rises++;
      prev = v;
    }
    double first = ordered(S, "kr", "2012-01-01", "2012-12-01"), last = ordered(S, "kr", "2019-01-01", "2019-12-01");
    printf("pattern 6, seed %llu: South Korean orders %.0f in 2012, %.0f in 2019, %d of 7 years up\n", (unsigned long long)seeds[i], first, last, rises);
    assert_true(last > 1.05 * first);
    assert_true(rises >= 5);
    cb_sim *N = run("baseline.yaml", seeds[i], no_campaign, 1);
    cb_sim *X = run("baseline.yaml", seeds[i], no_savings_shield, 1);
    cb_sim *XN = run("baseline.yaml", seeds[i], (const char *[]){no_savings_shield[0], no_campaign[0]}, 2);
    double with = ordered(S, "kr", "2016-04-01", "2019-12-01") + ordered(S, "jp", "2016-04-01", "2019-12-01");
    double without = ordered(N, "kr", "2016-04-01", "2019-12-01") + ordered(N, "jp", "2016-04-01", "2019-12-01");
    double exposed = ordered(X, "kr", "2016-04-01", "2019-12-01") + ordered(X, "jp", "2016-04-01", "2019-12-01");
    double exposed_without = ordered(XN, "kr", "2016-04-01", "2019-12-01") + ordered(XN, "jp", "2016-04-01", "2019-12-01");
    printf("pattern 6, seed %llu: campaign changes foreign orders by %.2f%% (savings shield) vs %.2f%% (no shield)\n",
           (unsigned long long)seeds[i], 100 * (with / without - 1), 100 * (exposed / exposed_without - 1));
    assert_true(fabs(with / without - 1) < 0.03);
    assert_true(exposed / exposed_without < 0.9); /* the mechanism is there; hard currency blunts it */
    cb_free(S);
    cb_free(N);
    cb_free(X);
    cb_free(XN);
  }
}

/* 7. Origin preference follows perceived quality and durability: Japanese and South Korean over
 * Chinese over domestic; with every origin at the same source price the order is by quality. */
static void pattern7_origin_preference(void **state) {
  (void)state;
  static char sets[64][96];
  const char *equal[64];
  int n = 0;
  const char *cats[] = {"cosmetics", "appliances", "laptops", "media_players", "cameras", "e_dictionaries", "instant_coffee", "hygiene"};
  const char *orig[] = {"kr", "jp", "cn", "kp"};
  const double price[] = {20, 100, 400, 50, 200, 80, 5, 4};
  for (int k = 0; k < 8; k++)
    for (int o = 0; o < 4; o++) {
      snprintf(sets[n], sizeof sets[n], "categories.%s.price_usd.%s=%g", cats[k], orig[o], price[k]);
      equal[n] = sets[n];
      n++;
    }
  for (int i = 0; i < NSEEDS; i++) {
    cb_sim *S = run("baseline.yaml", seeds[i], NULL, 0);
    double jp = ordered(S, "jp", NULL, NULL), kr = ordered(S, "kr", NULL, NULL), cn = ordered(S, "cn", NULL, NULL), kp = ordered(S, "kp", NULL, NULL);
    printf("pattern 7, seed %llu: ordered jp %.0f kr %.0f cn %.0f kp %.0f\n", (unsigned long long)seeds[i], jp, kr, cn, kp);
    assert_true(jp > cn && kr > cn && cn > kp);
    cb_free(S);
    cb_sim *E = run("baseline.yaml", seeds[i], equal, n);
    jp = ordered(E, "jp", NULL, NULL), kr = ordered(E, "kr", NULL, NULL), cn = ordered(E, "cn", NULL, NULL), kp = ordered(E, "kp", NULL, NULL);
    printf("pattern 7, seed %llu, equal source prices: ordered jp %.0f kr %.0f cn %.0f kp %.0f\n", (unsigned long long)seeds[i], jp, kr, cn, kp);
    assert_true(jp > kr && kr > cn && cn > kp);
    cb_free(E);
  }
}

/* 8. Japan easing its sanctions raises legal trade in Japanese goods and shrinks their smuggled share. */
static void pattern8_japan_easing(void **state) {
  (void)state;
  for (int i = 0; i < NSEEDS; i++) {
    cb_sim *A = run("baseline.yaml", seeds[i], NULL, 0);
    cb_sim *B = run("japan-eases-2014.yaml", seeds[i], NULL, 0);
    filter legal = {.origin = "jp", .channel = "legal", .from = "2014-08-01"}, all = {.origin = "jp", .from = "2014-08-01"};
    double a_legal = msum(A, CB_M_DELIVERED_UNITS, legal), b_legal = msum(B, CB_M_DELIVERED_UNITS, legal);
    double a_share = 1 - a_legal / msum(A, CB_M_DELIVERED_UNITS, all), b_share = 1 - b_legal / msum(B, CB_M_DELIVERED_UNITS, all);
    printf("pattern 8, seed %llu: legal Japanese units %.0f -> %.0f; illicit share %.1f%% -> %.1f%%\n", (unsigned long long)seeds[i],
           a_legal, b_legal, 100 * a_share, 100 * b_share);
    assert_true(a_legal == 0 && b_legal > 0);
    assert_true(b_share < 0.6 * a_share);
    /* before the easing, the two worlds are the same */
    filter before = {.origin = "jp", .to = "2014-06-01"};
    assert_true(msum(A, CB_M_DELIVERED_UNITS, before) == msum(B, CB_M_DELIVERED_UNITS, before));
    cb_free(A);
    cb_free(B);
  }
}

/* 9. Losing Kaesong's hard currency shrinks what buyers can spend. */
static void pattern9_kaesong(void **state) {
  (void)state;
  const char *no_closure[] = {"income_shocks.kaesong_closure.factor=0"};
  for (int i = 0; i < NSEEDS; i++) {
    cb_sim *A = run("baseline.yaml", seeds[i], NULL, 0);
    cb_sim *B = run("baseline.yaml", seeds[i], no_closure, 1);
    filter after = {.from = "2016-03-01"};
    double inc_a = msum(A, CB_M_BUYER_INCOME_USD, after), inc_b = msum(B, CB_M_BUYER_INCOME_USD, after);
    double sp_a = msum(A, CB_M_BUYER_SPENDING_USD, after), sp_b = msum(B, CB_M_BUYER_SPENDING_USD, after);
    printf("pattern 9, seed %llu: income %.3g vs %.3g without the closure; spending %.3g vs %.3g\n", (unsigned long long)seeds[i], inc_a, inc_b, sp_a, sp_b);
    assert_true(inc_a < 0.97 * inc_b);
    assert_true(sp_a < sp_b);
    cb_free(A);
    cb_free(B);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pattern1_route_concentration), cmocka_unit_test(pattern2_displacement),
      cmocka_unit_test(pattern3_enforcement_prices),  cmocka_unit_test(pattern4_corruption_equilibrium),
      cmocka_unit_test(pattern5_disguise),            cmocka_unit_test(pattern6_demand_growth),
      cmocka_unit_test(pattern7_origin_preference),   cmocka_unit_test(pattern8_japan_easing),
      cmocka_unit_test(pattern9_kaesong),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
