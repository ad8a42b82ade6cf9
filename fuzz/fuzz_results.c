/* libFuzzer target for the readers of a run's output folder (summary.json and metrics.csv), which
 * `contraband report` and `plot` read from wherever the user points them: a damaged or foreign
 * file must be refused with its line and column, never crash, hang or leak. */
#include "inputs.h"

CBF_TARGET("fuzz_results", cbf_results)
