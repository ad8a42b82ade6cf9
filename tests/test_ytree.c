/* The YAML tree: structure and positions as read from text and files, every rejected construct
 * with its position, --set overrides (placement, sources, columns, errors) and the scalar
 * helpers the binder relies on. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "io/ytree.h"

/* Fails with the whole message when it lacks one of the NULL-terminated parts. */
static void expect_parts(const char *msg, const char *const *parts) {
  for (size_t i = 0; parts[i]; i++)
    if (!strstr(msg, parts[i])) fail_msg("no \"%s\" in the message \"%s\"", parts[i], msg);
}

#define EXPECT_MSG(msg, ...) expect_parts((msg), (const char *const[]){__VA_ARGS__, NULL})

/* Loading text must fail with code and a message holding every part; the tree stays empty. */
static void load_fails(const char *text, int code, const char *const *parts) {
  cb_ytree t;
  cb_err e;
  cb_err_clear(&e);
  assert_int_equal(cb_ytree_load_string(&t, text, "doc.yaml", &e), code);
  assert_int_equal(e.code, code);
  assert_null(t.root);
  expect_parts(e.msg, parts);
  cb_ytree_free(&t);
}

#define LOAD_FAILS(text, code, ...) load_fails((text), (code), (const char *const[]){__VA_ARGS__, NULL})

static void load_ok(cb_ytree *t, const char *text) {
  cb_err e;
  cb_err_clear(&e);
  int rc = cb_ytree_load_string(t, text, "doc.yaml", &e);
  if (rc != CB_OK) fail_msg("load failed: %s", e.msg);
}

static const char *const sample =
    "name: contraband\n"         /* 1 */
    "sim:\n"                     /* 2 */
    "  start: 2014-01-01\n"      /* 3 */
    "  label: \"quoted\"\n"      /* 4 */
    "  list: [1, two, '3']\n"    /* 5 */
    "  block:\n"                 /* 6 */
    "    - a\n"                  /* 7 */
    "    - {k: v}\n"             /* 8 */
    "empty:\n"                   /* 9 */
    "flow: {x: 1, y: [2]}\n";    /* 10 */

static void test_structure_and_positions(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("ytree_structure");
  char *path = cbt_write_file(dir, "sample.yaml", sample);
  cb_ytree t;
  cb_err e;
  cb_err_clear(&e);
  assert_int_equal(cb_ytree_load_file(&t, path, &e), CB_OK);
  assert_int_equal(t.root->kind, CB_Y_MAP);
  assert_int_equal(t.root->n, 4);
  assert_string_equal(t.root->keys[0], "name");
  assert_string_equal(t.root->keys[3], "flow");
  assert_string_equal(t.root->src, path);

  const cb_ynode *name = cb_ytree_get(&t, "name");
  assert_non_null(name);
  assert_int_equal(name->kind, CB_Y_SCALAR);
  assert_string_equal(name->value, "contraband");
  assert_int_equal(name->line, 1);
  assert_int_equal(name->col, 7);
  assert_false(name->quoted);

  const cb_ynode *sim = cb_ytree_get(&t, "sim");
  assert_int_equal(sim->kind, CB_Y_MAP);
  assert_int_equal(sim->key_line[1], 4);
  assert_int_equal(sim->key_col[1], 3);
  const cb_ynode *label = cb_ytree_get(&t, "sim.label");
  assert_string_equal(label->value, "quoted");
  assert_true(label->quoted);
  assert_int_equal(label->line, 4);
  assert_int_equal(label->col, 10);

  const cb_ynode *list = cb_ytree_get(&t, "sim.list");
  assert_int_equal(list->kind, CB_Y_SEQ);
  assert_int_equal(list->n, 3);
  assert_null(list->keys);
  assert_string_equal(list->children[1]->value, "two");
  assert_int_equal(list->children[1]->col, 13);
  assert_false(list->children[1]->quoted);
  assert_true(list->children[2]->quoted);

  const cb_ynode *block = cb_ytree_get(&t, "sim.block");
  assert_int_equal(block->kind, CB_Y_SEQ);
  assert_int_equal(block->n, 2);
  assert_int_equal(block->children[1]->kind, CB_Y_MAP);
  assert_int_equal(block->children[1]->line, 8);

  const cb_ynode *empty = cb_ytree_get(&t, "empty");
  assert_int_equal(empty->kind, CB_Y_SCALAR);
  assert_string_equal(empty->value, "");
  assert_false(empty->quoted);

  assert_string_equal(cb_ytree_get(&t, "flow.x")->value, "1");
  assert_string_equal(cb_ytree_get(&t, "flow.y")->children[0]->value, "2");
  assert_int_equal(cb_ytree_get(&t, "flow.y")->children[0]->line, 10);
  assert_int_equal(cb_ytree_get(&t, "flow.y")->children[0]->col, 18);
  free(path);
  cb_ytree_free(&t);
  assert_null(t.root);
}

