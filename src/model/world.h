/* The simulation object behind the opaque cb_sim: the scenario, the derived catalogue and routes,
 * every agent population in data-oriented storage (structure of arrays for the millions of
 * buyers; compact records for the thousands of traders, middlemen and officials), the policy
 * state of the day, market prices, metrics and the ledger. Model modules share this header. */
#ifndef CB_MODEL_WORLD_H
#define CB_MODEL_WORLD_H

#include <stdint.h>

#include "contraband.h"
#include "engine/buckets.h"
#include "engine/err.h"
#include "engine/rng.h"
#include "io/metrics.h"
#include "io/scenario.h"
#include "io/series.h"
#include "io/ytree.h"

#define CB_NO_HOLDING 255u
#define CB_NO_TRADER UINT32_MAX   /* a buyer not yet linked to a trader */
#define CB_NO_HOME 255u           /* a trader of a type with no based_at: it uses any crossing */
#define CB_MAX_THREADS 256        /* --threads at most */
#define CB_TOP_RANK 2             /* the rank whose clients protect a trader */
#define CB_MAX_CONTACTS 16
#define CB_REVIEW_HORIZON 4096    /* buyers are re-reviewed at most this many days ahead */
#define CB_SHIP_HORIZON 2048      /* consignments arrive at most this many days ahead */
#define CB_TRIP_HORIZON 512       /* trips are at most trader_types.*.trip_days (<= 365) apart */

/* Whole days to a buyer's next review, tabulated per stretch of draws sharing their top
 * CB_GAP_INDEX_BITS bits (see buyers.c): the days at the stretch's first word (-1: not tabulated)
 * and the offset of the first word with one day fewer (the stretch's length if none). */
#define CB_GAP_INDEX_BITS 10
#define CB_GAP_STRETCHES (1u << CB_GAP_INDEX_BITS)
typedef struct cb_gap_step {
  int32_t days;
  uint32_t step;
} cb_gap_step;

/* A route: bought at a hub, across a crossing, to a market. */
typedef struct cb_route {
  int hub, crossing, market, supply_leg, delivery_leg;
  int32_t days_to_cross, days_to_market;  /* from dispatch */
  double cost_per_bulk;                   /* both legs' transport */
} cb_route;

/* A buyer's scalar state in one 48-byte record: a review touches all of it, and reviews visit
 * buyers in scattered order, so a record per buyer beats an array per field. */
typedef struct cb_buyer {
  double savings;         /* hard currency put aside for goods, USD (escrowed orders excluded) */
  float income;           /* monthly hard-currency income at the start, USD */
  uint8_t source[CB_MAX_SOURCES]; /* share of that income from each income source, in 1/255ths */
  int32_t last_accrual;   /* day income was last added */
  uint32_t trader;        /* trader the buyer orders through */
  uint32_t pending;       /* bit per category: an order is open */
  uint32_t adopted;       /* bit per category: the buyer has come to want it (Bass diffusion) */
  uint32_t potential;     /* bit per category: the buyer is among those who could ever want it */
  int32_t child_born;     /* day the buyer's child was born, CB_NO_CHILD if none */
  uint8_t market, rank;
} cb_buyer;
#define CB_NO_CHILD INT32_MIN
#define CB_NRANKS 3

/* Buyers live in one block of fixed-stride records (cb_buyer_stride): the 48-byte scalar state,
 * then per kind of product the day (from the start) the item held wears out, then per kind the
 * origin held (CB_NO_HOLDING if none); the stride is rounded up to whole 64-byte cache lines. */
/* The parts of a buyer's utility for owning a product that are the same for every buyer in a
 * market on a day; a buyer's utility is fixed + rank_scale * status - campaign * susceptibility
 * - per_income / income. */
typedef struct cb_util {
  double fixed;       /* quality and durability */
  double status;      /* status value: the share of the market's buyers holding the product */
  double campaign;    /* pull of the buy-domestic campaign against foreign goods */
  double per_income;  /* price and expected possession penalties, to be divided by income */
  double price;       /* today's price in the market, USD */
} cb_util;

