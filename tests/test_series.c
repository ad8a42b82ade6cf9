/* Tests of the series reader: the real Daily NK exchange rates load and interpolate as the model
 * expects, and every kind of malformed file is refused with the exact line and column. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/calendar.h"
#include "io/series.h"

#define RATES CB_SOURCE_DIR "/data/dailynk/won-per-dollar.csv"

static void test_real_file_loads(void **state) {
  (void)state;
  cb_series s;
  cb_err e = {0};
  assert_int_equal(cb_series_load(&s, RATES, &e), CB_OK);
  assert_int_equal(s.n, 3);
  assert_true(cb_series_find(&s, "pyongyang") >= 0);
  assert_true(cb_series_find(&s, "sinuiju") >= 0);
  assert_true(cb_series_find(&s, "hyesan") >= 0);
  assert_int_equal(cb_series_find(&s, "kaesong"), -1);
  for (size_t i = 0; i < s.n; i++) assert_int_equal(s.ent[i].n, 343);
  cb_series_free(&s);
  assert_int_equal(s.n, 0);
  assert_null(s.ent);
}

static void test_value_on_survey_date(void **state) {
  (void)state;
  cb_series s;
  cb_err e = {0};
  assert_int_equal(cb_series_load(&s, RATES, &e), CB_OK);
  int p = cb_series_find(&s, "pyongyang");
  /* pyongyang,2012-02-10,3650 and pyongyang,2010-03-03,2300 in the file */
  assert_near(cb_series_at(&s, p, cbt_day("2012-02-10")), 3650.0, 1e-9);
  assert_near(cb_series_at(&s, p, cbt_day("2010-03-03")), 2300.0, 1e-9);
  cb_series_free(&s);
}

static void test_interpolates_between_surveys(void **state) {
  (void)state;
  cb_series s;
  cb_err e = {0};
  assert_int_equal(cb_series_load(&s, RATES, &e), CB_OK);
  int p = cb_series_find(&s, "pyongyang");
  /* 2012-01-21 -> 4400 and 2012-02-10 -> 3650 are 20 days apart; 2012-01-31 is midway. */
  assert_near(cb_series_at(&s, p, cbt_day("2012-01-31")), (4400.0 + 3650.0) / 2, 1e-9);
  /* a quarter of the way: 2012-01-26 */
  assert_near(cb_series_at(&s, p, cbt_day("2012-01-26")), 4400.0 - 750.0 / 4, 1e-9);
  cb_series_free(&s);
}

static void test_flat_outside_surveys(void **state) {
  (void)state;
  cb_series s;
  cb_err e = {0};
  assert_int_equal(cb_series_load(&s, RATES, &e), CB_OK);
  int h = cb_series_find(&s, "hyesan");
  const cb_series_entity *en = &s.ent[h];
  assert_near(cb_series_at(&s, h, cbt_day("1999-01-01")), en->value[0], 0);
  assert_near(cb_series_at(&s, h, en->day[0] - 1), en->value[0], 0);
  /* hyesan,2026-09-27,69120 is the last row */
  assert_near(cb_series_at(&s, h, cbt_day("2026-09-27")), 69120.0, 0);
  assert_near(cb_series_at(&s, h, cbt_day("2040-01-01")), 69120.0, 0);
  assert_true(isnan(cb_series_at(&s, 99, 0)));
  assert_true(isnan(cb_series_at(&s, -1, 0)));
  cb_series_free(&s);
}

/* ---- small files written for each case ------------------------------------------------- */

/* Loads text as a file; returns the code and copies the message. */
static int load_text(const char *text, char *msg, char **path_out, cb_series *s) {
  const char *dir = cbt_tmpdir("series");
  char *path = cbt_write_file(dir, "in.csv", text);
  cb_err e = {0};
  int rc = cb_series_load(s, path, &e);
  if (msg) snprintf(msg, CB_ERRMSG_MAX, "%s", e.msg);
  if (path_out) *path_out = path;
  else free(path);
  return rc;
}

/* The load must fail with CB_EPARSE, the message must start "PATH:line:col: " and mention what. */
static void expect_parse_error(const char *text, int line, int col, const char *what) {
  char msg[CB_ERRMSG_MAX], want[1024];
  char *path = NULL;
  cb_series s;
  int rc = load_text(text, msg, &path, &s);
  snprintf(want, sizeof want, "%s:%d:%d: ", path, line, col);
  free(path);
  if (rc != CB_EPARSE || strncmp(msg, want, strlen(want)) != 0 || !strstr(msg, what))
    fail_msg("rc %d, message \"%s\"; expected CB_EPARSE, \"%s...\" mentioning \"%s\"", rc, msg, want, what);
  assert_int_equal(s.n, 0);
  assert_null(s.ent);
  assert_non_null(strchr(msg, ';')); /* every message also says what to do */
}

