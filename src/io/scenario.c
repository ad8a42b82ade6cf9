/* The scenario's parameter table — the single source of truth for every key a scenario may hold:
 * its type, storage, range, default, unit and meaning. Binding, --set overrides and the generated
 * parameter reference (docs/parameters.md) all read this table. Rules that span several fields
 * are checked after binding, here too, so a scenario is either wholly valid or rejected. */
#include "io/scenario.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "engine/calendar.h"
#include "io/files.h"

static const char *const channel_names[] = {"legal", "disguised", "smuggled", "luggage", NULL};
static const char *const checks_names[] = {"consignments", "holdings", NULL};
static const char *const period_names[] = {"day", "week", "month", "quarter", "year", NULL};
static const char *const action_names[] = {"impose", "ease", NULL};

#define BIG 1e12
#define FLD(T, f, ty, lo, hi, def, unit, doc) {#f, ty, offsetof(T, f), lo, hi, def, NULL, NULL, unit, doc}
#define DBL(T, f, lo, hi, def, unit, doc) FLD(T, f, CB_T_DOUBLE, lo, hi, def, unit, doc)
#define INT(T, f, lo, hi, def, unit, doc) FLD(T, f, CB_T_INT, lo, hi, def, unit, doc)
#define BOOL(T, f, def, doc) FLD(T, f, CB_T_BOOL, 0, 1, def, NULL, doc)
#define DATE(T, f, def, doc) FLD(T, f, CB_T_DATE, 0, 0, def, "date", doc)
#define STR(T, f, def, doc) FLD(T, f, CB_T_STRING, 0, 0, def, NULL, doc)
#define ENUM(T, f, names, def, doc) {#f, CB_T_ENUM, offsetof(T, f), 0, 0, def, names, NULL, NULL, doc}
#define FLAGS(T, f, names, def, doc) {#f, CB_T_FLAGS, offsetof(T, f), 0, 0, def, names, NULL, NULL, doc}
#define REF(T, f, target, def, doc) {#f, CB_T_REF, offsetof(T, f), 0, 0, def, NULL, target, NULL, doc}
#define REFS(T, f, target, def, doc) {#f, CB_T_REFLIST, offsetof(T, f), 0, 0, def, NULL, target, NULL, doc}
#define DMAP(T, f, target, lo, hi, def, unit, doc) {#f, CB_T_MAP_DOUBLE, offsetof(T, f), lo, hi, def, NULL, target, unit, doc}
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const cb_field f_simulation[] = {
    DATE(cb_sc_simulation, start, NULL, "first simulated day"),
    DATE(cb_sc_simulation, end, NULL, "last simulated day (inclusive)"),
    INT(cb_sc_simulation, seed, 0, 4294967295.0, "1", NULL, "random seed; the CLI's --seed overrides it"),
    ENUM(cb_sc_simulation, record, period_names, "month", "recording period of metrics.csv"),
    STR(cb_sc_simulation, won_per_usd_file, "../data/dailynk/won-per-dollar.csv",
        "CSV (entity,time,value) of the market won/dollar rate, relative to the scenario file"),
};

static const cb_field f_population[] = {
    INT(cb_sc_population, buyers, 1, 50000000, NULL, "agents", "officials holding hard currency who buy foreign goods"),
    INT(cb_sc_population, traders, 1, 1000000, NULL, "agents", "traders active at the start"),
    INT(cb_sc_population, middlemen, 1, 1000000, NULL, "agents", "Korean-Chinese middlemen in the Chinese hubs"),
    INT(cb_sc_population, officials, 1, 1000000, NULL, "agents", "customs officers, border guards and inspection-team members"),
    DBL(cb_sc_population, trader_pool_factor, 1, 10, "1.5", "ratio", "most traders that can be active at once, as a multiple of the initial number (room for entry)"),
};

static const cb_field f_origins[] = {
    DBL(cb_sc_origin, quality, 0, 1, NULL, "score", "perceived quality of goods of this origin"),
    DBL(cb_sc_origin, penalty_factor, 0, 100, "1", "ratio", "multiplier on statutory fines when goods of this origin are caught"),
    BOOL(cb_sc_origin, domestic, "false", "made in North Korea and sold in state shops (no border crossing)"),
    BOOL(cb_sc_origin, kp_banned, "false", "North Korea bans these goods outright: possession checks count any item of this origin, not only media devices"),
};

static const cb_field f_categories[] = {
    DBL(cb_sc_category, bulk, 0.001, 1000, NULL, "bulk units", "space one unit takes (transport costs and capacities are per bulk unit)"),
    DBL(cb_sc_category, status, 0, 1, NULL, "score", "status value of owning this kind of product"),
    DBL(cb_sc_category, relabel_cost_usd, 0, BIG, NULL, "USD", "middleman's cost to replace labels and packaging of one unit"),
    DBL(cb_sc_category, relabel_efficacy, 0, 1, NULL, "share", "how much relabelling hides the origin from a label check"),
    DBL(cb_sc_category, pretext, 0, 1, "0", "probability", "chance the children's-education pretext excuses possession in a check"),
    STR(cb_sc_category, line, "", "product line: kinds naming the same line are generations or tiers of one product, of which a buyer holds one at a time (empty: a line of its own)"),
    STR(cb_sc_category, tier, "standard", "price tier this kind belongs to (e.g. standard, luxury), for reporting demand by tier"),
    DATE(cb_sc_category, introduced, "1900-01-01", "first day this kind can be had; a newer kind in the same line supersedes older ones for those who adopt it"),
    DBL(cb_sc_category, quality, 0, 1, "0", "score", "quality added to the origin's for this kind (newer generations perform better)"),
    DBL(cb_sc_category, potential, 0, 1, NULL, "share", "share of buyers who would ever want this kind (Bass's market potential); kinds of one line share the buyers' draw, so a smaller potential is a subset"),
    DBL(cb_sc_category, innovation, 0, 10, "0", "1/year", "Bass innovation rate p: yearly hazard of starting to want it without seeing peers hold it"),
    DBL(cb_sc_category, imitation, 0, 100, "0", "1/year", "Bass imitation rate q: yearly hazard per unit share of same-rank peers in the market holding it"),
    BOOL(cb_sc_category, media_device, "false", "subject to possession checks by inspection teams (Group 109)"),
    BOOL(cb_sc_category, barred_foreign_label, "false", "Chinese customs refuse it under a foreign label"),
    BOOL(cb_sc_category, electronics, "false", "counts as electronics in route-share summaries"),
    BOOL(cb_sc_category, for_schoolchildren, "false", "wanted only by buyers with a child of school age (buyers.school_age_from..to), for the child's learning"),
    DMAP(cb_sc_category, price_usd, "origins", 0.01, BIG, NULL, "USD", "source price per unit by origin (Chinese hub; state-shop price in won at the start rate for domestic goods)"),
    DMAP(cb_sc_category, lifetime_days, "origins", 1, 36500, NULL, "days", "mean time until a unit wears out or is used up, by origin"),
};