static void test_lookup(void **state) {
  (void)state;
  cb_ytree t;
  load_ok(&t, sample);
  size_t idx = 99;
  assert_ptr_equal(cb_ynode_child(t.root, "empty", &idx), t.root->children[2]);
  assert_int_equal(idx, 2);
  assert_null(cb_ynode_child(t.root, "nope", &idx));
  assert_null(cb_ynode_child(cb_ytree_get(&t, "name"), "x", NULL)); /* not a map */
  assert_ptr_equal(cb_ytree_get(&t, ""), t.root);
  assert_null(cb_ytree_get(&t, "sim.start.x"));   /* through a scalar */
  assert_null(cb_ytree_get(&t, "sim.list.0"));    /* through a sequence */
  assert_null(cb_ytree_get(&t, "sim..start"));
  assert_null(cb_ytree_get(&t, "sim."));
  assert_null(cb_ytree_get(&t, "si"));
  assert_string_equal(cb_ytree_get(&t, "sim.start")->value, "2014-01-01");
  cb_ytree_free(&t);
}

static void test_missing_file(void **state) {
  (void)state;
  cb_ytree t;
  cb_err e;
  cb_err_clear(&e);
  assert_int_equal(cb_ytree_load_file(&t, "/nonexistent/dir/s.yaml", &e), CB_EIO);
  EXPECT_MSG(e.msg, "/nonexistent/dir/s.yaml", "No such file or directory");
  assert_null(t.root);
  cb_ytree_free(&t);
}

static void test_directory_is_not_a_file(void **state) {
  (void)state;
  cb_ytree t;
  cb_err e;
  cb_err_clear(&e);
  const char *dir = cbt_tmpdir("ytree_dir");
  assert_int_equal(cb_ytree_load_file(&t, dir, &e), CB_EIO);
  EXPECT_MSG(e.msg, dir, "directory");
  cb_ytree_free(&t);
}

static void test_syntax_errors(void **state) {
  (void)state;
  LOAD_FAILS("a:\n  b: 1\n c: 2\n", CB_EPARSE, "doc.yaml:3:2:", "did not find expected key", "line 1, column 1");
  LOAD_FAILS("a: [1, 2\n", CB_EPARSE, "doc.yaml:2:1:", "did not find expected ',' or ']'");
  LOAD_FAILS("a: b: c\n", CB_EPARSE, "doc.yaml:1:5:", "mapping values are not allowed");
  LOAD_FAILS("a: \"\xff\"\n", CB_EPARSE, "doc.yaml:1:5:", "UTF-8");
}

