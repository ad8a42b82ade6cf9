/* libFuzzer target for the gnuplot script writer. Chart texts come from outside (a --title, the
 * place and category names of a metrics.csv or a store someone sent), and gnuplot runs commands
 * written in backquotes or through system(); whatever the texts, each script must keep them
 * inside single-quoted literals and be, outside them, the script of the same chart with empty
 * texts (cbf_gnuplot in inputs.c checks it). A broken rule aborts, so libFuzzer keeps the input
 * (an allocation that fails under the fuzzer's memory limit is not a broken rule). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inputs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cb_err e;
  memset(&e, 0, sizeof e);
  int rc = cbf_gnuplot(data, size, 0, &e);
  cbf_print("fuzz_gnuplot", rc, &e);
  if (rc == CB_EMISUSE) {
    fprintf(stderr, "%s\n", e.msg);
    abort();
  }
  return 0;
}
