/* End-to-end tests of the command-line client: a small run writes the documented outputs, every
 * kind of bad input exits with the documented code and a message that says where and what, and
 * leaves a previous run's outputs byte for byte as they were; the parameter reference, --check and
 * scenario bases work.
 *
 * Each scenario is a copy of scenarios/baseline.yaml edited as text in a temporary folder, with the
 * exchange-rate CSV copied to ../data/dailynk relative to it, so the tests do not depend on later
 * edits of the baseline beyond the lines they change (a missing line fails with a clear message). */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BASELINE CB_SOURCE_DIR "/scenarios/baseline.yaml"
#define RATES CB_SOURCE_DIR "/data/dailynk/won-per-dollar.csv"

/* A small world: few agents. SHORT also cuts the period to 2012 and removes the dated events, so
 * that it is a world without policy events. */
#define POP "--set population.buyers=3000 --set population.traders=60 --set population.middlemen=10 --set population.officials=40"
#define SHORT                                                                                             \
  POP " --set simulation.end=2012-12-31 --set 'sanctions={}' --set 'crackdowns={}' --set 'campaigns={}'" \
      " --set 'closures={}' --set 'income_shocks={}'"

static char root[600];      /* the temporary folder: s/ scenarios, data/ series, out dirs */
static char sdir[700];      /* root/s */
static char prev_dir[700];  /* outputs of a good run, which failed runs must leave alone */
static char *base_text;     /* baseline.yaml as read */
static char *prev_metrics, *prev_summary;
static size_t prev_metrics_len, prev_summary_len;
static int exit_input = -1, exit_usage = -1, exit_nomem = -1; /* from the usage text */

static void mkdir_or_fail(const char *p) {
  if (mkdir(p, 0777) != 0) fail_msg("cannot create %s", p);
}

static char *read_or_fail(const char *path, size_t *len) {
  char *t = cbt_read_file(path, len);
  if (!t) fail_msg("cannot read %s", path);
  return t;
}

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

#define assert_contains(out, needle)                                                 \
  do {                                                                               \
    if (!contains((out), (needle))) fail_msg("expected \"%s\" in output:\n%s", (needle), (out)); \
  } while (0)

/* A copy of the baseline with one unique piece of text replaced. `mark` is a piece of the new
 * text with a '|' where the error is expected to point; *where gets "name:line:col" for it. */