typedef struct cb_buyers {
  uint32_t n;
  size_t stride;
  unsigned char *mem;
  uint32_t *market_first, *market_count; /* buyers are stored grouped by market */
} cb_buyers;

typedef struct cb_order {
  uint32_t buyer;
  uint16_t product;
  uint8_t market;
  uint8_t covered;        /* goods for it are on their way */
  int32_t day;
  double price;           /* agreed price, USD, held in escrow */
} cb_order;

typedef struct cb_shelf {
  uint16_t product;
  uint8_t market;
  uint32_t qty;
  double unit_cost;
} cb_shelf;

/* A trader's supplier in one hub: the contact with the lowest posted commission (UINT32_MAX if it
 * knows nobody there) and the deals the two have done, which strengthen the trader's hand in the
 * next bargain (middlemen.c). */
typedef struct cb_supply {
  uint32_t middleman;
  uint32_t deals;
} cb_supply;

typedef struct cb_trader {
  uint8_t type, active, exiting;
  uint8_t home;           /* crossing the trader is based at (trader_types.*.based_at), or CB_NO_HOME */
  double capital, month_start_capital, month_profit;
  double haggling;        /* 0-1: share of a middleman's margin the trader's haggling alone would win */
  double revenue_usd, bribes_usd, fines_usd;  /* cumulative, for the ledger */
  int32_t next_trip;
  float protection;
  uint32_t top_clients, in_flight;
  cb_order *orders;
  uint32_t norders, cap_orders;
  cb_shelf *shelf;
  uint32_t nshelf, cap_shelf;
  uint32_t contacts[CB_MAX_CONTACTS];
  int ncontacts;
  cb_supply *supply;      /* [nhubs]: whom the trader buys through in each hub, and their deals so far */
  uint16_t *risk;         /* [cb_risk_size]: expected enforcement cost / value, fixed point (cb_risk_get) */
} cb_trader;

typedef struct cb_middleman {
  int hub;
  double commission;      /* posted commission on the hub price: the most it charges */
  double relabel_skill, capacity, busy_until;
  double earnings_usd;    /* what traders paid it over the hub price, illicit premiums included */
} cb_middleman;

typedef struct cb_official {
  int checkpoint;
  uint8_t connected;     /* placed by cadres' networks: his deals are shielded from monitoring */
  float skill;           /* chance an inspection of his finds a violation that is there */
  float penalty;         /* what being found out taking a bribe would cost him, USD */
  double bribes_usd, fines_usd;
} cb_official;

typedef struct cb_consignment {
  uint32_t trader, middleman, qty;
  uint16_t product, route;
  uint8_t channel, relabel, stage, live;
  int32_t day_bought, day_cross, day_arrive;
  double unit_cost;         /* paid per unit before the border: bargained goods price, illicit premium, relabelling, transport */
  double enforcement_usd;   /* bribes and fines paid for it so far */
  float relabel_skill;
} cb_consignment;

/* An option open today for a market and product (see cb_traders_daily_options). */
typedef struct cb_option_proto {
  uint16_t route;
  uint8_t channel, relabel, hub;
  double days, fixed_cost;
  int risk_index;
} cb_option_proto;

/* An order placed during the day's reviews, applied to the trader's book after them. */
typedef struct cb_placed {
  uint32_t trader, buyer;
  uint16_t product;
  uint8_t market;
  int32_t day;
  double price;
} cb_placed;

/* Per market and product. */
typedef struct cb_price {
  double price, cost_index, markup;
  double open_orders, deliveries_month;  /* backlog and its smoothed monthly deliveries */
  double delivered_since_update;
  double week_cost, week_units;          /* costs (seized goods included) and units delivered this week */
  double backlog_usual;                  /* slow average of the backlog ratio */
  double weeks_seen;                     /* weeks that average has seen */
} cb_price;

