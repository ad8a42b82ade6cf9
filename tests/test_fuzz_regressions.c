/* Replays every input kept in fuzz/regressions/<target>/ through the fuzz targets' own input
 * functions (fuzz/inputs.c), so what a fuzzer once found, and the hostile inputs written by hand
 * (deep nesting, an alias bomb, a 100 kB CSV line, truncated and foreign snapshots), are checked by
 * every run of the suite, sanitizer build included: each must be refused cleanly with a message,
 * or accepted, and the ones listed below with exactly the code and words given. */
#include "support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contraband.h"
#include "inputs.h"
#include "model/snapshot.h"
#include "model/world.h"

#define REGRESSIONS CB_SOURCE_DIR "/fuzz/regressions"
#define BASELINE CB_SOURCE_DIR "/scenarios/baseline.yaml"

/* What a kept input must give: its code, and words its message must hold (NULL: any message). */
typedef struct expectation {
  const char *target, *file;
  int code;
  const char *words;
} expectation;

static const expectation expected[] = {
    {"scenario", "deep-flow-nesting.yaml", CB_EPARSE, "nested deeper than 64 levels"},
    {"scenario", "deep-block-nesting.yaml", CB_EPARSE, "fuzz.yaml:65:65: nested deeper than 64 levels"},
    {"scenario", "alias-bomb.yaml", CB_EPARSE, "fuzz.yaml:1:4: anchors (&a) are not supported"},
    {"scenario", "bad-utf8-deep.yaml", CB_EPARSE, "unreadable text"},
    {"scenario", "long-scalar.yaml", CB_ESCHEMA, "fuzz.yaml:6:21: simulation.won_per_usd_file"},
    {"scenario", "many-keys.yaml", CB_ESCHEMA, "fuzz.yaml:180:3: hubs"},
    {"series", "long-line.csv", CB_EPARSE, "fuzz.csv:2:1: entity name \"kkkk"},
    {"series", "long-value.csv", CB_EPARSE, "fuzz.csv:2:14: value \"9999"},
    {"series", "nul-in-header.csv", CB_EPARSE, "fuzz.csv:1:12: line contains a NUL byte"},
    {"series", "only-newlines.csv", CB_EPARSE, "fuzz.csv:1:1: header is \"\""},
    {"override", "deep-path.set", CB_EPARSE, "the path has more than 64 names"},
    {"override", "deep-value.set", CB_EPARSE, "nested deeper than 64 levels"},
    {"override", "alias-bomb.set", CB_EPARSE, "anchors (&a) are not supported"},
    {"override", "through-scalar.set", CB_EPARSE, "'simulation.start' is a single value"},
    {"snapshot", "magic-only.snap", CB_EPARSE, "not a contraband snapshot"},
    {"snapshot", "header-truncated.snap", CB_EPARSE, "not a contraband snapshot"},
    {"snapshot", "not-a-snapshot.snap", CB_EPARSE, "not a contraband snapshot"},
    {"snapshot", "wrong-version.snap", CB_EPARSE, "format version 99, this contraband reads version"},
    {"snapshot", "other-byte-order.snap", CB_EPARSE, "another byte order"},
    {"snapshot", "foreign-layout.snap", CB_ESCHEMA, "other places, goods, routes or population sizes"},
    {"snapshot", "buyer-market-out-of-range.snap", CB_EPARSE, "has a market, rank or held origin that does not exist"},
    {"snapshot", "lane-clear-at-infinity.snap", CB_EPARSE, "lane is clear on an impossible day"},
    {"results", "nul-in-metrics.bin", CB_EPARSE, "metrics.csv: a NUL byte at offset"},
    {"results", "seed-not-integer.bin", CB_EPARSE, "summary.json: fields 'seed', 'run' (integers) and 'overrides' (a list) are needed"},
    {"results", "bad-date.bin", CB_EPARSE, "metrics.csv:3:1: date: '2012-13-01' is not a date"},
    {"results", "duplicate-key.bin", CB_EPARSE, "summary.json:1:"},
    {"results", "huge-value.bin", CB_EPARSE, "metrics.csv:3:23: value: '1e999' is not a finite number"},
};