static void test_rejected_constructs(void **state) {
  (void)state;
  LOAD_FAILS("a: 1\nb: 2\na: 3\n", CB_EPARSE, "doc.yaml:3:1:", "duplicate key 'a'", "line 1, column 1");
  LOAD_FAILS("s:\n  x: {k: 1, k: 2}\n", CB_EPARSE, "doc.yaml:2:13:", "duplicate key 'k'");
  LOAD_FAILS("a: &anc 1\n", CB_EPARSE, "doc.yaml:1:4:", "anchors (&anc)");
  LOAD_FAILS("a: [&l 1]\n", CB_EPARSE, "doc.yaml:1:5:", "anchors (&l)");
  LOAD_FAILS("a: 1\nb: *ref\n", CB_EPARSE, "doc.yaml:2:4:", "aliases (*ref)");
  LOAD_FAILS("a: 1\n---\nb: 2\n", CB_EPARSE, "doc.yaml:2:1:", "second YAML document");
  LOAD_FAILS("? [a, b]\n: 1\n", CB_EPARSE, "doc.yaml:1:3:", "key must be a plain name");
  LOAD_FAILS("? {a: b}\n: 1\n", CB_EPARSE, "doc.yaml:1:3:", "key must be a plain name");
  LOAD_FAILS("- a\n- b\n", CB_EPARSE, "doc.yaml:1:1:", "top level is a list");
  LOAD_FAILS("just text\n", CB_EPARSE, "doc.yaml:1:1:", "top level is a single value");
  LOAD_FAILS("", CB_EPARSE, "doc.yaml:1:1:", "empty");
  LOAD_FAILS("# only a comment\n", CB_EPARSE, "doc.yaml:1:1:", "empty");
  LOAD_FAILS("---\n", CB_EPARSE, "doc.yaml:", "empty");
}

static void test_nesting_limit(void **state) {
  (void)state;
  char text[400] = "a: ";
  for (int i = 0; i < 100; i++) strcat(text, "[");
  for (int i = 0; i < 100; i++) strcat(text, "]");
  LOAD_FAILS(text, CB_EPARSE, "doc.yaml:1:", "nested deeper");
}

/* Hostile widths are refused quickly, with where: a mapping of 5,000 keys, a list of 5,000 items. */
static void test_width_limit(void **state) {
  (void)state;
  size_t cap = 5000 * 16 + 64;
  char *text = malloc(cap);
  assert_non_null(text);
  size_t n = (size_t)snprintf(text, cap, "a:\n");
  for (int i = 0; i < 5000; i++) n += (size_t)snprintf(text + n, cap - n, "  k%d: 1\n", i);
  LOAD_FAILS(text, CB_EPARSE, "doc.yaml:4098:3:", "a mapping of more than 4096 keys");
  n = (size_t)snprintf(text, cap, "a: [");
  for (int i = 0; i < 5000; i++) n += (size_t)snprintf(text + n, cap - n, "%d,", i);
  snprintf(text + n - 1, cap - n + 1, "]\n");
  LOAD_FAILS(text, CB_EPARSE, "doc.yaml:1:", "a list of more than 4096 items");
  free(text);
}

static void test_free_is_safe(void **state) {
  (void)state;
  cb_ytree t;
  memset(&t, 0, sizeof t);
  cb_ytree_free(&t);
  cb_ytree_free(&t);
  cb_ytree_free(NULL);
}

static void override_ok(cb_ytree *t, const char *assignment, int index) {
  cb_err e;
  cb_err_clear(&e);
  int rc = cb_ytree_override(t, assignment, index, &e);
  if (rc != CB_OK) fail_msg("override '%s' failed: %s", assignment, e.msg);
}

