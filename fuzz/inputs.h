/* What one fuzz input does, for each fuzz target: written once here and used both by the
 * libFuzzer mains (fuzz/fuzz_*.c) and by tests/test_fuzz_regressions.c, which replays every input
 * kept in fuzz/regressions/<target>/ through the same functions in the normal test suite.
 *
 * Each function takes the raw input bytes, returns the reader's result code (CB_OK if the input
 * was accepted) with its message in *e, and frees everything it allocated. */
#ifndef CB_FUZZ_INPUTS_H
#define CB_FUZZ_INPUTS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/err.h"

/* The scenario loader: the bytes as YAML text (up to a first NUL, as cb_ytree_load_string reads
 * a C string) -> cb_ytree_load_string -> cb_scenario_bind. Never initialises a simulation. */
int cbf_scenario(const uint8_t *data, size_t size, cb_err *e);

/* The CSV series reader: the bytes, NULs included, through cb_series_parse. */
int cbf_series(const uint8_t *data, size_t size, cb_err *e);

/* The readers of a run folder for reports: the bytes up to a first NUL as summary.json
 * (cb_rp_summary_parse), the bytes after it as metrics.csv (cb_rp_metrics_parse); without a NUL,
 * the same bytes as both. The check that the two belong together (metrics_sha256) is left out, or
 * almost no input would reach the CSV reader; tests/test_report.c covers it. */
int cbf_results(const uint8_t *data, size_t size, cb_err *e);

/* The --set parser: the bytes are assignments separated by NUL bytes (so one assignment per
 * file, newlines and all, unless the fuzzer inserts a NUL); each is applied with
 * cb_ytree_override, numbered from 1 like cb_set, to a fresh tree of base_text (a scenario's
 * YAML, named base_name in messages), stopping at the first error; then the tree is bound. */
int cbf_override(const char *base_text, const char *base_name, const uint8_t *data, size_t size, cb_err *e);

/* The world a snapshot input is restored into: scenario (a path) with these --set overrides, so
 * small that setting it up afresh for each input is cheap (some 7 ms under the sanitizers).
 * scripts/fuzz.sh takes its seed snapshots of the same world with the same overrides (keep the
 * two lists alike). */
#define CBF_SNAPSHOT_SETS \
  { "population.buyers=200", "population.traders=10", "population.middlemen=4", "population.officials=10" }

/* The snapshot loader: a fresh simulation of the world above (a failed restore may leave one
 * half-written, and a successful one moves its clock) restores the bytes with
 * cb_snapshot_from_buffer. The checksum in the last 32 bytes is first recomputed over the rest,
 * or almost every mutation would stop at the checksum and nothing behind it would be fuzzed
 * (tests/test_snapshots.c covers the checksum itself). CB_EMISUSE with a message if the world
 * cannot be set up. */
int cbf_snapshot(const char *scenario, const uint8_t *data, size_t size, cb_err *e);

/* The gnuplot script writer: the bytes, split at NUL bytes, are the texts of a chart (its title,
 * y label, two panels' titles, four lines' labels, the reference line's label, two events'
 * labels) and of an interval plot (title, x label, three row labels), taken in that order and
 * reused from the first when there are fewer. Both scripts are written (cb_rp_chart_script,
 * cb_rp_forest_script) and checked against the rule stated in src/report/gnuplot.c:
 *   - every single-quoted literal closes on its line and holds no control character and no byte
 *     that is not valid UTF-8;
 *   - outside the literals there is no backquote, '@', double quote or "system";
 *   - outside the literals the script is byte for byte the script of the same chart with every
 *     text empty: no byte of the input reaches gnuplot except inside a literal.
 * A broken rule is CB_EMISUSE with what was found and where. With render set, the chart and the
 * plot are then also drawn by the real gnuplot (cb_rp_chart_render, cb_rp_forest_render; SVG),
 * whose result is returned. */
int cbf_gnuplot(const uint8_t *data, size_t size, int render, cb_err *e);
/* The first two of those checks on any script (len bytes): CB_OK, or CB_EMISUSE saying what. */
int cbf_gnuplot_check_script(const char *script, size_t len, cb_err *e);

/* For the fuzz mains: with CB_FUZZ_PRINT set in the environment, prints the result of an input to
 * standard error (e.g. CB_FUZZ_PRINT=1 build-fuzz/fuzz/fuzz_series some.csv). */
void cbf_print(const char *target, int rc, const cb_err *e);

/* The libFuzzer entry point of a target: one input through its function, the result printed when
 * CB_FUZZ_PRINT is set. */
#define CBF_TARGET(name, fn)                                            \
  int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);         \
  int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {        \
    cb_err e;                                                           \
    memset(&e, 0, sizeof e);                                            \
    cbf_print(name, fn(data, size, &e), &e);                            \
    return 0;                                                           \
  }

/* A whole file into a malloc'd buffer with a NUL after its *size bytes, or NULL. */
uint8_t *cbf_read_file(const char *path, size_t *size);

#endif
