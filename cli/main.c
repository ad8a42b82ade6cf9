/* contraband: the command-line client. It parses arguments, drives libcontraband and chooses the
 * exit code; all modelling, validation and file writing happens in the library. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contraband.h"

enum { EXIT_OKAY = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_LEDGER = 3, EXIT_NOMEM = 4 };

/* The exit status for a library error code: a failed consistency check (the ledger, or a number
 * that is not finite) is a fault in contraband, told apart from bad input and lack of memory. */
static int exit_for(int code) {
  return code == CB_ELEDGER || code == CB_ENUMERIC ? EXIT_LEDGER : code == CB_ENOMEM ? EXIT_NOMEM : EXIT_FAILED;
}

static const char usage_text[] =
    "usage:\n"
    "  contraband run SCENARIO.yaml [--seed N] [--run I] [--threads T] [--out DIR] [--set key.path=value ...] [--check]\n"
    "                 [--quiet] [--max-memory SIZE]\n"
    "                 [--snapshot-at DATE --snapshot FILE] [--from FILE]\n"
    "  contraband ensemble SCENARIO.yaml --runs N [--jobs J] [--threads T] [--db FILE] [--seed N] [--set ...] [--check]\n"
    "                 [--quiet] [--max-memory SIZE]\n"
    "  contraband compare A.yaml B.yaml --runs N [--fork-at DATE] [--jobs J] [--threads T] [--db FILE] [--seed N]\n"
    "                 [--set ...] [--check] [--out DIR] [--quiet] [--max-memory SIZE]\n"
    "  contraband sweep SCENARIO.yaml --vary key.path=LOW:HIGH [...] --design grid|lhs|sobol --samples K --runs R\n"
    "                 [--jobs J] [--threads T] [--db FILE] [--seed N] [--set ...] [--check] [--quiet] [--max-memory SIZE]\n"
    "  contraband calibrate SCENARIO.yaml --targets TARGETS.yaml --prior key.path=LOW:HIGH[:log] [...] [--observed RUN_DIR]\n"
    "                 [--particles N] [--generations G] [--runs-per-particle R] [--jobs J] [--threads T] [--db FILE]\n"
    "                 [--seed N] [--set ...] [--out DIR] [--quiet] [--max-memory SIZE]\n"
    "  contraband sensitivity SCENARIO.yaml --vary key.path=LOW:HIGH [...] --method sobol|morris --samples N --runs R\n"
    "                 [--targets TARGETS.yaml] [--jobs J] [--threads T] [--db FILE] [--seed N] [--set ...] [--out DIR]\n"
    "                 [--quiet] [--max-memory SIZE]\n"
    "  contraband export RESULTS.db [--format csv] [--summaries] [--out FILE]\n"
    "  contraband report RESULTS [-o FILE] [--experiment ID [--experiment ID]] [--scenario FILE] [--quiet]\n"
    "  contraband plot RESULTS --metric NAME [--place P] [--channel C] [--origin O] [--category K] [--by DIM]\n"
    "                 [--title T] [--experiment ID ...] [--scenario FILE] -o FIGURE.svg|png|pdf\n"
    "  contraband params [FILE]     write the parameter reference (Markdown) to FILE or stdout\n"
    "  contraband version\n"
    "\n";