static char *variant(const char *name, const char *old, const char *repl, const char *mark, char *where, size_t wsize) {
  const char *hit = strstr(base_text, old);
  if (!hit) fail_msg("the baseline no longer contains \"%s\"; update test_cli.c", old);
  if (strstr(hit + 1, old)) fail_msg("\"%s\" is not unique in the baseline; update test_cli.c", old);
  size_t pre = (size_t)(hit - base_text), nold = strlen(old), nrep = strlen(repl), nbase = strlen(base_text);
  char *text = malloc(nbase - nold + nrep + 1);
  memcpy(text, base_text, pre);
  memcpy(text + pre, repl, nrep);
  memcpy(text + pre + nrep, hit + nold, nbase - pre - nold + 1);
  if (mark && where) {
    char plain[256];
    const char *bar = strchr(mark, '|');
    assert_non_null(bar);
    snprintf(plain, sizeof plain, "%.*s%s", (int)(bar - mark), mark, bar + 1);
    const char *m = strstr(text, plain);
    if (!m) fail_msg("mark \"%s\" not found in variant %s", plain, name);
    const char *spot = m + (bar - mark);
    int line = 1, col = 1;
    for (const char *c = text; c < spot; c++) {
      if (*c == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    snprintf(where, wsize, "%s:%d:%d:", name, line, col);
  }
  char *path = cbt_write_file(sdir, name, text);
  free(text);
  return path;
}

/* Runs the CLI with the previous good outputs as --out and checks that the run failed with the
 * expected code, said every needle, and left the outputs exactly as they were. */
static char *run_failing_after(const char *shell_prefix, int want_exit, const char *args) {
  char *out = NULL;
  int rc = cbt_run(&out, "%s'%s' %s --out '%s'", shell_prefix, CB_CLI, args, prev_dir);
  if (rc != want_exit) fail_msg("exit %d (expected %d) for: %s\n%s", rc, want_exit, args, out);
  char path[900];
  size_t n = 0;
  snprintf(path, sizeof path, "%s/metrics.csv", prev_dir);
  char *m = read_or_fail(path, &n);
  if (n != prev_metrics_len || memcmp(m, prev_metrics, n) != 0) fail_msg("metrics.csv changed after: %s", args);
  free(m);
  snprintf(path, sizeof path, "%s/summary.json", prev_dir);
  char *s = read_or_fail(path, &n);
  if (n != prev_summary_len || memcmp(s, prev_summary, n) != 0) fail_msg("summary.json changed after: %s", args);
  free(s);
  /* nothing else (no temporary file) left behind */
  char *ls = NULL;
  cbt_run(&ls, "ls -A '%s'", prev_dir);
  if (strcmp(ls, "metrics.csv\nsummary.json\n") != 0) fail_msg("out folder holds:\n%s", ls);
  free(ls);
  return out;
}

static char *run_failing(int want_exit, const char *args) { return run_failing_after("", want_exit, args); }

static int setup(void **state) {
  (void)state;
  snprintf(root, sizeof root, "%s", cbt_tmpdir("cli"));
  snprintf(sdir, sizeof sdir, "%s/s", root);
  mkdir_or_fail(sdir);
  char p[800];
  snprintf(p, sizeof p, "%s/data", root);
  mkdir_or_fail(p);
  snprintf(p, sizeof p, "%s/data/dailynk", root);
  mkdir_or_fail(p);
  snprintf(p, sizeof p, "%s/data/bad", root);
  mkdir_or_fail(p);
  base_text = read_or_fail(BASELINE, NULL);
  char *rates = read_or_fail(RATES, NULL);
  snprintf(p, sizeof p, "%s/data/dailynk", root);
  free(cbt_write_file(p, "won-per-dollar.csv", rates));
  free(rates);
  free(cbt_write_file(sdir, "base.yaml", base_text));

  /* the exit codes the usage text documents */
  char *out = NULL;
  if (cbt_run(&out, "'%s' help", CB_CLI) != 0) fail_msg("help failed:\n%s", out);
  const char *codes = strstr(out, "exit codes:");
  if (!codes) fail_msg("the usage text documents no exit codes:\n%s", out);
  const char *bad = strstr(codes, " bad input"), *use = strstr(codes, " usage"), *mem = strstr(codes, " out of memory");
  if (!bad || !use || !mem) fail_msg("exit codes for bad input, usage and memory not documented:\n%s", codes);
  exit_input = bad[-1] - '0';
  exit_usage = use[-1] - '0';
  exit_nomem = mem[-1] - '0';
  free(out);
  if (exit_input <= 0 || exit_usage <= 0 || exit_input == exit_usage) fail_msg("odd exit codes: %d %d", exit_input, exit_usage);

  /* a good run whose outputs every failing run must leave alone */
  snprintf(prev_dir, sizeof prev_dir, "%s/prev", root);
  if (cbt_run(&out, "'%s' run '%s/base.yaml' " SHORT " --quiet --out '%s'", CB_CLI, sdir, prev_dir) != 0)
    fail_msg("the small run failed:\n%s", out);
  free(out);
  snprintf(p, sizeof p, "%s/metrics.csv", prev_dir);
  prev_metrics = read_or_fail(p, &prev_metrics_len);
  snprintf(p, sizeof p, "%s/summary.json", prev_dir);
  prev_summary = read_or_fail(p, &prev_summary_len);
  assert_true(prev_metrics_len > 1000);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(base_text);
  free(prev_metrics);
  free(prev_summary);
  return 0;
}

/* ---------------- (a) a small run ---------------- */

static void test_small_run_outputs(void **state) {
  (void)state;
  char out_dir[800], p[900];
  snprintf(out_dir, sizeof out_dir, "%s/run_a", root);
  char *out = NULL;
  int rc = cbt_run(&out, "'%s' run '%s/base.yaml' " SHORT " --out '%s'", CB_CLI, sdir, out_dir);
  if (rc != 0) fail_msg("exit %d:\n%s", rc, out);
  assert_contains(out, "days simulated");
  assert_contains(out, "366"); /* 2012 is a leap year */
  free(out);

  snprintf(p, sizeof p, "%s/metrics.csv", out_dir);
  size_t n = 0;
  char *csv = read_or_fail(p, &n);
  const char *header = "date,metric,place,channel,origin,category,value\n";
  if (strncmp(csv, header, strlen(header)) != 0) fail_msg("metrics.csv starts with:\n%.200s", csv);
  /* every row has seven fields, a 2012 date, and a number at the end */
  size_t rows = 0;
  int ordered_positive = 0;
  for (char *line = strchr(csv, '\n') + 1; *line; rows++) {
    char *eol = strchr(line, '\n');
    if (!eol) fail_msg("metrics.csv does not end with a newline");
    *eol = '\0';
    int commas = 0;
    for (char *c = line; *c; c++) commas += *c == ',';
    if (commas != 6) fail_msg("row with %d fields: %s", commas + 1, line);
    if (strncmp(line, "2012-", 5) != 0) fail_msg("row outside 2012: %s", line);
    char *last = strrchr(line, ',') + 1, *end = NULL;
    double v = strtod(last, &end);
    if (end == last || *end) fail_msg("value is not a number: %s", line);
    if (strstr(line, ",ordered_units,") && v > 0) ordered_positive = 1;
    line = eol + 1;
  }
  assert_true(rows > 100);
  assert_true(ordered_positive); /* buyers ordered something in a year */
  free(csv);

  snprintf(p, sizeof p, "%s/summary.json", out_dir);
  char *sum = read_or_fail(p, NULL);
  assert_contains(sum, "\"scenario_sha256\"");
  assert_contains(sum, "\"days_simulated\": 366");
  /* the recorded hash is the scenario file's SHA-256 */
  char *sha = NULL;
  if (cbt_run(&sha, "sha256sum '%s/base.yaml'", sdir) != 0) fail_msg("sha256sum failed: %s", sha);
  char want[100];
  snprintf(want, sizeof want, "\"scenario_sha256\": \"%.64s\"", sha);
  assert_contains(sum, want);
  free(sha);
  /* and the metrics.csv written with it is recorded by its SHA-256 */
  sha = NULL;
  if (cbt_run(&sha, "sha256sum '%s/metrics.csv'", out_dir) != 0) fail_msg("sha256sum failed: %s", sha);
  snprintf(want, sizeof want, "\"metrics_sha256\": \"%.64s\"", sha);
  assert_contains(sum, want);
  free(sha);
  free(sum);
}

/* Same seed, same bytes; another seed, other numbers. */
static void test_run_is_reproducible(void **state) {
  (void)state;
  char a[800], b[800], p[900];
  snprintf(a, sizeof a, "%s/rep_a", root);
  snprintf(b, sizeof b, "%s/rep_b", root);
  char *out = NULL;
  if (cbt_run(&out, "'%s' run '%s/base.yaml' " SHORT " --quiet --out '%s'", CB_CLI, sdir, a) != 0) fail_msg("%s", out);
  free(out);
  snprintf(p, sizeof p, "%s/metrics.csv", a);
  size_t na = 0;
  char *ma = read_or_fail(p, &na);
  assert_int_equal(na, prev_metrics_len);
  assert_memory_equal(ma, prev_metrics, na);
  if (cbt_run(&out, "'%s' run '%s/base.yaml' " SHORT " --seed 7 --quiet --out '%s'", CB_CLI, sdir, b) != 0) fail_msg("%s", out);
  free(out);
  snprintf(p, sizeof p, "%s/metrics.csv", b);
  size_t nb = 0;
  char *mb = read_or_fail(p, &nb);
  assert_true(nb != na || memcmp(ma, mb, na) != 0);
  free(ma);
  free(mb);
}

/* ---------------- (b) bad input ---------------- */

static void test_malformed_yaml(void **state) {
  (void)state;
  char where[300], args[2000];
  char *path = variant("indent.yaml", "\n    quality: 0.85", "\n   quality: 0.85", "\n   |quality: 0.85", where, sizeof where);
  snprintf(args, sizeof args, "run '%s' " POP, path);
  char *out = run_failing(exit_input, args);
  /* libyaml notices the bad indentation at the edited line or the next */
  int line = 0, col = 0;
  sscanf(where, "indent.yaml:%d:%d:", &line, &col);
  char at1[100], at2[100];
  snprintf(at1, sizeof at1, "indent.yaml:%d:", line);
  snprintf(at2, sizeof at2, "indent.yaml:%d:", line + 1);
  if (!contains(out, at1) && !contains(out, at2)) fail_msg("no position near line %d:\n%s", line, out);
  assert_contains(out, "YAML");
  assert_contains(out, "indentation");
  free(out);
  free(path);
}

static void test_unknown_key(void **state) {
  (void)state;
  char where[300], args[2000];
  char *path = variant("unknown.yaml", "\n  income_sigma: 0.6", "\n  income_sigmaa: 0.6", "\n  |income_sigmaa", where, sizeof where);
  snprintf(args, sizeof args, "run '%s' " POP, path);
  char *out = run_failing(exit_input, args);
  assert_contains(out, where);
  assert_contains(out, "buyers.income_sigmaa");
  assert_contains(out, "did you mean 'income_sigma'");
  free(out);
  free(path);
}

static void test_wrong_type(void **state) {
  (void)state;
  char where[300], args[2000];
  char *path = variant("type.yaml", "\n  seed: 1 ", "\n  seed: abc ", "seed: |abc", where, sizeof where);
  snprintf(args, sizeof args, "run '%s' " POP, path);
  char *out = run_failing(exit_input, args);
  assert_contains(out, where);
  assert_contains(out, "simulation.seed");
  assert_contains(out, "expected an integer");
  assert_contains(out, "'abc'");
  free(out);
  free(path);
}

static void test_out_of_range(void **state) {
  (void)state;
  char where[300], args[2000];
  char *path = variant("range.yaml", "\n  spend_share: 0.3", "\n  spend_share: 1.5", "spend_share: |1.5", where, sizeof where);
  snprintf(args, sizeof args, "run '%s' " POP, path);
  char *out = run_failing(exit_input, args);
  assert_contains(out, where);
  assert_contains(out, "buyers.spend_share");
  assert_contains(out, "out of range");
  assert_contains(out, "0 to 1");
  free(out);
  free(path);
}

static void test_nan(void **state) {
  (void)state;
  char where[300], args[2000];
  char *path = variant("nan.yaml", "\n  spend_share: 0.3", "\n  spend_share: .nan", "spend_share: |.nan", where, sizeof where);
  snprintf(args, sizeof args, "run '%s' " POP, path);
  char *out = run_failing(exit_input, args);
  assert_contains(out, where);
  assert_contains(out, "buyers.spend_share");
  assert_contains(out, "not a finite number");
  free(out);
  /* the same through --set: the fifth assignment, its value at column 20 */
  snprintf(args, sizeof args, "run '%s/base.yaml' " POP " --set buyers.spend_share=nan", sdir);
  out = run_failing(exit_input, args);
  assert_contains(out, "--set #5:1:20:");
  assert_contains(out, "buyers.spend_share");
  assert_contains(out, "not a finite number");
  free(out);
  free(path);
}

static void test_invalid_date(void **state) {
  (void)state;
  char where[300], args[2000];
  char *path = variant("date.yaml", "\n    start: 2013-07-01", "\n    start: 2013-02-30", "start: |2013-02-30", where, sizeof where);
  snprintf(args, sizeof args, "run '%s' " POP, path);
  char *out = run_failing(exit_input, args);
  assert_contains(out, where);
  assert_contains(out, "crackdowns.victory_day_2013.start");
  assert_contains(out, "2013-02-30");
  free(out);
  free(path);
}

static void test_end_before_start(void **state) {
  (void)state;
  char where[300], args[2000];
  char *path = variant("endfirst.yaml", "\n  end: 2019-12-31", "\n  end: 2011-12-31", "\n  end: |2011-12-31", where, sizeof where);
  snprintf(args, sizeof args, "run '%s' " POP, path);
  char *out = run_failing(exit_input, args);
  assert_contains(out, where);
  assert_contains(out, "simulation.end");
  assert_contains(out, "before simulation.start");
  free(out);
  free(path);
}

static void test_event_outside_period(void **state) {
  (void)state;
  char where[300], args[2000];
  char *path = variant("event.yaml", "\n    start: 2016-03-15", "\n    start: 2011-03-15", "start: |2011-03-15", where, sizeof where);
  snprintf(args, sizeof args, "run '%s' " POP, path);
  char *out = run_failing(exit_input, args);
  assert_contains(out, where);
  assert_contains(out, "campaigns.kim_jong_un_patriotism.start");
  assert_contains(out, "before the simulated period");
  free(out);
  free(path);
}

static void test_unknown_reference(void **state) {
  (void)state;
  char where[300], args[2000];
  char *path = variant("ref.yaml", "smuggling_checkpoints: [border_guard_sinuiju]", "smuggling_checkpoints: [border_guard_sinuijuu]",
                       "smuggling_checkpoints: [|border_guard_sinuijuu]", where, sizeof where);
  snprintf(args, sizeof args, "run '%s' " POP, path);
  char *out = run_failing(exit_input, args);
  assert_contains(out, where);
  assert_contains(out, "crossings.sinuiju.smuggling_checkpoints");
  assert_contains(out, "'border_guard_sinuijuu'");
  assert_contains(out, "did you mean 'border_guard_sinuiju'");
  free(out);
  free(path);
}

static void test_shares_must_sum_to_one(void **state) {
  (void)state;
  char where[300], args[2000];
  /* the error points at the markets collection (its first entry) */
  char *path = variant("shares.yaml", "\n    buyer_share: 0.7 ", "\n    buyer_share: 0.6 ", "\nmarkets:\n  |pyongyang:", where, sizeof where);
  snprintf(args, sizeof args, "run '%s' " POP, path);
  char *out = run_failing(exit_input, args);
  assert_contains(out, where);
  assert_contains(out, "markets");
  assert_contains(out, "buyer_share");
  assert_contains(out, "0.9");
  assert_contains(out, "sum to 1");
  free(out);
  free(path);
}

/* One failing variant: runs it, expects the bad-input exit, the file:line:column of the mark and
 * every needle (NULL-terminated) in the message. */
static void expect_rejected(const char *name, const char *old, const char *repl, const char *mark, const char *const *needles) {
  char where[300], args[2000];
  char *path = variant(name, old, repl, mark, where, sizeof where);
  snprintf(args, sizeof args, "run '%s' " POP, path);
  char *out = run_failing(exit_input, args);
  assert_contains(out, where);
  for (const char *const *n = needles; *n; n++) assert_contains(out, *n);
  free(out);
  free(path);
}

/* One failing --set, the fifth assignment after the small world's four: expects the bad-input
 * exit and every needle (NULL-terminated) in the message. */
static void expect_set_rejected(const char *assignment, const char *const *needles) {
  char args[2000];
  snprintf(args, sizeof args, "run '%s/base.yaml' " POP " --set '%s'", sdir, assignment);
  char *out = run_failing(exit_input, args);
  for (const char *const *n = needles; *n; n++) assert_contains(out, *n);
  free(out);
}
#define EXPECT_SET_REJECTED(assignment, ...) expect_set_rejected((assignment), (const char *const[]){__VA_ARGS__, NULL})

static void test_infinity(void **state) {
  (void)state;
  expect_rejected("inf.yaml", "\n  spend_share: 0.3", "\n  spend_share: .inf", "spend_share: |.inf",
                  (const char *const[]){"buyers.spend_share", "not a finite number", NULL});
  expect_rejected("neginf.yaml", "\n  review_days: 30", "\n  review_days: -.Inf", "review_days: |-.Inf",
                  (const char *const[]){"buyers.review_days", "not a finite number", NULL});
}

static void test_negative_count(void **state) {
  (void)state;
  EXPECT_SET_REJECTED("population.buyers=-5", "--set #5:1:19:", "population.buyers", "-5 is out of range");
}

static void test_event_end_before_start(void **state) {
  (void)state;
  expect_rejected("eventorder.yaml", "\n    start: 2013-07-01", "\n    start: 2013-09-01", "\n    end: |2013-07-31",
                  (const char *const[]){"crackdowns.victory_day_2013.end", "ends before it starts", NULL});
}

static void test_unknown_goods(void **state) {
  (void)state;
  /* a sanction naming a kind of product the catalogue does not have */
  EXPECT_SET_REJECTED("sanctions={un: {date: 2016-03-02, by: un, action: impose, origins: [cn], categories: [cosmetics, televisions]}}",
                      "--set #5:", "sanctions.un.categories", "'televisions'");
}

/* A measure must say who imposes it, be in force some day of the run, and name whose income it cuts. */
static void test_malformed_measures(void **state) {
  (void)state;
  EXPECT_SET_REJECTED("sanctions.x={date: 2016-03-02, origins: [cn]}", "--set #5:", "sanctions.x.by", "missing");
  EXPECT_SET_REJECTED("sanctions.x={date: 2016-03-02, by: eu, origins: [cn]}", "--set #5:", "sanctions.x.by", "'eu'", "authorities");
  EXPECT_SET_REJECTED("sanctions.x={date: 2005-01-01, end: 2008-12-31, by: un, origins: [cn]}", "sanctions.x.end", "before the simulated period");
  EXPECT_SET_REJECTED("sanctions.x={date: 2016-03-02, end: 2016-01-01, by: un, origins: [cn]}", "sanctions.x.end", "ends before it takes effect");
  EXPECT_SET_REJECTED("sanctions.x={date: 2016-03-02, by: un, income_lost: 0.5}", "sanctions.x.income_lost", "no income source is named");
  EXPECT_SET_REJECTED("sanctions.x={date: 2016-03-02, by: un, categories: [laptops]}", "sanctions.x.categories", "covers no goods");
  EXPECT_SET_REJECTED("authorities.un.enforced_by=[possession]", "authorities.un.enforced_by", "counts listed goods in no channel");
  EXPECT_SET_REJECTED("checkpoint_kinds.border_guard.listed_label=[legal]", "checkpoint_kinds.border_guard", "a channel it does not see");
}

/* Bases name crossings that exist; the review's chance is a probability. */
static void test_malformed_bases(void **state) {
  (void)state;
  EXPECT_SET_REJECTED("trader_types.dealer.based_at=[sinuiju, chongjin]", "--set #5:", "trader_types.dealer.based_at", "'chongjin'", "crossings");
  EXPECT_SET_REJECTED("traders.relocate_prob=2", "--set #5:", "traders.relocate_prob", "out of range");
  EXPECT_SET_REJECTED("traders.relocate_cost_usd=-1", "--set #5:", "traders.relocate_cost_usd", "out of range");
}

/* The route network: hub -> crossing -> market. A leg pointing back (a cycle) names the wrong kind
 * of place; dead ends and doubled legs are refused too. */
static void test_route_back_edge(void **state) {
  (void)state;
  expect_rejected("backedge.yaml", "dandong_sinuiju: {from: dandong, to: sinuiju,", "dandong_sinuiju: {from: dandong, to: dandong,",
                  "dandong_sinuiju: {from: dandong, to: |dandong,", (const char *const[]){"supply_legs.dandong_sinuiju.to", "'dandong'", NULL});
}

static void test_route_duplicate_leg(void **state) {
  (void)state;
  expect_rejected("dupleg.yaml", "\n  shenyang_sinuiju: {",
                  "\n  dandong_sinuiju_b: {from: dandong, to: sinuiju, days: 1, cost_per_bulk_usd: 0.6}\n  shenyang_sinuiju: {",
                  "dandong_sinuiju_b: |{from",
                  (const char *const[]){"supply_legs.dandong_sinuiju_b", "same places as supply_legs.dandong_sinuiju", NULL});
}

static void test_route_dead_ends(void **state) {
  (void)state;
  /* a hub no supply leg leaves */
  expect_rejected("deadhub.yaml", "\n  shenyang:                         # the regional",
                  "\n  yanji: {price_factor: 1.0, middlemen_share: 0}\n  shenyang:                         # the regional", "yanji: |{price",
                  (const char *const[]){"hubs.yanji", "no supply leg leaves this hub", NULL});
  /* a crossing no supply leg reaches */
  expect_rejected("nosupply.yaml",
                  "\n  dandong_hyesan: {from: dandong, to: hyesan, days: 4, cost_per_bulk_usd: 4}         # about 500 km to Changbai"
                  "\n  shenyang_hyesan: {from: shenyang, to: hyesan, days: 3, cost_per_bulk_usd: 3.5}     # about 450 km to Changbai",
                  "", "\n    |official_checkpoints: [cn_customs_changbai", (const char *const[]){"crossings.hyesan", "no supply leg reaches this crossing", NULL});
  /* a crossing no delivery leg leaves */
  const char *hy = strstr(base_text, "\n  hyesan_hyesan: {");
  const char *end = hy ? strstr(hy, "\n\n") : NULL;
  if (!hy || !end) fail_msg("the baseline's delivery legs from hyesan moved; update test_cli.c");
  char *legs = strndup(hy, (size_t)(end - hy));
  assert_non_null(strstr(legs, "hyesan_sinuiju"));
  expect_rejected("nodelivery.yaml", legs, "", "\n    |official_checkpoints: [cn_customs_changbai", (const char *const[]){"crossings.hyesan", "no delivery leg leaves this crossing", NULL});
  free(legs);
}

/* A run whose estimated memory exceeds --max-memory is refused before it allocates, with the
 * estimate and the limit; the same limit is shared by an experiment's runs. */
static void test_memory_limit(void **state) {
  (void)state;
  char args[2000];
  snprintf(args, sizeof args, "run '%s/base.yaml' " POP " --max-memory 8M", sdir);
  char *out = run_failing(exit_nomem, args);
  assert_contains(out, "base.yaml: this scenario needs about");
  assert_contains(out, "more than the 8 MiB allowed by the memory limit (--max-memory)");
  assert_contains(out, "lower population.buyers");
  free(out);
  /* an ensemble is refused before its store is created */
  char db[800];
  snprintf(db, sizeof db, "%s/limit.db", root);
  out = NULL;
  int rc = cbt_run(&out, "'%s' ensemble '%s/base.yaml' " POP " --runs 2 --jobs 2 --max-memory 20M --db '%s' --quiet", CB_CLI, sdir, db);
  assert_int_equal(rc, exit_nomem);
  assert_contains(out, "this scenario needs about");
  free(out);
  struct stat st;
  assert_int_not_equal(stat(db, &st), 0);
  /* a malformed size is a usage error */
  out = NULL;
  rc = cbt_run(&out, "'%s' run '%s/base.yaml' --max-memory 1.5G", CB_CLI, sdir);
  assert_int_equal(rc, exit_usage);
  assert_contains(out, "--max-memory takes a size in bytes");
  free(out);
}

/* A full disk, simulated by a file-size limit (ulimit -f, in 1 KiB blocks) below the size of
 * metrics.csv: the run fails naming the file and the cause, and the previous outputs (both files)
 * are left as they were, with no temporary file behind. */
static void test_full_disk_keeps_outputs(void **state) {
  (void)state;
  char args[2000];
  snprintf(args, sizeof args, "run '%s/base.yaml' " SHORT " --quiet", sdir);
  assert_true(prev_metrics_len > 64 * 1024);
  char *out = run_failing_after("ulimit -f 64; ", exit_input, args);
  assert_contains(out, "metrics.csv: write failed: File too large");
  assert_contains(out, "check free disk space");
  free(out);
}

/* A run killed (SIGKILL) at any moment, writing included, leaves the previous complete pair of
 * outputs or the new complete pair, never a mix or a part; the next run clears the killed run's
 * temporary files. Kill times are spread over a measured run, densely around its end. */
static int same_file(const char *path, const char *want, size_t want_len) {
  size_t n = 0;
  char *got = cbt_read_file(path, &n);
  int same = got && n == want_len && memcmp(got, want, n) == 0;
  free(got);
  return same;
}

static void test_killed_run_leaves_whole_outputs(void **state) {
  (void)state;
  char kdir[800], ndir[800], args[2000], m[900], j[900];
  snprintf(kdir, sizeof kdir, "%s/killed", root);
  snprintf(ndir, sizeof ndir, "%s/unkilled", root);
  snprintf(args, sizeof args, "run '%s/base.yaml' " SHORT " --seed 5 --quiet", sdir);
  char *out = NULL;
  double t0 = cbt_now();
  if (cbt_run(&out, "'%s' %s --out '%s'", CB_CLI, args, ndir) != 0) fail_msg("%s", out);
  double took = cbt_now() - t0;
  free(out);
  snprintf(m, sizeof m, "%s/metrics.csv", ndir);
  snprintf(j, sizeof j, "%s/summary.json", ndir);
  size_t new_m_len = 0, new_j_len = 0;
  char *new_m = cbt_read_file(m, &new_m_len), *new_j = cbt_read_file(j, &new_j_len);
  snprintf(m, sizeof m, "%s/metrics.csv", kdir);
  snprintf(j, sizeof j, "%s/summary.json", kdir);
  int olds = 0, news = 0;
  for (int k = 0; k < 16; k++) {
    double at = took * (k < 8 ? 0.1 + 0.1 * k : 0.85 + 0.03 * (k - 8));
    out = NULL;
    /* start from the previous outputs */
    cbt_run(&out, "rm -rf '%s' && mkdir -p '%s' && cp '%s/metrics.csv' '%s/summary.json' '%s/'", kdir, kdir, prev_dir, prev_dir, kdir);
    free(out);
    out = NULL;
    cbt_run(&out, "'%s' %s --out '%s' & p=$!; sleep %.3f; kill -9 $p 2>/dev/null; wait $p", CB_CLI, args, kdir, at);
    free(out);
    int old_pair = same_file(m, prev_metrics, prev_metrics_len) && same_file(j, prev_summary, prev_summary_len);
    int new_pair = same_file(m, new_m, new_m_len) && same_file(j, new_j, new_j_len);
    /* the summary records wall time, so a new pair is matched on metrics.csv and the summary's start */
    if (!new_pair && same_file(m, new_m, new_m_len)) {
      char *js = cbt_read_file(j, NULL);
      new_pair = js && strstr(js, "\"seed\": 5,") != NULL;
      free(js);
    }
    if (!old_pair && !new_pair) fail_msg("killed after %.3f s: the outputs are neither the previous pair nor the new one", at);
    olds += old_pair;
    news += new_pair;
  }
  printf("killed runs: %d left the previous outputs, %d the new ones\n", olds, news);
  assert_true(olds > 0);
  /* a run to the end clears what the killed runs left */
  out = NULL;
  if (cbt_run(&out, "'%s' %s --out '%s' && ls -A '%s'", CB_CLI, args, kdir, kdir) != 0) fail_msg("%s", out);
  assert_string_equal(out, "metrics.csv\nsummary.json\n");
  free(out);
  free(new_m);
  free(new_j);
}

/* The remaining rules across fields, and documents that are not a scenario at all. */
static void test_unreachable_market(void **state) {
  (void)state;
  const char *a = strstr(base_text, "\n  sinuiju_hyesan: {"), *b = a ? strstr(a + 1, "\n  hyesan_pyongyang: {") : NULL;
  if (!a || !b) fail_msg("the baseline's delivery legs to hyesan moved; update test_cli.c");
  char *legs = strndup(a, (size_t)(b - a));
  assert_non_null(strstr(legs, "hyesan_hyesan"));
  expect_rejected("unreachable.yaml", legs, "", "\n  hyesan:\n    |buyer_share",
                  (const char *const[]){"markets.hyesan", "no route reaches this market", NULL});
  free(legs);
}

static void test_share_and_markup_bounds(void **state) {
  (void)state;
  EXPECT_SET_REJECTED("buyers.rank3_share=0.8", "buyers.rank3_share", "rank2_share + rank3_share exceed 1");
  EXPECT_SET_REJECTED("market.markup_normal=5", "market.markup_normal", "outside market.markup_min to market.markup_max");
}

static void test_checkpoint_kinds(void **state) {
  (void)state;
  EXPECT_SET_REJECTED("crossings.sinuiju.official_checkpoints=[cn_customs_dandong, group109_sinuiju]",
                      "crossings.sinuiju.official_checkpoints", "'group109_sinuiju' is a possession team");
  EXPECT_SET_REJECTED("markets.pyongyang.possession_checkpoints=[kp_customs_sinuiju]", "markets.pyongyang.possession_checkpoints",
                      "list only checkpoints whose kind checks holdings");
  /* the rule sets are checked against themselves: an offence only where the kind looks, and a
   * possession team looks at no channel */
  EXPECT_SET_REJECTED("checkpoint_kinds.border_guard.any_label=[smuggled, legal]", "checkpoint_kinds.border_guard",
                      "names an offence in a channel it does not see");
  EXPECT_SET_REJECTED("checkpoint_kinds.possession.sees=[legal]", "checkpoint_kinds.possession", "sees no channels");
  EXPECT_SET_REJECTED("checkpoints.kp_customs_sinuiju.kind=nowhere", "checkpoints.kp_customs_sinuiju.kind", "checkpoint_kinds");
  /* the old bribe inputs are gone, and the message says what is allowed */
  EXPECT_SET_REJECTED("checkpoints.kp_customs_sinuiju.accept_prob=0.5", "unknown key 'accept_prob'", "monitoring");
}

static void test_not_a_scenario(void **state) {
  (void)state;
  char args[2000];
  char *empty = cbt_write_file(sdir, "empty.yaml", "# nothing here\n");
  snprintf(args, sizeof args, "run '%s'", empty);
  char *out = run_failing(exit_input, args);
  assert_contains(out, "empty.yaml:1:1:");
  assert_contains(out, "the document is empty");
  free(out);
  char *list = cbt_write_file(sdir, "list.yaml", "- simulation\n- population\n");
  snprintf(args, sizeof args, "run '%s'", list);
  out = run_failing(exit_input, args);
  assert_contains(out, "list.yaml:1:1:");
  assert_contains(out, "not a mapping");
  free(out);
  free(empty);
  free(list);
}

/* ---------------- (c) results stores: damage and a full disk ---------------- */

static char store_db[800], store_csv[800]; /* a 2-run store and its export */

static void make_store(void) {
  if (store_db[0]) return;
  snprintf(store_db, sizeof store_db, "%s/store.db", root);
  snprintf(store_csv, sizeof store_csv, "%s/store.csv", root);
  char *out = NULL;
  if (cbt_run(&out, "'%s' ensemble '%s/base.yaml' " SHORT " --runs 2 --quiet --db '%s' && '%s' export '%s' --out '%s'", CB_CLI, sdir,
              store_db, CB_CLI, store_db, store_csv) != 0)
    fail_msg("the store could not be made:\n%s", out);
  free(out);
}

/* A copy of the store with one bit flipped (offset >= 0) or its first `cut` bytes (offset < 0). */
static void damaged_copy(const char *copy, long offset, long cut) {
  size_t n = 0;
  char *bytes = cbt_read_file(store_db, &n);
  assert_non_null(bytes);
  if (offset >= 0) bytes[offset] = (char)(bytes[offset] ^ (1 << (offset % 8)));
  FILE *f = fopen(copy, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(bytes, 1, offset >= 0 ? n : (size_t)cut, f), offset >= 0 ? n : (size_t)cut);
  fclose(f);
  free(bytes);
}

/* A damaged store is named and refused, never read as if whole: with one bit flipped anywhere, an
 * export either fails naming the store or (the bit was in unused space) gives exactly the original
 * export. A truncated store is refused. */
static void test_damaged_store_refused(void **state) {
  (void)state;
  make_store();
  char copy[900], csv[900];
  snprintf(copy, sizeof copy, "%s/damaged.db", root);
  snprintf(csv, sizeof csv, "%s/damaged.csv", root);
  char *want = cbt_read_file(store_csv, NULL);
  size_t n = 0;
  free(cbt_read_file(store_db, &n));
  int refused = 0, by_checksum = 0, same = 0;
  for (long off = 100; off < (long)n; off += 1999) {
    damaged_copy(copy, off, 0);
    remove(csv);
    char *out = NULL;
    int rc = cbt_run(&out, "'%s' export '%s' --out '%s'", CB_CLI, copy, csv);
    if (rc == 0) {
      char *got = cbt_read_file(csv, NULL);
      if (!got || strcmp(got, want) != 0) fail_msg("a bit flipped at byte %ld changed the export without an error", off);
      free(got);
      same++;
    } else {
      if (rc != exit_input || !contains(out, copy)) fail_msg("byte %ld flipped: exit %d, message:\n%s", off, rc, out);
      refused++;
      by_checksum += contains(out, "no longer matches the checksum");
    }
    free(out);
  }
  printf("bit flips: %d refused (%d by a run's checksum), %d in unused space\n", refused, by_checksum, same);
  assert_true(refused > 0);
  assert_true(by_checksum > 0);
  /* a store from a newer contraband */
  damaged_copy(copy, -1, (long)n);
  char *o2 = NULL;
  int rc2 = cbt_run(&o2, "sqlite3 '%s' 'PRAGMA user_version = 99' && '%s' export '%s' --out '%s'", copy, CB_CLI, copy, csv);
  assert_int_equal(rc2, exit_input);
  assert_contains(o2, "written with store schema 99, newer than this contraband reads");
  free(o2);
  damaged_copy(copy, -1, (long)n / 2);
  char *out = NULL;
  int rc = cbt_run(&out, "'%s' export '%s' --out '%s'", CB_CLI, copy, csv);
  assert_int_equal(rc, exit_input);
  assert_contains(out, copy);
  free(out);
  free(want);
}

/* A full disk while an ensemble adds runs to a store: the command fails naming the store, and the
 * runs stored before stay whole (each run is one transaction). */
static void test_full_disk_keeps_store(void **state) {
  (void)state;
  make_store();
  char db[900], csv[900];
  snprintf(db, sizeof db, "%s/full.db", root);
  snprintf(csv, sizeof csv, "%s/full.csv", root);
  size_t n = 0;
  free(cbt_read_file(store_db, &n));
  damaged_copy(db, -1, (long)n); /* a whole copy */
  char *out = NULL;
  long limit_kib = (long)(n / 1024) + 16; /* room for less than one more run */
  int rc = cbt_run(&out, "ulimit -f %ld; '%s' ensemble '%s/base.yaml' " SHORT " --runs 4 --quiet --db '%s'", limit_kib, CB_CLI, sdir, db);
  assert_int_equal(rc, exit_input);
  assert_contains(out, db);
  free(out);
  out = NULL;
  rc = cbt_run(&out, "'%s' export '%s' --out '%s'", CB_CLI, db, csv);
  if (rc != 0) fail_msg("the store is not readable after the failure:\n%s", out);
  free(out);
  char *want = cbt_read_file(store_csv, NULL), *got = cbt_read_file(csv, NULL);
  assert_non_null(got);
  assert_string_equal(got, want);
  free(want);
  free(got);
}

static void test_missing_scenario_file(void **state) {
  (void)state;
  char args[2000];
  snprintf(args, sizeof args, "run '%s/nope.yaml' " POP, sdir);
  char *out = run_failing(exit_input, args);
  assert_contains(out, "nope.yaml");
  assert_contains(out, "cannot open");
  free(out);
}

static void test_missing_rates_file(void **state) {
  (void)state;
  char args[2000];
  char *path = variant("norates.yaml", "won_per_usd_file: ../data/dailynk/won-per-dollar.csv",
                       "won_per_usd_file: ../data/dailynk/missing.csv", NULL, NULL, 0);
  snprintf(args, sizeof args, "run '%s' " POP, path);
  char *out = run_failing(exit_input, args);
  assert_contains(out, "norates.yaml");
  assert_contains(out, "simulation.won_per_usd_file");
  assert_contains(out, "missing.csv");
  assert_contains(out, "cannot open");
  free(out);
  free(path);
}

static void test_corrupt_rates_file(void **state) {
  (void)state;
  char args[2000], dir[800];
  snprintf(dir, sizeof dir, "%s/data/bad", root);
  free(cbt_write_file(dir, "won.csv",
                      "entity,time,value\npyongyang,2012-01-05,5000\nsinuiju,2012-01-05,5100\nhyesan,2012-01-05,5200\n"
                      "pyongyang,2012-02-05,5300\npyongyang,2012-13-01,5400\n"));
  free(cbt_write_file(dir, "won2.csv", "entity,time,value\npyongyang,2012-01-05,5000\nsinuiju,2012-01-05,lots\n"));
  char *path = variant("badrates.yaml", "won_per_usd_file: ../data/dailynk/won-per-dollar.csv",
                       "won_per_usd_file: ../data/bad/won.csv", NULL, NULL, 0);
  snprintf(args, sizeof args, "run '%s' " POP, path);
  char *out = run_failing(exit_input, args);
  assert_contains(out, "won.csv:6:11:");
  assert_contains(out, "2012-13-01");
  assert_contains(out, "simulation.won_per_usd_file");
  free(out);
  free(path);
  path = variant("badrates2.yaml", "won_per_usd_file: ../data/dailynk/won-per-dollar.csv",
                 "won_per_usd_file: ../data/bad/won2.csv", NULL, NULL, 0);
  snprintf(args, sizeof args, "run '%s' " POP, path);
  out = run_failing(exit_input, args);
  assert_contains(out, "won2.csv:3:20:");
  assert_contains(out, "lots");
  free(out);
  free(path);
}

static void test_bad_set_syntax(void **state) {
  (void)state;
  EXPECT_SET_REJECTED("population.buyers", "--set #5:", "population.buyers", "'='");
  EXPECT_SET_REJECTED("=3", "--set #5:", "empty");
}

static void test_unknown_set_key(void **state) {
  (void)state;
  EXPECT_SET_REJECTED("population.buyerz=3", "--set #5:1:12:", "population.buyerz", "did you mean 'buyers'");
  /* a wrong type through --set points at the value */
  EXPECT_SET_REJECTED("population.buyers=abc", "--set #5:1:19:", "population.buyers", "expected an integer");
}

static void test_usage_errors(void **state) {
  (void)state;
  char args[2000];
  snprintf(args, sizeof args, "run '%s/base.yaml' " POP " --seed abc", sdir);
  char *out = run_failing(exit_usage, args);
  assert_contains(out, "--seed");
  assert_contains(out, "'abc'");
  assert_contains(out, "usage:");
  free(out);
  snprintf(args, sizeof args, "run '%s/base.yaml' " POP " --seed -3", sdir);
  out = run_failing(exit_usage, args);
  assert_contains(out, "--seed");
  free(out);
  snprintf(args, sizeof args, "run '%s/base.yaml' " POP " --bogus", sdir);
  out = run_failing(exit_usage, args);
  assert_contains(out, "unknown option --bogus");
  free(out);
  out = run_failing(exit_usage, "run " POP);
  assert_contains(out, "needs a scenario");
  free(out);
  snprintf(args, sizeof args, "run '%s/base.yaml' '%s/base.yaml'", sdir, sdir);
  out = run_failing(exit_usage, args);
  assert_contains(out, "too many input files");
  free(out);
  out = run_failing(exit_usage, "frobnicate");
  assert_contains(out, "unknown command 'frobnicate'");
  free(out);
  /* an option without its value (--out is given after it by run_failing, so use --seed last) */
  char *o2 = NULL;
  int rc = cbt_run(&o2, "'%s' run '%s/base.yaml' --seed", CB_CLI, sdir);
  assert_int_equal(rc, exit_usage);
  assert_contains(o2, "--seed needs a value");
  free(o2);
  rc = cbt_run(&o2, "'%s'", CB_CLI);
  assert_int_equal(rc, exit_usage);
  assert_contains(o2, "no command");
  free(o2);
}

/* An output folder that cannot be made: the run fails after simulating, and the file standing in
 * the way is untouched. */
static void test_unwritable_output(void **state) {
  (void)state;
  char blocker[900];
  snprintf(blocker, sizeof blocker, "%s/metrics.csv", prev_dir);
  char *out = NULL;
  int rc = cbt_run(&out, "'%s' run '%s/base.yaml' " SHORT " --quiet --out '%s'", CB_CLI, sdir, blocker);
  if (rc != exit_input) fail_msg("exit %d (expected %d):\n%s", rc, exit_input, out);
  assert_contains(out, "metrics.csv");
  assert_contains(out, "not a directory");
  free(out);
  size_t n = 0;
  char *m = read_or_fail(blocker, &n);
  assert_int_equal(n, prev_metrics_len);
  assert_memory_equal(m, prev_metrics, n);
  free(m);
}

/* ---------------- (c) params, (d) --check ---------------- */

static void test_params_lists_every_section(void **state) {
  (void)state;
  char *out = NULL;
  assert_int_equal(cbt_run(&out, "'%s' params", CB_CLI), 0);
  assert_contains(out, "| key | type | range | default | unit | meaning |");
  assert_contains(out, "|---|");
  /* every top-level key of the baseline has its section with a table */
  int sections = 0;
  for (const char *line = base_text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (!((*line >= 'a' && *line <= 'z') || *line == '_')) continue;
    size_t n = strcspn(line, ":");
    char head[120];
    snprintf(head, sizeof head, "\n## %.*s\n", (int)n, line);
    const char *h = strstr(out, head);
    if (!h) fail_msg("params has no section \"%.*s\"", (int)n, line);
    const char *next = strstr(h + 1, "\n## ");
    const char *table = strstr(h, "| key |");
    if (!table || (next && table > next)) fail_msg("section %.*s has no table", (int)n, line);
    sections++;
  }
  assert_true(sections >= 15);
  /* and so does every section of the parameter table */
  static const char *const all[] = {"simulation", "population", "origins", "categories", "hubs", "checkpoints", "crossings",
                                    "markets", "supply_legs", "delivery_legs", "trader_types", "buyers", "traders",
                                    "middlemen", "market", "sanctions", "crackdowns", "campaigns", "closures", "income_shocks",
                                    "authorities", "income_sources"};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    char head[120];
    snprintf(head, sizeof head, "\n## %s\n", all[i]);
    assert_contains(out, head);
  }
  assert_contains(out, "| `buyers` | integer | 1 to 50000000 |");
  /* written to a file, the same text */
  char file[800];
  snprintf(file, sizeof file, "%s/params.md", root);
  char *o2 = NULL;
  assert_int_equal(cbt_run(&o2, "'%s' params '%s'", CB_CLI, file), 0);
  free(o2);
  char *md = read_or_fail(file, NULL);
  assert_string_equal(md, out);
  free(md);
  free(out);
}

static void test_check_passes(void **state) {
  (void)state;
  char out_dir[800];
  snprintf(out_dir, sizeof out_dir, "%s/check", root);
  char *out = NULL;
  int rc = cbt_run(&out, "'%s' run '%s/base.yaml' " SHORT " --check --out '%s'", CB_CLI, sdir, out_dir);
  if (rc != 0) fail_msg("--check failed (exit %d):\n%s", rc, out);
  assert_contains(out, "units delivered to markets");
  free(out);
  /* checking does not change the results */
  char p[900];
  snprintf(p, sizeof p, "%s/metrics.csv", out_dir);
  size_t n = 0;
  char *m = read_or_fail(p, &n);
  assert_int_equal(n, prev_metrics_len);
  assert_memory_equal(m, prev_metrics, n);
  free(m);
}

/* ---------------- (e) scenario bases ---------------- */

static void test_base_overrides(void **state) {
  (void)state;
  free(cbt_write_file(sdir, "child.yaml",
                      "# a counterfactual that states only what differs\nbase: base.yaml\npopulation:\n  buyers: 2500\n"));
  char out_dir[800], p[900];
  snprintf(out_dir, sizeof out_dir, "%s/child", root);
  char *out = NULL;
  int rc = cbt_run(&out,
                   "'%s' run '%s/child.yaml' --set population.traders=60 --set population.middlemen=10 "
                   "--set population.officials=40 --set simulation.end=2012-12-31 --set 'sanctions={}' --set 'crackdowns={}' "
                   "--set 'campaigns={}' --set 'closures={}' --set 'income_shocks={}' --quiet --out '%s'",
                   CB_CLI, sdir, out_dir);
  if (rc != 0) fail_msg("exit %d:\n%s", rc, out);
  free(out);
  snprintf(p, sizeof p, "%s/summary.json", out_dir);
  char *sum = read_or_fail(p, NULL);
  assert_contains(sum, "\"buyers\": 2500");
  assert_contains(sum, "\"middlemen\": 10");
  free(sum);
}

static void test_base_missing(void **state) {
  (void)state;
  char *path = cbt_write_file(sdir, "orphan.yaml", "# base is on line 2\nbase: nothere.yaml\npopulation:\n  buyers: 2000\n");
  char args[2000];
  snprintf(args, sizeof args, "run '%s'", path);
  char *out = run_failing(exit_input, args);
  assert_contains(out, "orphan.yaml:2:7:");
  assert_contains(out, "base");
  assert_contains(out, "nothere.yaml");
  assert_contains(out, "cannot open");
  free(out);
  free(path);
  /* an error inside a base names the base file and its position */
  char where[300];
  free(variant("range2.yaml", "\n  spend_share: 0.3", "\n  spend_share: 2.5", "spend_share: |2.5", where, sizeof where));
  path = cbt_write_file(sdir, "child_bad.yaml", "base: range2.yaml\n");
  snprintf(args, sizeof args, "run '%s' " POP, path);
  out = run_failing(exit_input, args);
  assert_contains(out, where);
  assert_contains(out, "buyers.spend_share");
  free(out);
  free(path);
}

static void test_base_cycle(void **state) {
  (void)state;
  free(cbt_write_file(sdir, "cycle_a.yaml", "base: cycle_b.yaml\n"));
  free(cbt_write_file(sdir, "cycle_b.yaml", "# b\nbase: cycle_a.yaml\n"));
  char args[2000];
  snprintf(args, sizeof args, "run '%s/cycle_a.yaml'", sdir);
  char *out = run_failing(exit_input, args);
  assert_contains(out, "cycle_a.yaml:1:7:");
  assert_contains(out, "cycle_b.yaml:2:7:");
  assert_contains(out, "cycle");
  free(out);
  /* a file that is its own base */
  free(cbt_write_file(sdir, "self.yaml", "base: self.yaml\n"));
  snprintf(args, sizeof args, "run '%s/self.yaml'", sdir);
  out = run_failing(exit_input, args);
  assert_contains(out, "self.yaml:1:7:");
  assert_contains(out, "cycle");
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_small_run_outputs),
      cmocka_unit_test(test_run_is_reproducible),
      cmocka_unit_test(test_malformed_yaml),
      cmocka_unit_test(test_unknown_key),
      cmocka_unit_test(test_wrong_type),
      cmocka_unit_test(test_out_of_range),
      cmocka_unit_test(test_nan),
      cmocka_unit_test(test_invalid_date),
      cmocka_unit_test(test_end_before_start),
      cmocka_unit_test(test_event_outside_period),
      cmocka_unit_test(test_unknown_reference),
      cmocka_unit_test(test_shares_must_sum_to_one),
    cmocka_unit_test(test_infinity),
    cmocka_unit_test(test_negative_count),
    cmocka_unit_test(test_event_end_before_start),
    cmocka_unit_test(test_unknown_goods),
    cmocka_unit_test(test_malformed_measures),
    cmocka_unit_test(test_malformed_bases),
    cmocka_unit_test(test_route_back_edge),
    cmocka_unit_test(test_route_duplicate_leg),
    cmocka_unit_test(test_route_dead_ends),
    cmocka_unit_test(test_unreachable_market),
    cmocka_unit_test(test_share_and_markup_bounds),
    cmocka_unit_test(test_not_a_scenario),
    cmocka_unit_test(test_checkpoint_kinds),
    cmocka_unit_test(test_memory_limit),
    cmocka_unit_test(test_full_disk_keeps_outputs),
    cmocka_unit_test(test_killed_run_leaves_whole_outputs),
    cmocka_unit_test(test_damaged_store_refused),
    cmocka_unit_test(test_full_disk_keeps_store),
      cmocka_unit_test(test_missing_scenario_file),
      cmocka_unit_test(test_missing_rates_file),
      cmocka_unit_test(test_corrupt_rates_file),
      cmocka_unit_test(test_bad_set_syntax),
      cmocka_unit_test(test_unknown_set_key),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_unwritable_output),
      cmocka_unit_test(test_params_lists_every_section),
      cmocka_unit_test(test_check_passes),
      cmocka_unit_test(test_base_overrides),
      cmocka_unit_test(test_base_missing),
      cmocka_unit_test(test_base_cycle),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