static const expectation *expectation_of(const char *target, const char *file) {
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
    if (!strcmp(expected[i].target, target) && !strcmp(expected[i].file, file)) return &expected[i];
  return NULL;
}

static char *base_text; /* the baseline's YAML, for the override target */

/* One kept input through its target's function; returns the code. */
static int replay(const char *target, const uint8_t *data, size_t size, cb_err *e) {
  if (!strcmp(target, "scenario")) return cbf_scenario(data, size, e);
  if (!strcmp(target, "series")) return cbf_series(data, size, e);
  if (!strcmp(target, "override")) return cbf_override(base_text, BASELINE, data, size, e);
  if (!strcmp(target, "snapshot")) return cbf_snapshot(BASELINE, data, size, e);
  if (!strcmp(target, "results")) return cbf_results(data, size, e);
  if (!strcmp(target, "gnuplot")) return cbf_gnuplot(data, size, 0, e);
  fail_msg("no fuzz target %s", target);
  return -1;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Replays every file of fuzz/regressions/<target>/; returns how many there were. */
static int replay_all(const char *target) {
  char dirpath[1024];
  snprintf(dirpath, sizeof dirpath, "%s/%s", REGRESSIONS, target);
  DIR *d = opendir(dirpath);
  if (!d) fail_msg("cannot open %s", dirpath);
  char *names[1024];
  int n = 0;
  for (struct dirent *de; (de = readdir(d)) != NULL;) {
    if (de->d_name[0] == '.') continue;
    if (n == 1024) fail_msg("more than 1024 files in %s", dirpath);
    names[n++] = strdup(de->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof names[0], by_name);
  for (int i = 0; i < n; i++) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dirpath, names[i]);
    size_t size = 0;
    uint8_t *data = cbf_read_file(path, &size);
    if (!data) fail_msg("cannot read %s", path);
    cb_err e;
    cb_err_clear(&e);
    int rc = replay(target, data, size, &e);
    free(data);
    const expectation *x = expectation_of(target, names[i]);
    if (x) {
      if (rc != x->code || (x->words && !strstr(e.msg, x->words)))
        fail_msg("%s: code %d, message \"%s\"; expected code %d with \"%s\"", path, rc, e.msg, x->code,
                 x->words ? x->words : "");
    } else if (rc != CB_OK && rc != CB_EPARSE && rc != CB_ESCHEMA) {
      fail_msg("%s: code %d (%s); expected it accepted or refused as malformed (CB_EPARSE, CB_ESCHEMA)", path, rc, e.msg);
    }
    /* a refusal always says why, and an acceptance leaves no error behind */
    if (rc != CB_OK && (e.code != rc || strlen(e.msg) == 0)) fail_msg("%s: code %d without its message", path, rc);
    if (rc == CB_OK && e.code != CB_OK) fail_msg("%s: accepted, yet the error is set: %s", path, e.msg);
    free(names[i]);
  }
  return n;
}

/* Every expected file is there: a renamed or lost input would otherwise go unnoticed. */
static void test_expected_inputs_exist(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", REGRESSIONS, expected[i].target, expected[i].file);
    size_t size = 0;
    uint8_t *data = cbf_read_file(path, &size);
    if (!data) fail_msg("missing %s", path);
    free(data);
  }
}

static void test_scenario(void **state) {
  (void)state;
  assert_true(replay_all("scenario") >= 6);
}

static void test_series(void **state) {
  (void)state;
  assert_true(replay_all("series") >= 4);
}

static void test_override(void **state) {
  (void)state;
  size_t n = 0;
  base_text = (char *)cbf_read_file(BASELINE, &n);
  assert_non_null(base_text);
  assert_true(replay_all("override") >= 4);
  free(base_text);
  base_text = NULL;
}

static void test_snapshot(void **state) {
  (void)state;
  assert_true(replay_all("snapshot") >= 6);
}

static void test_results(void **state) {
  (void)state;
  assert_true(replay_all("results") >= 5);
}

/* The gnuplot inputs must all be accepted: for any texts the scripts keep the rule (a broken rule
 * is CB_EMISUSE, which replay_all refuses). */
static void test_gnuplot(void **state) {
  (void)state;
  assert_true(replay_all("gnuplot") >= 10);
}

