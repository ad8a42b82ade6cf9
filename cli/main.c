/* contraband: the command-line client. It parses arguments, drives libcontraband and chooses the
 * exit code; all modelling, validation and file writing happens in the library. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contraband.h"

enum { EXIT_OKAY = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_LEDGER = 3, EXIT_NOMEM = 4 };

static const char usage_text[] =
    "usage:\n"
    "  contraband run SCENARIO.yaml [--seed N] [--out DIR] [--set key.path=value ...] [--check] [--quiet]\n"
    "  contraband params [FILE]     write the parameter reference (Markdown) to FILE or stdout\n"
    "  contraband version\n"
    "\n"
    "run options:\n"
    "  --seed N        random seed (default: the scenario's simulation.seed)\n"
    "  --out DIR       output folder for metrics.csv and summary.json (default: out)\n"
    "  --set K=V       override one scenario value, e.g. --set population.buyers=20000\n"
    "  --check         verify the ledger of goods and money after every simulated day\n"
    "  --quiet         print nothing but errors\n"
    "\n"
    "exit codes: 0 success, 1 bad input or failed output, 2 usage, 3 ledger check failed, 4 out of memory\n";

static int usage(const char *fmt, const char *arg) {
  fputs("contraband: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs("\n\n", stderr);
  fputs(usage_text, stderr);
  return EXIT_USAGE;
}

static int fail(cb_sim *S) {
  int code = cb_errcode(S);
  fprintf(stderr, "contraband: error: %s\n", cb_errmsg(S));
  cb_free(S);
  return code == CB_ELEDGER ? EXIT_LEDGER : code == CB_ENOMEM ? EXIT_NOMEM : EXIT_FAILED;
}

static int parse_seed(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (!*s || *s == '-') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end) return -1;
  *out = v;
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
    snprintf(label, sizeof label, "foreign electronics via %s", cb_crossing_name(S, i));
    if (cb_crossing_share(S, i) >= 0) printf("%-36s %15.1f%%\n", label, 100.0 * cb_crossing_share(S, i));
  }
  printf("%-36s %16d\n", "traders active at the end", t->active_traders);
  printf("%-36s %16.2f\n", "wall time, s", t->wall_seconds);
  printf("outputs: %s/metrics.csv, %s/summary.json\n", out, out);
}

static int cmd_run(int argc, char **argv) {
  const char *scenario = NULL, *out = "out";
  int quiet = 0, check = 0, have_seed = 0;
  uint64_t seed = 0;
  cb_sim *S = cb_new();
  if (!S) {
    fputs("contraband: error: out of memory\n", stderr);
    return EXIT_NOMEM;
  }
  /* First pass: find the scenario so overrides can apply to it, and check the options' form. */
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--seed") || !strcmp(a, "--out") || !strcmp(a, "--set")) {
      if (i + 1 >= argc) { cb_free(S); return usage("%s needs a value", a); }
      if (!strcmp(a, "--seed") && parse_seed(argv[i + 1], &seed)) { cb_free(S); return usage("--seed takes a non-negative whole number, not '%s'", argv[i + 1]); }
      if (!strcmp(a, "--seed")) have_seed = 1;
      if (!strcmp(a, "--out")) out = argv[i + 1];
      i++;
    } else if (!strcmp(a, "--check")) check = 1;
    else if (!strcmp(a, "--quiet")) quiet = 1;
    else if (a[0] == '-' && a[1] == '-') { cb_free(S); return usage("unknown option %s", a); }
    else if (!scenario) scenario = a;
    else { cb_free(S); return usage("more than one scenario given ('%s')", a); }
  }
  if (!scenario) { cb_free(S); return usage("%s", "run needs a scenario file"); }
  if (cb_read_scenario(S, scenario)) return fail(S);
  for (int i = 2; i < argc; i++)
    if (!strcmp(argv[i], "--set") && cb_set(S, argv[++i])) return fail(S);
  if (have_seed) cb_set_seed(S, seed);
  cb_set_check(S, check);
  if (cb_init(S) || cb_run(S)) return fail(S);
  if (cb_write_outputs(S, out)) return fail(S);
  if (!quiet) {
    cb_totals t;
    cb_get_totals(S, &t);
    print_summary(S, &t, out);
  }
  cb_free(S);
  return EXIT_OKAY;
}

static int cmd_params(int argc, char **argv) {
  cb_sim *S = cb_new();
  if (!S) return EXIT_NOMEM;
  if (cb_write_param_docs(S, argc > 2 ? argv[2] : "-")) return fail(S);
  cb_free(S);
  return EXIT_OKAY;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage("%s", "no command given");
  if (!strcmp(argv[1], "run")) return cmd_run(argc, argv);
  if (!strcmp(argv[1], "params")) return cmd_params(argc, argv);
  if (!strcmp(argv[1], "version")) {
    printf("contraband %s\n", cb_version());
    return EXIT_OKAY;
  }
  if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(usage_text, stdout);
    return EXIT_OKAY;
  }
  return usage("unknown command '%s'", argv[1]);
}
