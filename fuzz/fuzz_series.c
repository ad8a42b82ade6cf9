/* libFuzzer target for the CSV series reader. The exchange-rate and price files are edited by
 * hand and exported from spreadsheets; a malformed one must be refused with its line and column,
 * never crash, hang or leak. */
#include <string.h>

#include "inputs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cb_err e;
  memset(&e, 0, sizeof e);
  cbf_print("fuzz_series", cbf_series(data, size, &e), &e);
  return 0;
}
