/* Text from outside (docs/robustness.md, "Text from outside"): every writer renders hostile text
 * as text. The rules of each writer one by one (gnuplot literals, HTML, JSON, CSV, terminal
 * messages); then the real thing: figures with hostile titles drawn by the real gnuplot, and
 * reports and figures of a run folder and of a store whose recorded scenario path, overrides and
 * series names carry backquotes, system(), quotes, escape sequences and invalid UTF-8, each run
 * in a folder where a command run by mistake would leave its marker file. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contraband.h"
#include "engine/err.h"
#include "engine/text.h"
#include "io/files.h"
#include "io/metrics.h"
#include "io/summary.h"
#include "report/chart.h"
#include "report/html.h"
#include "support.h"

#define BASELINE "scenarios/baseline.yaml"
#define SMALL "--set population.buyers=4000 --set population.traders=200"

static const char *dir; /* everything this test writes */
static char run_dir[600], store[600];

static int make_results(void **state) {
  (void)state;
  dir = cbt_tmpdir("text");
  snprintf(run_dir, sizeof run_dir, "%s/run", dir);
  snprintf(store, sizeof store, "%s/ens.db", dir);
  char *out = NULL;
  int rc = cbt_run(&out, "'%s' run %s %s --quiet --out '%s' && '%s' ensemble %s %s --runs 2 --jobs 2 --quiet --db '%s'", CB_CLI, BASELINE,
                   SMALL, run_dir, CB_CLI, BASELINE, SMALL, store);
  if (rc) fprintf(stderr, "fixture failed:\n%s\n", out);
  free(out);
  return rc;
}

/* What a writer wrote into a memory stream (malloc'd). */
static char *written(void (*write)(FILE *, const char *), const char *s) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  write(f, s);
  fclose(f);
  return buf;
}

static void expect_written(void (*write)(FILE *, const char *), const char *s, const char *want) {
  char *got = written(write, s);
  if (strcmp(got, want)) fail_msg("for \"%s\": got \"%s\", expected \"%s\"", s, got, want);
  free(got);
}

/* ---- the rules, writer by writer ---- */

static void test_gnuplot_literals(void **state) {
  (void)state;
  expect_written(cb_rp_gnuplot_text, "plain", "'plain'");
  expect_written(cb_rp_gnuplot_text, "a`touch marker`b @x system(\"ls\") \\", "'a`touch marker`b @x system(\"ls\") \\'");
  expect_written(cb_rp_gnuplot_text, "it's", "'it''s'");
  /* gnuplot takes '' as a quote only after another character: U+200B before the others */
  expect_written(cb_rp_gnuplot_text, "'", "'\xE2\x80\x8B'''");
  expect_written(cb_rp_gnuplot_text, "a''b", "'a''\xE2\x80\x8B''b'");
  expect_written(cb_rp_gnuplot_text, "line\nbreak\r\x1b[1m\x7f\xc2\x9b.", "'line break  [1m  .'");
  expect_written(cb_rp_gnuplot_text, "\xff\xc0\xaf \xed\xa0\x80 \xe2\x82", "'\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD'");
  expect_written(cb_rp_gnuplot_text, "Pr\xc3\xa9is \xed\x8f\x89\xec\x96\x91", "'Pr\xc3\xa9is \xed\x8f\x89\xec\x96\x91'");
  /* a megabyte of text: cut at 1 KiB, at a character's end, with an ellipsis */
  size_t n = 1 << 20;
  char *big = malloc(n + 1);
  for (size_t i = 0; i < n; i += 2) memcpy(big + i, "\xc3\xa9", 2); /* é */
  big[n] = '\0';
  char *got = written(cb_rp_gnuplot_text, big);
  assert_int_equal(strlen(got), 1 + RP_GNUPLOT_TEXT_MAX + 3 + 1);
  assert_memory_equal(got + 1 + RP_GNUPLOT_TEXT_MAX, "\xE2\x80\xA6'", 4);
  free(got);
  free(big);
}