static const cb_field f_hubs[] = {
    DBL(cb_sc_hub, price_factor, 0.1, 10, "1", "ratio", "multiplier on source prices bought here"),
    DBL(cb_sc_hub, middlemen_share, 0, 1, NULL, "share", "share of middlemen based here"),
};

/* The rule set of each kind of checkpoint: the scenario, not the code, says which channels a kind
 * sees and what is an offence there, so another pair of countries needs no code. */
static const cb_field f_checkpoint_kinds[] = {
    ENUM(cb_sc_checkpoint_kind, checks, checks_names, "consignments", "what checkpoints of this kind inspect: consignments passing them, or holdings of buyers in markets (possession teams)"),
    FLAGS(cb_sc_checkpoint_kind, sees, channel_names, "[]", "channels whose consignments pass checkpoints of this kind"),
    FLAGS(cb_sc_checkpoint_kind, any_label, channel_names, "[]", "channels that are an offence here whatever the goods' label (relabelling cannot hide it)"),
    FLAGS(cb_sc_checkpoint_kind, foreign_label, channel_names, "[]", "channels where goods under a foreign label are an offence here (relabelling hides the label)"),
    FLAGS(cb_sc_checkpoint_kind, barred_label, channel_names, "[]", "channels where goods of a barred_foreign_label kind under a foreign label are an offence here (relabelling hides the label)"),
    FLAGS(cb_sc_checkpoint_kind, listed_label, channel_names, "[]", "channels where goods on the list of an authority this kind enforces (authorities.*.enforced_by) are an offence here; declared (legal) goods show it on their papers, and relabelling hides it unless the label given is listed too"),
};

static const cb_field f_authorities[] = {
    REFS(cb_sc_authority, enforced_by, "checkpoint_kinds", "[]", "kinds of checkpoint that apply this authority's goods lists (none: its lists bind nowhere on the modelled routes)"),
};

static const cb_field f_income_sources[] = {
    DBL(cb_sc_income_source, share_mean, 0, 1, NULL, "share", "mean share of a buyer's hard-currency income from this source (exponential between buyers; a buyer's shares are scaled down if they sum above 1)"),
};

static const cb_field f_checkpoints[] = {
    REF(cb_sc_checkpoint, kind, "checkpoint_kinds", NULL, "kind of checkpoint (an entry of checkpoint_kinds): what it inspects and what is an offence there"),
    DBL(cb_sc_checkpoint, officials_share, 0, 1, NULL, "share", "share of all officials posted here"),
    DBL(cb_sc_checkpoint, inspect_prob, 0, 1, "0", "probability", "chance a consignment passing is inspected (consignment checkpoints)"),
    DBL(cb_sc_checkpoint, checks_per_official_day, 0, 1000, "0", "checks", "possession checks each team member makes per day (possession teams)"),
    DBL(cb_sc_checkpoint, skill, 0, 1, NULL, "probability", "mean chance an inspection finds a violation that is there"),
    DBL(cb_sc_checkpoint, skill_sd, 0, 1, "0.1", "probability", "spread of skill between officials"),
    DBL(cb_sc_checkpoint, monitoring, 0, 1, NULL, "probability", "chance a bribe taken here is found out by superiors: the official is punished and the offender faces the law as well"),
    DBL(cb_sc_checkpoint, official_penalty_usd, 0, BIG, NULL, "USD", "median cost to an official of being found out taking a bribe (loss of post, punishment)"),
    DBL(cb_sc_checkpoint, official_penalty_sigma, 0, 5, "1", "log-scale", "spread of that cost between officials (log-normal sigma)"),
    DBL(cb_sc_checkpoint, bargaining_power, 0, 1, "0.5", "share", "official's share of the surplus of a deal (Nash bargaining; 0.5 splits it evenly)"),
    DBL(cb_sc_checkpoint, reward_share, 0, 1, "0", "share", "share of the formal penalty an official gains by applying the law (bonus, credit): what a deal must beat for him"),
    DBL(cb_sc_checkpoint, connected_share, 0, 1, "0", "share", "share of officials placed by cadres' networks"),
    DBL(cb_sc_checkpoint, connected_shield, 0, 1, "0.2", "ratio", "multiplier on the chance a connected official's deal is found out (his patrons cover for him)"),
    DBL(cb_sc_checkpoint, confiscate_prob, 0, 1, NULL, "probability", "chance the formal penalty is confiscation rather than a fine"),
    DBL(cb_sc_checkpoint, fine_won_per_unit, 0, BIG, "0", "won", "statutory fine per unit caught, in won (converted at the day's market rate)"),
    DBL(cb_sc_checkpoint, fine_usd_per_unit, 0, BIG, "0", "USD", "statutory fine per unit caught, in dollars"),
    DBL(cb_sc_checkpoint, fine_value_share, 0, 100, "0", "share", "statutory fine as a share of the value of the goods caught (added to the per-unit fines)"),
    STR(cb_sc_checkpoint, rate_entity, "sinuiju", "exchange-rate series entity used to convert fines in won"),
};


static const cb_field f_crossings[] = {
    REFS(cb_sc_crossing, official_checkpoints, "checkpoints", "[]", "checkpoints met when crossing through official customs (legal, disguised, luggage)"),
    REFS(cb_sc_crossing, smuggling_checkpoints, "checkpoints", "[]", "checkpoints met when crossing unofficially (smuggled)"),
    DBL(cb_sc_crossing, official_fee_per_bulk_usd, 0, BIG, "0", "USD", "customs duties and fees per bulk unit through official customs"),
    DBL(cb_sc_crossing, smuggling_cost_per_bulk_usd, 0, BIG, NULL, "USD", "porters, boats and guides per bulk unit for an unofficial crossing"),
    DBL(cb_sc_crossing, official_capacity, 0, BIG, "0", "bulk/day per 10k buyers", "goods official customs here can clear a day (legal, disguised, luggage), in bulk units per 10,000 simulated buyers so a smaller population keeps the same congestion; beyond it consignments queue (0: no limit)"),
    DBL(cb_sc_crossing, smuggling_capacity, 0, BIG, "0", "bulk/day per 10k buyers", "goods the unofficial crossings here can carry a day, in bulk units per 10,000 simulated buyers; beyond it consignments queue (0: no limit)"),
};

