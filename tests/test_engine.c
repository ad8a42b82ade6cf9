/* Tests of the engine layer: the Philox wrapper draws the numbers the model's reproducibility rests
 * on (pure functions of their key and counter), day buckets hand out a day's ids in ascending
 * order whatever the scheduling order, and the calendar converts dates exactly and refuses
 * anything that is not a real YYYY-MM-DD day. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/apportion.h"
#include "engine/buckets.h"
#include "engine/calendar.h"
#include "engine/rng.h"

static int same_words(cb_rng_block a, cb_rng_block b) {
  return a.v[0] == b.v[0] && a.v[1] == b.v[1] && a.v[2] == b.v[2] && a.v[3] == b.v[3];
}

/* ---------------- random numbers ---------------- */

/* Random123's published known-answer vectors for philox2x64-10 (kat_vectors), reached through the
 * wrapper's packing of (seed, run, purpose, agent, day, index) into key and counter:
 * counter = {agent | day << 32, (purpose << 24 ^ index) | run << 32}, key = seed; the two 64-bit
 * outputs come back as four words, low half first. */
static void test_rng_known_answers(void **state) {
  (void)state;
  /* counter {0, 0}, key 0 -> ca00a0459843d731 66c24222c9a845b5 (purpose 1 with index 1 << 24
   * makes the purpose word 0) */
  cb_rng r0 = cb_rng_make(0, 0);
  cb_rng_block w = cb_rng_words(&r0, CB_RNG_INIT_BUYER, 0, 0, UINT32_C(1) << 24);
  assert_int_equal(w.v[0], 0x9843d731u);
  assert_int_equal(w.v[1], 0xca00a045u);
  assert_int_equal(w.v[2], 0xc9a845b5u);
  assert_int_equal(w.v[3], 0x66c24222u);

  /* counter {2^64 - 1, 2^64 - 1}, key 2^64 - 1 -> 65b021d60cd8310f 4d02f3222f86df20 */
  cb_rng rf = cb_rng_make(UINT64_MAX, 0xffffffffu);
  w = cb_rng_words(&rf, CB_RNG_INIT_BUYER, 0xffffffffu, -1, 0xffffffffu ^ (UINT32_C(1) << 24));
  assert_int_equal(w.v[0], 0x0cd8310fu);
  assert_int_equal(w.v[1], 0x65b021d6u);
  assert_int_equal(w.v[2], 0x2f86df20u);
  assert_int_equal(w.v[3], 0x4d02f322u);

  /* counter {243f6a8885a308d3, 13198a2e03707344}, key a4093822299f31d0 (digits of pi)
   * -> 0a5e742c2997341c b0f883d38000de5d */
  cb_rng rp = cb_rng_make(UINT64_C(0xa4093822299f31d0), 0x13198a2eu);
  w = cb_rng_words(&rp, CB_RNG_INIT_BUYER, 0x85a308d3u, 0x243f6a88, 0x03707344u ^ (UINT32_C(1) << 24));
  assert_int_equal(w.v[0], 0x2997341cu);
  assert_int_equal(w.v[1], 0x0a5e742cu);
  assert_int_equal(w.v[2], 0x8000de5du);
  assert_int_equal(w.v[3], 0xb0f883d3u);
}

static void test_rng_pure_function(void **state) {
  (void)state;
  cb_rng a = cb_rng_make(12345, 7), b = cb_rng_make(12345, 7);
  for (uint32_t agent = 0; agent < 50; agent++)
    for (int32_t day = 15000; day < 15010; day++) {
      cb_rng_block x = cb_rng_words(&a, CB_RNG_CHOICE, agent, day, 3);
      /* interleave other draws: no state may advance between calls */
      (void)cb_rng_words(&a, CB_RNG_REVIEW, agent + 1, day, 0);
      cb_rng_block y = cb_rng_words(&b, CB_RNG_CHOICE, agent, day, 3);
      assert_true(same_words(x, y));
      assert_true(cb_rng_u01(&a, CB_RNG_CHOICE, agent, day, 3) == cb_u01(x.v[0]));
    }
}

