/* The parameter reference in docs/parameters.md is generated from the parameter table; this
 * test fails when the table changes and the committed reference was not regenerated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

static void parameter_reference_is_current(void **state) {
  (void)state;
  const char *dir = cbt_tmpdir("docs");
  assert_int_equal(cbt_run(NULL, "%s params %s/parameters.md", CB_CLI, dir), 0);
  char path[1024];
  snprintf(path, sizeof path, "%s/parameters.md", dir);
  char *fresh = cbt_read_file(path, NULL), *committed = cbt_read_file("docs/parameters.md", NULL);
  assert_non_null(fresh);
  if (!committed || strcmp(fresh, committed) != 0)
    fail_msg("docs/parameters.md is out of date: regenerate it with ./build/contraband params docs/parameters.md");
  assert_non_null(strstr(committed, "## population"));
  free(fresh);
  free(committed);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(parameter_reference_is_current)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
