/* libFuzzer target for the --set override parser. Overrides come from command lines, shell
 * scripts and sweep definitions and edit the scenario tree in place before it is bound; any
 * assignment (or run of assignments, separated by NUL bytes) applied to the baseline must be
 * refused with a message or bound, never crash, corrupt the tree or leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inputs.h"

#ifndef CB_SOURCE_DIR
#error "CB_SOURCE_DIR must name the repository's root (fuzz/CMakeLists.txt defines it)"
#endif
#define BASE CB_SOURCE_DIR "/scenarios/baseline.yaml"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The baseline's text, read once: each input gets a fresh tree parsed from it. */
static char *base_text;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  size_t n = 0;
  base_text = (char *)cbf_read_file(BASE, &n);
  if (!base_text) {
    fprintf(stderr, "fuzz_override: cannot read %s\n", BASE);
    exit(1);
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cb_err e;
  memset(&e, 0, sizeof e);
  cbf_print("fuzz_override", cbf_override(base_text, BASE, data, size, &e), &e);
  return 0;
}