static void test_rng_every_input_matters(void **state) {
  (void)state;
  cb_rng r = cb_rng_make(UINT64_C(0x0123456789abcdef), 2);
  cb_rng_block base = cb_rng_words(&r, CB_RNG_PLAN, 100, 16000, 5);
  /* each coordinate changed alone gives different words */
  assert_false(same_words(base, cb_rng_words(&r, CB_RNG_INSPECT, 100, 16000, 5)));
  assert_false(same_words(base, cb_rng_words(&r, CB_RNG_PLAN, 101, 16000, 5)));
  assert_false(same_words(base, cb_rng_words(&r, CB_RNG_PLAN, 100, 16001, 5)));
  assert_false(same_words(base, cb_rng_words(&r, CB_RNG_PLAN, 100, 16000, 6)));
  cb_rng run3 = cb_rng_make(UINT64_C(0x0123456789abcdef), 3);
  assert_false(same_words(base, cb_rng_words(&run3, CB_RNG_PLAN, 100, 16000, 5)));
  cb_rng lo = cb_rng_make(UINT64_C(0x0123456789abcdee), 2);  /* low seed word differs */
  assert_false(same_words(base, cb_rng_words(&lo, CB_RNG_PLAN, 100, 16000, 5)));
  cb_rng hi = cb_rng_make(UINT64_C(0x1123456789abcdef), 2);  /* high seed word differs */
  assert_false(same_words(base, cb_rng_words(&hi, CB_RNG_PLAN, 100, 16000, 5)));
  /* every purpose gets its own stream for the same agent, day and index */
  cb_rng_block seen[CB_RNG_NPURPOSES];
  for (int p = CB_RNG_INIT_BUYER; p < CB_RNG_NPURPOSES; p++) {
    seen[p] = cb_rng_words(&r, (cb_rng_purpose)p, 9, 16000, 0);
    for (int q = CB_RNG_INIT_BUYER; q < p; q++)
      if (same_words(seen[p], seen[q])) fail_msg("purposes %d and %d share a stream", p, q);
  }
  /* and the four words of one draw differ from each other */
  assert_true(base.v[0] != base.v[1] && base.v[1] != base.v[2] && base.v[2] != base.v[3]);
}

/* A stream's word i is word i % 4 of the block with index i / 4, whatever order words are read
 * in, and a block is computed once however many of its words are read. */
static void test_rng_stream_words(void **state) {
  (void)state;
  cb_rng r = cb_rng_make(77, 1);
  cb_rng_stream st = cb_rng_stream_make(CB_RNG_CHOICE, 12345, 4000, 40);
  uint32_t order[] = {6, 1, 0, 9, 7, 2, 11, 4};
  for (size_t j = 0; j < sizeof order / sizeof *order; j++) {
    uint32_t i = order[j];
    assert_int_equal(cb_rng_stream_word(&r, &st, i), cb_rng_words(&r, CB_RNG_CHOICE, 12345, 4000, 40 + i / 4).v[i % 4]);
    assert_int_equal(st.block, i / 4);
  }
  /* a different agent, day or purpose gives a different stream */
  cb_rng_stream other = cb_rng_stream_make(CB_RNG_CHOICE, 12346, 4000, 40);
  assert_int_not_equal(cb_rng_stream_word(&r, &other, 0), cb_rng_stream_word(&r, &st, 0));
}

static void test_u01_strictly_inside(void **state) {
  (void)state;
  double lo = cb_u01(0), hi = cb_u01(UINT32_MAX);
  assert_true(lo > 0.0);
  assert_true(hi < 1.0);
  assert_near(lo, 0.5 / 4294967296.0, 1e-25);
  assert_near(hi, 1.0 - 0.5 / 4294967296.0, 1e-20);
  assert_true(cb_u01(1) > lo && cb_u01(UINT32_MAX - 1) < hi);
  /* both ends stay finite through the transforms that take logs */
  assert_true(isfinite(cb_exponential(0, 1.0)) && cb_exponential(0, 1.0) > 0);
  assert_true(isfinite(cb_exponential(UINT32_MAX, 1.0)) && cb_exponential(UINT32_MAX, 1.0) > 0);
  assert_true(isfinite(cb_normal(0, 0)) && isfinite(cb_normal(UINT32_MAX, UINT32_MAX)));
  /* many real draws: all inside, and spread over the interval */
  cb_rng r = cb_rng_make(99, 0);
  double mn = 1, mx = 0, sum = 0;
  const int n = 100000;
  for (int i = 0; i < n; i++) {
    double u = cb_rng_u01(&r, CB_RNG_REVIEW, (uint32_t)i, 0, 0);
    assert_true(u > 0.0 && u < 1.0);
    mn = fmin(mn, u);
    mx = fmax(mx, u);
    sum += u;
  }
  assert_true(mn < 1e-3 && mx > 1 - 1e-3);
  assert_near(sum / n, 0.5, 0.005); /* sd of the mean 0.0009 */
}