static const cb_field f_markets[] = {
    DBL(cb_sc_market, buyer_share, 0, 1, NULL, "share", "share of buyers living here"),
    STR(cb_sc_market, rate_entity, NULL, "exchange-rate series entity for this market's won prices"),
    REFS(cb_sc_market, possession_checkpoints, "checkpoints", "[]", "inspection teams checking buyers' media devices here"),
};

static const cb_field f_supply_legs[] = {
    REF(cb_sc_leg, from, "hubs", NULL, "Chinese hub where goods are bought"),
    REF(cb_sc_leg, to, "crossings", NULL, "border crossing reached"),
    DBL(cb_sc_leg, days, 0, 365, NULL, "days", "transit time"),
    DBL(cb_sc_leg, cost_per_bulk_usd, 0, BIG, NULL, "USD", "transport cost per bulk unit"),
    REFS(cb_sc_leg, checkpoints, "checkpoints", "[]", "checkpoints on the way"),
};

static const cb_field f_delivery_legs[] = {
    REF(cb_sc_leg, from, "crossings", NULL, "border crossing"),
    REF(cb_sc_leg, to, "markets", NULL, "destination market"),
    DBL(cb_sc_leg, days, 0, 365, NULL, "days", "transit time"),
    DBL(cb_sc_leg, cost_per_bulk_usd, 0, BIG, NULL, "USD", "transport cost per bulk unit"),
    REFS(cb_sc_leg, checkpoints, "checkpoints", "[]", "road checkpoints on the way"),
};

static const cb_field f_trader_types[] = {
    DBL(cb_sc_trader_type, share, 0, 1, NULL, "share", "share of traders of this type"),
    DBL(cb_sc_trader_type, capital_usd, 1, BIG, NULL, "USD", "mean starting capital"),
    DBL(cb_sc_trader_type, capital_sigma, 0, 5, "0.5", "log-sd", "spread of starting capital (lognormal with the mean above)"),
    DBL(cb_sc_trader_type, trip_days, 1, 365, NULL, "days", "days between buying trips"),
    DBL(cb_sc_trader_type, capacity_bulk, 0.01, BIG, NULL, "bulk units", "most goods moved per trip"),
    DBL(cb_sc_trader_type, haggling, 0, 0.95, "0", "share", "mean haggling skill: the share of a middleman's margin (posted price less its cost) a trader of this type would win by haggling alone"),
    DBL(cb_sc_trader_type, haggling_spread, 0, 0.95, "0", "share", "each trader's haggling skill is drawn uniformly within this much either side of the mean (kept within 0 to 0.95)"),
    DBL(cb_sc_trader_type, stock_share, 0, 5, "0", "ratio", "units bought for the shelf per unit ordered"),
    DBL(cb_sc_trader_type, client_weight, 0, BIG, "1", "weight", "relative chance a buyer orders through a trader of this type"),
    FLAGS(cb_sc_trader_type, channels, channel_names, NULL, "channels open to this type"),
    REFS(cb_sc_trader_type, based_at, "crossings", "[]", "crossings where a trader of this type may have its base (its porters, warehouse and contacts): a based trader ships only through its base's crossing, and buyers' orders wait in its book there; the first base is drawn uniformly from these, later ones follow traders.relocate_prob (empty: not based, any crossing)"),
};

static const cb_field f_buyers[] = {
    DBL(cb_sc_buyers, income_usd_month, 0, BIG, NULL, "USD/month", "median hard-currency income of the lowest rank"),
    DBL(cb_sc_buyers, income_sigma, 0, 5, "0.6", "log-sd", "spread of incomes (lognormal)"),
    DBL(cb_sc_buyers, rank2_share, 0, 1, NULL, "share", "share of buyers of middle rank"),
    DBL(cb_sc_buyers, rank3_share, 0, 1, NULL, "share", "share of buyers of top rank"),
    DBL(cb_sc_buyers, rank_income_step, 1, 100, NULL, "ratio", "income multiplier per rank step"),
    DBL(cb_sc_buyers, income_growth_per_year, -0.5, 1, "0", "share/year", "growth of hard-currency incomes"),
    DBL(cb_sc_buyers, spend_share, 0, 1, NULL, "share", "share of income put aside for these goods"),
    DBL(cb_sc_buyers, savings_cap_months, 0.1, 1200, "12", "months", "savings for goods beyond this many months of the set-aside are spent on other things"),
    DBL(cb_sc_buyers, review_days, 1, 3650, NULL, "days", "mean days between a buyer's reviews of wants"),
    DBL(cb_sc_buyers, upgrade_prob, 0, 1, "0", "probability", "chance per review to replace a held lower-quality item by a better one"),
    DBL(cb_sc_buyers, quality_weight, 0, 100, NULL, "utility", "weight of perceived quality in origin choice"),
    DBL(cb_sc_buyers, durability_weight, 0, 100, NULL, "utility", "weight of log lifetime (years) in origin choice"),
    DBL(cb_sc_buyers, status_weight, 0, 100, NULL, "utility", "weight of status in origin choice (scaled by rank)"),
    DBL(cb_sc_buyers, price_weight, 0, 1000, NULL, "utility", "weight of price relative to monthly income"),
    DBL(cb_sc_buyers, campaign_weight, 0, 100, "0", "utility", "disutility of foreign goods during a buy-domestic campaign, for a buyer without savings"),
    DBL(cb_sc_buyers, campaign_fx_scale_usd, 0.01, BIG, "100", "USD", "savings at which campaign susceptibility falls to 1/e"),
    DBL(cb_sc_buyers, possession_weight, 0, 100, "1", "utility", "weight of expected possession penalties (per month held, relative to monthly income)"),
    DBL(cb_sc_buyers, outside_utility, -100, 100, NULL, "utility", "utility of buying nothing this time"),
    DBL(cb_sc_buyers, order_timeout_days, 1, 3650, NULL, "days", "an order not yet underway is cancelled and refunded after this long"),
    DBL(cb_sc_buyers, children_share, 0, 1, "0", "share", "share of buyers with a child (its age decides the education pretext and kinds for schoolchildren)"),
    DBL(cb_sc_buyers, child_age_min, -100, 100, "-10", "years", "youngest age of a buyer's child at the start (negative: born later); ages are uniform between the two bounds"),
    DBL(cb_sc_buyers, child_age_max, -100, 100, "25", "years", "oldest age of a buyer's child at the start"),
    DBL(cb_sc_buyers, school_age_from, 0, 100, "6", "years", "age at which a child starts school"),
    DBL(cb_sc_buyers, school_age_to, 0, 100, "17", "years", "age at which a child leaves school"),
    DBL(cb_sc_buyers, diffusion, 0, 10, "1", "ratio", "multiplier on every kind's adoption hazard after the start (1: as given; 0 freezes wants at the start, a knock-out)"),
    DBL(cb_sc_buyers, veblen_weight, 0, 100, "0", "utility", "status from a higher price (conspicuous consumption): utility per unit of log(price / the cheapest choice on offer), for top-rank buyers (half for middle rank, none for low)"),
    DBL(cb_sc_buyers, veblen_cap_months, 0, 1200, "3", "months", "a price counts as status only up to this many months of the buyer's income: luxury is bounded by what the buyer earns"),
};

