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
  CB_EMISUSE = 7,   /* calls made in the wrong order or with invalid arguments */
  CB_ENUMERIC = 8   /* the model produced a value that is not a finite number (NaN or infinity) */
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

/* s as a terminal may show it, for echoing paths and values from outside in messages: control
 * characters (C0, DEL, C1) and bytes that are not valid UTF-8 are written as \xNN, the rest as
 * it is; into buf (cap bytes, cut short if needed). Returns buf. Every message the library's
 * *_errmsg and cb_report_warning return is already in this form. */
CB_API const char *cb_printable(const char *s, char *buf, size_t cap);

/* Life cycle: new -> read_scenario -> (set, set_seed, set_check)* -> init -> step/run -> write_outputs -> free. */
CB_API cb_sim *cb_new(void); /* NULL only if memory is exhausted */
CB_API void cb_free(cb_sim *S);

CB_API int cb_read_scenario(cb_sim *S, const char *path);
/* Override one scalar of the scenario: "section.key=value" or "collection.name.key=value". */
CB_API int cb_set(cb_sim *S, const char *assignment);
CB_API int cb_set_seed(cb_sim *S, uint64_t seed);
/* The replicate number (0 unless set): part of every random draw's counter, so replicate i of an
 * ensemble with master seed s is exactly the single run with seed s and run i. */
CB_API int cb_set_run(cb_sim *S, uint32_t run);
/* Threads for the work of a day that can be shared (buyers' reviews); 1 by default. Outputs are
 * the same bit for bit for any number of threads. */
CB_API int cb_set_threads(cb_sim *S, int threads);
/* The most memory the run may use, in bytes; 0 (the default) means what the machine has available
 * when cb_init runs. cb_init estimates what the scenario needs before allocating anything large and
 * refuses (CB_ENOMEM, with the estimate and the limit in the message) if it is more. */
CB_API int cb_set_max_memory(cb_sim *S, uint64_t bytes);
/* cb_init's estimate of the memory the scenario needs, in bytes (0 before cb_init). */
CB_API double cb_memory_estimate(const cb_sim *S);
/* When on, the ledger of goods and money is verified after every simulated day. */
CB_API int cb_set_check(cb_sim *S, int on);
CB_API int cb_init(cb_sim *S);

CB_API int cb_step(cb_sim *S);  /* one day; CB_DONE after the last */
CB_API int cb_run(cb_sim *S);   /* until the end date; CB_OK on success */
/* Simulates the days before date (YYYY-MM-DD), so the next day to simulate is date. */
CB_API int cb_run_until(cb_sim *S, const char *date);

/* Snapshots: the whole state between two days, in a checksummed file written atomically.
 * Restoring into a simulation initialised from the same scenario continues the run bit for bit;
 * from another scenario with the same places, goods and population sizes (say, other sanctions),
 * it forks a counterfactual from the shared history: seed and replicate come from the snapshot.
 * Restore after cb_init and before the first cb_step. A truncated, corrupted or foreign file is
 * refused with a message naming it, and the simulation is left as cb_init made it. */
CB_API int cb_save_snapshot(cb_sim *S, const char *path);
CB_API int cb_restore_snapshot(cb_sim *S, const char *path);

/* Writes metrics.csv and summary.json into dir (created if missing), atomically: both are written
 * in full under temporary names before either replaces a previous file. */
CB_API int cb_write_outputs(cb_sim *S, const char *dir);
CB_API int cb_get_totals(const cb_sim *S, cb_totals *out);

/* One row of metrics.csv (docs/outputs.md); empty strings where a dimension does not apply.
 * `order` is the row's series position in the metrics layout: rows of one period sorted by it
 * come in file order, and it is the same for every run of a scenario. */
typedef struct cb_metric_row {
  const char *date, *metric, *place, *channel, *origin, *category;
  double value;
  uint32_t order;
} cb_metric_row;
/* Calls fn(ctx, row) for every row metrics.csv would hold, in file order; stops at the first
 * non-zero return of fn and returns it (CB_ENOMEM if memory ran out). The strings live until
 * fn returns. */
CB_API int cb_metric_rows(cb_sim *S, int (*fn)(void *ctx, const cb_metric_row *row), void *ctx);
/* The run's totals as named figures, in summary.json's order: fn(ctx, name, value) for each. */
CB_API int cb_total_figures(const cb_sim *S, void (*fn)(void *ctx, const char *name, double value), void *ctx);
/* The scenario file's SHA-256 (hex) and the seed in use (valid after cb_read_scenario / cb_init). */
CB_API const char *cb_scenario_sha256(const cb_sim *S);
CB_API uint64_t cb_seed(const cb_sim *S);

/* Border crossings and the share of foreign (South Korean, Japanese) electronics each carried over
 * the run so far; the share is -1 before any such delivery. */
CB_API int cb_crossing_count(const cb_sim *S);
CB_API const char *cb_crossing_name(const cb_sim *S, int i);
CB_API double cb_crossing_share(const cb_sim *S, int i);
/* Price tiers (categories.<k>.tier, each once, in scenario order) and the units ordered in each
 * over the recording periods closed so far (-1 for an i out of range). */
