/* libFuzzer target for the CSV series reader. The exchange-rate and price files are edited by
 * hand and exported from spreadsheets; a malformed one must be refused with its line and column,
 * never crash, hang or leak. */
#include "inputs.h"

CBF_TARGET("fuzz_series", cbf_series)
