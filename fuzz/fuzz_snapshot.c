/* libFuzzer target for the snapshot loader. Snapshots are files users keep, copy between
 * machines and feed back with --from; a truncated, corrupted or foreign one must be refused with
 * a message, never crash, allocate without bound or leak. The checksum is recomputed over each
 * input (see cbf_snapshot) so the fuzzer reaches the header checks and the state behind them.
 * The seed corpus is a fresh snapshot that scripts/fuzz.sh takes of the same world. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inputs.h"

#ifndef CB_SOURCE_DIR
#error "CB_SOURCE_DIR must name the repository's root (fuzz/CMakeLists.txt defines it)"
#endif
#define SCENARIO CB_SOURCE_DIR "/scenarios/baseline.yaml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cb_err e;
  memset(&e, 0, sizeof e);
  int rc = cbf_snapshot(SCENARIO, data, size, &e);
  cbf_print("fuzz_snapshot", rc, &e);
  if (rc == CB_EMISUSE) {
    fprintf(stderr, "fuzz_snapshot: %s\n", e.msg); /* the harness itself is broken: stop */
    abort();
  }
  return 0;
}
