/* contraband — agent-based simulator of illicit cross-border trade under sanctions and corrupt
 * enforcement. This is the whole public interface of libcontraband: one opaque simulation object,
 * passed first to every call; every call returns a CB_* code and leaves a message in the object.
 * The library never prints, never exits and keeps no global mutable state. */
#ifndef CONTRABAND_H
#define CONTRABAND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CB_API __attribute__((visibility("default")))
#else
#define CB_API
#endif

/* Result codes. */
enum {
  CB_OK = 0,
  CB_DONE = 1,      /* cb_step: the simulated period is over */
  CB_EIO = 2,       /* a file could not be read or written */
  CB_EPARSE = 3,    /* malformed input (YAML, CSV, an override) */
  CB_ESCHEMA = 4,   /* unknown key, wrong type, value out of range, bad reference */
  CB_ENOMEM = 5,    /* an allocation failed */
  CB_ELEDGER = 6,   /* the accounting check (--check) found goods or money unaccounted for */
  CB_EMISUSE = 7    /* calls made in the wrong order or with invalid arguments */
};

typedef struct cb_sim cb_sim;

/* Totals over the whole run so far, for the CLI's summary table. Money in US dollars. */
typedef struct cb_totals {
  int32_t days_simulated;
  double ordered_units, procured_units, delivered_units, seized_units, relabeled_units;
  double in_transit_units, shelf_units;
  double inspections, bribes, fines, confiscations;
  double bribes_usd, fines_usd;
  double buyer_income_usd, buyer_spending_usd;
  int32_t active_traders;
  int64_t buyers, traders_max, middlemen, officials; /* agent counts, for per-agent figures */
  double wall_seconds;
} cb_totals;

CB_API const char *cb_version(void);

/* Life cycle: new -> read_scenario -> (set, set_seed, set_check)* -> init -> step/run -> write_outputs -> free. */
CB_API cb_sim *cb_new(void); /* NULL only if memory is exhausted */
CB_API void cb_free(cb_sim *S);

CB_API int cb_read_scenario(cb_sim *S, const char *path);
/* Override one scalar of the scenario: "section.key=value" or "collection.name.key=value". */
CB_API int cb_set(cb_sim *S, const char *assignment);
CB_API int cb_set_seed(cb_sim *S, uint64_t seed);
/* When on, the ledger of goods and money is verified after every simulated day. */
CB_API int cb_set_check(cb_sim *S, int on);
CB_API int cb_init(cb_sim *S);

CB_API int cb_step(cb_sim *S);  /* one day; CB_DONE after the last */
CB_API int cb_run(cb_sim *S);   /* until the end date; CB_OK on success */

/* Writes metrics.csv and summary.json into dir (created if missing); each file atomically. */
CB_API int cb_write_outputs(cb_sim *S, const char *dir);
CB_API int cb_get_totals(const cb_sim *S, cb_totals *out);

/* Border crossings and the share of foreign (South Korean, Japanese) electronics each carried over
 * the run so far; the share is -1 before any such delivery. */
CB_API int cb_crossing_count(const cb_sim *S);
CB_API const char *cb_crossing_name(const cb_sim *S, int i);
CB_API double cb_crossing_share(const cb_sim *S, int i);

CB_API int cb_errcode(const cb_sim *S);
CB_API const char *cb_errmsg(const cb_sim *S);

/* Writes the parameter reference (every scenario key, type, range, default, meaning) as Markdown. */
CB_API int cb_write_param_docs(cb_sim *S, const char *path);

#ifdef __cplusplus
}
#endif
#endif