static const cb_field f_traders[] = {
    DBL(cb_sc_traders, learning_rate, 0, 1, NULL, "weight", "weight of the latest experience in a trader's risk estimate per route and channel"),
    DBL(cb_sc_traders, gossip, 0, 1, "0", "weight", "weight of the trade-wide experience (all traders', discounted with half-life memory_months) in a trader's expected risk; the rest is its own"),
    DBL(cb_sc_traders, risk_prior, 0, 10, NULL, "share", "initial expected enforcement cost, as a share of goods value, of every illicit option"),
    DBL(cb_sc_traders, choice_temperature, 0.0001, 10, NULL, "share", "noise in route and channel choice, as a share of the price"),
    DBL(cb_sc_traders, profit_tolerance, 0, 10, "0", "share", "loss a trader accepts on filling an order, as a share of its price"),
    DBL(cb_sc_traders, holding_cost_per_day, 0, 1, "0", "share/day", "cost of capital tied up in goods on the way, per day, as a share of their value"),
    DBL(cb_sc_traders, exit_capital_usd, 0, BIG, NULL, "USD", "a trader whose capital falls below this leaves"),
    DBL(cb_sc_traders, entry_rate, 0, 1, "0", "share/month", "new traders per month per active trader, per unit of excess profit rate"),
    DBL(cb_sc_traders, entry_profit_rate, 0, 100, "0.05", "share/month", "monthly return on capital above which traders enter"),
    DBL(cb_sc_traders, protection_clients, 0.0001, BIG, NULL, "buyers", "top-rank clients that give a trader full protection"),
    DBL(cb_sc_traders, protection_effect, 0, 1, "0", "share", "cut in inspection chance for a fully protected trader"),
    DBL(cb_sc_traders, memory_months, 0.1, 1200, "1", "months", "half-life of the trade-wide pooled experience"),
    DBL(cb_sc_traders, relocate_prob, 0, 1, "0", "share/month", "chance a month that a based trader reviews its base: it moves to the crossing where its order book would earn most, if the gain exceeds relocate_cost_usd (0: bases stay where they were first drawn)"),
    DBL(cb_sc_traders, relocate_cost_usd, 0, BIG, "0", "USD", "cost of moving a base (new porters, storage and contacts), paid from the trader's capital"),
};

static const cb_field f_middlemen[] = {
    DBL(cb_sc_middlemen, commission_mean, 0, 10, NULL, "share", "mean posted commission on the hub price: the most a middleman charges over it, before bargaining"),
    DBL(cb_sc_middlemen, commission_sd, 0, 10, "0", "share", "spread of posted commissions"),
    DBL(cb_sc_middlemen, illicit_premium, 0, 10, "0", "share", "extra charge, as a share of the source price, for procuring goods that will leave China illicitly (not bargained over)"),
    DBL(cb_sc_middlemen, relabel_skill_mean, 0, 1, NULL, "share", "mean quality of a middleman's relabelling (scales category efficacy)"),
    DBL(cb_sc_middlemen, relabel_skill_sd, 0, 1, "0", "share", "spread of relabelling quality"),
    DBL(cb_sc_middlemen, capacity_bulk_day, 0.01, BIG, NULL, "bulk units/day", "goods a middleman can relabel per day (more waits)"),
    DBL(cb_sc_middlemen, contacts_per_trader, 1, 16, NULL, "middlemen", "middlemen each trader knows"),
    REF(cb_sc_middlemen, relabel_as, "origins", NULL, "origin whose labels and packaging relabelled goods are given"),
    DBL(cb_sc_middlemen, cost_share, 0, 10, "0", "share", "a middleman's own cost per unit beyond the hub price (procurement, storage, its risk), as a share of the hub price: its reservation price, below which it never sells"),
    DBL(cb_sc_middlemen, bulk_power, 0, 0.95, "0", "share", "most of the margin a trader wins from a consignment's bulk (a volume discount); 0 switches bulk bargaining off"),
    DBL(cb_sc_middlemen, bulk_half, 0.001, BIG, "10", "bulk units", "consignment bulk at which the trader wins half of bulk_power"),
    DBL(cb_sc_middlemen, repeat_power, 0, 0.95, "0", "share", "most of the margin a trader wins from repeat deals with the same middleman (trust); 0 switches it off"),
    DBL(cb_sc_middlemen, repeat_half_deals, 0.001, BIG, "5", "deals", "past deals with the middleman at which the trader wins half of repeat_power"),
};

static const cb_field f_market[] = {
    DBL(cb_sc_market_rules, markup_normal, 0, 100, NULL, "share", "traders' markup over landed cost when orders wait as long as usual"),
    DBL(cb_sc_market_rules, scarcity_elasticity, 0, 10, NULL, "ratio", "how strongly the markup follows scarcity (open orders per month of deliveries, against its usual level)"),
    DBL(cb_sc_market_rules, markup_min, -0.99, 100, NULL, "share", "lowest markup"),
    DBL(cb_sc_market_rules, markup_max, 0, 100, NULL, "share", "highest markup"),
    DBL(cb_sc_market_rules, backlog_memory_weeks, 1, 10000, NULL, "weeks", "half-life of traders' sense of the usual backlog"),
    DBL(cb_sc_market_rules, cost_smoothing, 0, 1, NULL, "weight", "weight of each delivery's landed cost in the cost index"),
};