static void test_html_text(void **state) {
  (void)state;
  expect_written(cb_rp_html_escape, "<a href='javascript:alert(1)'>&\"</a>", "&lt;a href=&#39;javascript:alert(1)&#39;&gt;&amp;&quot;&lt;/a&gt;");
  expect_written(cb_rp_html_escape, "x\x1b[31m\xff", "x\xEF\xBF\xBD[31m\xEF\xBF\xBD");
  char buf[32];
  assert_string_equal(cb_rp_html_escape_to(buf, sizeof buf, "<b>"), "&lt;b&gt;");
  assert_string_equal(cb_rp_html_escape_to(buf, 7, "a&b"), "a&amp;"); /* cut between pieces, never inside one */
  assert_string_equal(cb_rp_html_escape_to(buf, 6, "a&b"), "a");
  assert_string_equal(cb_rp_html_id(buf, sizeof buf, "chart-prices-a\" onload=\"x"), "chart-prices-a__onload__x");
}

static void test_json_strings_always_parse(void **state) {
  (void)state;
  const char *s = "q\" b\\ nl\n esc\x1b del\x7f c1\xc2\x9b bad\xff\xfe cut\xe2\x82";
  char *text = written(cb_json_string, s);
  json_error_t je;
  json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
  if (!v) fail_msg("%s does not parse: %s", text, je.text);
  assert_string_equal(json_string_value(v), "q\" b\\ nl\n esc\x1b del\x7f c1\xc2\x9b bad\xEF\xBF\xBD\xEF\xBF\xBD cut\xEF\xBF\xBD\xEF\xBF\xBD");
  json_decref(v);
  free(text);
}

static void test_csv_fields(void **state) {
  (void)state;
  expect_written(cb_csv_field, "sinuiju", "sinuiju");
  expect_written(cb_csv_field, "a,b", "\"a,b\"");
  expect_written(cb_csv_field, "say \"x\"", "\"say \"\"x\"\"\"");
  expect_written(cb_csv_field, "two\nlines\r", "\"two\nlines\r\"");
}

static void test_messages_escape_control_characters(void **state) {
  (void)state;
  char buf[64];
  assert_string_equal(cb_printable("a\x1b[31mb\n\t\x7f\xc2\x9b\xff \xc3\xa9 \\x1B", buf, sizeof buf),
                      "a\\x1B[31mb\\x0A\\x09\\x7F\\xC2\\x9B\\xFF \xc3\xa9 \\x1B");
  assert_string_equal(cb_printable("abc\x1b", buf, 6), "abc"); /* an escape is not cut in two */
  cb_err e = {0};
  cb_err_set(&e, CB_EIO, "%s: cannot open", "x\x1b]0;title\x07.yaml");
  assert_string_equal(e.msg, "x\\x1B]0;title\\x07.yaml: cannot open");
  cb_err_prefix(&e, "in \x1b[2J: ");
  assert_string_equal(e.msg, "in \\x1B[2J: x\\x1B]0;title\\x07.yaml: cannot open");
  /* a library error echoing a path, and the CLI echoing a value, as the terminal gets them */
  char *out = NULL;
  int rc = cbt_run(&out, "('%s' run \"$(printf 'no\\033[31mne\\n.yaml')\"; '%s' run %s --seed \"$(printf '1\\033]0;x\\007')\")", CB_CLI, CB_CLI,
                   BASELINE);
  assert_int_not_equal(rc, 0);
  if (strchr(out, '\x1b') || strchr(out, '\x07')) fail_msg("a raw control character reached the terminal:\n%s", out);
  assert_non_null(strstr(out, "no\\x1B[31mne\\x0A.yaml"));
  assert_non_null(strstr(out, "not '1\\x1B]0;x\\x07'"));
  free(out);
}

/* ---- the real gnuplot ---- */

/* A fresh empty folder to run commands in: a command run by mistake leaves `marker` there. */
static const char *cage(const char *tag) { return cbt_tmpdir(tag); }

static void expect_no_marker(const char *where) {
  char *out = NULL;
  if (cbt_run(&out, "cd '%s' && ls -A | grep -q marker", where) == 0) fail_msg("a command ran: %s holds a marker file", where);
  free(out);
}

