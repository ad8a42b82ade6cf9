/* The parameter-table binder, exercised through a small table of its own: a singleton with every
 * scalar type, an optional singleton, a collection of hubs and a collection of routes that refer
 * to hubs. Checks values and defaults, every error the binder reports (code, file:line:col and
 * path), --set overrides end to end, path lookup and the Markdown reference. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "engine/calendar.h"
#include "io/schema.h"
#include "io/ytree.h"

typedef struct general_t {
  int64_t count;
  double rate;
  int active;
  int32_t start;
  int color;
  uint32_t tags;
  char file[CB_STR_MAX];
} general_t;

typedef struct options_t {
  double scale;
  int64_t level;
} options_t;

typedef struct hub_t {
  char name[CB_NAME_MAX];
  double capacity;
  int64_t rank;
} hub_t;

typedef struct route_t {
  char name[CB_NAME_MAX];
  int from;
  cb_reflist via;
  double cost[CB_MAX_ENTRIES];
  double toll[CB_MAX_ENTRIES];
  int mode;
  int home;
} route_t;

typedef struct world_t {
  general_t general;
  options_t options;
  int nhubs;
  hub_t hubs[4];
  int nroutes;
  route_t routes[3];
} world_t;

static const char *const colors[] = {"red", "green", "blue", NULL};
static const char *const tag_names[] = {"alpha", "beta", "gamma", NULL};
static const char *const modes[] = {"road", "rail", "river", NULL};

static const cb_field general_fields[] = {
    {"count", CB_T_INT, offsetof(general_t, count), 0, 1000, "10", NULL, NULL, "agents", "how many"},
    {"rate", CB_T_DOUBLE, offsetof(general_t, rate), 0, 1, "0.5", NULL, NULL, "share", "a share | with a pipe"},
    {"active", CB_T_BOOL, offsetof(general_t, active), 0, 0, "true", NULL, NULL, NULL, "switch"},
    {"start", CB_T_DATE, offsetof(general_t, start), 0, 0, NULL, NULL, NULL, NULL, "first day"},
    {"color", CB_T_ENUM, offsetof(general_t, color), 0, 0, "green", colors, NULL, NULL, "a colour"},
    {"tags", CB_T_FLAGS, offsetof(general_t, tags), 0, 0, "[alpha]", tag_names, NULL, NULL, "some tags"},
    {"file", CB_T_STRING, offsetof(general_t, file), 0, 0, "data/x.csv", NULL, NULL, NULL, "a path"},
};

static const cb_field options_fields[] = {
    {"scale", CB_T_DOUBLE, offsetof(options_t, scale), 0.1, 10, "1", NULL, NULL, NULL, "scale factor"},
    {"level", CB_T_INT, offsetof(options_t, level), -5, 5, "-2", NULL, NULL, NULL, "a level"},
};

static const cb_field hub_fields[] = {
    {"capacity", CB_T_DOUBLE, offsetof(hub_t, capacity), 0, 1e6, NULL, NULL, NULL, "units", "capacity"},
    {"rank", CB_T_INT, offsetof(hub_t, rank), 1, 9, "1", NULL, NULL, NULL, "rank"},
};

static const cb_field route_fields[] = {
    {"from", CB_T_REF, offsetof(route_t, from), 0, 0, NULL, NULL, "hubs", NULL, "origin hub"},
    {"via", CB_T_REFLIST, offsetof(route_t, via), 0, 0, "[]", NULL, "hubs", NULL, "hubs passed"},
    {"cost", CB_T_MAP_DOUBLE, offsetof(route_t, cost), 0, 100, "2.5", NULL, "hubs", "USD", "cost by hub"},
    {"toll", CB_T_MAP_DOUBLE, offsetof(route_t, toll), 0, 10, NULL, NULL, "hubs", "USD", "toll by hub"},
    {"mode", CB_T_ENUM, offsetof(route_t, mode), 0, 0, "road", modes, NULL, NULL, "transport"},
    {"home", CB_T_REF, offsetof(route_t, home), 0, 0, "north", NULL, "hubs", NULL, "home hub"},
};

#define NF(a) (sizeof a / sizeof a[0])

static const cb_section sections[] = {
    {"general", "General settings.", general_fields, NF(general_fields), offsetof(world_t, general), 0, 1, 0, 0, 0, 0, 0},
    {"options", "Optional settings.", options_fields, NF(options_fields), offsetof(world_t, options), 0, 0, 0, 0, 0, 0, 0},
    {"hubs", "Places.", hub_fields, NF(hub_fields), offsetof(world_t, hubs), 1, 1, sizeof(hub_t), 4, 1,
     offsetof(world_t, nhubs), offsetof(hub_t, name)},
    {"routes", "Ways between hubs.", route_fields, NF(route_fields), offsetof(world_t, routes), 1, 0, sizeof(route_t), 3, 0,
     offsetof(world_t, nroutes), offsetof(route_t, name)},
};

static const cb_schema schema = {sections, NF(sections)};

static const char *const minimal =
    "general:\n"
    "  start: 2010-01-01\n"
    "hubs:\n"
    "  north: {capacity: 1}\n";

/* ---- helpers ----------------------------------------------------------------------------- */