static void test_exponential_and_normal_moments(void **state) {
  (void)state;
  cb_rng r = cb_rng_make(2024, 1);
  const int n = 200000;
  const double mean = 30.0;
  double s = 0, s2 = 0, z = 0, z2 = 0;
  for (int i = 0; i < n; i++) {
    cb_rng_block w = cb_rng_words(&r, CB_RNG_LIFETIME, (uint32_t)i, 17000, 0);
    double x = cb_exponential(w.v[0], mean);
    assert_true(x > 0);
    s += x;
    s2 += x * x;
    double g = cb_normal(w.v[1], w.v[2]);
    z += g;
    z2 += g * g;
  }
  double m = s / n, var = s2 / n - m * m;
  assert_near(m, mean, 0.015 * mean);          /* sd of the mean is 0.22% of it */
  assert_near(sqrt(var), mean, 0.03 * mean);   /* exponential: sd equals mean */
  assert_near(z / n, 0.0, 0.01);
  assert_near(z2 / n, 1.0, 0.02);
  /* the scale is exact: the same word with twice the mean gives twice the draw */
  cb_rng_block w = cb_rng_words(&r, CB_RNG_LIFETIME, 3, 17000, 0);
  assert_near(cb_exponential(w.v[0], 2 * mean), 2 * cb_exponential(w.v[0], mean), 1e-12);
}

/* ---------------- day buckets ---------------- */

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void test_buckets_sorted_whatever_push_order(void **state) {
  (void)state;
  cb_buckets b;
  memset(&b, 0, sizeof b);
  cb_err e = {0};
  assert_int_equal(cb_buckets_init(&b, 16, &e), CB_OK);
  assert_int_equal(cb_buckets_count(&b), 0);
  const uint32_t ids[] = {42, 7, 0xFFFFFFFFu, 65536, 7, 3, 65535, 1u << 20, 0, 99};
  const size_t n = sizeof ids / sizeof ids[0];
  for (size_t i = 0; i < n; i++) assert_int_equal(cb_buckets_push(&b, 5, ids[i], &e), CB_OK);
  /* the same ids in the reverse order on another day */
  for (size_t i = n; i-- > 0;) assert_int_equal(cb_buckets_push(&b, 6, ids[i], &e), CB_OK);
  assert_int_equal(cb_buckets_push(&b, 9, 1234, &e), CB_OK);
  assert_int_equal(cb_buckets_count(&b), 2 * n + 1);

  uint32_t want[sizeof ids / sizeof ids[0]];
  memcpy(want, ids, sizeof ids);
  qsort(want, n, sizeof want[0], cmp_u32);
  for (int32_t day = 5; day <= 6; day++) {
    cb_bucket *k = cb_buckets_take(&b, day, &e);
    assert_non_null(k);
    assert_int_equal(k->n, n);
    for (size_t i = 0; i < n; i++) assert_int_equal(k->ids[i], want[i]);
  }
  assert_int_equal(cb_buckets_take(&b, 7, &e)->n, 0);
  cb_bucket *one = cb_buckets_take(&b, 9, &e);
  assert_int_equal(one->n, 1);
  assert_int_equal(one->ids[0], 1234);

  cb_buckets_clear(&b, 5);
  assert_int_equal(cb_buckets_take(&b, 5, &e)->n, 0);
  assert_int_equal(cb_buckets_count(&b), n + 1);
  assert_int_equal(cb_buckets_take(&b, 6, &e)->n, n); /* other days untouched */
  cb_buckets_clear(&b, 6);
  cb_buckets_clear(&b, 9);
  assert_int_equal(cb_buckets_count(&b), 0);
  /* a cleared day can be used again */
  assert_int_equal(cb_buckets_push(&b, 5, 8, &e), CB_OK);
  assert_int_equal(cb_buckets_push(&b, 5, 2, &e), CB_OK);
  cb_bucket *k = cb_buckets_take(&b, 5, &e);
  assert_int_equal(k->n, 2);
  assert_int_equal(k->ids[0], 2);
  assert_int_equal(k->ids[1], 8);
  cb_buckets_free(&b);
  assert_null(b.slot);
  cb_buckets_free(&b); /* freeing twice is harmless */
}