static void test_crlf_blank_lines_and_interleaving(void **state) {
  (void)state;
  cb_series s;
  char msg[CB_ERRMSG_MAX];
  int rc = load_text("entity,time,value\r\n"
                     "a,2010-01-01,10\r\n"
                     "b,2010-01-01,5\r\n"
                     "a,2010-01-11,20\r\n"
                     "\r\n"
                     "b,2010-02-01,6.5e0\r\n\n",
                     msg, NULL, &s);
  if (rc != CB_OK) fail_msg("%s", msg);
  assert_int_equal(s.n, 2);
  int a = cb_series_find(&s, "a"), b = cb_series_find(&s, "b");
  assert_int_equal(s.ent[a].n, 2);
  assert_int_equal(s.ent[b].n, 2);
  assert_near(cb_series_at(&s, a, cbt_day("2010-01-06")), 15.0, 1e-12);
  assert_near(cb_series_at(&s, b, cbt_day("2010-02-01")), 6.5, 0);
  cb_series_free(&s);
}

static void test_long_lines_and_many_rows(void **state) {
  (void)state;
  /* 20000 rows of one entity grow the arrays many times over. */
  size_t cap = 64 + 20000 * 32;
  char *text = malloc(cap);
  size_t n = (size_t)snprintf(text, cap, "entity,time,value\n");
  int32_t d0 = cbt_day("1970-01-01") + 365 * 1000;
  for (int i = 0; i < 20000; i++) {
    char date[11];
    cb_format_date(d0 + i, date);
    n += (size_t)snprintf(text + n, cap - n, "x,%s,%d\n", date, i + 1);
  }
  cb_series s;
  char msg[CB_ERRMSG_MAX];
  int rc = load_text(text, msg, NULL, &s);
  free(text);
  if (rc != CB_OK) fail_msg("%s", msg);
  assert_int_equal(s.ent[0].n, 20000);
  assert_near(cb_series_at(&s, 0, d0 + 12345), 12346.0, 0);
  cb_series_free(&s);
}

static void test_utf8_bom_accepted(void **state) {
  (void)state;
  cb_series s;
  char msg[CB_ERRMSG_MAX];
  int rc = load_text("\xEF\xBB\xBF" "entity,time,value\na,2010-01-01,1\n", msg, NULL, &s);
  if (rc != CB_OK) fail_msg("%s", msg);
  cb_series_free(&s);
}

static void test_bad_header(void **state) {
  (void)state;
  expect_parse_error("entity,date,value\na,2010-01-01,1\n", 1, 8, "\"entity,time,value\"");
  expect_parse_error("entity,time,value,extra\n", 1, 18, "must be exactly");
  expect_parse_error("\xEF\xBB\xBF" "city,time,value\n", 1, 4, "must be exactly");
}

static void test_empty_file(void **state) {
  (void)state;
  expect_parse_error("", 1, 1, "empty");
}

static void test_no_data_rows(void **state) {
  (void)state;
  expect_parse_error("entity,time,value\n", 2, 1, "no data rows");
  expect_parse_error("entity,time,value\r\n\r\n\n", 4, 1, "no data rows");
}

static void test_too_few_fields(void **state) {
  (void)state;
  expect_parse_error("entity,time,value\na,2010-01-01,1\nb,2010-01-01\n", 3, 13, "found 2 fields");
  expect_parse_error("entity,time,value\nabc\r\n", 2, 4, "found 1 field");
}

static void test_too_many_fields(void **state) {
  (void)state;
  expect_parse_error("entity,time,value\na,2010-01-01,3,650\n", 2, 15, "more than 3 fields");
}

static void test_empty_entity(void **state) {
  (void)state;
  expect_parse_error("entity,time,value\na,2010-01-01,1\n,2010-01-02,1\n", 3, 1, "entity is empty");
}

static void test_entity_too_long(void **state) {
  (void)state;
  /* A 100000-character name also exercises lines far longer than any fixed buffer. */
  size_t n = 100000;
  char *text = malloc(n + 64);
  strcpy(text, "entity,time,value\n");
  size_t h = strlen(text);
  memset(text + h, 'k', n);
  strcpy(text + h + n, ",2010-01-01,1\n");
  expect_parse_error(text, 2, 1, "is 100000 characters long");
  free(text);
  /* 47 characters fit, 48 do not */
  expect_parse_error("entity,time,value\n"
                     "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstu,2010-01-01,1\n"
                     "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv,2010-01-01,1\n",
                     3, 1, "at most 47");
}

