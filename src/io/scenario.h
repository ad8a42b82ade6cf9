/* The scenario: everything a user can set, as plain structs filled from YAML by the parameter
 * table in scenario.c (the single source of truth for keys, defaults, ranges and docs). */
#ifndef CB_IO_SCENARIO_H
#define CB_IO_SCENARIO_H

#include <stdint.h>

#include "io/schema.h"
#include "io/ytree.h"

enum { CB_CH_LEGAL, CB_CH_DISGUISED, CB_CH_SMUGGLED, CB_CH_LUGGAGE, CB_NCHANNELS };
enum { CB_CHECKS_CONSIGNMENTS, CB_CHECKS_HOLDINGS }; /* what a kind of checkpoint inspects */
enum { CB_PERIOD_DAY, CB_PERIOD_WEEK, CB_PERIOD_MONTH, CB_PERIOD_QUARTER, CB_PERIOD_YEAR };
enum { CB_SANCTION_IMPOSE, CB_SANCTION_EASE };
#define CB_MAX_SOURCES 6 /* named income sources (a buyer keeps a byte per source) */

/* Names of channels, indexed by the enum above, NULL-terminated. */
const char *const *cb_channel_names(void);

typedef struct cb_sc_simulation {
  int32_t start, end;
  int64_t seed;
  int record;
  char won_per_usd_file[CB_STR_MAX];
} cb_sc_simulation;

typedef struct cb_sc_population {
  int64_t buyers, traders, middlemen, officials;
  double trader_pool_factor;
} cb_sc_population;

typedef struct cb_sc_origin {
  char name[CB_NAME_MAX];
  double quality, penalty_factor;
  int domestic, kp_banned;
} cb_sc_origin;

typedef struct cb_sc_category {
  char name[CB_NAME_MAX];
  double bulk, status, relabel_cost_usd, relabel_efficacy, pretext;
  char line[CB_STR_MAX];   /* product line: kinds sharing one are generations or tiers of one product ("" = its own) */
  char tier[CB_STR_MAX];   /* price tier, for reporting demand by tier */
  int32_t introduced;      /* first day it can be had */
  double quality;          /* quality over the line's other kinds (newer generations perform better) */
  double potential, innovation, imitation; /* Bass diffusion: market potential, p and q per year */
  int media_device, barred_foreign_label, electronics, for_schoolchildren;
  double price_usd[CB_MAX_ENTRIES];     /* by origin: source price at a Chinese hub; state-shop price for domestic goods */
  double lifetime_days[CB_MAX_ENTRIES]; /* by origin: mean time until it wears out or is used up */
} cb_sc_category;

typedef struct cb_sc_hub {
  char name[CB_NAME_MAX];
  double price_factor, middlemen_share;
} cb_sc_hub;

/* A kind of checkpoint: what it inspects and, for consignments, the rule set that says which
 * channels it sees and what counts as a violation there (flags by channel). */
typedef struct cb_sc_checkpoint_kind {
  char name[CB_NAME_MAX];
  int checks;                /* CB_CHECKS_CONSIGNMENTS or CB_CHECKS_HOLDINGS */
  uint32_t sees;             /* channels whose consignments pass it */
  uint32_t any_label;        /* channels that are a violation whatever the label (relabelling cannot hide it) */
  uint32_t foreign_label;    /* channels where a foreign label is the violation (relabelling hides it) */
  uint32_t barred_label;     /* channels where a foreign label on a barred_foreign_label kind is the violation */
  uint32_t listed_label;     /* channels where goods on a list it enforces (authorities.*.enforced_by) are the violation */
} cb_sc_checkpoint_kind;

/* A state or body that imposes sanctions; its lists bind only where checkpoints of the kinds it
 * names stand (Japan's export ban binds goods leaving Japan, not Japanese brands bought in China). */
typedef struct cb_sc_authority {
  char name[CB_NAME_MAX];
  cb_reflist enforced_by;    /* checkpoint kinds that apply its goods lists */
} cb_sc_authority;