/* Many ids spread over all 32 bits (both radix passes matter), with duplicates, in scrambled order. */
static void test_buckets_large_day_sorted(void **state) {
  (void)state;
  cb_buckets b;
  memset(&b, 0, sizeof b);
  cb_err e = {0};
  assert_int_equal(cb_buckets_init(&b, 4, &e), CB_OK);
  const uint32_t n = 70000;
  uint32_t *want = malloc(n * sizeof *want);
  cb_rng r = cb_rng_make(5, 0);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t v = cb_rng_words(&r, CB_RNG_INIT_BUYER, i, 0, 0).v[0];
    if (i % 10 == 9) v = want[i - 3]; /* duplicates */
    want[i] = v;
    assert_int_equal(cb_buckets_push(&b, 2, v, &e), CB_OK);
  }
  assert_int_equal(cb_buckets_count(&b), n);
  qsort(want, n, sizeof *want, cmp_u32);
  cb_bucket *k = cb_buckets_take(&b, 2, &e);
  assert_non_null(k);
  assert_int_equal(k->n, n);
  assert_memory_equal(k->ids, want, n * sizeof *want);
  free(want);
  cb_buckets_free(&b);
}

/* Days at or beyond the horizon reuse slots (day % horizon): a ring over absolute day numbers. */
static void test_buckets_ring_wraps(void **state) {
  (void)state;
  cb_buckets b;
  memset(&b, 0, sizeof b);
  cb_err e = {0};
  const int32_t H = 8;
  assert_int_equal(cb_buckets_init(&b, H, &e), CB_OK);
  int32_t today = 16000; /* an absolute day number far beyond the horizon */
  for (int32_t ahead = 0; ahead < H; ahead++)
    for (uint32_t j = 0; j < 3; j++)
      assert_int_equal(cb_buckets_push(&b, today + ahead, (uint32_t)(100 * ahead) + (2 - j), &e), CB_OK);
  assert_int_equal(cb_buckets_count(&b), 3 * (size_t)H);
  for (int32_t ahead = 0; ahead < H; ahead++) {
    cb_bucket *k = cb_buckets_take(&b, today + ahead, &e);
    assert_int_equal(k->n, 3);
    for (uint32_t j = 0; j < 3; j++) assert_int_equal(k->ids[j], (uint32_t)(100 * ahead) + j);
    cb_buckets_clear(&b, today + ahead);
  }
  assert_int_equal(cb_buckets_count(&b), 0);
  /* day and day + horizon share a slot: what is scheduled one lap later is found there */
  assert_int_equal(cb_buckets_push(&b, today + H + 1, 77, &e), CB_OK);
  assert_int_equal(cb_buckets_take(&b, today + 1, &e)->n, 1);
  assert_int_equal(cb_buckets_take(&b, today + H + 1, &e)->ids[0], 77);
  assert_int_equal(cb_buckets_take(&b, today + 2, &e)->n, 0);
  cb_buckets_clear(&b, today + H + 1);
  assert_int_equal(cb_buckets_count(&b), 0);
  /* days 0 .. 3*H-1 in a row, each cleared after use, never see each other's ids */
  for (int32_t d = 0; d < 3 * H; d++) {
    assert_int_equal(cb_buckets_push(&b, d + H - 1, (uint32_t)d, &e), CB_OK);
    cb_bucket *k = cb_buckets_take(&b, d, &e);
    if (d < H - 1) assert_int_equal(k->n, 0);
    else {
      assert_int_equal(k->n, 1);
      assert_int_equal(k->ids[0], (uint32_t)(d - (H - 1)));
    }
    cb_buckets_clear(&b, d);
  }
  cb_buckets_free(&b);
}