static const cb_field f_sanctions[] = {
    DATE(cb_sc_sanction, date, NULL, "when it takes effect (may be before the run: a measure already in force)"),
    DATE(cb_sc_sanction, end, "9999-12-31", "last day in force (default: never lifted)"),
    REF(cb_sc_sanction, by, "authorities", NULL, "the state or body imposing it: where its goods list binds is that authority's enforced_by"),
    ENUM(cb_sc_sanction, action, action_names, "impose", "impose (put the goods on the authority's list) or ease (take them off)"),
    REFS(cb_sc_sanction, origins, "origins", "[]", "goods list: origins whose goods it covers (empty: no goods)"),
    REFS(cb_sc_sanction, categories, "categories", "[]", "goods list: categories covered, of those origins (empty: every category)"),
    REFS(cb_sc_sanction, inspected_at, "checkpoints", "[]", "inspection regime: checkpoints whose inspections it steps up while in force"),
    DBL(cb_sc_sanction, inspect_factor, 0, 100, "1", "ratio", "multiplier on inspection chance at inspected_at"),
    DBL(cb_sc_sanction, monitor_factor, 0, 100, "1", "ratio", "multiplier on the chance a bribe is found out at inspected_at"),
    REFS(cb_sc_sanction, income_sources, "income_sources", "[]", "income effect: sources of buyers' hard currency it cuts"),
    DBL(cb_sc_sanction, income_lost, 0, 1, "0", "share", "share of those sources' income lost while it is in force"),
};

static const cb_field f_crackdowns[] = {
    DATE(cb_sc_crackdown, start, NULL, "first day"),
    DATE(cb_sc_crackdown, end, NULL, "last day"),
    REFS(cb_sc_crackdown, checkpoints, "checkpoints", NULL, "checkpoints affected"),
    DBL(cb_sc_crackdown, inspect_factor, 0, 100, "1", "ratio", "multiplier on inspection chance and possession checks"),
    DBL(cb_sc_crackdown, monitor_factor, 0, 100, "1", "ratio", "multiplier on the chance a bribe is found out (checkpoints' monitoring)"),
    DBL(cb_sc_crackdown, confiscate_factor, 0, 100, "1", "ratio", "multiplier on the chance the formal penalty is confiscation"),
};

static const cb_field f_campaigns[] = {
    DATE(cb_sc_campaign, start, NULL, "first day"),
    DATE(cb_sc_campaign, end, NULL, "last day"),
    DBL(cb_sc_campaign, strength, 0, 100, "1", "ratio", "multiplier on buyers.campaign_weight"),
};

static const cb_field f_closures[] = {
    DATE(cb_sc_closure, start, NULL, "first day"),
    DATE(cb_sc_closure, end, NULL, "last day"),
    REF(cb_sc_closure, crossing, "crossings", NULL, "crossing affected"),
    FLAGS(cb_sc_closure, channels, channel_names, NULL, "channels stopped there"),
};

static const cb_field f_income_shocks[] = {
    DATE(cb_sc_income_shock, date, NULL, "when incomes change"),
    REFS(cb_sc_income_shock, sources, "income_sources", "[]", "income sources hit (empty: every buyer's whole income)"),
    DBL(cb_sc_income_shock, factor, -1, 10, NULL, "share", "share of the targeted income lost (negative: gained)"),
};

#define SINGLE(sname, T, member, fields, req, doc) \
  {sname, doc, fields, N(fields), offsetof(cb_scenario, member), 0, req, sizeof(T), 0, 0, 0, 0}
#define COLL(sname, T, member, count, fields, minn, doc)                                          \
  {sname, doc, fields, N(fields), offsetof(cb_scenario, member), 1, minn > 0, sizeof(T),          \
   CB_MAX_ENTRIES, minn, offsetof(cb_scenario, count), offsetof(T, name)}

static const cb_section sections[] = {
    SINGLE("simulation", cb_sc_simulation, sim, f_simulation, 1, "Period, seed, recording and exogenous series."),
    SINGLE("population", cb_sc_population, pop, f_population, 1, "Numbers of agents."),
    COLL("origins", cb_sc_origin, origins, n_origins, f_origins, 1, "Where goods are made."),
    COLL("categories", cb_sc_category, categories, n_categories, f_categories, 1, "Kinds of products; with origins they form the catalogue."),
    COLL("hubs", cb_sc_hub, hubs, n_hubs, f_hubs, 1, "Chinese cities where middlemen procure goods."),
    COLL("checkpoint_kinds", cb_sc_checkpoint_kind, checkpoint_kinds, n_checkpoint_kinds, f_checkpoint_kinds, 1, "Kinds of checkpoint and their rules: what they inspect and which channels and labels are an offence there."),
    COLL("authorities", cb_sc_authority, authorities, n_authorities, f_authorities, 0, "States and bodies that impose sanctions, and the kinds of checkpoint that apply their goods lists."),
    COLL("checkpoints", cb_sc_checkpoint, checkpoints, n_checkpoints, f_checkpoints, 1, "Places where officials inspect consignments or buyers."),
    COLL("crossings", cb_sc_crossing, crossings, n_crossings, f_crossings, 1, "Border crossings into North Korea."),
    COLL("markets", cb_sc_market, markets, n_markets, f_markets, 1, "Destination markets where buyers live."),
    COLL("supply_legs", cb_sc_leg, supply_legs, n_supply_legs, f_supply_legs, 1, "Transport from a hub to a crossing."),
    COLL("delivery_legs", cb_sc_leg, delivery_legs, n_delivery_legs, f_delivery_legs, 1, "Transport from a crossing to a market."),
    COLL("trader_types", cb_sc_trader_type, trader_types, n_trader_types, f_trader_types, 1, "Kinds of traders."),
    COLL("income_sources", cb_sc_income_source, income_sources, n_income_sources, f_income_sources, 0, "Sources of buyers' hard currency that sanctions and shocks can cut."),
    SINGLE("buyers", cb_sc_buyers, buyers, f_buyers, 1, "Buyers' incomes and preferences."),
    SINGLE("traders", cb_sc_traders, traders, f_traders, 1, "Traders' learning, choice and entry."),
    SINGLE("middlemen", cb_sc_middlemen, middlemen, f_middlemen, 1, "Middlemen's terms."),
    SINGLE("market", cb_sc_market_rules, market, f_market, 1, "Price formation."),
    COLL("sanctions", cb_sc_sanction, sanctions, n_sanctions, f_sanctions, 0, "Dated measures: goods lists imposed or eased by an authority, inspection regimes, cuts in buyers' hard currency."),
    COLL("crackdowns", cb_sc_crackdown, crackdowns, n_crackdowns, f_crackdowns, 0, "Periods of stricter enforcement (national events, sanctions enforcement)."),
    COLL("campaigns", cb_sc_campaign, campaigns, n_campaigns, f_campaigns, 0, "Buy-domestic campaigns."),
    COLL("closures", cb_sc_closure, closures, n_closures, f_closures, 0, "Channels stopped at a crossing for a period."),
    COLL("income_shocks", cb_sc_income_shock, income_shocks, n_income_shocks, f_income_shocks, 0, "Dated changes of buyers' hard-currency income."),
};