/* An SVG with the contents of its <text> elements taken out: what else the figure shows. */
static char *without_texts(const char *svg) {
  char *out = malloc(strlen(svg) + 1);
  size_t n = 0;
  for (const char *p = svg; *p;) {
    if (!strncmp(p, "<text", 5) && (p[5] == '>' || p[5] == ' ')) {
      const char *end = strstr(p, "</text>");
      if (!end) break;
      memcpy(out + n, "<text></text>", 13); /* gnuplot adds xml:space="preserve" for some texts */
      n += 13;
      p = end + 7;
    } else out[n++] = *p++;
  }
  out[n] = '\0';
  return out;
}

/* `contraband plot` of the run with --title title (given through a file, so any bytes reach it). */
static int plot_with_title(const char *where, const char *title, const char *fig, char **out) {
  free(cbt_write_file(where, "title.txt", title));
  return cbt_run(out, "cd '%s' && '%s' plot '%s' --metric bribes --title \"$(cat title.txt)\" -o %s", where, CB_CLI, run_dir, fig);
}

static void test_hostile_titles_with_real_gnuplot(void **state) {
  (void)state;
  static const struct {
    const char *title, *drawn; /* the text as the SVG must hold it (NULL: not checked) */
  } hostile[] = {
      {"a`touch marker`b", "a`touch marker`b"},
      {"system(\"touch marker\")", "system(\"touch marker\")"},
      {"@x `touch marker` @GPVAL_PWD", "@x `touch marker` @GPVAL_PWD"},
      {"' . system('touch marker') . '", "\xE2\x80\x8B' . system('touch marker') . '"},
      {"x''; system(\"touch marker\") #", "x'\xE2\x80\x8B'; system(\"touch marker\") #"},
      {"\" . system(\"touch marker\") . \"\\", "\" . system(\"touch marker\") . \"\\"},
      {"new\nline\n!touch marker\nset output 'marker.svg'", "new line !touch marker set output 'marker.svg'"},
      {"esc \x1b[31m red \x7f", "esc  [31m red  "},
      {"bad \xff\xfe utf-8 \xed\xa0\x80", "bad \xEF\xBF\xBD\xEF\xBF\xBD utf-8 \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"<script>alert(1)</script> & more", "&lt;script>alert(1)&lt;/script> &amp; more"},
  };
  const char *where = cage("text-titles");
  char *out = NULL;
  if (plot_with_title(where, "plain", "plain.svg", &out)) fail_msg("plot failed: %s", out);
  free(out);
  char path[1024];
  snprintf(path, sizeof path, "%s/plain.svg", where);
  char *plain = cbt_read_file(path, NULL), *plain_rest = without_texts(plain);
  for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
    if (plot_with_title(where, hostile[i].title, "f.svg", &out)) fail_msg("plot with title %zu failed: %s", i, out);
    free(out);
    expect_no_marker(where);
    snprintf(path, sizeof path, "%s/f.svg", where);
    char *svg = cbt_read_file(path, NULL), *rest = without_texts(svg);
    char want[600];
    snprintf(want, sizeof want, ">%s</text>", hostile[i].drawn);
    if (!strstr(svg, want)) fail_msg("title %zu is not drawn as %s", i, want);
    if (strcmp(rest, plain_rest)) fail_msg("title %zu changed what else the figure shows", i);
    free(svg);
    free(rest);
  }
  free(plain);
  free(plain_rest);
  /* too long for a title: refused, naming the limit; nothing written */
  size_t n = 100000;
  char *big = malloc(n + 1);
  memset(big, 'a', n);
  big[n] = '\0';
  assert_int_equal(plot_with_title(where, big, "big.svg", &out), 1);
  assert_non_null(strstr(out, "--title is 100000 bytes long; a figure's title can be at most 159 bytes"));
  free(out);
  snprintf(path, sizeof path, "%s/big.svg", where);
  assert_int_not_equal(access(path, F_OK), 0);
  free(big);
  /* a megabyte, through the library (a command line cannot hold one argument that long) */
  n = 1 << 20;
  big = malloc(n + 1);
  memset(big, '`', n);
  big[n] = '\0';
  cb_report *R = cb_report_new();
  assert_int_equal(cb_report_open(R, run_dir), CB_OK);
  cb_plot_spec spec = {.metric = "bribes", .title = big};
  assert_int_equal(cb_report_plot(R, &spec, path), CB_EPARSE);
  assert_non_null(strstr(cb_report_errmsg(R), "--title is 1048576 bytes long"));
  cb_report_free(R);
  free(big);
  expect_no_marker(where);
}