/* ---------------- calendar ---------------- */

static void test_calendar_anchors(void **state) {
  (void)state;
  assert_int_equal(cb_days_from_civil(1970, 1, 1), 0);
  assert_int_equal(cb_days_from_civil(1969, 12, 31), -1);
  assert_int_equal(cb_days_from_civil(2000, 3, 1), 11017);
  assert_int_equal(cb_days_from_civil(2012, 1, 1), 15340);
  assert_int_equal(cb_days_from_civil(1900, 1, 1), -25567);
  assert_int_equal(cb_days_from_civil(2100, 12, 31), 47846);
  int32_t d = 0;
  assert_int_equal(cb_parse_date("2016-02-10", &d), 0);
  assert_int_equal(d, 16841);
  char buf[11];
  cb_format_date(16841, buf);
  assert_string_equal(buf, "2016-02-10");
  cb_format_date(-25567, buf);
  assert_string_equal(buf, "1900-01-01");
}

static void test_calendar_round_trips_1900_2100(void **state) {
  (void)state;
  int32_t first = cb_days_from_civil(1900, 1, 1), last = cb_days_from_civil(2100, 12, 31);
  int py = 1899, pm = 12, pd = 31, leap_days = 0;
  int year_len[201] = {0};
  for (int32_t z = first; z <= last; z++) {
    int y, m, d;
    cb_civil_from_days(z, &y, &m, &d);
    assert_int_equal(cb_days_from_civil(y, m, d), z);
    /* consecutive days are consecutive dates */
    if (y == py && m == pm) assert_int_equal(d, pd + 1);
    else if (y == py) {
      assert_int_equal(m, pm + 1);
      assert_int_equal(d, 1);
    } else {
      assert_int_equal(y, py + 1);
      assert_int_equal(m, 1);
      assert_int_equal(d, 1);
      assert_int_equal(pm, 12);
      assert_int_equal(pd, 31);
    }
    if (m == 2 && d == 29) leap_days++;
    year_len[y - 1900]++;
    char buf[11];
    cb_format_date(z, buf);
    int32_t back = 0;
    if (cb_parse_date(buf, &back) != 0) fail_msg("%s does not parse", buf);
    assert_int_equal(back, z);
    char want[16];
    snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, d);
    assert_string_equal(buf, want);
    py = y;
    pm = m;
    pd = d;
  }
  assert_int_equal(py, 2100);
  /* leap years in 1900..2100: every 4th from 1904 to 2096 (1900 and 2100 are not, 2000 is) */
  assert_int_equal(leap_days, 49);
  for (int y = 1900; y <= 2100; y++) {
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (year_len[y - 1900] != 365 + leap) fail_msg("year %d has %d days", y, year_len[y - 1900]);
  }
}

static void test_calendar_leap_days(void **state) {
  (void)state;
  int32_t d = 0;
  assert_int_equal(cb_parse_date("2000-02-29", &d), 0);
  assert_int_equal(d + 1, cb_days_from_civil(2000, 3, 1));
  assert_int_equal(cb_parse_date("2016-02-29", &d), 0);
  assert_int_equal(d, cb_days_from_civil(2016, 2, 29));
  assert_int_equal(cb_parse_date("2012-02-29", &d), 0);
  assert_int_equal(cb_parse_date("1900-02-29", &d), -1);
  assert_int_equal(cb_parse_date("2100-02-29", &d), -1);
  assert_int_equal(cb_parse_date("2019-02-29", &d), -1);
  assert_int_equal(cb_parse_date("2016-02-30", &d), -1);
  assert_int_equal(cb_days_from_civil(2016, 3, 1) - cb_days_from_civil(2016, 2, 1), 29);
  assert_int_equal(cb_days_from_civil(2019, 3, 1) - cb_days_from_civil(2019, 2, 1), 28);
}

