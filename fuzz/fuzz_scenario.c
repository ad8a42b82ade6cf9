/* libFuzzer target for the scenario loader. Scenario files are written by hand, shared and
 * edited by people who do not read C: whatever text they hold, loading (YAML to tree) and binding
 * (tree to parameters) must refuse it with a message, never crash, hang or leak. */
#include "inputs.h"

CBF_TARGET("fuzz_scenario", cbf_scenario)
