/* Tests of the model's rules through the internal API, on the baseline world with few agents:
 * which channels can carry which goods, when relabelling is possible or forced, what each kind of
 * checkpoint counts as a violation, the routes built from the legs, the policy state each dated
 * event sets, and the opening market prices. The scenario's own event sections are replaced by
 * events defined here, so the expected values do not depend on later edits of the baseline. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/calendar.h"
#include "model/goods.h"
#include "model/world.h"

#define BASELINE "scenarios/baseline.yaml"

/* The simulation of the running test; freed by the teardown even when an assertion fails. */
static cb_sim *current;

static int free_sim(void **state) {
  (void)state;
  cb_free(current);
  current = NULL;
  return 0;
}

/* The baseline with few agents, every event section emptied but the North's standing bans on
 * South Korean and Japanese goods, then the extra assignments. */
static cb_sim *make_sim(const char *const *extra, size_t nextra) {
  static const char *const small[] = {
      "population.buyers=2000", "population.traders=60", "population.middlemen=10", "population.officials=40",
      "sanctions={}",           "crackdowns={}",         "campaigns={}",            "closures={}",
      "income_shocks={}",
      "sanctions.kp_kr.date=2000-01-01", "sanctions.kp_kr.by=kp", "sanctions.kp_kr.origins=[kr]",
      "sanctions.kp_jp.date=2000-01-01", "sanctions.kp_jp.by=kp", "sanctions.kp_jp.origins=[jp]"};
  cb_free(current);
  cb_sim *S = current = cb_new();
  assert_non_null(S);
  if (cb_read_scenario(S, BASELINE)) fail_msg("%s", cb_errmsg(S));
  for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
    if (cb_set(S, small[i])) fail_msg("cb_set %s: %s", small[i], cb_errmsg(S));
  for (size_t i = 0; i < nextra; i++)
    if (cb_set(S, extra[i])) fail_msg("cb_set %s: %s", extra[i], cb_errmsg(S));
  if (cb_init(S)) fail_msg("cb_init: %s", cb_errmsg(S));
  return S;
}