static void expect_parts(const char *msg, const char *const *parts) {
  for (size_t i = 0; parts[i]; i++)
    if (!strstr(msg, parts[i])) fail_msg("no \"%s\" in the message \"%s\"", parts[i], msg);
}

/* Loads text as "w.yaml", applies the overrides (numbered from 1) and binds with sc. */
static int bind_with(const cb_schema *sc, const char *text, const char *const *sets, world_t *w, cb_err *e) {
  cb_ytree t;
  cb_err_clear(e);
  memset(w, 0, sizeof *w);
  int rc = cb_ytree_load_string(&t, text, "w.yaml", e);
  if (rc != CB_OK) fail_msg("cannot load the test YAML: %s", e->msg);
  for (int i = 0; sets && sets[i]; i++) {
    rc = cb_ytree_override(&t, sets[i], i + 1, e);
    if (rc != CB_OK) {
      cb_ytree_free(&t);
      return rc;
    }
  }
  rc = cb_schema_bind(sc, &t, w, e);
  cb_ytree_free(&t);
  return rc;
}

static void bind_ok(const char *text, const char *const *sets, world_t *w) {
  cb_err e;
  if (bind_with(&schema, text, sets, w, &e) != CB_OK) fail_msg("bind failed: %s", e.msg);
}

static void bind_fails(const cb_schema *sc, const char *text, const char *const *sets, int code, const char *const *parts) {
  world_t w;
  cb_err e;
  int rc = bind_with(sc, text, sets, &w, &e);
  if (rc != code) fail_msg("expected code %d, got %d: %s", code, rc, e.msg);
  assert_int_equal(e.code, code);
  expect_parts(e.msg, parts);
}

#define PARTS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define SETS(...) ((const char *const[]){__VA_ARGS__, NULL})
/* The message must contain every listed part (file:line:col, path, wording). */
#define FAILS(text, ...) bind_fails(&schema, (text), NULL, CB_ESCHEMA, PARTS(__VA_ARGS__))

/* ---- values and defaults ----------------------------------------------------------------- */

static const char *const full =
    "general:\n"
    "  count: 1_000\n"
    "  rate: 0.25\n"
    "  active: no\n"
    "  start: 2014-07-01\n"
    "  color: blue\n"
    "  tags: [gamma, alpha]\n"
    "  file: \"out/x.csv\"\n"
    "options:\n"
    "  scale: 2\n"
    "hubs:\n"
    "  north: {capacity: 100}\n"
    "  south:\n"
    "    capacity: 2.5e3\n"
    "    rank: 9\n"
    "routes:\n"
    "  r1:\n"
    "    from: south\n"
    "    via: [north, south]\n"
    "    cost: {south: 7}\n"
    "    toll: {north: 1, south: 2}\n"
    "    mode: rail\n"
    "    home: south\n";