static void test_bad_date(void **state) {
  (void)state;
  expect_parse_error("entity,time,value\nab,2010-02-30,1\n", 2, 4, "bad date \"2010-02-30\"");
  expect_parse_error("entity,time,value\nab,2010/01/01,1\n", 2, 4, "bad date");
  expect_parse_error("entity,time,value\nab,,1\n", 2, 4, "bad date");
}

static void test_value_not_numeric(void **state) {
  (void)state;
  expect_parse_error("entity,time,value\nab,2010-01-01,12x\n", 2, 15, "not a number");
  expect_parse_error("entity,time,value\nab,2010-01-01, 12\n", 2, 15, "not a number");
  expect_parse_error("entity,time,value\nab,2010-01-01,0x10\n", 2, 15, "not a number");
  expect_parse_error("entity,time,value\nab,2010-01-01,\n", 2, 15, "value is empty");
}

static void test_value_not_finite(void **state) {
  (void)state;
  expect_parse_error("entity,time,value\nab,2010-01-01,nan\n", 2, 15, "not a finite number");
  expect_parse_error("entity,time,value\nab,2010-01-01,inf\n", 2, 15, "not a finite number");
  expect_parse_error("entity,time,value\nab,2010-01-01,1e999\n", 2, 15, "not a finite number");
}

static void test_value_not_positive(void **state) {
  (void)state;
  expect_parse_error("entity,time,value\nab,2010-01-01,0\n", 2, 15, "not > 0");
  expect_parse_error("entity,time,value\nab,2010-01-01,-5\n", 2, 15, "not > 0");
}

static void test_dates_out_of_order(void **state) {
  (void)state;
  expect_parse_error("entity,time,value\n"
                     "ab,2010-02-01,1\n"
                     "cd,2009-01-01,1\n" /* another entity may go back in time */
                     "ab,2010-01-15,1\n",
                     4, 4, "before 2010-02-01 on line 2");
}

static void test_date_repeated(void **state) {
  (void)state;
  expect_parse_error("entity,time,value\n"
                     "ab,2010-02-01,1\n"
                     "cd,2010-02-01,1\n"
                     "ab,2010-02-01,2\n",
                     4, 4, "repeats line 2");
}

static void test_nul_byte(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("series-nul");
  char path[1024];
  snprintf(path, sizeof path, "%s/nul.csv", dir);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fwrite("entity,time,value\nab\0c,2010-01-01,1\n", 1, 36, f);
  fclose(f);
  cb_series s;
  cb_err e = {0};
  assert_int_equal(cb_series_load(&s, path, &e), CB_EPARSE);
  char want[1100];
  snprintf(want, sizeof want, "%s:2:3: ", path);
  assert_true(strncmp(e.msg, want, strlen(want)) == 0);
}

static void test_unreadable(void **state) {
  (void)state;
  cb_series s;
  cb_err e = {0};
  const char *missing = CB_SOURCE_DIR "/data/no-such-file.csv";
  assert_int_equal(cb_series_load(&s, missing, &e), CB_EIO);
  assert_non_null(strstr(e.msg, missing));
  assert_non_null(strstr(e.msg, "No such file or directory"));
  assert_null(s.ent);
  /* A directory opens but cannot be read as a file. */
  cb_err_clear(&e);
  assert_int_equal(cb_series_load(&s, CB_SOURCE_DIR "/data", &e), CB_EIO);
  assert_non_null(strstr(e.msg, "Is a directory"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_real_file_loads),
      cmocka_unit_test(test_value_on_survey_date),
      cmocka_unit_test(test_interpolates_between_surveys),
      cmocka_unit_test(test_flat_outside_surveys),
      cmocka_unit_test(test_crlf_blank_lines_and_interleaving),
      cmocka_unit_test(test_long_lines_and_many_rows),
      cmocka_unit_test(test_utf8_bom_accepted),
      cmocka_unit_test(test_bad_header),
      cmocka_unit_test(test_empty_file),
      cmocka_unit_test(test_no_data_rows),
      cmocka_unit_test(test_too_few_fields),
      cmocka_unit_test(test_too_many_fields),
      cmocka_unit_test(test_empty_entity),
      cmocka_unit_test(test_entity_too_long),
      cmocka_unit_test(test_bad_date),
      cmocka_unit_test(test_value_not_numeric),
      cmocka_unit_test(test_value_not_finite),
      cmocka_unit_test(test_value_not_positive),
      cmocka_unit_test(test_dates_out_of_order),
      cmocka_unit_test(test_date_repeated),
      cmocka_unit_test(test_nul_byte),
      cmocka_unit_test(test_unreadable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