static const cb_schema scenario_schema = {sections, N(sections)};

/* Accessors rather than exported data: the library exports functions only. */
const cb_schema *cb_scenario_schema(void) { return &scenario_schema; }
const char *const *cb_channel_names(void) { return channel_names; }

/* ---- reading, with bases ---- */

static int read_depth(cb_ytree *t, const char *path, int depth, cb_err *e) {
  if (cb_ytree_load_file(t, path, e)) return e->code;
  const cb_ynode *b = cb_ytree_get(t, "base");
  if (!b) return CB_OK;
  if (b->kind != CB_Y_SCALAR || !b->value[0])
    return cb_err_set(e, CB_ESCHEMA, "%s:%d:%d: base: expected the path of the scenario this one modifies, e.g. base: baseline.yaml", b->src, b->line, b->col);
  if (depth >= 8)
    return cb_err_set(e, CB_ESCHEMA, "%s:%d:%d: base: more than 8 levels of bases (is there a cycle?); point base at a scenario without one", b->src, b->line, b->col);
  char dir[CB_STR_MAX * 4], full[CB_STR_MAX * 5];
  cb_dirname(path, dir, sizeof dir);
  if (b->value[0] == '/') snprintf(full, sizeof full, "%s", b->value);
  else snprintf(full, sizeof full, "%s/%s", dir, b->value);
  cb_ytree base;
  memset(&base, 0, sizeof base);
  if (read_depth(&base, full, depth + 1, e)) {
    cb_err_prefix(e, "%s:%d:%d: in base: ", b->src, b->line, b->col);
    cb_ytree_free(&base);
    return e->code;
  }
  cb_ytree_remove(t, "base");
  cb_ytree over = *t;
  size_t nbase = base.nsrcs;
  *t = base;
  if (cb_ytree_merge(t, &over, e)) return e->code;
  /* Keep this file's own name first (messages fall back to srcs[0]); bases follow. */
  for (size_t k = 0; k < nbase; k++) {
    char *first = t->srcs[0];
    memmove(t->srcs, t->srcs + 1, (t->nsrcs - 1) * sizeof *t->srcs);
    t->srcs[t->nsrcs - 1] = first;
  }
  return CB_OK;
}

int cb_scenario_read(cb_ytree *t, const char *path, cb_err *e) {
  memset(t, 0, sizeof *t);
  return read_depth(t, path, 0, e);
}

/* ---- rules spanning several fields ---- */

static int fail_at(cb_err *e, const cb_ytree *t, const char *path, const char *fmt, const char *detail) {
  const cb_ynode *n = cb_ytree_get(t, path);
  char where[512];
  if (n) snprintf(where, sizeof where, "%s:%d:%d: ", n->src, n->line, n->col);
  else snprintf(where, sizeof where, "%s: ", t->nsrcs ? t->srcs[0] : "scenario");
  return cb_err_set(e, CB_ESCHEMA, "%s%s: %s", where, path, detail ? detail : fmt);
}

/* An event may lie partly or wholly after simulation.end: it happens as far as the run goes, so a
 * run stopped early is the first part of the longer run of the same scenario. Before the start it
 * could never happen at all, which is a mistake. */
static int check_period(const cb_scenario *sc, const cb_ytree *t, const char *sect, const char *name,
                        const char *field, int32_t day, cb_err *e) {
  if (day >= sc->sim.start) return CB_OK;
  char path[256], msg[256], a[11], d[11];
  cb_format_date(day, d);
  cb_format_date(sc->sim.start, a);
  snprintf(path, sizeof path, "%s.%s.%s", sect, name, field);
  snprintf(msg, sizeof msg, "%s is before the simulated period, which starts on %s; move the event inside it or remove it", d, a);
  return fail_at(e, t, path, NULL, msg);
}

static int check_span(const cb_scenario *sc, const cb_ytree *t, const char *sect, const char *name,
                      int32_t start, int32_t end, cb_err *e) {
  if (check_period(sc, t, sect, name, "start", start, e)) return e->code;
  if (check_period(sc, t, sect, name, "end", end, e)) return e->code;
  if (end >= start) return CB_OK;
  char path[256];
  snprintf(path, sizeof path, "%s.%s.end", sect, name);
  return fail_at(e, t, path, NULL, "ends before it starts; set end on or after start");
}

static int check_sum(const cb_ytree *t, const char *sect, const char *field, double sum, cb_err *e) {
  if (fabs(sum - 1.0) < 1e-6) return CB_OK;
  char msg[256];
  snprintf(msg, sizeof msg, "the %s of all %s sum to %g; they must sum to 1", field, sect, sum);
  return fail_at(e, t, sect, NULL, msg);
}