CB_API int cb_tier_count(const cb_sim *S);
CB_API const char *cb_tier_name(const cb_sim *S, int i);
CB_API double cb_tier_ordered_units(const cb_sim *S, int i);

CB_API int cb_errcode(const cb_sim *S);
CB_API const char *cb_errmsg(const cb_sim *S);

/* ---- experiments: many runs of one scenario in a results store (SQLite; docs/outputs.md) ---- */

typedef struct cb_experiment cb_experiment;

/* Progress of an experiment: runs stored (those found already stored included) out of total,
 * and the runs this call stored with the seconds since it started. */
typedef struct cb_progress {
  uint32_t done, total, new_done;
  double elapsed_seconds;
} cb_progress;
typedef void (*cb_progress_fn)(void *ctx, const cb_progress *p);

CB_API cb_experiment *cb_experiment_new(void); /* NULL only if memory is exhausted */
CB_API void cb_experiment_free(cb_experiment *X);
CB_API int cb_experiment_scenario(cb_experiment *X, const char *path);
CB_API int cb_experiment_set(cb_experiment *X, const char *assignment); /* as cb_set, for every run */
CB_API int cb_experiment_seed(cb_experiment *X, uint64_t master_seed);  /* default: the scenario's */
CB_API int cb_experiment_check(cb_experiment *X, int on);               /* ledger check in every run */
CB_API int cb_experiment_threads(cb_experiment *X, int threads);        /* cb_set_threads for every run */
/* The memory all of an experiment's runs in progress may use together: each of --jobs J runs gets
 * 1/J of it (cb_set_max_memory); 0 means what the machine has available. */
CB_API int cb_experiment_max_memory(cb_experiment *X, uint64_t bytes);
CB_API int cb_experiment_progress(cb_experiment *X, cb_progress_fn fn, void *ctx); /* called from this thread */
/* Runs the replicates 0..runs-1 (replicate i: the master seed and run i, see cb_set_run) that the
 * store at db does not hold yet, `jobs` at a time on as many threads, storing each one as it
 * finishes in a transaction of its own. The scenario and overrides are checked before the store
 * is touched. Killed at any moment and called again, it runs exactly the runs still missing. */
CB_API int cb_experiment_ensemble(cb_experiment *X, const char *db, uint32_t runs, int jobs);
/* Writes every metrics row in the store at db as CSV (experiment,run, then metrics.csv's columns)
 * to the file at path, atomically, or to standard output if path is "-". When runs carry
 * parameters (sweeps), point,replicate and one column per parameter key follow experiment,run. */
CB_API int cb_experiment_export_csv(cb_experiment *X, const char *db, const char *path);
/* Writes one CSV row per stored run instead, as cb_experiment_export_csv writes: experiment,kind,
 * run,point,replicate,seed, the parameter columns (if any), then one column per total of the
 * summaries table, sorted by name (docs/outputs.md, section 3.4). */
CB_API int cb_experiment_export_summaries_csv(cb_experiment *X, const char *db, const char *path);
/* The effect of scenario B against A on one key figure over n paired replicates: the means of A
 * and B, the mean of the paired differences B - A, and its 95% confidence interval (Student's t
 * with n - 1 degrees of freedom; both bounds equal the effect when n < 2). */
typedef struct cb_effect {
  const char *metric, *key;  /* e.g. "delivered_units", "crossing=hyesan" */
  uint32_t n;
  double mean_a, mean_b, effect, ci_low, ci_high;
} cb_effect;
/* Runs replicates 0..runs-1 of the experiment's scenario (A) and of scenario_b (B) with the same
 * seeds and overrides, so that paired runs share their random numbers wherever the two worlds
 * agree (common random numbers), into the store at db (resumable as an ensemble), then computes
 * the effects of B against A on the key figures and writes them to out_dir/effects.csv and
 * out_dir/effects.json. With a fork_day (YYYY-MM-DD; NULL for none), each replicate of B
 * continues from its replicate of A's state on that day: a counterfactual from a shared history.
 * The effects stay readable with cb_experiment_effect until the next call. */
CB_API int cb_experiment_compare(cb_experiment *X, const char *scenario_b, const char *fork_day, const char *db,
                                 uint32_t runs, int jobs, const char *out_dir);
/* A parameter to sweep or to vary in a sensitivity design, "key.path=LOW:HIGH" (both bounds
 * written as integers: an integer parameter, its values rounded; "LOW:HIGH:log": a log scale);
 * repeatable, one dimension each. */
CB_API int cb_experiment_vary(cb_experiment *X, const char *range);
/* Runs replicates 0..runs-1 at every point of a design over the ranges given with
 * cb_experiment_vary: "grid" (samples levels per parameter, ends included), "lhs" (a Latin
 * hypercube of samples points, drawn from the master seed) or "sobol" (the first samples points of
 * GSL's Sobol sequence). Every run is stored with its point's values; the same replicate uses the
 * same seeds at every point. Resumable as an ensemble. */
CB_API int cb_experiment_sweep(cb_experiment *X, const char *db, const char *design, uint32_t samples, uint32_t runs,
                               int jobs);