static void test_binds_every_type(void **state) {
  (void)state;
  world_t w;
  bind_ok(full, NULL, &w);
  assert_int_equal(w.general.count, 1000);
  assert_true(w.general.rate == 0.25);
  assert_int_equal(w.general.active, 0);
  assert_int_equal(w.general.start, cb_days_from_civil(2014, 7, 1));
  assert_int_equal(w.general.color, 2);
  assert_int_equal(w.general.tags, (1u << 2) | (1u << 0));
  assert_string_equal(w.general.file, "out/x.csv");
  assert_true(w.options.scale == 2.0);
  assert_int_equal(w.options.level, -2);
  assert_int_equal(w.nhubs, 2);
  assert_string_equal(w.hubs[0].name, "north");
  assert_true(w.hubs[0].capacity == 100.0);
  assert_int_equal(w.hubs[0].rank, 1);
  assert_string_equal(w.hubs[1].name, "south");
  assert_true(w.hubs[1].capacity == 2500.0);
  assert_int_equal(w.hubs[1].rank, 9);
  assert_int_equal(w.nroutes, 1);
  const route_t *r = &w.routes[0];
  assert_string_equal(r->name, "r1");
  assert_int_equal(r->from, 1);
  assert_int_equal(r->via.n, 2);
  assert_int_equal(r->via.idx[0], 0);
  assert_int_equal(r->via.idx[1], 1);
  assert_true(r->cost[0] == 2.5); /* not given: the default */
  assert_true(r->cost[1] == 7.0);
  assert_true(r->toll[0] == 1.0 && r->toll[1] == 2.0);
  assert_int_equal(r->mode, 1);
  assert_int_equal(r->home, 1);
}

static void test_defaults(void **state) {
  (void)state;
  world_t w;
  bind_ok(minimal, NULL, &w);
  assert_int_equal(w.general.count, 10);
  assert_true(w.general.rate == 0.5);
  assert_int_equal(w.general.active, 1);
  assert_int_equal(w.general.color, 1);
  assert_int_equal(w.general.tags, 1u);
  assert_string_equal(w.general.file, "data/x.csv");
  assert_true(w.options.scale == 1.0); /* absent optional section: all defaults */
  assert_int_equal(w.options.level, -2);
  assert_int_equal(w.nroutes, 0);

  bind_ok("general: {start: 2010-01-01}\n"
          "hubs:\n  north: {capacity: 1}\n  south: {capacity: 2}\n"
          "routes:\n  r: {from: north, toll: {north: 0, south: 0}}\n",
          NULL, &w);
  assert_int_equal(w.nroutes, 1);
  assert_int_equal(w.routes[0].via.n, 0);
  assert_true(w.routes[0].cost[0] == 2.5 && w.routes[0].cost[1] == 2.5);
  assert_int_equal(w.routes[0].mode, 0);
  assert_int_equal(w.routes[0].home, 0); /* default "north" resolved by name */
}

static void test_empty_values_mean_empty_mappings(void **state) {
  (void)state;
  world_t w;
  bind_ok("general: {start: 2010-01-01}\noptions:\nhubs:\n  north: {capacity: 1}\nroutes:\n", NULL, &w);
  assert_true(w.options.scale == 1.0);
  assert_int_equal(w.nroutes, 0);
}

static void test_entry_order_is_file_order(void **state) {
  (void)state;
  world_t w;
  bind_ok("general: {start: 2010-01-01}\n"
          "hubs:\n  zeta: {capacity: 1}\n  alpha: {capacity: 2}\n  mid: {capacity: 3}\n"
          "routes:\n  r: {from: mid, via: [alpha, zeta], toll: {zeta: 1, alpha: 2, mid: 3}, home: zeta}\n",
          NULL, &w);
  assert_string_equal(w.hubs[0].name, "zeta");
  assert_string_equal(w.hubs[2].name, "mid");
  assert_int_equal(w.routes[0].from, 2);
  assert_int_equal(w.routes[0].via.idx[0], 1);
  assert_int_equal(w.routes[0].via.idx[1], 0);
  assert_true(w.routes[0].toll[0] == 1.0 && w.routes[0].toll[1] == 2.0 && w.routes[0].toll[2] == 3.0);
}

/* ---- errors ------------------------------------------------------------------------------ */