typedef struct cb_ledger {
  double procured, sold, seized, shelved_lost;
  double buyer_income, buyer_paid_traders, buyer_paid_state, buyer_bribes, buyer_fines, buyer_other;
  double trader_revenue, state_shop_revenue, refunds;
  double bribes_paid, fines_paid;
} cb_ledger;

struct cb_sim {
  cb_err err;
  cb_ytree tree;
  int have_tree, initialized, check, seed_set, n_overrides;
  char **overrides;               /* the --set assignments, as given */
  char scenario_path[CB_STR_MAX * 4];
  char scenario_sha256[65];
  uint64_t seed;
  uint32_t run;                   /* replicate number (cb_set_run) */
  int threads;                    /* threads for the day's reviews (cb_set_threads) */
  uint64_t max_memory;            /* cb_set_max_memory; 0: what the machine has available */
  double mem_estimate;            /* cb_init's estimate of the bytes the scenario needs */
  struct cb_fx *fx;               /* per stretch of the day's reviews: their recorded effects (buyers.c) */
  uint32_t nfx;
  char forked_from[CB_STR_MAX * 4]; /* the snapshot this run continued from, "" if none */
  int32_t forked_day;             /* the day that snapshot was taken (the first day simulated here) */
  cb_scenario sc;
  cb_rng rng;
  cb_series rates;
  int *market_rate, *cp_rate;     /* series entity per market / checkpoint */
  double *rate_market, *rate_cp;  /* today's won per dollar */

  int32_t start, end, day;        /* day: next day to simulate */
  int ncat, norig, nprod;
  uint8_t prod_cat[CB_MAX_ENTRIES * CB_MAX_ENTRIES];    /* a product's kind and origin, looked up:   */
  uint8_t prod_origin[CB_MAX_ENTRIES * CB_MAX_ENTRIES]; /* dividing by norig costs more, and often   */
  int nroutes;
  cb_route *routes;
  int nroutes_of[CB_MAX_ENTRIES];           /* routes ending at each market */
  int *routes_of[CB_MAX_ENTRIES];

  /* policy state of the day */
  uint32_t *listed;               /* [nprod] bit per authority whose goods list holds the product today */
  uint32_t kind_enforces[CB_MAX_ENTRIES]; /* per checkpoint kind: bit per authority whose lists it applies */
  uint32_t enforced_any;          /* authorities whose lists some kind applies */
  int sanction_order[CB_MAX_ENTRIES]; /* sanctions sorted by date */
  double *cp_inspect, *cp_monitor, *cp_confiscate; /* [ncheckpoints] crackdown and sanction multipliers */
  uint32_t *closed;               /* [ncrossings] channels stopped */
  double *lane_free;              /* [ncrossings * 2]: day the official (0) / unofficial (1) lane's queue is clear */
  double campaign, income_all;    /* campaign strength; what is left of every buyer's whole income */
  double income_left[CB_MAX_SOURCES]; /* what is left of each income source's hard currency */

  cb_buyers B;
  cb_buckets reviews;
  uint32_t *holders;              /* [nmarkets * nprod]: buyers holding a working unit */
  double *util_const;             /* [nprod]: quality and durability part of utility (constant) */
  cb_util *util;                  /* [nmarkets * nprod]: the day's utility parts, see buyers.c */
  double growth_today;            /* income growth factor since the start */
  uint32_t available;             /* kinds introduced by today */
  uint32_t schoolchildren;        /* kinds wanted only for a child of school age */
  int line_root[CB_MAX_ENTRIES];  /* first kind of each kind's line */
  uint32_t line_mask[CB_MAX_ENTRIES]; /* kinds of the line, indexed by its first kind (0 elsewhere) */
  uint32_t newer[CB_MAX_ENTRIES]; /* kinds of the same line introduced later: adopting one supersedes this */
  uint32_t has_newer;             /* kinds with a newer generation */
  uint32_t *rank_holders;         /* [nmarkets * CB_NRANKS * ncat]: buyers holding a unit of the kind, by rank */
  uint32_t rank_count[CB_MAX_ENTRIES * CB_NRANKS]; /* buyers by market and rank */
  double *adopt_hazard;           /* [nmarkets * CB_NRANKS * ncat]: today's adoption hazard per day */
  uint32_t upgrade_threshold;     /* buyers.upgrade_prob in 1/65536 */
  cb_gap_step gap_steps[CB_GAP_STRETCHES]; /* days to the next review by stretch of draws */
  double *poss_cost;              /* [nmarkets]: expected possession penalty per device per month, USD */