/* A calibration prior, "key.path=LOW:HIGH" (uniform) or "key.path=LOW:HIGH:log" (log-uniform);
 * kept with the ranges of cb_experiment_vary. */
CB_API int cb_experiment_prior(cb_experiment *X, const char *range);
/* ABC-SMC calibration of the priors to the targets file (docs/calibration.md): `generations`
 * generations of `particles` particles, each simulated runs_per_particle times (every simulation
 * with a replicate number of its own) with `jobs` runs at a time; observed, if not NULL, is a run
 * folder that targets marked "observed: run" take their values from. Every simulation is stored in
 * db (kind "calibration"); out_dir receives posterior.csv and posterior.json, written together.
 * Killed and called again with the same arguments, it runs only the simulations not yet stored and
 * ends with the same posterior; more generations continue a finished calibration. */
CB_API int cb_experiment_calibrate(cb_experiment *X, const char *targets, const char *observed, const char *db, const char *out_dir,
                                   uint32_t particles, uint32_t generations, uint32_t runs_per_particle, int jobs);
/* Global sensitivity of the key figures compare reports (and of each one-number target of the
 * targets file, if not NULL) to the ranges given with cb_experiment_vary. method "sobol": Saltelli's
 * design of samples x (d + 2) points, first-order (S1) and total (ST) indices; "morris": samples
 * trajectories of d + 1 points (Campolongo's selection), mu, mu_star and sigma. Every point runs
 * replicates 0..runs-1 with the same seeds at every point, averaged per point. Every run is stored
 * in db (kind "sensitivity"; resumable as an ensemble); out_dir receives indices.csv and
 * indices.json with bootstrap 95% intervals, written together. */
CB_API int cb_experiment_sensitivity(cb_experiment *X, const char *method, uint32_t samples, uint32_t runs, const char *targets,
                                     const char *db, const char *out_dir, int jobs);
CB_API int cb_experiment_effect_count(const cb_experiment *X);
CB_API const cb_effect *cb_experiment_effect(const cb_experiment *X, int i);
CB_API int cb_experiment_errcode(const cb_experiment *X);
CB_API const char *cb_experiment_errmsg(const cb_experiment *X);

/* ---- MPI: the experiment calls above across processes ---- */

/* Joins the MPI job this process was started in by mpirun (Open MPI's environment says so), and
 * does nothing otherwise. Under MPI, every rank makes the same experiment calls: rank 0 opens the
 * store and hands out runs as ranks ask for them, the others run them and send the results back;
 * what is stored is the same for any number of ranks. Only rank 0 should print. */
CB_API int cb_mpi_init(int *argc, char ***argv);
CB_API int cb_mpi_rank(void);   /* 0 outside MPI */
CB_API int cb_mpi_size(void);   /* 1 outside MPI */
CB_API void cb_mpi_finalize(void);

/* ---- reports: charts and figures of a run's outputs or a results store (docs/outputs.md) ---- */

typedef struct cb_report cb_report;

CB_API cb_report *cb_report_new(void); /* NULL only if memory is exhausted */
CB_API void cb_report_free(cb_report *R);
/* Reads results: a run's output folder (metrics.csv and summary.json, which must belong together)
 * or a results store (checked as every command checks it). */
CB_API int cb_report_open(cb_report *R, const char *results);
/* Chooses an experiment of a store by its id (experiments.id): once for one experiment, twice for
 * a comparison of the second (B) against the first (A). Without a choice, a store holding one
 * experiment shows it, and one holding two shows the comparison of the later (or the fork) against
 * the earlier; more need a choice. */
CB_API int cb_report_experiment(cb_report *R, int64_t id);
/* The scenario file to read the parameters and policy events from, instead of the path recorded
 * with the results (which is relative to where the run was started); its SHA-256 must match. */
CB_API int cb_report_scenario(cb_report *R, const char *path);
/* Writes one self-contained HTML file (charts inline, no network needed), atomically. */
CB_API int cb_report_write_html(cb_report *R, const char *path);
/* One figure of one metric: the series matching the filters (NULL: any), one line per value of
 * `by` ("place", "channel", "origin", "category"; NULL: one line), summed over the other
 * dimensions for flows and averaged for stocks; median and 5-95% band for ensembles; each chosen
 * experiment drawn, the second dashed. The format follows path's extension: .svg, .png or .pdf. */
typedef struct cb_plot_spec {
  const char *metric, *place, *channel, *origin, *category, *by, *title;
} cb_plot_spec;
CB_API int cb_report_plot(cb_report *R, const cb_plot_spec *spec, const char *path);
/* What the last call could not include, e.g. a scenario file that moved (NULL if nothing). */
CB_API const char *cb_report_warning(const cb_report *R);
CB_API int cb_report_errcode(const cb_report *R);
CB_API const char *cb_report_errmsg(const cb_report *R);

/* Writes the parameter reference (every scenario key, type, range, default, meaning) as Markdown. */
CB_API int cb_write_param_docs(cb_sim *S, const char *path);

#ifdef __cplusplus
}
#endif
#endif