#define MAKE(...)                                                                   \
  make_sim((const char *const[]){__VA_ARGS__},                                      \
           sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static int find_named(const char *names, size_t stride, int n, const char *name, const char *what) {
  for (int i = 0; i < n; i++)
    if (strcmp(names + (size_t)i * stride, name) == 0) return i;
  fail_msg("the baseline has no %s named '%s'", what, name);
  return -1;
}
#define IDX(S, coll, count, want) \
  find_named((S)->sc.coll[0].name, sizeof((S)->sc.coll[0]), (S)->sc.count, want, #coll)

static int origin(const cb_sim *S, const char *n) { return IDX(S, origins, n_origins, n); }
static int category(const cb_sim *S, const char *n) { return IDX(S, categories, n_categories, n); }
static int checkpoint(const cb_sim *S, const char *n) { return IDX(S, checkpoints, n_checkpoints, n); }
static int crossing(const cb_sim *S, const char *n) { return IDX(S, crossings, n_crossings, n); }
static int market(const cb_sim *S, const char *n) { return IDX(S, markets, n_markets, n); }
static int hub(const cb_sim *S, const char *n) { return IDX(S, hubs, n_hubs, n); }
static int product(const cb_sim *S, const char *cat, const char *orig) {
  return cb_product(S, category(S, cat), origin(S, orig));
}

/* ---------------- goods ---------------- */

static void test_channels_of_the_baseline(void **state) {
  (void)state;
  cb_sim *S = MAKE("simulation.seed=1");
  int kr_cos = product(S, "cosmetics", "kr"), cn_cos = product(S, "cosmetics", "cn");
  int kp_cos = product(S, "cosmetics", "kp"), kr_app = product(S, "appliances", "kr");
  int cn_lap = product(S, "laptops", "cn"), jp_lap = product(S, "laptops", "jp");
  /* the relabelling target (cn) is not foreign, the domestic origin is not; kr and jp are */
  assert_int_equal(S->sc.middlemen.relabel_as, origin(S, "cn"));
  assert_true(cb_goods_is_foreign(S, origin(S, "kr")));
  assert_true(cb_goods_is_foreign(S, origin(S, "jp")));
  assert_false(cb_goods_is_foreign(S, origin(S, "cn")));
  assert_false(cb_goods_is_foreign(S, origin(S, "kp")));

  /* South Korean cosmetics: no declared channel (Chinese customs refuse the label on papers) */
  assert_int_equal(cb_goods_channel_ok(S, kr_cos, CB_CH_LEGAL), 0);
  assert_int_equal(cb_goods_channel_ok(S, kr_cos, CB_CH_DISGUISED), 1);
  assert_int_equal(cb_goods_channel_ok(S, kr_cos, CB_CH_SMUGGLED), 1);
  assert_int_equal(cb_goods_channel_ok(S, kr_cos, CB_CH_LUGGAGE), 1);
  /* Chinese goods: legal, nothing to disguise */
  assert_int_equal(cb_goods_channel_ok(S, cn_cos, CB_CH_LEGAL), 1);
  assert_int_equal(cb_goods_channel_ok(S, cn_cos, CB_CH_DISGUISED), 0);
  assert_int_equal(cb_goods_channel_ok(S, cn_lap, CB_CH_LEGAL), 1);
  assert_int_equal(cb_goods_channel_ok(S, cn_lap, CB_CH_DISGUISED), 0);
  assert_int_equal(cb_goods_channel_ok(S, cn_lap, CB_CH_SMUGGLED), 1);
  /* South Korean appliances and Japanese laptops are on the North's list, yet may be declared: the
   * list makes that an offence on the papers, a cost the trader weighs, not a closed channel */
  assert_int_equal(cb_goods_channel_ok(S, kr_app, CB_CH_LEGAL), 1);
  assert_int_equal(cb_goods_channel_ok(S, kr_app, CB_CH_DISGUISED), 1);
  assert_int_equal(cb_goods_channel_ok(S, jp_lap, CB_CH_LEGAL), 1);
  assert_int_equal(cb_goods_channel_ok(S, jp_lap, CB_CH_DISGUISED), 1);
  /* domestic goods never cross the border: no channel at all, for every category */
  for (int k = 0; k < S->ncat; k++)
    for (int ch = 0; ch < CB_NCHANNELS; ch++)
      assert_int_equal(cb_goods_channel_ok(S, cb_product(S, k, origin(S, "kp")), ch), 0);
  assert_int_equal(cb_goods_channel_ok(S, kp_cos, CB_CH_LEGAL), 0);
}

static void test_relabel_options(void **state) {
  (void)state;
  cb_sim *S = MAKE("simulation.seed=1");
  int kr_cos = product(S, "cosmetics", "kr"), kr_app = product(S, "appliances", "kr");
  int jp_app = product(S, "appliances", "jp"), cn_cos = product(S, "cosmetics", "cn");
  int kp_lap = product(S, "laptops", "kp");
  /* foreign goods may be relabelled in every channel that does not declare them as what they are;
   * no channel forces it (whether it pays is the trader's choice) */
  for (int ch = 0; ch < CB_NCHANNELS; ch++) {
    int expect = ch != CB_CH_LEGAL;
    assert_int_equal(cb_goods_can_relabel(S, kr_cos, ch), expect);
    assert_int_equal(cb_goods_can_relabel(S, kr_app, ch), expect);
    assert_int_equal(cb_goods_can_relabel(S, jp_app, ch), expect);
    /* Chinese and domestic goods have nothing to hide */
    assert_int_equal(cb_goods_can_relabel(S, cn_cos, ch), 0);
    assert_int_equal(cb_goods_can_relabel(S, kp_lap, ch), 0);
  }
}

/* The baseline's rule sets (checkpoint_kinds), read through one checkpoint of each kind. */
static void test_offences_by_checkpoint_kind(void **state) {
  (void)state;
  cb_sim *S = MAKE("simulation.seed=1");
  int kr_lap = product(S, "laptops", "kr"), kr_cos = product(S, "cosmetics", "kr"), cn = product(S, "laptops", "cn");
  const char *cps[4] = {"cn_customs_dandong", "kp_customs_sinuiju", "border_guard_sinuiju", "road_sinuiju_pyongyang"};
  enum { N_ = CB_OFFENCE_NONE, A_ = CB_OFFENCE_ANY_LABEL, F_ = CB_OFFENCE_LABEL };
  /* expected[checkpoint][channel: legal, disguised, smuggled, luggage] */
  static const int laptop_kr[4][4] = {
      /* Chinese customs let foreign appliances and electronics pass [RFA 2016] */ {N_, N_, N_, N_},
      /* North Korean customs: goods on the North's list, declared or under their own label */ {F_, F_, N_, F_},
      /* border guards: the unofficial crossing itself */ {N_, N_, A_, N_},
      /* road checks: goods without papers, and listed labels on goods not declared */ {N_, F_, A_, F_}};
  static const int cosmetics_kr[4][4] = {
      /* Chinese customs refuse foreign cosmetics [RFA 2016] */ {N_, F_, N_, F_},
      {F_, F_, N_, F_}, {N_, N_, A_, N_}, {N_, F_, A_, F_}};
  static const int laptop_cn[4][4] = {{N_, N_, N_, N_}, {N_, N_, N_, N_}, {N_, N_, A_, N_}, {N_, N_, A_, N_}};
  for (int i = 0; i < 4; i++) {
    int c = checkpoint(S, cps[i]);
    for (int ch = 0; ch < CB_NCHANNELS; ch++) {
      if (cb_goods_offence(S, c, ch, kr_lap) != laptop_kr[i][ch])
        fail_msg("kr laptops, %s at %s: got %d", cb_channel_names()[ch], cps[i], cb_goods_offence(S, c, ch, kr_lap));
      if (cb_goods_offence(S, c, ch, kr_cos) != cosmetics_kr[i][ch])
        fail_msg("kr cosmetics, %s at %s: got %d", cb_channel_names()[ch], cps[i], cb_goods_offence(S, c, ch, kr_cos));
      if (cb_goods_offence(S, c, ch, cn) != laptop_cn[i][ch])
        fail_msg("cn laptops, %s at %s: got %d", cb_channel_names()[ch], cps[i], cb_goods_offence(S, c, ch, cn));
    }
  }
  /* the rules are the scenario's: switch off Chinese customs' bar and foreign cosmetics pass there */
  cb_sim *T = MAKE("simulation.seed=1", "checkpoint_kinds.cn_customs.barred_label=[]");
  for (int ch = 0; ch < CB_NCHANNELS; ch++) assert_int_equal(cb_goods_offence(T, checkpoint(T, "cn_customs_dandong"), ch, kr_cos), N_);
}

static void test_checkpoint_sees(void **state) {
  (void)state;
  cb_sim *S = MAKE("simulation.seed=1");
  const char *cps[5] = {"cn_customs_dandong", "kp_customs_sinuiju", "border_guard_sinuiju", "road_sinuiju_pyongyang", "group109_pyongyang"};
  static const int sees[5][4] = {
      /* cn_customs */ {1, 1, 0, 1},
      /* kp_customs */ {1, 1, 0, 1},
      /* border_guard */ {0, 0, 1, 0},
      /* road_check */ {1, 1, 1, 1},
      /* possession teams check holdings, never consignments */ {0, 0, 0, 0}};
  for (int i = 0; i < 5; i++)
    for (int ch = 0; ch < CB_NCHANNELS; ch++)
      if (cb_checkpoint_sees(S, checkpoint(S, cps[i]), ch) != sees[i][ch])
        fail_msg("%s sees %s: got %d, expected %d", cps[i], cb_channel_names()[ch], cb_checkpoint_sees(S, checkpoint(S, cps[i]), ch), sees[i][ch]);
  /* an offence is only ever of a channel the checkpoint sees (the scenario check refuses others) */
  for (int c = 0; c < S->sc.n_checkpoints; c++)
    for (int ch = 0; ch < CB_NCHANNELS; ch++)
      for (int p = 0; p < S->nprod; p++)
        if (cb_goods_offence(S, c, ch, p) != CB_OFFENCE_NONE) assert_true(cb_checkpoint_sees(S, c, ch));
}

/* ---------------- routes ---------------- */

static void test_routes_cover_every_path(void **state) {
  (void)state;
  cb_sim *S = MAKE("simulation.seed=1");
  const cb_scenario *sc = &S->sc;
  /* every supply leg joined to every delivery leg leaving its crossing, and nothing else */
  int expected = 0;
  for (int s = 0; s < sc->n_supply_legs; s++)
    for (int d = 0; d < sc->n_delivery_legs; d++) expected += sc->delivery_legs[d].from == sc->supply_legs[s].to;
  assert_int_equal(S->nroutes, expected);
  /* the baseline: 2 hubs x 2 crossings, each crossing delivering to 3 markets */
  assert_int_equal(sc->n_hubs, 2);
  assert_int_equal(sc->n_crossings, 2);
  assert_int_equal(sc->n_markets, 3);
  assert_int_equal(S->nroutes, 12);
  int seen[CB_MAX_ENTRIES][CB_MAX_ENTRIES][CB_MAX_ENTRIES];
  memset(seen, 0, sizeof seen);
  for (int r = 0; r < S->nroutes; r++) {
    const cb_route *rt = &S->routes[r];
    const cb_sc_leg *a = &sc->supply_legs[rt->supply_leg], *b = &sc->delivery_legs[rt->delivery_leg];
    assert_int_equal(a->from, rt->hub);
    assert_int_equal(a->to, rt->crossing);
    assert_int_equal(b->from, rt->crossing); /* the legs connect */
    assert_int_equal(b->to, rt->market);
    assert_int_equal(rt->days_to_cross, (int32_t)lround(a->days));
    assert_int_equal(rt->days_to_market, (int32_t)lround(a->days + b->days));
    assert_near(rt->cost_per_bulk, a->cost_per_bulk_usd + b->cost_per_bulk_usd, 1e-12);
    seen[rt->hub][rt->crossing][rt->market]++;
  }
  for (int h = 0; h < sc->n_hubs; h++)
    for (int x = 0; x < sc->n_crossings; x++)
      for (int m = 0; m < sc->n_markets; m++)
        if (seen[h][x][m] != 1)
          fail_msg("route %s -> %s -> %s appears %d times", sc->hubs[h].name, sc->crossings[x].name, sc->markets[m].name, seen[h][x][m]);
  /* one route in numbers: Dandong, across the bridge (1 day, 0.5), on to Pyongyang (1 day, 2) */
  int found = 0;
  for (int r = 0; r < S->nroutes; r++) {
    const cb_route *rt = &S->routes[r];
    if (rt->hub != hub(S, "dandong") || rt->crossing != crossing(S, "sinuiju") || rt->market != market(S, "pyongyang")) continue;
    found++;
    assert_int_equal(rt->days_to_cross, 1);
    assert_int_equal(rt->days_to_market, 2);
    assert_near(rt->cost_per_bulk, 2.5, 1e-12);
  }
  assert_int_equal(found, 1);
}

/* ---------------- policy ---------------- */

static int authority(const cb_sim *S, const char *n) { return IDX(S, authorities, n_authorities, n); }
static int listed_by(const cb_sim *S, int p, const char *who) { return (int)(S->listed[p] >> authority(S, who) & 1u); }

/* Measures put goods on an authority's list and take them off; where the list binds is the
 * authority's: the North's at its customs, Japan's nowhere on these routes. */
static void test_sanctions_set_lists(void **state) {
  (void)state;
  cb_sim *S = MAKE("sanctions.jp_ban.date=2009-06-18", "sanctions.jp_ban.by=jp", "sanctions.jp_ban.origins=[jp]",
                   "sanctions.thaw.date=2013-01-01", "sanctions.thaw.by=kp", "sanctions.thaw.action=ease", "sanctions.thaw.origins=[jp]",
                   "sanctions.un_laptops.date=2014-06-01", "sanctions.un_laptops.end=2014-12-31", "sanctions.un_laptops.by=un",
                   "sanctions.un_laptops.origins=[kr, jp, cn]", "sanctions.un_laptops.categories=[laptops]");
  int kr_app = product(S, "appliances", "kr"), jp_app = product(S, "appliances", "jp"), jp_lap = product(S, "laptops", "jp");
  int cn_lap = product(S, "laptops", "cn"), cn_cam = product(S, "cameras", "cn"), kr_lap = product(S, "laptops", "kr");
  int kp_cust = checkpoint(S, "kp_customs_sinuiju"), cn_cust = checkpoint(S, "cn_customs_dandong");
  /* at the start: the North's and Japan's bans, older than the run, are in force */
  for (int k = 0; k < S->ncat; k++) {
    assert_int_equal(listed_by(S, cb_product(S, k, origin(S, "kr")), "kp"), 1);
    assert_int_equal(listed_by(S, cb_product(S, k, origin(S, "jp")), "kp"), 1);
    assert_int_equal(listed_by(S, cb_product(S, k, origin(S, "jp")), "jp"), 1);
    assert_int_equal(S->listed[cb_product(S, k, origin(S, "cn"))], 0u);
  }
  assert_int_equal(cb_goods_offence(S, kp_cust, CB_CH_LEGAL, jp_app), CB_OFFENCE_LABEL);
  /* Japan's list binds goods leaving Japan: Chinese customs do not apply it */
  assert_int_equal(cb_goods_offence(S, cn_cust, CB_CH_LEGAL, jp_app), CB_OFFENCE_NONE);
  /* the North eases: Japanese goods pass its customs declared, still on Japan's own list */
  cb_policy_apply(S, cbt_day("2013-01-01"));
  assert_int_equal(listed_by(S, jp_app, "kp"), 0);
  assert_int_equal(listed_by(S, jp_app, "jp"), 1);
  assert_int_equal(cb_goods_offence(S, kp_cust, CB_CH_LEGAL, jp_app), CB_OFFENCE_NONE);
  assert_int_equal(cb_goods_offence(S, kp_cust, CB_CH_LEGAL, kr_app), CB_OFFENCE_LABEL);
  /* a UN list of one kind, every origin, for half a year, applied by Chinese customs: a Chinese
   * label hides nothing when Chinese laptops are listed too */
  cb_policy_apply(S, cbt_day("2014-06-01"));
  assert_int_equal(listed_by(S, cn_lap, "un"), 1);
  assert_int_equal(S->listed[cn_cam], 0u);
  assert_int_equal(cb_goods_offence(S, cn_cust, CB_CH_LEGAL, cn_lap), CB_OFFENCE_ANY_LABEL);
  assert_int_equal(cb_goods_offence(S, cn_cust, CB_CH_DISGUISED, kr_lap), CB_OFFENCE_ANY_LABEL);
  assert_int_equal(cb_goods_offence(S, cn_cust, CB_CH_LEGAL, cn_cam), CB_OFFENCE_NONE);
  assert_int_equal(cb_goods_offence(S, kp_cust, CB_CH_LEGAL, jp_lap), CB_OFFENCE_NONE); /* the North does not apply UN lists */
  /* its end lifts it */
  cb_policy_apply(S, cbt_day("2015-01-01"));
  assert_int_equal(S->listed[cn_lap], 0u);
  assert_int_equal(cb_goods_offence(S, cn_cust, CB_CH_LEGAL, cn_lap), CB_OFFENCE_NONE);
}

/* Sanctions apply in date order whatever their order in the file: a ban listed after an easing
 * but dated before it does not undo the easing. */
static void test_sanctions_in_date_order(void **state) {
  (void)state;
  cb_sim *S = MAKE("sanctions.late_ease.date=2015-01-01", "sanctions.late_ease.by=un", "sanctions.late_ease.action=ease",
                   "sanctions.late_ease.origins=[jp]", "sanctions.early_ban.date=2013-01-01", "sanctions.early_ban.by=un",
                   "sanctions.early_ban.origins=[jp]");
  int jp_app = product(S, "appliances", "jp");
  cb_policy_apply(S, cbt_day("2012-06-01"));
  assert_int_equal(listed_by(S, jp_app, "un"), 0);
  cb_policy_apply(S, cbt_day("2014-06-01"));
  assert_int_equal(listed_by(S, jp_app, "un"), 1);
  cb_policy_apply(S, cbt_day("2016-06-01"));
  assert_int_equal(listed_by(S, jp_app, "un"), 0);
}

/* A measure's inspection regime and income effect hold while it is in force, and compose with
 * crackdowns and with other measures. */
static void test_sanction_regimes(void **state) {
  (void)state;
  cb_sim *S = MAKE("sanctions.cargo.date=2016-03-02", "sanctions.cargo.end=2016-12-31", "sanctions.cargo.by=un",
                   "sanctions.cargo.inspected_at=[cn_customs_dandong]", "sanctions.cargo.inspect_factor=2", "sanctions.cargo.monitor_factor=1.5",
                   "sanctions.coal.date=2016-11-30", "sanctions.coal.by=un", "sanctions.coal.income_sources=[fx_exports]",
                   "sanctions.coal.income_lost=0.25", "sanctions.seafood.date=2017-08-05", "sanctions.seafood.by=un",
                   "sanctions.seafood.income_sources=[fx_exports, kaesong]", "sanctions.seafood.income_lost=0.5",
                   "crackdowns.c.start=2016-04-01", "crackdowns.c.end=2016-04-30", "crackdowns.c.checkpoints=[cn_customs_dandong]",
                   "crackdowns.c.inspect_factor=3");
  int cn = checkpoint(S, "cn_customs_dandong"), fx = IDX(S, income_sources, n_income_sources, "fx_exports");
  int ks = IDX(S, income_sources, n_income_sources, "kaesong");
  cb_policy_apply(S, cbt_day("2016-03-01"));
  assert_near(S->cp_inspect[cn], 1.0, 0);
  cb_policy_apply(S, cbt_day("2016-03-02"));
  assert_near(S->cp_inspect[cn], 2.0, 1e-12);
  assert_near(S->cp_monitor[cn], 1.5, 1e-12);
  cb_policy_apply(S, cbt_day("2016-04-15"));
  assert_near(S->cp_inspect[cn], 6.0, 1e-12); /* with the crackdown */
  cb_policy_apply(S, cbt_day("2016-12-01"));
  assert_near(S->income_left[fx], 0.75, 1e-12);
  assert_near(S->income_left[ks], 1.0, 0);
  cb_policy_apply(S, cbt_day("2017-01-01"));
  assert_near(S->cp_inspect[cn], 1.0, 0); /* the regime ended */
  assert_near(S->income_left[fx], 0.75, 1e-12); /* the cut did not */
  cb_policy_apply(S, cbt_day("2017-08-05"));
  assert_near(S->income_left[fx], 0.375, 1e-12);
  assert_near(S->income_left[ks], 0.5, 1e-12);
  assert_near(S->income_all, 1.0, 0);
}

static void test_crackdown_multipliers(void **state) {
  (void)state;
  cb_sim *S = MAKE("crackdowns.a.start=2012-03-15", "crackdowns.a.end=2012-04-30",
                   "crackdowns.a.checkpoints=[kp_customs_sinuiju, border_guard_sinuiju]",
                   "crackdowns.a.inspect_factor=3", "crackdowns.a.monitor_factor=3", "crackdowns.a.confiscate_factor=2",
                   "crackdowns.b.start=2012-04-01", "crackdowns.b.end=2012-04-10",
                   "crackdowns.b.checkpoints=[kp_customs_sinuiju, cn_customs_dandong]",
                   "crackdowns.b.inspect_factor=2.5", "crackdowns.b.monitor_factor=2", "crackdowns.b.confiscate_factor=1.5",
                   "crackdowns.c.start=2012-04-05", "crackdowns.c.end=2012-04-05",
                   "crackdowns.c.checkpoints=[kp_customs_sinuiju]", "crackdowns.c.inspect_factor=4");
  int kps = checkpoint(S, "kp_customs_sinuiju"), bgs = checkpoint(S, "border_guard_sinuiju");
  int cnd = checkpoint(S, "cn_customs_dandong"), kph = checkpoint(S, "kp_customs_hyesan");
  struct {
    const char *day;
    int cp;
    double inspect, monitor, confiscate;
  } cases[] = {
      {"2012-03-14", kps, 1, 1, 1},          /* the day before */
      {"2012-03-15", kps, 3, 3, 2},        /* first day of a */
      {"2012-03-15", bgs, 3, 3, 2},
      {"2012-03-15", cnd, 1, 1, 1},
      {"2012-04-01", kps, 7.5, 6, 3},     /* a and b overlap */
      {"2012-04-01", cnd, 2.5, 2, 1.5},    /* b alone */
      {"2012-04-01", bgs, 3, 3, 2},        /* a alone */
      {"2012-04-05", kps, 30, 6, 3},      /* a, b and c (c: inspections only) */
      {"2012-04-05", kph, 1, 1, 1},          /* never listed */
      {"2012-04-10", cnd, 2.5, 2, 1.5},    /* last day of b */
      {"2012-04-11", cnd, 1, 1, 1},
      {"2012-04-11", kps, 3, 3, 2},
      {"2012-04-30", kps, 3, 3, 2},        /* last day of a */
      {"2012-05-01", kps, 1, 1, 1},
      {"2012-05-01", bgs, 1, 1, 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cb_policy_apply(S, cbt_day(cases[i].day));
    int c = cases[i].cp;
    if (fabs(S->cp_inspect[c] - cases[i].inspect) > 1e-12 || fabs(S->cp_monitor[c] - cases[i].monitor) > 1e-12 ||
        fabs(S->cp_confiscate[c] - cases[i].confiscate) > 1e-12)
      fail_msg("%s at %s: inspect %g monitor %g confiscate %g; expected %g %g %g", cases[i].day, S->sc.checkpoints[c].name,
               S->cp_inspect[c], S->cp_monitor[c], S->cp_confiscate[c], cases[i].inspect, cases[i].monitor, cases[i].confiscate);
    /* every checkpoint not in a running crackdown is back to 1 */
    for (int k = 0; k < S->sc.n_checkpoints; k++)
      if (k != kps && k != bgs && k != cnd) {
        assert_near(S->cp_inspect[k], 1.0, 0);
        assert_near(S->cp_monitor[k], 1.0, 0);
        assert_near(S->cp_confiscate[k], 1.0, 0);
      }
  }
  /* going back in time gives the same state: intervals do not accumulate */
  cb_policy_apply(S, cbt_day("2012-04-01"));
  cb_policy_apply(S, cbt_day("2012-04-01"));
  assert_near(S->cp_inspect[kps], 7.5, 1e-12);
}

static void test_closures_and_campaigns(void **state) {
  (void)state;
  cb_sim *S = MAKE("closures.seal.start=2013-03-01", "closures.seal.end=2013-03-31", "closures.seal.crossing=hyesan",
                   "closures.seal.channels=[smuggled, luggage]",
                   "closures.customs.start=2013-03-20", "closures.customs.end=2013-04-15", "closures.customs.crossing=hyesan",
                   "closures.customs.channels=[legal]",
                   "closures.bridge.start=2013-04-01", "closures.bridge.end=2013-04-02", "closures.bridge.crossing=sinuiju",
                   "closures.bridge.channels=[legal, disguised, smuggled, luggage]",
                   "campaigns.one.start=2016-03-15", "campaigns.one.end=2016-12-31",
                   "campaigns.two.start=2016-06-01", "campaigns.two.end=2016-06-30", "campaigns.two.strength=0.5");
  int hy = crossing(S, "hyesan"), si = crossing(S, "sinuiju");
  const uint32_t smug = 1u << CB_CH_SMUGGLED, lug = 1u << CB_CH_LUGGAGE, leg = 1u << CB_CH_LEGAL,
                 all = (1u << CB_NCHANNELS) - 1;
  struct {
    const char *day;
    uint32_t hy, si;
  } cases[] = {
      {"2013-02-28", 0, 0},           {"2013-03-01", smug | lug, 0},       {"2013-03-19", smug | lug, 0},
      {"2013-03-20", smug | lug | leg, 0}, {"2013-03-31", smug | lug | leg, 0}, {"2013-04-01", leg, all},
      {"2013-04-02", leg, all},       {"2013-04-03", leg, 0},              {"2013-04-15", leg, 0},
      {"2013-04-16", 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cb_policy_apply(S, cbt_day(cases[i].day));
    if (S->closed[hy] != cases[i].hy || S->closed[si] != cases[i].si)
      fail_msg("%s: closed hyesan %#x sinuiju %#x; expected %#x %#x", cases[i].day, S->closed[hy], S->closed[si], cases[i].hy, cases[i].si);
  }
  /* campaigns: strengths add while they overlap, zero outside */
  cb_policy_apply(S, cbt_day("2016-03-14"));
  assert_near(S->campaign, 0.0, 0);
  cb_policy_apply(S, cbt_day("2016-03-15"));
  assert_near(S->campaign, 1.0, 1e-12);
  cb_policy_apply(S, cbt_day("2016-06-15"));
  assert_near(S->campaign, 1.5, 1e-12);
  cb_policy_apply(S, cbt_day("2016-07-01"));
  assert_near(S->campaign, 1.0, 1e-12);
  cb_policy_apply(S, cbt_day("2017-01-01"));
  assert_near(S->campaign, 0.0, 0);
}

static void test_income_shocks(void **state) {
  (void)state;
  cb_sim *S = MAKE("income_shocks.kaesong.date=2016-02-10", "income_shocks.kaesong.sources=[kaesong]",
                   "income_shocks.kaesong.factor=1",
                   "income_shocks.cut.date=2014-01-01", "income_shocks.cut.factor=0.25",
                   "income_shocks.boom.date=2015-01-01", "income_shocks.boom.factor=-0.5",
                   "income_shocks.half.date=2017-01-01", "income_shocks.half.sources=[kaesong]", "income_shocks.half.factor=0.5");
  int ks = IDX(S, income_sources, n_income_sources, "kaesong");
  assert_near(S->income_all, 1.0, 0);
  assert_near(S->income_left[ks], 1.0, 0);
  cb_policy_apply(S, cbt_day("2013-12-31"));
  assert_near(S->income_all, 1.0, 0);
  cb_policy_apply(S, cbt_day("2014-01-01"));
  assert_near(S->income_all, 0.75, 1e-12); /* no source named: every buyer's whole income */
  assert_near(S->income_left[ks], 1.0, 0);
  cb_policy_apply(S, cbt_day("2014-01-02"));
  assert_near(S->income_all, 0.75, 1e-12); /* applied once, whatever the day asked */
  cb_policy_apply(S, cbt_day("2015-01-01"));
  assert_near(S->income_all, 1.125, 1e-12); /* a negative factor is a gain */
  cb_policy_apply(S, cbt_day("2016-02-10"));
  assert_near(S->income_left[ks], 0.0, 0);  /* Kaesong's share of income is lost */
  assert_near(S->income_all, 1.125, 1e-12);
  cb_policy_apply(S, cbt_day("2017-01-01"));
  assert_near(S->income_left[ks], 0.0, 0);  /* and cannot fall below nothing */
  assert_near(S->income_all, 1.125, 1e-12);
}

/* Dated events on the first simulated day take effect once: cb_init sets the first day's policy
 * state and the first cb_step must not apply the same events a second time. */
static void test_event_on_first_day_applies_once(void **state) {
  (void)state;
  cb_sim *S = MAKE("income_shocks.first.date=2012-01-01",
                   "income_shocks.first.factor=0.5", "sanctions.open.date=2012-01-01", "sanctions.open.by=kp", "sanctions.open.action=ease",
                   "sanctions.open.origins=[jp]");
  assert_near(S->income_all, 0.5, 1e-12);
  assert_int_equal(S->listed[product(S, "laptops", "jp")], 0u);
  int rc = cb_step(S);
  if (rc != CB_OK) fail_msg("cb_step: %s", cb_errmsg(S));
  assert_int_equal(S->day, S->start + 1);
  assert_near(S->income_all, 0.5, 1e-12);
  assert_int_equal(S->listed[product(S, "laptops", "jp")], 0u);
}

/* A buyer keeps a byte per income source, so a scenario may name at most CB_MAX_SOURCES of them. */
/* Based traders: dealers are based at Sinuiju or Hyesan, the other types nowhere; a based trader
 * ships only through its base's crossing; with a crossing sealed for good, reviews move the
 * dealers away from it, unless moving costs more than it would gain. */
static int based_at(const cb_sim *S, int x) {
  int n = 0;
  for (uint32_t k = 0; k < S->nactive; k++) n += S->T[S->active_ids[k]].home == (unsigned)x;
  return n;
}

static void test_based_traders(void **state) {
  (void)state;
  cb_sim *S = MAKE("traders.relocate_prob=0");
  int si = crossing(S, "sinuiju"), hy = crossing(S, "hyesan");
  for (uint32_t k = 0; k < S->nactive; k++) {
    const cb_trader *t = &S->T[S->active_ids[k]];
    int dealer = strcmp(S->sc.trader_types[t->type].name, "dealer") == 0;
    if (dealer ? t->home != (unsigned)si && t->home != (unsigned)hy : t->home != CB_NO_HOME)
      fail_msg("trader %u (%s) is based at %u", S->active_ids[k], S->sc.trader_types[t->type].name, t->home);
  }
  assert_true(based_at(S, si) > 3 && based_at(S, hy) > 3); /* the first bases are drawn evenly */
  uint32_t seen = 0;
  for (int32_t day = S->start; day < cbt_day("2012-07-01"); day++) {
    assert_int_equal(cb_step(S), CB_OK);
    for (uint32_t c = 0; c < S->ncons; c++) {
      const cb_consignment *k = &S->C[c];
      unsigned home = S->T[k->trader].home;
      if (!k->live || home == CB_NO_HOME) continue;
      seen++;
      if (S->routes[k->route].crossing != (int)home) fail_msg("a trader based at %u ships through crossing %d", home, S->routes[k->route].crossing);
    }
  }
  assert_true(seen > 100);
  static const char *const sealed[] = {"closures.seal.start=2012-01-01", "closures.seal.end=2019-12-31", "closures.seal.crossing=sinuiju",
                                       "closures.seal.channels=[legal, disguised, smuggled, luggage]", "traders.relocate_prob=1",
                                       "traders.relocate_cost_usd=10", "traders.relocate_cost_usd=1e12"};
  for (int dear = 0; dear <= 1; dear++) {
    S = make_sim(sealed, 6 + (size_t)dear);
    int before = based_at(S, si);
    assert_int_equal(cb_run_until(S, "2012-06-30"), CB_OK);
    if (dear) assert_int_equal(based_at(S, si), before); /* no move pays its cost */
    else assert_true(based_at(S, si) * 10 < before);   /* nearly every dealer has left the sealed crossing */
  }
}

static void test_scenario_limits(void **state) {
  (void)state;
  cb_sim *S = cb_new();
  assert_non_null(S);
  if (cb_read_scenario(S, BASELINE)) fail_msg("%s", cb_errmsg(S));
  char set[64];
  for (int i = 0; i < CB_MAX_SOURCES - 1; i++) {
    snprintf(set, sizeof set, "income_sources.extra%d.share_mean=0.01", i);
    if (cb_set(S, set)) fail_msg("cb_set %s: %s", set, cb_errmsg(S));
  }
  int rc = cb_init(S); /* the baseline's two and five more: one too many */
  assert_int_not_equal(rc, CB_OK);
  assert_non_null(strstr(cb_errmsg(S), "at most 6 income sources"));
  cb_free(S);
}

/* ---------------- market ---------------- */

/* Opening cost of a legally imported product: the cheapest legal route to the market, with the
 * middleman's commission and no risk (legal goods meet no enforcement cost). */
static double legal_cost(const cb_sim *S, int m, int p) {
  const cb_sc_category *c = &S->sc.categories[cb_prod_cat(S, p)];
  double src = c->price_usd[cb_prod_origin(S, p)], best = INFINITY;
  for (int s = 0; s < S->sc.n_supply_legs; s++)
    for (int d = 0; d < S->sc.n_delivery_legs; d++) {
      const cb_sc_leg *a = &S->sc.supply_legs[s], *b = &S->sc.delivery_legs[d];
      if (b->from != a->to || b->to != m) continue;
      double cost = src * S->sc.hubs[a->from].price_factor * (1 + S->sc.middlemen.commission_mean) +
                    c->bulk * (a->cost_per_bulk_usd + b->cost_per_bulk_usd + S->sc.crossings[a->to].official_fee_per_bulk_usd);
      best = fmin(best, cost);
    }
  return best;
}

static void check_prices(const cb_sim *S, const double *won_at_start) {
  for (int m = 0; m < S->sc.n_markets; m++)
    for (int p = 0; p < S->nprod; p++) {
      const cb_price *x = &S->P[m * S->nprod + p];
      if (S->sc.origins[cb_prod_origin(S, p)].domestic) {
        /* state shops hold the won price; its dollar price follows the day's rate */
        double want = won_at_start[m * S->nprod + p] / S->rate_market[m];
        if (fabs(x->price - want) > 1e-9 * want)
          fail_msg("%s, product %d: domestic price %.17g, expected %.17g", S->sc.markets[m].name, p, x->price, want);
        assert_near(cb_market_price(S, m, p), x->price, 0);
      } else {
        assert_true(x->cost_index > 0);
        if (fabs(x->price - x->cost_index * (1 + x->markup)) > 1e-12 * x->price)
          fail_msg("%s, product %d: price %.17g != cost %.17g x (1 + %.17g)", S->sc.markets[m].name, p, x->price, x->cost_index, x->markup);
      }
    }
}

static void test_market_prices(void **state) {
  (void)state;
  cb_sim *S = MAKE("simulation.seed=1");
  int kp = origin(S, "kp");
  double *won = calloc((size_t)S->sc.n_markets * (size_t)S->nprod, sizeof *won);
  for (int m = 0; m < S->sc.n_markets; m++) {
    double rate0 = cb_series_at(&S->rates, S->market_rate[m], S->start);
    assert_true(rate0 > 100); /* won per dollar: thousands in 2012 */
    assert_near(S->rate_market[m], rate0, 0);
    for (int p = 0; p < S->nprod; p++)
      if (cb_prod_origin(S, p) == kp) won[m * S->nprod + p] = S->sc.categories[cb_prod_cat(S, p)].price_usd[kp] * rate0;
  }
  /* at the start every foreign product is priced at its cost with the normal markup, and domestic
   * goods at their state-shop price */
  check_prices(S, won);
  for (int m = 0; m < S->sc.n_markets; m++)
    for (int p = 0; p < S->nprod; p++) {
      const cb_price *x = &S->P[m * S->nprod + p];
      if (cb_prod_origin(S, p) == kp) {
        assert_near(x->price, S->sc.categories[cb_prod_cat(S, p)].price_usd[kp], 1e-9);
        continue;
      }
      assert_near(x->markup, S->sc.market.markup_normal, 0);
    }
  /* Chinese goods open at the cheapest legal way in (the illicit channels carry a risk prior and a
   * premium on top) */
  int cn = origin(S, "cn");
  for (int m = 0; m < S->sc.n_markets; m++)
    for (int k = 0; k < S->ncat; k++) {
      int p = cb_product(S, k, cn);
      assert_near(S->P[m * S->nprod + p].cost_index, legal_cost(S, m, p), 1e-9);
    }
  int cos = product(S, "cosmetics", "cn"), si = market(S, "sinuiju");
  assert_near(cb_market_price(S, si, cos), legal_cost(S, si, cos) * (1 + S->sc.market.markup_normal), 1e-9);
  /* foreign goods that must be smuggled or disguised cost more than their Chinese counterparts */
  for (int m = 0; m < S->sc.n_markets; m++)
    for (int k = 0; k < S->ncat; k++)
      assert_true(cb_market_price(S, m, cb_product(S, k, origin(S, "kr"))) > cb_market_price(S, m, cb_product(S, k, cn)));

  /* half a year on, with the exchange rate moving, the same relations hold */
  double rate_start = S->rate_market[0];
  int32_t until = cbt_day("2012-06-30");
  while (S->day <= until) {
    int rc = cb_step(S);
    if (rc != CB_OK) fail_msg("cb_step: %s", cb_errmsg(S));
  }
  assert_true(fabs(S->rate_market[0] - rate_start) > 1.0);
  check_prices(S, won);
  free(won);
}

/* ---------------- numbers ---------------- */

/* A value that is not finite stops the run when its period closes, naming it; the period is not
 * recorded, and the same holds for infinity. */
static void test_non_finite_metric_refused(void **state) {
  (void)state;
  const double bad[2] = {NAN, INFINITY};
  const char *said[2] = {"is NaN", "is infinite"};
  for (int i = 0; i < 2; i++) {
    cb_sim *S = MAKE("simulation.end=2012-03-31");
    if (cb_run_until(S, "2012-01-15")) fail_msg("%s", cb_errmsg(S));
    uint32_t periods = S->metrics.nperiods;
    S->metrics.cur[cb_metrics_slot(&S->metrics, CB_M_BRIBES_USD, checkpoint(S, "kp_customs_sinuiju"), 0, 0, 0)] = bad[i];
    assert_int_equal(cb_run(S), CB_ENUMERIC);
    assert_int_equal(cb_errcode(S), CB_ENUMERIC);
    const char *msg = cb_errmsg(S);
    if (!strstr(msg, "bribes_usd") || !strstr(msg, "2012-01-01") || !strstr(msg, "kp_customs_sinuiju") || !strstr(msg, said[i]))
      fail_msg("unexpected message: %s", msg);
    assert_int_equal(S->metrics.nperiods, periods);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_channels_of_the_baseline, free_sim),
      cmocka_unit_test_teardown(test_relabel_options, free_sim),
      cmocka_unit_test_teardown(test_offences_by_checkpoint_kind, free_sim),
      cmocka_unit_test_teardown(test_checkpoint_sees, free_sim),
      cmocka_unit_test_teardown(test_routes_cover_every_path, free_sim),
      cmocka_unit_test_teardown(test_sanctions_set_lists, free_sim),
      cmocka_unit_test_teardown(test_sanction_regimes, free_sim),
      cmocka_unit_test_teardown(test_sanctions_in_date_order, free_sim),
      cmocka_unit_test_teardown(test_crackdown_multipliers, free_sim),
      cmocka_unit_test_teardown(test_closures_and_campaigns, free_sim),
      cmocka_unit_test_teardown(test_income_shocks, free_sim),
      cmocka_unit_test_teardown(test_based_traders, free_sim),
      cmocka_unit_test(test_scenario_limits),
      cmocka_unit_test_teardown(test_event_on_first_day_applies_once, free_sim),
      cmocka_unit_test_teardown(test_market_prices, free_sim),
      cmocka_unit_test_teardown(test_non_finite_metric_refused, free_sim),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