  cb_trader *T;
  cb_supply *supply;              /* [ntraders_max * nhubs], sliced per trader */
  uint8_t *trader_open;           /* [ntraders_max]: active and not winding up (takes orders) */
  cb_placed *placed, *placed_sorted; /* the day's orders, then sorted by trader */
  uint32_t nplaced, cap_placed;
  uint32_t *placed_count;         /* [ntraders_max + 1] counting-sort scratch */
  cb_placed *sales;               /* sales not yet handed to their buyers (cb_buyers_hand_over) */
  uint32_t nsales, cap_sales;
  uint32_t ntraders, ntraders_max;
  cb_buckets trips;               /* traders due for a buying trip, by day */
  uint32_t *active_ids, nactive;
  double *client_cdf;             /* [ntraders_max] cumulative client weight of active traders */

  cb_middleman *M;
  uint32_t nmiddlemen;
  cb_official *O;
  uint32_t nofficials;
  uint32_t *cp_first, *cp_count;  /* officials grouped by checkpoint */

  cb_consignment *C;
  uint32_t ncons, cap_cons, *free_cons, nfree_cons;
  cb_buckets shipments;
  double in_transit;

  cb_price *P;                    /* [nmarkets * nprod] */
  cb_metrics metrics;
  cb_ledger L;
  cb_totals totals;
  double wall_start;
  /* risk experience pooled across traders this month, for gossip: [cb_risk_size] sums */
  double *pool_cost, *pool_value;
  double *pool_cost_all, *pool_value_all;   /* discounted history of the pools */
  float *risk_pooled;                       /* the trade-wide risk estimate from that history */
  int *group_of;                            /* [nmarkets * nprod] scratch for trip planning, -1 = unused */
  cb_option_proto *opt_protos;              /* [nmarkets * nprod * nroutes * channels * 2] today's options */
  int *opt_count;                           /* [nmarkets * nprod] */
  uint32_t *opt_listed;                     /* [nprod] listed the options were built for */
  uint32_t *opt_closed;                     /* [ncrossings] closed the options were built for */
  double *poss_month;             /* [nmarkets] possession penalties paid this month, USD */
  const char **metric_names;      /* names of places, origins and categories for metrics.csv */
};

static inline cb_buyer *cb_buyer_at(const cb_sim *S, uint32_t b) { return (cb_buyer *)(void *)(S->B.mem + (size_t)b * S->B.stride); }
/* After the scalar record: per kind, the day (from the start) the held unit wears out, then the
 * origin held (CB_NO_HOLDING if none). The stride leaves room for the 16-byte loads of the review's
 * masks (two of `until`, one of `origin`) and is a whole number of cache lines. */
static inline size_t cb_buyer_stride(int ncat) {
  size_t n = (size_t)ncat, need = sizeof(cb_buyer) + 3 * n;
  if (need < sizeof(cb_buyer) + 2 * n + 16) need = sizeof(cb_buyer) + 2 * n + 16;
  if (need < sizeof(cb_buyer) + 32) need = sizeof(cb_buyer) + 32;
  return (need + 63) / 64 * 64;
}
static inline uint16_t *cb_buyer_until(const cb_sim *S, uint32_t b) { return (uint16_t *)(void *)(S->B.mem + (size_t)b * S->B.stride + sizeof(cb_buyer)); }
static inline uint8_t *cb_buyer_origin(const cb_sim *S, uint32_t b) { return S->B.mem + (size_t)b * S->B.stride + sizeof(cb_buyer) + 2 * (size_t)S->ncat; }