/* Split in two: ISO C promises string literals of 4095 bytes only. */
static const char options_text[] =
    "options:\n"
    "  --seed N        random seed; an ensemble's master seed (default: the scenario's simulation.seed)\n"
    "  --run I         replicate number: `run --seed S --run I` repeats replicate I of an ensemble (default 0)\n"
    "  --out DIR       run: output folder for metrics.csv and summary.json (default: out);\n"
    "                  compare: folder for effects.csv and effects.json (default: compare);\n"
    "                  calibrate: posterior.csv, posterior.json (default: calibration);\n"
    "                  sensitivity: indices.csv, indices.json (default: sensitivity);\n"
    "                  export: the CSV file (default: standard output); report: the HTML file\n"
    "                  (default: report.html); plot: the figure (required); -o is the same\n"
    "  --set K=V       override one scenario value, e.g. --set population.buyers=20000\n"
    "  --check         verify the ledger of goods and money after every simulated day\n"
    "  --snapshot-at DATE --snapshot FILE\n"
    "                  run: save the whole state at the start of DATE into FILE, then go on\n"
    "  --from FILE     run: continue from a snapshot (the same scenario: bit for bit; another scenario\n"
    "                  with the same places, goods and sizes: a fork); seed and run come from it\n"
    "  --quiet         print nothing but errors\n"
    "  --runs N        ensemble, compare, sweep: replicates 0..N-1 (of each scenario or point); those already in the\n"
    "                  store are not run again\n"
    "  --jobs J        ensemble, compare, sweep: runs at a time, each on its own thread (default 1)\n"
    "  --threads T     threads inside each run (default 1); outputs are the same for any T\n"
    "  --max-memory S  refuse to start a run whose estimated memory exceeds S bytes (K, M, G, T: powers\n"
    "                  of 1024; an experiment's runs in progress share it); default: the memory available\n"
    "  --db FILE       ensemble, compare, sweep: the SQLite results store, created if missing (default: results.db)\n"
    "  --format csv    export: the format (csv, the only one)\n"
    "  --summaries     export: one row per run (its parameters and totals) instead of the metrics rows\n"
    "  --fork-at DATE  compare: each run of B continues from its run of A's state on DATE\n"
    "  --vary K=LO:HI  sweep: a parameter and its range (integers: an integer parameter); repeatable\n"
    "  --design D      sweep: grid (K levels per parameter), lhs (Latin hypercube of K points) or\n"
    "                  sobol (K points of a Sobol sequence)\n"
    "  --samples K     sweep: levels per parameter (grid) or points (lhs, sobol); sensitivity: base rows\n"
    "                  (sobol: K x (parameters + 2) points) or trajectories (morris: K x (parameters + 1))\n"
    "  --method M      sensitivity: sobol (S1, ST) or morris (mu, mu_star, sigma); --vary as for sweep\n"
    "  --targets FILE  calibrate: the summary statistics and what was observed of them (docs/calibration.md);\n"
    "                  sensitivity: more outputs to analyse, besides compare's key figures\n"
    "  --prior K=LO:HI calibrate: a parameter's uniform prior (LO:HI:log: log-uniform); repeatable\n"
    "  --observed DIR  calibrate: a run folder that targets marked `observed: run` take their values from\n"
    "  --particles N   calibrate: particles per generation (default 100); --generations G (default 5);\n"
    "                  --runs-per-particle R: replicates averaged per particle (default 1)\n"
    "  --experiment ID report, plot: the store's experiment to show; twice: compare B (second) with A\n"
    "  --scenario FILE report, plot: where the results' scenario file is now (for parameters and events)\n"
    "  --metric NAME   plot: the metric (docs/outputs.md); --place, --channel, --origin, --category\n"
    "                  keep only series with that value; --by DIM draws a line per place, channel, origin\n"
    "                  or category (the rest summed, or averaged for prices and other stocks)\n"
    "\n"
    "exit codes: 0 success, 1 bad input or failed output, 2 usage, 3 consistency check failed (ledger, or a number not finite), 4 out of memory\n";

static void print_usage(FILE *f) {
  fputs(usage_text, f);
  fputs(options_text, f);
}

/* A path or value from the command line as a terminal may show it (cb_printable): an escape
 * sequence or a line break in a file name is printed as \x1B, \x0A, never acted on. Messages from
 * the library come in this form already. Four buffers, so that one line can show several. */
static const char *shown(const char *s) {
  static char buf[4][4096];
  static unsigned next;
  char *b = buf[next++ % 4];
  return cb_printable(s, b, sizeof buf[0]);
}

static int usage(const char *fmt, const char *arg) {
  fputs("contraband: ", stderr);
  fprintf(stderr, fmt, shown(arg));
  fputs("\n\n", stderr);
  print_usage(stderr);
  return EXIT_USAGE;
}

static int fail(cb_sim *S) {
  int code = cb_errcode(S);
  fprintf(stderr, "contraband: error: %s\n", cb_errmsg(S));
  cb_free(S);
  return exit_for(code);
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (!*s || *s == '-') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end) return -1;
  *out = v;
  return 0;
}

/* A size in bytes: a whole number with an optional K, M, G or T (powers of 1024), e.g. 512M. */
static int parse_size(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (!*s || *s < '0' || *s > '9') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno) return -1;
  const char *units = "KMGT", *u = *end ? strchr(units, *end) : NULL;
  if (*end && (!u || end[1])) return -1;
  for (const char *k = units; u && k <= u; k++) {
    if (v > UINT64_MAX / 1024) return -1;
    v *= 1024;
  }
  *out = v;
  return 0;
}