static void test_unknown_keys(void **state) {
  (void)state;
  FAILS("general:\n  start: 2010-01-01\n  rat: 0.3\nhubs: {n: {capacity: 1}}\n", "w.yaml:3:3:", "general.rat:",
        "unknown key 'rat'", "did you mean 'rate'?", "count, rate, active, start, color, tags, file");
  FAILS("general: {start: 2010-01-01}\nhub:\n  n: {capacity: 1}\n", "w.yaml:2:1:", "hub:", "unknown section 'hub'",
        "did you mean 'hubs'?", "general, options, hubs, routes");
  FAILS("general: {start: 2010-01-01}\nhubs:\n  n:\n    capacty: 1\n", "w.yaml:4:5:", "hubs.n.capacty:",
        "did you mean 'capacity'?");
  /* nothing close: no suggestion */
  world_t w;
  cb_err e;
  assert_int_equal(bind_with(&schema, "general: {start: 2010-01-01, zzzzzz: 1}\nhubs: {n: {capacity: 1}}\n", NULL, &w, &e), CB_ESCHEMA);
  expect_parts(e.msg, PARTS("w.yaml:1:30:", "general.zzzzzz", "allowed keys"));
  assert_null(strstr(e.msg, "did you mean"));
}

static void test_wrong_kinds(void **state) {
  (void)state;
  FAILS("general:\n  start: 2010-01-01\n  count: {a: 1}\nhubs: {n: {capacity: 1}}\n", "w.yaml:3:10:", "general.count:",
        "expected an integer, found a mapping");
  FAILS("general:\n  start: [2010-01-01]\nhubs: {n: {capacity: 1}}\n", "w.yaml:2:10:", "general.start:", "found a list");
  FAILS("general: 5\nhubs: {n: {capacity: 1}}\n", "w.yaml:1:10:", "general:", "expected a mapping");
  FAILS("general: {start: 2010-01-01}\nhubs: [a, b]\n", "w.yaml:2:7:", "hubs:", "mapping of named entries");
  FAILS("general: {start: 2010-01-01}\nhubs:\n  n: 5\n", "w.yaml:3:6:", "hubs.n:", "expected a mapping");
  FAILS("general: {start: 2010-01-01, tags: alpha}\nhubs: {n: {capacity: 1}}\n", "w.yaml:1:36:", "general.tags:",
        "expected a list");
  FAILS("general: {start: 2010-01-01}\nhubs: {n: {capacity: 1}}\nroutes: {r: {from: n, toll: 1}}\n", "w.yaml:3:29:",
        "routes.r.toll:", "expected a mapping from hubs names to numbers");
}

static void test_wrong_scalar_types(void **state) {
  (void)state;
  FAILS("general: {start: 2010-01-01, count: abc}\nhubs: {n: {capacity: 1}}\n", "w.yaml:1:37:", "general.count:",
        "expected an integer", "'abc'");
  FAILS("general: {start: 2010-01-01, count: 1.5}\nhubs: {n: {capacity: 1}}\n", "w.yaml:1:37:", "expected an integer");
  FAILS("general: {start: 2010-01-01, count: \"5\"}\nhubs: {n: {capacity: 1}}\n", "w.yaml:1:37:", "general.count:",
        "quoted text \"5\"", "remove the quotes");
  FAILS("general: {start: 2010-01-01, rate: '0.5'}\nhubs: {n: {capacity: 1}}\n", "w.yaml:1:36:", "general.rate:",
        "expected a number", "quoted");
  FAILS("general: {start: 2010-01-01, rate: lots}\nhubs: {n: {capacity: 1}}\n", "w.yaml:1:36:", "general.rate:",
        "expected a number");
  FAILS("general: {start: 2010-01-01, rate: }\nhubs: {n: {capacity: 1}}\n", "general.rate:", "an empty value");
  FAILS("general: {start: 2010-01-01, active: maybe}\nhubs: {n: {capacity: 1}}\n", "w.yaml:1:38:", "general.active:",
        "expected true or false");
  FAILS("general: {start: 2010-01-01, active: \"yes\"}\nhubs: {n: {capacity: 1}}\n", "general.active:", "quoted");
}