static void test_override_replaces_and_creates(void **state) {
  (void)state;
  cb_ytree t;
  load_ok(&t, sample);
  override_ok(&t, "sim.start=2015-06-01", 1);
  const cb_ynode *start = cb_ytree_get(&t, "sim.start");
  assert_string_equal(start->value, "2015-06-01");
  assert_string_equal(start->src, "--set #1");
  assert_int_equal(start->line, 1);
  assert_int_equal(start->col, 11);
  /* the key still sits where it was in the map, but now reports the override's position */
  size_t i;
  cb_ynode_child(cb_ytree_get(&t, "sim"), "start", &i);
  assert_int_equal(i, 0);
  assert_int_equal(cb_ytree_get(&t, "sim")->key_line[0], 1);
  assert_int_equal(cb_ytree_get(&t, "sim")->key_col[0], 5);

  override_ok(&t, "sim.deep.er.key=[a, \"b\"]", 7);
  const cb_ynode *deep = cb_ytree_get(&t, "sim.deep");
  assert_int_equal(deep->kind, CB_Y_MAP);
  assert_string_equal(deep->src, "--set #7");
  assert_int_equal(deep->col, 5);
  const cb_ynode *key = cb_ytree_get(&t, "sim.deep.er.key");
  assert_int_equal(key->kind, CB_Y_SEQ);
  assert_int_equal(key->col, 17);
  assert_int_equal(key->children[1]->col, 21);
  assert_true(key->children[1]->quoted);
  assert_string_equal(key->children[1]->src, "--set #7");

  override_ok(&t, "flow={x: 5, z: [1]}", 2);
  assert_string_equal(cb_ytree_get(&t, "flow.x")->value, "5");
  assert_null(cb_ytree_get(&t, "flow.y"));
  assert_string_equal(cb_ytree_get(&t, "flow.z")->children[0]->value, "1");

  override_ok(&t, " name = spaced out ", 3); /* blanks around the path are ignored */
  assert_string_equal(cb_ytree_get(&t, "name")->value, "spaced out");
  override_ok(&t, "fresh.now=", 4);          /* an empty value is an empty scalar */
  assert_string_equal(cb_ytree_get(&t, "fresh.now")->value, "");
  assert_int_equal(t.root->n, 5);
  cb_ytree_free(&t);
}

static void test_override_on_empty_tree(void **state) {
  (void)state;
  cb_ytree t;
  memset(&t, 0, sizeof t);
  override_ok(&t, "a.b=1", 1);
  assert_int_equal(t.root->kind, CB_Y_MAP);
  assert_string_equal(cb_ytree_get(&t, "a.b")->value, "1");
  cb_ytree_free(&t);
}

/* The override must fail with CB_EPARSE at --set #<index>:1:<col> and leave the tree as it was. */
static void override_fails(const char *assignment, int col, const char *const *parts) {
  cb_ytree t;
  load_ok(&t, sample);
  size_t nsrcs = t.nsrcs;
  cb_err e;
  cb_err_clear(&e);
  assert_int_equal(cb_ytree_override(&t, assignment, 5, &e), CB_EPARSE);
  char where[64];
  snprintf(where, sizeof where, "--set #5:1:%d:", col);
  if (strncmp(e.msg, where, strlen(where)) != 0) fail_msg("message \"%s\" does not start with \"%s\"", e.msg, where);
  expect_parts(e.msg, parts);
  assert_int_equal(t.nsrcs, nsrcs);
  assert_string_equal(cb_ytree_get(&t, "sim.start")->value, "2014-01-01");
  assert_null(cb_ytree_get(&t, "sim.start.x"));
  cb_ytree_free(&t);
}

#define OVERRIDE_FAILS(a, col, ...) override_fails((a), (col), (const char *const[]){__VA_ARGS__, NULL})

static void test_override_errors(void **state) {
  (void)state;
  OVERRIDE_FAILS("sim.start", 1, "no '='", "sim.start");
  OVERRIDE_FAILS("=5", 1, "path before '=' is empty");
  OVERRIDE_FAILS("sim..start=1", 5, "empty name", "'sim..start=1'");
  OVERRIDE_FAILS(".sim=1", 1, "empty name");
  OVERRIDE_FAILS("sim.=1", 5, "empty name");
  OVERRIDE_FAILS("sim.start.x=1", 5, "'sim.start' is a single value", "doc.yaml:3:10");
  OVERRIDE_FAILS("sim.list.x.y=1", 5, "'sim.list' is a list", "doc.yaml:5:9");
  OVERRIDE_FAILS("sim.start=[1, 2", 11, "YAML syntax error", "did not find expected ',' or ']'", "'sim.start=[1, 2'");
  OVERRIDE_FAILS("sim.start=\"open", 16, "YAML syntax error", "quoted scalar");
  OVERRIDE_FAILS("sim.start=a: b", 11, "flow value");
  OVERRIDE_FAILS("sim.start={k: 1, k: 2}", 18, "duplicate key 'k'");
  OVERRIDE_FAILS("sim.start=*x", 11, "aliases");
  OVERRIDE_FAILS("sim.start=&x 1", 11, "anchors");
  OVERRIDE_FAILS("sim.start=1\n---\n2", 11, "second YAML document");
}