/* The options shared by run and ensemble, and each command's own; one parser for both. */
typedef struct options {
  const char *scenario, *scenario_b, *out, *db, *format, *snapshot_at, *snapshot, *from, *fork_at, *design;
  const char *targets, *observed, *method;
  const char *metric, *place, *channel, *origin, *category, *by, *title, *scenario_file;
  uint64_t experiment[2];
  int nexperiments;
  int quiet, check, summaries, have_seed, have_run;
  uint64_t seed, run, runs, jobs, samples, threads, max_memory;
  uint64_t particles, generations, runs_per_particle;
} options;

/* Options that take a value, with the largest value a number may have (0: not a number). */
static const struct { const char *name; uint64_t max; } valued[] = {
    {"--seed", UINT64_MAX}, {"--run", UINT32_MAX}, {"--runs", UINT32_MAX}, {"--jobs", 1024}, {"--threads", 256},
    {"--out", 0}, {"--set", 0}, {"--db", 0}, {"--format", 0}, {"--snapshot-at", 0}, {"--snapshot", 0}, {"--from", 0}, {"--fork-at", 0}, {"--vary", 0}, {"--design", 0}, {"--samples", 1000000}, {"--max-memory", 0},
    {"--experiment", INT64_MAX}, {"--metric", 0}, {"--place", 0}, {"--channel", 0}, {"--origin", 0}, {"--category", 0}, {"--by", 0},
    {"--title", 0}, {"--scenario", 0}, {"-o", 0},
    {"--targets", 0}, {"--prior", 0}, {"--observed", 0}, {"--particles", 100000}, {"--generations", 1000}, {"--runs-per-particle", 10000},
    {"--method", 0},
};

/* Parses argv[2..] against the options `allowed` (space-separated names) and up to `inputs`
 * positional files; returns -1 after printing the usage error. --set values are applied later, in
 * order, by the caller. */
static int parse_options(int argc, char **argv, const char *allowed, int inputs, options *o) {
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] == '-' && (a[1] == '-' || (a[1] == 'o' && !a[2]))) {
      char key[32];
      snprintf(key, sizeof key, " %s ", a);
      char list[512];
      snprintf(list, sizeof list, " %s ", allowed);
      if (!strstr(list, key)) return usage("unknown option %s", a), -1;
      size_t v = 0;
      while (v < sizeof valued / sizeof *valued && strcmp(valued[v].name, a)) v++;
      if (v == sizeof valued / sizeof *valued) {
        if (!strcmp(a, "--check")) o->check = 1;
        if (!strcmp(a, "--quiet")) o->quiet = 1;
        if (!strcmp(a, "--summaries")) o->summaries = 1;
        continue;
      }
      if (i + 1 >= argc) return usage("%s needs a value", a), -1;
      const char *val = argv[++i];
      uint64_t n = 0;
      if (valued[v].max && (parse_u64(val, &n) || n > valued[v].max)) {
        fprintf(stderr, "contraband: %s takes a whole number from 0 to %llu, not '%s'\n\n", a,
                (unsigned long long)valued[v].max, shown(val));
        print_usage(stderr);
        return -1;
      }
      if (!strcmp(a, "--seed")) o->seed = n, o->have_seed = 1;
      else if (!strcmp(a, "--run")) o->run = n, o->have_run = 1;
      else if (!strcmp(a, "--runs")) o->runs = n;
      else if (!strcmp(a, "--jobs")) o->jobs = n;
      else if (!strcmp(a, "--threads") && n == 0) return usage("%s", "--threads must be at least 1"), -1;
      else if (!strcmp(a, "--threads")) o->threads = n;
      else if (!strcmp(a, "--out") || !strcmp(a, "-o")) o->out = val;
      else if (!strcmp(a, "--experiment") && o->nexperiments == 2) return usage("%s", "--experiment can be given at most twice (A, then B)"), -1;
      else if (!strcmp(a, "--experiment")) o->experiment[o->nexperiments++] = n;
      else if (!strcmp(a, "--metric")) o->metric = val;
      else if (!strcmp(a, "--place")) o->place = val;
      else if (!strcmp(a, "--channel")) o->channel = val;
      else if (!strcmp(a, "--origin")) o->origin = val;
      else if (!strcmp(a, "--category")) o->category = val;
      else if (!strcmp(a, "--by")) o->by = val;
      else if (!strcmp(a, "--title")) o->title = val;
      else if (!strcmp(a, "--scenario")) o->scenario_file = val;
      else if (!strcmp(a, "--db")) o->db = val;
      else if (!strcmp(a, "--format")) o->format = val;
      else if (!strcmp(a, "--snapshot-at")) o->snapshot_at = val;
      else if (!strcmp(a, "--snapshot")) o->snapshot = val;
      else if (!strcmp(a, "--from")) o->from = val;
      else if (!strcmp(a, "--fork-at")) o->fork_at = val;
      else if (!strcmp(a, "--design")) o->design = val;
      else if (!strcmp(a, "--samples")) o->samples = n;
      else if (!strcmp(a, "--targets")) o->targets = val;
      else if (!strcmp(a, "--observed")) o->observed = val;
      else if (!strcmp(a, "--method")) o->method = val;
      else if (!strcmp(a, "--particles")) o->particles = n;
      else if (!strcmp(a, "--generations")) o->generations = n;
      else if (!strcmp(a, "--runs-per-particle")) o->runs_per_particle = n;
      else if (!strcmp(a, "--max-memory") && (parse_size(val, &o->max_memory) || o->max_memory == 0)) {
        fprintf(stderr, "contraband: --max-memory takes a size in bytes, with K, M, G or T for powers of 1024 (e.g. 512M), not '%s'\n\n", shown(val));
        print_usage(stderr);
        return -1;
      }
    } else if (!o->scenario) o->scenario = a;
    else if (inputs > 1 && !o->scenario_b) o->scenario_b = a;
    else return usage("too many input files given ('%s')", a), -1;
  }
  return 0;
}