static int check_shares(const cb_scenario *sc, const cb_ytree *t, cb_err *e) {
  double s = 0;
  for (int i = 0; i < sc->n_hubs; i++) s += sc->hubs[i].middlemen_share;
  if (check_sum(t, "hubs", "middlemen_share", s, e)) return e->code;
  s = 0;
  for (int i = 0; i < sc->n_markets; i++) s += sc->markets[i].buyer_share;
  if (check_sum(t, "markets", "buyer_share", s, e)) return e->code;
  s = 0;
  for (int i = 0; i < sc->n_trader_types; i++) s += sc->trader_types[i].share;
  if (check_sum(t, "trader_types", "share", s, e)) return e->code;
  s = 0;
  for (int i = 0; i < sc->n_checkpoints; i++) s += sc->checkpoints[i].officials_share;
  if (check_sum(t, "checkpoints", "officials_share", s, e)) return e->code;
  if (sc->buyers.rank2_share + sc->buyers.rank3_share > 1.0 + 1e-9)
    return fail_at(e, t, "buyers.rank3_share", NULL, "rank2_share + rank3_share exceed 1; lower one of them");
  if (sc->buyers.child_age_min > sc->buyers.child_age_max)
    return fail_at(e, t, "buyers.child_age_max", NULL, "child_age_max is below child_age_min; raise it or lower child_age_min");
  if (sc->buyers.school_age_from > sc->buyers.school_age_to)
    return fail_at(e, t, "buyers.school_age_to", NULL, "school_age_to is below school_age_from; raise it or lower school_age_from");
  if (sc->market.markup_normal < sc->market.markup_min || sc->market.markup_normal > sc->market.markup_max)
    return fail_at(e, t, "market.markup_normal", NULL, "lies outside market.markup_min to market.markup_max; keep it between them");
  if (sc->market.markup_min > sc->market.markup_max)
    return fail_at(e, t, "market.markup_min", NULL, "is above market.markup_max; make min <= max");
  return CB_OK;
}

static int holdings_team(const cb_scenario *sc, int checkpoint) {
  return sc->checkpoint_kinds[sc->checkpoints[checkpoint].kind].checks == CB_CHECKS_HOLDINGS;
}

/* Possession teams check buyers in markets, consignment checkpoints stand on routes; a kind that
 * checks holdings has no consignment rules, and an offence must be in a channel the kind sees. */
static int check_kinds(const cb_scenario *sc, const cb_ytree *t, cb_err *e) {
  char path[256], msg[256];
  for (int k = 0; k < sc->n_checkpoint_kinds; k++) {
    const cb_sc_checkpoint_kind *ck = &sc->checkpoint_kinds[k];
    uint32_t offences = ck->any_label | ck->foreign_label | ck->barred_label | ck->listed_label;
    snprintf(path, sizeof path, "checkpoint_kinds.%s", ck->name);
    if (ck->checks == CB_CHECKS_HOLDINGS && (ck->sees | offences))
      return fail_at(e, t, path, NULL, "checks holdings (buyers' possessions), so it sees no channels; drop sees, any_label, foreign_label, barred_label and listed_label, or make it check consignments");
    if (offences & ~ck->sees)
      return fail_at(e, t, path, NULL, "names an offence in a channel it does not see; add that channel to sees or drop it from the offences");
  }
  for (int a = 0; a < sc->n_authorities; a++)
    for (int j = 0; j < sc->authorities[a].enforced_by.n; j++) {
      const cb_sc_checkpoint_kind *ck = &sc->checkpoint_kinds[sc->authorities[a].enforced_by.idx[j]];
      if (ck->listed_label) continue;
      snprintf(path, sizeof path, "authorities.%s.enforced_by", sc->authorities[a].name);
      snprintf(msg, sizeof msg, "'%s' counts listed goods in no channel, so it could not apply this authority's lists; give that kind a listed_label or drop it here", ck->name);
      return fail_at(e, t, path, NULL, msg);
    }
  for (int m = 0; m < sc->n_markets; m++)
    for (int j = 0; j < sc->markets[m].possession_checkpoints.n; j++) {
      int c = sc->markets[m].possession_checkpoints.idx[j];
      if (holdings_team(sc, c)) continue;
      snprintf(path, sizeof path, "markets.%s.possession_checkpoints", sc->markets[m].name);
      snprintf(msg, sizeof msg, "'%s' is a %s checkpoint, which checks consignments; list only checkpoints whose kind checks holdings",
               sc->checkpoints[c].name, sc->checkpoint_kinds[sc->checkpoints[c].kind].name);
      return fail_at(e, t, path, NULL, msg);
    }
  for (int c = 0; c < sc->n_crossings; c++) {
    const cb_reflist *lists[2] = {&sc->crossings[c].official_checkpoints, &sc->crossings[c].smuggling_checkpoints};
    for (int l = 0; l < 2; l++)
      for (int j = 0; j < lists[l]->n; j++) {
        if (!holdings_team(sc, lists[l]->idx[j])) continue;
        snprintf(path, sizeof path, "crossings.%s.%s", sc->crossings[c].name, l ? "smuggling_checkpoints" : "official_checkpoints");
        snprintf(msg, sizeof msg, "'%s' is a possession team; it checks buyers in markets, not consignments at crossings", sc->checkpoints[lists[l]->idx[j]].name);
        return fail_at(e, t, path, NULL, msg);
      }
  }
  return CB_OK;
}

/* Every market must be reachable from some hub, or its buyers could never be supplied. */
static int check_routes(const cb_scenario *sc, const cb_ytree *t, cb_err *e) {
  for (int m = 0; m < sc->n_markets; m++) {
    int ok = 0;
    for (int d = 0; d < sc->n_delivery_legs && !ok; d++) {
      if (sc->delivery_legs[d].to != m) continue;
      for (int s = 0; s < sc->n_supply_legs && !ok; s++) ok = sc->supply_legs[s].to == sc->delivery_legs[d].from;
    }
    if (!ok) {
      char path[256];
      snprintf(path, sizeof path, "markets.%s", sc->markets[m].name);
      return fail_at(e, t, path, NULL, "no route reaches this market; add a supply_leg to a crossing and a delivery_leg from it to this market");
    }
  }
  return CB_OK;
}

/* The route network is a hub -> crossing -> market graph by construction (a leg's ends must name
 * entries of those collections), so it cannot have cycles; what it can have is parts that lead
 * nowhere, or two legs between the same places, which would make a route ambiguous. */
static int leg_fail(cb_err *e, const cb_ytree *t, const char *sect, const char *name, const char *msg) {
  char path[256];
  snprintf(path, sizeof path, "%s.%s", sect, name);
  return fail_at(e, t, path, NULL, msg);
}

static int check_duplicate_legs(const cb_sc_leg *legs, int n, const char *sect, const cb_ytree *t, cb_err *e) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < i; j++) {
      if (legs[i].from != legs[j].from || legs[i].to != legs[j].to) continue;
      char msg[256];
      snprintf(msg, sizeof msg, "joins the same places as %s.%s; keep one leg per pair of places", sect, legs[j].name);
      return leg_fail(e, t, sect, legs[i].name, msg);
    }
  return CB_OK;
}