/* A source of buyers' hard currency that events can cut (Kaesong, foreign-currency firms' exports). */
typedef struct cb_sc_income_source {
  char name[CB_NAME_MAX];
  double share_mean;         /* mean share of a buyer's income from it */
} cb_sc_income_source;

typedef struct cb_sc_checkpoint {
  char name[CB_NAME_MAX];
  int kind;                  /* index into checkpoint_kinds */
  double officials_share, inspect_prob, skill, skill_sd, confiscate_prob, fine_won_per_unit, fine_usd_per_unit,
      fine_value_share, checks_per_official_day;
  /* the bribe as a bargain (enforcement.c) */
  double monitoring, official_penalty_usd, official_penalty_sigma, bargaining_power, reward_share, connected_share,
      connected_shield;
  char rate_entity[CB_STR_MAX];
} cb_sc_checkpoint;

typedef struct cb_sc_crossing {
  char name[CB_NAME_MAX];
  cb_reflist official_checkpoints, smuggling_checkpoints;
  double official_fee_per_bulk_usd, smuggling_cost_per_bulk_usd;
  double official_capacity, smuggling_capacity; /* bulk units a day per 10,000 buyers (0: no limit) */
} cb_sc_crossing;

typedef struct cb_sc_market {
  char name[CB_NAME_MAX];
  double buyer_share;
  char rate_entity[CB_STR_MAX];
  cb_reflist possession_checkpoints; /* inspection teams (kind possession) working this market */
} cb_sc_market;

typedef struct cb_sc_leg {
  char name[CB_NAME_MAX];
  int from, to;
  double days, cost_per_bulk_usd;
  cb_reflist checkpoints;
} cb_sc_leg;

typedef struct cb_sc_trader_type {
  char name[CB_NAME_MAX];
  double share, capital_usd, capital_sigma, trip_days, capacity_bulk, haggling, haggling_spread, stock_share, client_weight;
  uint32_t channels;
  cb_reflist based_at;   /* crossings a trader of this type may be based at (empty: not based, uses any crossing) */
} cb_sc_trader_type;

typedef struct cb_sc_buyers {
  double income_usd_month, income_sigma, rank2_share, rank3_share, rank_income_step,
      income_growth_per_year, spend_share, review_days, upgrade_prob,
      quality_weight, durability_weight, status_weight, price_weight, campaign_weight,
      campaign_fx_scale_usd, possession_weight, outside_utility, order_timeout_days, children_share,
      savings_cap_months, diffusion, veblen_weight, veblen_cap_months, school_age_from, school_age_to,
      child_age_min, child_age_max;
} cb_sc_buyers;

typedef struct cb_sc_traders {
  double learning_rate, gossip, risk_prior, choice_temperature, profit_tolerance, holding_cost_per_day, exit_capital_usd,
      entry_rate, entry_profit_rate, protection_clients, protection_effect, memory_months, relocate_prob, relocate_cost_usd;
} cb_sc_traders;

typedef struct cb_sc_middlemen {
  double commission_mean, commission_sd, illicit_premium, relabel_skill_mean, relabel_skill_sd,
      capacity_bulk_day, contacts_per_trader, cost_share, bulk_power, bulk_half, repeat_power, repeat_half_deals;
  int relabel_as;  /* origin whose labels relabelled goods carry */
} cb_sc_middlemen;

typedef struct cb_sc_market_rules {
  double markup_normal, scarcity_elasticity, markup_min, markup_max, backlog_memory_weeks, cost_smoothing;
} cb_sc_market_rules;

/* A dated measure: a goods list an authority bans or lifts, the inspection regime it brings, and
 * the hard currency it cuts, each optional. */