static void print_summary(const cb_sim *S, const cb_totals *t, const char *out) {
  printf("%-36s %16.0f\n", "days simulated", (double)t->days_simulated);
  printf("%-36s %16.0f\n", "units ordered", t->ordered_units);
  printf("%-36s %16.0f\n", "units procured in China", t->procured_units);
  printf("%-36s %16.0f\n", "units delivered to markets", t->delivered_units);
  printf("%-36s %16.0f\n", "units seized", t->seized_units);
  printf("%-36s %16.0f\n", "units relabelled", t->relabeled_units);
  printf("%-36s %16.0f\n", "inspections", t->inspections);
  printf("%-36s %16.0f  (%.0f USD)\n", "bribes", t->bribes, t->bribes_usd);
  printf("%-36s %16.0f  (%.0f USD)\n", "fines", t->fines, t->fines_usd);
  printf("%-36s %16.0f\n", "confiscations", t->confiscations);
  printf("%-36s %16.0f\n", "buyers' income for goods, USD", t->buyer_income_usd);
  printf("%-36s %16.0f\n", "buyers' spending, USD", t->buyer_spending_usd);
  for (int i = 0; i < cb_crossing_count(S); i++) {
    char label[96];
    snprintf(label, sizeof label, "foreign electronics via %s", shown(cb_crossing_name(S, i)));
    if (cb_crossing_share(S, i) >= 0) printf("%-36s %15.1f%%\n", label, 100.0 * cb_crossing_share(S, i));
  }
  printf("%-36s %16d\n", "traders active at the end", t->active_traders);
  printf("%-36s %16.2f\n", "wall time, s", t->wall_seconds);
  printf("outputs: %s/metrics.csv, %s/summary.json\n", shown(out), shown(out));
}

static int cmd_run(int argc, char **argv) {
  options o = {.out = "out"};
  if (parse_options(argc, argv, "--seed --run --out --set --check --quiet --snapshot-at --snapshot --from --threads --max-memory", 1, &o))
    return EXIT_USAGE;
  if (!o.scenario) return usage("%s", "run needs a scenario file");
  if (!o.snapshot_at != !o.snapshot) return usage("%s", "--snapshot-at DATE and --snapshot FILE go together");
  if (o.from && (o.have_seed || o.have_run)) return usage("%s", "--from takes the seed and run from the snapshot; drop --seed and --run");
  cb_sim *S = cb_new();
  if (!S) {
    fputs("contraband: error: out of memory\n", stderr);
    return EXIT_NOMEM;
  }
  if (cb_read_scenario(S, o.scenario)) return fail(S);
  for (int i = 2; i < argc; i++)
    if (!strcmp(argv[i], "--set") && cb_set(S, argv[++i])) return fail(S);
  if (o.have_seed) cb_set_seed(S, o.seed);
  cb_set_run(S, (uint32_t)o.run);
  if (o.threads && cb_set_threads(S, (int)o.threads)) return fail(S);
  cb_set_check(S, o.check);
  cb_set_max_memory(S, o.max_memory);
  if (cb_init(S)) return fail(S);
  if (o.from && cb_restore_snapshot(S, o.from)) return fail(S);
  if (o.snapshot_at && (cb_run_until(S, o.snapshot_at) || cb_save_snapshot(S, o.snapshot))) return fail(S);
  if (cb_run(S) || cb_write_outputs(S, o.out)) return fail(S);
  if (!o.quiet) {
    cb_totals t;
    cb_get_totals(S, &t);
    print_summary(S, &t, o.out);
  }
  cb_free(S);
  return EXIT_OKAY;
}