static void test_out_of_range(void **state) {
  (void)state;
  FAILS("general: {start: 2010-01-01, count: 2000}\nhubs: {n: {capacity: 1}}\n", "w.yaml:1:37:", "general.count:",
        "2000 is out of range for general.count; allowed 0 to 1000");
  FAILS("general: {start: 2010-01-01, count: -1}\nhubs: {n: {capacity: 1}}\n", "allowed 0 to 1000");
  FAILS("general: {start: 2010-01-01, count: 99999999999999999999}\nhubs: {n: {capacity: 1}}\n", "expected an integer");
  FAILS("general: {start: 2010-01-01, rate: 1.5}\nhubs: {n: {capacity: 1}}\n", "w.yaml:1:36:", "general.rate:",
        "1.5 is out of range for general.rate; allowed 0 to 1");
  FAILS("general: {start: 2010-01-01}\noptions: {scale: 0.05}\nhubs: {n: {capacity: 1}}\n", "w.yaml:2:18:",
        "allowed 0.1 to 10");
  FAILS("general: {start: 2010-01-01}\nhubs: {n: {capacity: 1, rank: 0}}\n", "w.yaml:2:31:", "hubs.n.rank:", "allowed 1 to 9");
  FAILS("general: {start: 2010-01-01}\nhubs: {n: {capacity: 1}}\nroutes: {r: {from: n, toll: {n: 11}}}\n",
        "w.yaml:3:33:", "routes.r.toll.n:", "allowed 0 to 10");
}

static void test_non_finite(void **state) {
  (void)state;
  FAILS("general: {start: 2010-01-01, rate: .nan}\nhubs: {n: {capacity: 1}}\n", "w.yaml:1:36:", "general.rate:",
        "not a finite number");
  FAILS("general: {start: 2010-01-01, rate: .inf}\nhubs: {n: {capacity: 1}}\n", "not a finite number");
  FAILS("general: {start: 2010-01-01, rate: -inf}\nhubs: {n: {capacity: 1}}\n", "not a finite number");
  FAILS("general: {start: 2010-01-01, rate: NaN}\nhubs: {n: {capacity: 1}}\n", "not a finite number");
  FAILS("general: {start: 2010-01-01, rate: 1e999}\nhubs: {n: {capacity: 1}}\n", "not a finite number");
}

static void test_bad_dates(void **state) {
  (void)state;
  FAILS("general:\n  start: 2014-02-30\nhubs: {n: {capacity: 1}}\n", "w.yaml:2:10:", "general.start:",
        "expected a date YYYY-MM-DD", "'2014-02-30'");
  FAILS("general:\n  start: 2014-7-1\nhubs: {n: {capacity: 1}}\n", "w.yaml:2:10:", "expected a date YYYY-MM-DD");
  FAILS("general:\n  start: yesterday\nhubs: {n: {capacity: 1}}\n", "expected a date YYYY-MM-DD");
}

static void test_unknown_names(void **state) {
  (void)state;
  FAILS("general: {start: 2010-01-01, color: purple}\nhubs: {n: {capacity: 1}}\n", "w.yaml:1:37:", "general.color:",
        "'purple' is not one of the allowed values: red, green, blue");
  FAILS("general: {start: 2010-01-01, color: gren}\nhubs: {n: {capacity: 1}}\n", "did you mean 'green'?");
  FAILS("general: {start: 2010-01-01, tags: [alpha, delta]}\nhubs: {n: {capacity: 1}}\n", "w.yaml:1:44:",
        "general.tags:", "'delta' is not one of the allowed values: alpha, beta, gamma");
  FAILS("general: {start: 2010-01-01}\nhubs:\n  north: {capacity: 1}\n  south: {capacity: 1}\n"
        "routes:\n  r:\n    from: west\n",
        "w.yaml:7:11:", "routes.r.from:", "'west' is not one of the defined hubs: north, south");
  FAILS("general: {start: 2010-01-01}\nhubs: {north: {capacity: 1}}\nroutes: {r: {from: north, via: [north, nort]}}\n",
        "w.yaml:3:40:", "routes.r.via:", "'nort' is not one of the defined hubs: north", "did you mean 'north'?");
  FAILS("general: {start: 2010-01-01}\nhubs: {north: {capacity: 1}}\nroutes: {r: {from: north, toll: {north: 1, west: 1}}}\n",
        "w.yaml:3:44:", "routes.r.toll:", "'west' is not one of the defined hubs");
}