/* ---- results whose recorded text is hostile ---- */

#define EVIL_PATH "sc`touch marker`'$(touch marker)\x1b[31m<script>alert(1)</script>"
#define EVIL_SCENARIO EVIL_PATH "\xff.yaml" /* not UTF-8: a store may hold it, summary.json cannot */
#define EVIL_OVERRIDE "x=`touch marker`\"<img src=x onerror=alert(1)>\x1b]0;pwned\x07"
#define EVIL_PLACE "sin'`touch marker`\"<b>&x@y"
#define EVIL_MARKET "pyong\"><script>alert(2)</script>"

/* s with every `from` replaced by `to` (malloc'd). */
static char *replaced(const char *s, const char *from, const char *to) {
  size_t n = 0, lf = strlen(from), lt = strlen(to);
  for (const char *p = s; (p = strstr(p, from)); p += lf) n++;
  char *out = malloc(strlen(s) + n * (lt > lf ? lt - lf : 0) + 1), *o = out;
  for (const char *p = s, *q; ; p = q + lf) {
    q = strstr(p, from);
    size_t k = q ? (size_t)(q - p) : strlen(p);
    memcpy(o, p, k);
    o += k;
    if (!q) break;
    memcpy(o, to, lt);
    o += lt;
  }
  *o = '\0';
  return out;
}

/* The page and the command's output must show the hostile text as text. */
static void expect_escaped(const char *html, const char *output) {
  if (strchr(output, '\x1b') || strchr(output, '\x07')) fail_msg("a raw control character reached the terminal:\n%s", output);
  if (strstr(html, "<script") || strstr(html, "<img") || strstr(html, "<b>")) fail_msg("outside text became markup in the page");
  if (strchr(html, '\x1b') || strchr(html, '\x07')) fail_msg("a control character reached the page");
}

/* A copy of the run whose summary.json records a hostile scenario path and override, and whose
 * metrics.csv names a crossing and a market with hostile text (metrics_sha256 made to match). */
static void test_hostile_run_folder(void **state) {
  (void)state;
  char evil[700], path[800];
  snprintf(evil, sizeof evil, "%s/evil-run", dir);
  char *out = NULL;
  assert_int_equal(cbt_run(&out, "rm -rf '%s' && cp -r '%s' '%s'", evil, run_dir, evil), 0);
  free(out);
  snprintf(path, sizeof path, "%s/metrics.csv", evil);
  char *csv = cbt_read_file(path, NULL), *a = replaced(csv, ",sinuiju,", "," EVIL_PLACE ","), *b = replaced(a, ",pyongyang,", "," EVIL_MARKET ",");
  free(cbt_write_file(evil, "metrics.csv", b));
  char sha[65];
  cb_sha256_bytes(b, strlen(b), sha);
  free(csv), free(a), free(b);
  snprintf(path, sizeof path, "%s/summary.json", evil);
  json_t *root = json_load_file(path, 0, NULL);
  assert_non_null(root);
  json_object_set_new(root, "scenario", json_string(EVIL_PATH ".yaml"));
  json_object_set_new(root, "metrics_sha256", json_string(sha));
  json_array_append_new(json_object_get(root, "overrides"), json_string(EVIL_OVERRIDE));
  assert_int_equal(json_dump_file(root, path, 0), 0);
  json_decref(root);

  const char *where = cage("text-run");
  assert_int_equal(cbt_run(&out, "(cd '%s' && '%s' report '%s' -o r.html && '%s' plot '%s' --metric delivered_units --by place -o p.svg && "
                           "'%s' plot '%s' --metric price_usd --place '" EVIL_MARKET "' --by category -o q.png)",
                           where, CB_CLI, evil, CB_CLI, evil, CB_CLI, evil),
                   0);
  expect_no_marker(where);
  snprintf(path, sizeof path, "%s/r.html", where);
  char *html = cbt_read_file(path, NULL);
  assert_non_null(html);
  expect_escaped(html, out);
  assert_non_null(strstr(out, "warning: parameters and policy events left out: the scenario file sc`touch marker`'$(touch marker)\\x1B[31m"));
  assert_non_null(strstr(html, "sc`touch marker`&#39;$(touch marker)\xEF\xBF\xBD[31m&lt;script&gt;alert(1)&lt;/script&gt;"));
  assert_non_null(strstr(html, "x=`touch marker`&quot;&lt;img src=x onerror=alert(1)&gt;\xEF\xBF\xBD]0;pwned\xEF\xBF\xBD"));
  assert_non_null(strstr(html, "data-key=\"crossing=sin&#39;`touch marker`&quot;&lt;b&gt;&amp;x@y\""));
  assert_non_null(strstr(html, "Market price per unit in pyong&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt; at"));
  assert_non_null(strstr(html, "id=\"chart-prices-pyong___script_alert_2___script_\""));
  free(html);
  free(out);
}