/* Product index from category and origin, and back. */
static inline int cb_product(const cb_sim *S, int cat, int origin) { return cat * S->norig + origin; }
static inline int cb_prod_cat(const cb_sim *S, int p) { return S->prod_cat[p]; }
static inline int cb_prod_origin(const cb_sim *S, int p) { return S->prod_origin[p]; }
/* Traders learn risk per route, channel, relabelling and kind of product (detection depends on
 * how well relabelling hides that kind of product). The kind of product is outermost so that all
 * options weighed for one product lie together in memory. */
static inline int cb_risk_index(const cb_sim *S, int route, int channel, int relabel, int cat) {
  return ((cat * S->nroutes + route) * CB_NCHANNELS + channel) * 2 + relabel;
}
static inline int cb_risk_channel(int index) { return (index / 2) % CB_NCHANNELS; }
/* An option's learned-risk slot (the last index above): relabelled or not, except in the
 * declared (legal) channel, which cannot relabel; there it says whether the goods are on a list
 * some checkpoint applies, so declared goods that show an offence on their papers and goods that
 * pass freely learn apart. */
static inline int cb_risk_slot(const cb_sim *S, int product, int channel, int relabel) {
  return channel == CB_CH_LEGAL ? (S->listed[product] & S->enforced_any) != 0 : relabel;
}
/* A trader's learned risk is kept in 16 bits, in steps of 1/16384 of the goods' value up to 4
 * (a seizure costs 1 plus what was paid on the way): half the memory of a float per option, far
 * finer than what learning can tell apart. */
#define CB_RISK_SCALE 16384.0
static inline double cb_risk_get(uint16_t q) { return q / CB_RISK_SCALE; }
static inline uint16_t cb_risk_put(double r) {
  double q = r * CB_RISK_SCALE + 0.5;
  return (uint16_t)(q < 0 ? 0 : q > 65535.0 ? 65535.0 : q);
}
/* The learned-risk entry a consignment's outcome teaches (and a trader's plan for it read). */
#define cb_risk_index_of(S, k) cb_risk_index((S), (k)->route, (k)->channel, cb_risk_slot((S), (k)->product, (k)->channel, (k)->relabel), cb_prod_cat((S), (k)->product))
static inline int cb_risk_size(const cb_sim *S) { return S->nroutes * CB_NCHANNELS * 2 * S->ncat; }

/* ---- module entry points (each in its own file under src/model/) ---- */
/* goods.c */
double cb_goods_lifetime(const cb_sim *S, int product);
double cb_goods_quality(const cb_sim *S, int product);  /* the origin's quality plus the kind's */
int cb_goods_is_foreign(const cb_sim *S, int origin);   /* neither domestic nor Chinese-looking */
double cb_goods_domestic_price(const cb_sim *S, int market, int product);
/* routes.c */
int cb_routes_build(cb_sim *S);
/* A crossing's two lanes: official customs (legal, disguised, luggage) and unofficial (smuggled). */
static inline int cb_lane(int crossing, int channel) { return crossing * 2 + (channel == CB_CH_SMUGGLED); }
double cb_lane_capacity(const cb_sim *S, int lane);          /* bulk units a day, 0 if unlimited */
double cb_lane_wait(const cb_sim *S, int lane, double reach); /* days a consignment reaching it then would queue */
/* policy.c */
void cb_policy_apply(cb_sim *S, int32_t day);
int cb_policy_init(cb_sim *S);
/* footprint.c: estimated memory, in bytes, by part */
typedef struct cb_footprint {
  double buyers, traders, metrics, other, total;
} cb_footprint;
void cb_footprint_estimate(const cb_sim *S, cb_footprint *f);
int cb_footprint_check(cb_sim *S);
/* buyers.c */
int cb_buyers_init(cb_sim *S);
int cb_buyers_step(cb_sim *S, int32_t day);
int cb_buyers_receive(cb_sim *S, uint32_t b, int product, int32_t day, double price);
void cb_buyers_hand_over(cb_sim *S);
void cb_buyers_free_threads(cb_sim *S);
void cb_buyers_refund(cb_sim *S, uint32_t b, int product, double price);
int cb_buyers_link(cb_sim *S, uint32_t b, int32_t day);
void cb_buyers_free(cb_sim *S);
void cb_buyers_utility_tables(cb_sim *S, int constant);
void cb_buyers_possession_month(cb_sim *S);
int cb_buyers_has_pupil(const cb_sim *S, uint32_t b, int32_t day); /* a child of school age on day */
void cb_buyers_confiscate(cb_sim *S, uint32_t b, int k);           /* a possession check takes the unit of kind k */
void cb_buyers_recount(cb_sim *S);  /* buyers and holders by market and rank, from the buyers' records */
/* The first buyer whose record names a market, rank or held origin that does not exist, or -1:
 * a restored snapshot is checked with it before anything indexes by those fields. */