static int fail_experiment(cb_experiment *X) {
  int code = cb_experiment_errcode(X);
  fprintf(stderr, "contraband: error: %s\n", cb_experiment_errmsg(X));
  cb_experiment_free(X);
  return exit_for(code);
}

/* Progress on standard error: a bar redrawn in place on a terminal, otherwise a plain line at
 * most every ten seconds and at the end. */
typedef struct progress_view {
  int tty;
  double last_line;
} progress_view;

static void show_progress(void *ctx, const cb_progress *p) {
  progress_view *v = ctx;
  double rate = p->elapsed_seconds > 0 ? p->new_done / p->elapsed_seconds : 0;
  double eta = rate > 0 ? (p->total - p->done) / rate : 0;
  int end = p->done == p->total;
  if (v->tty) {
    char bar[31];
    int fill = p->total ? (int)(30.0 * p->done / p->total) : 30;
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %u/%u runs  %.2f runs/s  ETA %.0f s ", bar, p->done, p->total, rate, eta);
    if (end) fputc('\n', stderr);
  } else if (end || p->new_done == 0 || p->elapsed_seconds - v->last_line >= 10.0) {
    fprintf(stderr, "ensemble: %u/%u runs stored, %.2f runs/s, ETA %.0f s\n", p->done, p->total, rate, eta);
    v->last_line = p->elapsed_seconds;
  }
  fflush(stderr);
}

/* The experiment of an ensemble or comparison: scenario A, the --set assignments, seed, check
 * and progress display; NULL (with the error printed and *code set) on failure. */
static cb_experiment *experiment_of(int argc, char **argv, const options *o, progress_view *view, int *code) {
  cb_experiment *X = cb_experiment_new();
  if (!X) {
    fputs("contraband: error: out of memory\n", stderr);
    *code = EXIT_NOMEM;
    return NULL;
  }
  cb_experiment_scenario(X, o->scenario);
  for (int i = 2; i < argc; i++)
    if (!strcmp(argv[i], "--set") && cb_experiment_set(X, argv[++i])) {
      *code = fail_experiment(X);
      return NULL;
    }
  if (o->have_seed) cb_experiment_seed(X, o->seed);
  cb_experiment_check(X, o->check);
  cb_experiment_max_memory(X, o->max_memory);
  if (o->threads && cb_experiment_threads(X, (int)o->threads)) {
    *code = fail_experiment(X);
    return NULL;
  }
  if (!o->quiet) cb_experiment_progress(X, show_progress, view);
  return X;
}

static int check_runs(const char *command, const options *o) {
  if (o->runs == 0) return usage("%s needs --runs N (N >= 1)", command);
  if (o->jobs == 0) return usage("%s", "--jobs must be at least 1");
  return EXIT_OKAY;
}

static int cmd_ensemble(int argc, char **argv) {
  options o = {.db = "results.db", .jobs = 1};
  if (parse_options(argc, argv, "--seed --set --check --quiet --runs --jobs --db --threads --max-memory", 1, &o)) return EXIT_USAGE;
  if (!o.scenario) return usage("%s", "ensemble needs a scenario file");
  if (check_runs("ensemble", &o)) return EXIT_USAGE;
  progress_view view = {isatty(STDERR_FILENO), 0};
  int code = EXIT_OKAY;
  cb_experiment *X = experiment_of(argc, argv, &o, &view, &code);
  if (!X) return code;
  if (cb_experiment_ensemble(X, o.db, (uint32_t)o.runs, (int)o.jobs)) return fail_experiment(X);
  if (!o.quiet) printf("results: %s (%llu runs)\n", shown(o.db), (unsigned long long)o.runs);
  cb_experiment_free(X);
  return EXIT_OKAY;
}