/* The checker itself: the quoting gnuplot.c used before (double quotes, only " and \ escaped) is
 * caught, and a text kept in a single-quoted literal passes. */
static void test_gnuplot_checker_catches_double_quotes(void **state) {
  (void)state;
  cb_err e;
  const char *old = "set title \"a`touch marker`b\"\n", *now = "set title 'a`touch marker`b'\n";
  assert_int_equal(cbf_gnuplot_check_script(old, strlen(old), &e), CB_EMISUSE);
  if (!strstr(e.msg, "outside a literal")) fail_msg("%s", e.msg);
  assert_int_equal(cbf_gnuplot_check_script(now, strlen(now), &e), CB_OK);
  const char *open = "set title 'a\nb'\n", *sys = "x = system('ls')\n", *nl = "set title 'a\x1b[1m'\n";
  assert_int_equal(cbf_gnuplot_check_script(open, strlen(open), &e), CB_EMISUSE);
  assert_int_equal(cbf_gnuplot_check_script(sys, strlen(sys), &e), CB_EMISUSE);
  assert_int_equal(cbf_gnuplot_check_script(nl, strlen(nl), &e), CB_EMISUSE);
}

/* How many entries a folder holds besides . and .. */
static int entries(const char *path) {
  DIR *d = opendir(path);
  if (!d) fail_msg("cannot open %s", path);
  int n = 0;
  for (struct dirent *de; (de = readdir(d)) != NULL;) n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
  closedir(d);
  return n;
}

/* The real gnuplot draws every kept gnuplot input, in a folder of its own that must stay empty:
 * no `touch marker` ran, no `set output` or `load` happened. First, gnuplot is shown to run such
 * a command when the text is in double quotes, so that an empty folder means something. */
static void test_gnuplot_runs_nothing(void **state) {
  (void)state;
  char cwd[4096];
  assert_non_null(getcwd(cwd, sizeof cwd));
  const char *dir = cbt_tmpdir("gnuplot-hostile");
  char *out = NULL;
  assert_int_equal(cbt_run(&out, "cd '%s' && printf 'set terminal svg\nset title \"a`touch marker`b\"\nplot x\n' | gnuplot >/dev/null", dir), 0);
  free(out);
  char marker[1024];
  snprintf(marker, sizeof marker, "%s/marker", dir);
  assert_int_equal(access(marker, F_OK), 0); /* the hazard is real */
  assert_int_equal(unlink(marker), 0);
  char dirpath[1024];
  snprintf(dirpath, sizeof dirpath, "%s/gnuplot", REGRESSIONS);
  DIR *d = opendir(dirpath);
  assert_non_null(d);
  int n = 0;
  for (struct dirent *de; (de = readdir(d)) != NULL;) {
    if (de->d_name[0] == '.') continue;
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dirpath, de->d_name);
    size_t size = 0;
    uint8_t *data = cbf_read_file(path, &size);
    assert_non_null(data);
    if (chdir(dir)) fail_msg("cannot enter %s", dir);
    cb_err e;
    int rc = cbf_gnuplot(data, size, 1, &e);
    if (chdir(cwd)) fail_msg("cannot go back to %s", cwd);
    free(data);
    if (rc != CB_OK) fail_msg("%s: %s", path, e.msg);
    if (entries(dir)) fail_msg("%s: gnuplot left something in %s", path, dir);
    n++;
  }
  closedir(d);
  assert_true(n >= 10);
}

/* The functions also accept what they should: the shipped files, whole. */
static void test_shipped_inputs_accepted(void **state) {
  (void)state;
  size_t n = 0;
  cb_err e;
  uint8_t *text = cbf_read_file(BASELINE, &n);
  assert_non_null(text);
  if (cbf_scenario(text, n, &e) != CB_OK) fail_msg("%s", e.msg);
  const char *set = "buyers.review_days=40";
  if (cbf_override((const char *)text, BASELINE, (const uint8_t *)set, strlen(set), &e) != CB_OK) fail_msg("%s", e.msg);
  free(text);
  text = cbf_read_file(CB_SOURCE_DIR "/data/dailynk/won-per-dollar.csv", &n);
  assert_non_null(text);
  if (cbf_series(text, n, &e) != CB_OK) fail_msg("%s", e.msg);
  free(text);
}