int64_t cb_buyers_first_invalid(const cb_sim *S);
/* traders.c */
int cb_traders_init(cb_sim *S);
int cb_traders_step(cb_sim *S, int32_t day);
int cb_traders_take_order(cb_sim *S, uint32_t t, uint32_t b, int product, int market, int32_t day, double price, int *filled_now);
int cb_traders_monthly(cb_sim *S, int32_t day);
void cb_traders_rebuild_active(cb_sim *S);
void cb_traders_protection(cb_sim *S);
int cb_traders_deliver(cb_sim *S, const cb_consignment *c, int market, int32_t day);
void cb_traders_lost(cb_sim *S, const cb_consignment *c, int market);
void cb_traders_learn(cb_sim *S, const cb_consignment *c, double cost_share);
void cb_traders_free(cb_sim *S);
int cb_traders_daily_options(cb_sim *S);
/* middlemen.c */
int cb_middlemen_init(cb_sim *S);
void cb_middlemen_choose(const cb_sim *S, cb_trader *t);
/* The bargain (see middlemen.c): the trader's power from its haggling, the consignment's bulk
 * (bulk units) and the deals done; the middleman's cost per unit (its reservation price) for
 * goods of source price `source` in a hub; and the bargained price per unit a trader pays its
 * supplier in the hub for a consignment of that bulk (never below the cost). */
double cb_middlemen_power(const cb_sim *S, double haggling, double bulk_units, double deals);
double cb_middlemen_cost(const cb_sim *S, int hub, double source);
double cb_middlemen_price(const cb_sim *S, const cb_trader *t, int hub, double source, double bulk_units);
void cb_middlemen_deal(cb_trader *t, int hub);
/* enforcement.c */
int cb_officials_init(cb_sim *S);
int cb_enforcement_check(cb_sim *S, uint32_t cons_id, int checkpoint, uint32_t position, cb_rng_stream *inspect);
int cb_enforcement_possession(cb_sim *S, int32_t day);
/* shipments.c */
int cb_shipments_step(cb_sim *S, int32_t day);
int cb_shipments_dispatch(cb_sim *S, const cb_consignment *c, int32_t day);
void cb_shipments_free(cb_sim *S);
/* market.c */
int cb_market_init(cb_sim *S);
void cb_market_record_delivery(cb_sim *S, int market, int product, double qty, double landed_unit_cost);
void cb_market_record_loss(cb_sim *S, int market, int product, double cost);
void cb_market_weekly(cb_sim *S);
void cb_market_daily(cb_sim *S);
double cb_market_price(const cb_sim *S, int market, int product);
/* ledger.c */
int cb_ledger_check(cb_sim *S, int32_t day);

#endif