/* The effects table: one line per key figure, B's effect against A with its 95% interval. */
static void print_effects(const cb_experiment *X) {
  printf("%-26s %-24s %4s %13s %13s %13s  %s\n", "figure", "key", "n", "mean A", "mean B", "effect B-A", "95% interval");
  for (int i = 0; i < cb_experiment_effect_count(X); i++) {
    const cb_effect *e = cb_experiment_effect(X, i);
    int zero_out = e->ci_low > 0 || e->ci_high < 0;
    printf("%-26s %-24s %4u %13.6g %13.6g %13.6g  [%.6g, %.6g]%s\n", shown(e->metric), shown(e->key), e->n, e->mean_a, e->mean_b,
           e->effect, e->ci_low, e->ci_high, zero_out ? " *" : "");
  }
  printf("* the interval excludes 0\n");
}

static int cmd_compare(int argc, char **argv) {
  options o = {.db = "results.db", .jobs = 1, .out = "compare"};
  if (parse_options(argc, argv, "--seed --set --check --quiet --runs --jobs --db --out --fork-at --threads --max-memory", 2, &o)) return EXIT_USAGE;
  if (!o.scenario_b) return usage("%s", "compare needs two scenario files, A and B");
  if (check_runs("compare", &o)) return EXIT_USAGE;
  progress_view view = {isatty(STDERR_FILENO), 0};
  int code = EXIT_OKAY;
  cb_experiment *X = experiment_of(argc, argv, &o, &view, &code);
  if (!X) return code;
  if (cb_experiment_compare(X, o.scenario_b, o.fork_at, o.db, (uint32_t)o.runs, (int)o.jobs, o.out)) return fail_experiment(X);
  if (!o.quiet) {
    printf("effects of %s against %s, %llu paired runs (common random numbers)", shown(o.scenario_b), shown(o.scenario),
           (unsigned long long)o.runs);
    if (o.fork_at) printf(", B forked from A on %s", shown(o.fork_at));
    printf(":\n");
    print_effects(X);
    printf("results: %s; effects: %s/effects.csv, %s/effects.json\n", shown(o.db), shown(o.out), shown(o.out));
  }
  cb_experiment_free(X);
  return EXIT_OKAY;
}

/* The experiment of a command that varies parameters, with every range of option (--vary,
 * --prior) in argv given to it by add; NULL (the error printed, *code set) on failure or when no
 * range is given. */
static cb_experiment *ranged_experiment_of(int argc, char **argv, const options *o, progress_view *view, const char *command,
                                           const char *option, int (*add)(cb_experiment *, const char *), int *code) {
  cb_experiment *X = experiment_of(argc, argv, o, view, code);
  int n = 0;
  for (int i = 2; X && i < argc; i++)
    if (!strcmp(argv[i], option)) {
      n++;
      if (add(X, argv[++i])) {
        *code = fail_experiment(X);
        return NULL;
      }
    }
  if (X && n == 0) {
    cb_experiment_free(X);
    fprintf(stderr, "contraband: %s needs at least one %s key.path=LOW:HIGH\n\n", command, option);
    print_usage(stderr);
    *code = EXIT_USAGE;
    return NULL;
  }
  return X;
}

static int cmd_sweep(int argc, char **argv) {
  options o = {.db = "results.db", .jobs = 1};
  if (parse_options(argc, argv, "--seed --set --check --quiet --runs --jobs --db --vary --design --samples --threads --max-memory", 1, &o))
    return EXIT_USAGE;
  if (!o.scenario) return usage("%s", "sweep needs a scenario file");
  if (check_runs("sweep", &o)) return EXIT_USAGE;
  if (!o.design) return usage("%s", "sweep needs --design grid, lhs or sobol");
  if (o.samples == 0) return usage("%s", "sweep needs --samples K (K >= 1)");
  progress_view view = {isatty(STDERR_FILENO), 0};
  int code = EXIT_OKAY;
  cb_experiment *X = ranged_experiment_of(argc, argv, &o, &view, "sweep", "--vary", cb_experiment_vary, &code);
  if (!X) return code;
  if (cb_experiment_sweep(X, o.db, o.design, (uint32_t)o.samples, (uint32_t)o.runs, (int)o.jobs)) return fail_experiment(X);
  if (!o.quiet) printf("results: %s (runs of every point: runs.point, runs.parameters)\n", shown(o.db));
  cb_experiment_free(X);
  return EXIT_OKAY;
}

