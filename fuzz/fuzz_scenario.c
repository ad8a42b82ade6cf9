/* libFuzzer target for the scenario loader. Scenario files are written by hand, shared and
 * edited by people who do not read C: whatever text they hold, loading (YAML to tree) and binding
 * (tree to parameters) must refuse it with a message, never crash, hang or leak. */
#include <string.h>

#include "inputs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cb_err e;
  memset(&e, 0, sizeof e);
  cbf_print("fuzz_scenario", cbf_scenario(data, size, &e), &e);
  return 0;
}