static void test_parse_int(void **state) {
  (void)state;
  long long v = 0;
  assert_int_equal(cb_yparse_int("42", &v), 0);
  assert_int_equal(v, 42);
  assert_int_equal(cb_yparse_int("-7", &v), 0);
  assert_int_equal(v, -7);
  assert_int_equal(cb_yparse_int("+1_000_000", &v), 0);
  assert_int_equal(v, 1000000);
  assert_int_equal(cb_yparse_int("9223372036854775807", &v), 0);
  assert_true(v == LLONG_MAX);
  assert_int_equal(cb_yparse_int("-9223372036854775808", &v), 0);
  assert_true(v == LLONG_MIN);
  v = 5;
  const char *bad[] = {"", "-", "+", "9223372036854775808", "-9223372036854775809", "99999999999999999999",
                       "1.5", "1e3", "0x10", " 1", "1 ", "_1", "1_", "1__0", "abc", "--1", "1-"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (cb_yparse_int(bad[i], &v) != -1) fail_msg("'%s' accepted as an integer", bad[i]);
  }
  assert_int_equal(v, 5);
}

static void test_parse_double(void **state) {
  (void)state;
  double v = 0;
  assert_int_equal(cb_yparse_double("0.25", &v), 0);
  assert_true(v == 0.25);
  assert_int_equal(cb_yparse_double("-3", &v), 0);
  assert_true(v == -3.0);
  assert_int_equal(cb_yparse_double("1e-3", &v), 0);
  assert_true(v == 1e-3);
  assert_int_equal(cb_yparse_double(".5", &v), 0);
  assert_true(v == 0.5);
  assert_int_equal(cb_yparse_double("1_500", &v), 0);
  assert_true(v == 1500.0);
  v = 9;
  const char *bad[] = {"", "nan", "NaN", "inf", "-inf", "Infinity", ".nan", ".inf", "-.inf", "1e400", "-1e400",
                       "abc", "1.5x", " 1", "1 ", "1,5", "--1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (cb_yparse_double(bad[i], &v) != -1) fail_msg("'%s' accepted as a number", bad[i]);
  }
  assert_true(v == 9.0);
}

static void test_parse_bool(void **state) {
  (void)state;
  const char *yes[] = {"true", "True", "YES", "on", "On"}, *no[] = {"false", "FALSE", "no", "No", "off"};
  for (size_t i = 0; i < 5; i++) {
    int v = -1;
    assert_int_equal(cb_yparse_bool(yes[i], &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(cb_yparse_bool(no[i], &v), 0);
    assert_int_equal(v, 0);
  }
  int v = 7;
  const char *bad[] = {"", "1", "0", "y", "n", "tru", "truex", "maybe"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (cb_yparse_bool(bad[i], &v) != -1) fail_msg("'%s' accepted as a boolean", bad[i]);
  assert_int_equal(v, 7);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_structure_and_positions),
      cmocka_unit_test(test_lookup),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_directory_is_not_a_file),
      cmocka_unit_test(test_syntax_errors),
      cmocka_unit_test(test_rejected_constructs),
      cmocka_unit_test(test_nesting_limit),
      cmocka_unit_test(test_width_limit),
      cmocka_unit_test(test_free_is_safe),
      cmocka_unit_test(test_override_replaces_and_creates),
      cmocka_unit_test(test_override_on_empty_tree),
      cmocka_unit_test(test_override_errors),
      cmocka_unit_test(test_parse_int),
      cmocka_unit_test(test_parse_double),
      cmocka_unit_test(test_parse_bool),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