static int cmd_calibrate(int argc, char **argv) {
  options o = {.db = "results.db", .jobs = 1, .out = "calibration", .particles = 100, .generations = 5, .runs_per_particle = 1};
  if (parse_options(argc, argv,
                    "--seed --set --check --quiet --jobs --db --out --targets --prior --observed --particles --generations "
                    "--runs-per-particle --threads --max-memory", 1, &o))
    return EXIT_USAGE;
  if (!o.scenario) return usage("%s", "calibrate needs a scenario file");
  if (!o.targets) return usage("%s", "calibrate needs --targets TARGETS.yaml (docs/calibration.md)");
  if (o.jobs == 0) return usage("%s", "--jobs must be at least 1");
  if (o.particles < 2) return usage("%s", "--particles must be at least 2");
  if (o.generations == 0 || o.runs_per_particle == 0) return usage("%s", "--generations and --runs-per-particle must be at least 1");
  progress_view view = {isatty(STDERR_FILENO), 0};
  int code = EXIT_OKAY;
  cb_experiment *X = ranged_experiment_of(argc, argv, &o, &view, "calibrate", "--prior", cb_experiment_prior, &code);
  if (!X) return code;
  if (cb_experiment_calibrate(X, o.targets, o.observed, o.db, o.out, (uint32_t)o.particles, (uint32_t)o.generations,
                              (uint32_t)o.runs_per_particle, (int)o.jobs))
    return fail_experiment(X);
  if (!o.quiet) printf("posterior: %s/posterior.csv, %s/posterior.json; simulations: %s (kind calibration)\n", shown(o.out), shown(o.out), shown(o.db));
  cb_experiment_free(X);
  return EXIT_OKAY;
}

static int cmd_sensitivity(int argc, char **argv) {
  options o = {.db = "results.db", .jobs = 1, .out = "sensitivity"};
  if (parse_options(argc, argv, "--seed --set --check --quiet --runs --jobs --db --out --vary --method --samples --targets --threads --max-memory",
                    1, &o))
    return EXIT_USAGE;
  if (!o.scenario) return usage("%s", "sensitivity needs a scenario file");
  if (check_runs("sensitivity", &o)) return EXIT_USAGE;
  if (!o.method) return usage("%s", "sensitivity needs --method sobol or morris");
  if (o.samples == 0) return usage("%s", "sensitivity needs --samples N (N >= 1: Sobol base rows, or Morris trajectories)");
  progress_view view = {isatty(STDERR_FILENO), 0};
  int code = EXIT_OKAY;
  cb_experiment *X = ranged_experiment_of(argc, argv, &o, &view, "sensitivity", "--vary", cb_experiment_vary, &code);
  if (!X) return code;
  if (cb_experiment_sensitivity(X, o.method, (uint32_t)o.samples, (uint32_t)o.runs, o.targets, o.db, o.out, (int)o.jobs))
    return fail_experiment(X);
  if (!o.quiet) printf("indices: %s/indices.csv, %s/indices.json; runs: %s (kind sensitivity)\n", shown(o.out), shown(o.out), shown(o.db));
  cb_experiment_free(X);
  return EXIT_OKAY;
}

static int cmd_export(int argc, char **argv) {
  options o = {.format = "csv"};
  if (parse_options(argc, argv, "--format --summaries --out", 1, &o)) return EXIT_USAGE;
  if (!o.scenario) return usage("%s", "export needs a results store (the --db file of an ensemble)");
  if (strcmp(o.format, "csv")) return usage("unknown export format '%s' (csv is the only one)", o.format);
  cb_experiment *X = cb_experiment_new();
  if (!X) return EXIT_NOMEM;
  const char *path = o.out ? o.out : "-";
  if (o.summaries ? cb_experiment_export_summaries_csv(X, o.scenario, path) : cb_experiment_export_csv(X, o.scenario, path))
    return fail_experiment(X);
  cb_experiment_free(X);
  return EXIT_OKAY;
}

static int fail_report(cb_report *R) {
  int code = cb_report_errcode(R);
  fprintf(stderr, "contraband: error: %s\n", cb_report_errmsg(R));
  cb_report_free(R);
  return exit_for(code);
}

/* The results, the chosen experiments and the scenario's location, shared by report and plot. */
static cb_report *report_of(const options *o, int *code) {
  cb_report *R = cb_report_new();
  *code = EXIT_NOMEM;
  if (!R) return NULL;
  int bad = cb_report_open(R, o->scenario);
  for (int i = 0; !bad && i < o->nexperiments; i++) bad = cb_report_experiment(R, (int64_t)o->experiment[i]);
  if (!bad && o->scenario_file) bad = cb_report_scenario(R, o->scenario_file);
  if (bad) {
    *code = fail_report(R);
    return NULL;
  }
  return R;
}