/* The fuzzed world, run up to day and saved into a malloc'd buffer; *S_out gets the simulation. */
static uint8_t *snapshot_of_the_world(const char *day, size_t *len, cb_sim **S_out) {
  static const char *const sets[] = CBF_SNAPSHOT_SETS;
  cb_sim *S = cb_new();
  assert_int_equal(cb_read_scenario(S, BASELINE), CB_OK);
  for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) assert_int_equal(cb_set(S, sets[i]), CB_OK);
  assert_int_equal(cb_init(S), CB_OK);
  assert_int_equal(cb_run_until(S, day), CB_OK);
  uint8_t *buf = NULL;
  assert_int_equal(cb_snapshot_to_buffer(S, &buf, len), CB_OK);
  *S_out = S;
  return buf;
}

/* A real snapshot of the fuzzed world is accepted, and cut short inside its state it is refused
 * (the input function recomputes the checksum, so the cut reaches the state's reader). */
static void test_snapshot_of_the_world(void **state) {
  (void)state;
  cb_sim *S;
  size_t len = 0;
  uint8_t *buf = snapshot_of_the_world("2012-03-15", &len, &S);
  cb_free(S);
  cb_err e;
  if (cbf_snapshot(BASELINE, buf, len, &e) != CB_OK) fail_msg("%s", e.msg);
  assert_int_equal(cbf_snapshot(BASELINE, buf, len / 2, &e), CB_EPARSE);
  if (!strstr(e.msg, "ends early")) fail_msg("%s", e.msg);
  free(buf);
}

/* A corrupt count of recorded periods was believed as long as the bytes left could hold that many
 * period starts (4 bytes each), and the metrics history grew to count x slots x 8 bytes before the
 * read failed: a few hundred megabytes for this tiny world's 140 kB snapshot, tens of gigabytes
 * (CB_ENOMEM instead of "corrupt") for the baseline's. Now the count is refused at once: the error
 * names the byte just after it. The input is made here, as a committed snapshot would go stale. */
static void test_snapshot_period_count_is_bounded(void **state) {
  (void)state;
  cb_sim *S;
  size_t len = 0;
  uint8_t *buf = snapshot_of_the_world("2012-03-15", &len, &S);
  /* the count is stored just before the periods' starts: find that run of bytes */
  const cb_metrics *m = &S->metrics;
  assert_true(m->nperiods >= 1 && m->nperiods < 16);
  uint8_t pattern[4 * 16];
  size_t plen = 4 * ((size_t)m->nperiods + 1);
  memcpy(pattern, &m->nperiods, 4);
  memcpy(pattern + 4, m->period_start, 4 * (size_t)m->nperiods);
  size_t at = 0, found = 0;
  for (size_t i = 0; i + plen <= len; i++)
    if (!memcmp(buf + i, pattern, plen)) at = i, found++;
  cb_free(S);
  assert_int_equal(found, 1);
  /* as many periods as the bytes after the count could hold at 4 bytes each */
  uint32_t count = (uint32_t)((len - 32 - at - 4) / 4);
  memcpy(buf + at, &count, 4);
  cb_err e;
  assert_int_equal(cbf_snapshot(BASELINE, buf, len, &e), CB_EPARSE);
  char want[64];
  snprintf(want, sizeof want, "ends early (at byte %zu of", at + 4);
  if (!strstr(e.msg, want)) fail_msg("expected \"%s\" in: %s", want, e.msg);
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_expected_inputs_exist),
      cmocka_unit_test(test_scenario),
      cmocka_unit_test(test_series),
      cmocka_unit_test(test_override),
      cmocka_unit_test(test_snapshot),
      cmocka_unit_test(test_results),
      cmocka_unit_test(test_gnuplot),
      cmocka_unit_test(test_gnuplot_checker_catches_double_quotes),
      cmocka_unit_test(test_gnuplot_runs_nothing),
      cmocka_unit_test(test_shipped_inputs_accepted),
      cmocka_unit_test(test_snapshot_of_the_world),
      cmocka_unit_test(test_snapshot_period_count_is_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