static int check_network(const cb_scenario *sc, const cb_ytree *t, cb_err *e) {
  if (check_duplicate_legs(sc->supply_legs, sc->n_supply_legs, "supply_legs", t, e) ||
      check_duplicate_legs(sc->delivery_legs, sc->n_delivery_legs, "delivery_legs", t, e))
    return e->code;
  for (int h = 0; h < sc->n_hubs; h++) {
    int out = 0;
    for (int s = 0; s < sc->n_supply_legs; s++) out |= sc->supply_legs[s].from == h;
    if (!out)
      return leg_fail(e, t, "hubs", sc->hubs[h].name,
                      "no supply leg leaves this hub, so its middlemen could never ship; add a supply leg from it or remove it");
  }
  for (int x = 0; x < sc->n_crossings; x++) {
    int in = 0, out = 0;
    for (int s = 0; s < sc->n_supply_legs; s++) in |= sc->supply_legs[s].to == x;
    for (int d = 0; d < sc->n_delivery_legs; d++) out |= sc->delivery_legs[d].from == x;
    if (!in) return leg_fail(e, t, "crossings", sc->crossings[x].name, "no supply leg reaches this crossing; add one from a hub or remove the crossing");
    if (!out) return leg_fail(e, t, "crossings", sc->crossings[x].name, "no delivery leg leaves this crossing; add one to a market or remove the crossing");
  }
  return CB_OK;
}

/* A measure may predate the run (it is then in force from the start) but must be in force some
 * day of it; an income effect must say whose income it cuts. */
static int check_sanction(const cb_scenario *sc, const cb_ytree *t, const cb_sc_sanction *s, cb_err *e) {
  char path[256];
  if (check_period(sc, t, "sanctions", s->name, "end", s->end, e)) return e->code;
  snprintf(path, sizeof path, "sanctions.%s.end", s->name);
  if (s->end < s->date) return fail_at(e, t, path, NULL, "ends before it takes effect; set end on or after date");
  snprintf(path, sizeof path, "sanctions.%s.income_lost", s->name);
  if (s->income_lost > 0 && s->income_sources.n == 0)
    return fail_at(e, t, path, NULL, "is set but no income source is named; list the income_sources it cuts");
  snprintf(path, sizeof path, "sanctions.%s.categories", s->name);
  if (s->categories.n && !s->origins.n)
    return fail_at(e, t, path, NULL, "lists categories but no origins, so it covers no goods; name the origins whose goods it covers");
  return CB_OK;
}

static int check_events(const cb_scenario *sc, const cb_ytree *t, cb_err *e) {
  if (sc->sim.end < sc->sim.start)
    return fail_at(e, t, "simulation.end", NULL, "is before simulation.start; set end after start");
  for (int i = 0; i < sc->n_sanctions; i++)
    if (check_sanction(sc, t, &sc->sanctions[i], e)) return e->code;
  if (sc->n_income_sources > CB_MAX_SOURCES) {
    char msg[128];
    snprintf(msg, sizeof msg, "has %d entries; at most %d income sources are allowed, merge some", sc->n_income_sources, CB_MAX_SOURCES);
    return fail_at(e, t, "income_sources", NULL, msg);
  }
  for (int i = 0; i < sc->n_income_shocks; i++)
    if (check_period(sc, t, "income_shocks", sc->income_shocks[i].name, "date", sc->income_shocks[i].date, e)) return e->code;
  for (int i = 0; i < sc->n_crackdowns; i++)
    if (check_span(sc, t, "crackdowns", sc->crackdowns[i].name, sc->crackdowns[i].start, sc->crackdowns[i].end, e)) return e->code;
  for (int i = 0; i < sc->n_campaigns; i++)
    if (check_span(sc, t, "campaigns", sc->campaigns[i].name, sc->campaigns[i].start, sc->campaigns[i].end, e)) return e->code;
  for (int i = 0; i < sc->n_closures; i++)
    if (check_span(sc, t, "closures", sc->closures[i].name, sc->closures[i].start, sc->closures[i].end, e)) return e->code;
  return CB_OK;
}

/* Entry names appear in metrics.csv and in --set paths: letters, digits, '_' and '-' only.
 * Returns the first character outside that set, or NULL. */
static const char *bad_name_char(const char *name) {
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-')) return c;
  return NULL;
}

static int fail_name(const cb_ytree *t, const char *path, const char *name, char c, const char *where, cb_err *e) {
  char msg[256];
  snprintf(msg, sizeof msg, "the name '%s' has a '%c'; use only letters, digits, '_' and '-' (names appear in %s)", name, c, where);
  return fail_at(e, t, path, NULL, msg);
}

static int check_names(const cb_scenario *sc, const cb_ytree *t, cb_err *e) {
  char path[256];
  for (size_t i = 0; i < scenario_schema.nsections; i++) {
    const cb_section *s = &scenario_schema.sections[i];
    if (!s->collection) continue;
    int n = *(const int *)((const char *)sc + s->count_offset);
    for (int k = 0; k < n; k++) {
      const char *name = (const char *)sc + s->offset + (size_t)k * s->entry_size + s->name_offset;
      const char *c = bad_name_char(name);
      if (!c) continue;
      snprintf(path, sizeof path, "%s.%s", s->name, name);
      return fail_name(t, path, name, *c, "metrics.csv and --set paths", e);
    }
  }
  /* A product line and a price tier are names too: tiers key the demand-by-tier summary. */
  for (int k = 0; k < sc->n_categories; k++) {
    const cb_sc_category *c = &sc->categories[k];
    const char *bad = bad_name_char(c->line);
    if (bad) {
      snprintf(path, sizeof path, "categories.%s.line", c->name);
      return fail_name(t, path, c->line, *bad, "summaries", e);
    }
    bad = bad_name_char(c->tier);
    if (bad || !c->tier[0]) {
      snprintf(path, sizeof path, "categories.%s.tier", c->name);
      if (!bad) return fail_at(e, t, path, NULL, "the tier is empty; name it (for instance standard or luxury)");
      return fail_name(t, path, c->tier, *bad, "summaries", e);
    }
  }
  return CB_OK;
}

int cb_scenario_bind(cb_scenario *sc, const cb_ytree *t, cb_err *e) {
  memset(sc, 0, sizeof *sc);
  if (cb_schema_bind(&scenario_schema, t, sc, e)) return e->code;
  if (check_names(sc, t, e)) return e->code;
  if (check_events(sc, t, e) || check_shares(sc, t, e) || check_kinds(sc, t, e) || check_network(sc, t, e) || check_routes(sc, t, e))
    return e->code;
  return CB_OK;
}