static void test_calendar_rejects(void **state) {
  (void)state;
  static const char *const bad[] = {
      "2019-02-29", "2019-13-01", "2019-1-01", "2019-01-1", "2019-00-10", "2019-01-00", "2019-04-31",
      "2013-02-30", "2019-06-31", "2019-01-32", "19-01-01", "2019/01/01", "2019-01-01 ", " 2019-01-01",
      "2019-01-011", "2019-01", "", "garbage", "abcd-ef-gh", "2019-0a-01", "+019-01-01", "-019-01-01",
      "2019--1-01", "0999-12-31", "2019-01-01T00", "２０１９-01-01"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int32_t d = 12345;
    if (cb_parse_date(bad[i], &d) != -1) fail_msg("'%s' was accepted as day %d", bad[i], (int)d);
  }
  int32_t d = 0;
  assert_int_equal(cb_parse_date(NULL, &d), -1);
  /* the edges of what is valid */
  assert_int_equal(cb_parse_date("1000-01-01", &d), 0);
  assert_int_equal(d, cb_days_from_civil(1000, 1, 1));
  assert_int_equal(cb_parse_date("9999-12-31", &d), 0);
  assert_int_equal(d, cb_days_from_civil(9999, 12, 31));
  assert_int_equal(cb_parse_date("2019-12-31", &d), 0);
  assert_int_equal(cb_parse_date("2019-04-30", &d), 0);
}

/* Largest remainder: counts sum to the total, each within one of its exact share, and the
 * extra units go to the largest remainders. */
static void test_apportion(void **state) {
  (void)state;
  const double shares[3] = {0.7, 0.15, 0.15};
  uint32_t c[3];
  cb_apportion(shares, 3, 101, c);
  assert_int_equal(c[0] + c[1] + c[2], 101);
  assert_int_equal(c[0], 71); /* 70.7 -> 70, remainder .7 is largest */
  assert_int_equal(c[1], 15);
  assert_int_equal(c[2], 15);
  const double thirds[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  cb_apportion(thirds, 3, 100, c);
  assert_int_equal(c[0] + c[1] + c[2], 100);
  for (int i = 0; i < 3; i++) assert_true(c[i] == 33 || c[i] == 34);
  /* Shares pass validation within 1e-6 of summing to 1; slightly over, the floors alone would
   * hand out more agents than there are (here 50,000,005 of 50,000,000). */
  const double over[2] = {0.5000001, 0.5};
  cb_apportion(over, 2, 50000000u, c);
  assert_int_equal(c[0] + c[1], 50000000u);
  assert_true(c[0] >= c[1]);
}

/* Interleaving: every prefix of the sequence is within one agent of the shares. */
static void test_interleave_prefixes_follow_shares(void **state) {
  (void)state;
  const double shares[3] = {0.15, 0.45, 0.40};
  double given[3] = {0, 0, 0};
  int count[3] = {0, 0, 0};
  for (uint32_t k = 0; k < 1000; k++) {
    count[cb_interleave_next(shares, 3, k, given)]++;
    for (int i = 0; i < 3; i++) assert_true(fabs(count[i] - shares[i] * (k + 1)) <= 1.0);
  }
  assert_int_equal(count[0], 150);
  assert_int_equal(count[1], 450);
  assert_int_equal(count[2], 400);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_apportion),
      cmocka_unit_test(test_interleave_prefixes_follow_shares),
      cmocka_unit_test(test_rng_known_answers),
      cmocka_unit_test(test_rng_pure_function),
      cmocka_unit_test(test_rng_every_input_matters),
      cmocka_unit_test(test_rng_stream_words),
      cmocka_unit_test(test_u01_strictly_inside),
      cmocka_unit_test(test_exponential_and_normal_moments),
      cmocka_unit_test(test_buckets_sorted_whatever_push_order),
      cmocka_unit_test(test_buckets_large_day_sorted),
      cmocka_unit_test(test_buckets_ring_wraps),
      cmocka_unit_test(test_calendar_anchors),
      cmocka_unit_test(test_calendar_round_trips_1900_2100),
      cmocka_unit_test(test_calendar_leap_days),
      cmocka_unit_test(test_calendar_rejects),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