static void test_duplicates_in_lists(void **state) {
  (void)state;
  FAILS("general: {start: 2010-01-01, tags: [beta, alpha, beta]}\nhubs: {n: {capacity: 1}}\n", "w.yaml:1:50:",
        "general.tags:", "'beta' is listed twice");
  FAILS("general: {start: 2010-01-01}\nhubs: {north: {capacity: 1}, south: {capacity: 1}}\n"
        "routes: {r: {from: north, via: [south, north, south]}}\n",
        "w.yaml:3:47:", "routes.r.via:", "'south' is listed twice");
  char text[1024] = "general: {start: 2010-01-01}\nhubs: {n: {capacity: 1}}\nroutes: {r: {from: n, via: [n";
  for (int i = 0; i < CB_MAX_REFS; i++) strcat(text, ", n");
  strcat(text, "]}}\n");
  FAILS(text, "routes.r.via:", "too many items (17); at most 16");
}

static void test_entry_counts(void **state) {
  (void)state;
  FAILS("general: {start: 2010-01-01}\nhubs:\n  a: {capacity: 1}\n  b: {capacity: 1}\n  c: {capacity: 1}\n"
        "  d: {capacity: 1}\n  e: {capacity: 1}\n",
        "w.yaml:7:3:", "hubs:", "too many entries (5); at most 4");
  FAILS("general: {start: 2010-01-01}\nhubs: {}\n", "w.yaml:2:7:", "hubs:", "too few entries (0); at least 1");
  FAILS("general: {start: 2010-01-01}\n", "w.yaml:1:1:", "hubs:", "missing required section 'hubs'");
  FAILS("hubs: {n: {capacity: 1}}\n", "w.yaml:1:1:", "general:", "missing required section 'general'");
  FAILS("general: {start: 2010-01-01}\nhubs:\n  abcdefghijabcdefghijabcdefghijabcdefghijabcdefgh: {capacity: 1}\n",
        "w.yaml:3:3:", "hubs.abcdefghij", "entry name is too long (48 characters); at most 47");
  FAILS("general: {start: 2010-01-01}\nhubs:\n  a.b: {capacity: 1}\n", "w.yaml:3:3:", "hubs.a.b:", "no '.'");
  /* an optional collection that, when present, needs entries */
  cb_section optional[NF(sections)];
  memcpy(optional, sections, sizeof optional);
  optional[2].required = 0;
  cb_schema sc = {optional, NF(optional)};
  bind_fails(&sc, "general: {start: 2010-01-01}\n", NULL, CB_ESCHEMA,
             PARTS("w.yaml:1:1:", "hubs:", "missing section 'hubs', which needs at least 1 entry"));
  bind_fails(&sc, "general: {start: 2010-01-01}\nhubs:\n", NULL, CB_ESCHEMA, PARTS("w.yaml:2:6:", "hubs:", "too few entries (0)"));
  /* 47 characters is fine */
  world_t w;
  bind_ok("general: {start: 2010-01-01}\nhubs:\n  abcdefghijabcdefghijabcdefghijabcdefghijabcdefg: {capacity: 1}\n", NULL, &w);
  assert_int_equal(strlen(w.hubs[0].name), 47);
}

static void test_missing_keys(void **state) {
  (void)state;
  FAILS("general:\n  count: 5\nhubs: {n: {capacity: 1}}\n", "w.yaml:2:3:", "general.start:", "missing required key 'start'");
  FAILS("general: {start: 2010-01-01}\nhubs:\n  n:\n    rank: 2\n", "w.yaml:4:5:", "hubs.n.capacity:",
        "missing required key 'capacity'");
  FAILS("general: {start: 2010-01-01}\nhubs:\n  n:\n", "w.yaml:3:5:", "hubs.n.capacity:", "missing required key");
  FAILS("general: {start: 2010-01-01}\nhubs: {north: {capacity: 1}, south: {capacity: 1}}\n"
        "routes:\n  r: {from: north, toll: {north: 1}}\n",
        "w.yaml:4:26:", "routes.r.toll:", "no value for 'south'", "north, south");
  FAILS("general: {start: 2010-01-01}\nhubs: {north: {capacity: 1}}\nroutes:\n  r: {from: north}\n", "w.yaml:4:6:",
        "routes.r.toll:", "missing required key 'toll'");

  /* a singleton that may be omitted, but has a required field */
  cb_section relaxed[NF(sections)];
  memcpy(relaxed, sections, sizeof relaxed);
  relaxed[0].required = 0;
  cb_schema sc = {relaxed, NF(relaxed)};
  bind_fails(&sc, "hubs: {n: {capacity: 1}}\n", NULL, CB_ESCHEMA,
             PARTS("w.yaml:1:1:", "general.start:", "missing required key 'start'", "section 'general' is absent"));
}