/* The store: its experiment's recorded scenario path and overrides rewritten (they are not part of
 * a run's checksum, so the store still opens), as in a store someone else sent. */
static void test_hostile_store(void **state) {
  (void)state;
  char evil[700], sql[800];
  snprintf(evil, sizeof evil, "%s/evil.db", dir);
  /* SQL with the hostile bytes in hex, so that neither the shell nor SQL quoting is involved */
  const char *scen = EVIL_SCENARIO, *ov = "[\"population.buyers=4000\", \"x=`touch marker`\\\"<img src=x onerror=alert(1)>\\u001b]0;pwned\\u0007\"]";
  char hs[400] = "", ho[400] = "";
  for (const char *p = scen; *p; p++) snprintf(hs + strlen(hs), sizeof hs - strlen(hs), "%02X", (unsigned char)*p);
  for (const char *p = ov; *p; p++) snprintf(ho + strlen(ho), sizeof ho - strlen(ho), "%02X", (unsigned char)*p);
  free(cbt_write_file(dir, "evil.sql", ""));
  snprintf(sql, sizeof sql, "%s/evil.sql", dir);
  FILE *f = fopen(sql, "w");
  fprintf(f, "UPDATE experiments SET scenario = CAST(X'%s' AS TEXT), overrides = CAST(X'%s' AS TEXT);\n", hs, ho);
  fclose(f);
  char *out = NULL;
  assert_int_equal(cbt_run(&out, "cp '%s' '%s' && sqlite3 '%s' < '%s'", store, evil, evil, sql), 0);
  free(out);

  const char *where = cage("text-store");
  assert_int_equal(cbt_run(&out, "(cd '%s' && '%s' report '%s' -o r.html && '%s' plot '%s' --metric bribes -o p.pdf && '%s' export '%s' --out e.csv)",
                           where, CB_CLI, evil, CB_CLI, evil, CB_CLI, evil),
                   0);
  expect_no_marker(where);
  char path[800];
  snprintf(path, sizeof path, "%s/r.html", where);
  char *html = cbt_read_file(path, NULL);
  assert_non_null(html);
  expect_escaped(html, out);
  assert_non_null(strstr(out, "\\x1B[31m<script>alert(1)</script>\\xFF.yaml"));
  assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;\xEF\xBF\xBD.yaml"));
  assert_non_null(strstr(html, "x=`touch marker`&quot;&lt;img src=x onerror=alert(1)&gt;\xEF\xBF\xBD]0;pwned\xEF\xBF\xBD"));
  free(html);
  free(out);
  /* an error that echoes the recorded path: escaped as well */
  assert_int_not_equal(cbt_run(&out, "cd '%s' && '%s' report '%s' --experiment 9 -o r.html", where, CB_CLI, evil), 0);
  if (strchr(out, '\x1b')) fail_msg("a raw escape reached the terminal:\n%s", out);
  assert_non_null(strstr(out, "holds no experiment 9"));
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gnuplot_literals),
      cmocka_unit_test(test_html_text),
      cmocka_unit_test(test_json_strings_always_parse),
      cmocka_unit_test(test_csv_fields),
      cmocka_unit_test(test_messages_escape_control_characters),
      cmocka_unit_test(test_hostile_titles_with_real_gnuplot),
      cmocka_unit_test(test_hostile_run_folder),
      cmocka_unit_test(test_hostile_store),
  };
  return cmocka_run_group_tests(tests, make_results, NULL);
}