static void warn_report(const cb_report *R, const options *o) {
  if (cb_report_warning(R) && !o->quiet) fprintf(stderr, "contraband: warning: %s\n", cb_report_warning(R));
}

static int cmd_report(int argc, char **argv) {
  options o = {.out = "report.html"};
  if (parse_options(argc, argv, "--out -o --experiment --scenario --quiet", 1, &o)) return EXIT_USAGE;
  if (!o.scenario) return usage("%s", "report needs results: a run's output folder or a results store");
  int code;
  cb_report *R = report_of(&o, &code);
  if (!R) return code;
  if (cb_report_write_html(R, o.out)) return fail_report(R);
  warn_report(R, &o);
  if (!o.quiet) printf("report: %s\n", shown(o.out));
  cb_report_free(R);
  return EXIT_OKAY;
}

static int cmd_plot(int argc, char **argv) {
  options o = {0};
  if (parse_options(argc, argv, "--out -o --experiment --scenario --quiet --metric --place --channel --origin --category --by --title", 1, &o))
    return EXIT_USAGE;
  if (!o.scenario) return usage("%s", "plot needs results: a run's output folder or a results store");
  if (!o.metric) return usage("%s", "plot needs --metric NAME (a metric of metrics.csv, e.g. delivered_units)");
  if (!o.out) return usage("%s", "plot needs -o FIGURE.svg, .png or .pdf");
  int code;
  cb_report *R = report_of(&o, &code);
  if (!R) return code;
  cb_plot_spec spec = {o.metric, o.place, o.channel, o.origin, o.category, o.by, o.title};
  if (cb_report_plot(R, &spec, o.out)) return fail_report(R);
  warn_report(R, &o);
  if (!o.quiet) printf("figure: %s\n", shown(o.out));
  cb_report_free(R);
  return EXIT_OKAY;
}

static int cmd_params(int argc, char **argv) {
  cb_sim *S = cb_new();
  if (!S) return EXIT_NOMEM;
  if (cb_write_param_docs(S, argc > 2 ? argv[2] : "-")) return fail(S);
  cb_free(S);
  return EXIT_OKAY;
}

static int dispatch(int argc, char **argv) {
  if (argc < 2) return usage("%s", "no command given");
  if (!strcmp(argv[1], "run")) return cmd_run(argc, argv);
  if (!strcmp(argv[1], "ensemble")) return cmd_ensemble(argc, argv);
  if (!strcmp(argv[1], "export")) return cmd_export(argc, argv);
  if (!strcmp(argv[1], "compare")) return cmd_compare(argc, argv);
  if (!strcmp(argv[1], "sweep")) return cmd_sweep(argc, argv);
  if (!strcmp(argv[1], "calibrate")) return cmd_calibrate(argc, argv);
  if (!strcmp(argv[1], "sensitivity")) return cmd_sensitivity(argc, argv);
  if (!strcmp(argv[1], "params")) return cmd_params(argc, argv);
  if (!strcmp(argv[1], "report")) return cmd_report(argc, argv);
  if (!strcmp(argv[1], "plot")) return cmd_plot(argc, argv);
  if (!strcmp(argv[1], "version")) {
    printf("contraband %s\n", cb_version());
    return EXIT_OKAY;
  }
  if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    print_usage(stdout);
    return EXIT_OKAY;
  }
  return usage("unknown command '%s'", argv[1]);
}

/* Under mpirun every rank runs the same command; only rank 0 speaks (the others' standard output
 * and error go to /dev/null), and every rank leaves MPI before it exits. */
int main(int argc, char **argv) {
  if (cb_mpi_init(&argc, &argv)) {
    fputs("contraband: error: cannot join the MPI job\n", stderr);
    return EXIT_FAILED;
  }
  if (cb_mpi_rank() > 0 && (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))) return EXIT_FAILED;
  /* Past a file-size limit (ulimit -f) a write should fail with EFBIG and be reported like a full
   * disk, keeping the previous outputs, rather than kill the process with SIGXFSZ. */
  signal(SIGXFSZ, SIG_IGN);
  int rc = dispatch(argc, argv);
  cb_mpi_finalize();
  return rc;
}