/* A scenario whose general.file is n characters long. */
static const char *file_of_length(char *text, int n) {
  strcpy(text, "general:\n  start: 2010-01-01\n  file: ");
  for (int i = 0; i < n; i++) strcat(text, "x");
  strcat(text, "\nhubs: {n: {capacity: 1}}\n");
  return text;
}

static void test_long_string(void **state) {
  (void)state;
  char text[1024];
  FAILS(file_of_length(text, CB_STR_MAX), "w.yaml:3:9:", "general.file:", "too long (256 characters); at most 255");
  world_t w;
  bind_ok(file_of_length(text, CB_STR_MAX - 1), NULL, &w);
  assert_int_equal(strlen(w.general.file), CB_STR_MAX - 1);
}

static void test_default_that_does_not_fit(void **state) {
  (void)state;
  /* home defaults to "north", which this scenario does not define */
  FAILS("general: {start: 2010-01-01}\nhubs: {south: {capacity: 1}}\nroutes:\n  r: {from: south, toll: {south: 1}}\n",
        "w.yaml:4:6:", "routes.r.home:", "default (north)", "not one of the defined hubs: south", "set routes.r.home explicitly");
}

static void test_table_mistakes(void **state) {
  (void)state;
  /* routes before the hubs they refer to */
  cb_section swapped[NF(sections)];
  memcpy(swapped, sections, sizeof swapped);
  swapped[2] = sections[3];
  swapped[3] = sections[2];
  cb_schema sc = {swapped, NF(swapped)};
  bind_fails(&sc, full, NULL, CB_EMISUSE, PARTS("routes.r1.from", "target"));
}

/* ---- overrides --------------------------------------------------------------------------- */

static void test_overrides(void **state) {
  (void)state;
  world_t w;
  bind_ok(full, SETS("general.count=42", "hubs.north.rank=3", "routes.r1.via=[south]", "general.tags=[]"), &w);
  assert_int_equal(w.general.count, 42);
  assert_int_equal(w.hubs[0].rank, 3);
  assert_int_equal(w.routes[0].via.n, 1);
  assert_int_equal(w.routes[0].via.idx[0], 1);
  assert_int_equal(w.general.tags, 0u);

  /* keys, sections and entries the file does not have are created */
  bind_ok(minimal, SETS("general.rate=0.75", "options.level=3", "hubs.east.capacity=5", "routes.r.from=east",
                        "routes.r.toll={north: 1, east: 2}"),
          &w);
  assert_true(w.general.rate == 0.75);
  assert_int_equal(w.options.level, 3);
  assert_true(w.options.scale == 1.0);
  assert_int_equal(w.nhubs, 2);
  assert_string_equal(w.hubs[1].name, "east");
  assert_int_equal(w.routes[0].from, 1);
  assert_true(w.routes[0].toll[1] == 2.0);
}

static void test_override_errors(void **state) {
  (void)state;
  /* the binder rejects what an override created, pointing at the override */
  bind_fails(&schema, minimal, SETS("general.colour=red"), CB_ESCHEMA,
             PARTS("--set #1:1:9:", "general.colour:", "unknown key 'colour'", "did you mean 'color'?"));
  bind_fails(&schema, minimal, SETS("general.count=5", "general.count=abc"), CB_ESCHEMA,
             PARTS("--set #2:1:15:", "general.count:", "expected an integer"));
  bind_fails(&schema, minimal, SETS("general.rate=2"), CB_ESCHEMA, PARTS("--set #1:1:14:", "out of range for general.rate"));
  bind_fails(&schema, minimal, SETS("hubs.north.capacity={a: 1}"), CB_ESCHEMA, PARTS("--set #1:1:21:", "found a mapping"));
  bind_fails(&schema, minimal, SETS("genral.count=5"), CB_ESCHEMA, PARTS("--set #1:1:1:", "did you mean 'general'?"));
  /* malformed overrides never reach the binder */
  bind_fails(&schema, minimal, SETS("general.count"), CB_EPARSE, PARTS("--set #1:1:1:", "no '='"));
  bind_fails(&schema, minimal, SETS("general.start.day=1"), CB_EPARSE, PARTS("--set #1:1:9:", "'general.start' is a single value"));
  bind_fails(&schema, minimal, SETS("general.count=[1"), CB_EPARSE, PARTS("--set #1:1:15:", "YAML syntax error"));
}