typedef struct cb_sc_sanction {
  char name[CB_NAME_MAX];
  int32_t date, end;            /* in force from date to end, inclusive */
  int by;                       /* index into authorities */
  int action;                   /* CB_SANCTION_IMPOSE puts the goods on the authority's list, EASE takes them off */
  cb_reflist origins, categories; /* the goods list: these origins' goods of these categories (none: no goods) */
  cb_reflist inspected_at;      /* checkpoints whose inspections it steps up */
  double inspect_factor, monitor_factor;
  cb_reflist income_sources;    /* sources of buyers' income it cuts */
  double income_lost;           /* share of those sources' income lost */
} cb_sc_sanction;

typedef struct cb_sc_crackdown {
  char name[CB_NAME_MAX];
  int32_t start, end;
  cb_reflist checkpoints;
  double inspect_factor, monitor_factor, confiscate_factor;
} cb_sc_crackdown;

typedef struct cb_sc_campaign {
  char name[CB_NAME_MAX];
  int32_t start, end;
  double strength;
} cb_sc_campaign;

typedef struct cb_sc_closure {
  char name[CB_NAME_MAX];
  int32_t start, end;
  int crossing;
  uint32_t channels;
} cb_sc_closure;

typedef struct cb_sc_income_shock {
  char name[CB_NAME_MAX];
  int32_t date;
  cb_reflist sources;           /* income sources hit (none: every buyer's whole income) */
  double factor;
} cb_sc_income_shock;

typedef struct cb_scenario {
  cb_sc_simulation sim;
  cb_sc_population pop;
  cb_sc_buyers buyers;
  cb_sc_traders traders;
  cb_sc_middlemen middlemen;
  cb_sc_market_rules market;
  int n_origins, n_categories, n_hubs, n_checkpoint_kinds, n_authorities, n_income_sources, n_checkpoints, n_crossings, n_markets, n_supply_legs,
      n_delivery_legs, n_trader_types, n_sanctions, n_crackdowns, n_campaigns, n_closures,
      n_income_shocks;
  cb_sc_origin origins[CB_MAX_ENTRIES];
  cb_sc_category categories[CB_MAX_ENTRIES];
  cb_sc_hub hubs[CB_MAX_ENTRIES];
  cb_sc_checkpoint_kind checkpoint_kinds[CB_MAX_ENTRIES];
  cb_sc_authority authorities[CB_MAX_ENTRIES];
  cb_sc_income_source income_sources[CB_MAX_ENTRIES];
  cb_sc_checkpoint checkpoints[CB_MAX_ENTRIES];
  cb_sc_crossing crossings[CB_MAX_ENTRIES];
  cb_sc_market markets[CB_MAX_ENTRIES];
  cb_sc_leg supply_legs[CB_MAX_ENTRIES];    /* hub -> crossing (Chinese side) */
  cb_sc_leg delivery_legs[CB_MAX_ENTRIES];  /* crossing -> market (North Korean side) */
  cb_sc_trader_type trader_types[CB_MAX_ENTRIES];
  cb_sc_sanction sanctions[CB_MAX_ENTRIES];
  cb_sc_crackdown crackdowns[CB_MAX_ENTRIES];
  cb_sc_campaign campaigns[CB_MAX_ENTRIES];
  cb_sc_closure closures[CB_MAX_ENTRIES];
  cb_sc_income_shock income_shocks[CB_MAX_ENTRIES];
} cb_scenario;

/* The scenario's parameter table. */
const cb_schema *cb_scenario_schema(void);

/* Reads a scenario file. A top-level `base: OTHER.yaml` (relative to the file) names a scenario
 * this one modifies: the base is read first (recursively, at most 8 deep) and this file merged
 * over it, so a counterfactual states only what differs. */
int cb_scenario_read(cb_ytree *t, const char *path, cb_err *e);

/* Binds the tree into sc and checks the rules that span several fields (dates in order, events
 * inside the simulated period, shares that must sum to one, routes that connect every market).
 * Errors point at the offending node. */
int cb_scenario_bind(cb_scenario *sc, const cb_ytree *t, cb_err *e);

#endif