/* ---- lookup and docs --------------------------------------------------------------------- */

static void test_find(void **state) {
  (void)state;
  const cb_section *sec = NULL;
  assert_ptr_equal(cb_schema_find(&schema, "general.count", &sec), &general_fields[0]);
  assert_ptr_equal(sec, &sections[0]);
  assert_ptr_equal(cb_schema_find(&schema, "hubs.anything.rank", &sec), &hub_fields[1]);
  assert_ptr_equal(sec, &sections[2]);
  assert_ptr_equal(cb_schema_find(&schema, "routes.r.cost", NULL), &route_fields[2]);
  assert_ptr_equal(cb_schema_find(&schema, "routes.r.cost.north", NULL), &route_fields[2]);
  assert_null(cb_schema_find(&schema, "routes.r.from.north", NULL));
  assert_null(cb_schema_find(&schema, "routes.r.cost.north.x", NULL));
  assert_null(cb_schema_find(&schema, "hubs.rank", NULL));
  assert_null(cb_schema_find(&schema, "general.count.x", NULL));
  assert_null(cb_schema_find(&schema, "general.nope", NULL));
  assert_null(cb_schema_find(&schema, "nope.count", NULL));
  assert_null(cb_schema_find(&schema, "general", NULL));
  assert_null(cb_schema_find(&schema, "general..count", NULL));
  assert_null(cb_schema_find(&schema, "", NULL));
  assert_null(cb_schema_find(&schema, "genera.count", NULL));
}

static void test_markdown(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  assert_int_equal(cb_schema_write_markdown(&schema, f), CB_OK);
  fclose(f);
  for (size_t s = 0; s < NF(sections); s++) {
    char want[128];
    snprintf(want, sizeof want, "## %s\n", sections[s].name);
    expect_parts(buf, PARTS(want, sections[s].doc));
    for (size_t i = 0; i < sections[s].nfields; i++) {
      const char *name = sections[s].fields[i].name;
      if (sections[s].collection) snprintf(want, sizeof want, "| `<name>.%s` |", name);
      else snprintf(want, sizeof want, "| `%s` |", name);
      expect_parts(buf, PARTS(want));
      if (!strchr(sections[s].fields[i].doc, '|')) expect_parts(buf, PARTS(sections[s].fields[i].doc)); /* escaped: below */
    }
  }
  expect_parts(buf, PARTS("| key | type | range | default | unit | meaning |", "| `count` | integer | 0 to 1000 | `10` | agents |",
                          "a share \\| with a pipe", "one of: red, green, blue", "| required |", "`2.5` for each entry not given"));
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_binds_every_type),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_empty_values_mean_empty_mappings),
      cmocka_unit_test(test_entry_order_is_file_order),
      cmocka_unit_test(test_unknown_keys),
      cmocka_unit_test(test_wrong_kinds),
      cmocka_unit_test(test_wrong_scalar_types),
      cmocka_unit_test(test_out_of_range),
      cmocka_unit_test(test_non_finite),
      cmocka_unit_test(test_bad_dates),
      cmocka_unit_test(test_unknown_names),
      cmocka_unit_test(test_duplicates_in_lists),
      cmocka_unit_test(test_entry_counts),
      cmocka_unit_test(test_missing_keys),
      cmocka_unit_test(test_long_string),
      cmocka_unit_test(test_default_that_does_not_fit),
      cmocka_unit_test(test_table_mistakes),
      cmocka_unit_test(test_overrides),
      cmocka_unit_test(test_override_errors),
      cmocka_unit_test(test_find),
      cmocka_unit_test(test_markdown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
