/* The work of one fuzz input per target (see inputs.h), shared by the fuzzers and the tests. */
#include "inputs.h"

#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contraband.h"
#include "io/files.h"
#include "io/scenario.h"
#include "io/series.h"
#include "io/ytree.h"
#include "model/snapshot.h"
#include "report/results.h"

/* The bytes as a C string (cut at a first NUL, like any C string), or NULL if memory ran out. */
static char *text_of(const uint8_t *data, size_t size, cb_err *e) {
  char *t = cb_xmalloc(e, size + 1);
  if (!t) return NULL;
  if (size) memcpy(t, data, size);
  t[size] = '\0';
  return t;
}

/* Binds t into a scenario on the heap (the struct is large). */
static int bind(const cb_ytree *t, cb_err *e) {
  cb_scenario *sc = cb_xmalloc(e, sizeof *sc);
  if (!sc) return e->code;
  int rc = cb_scenario_bind(sc, t, e);
  free(sc);
  return rc;
}

int cbf_scenario(const uint8_t *data, size_t size, cb_err *e) {
  cb_err_clear(e);
  char *text = text_of(data, size, e);
  if (!text) return e->code;
  cb_ytree t;
  int rc = cb_ytree_load_string(&t, text, "fuzz.yaml", e);
  free(text);
  if (rc == CB_OK) {
    rc = bind(&t, e);
    cb_ytree_free(&t);
  }
  return rc;
}

int cbf_series(const uint8_t *data, size_t size, cb_err *e) {
  cb_err_clear(e);
  cb_series s;
  int rc = cb_series_parse(&s, (const char *)data, size, "fuzz.csv", e);
  if (rc == CB_OK) cb_series_free(&s);
  return rc;
}

int cbf_results(const uint8_t *data, size_t size, cb_err *e) {
  cb_err_clear(e);
  const uint8_t *nul = memchr(data, 0, size);
  size_t jlen = nul ? (size_t)(nul - data) : size, clen = nul ? size - jlen - 1 : size;
  const uint8_t *csv = nul ? nul + 1 : data;
  /* both readers want a buffer with a NUL after it, as cb_read_whole gives them */
  char *copy = malloc(size + 1);
  if (!copy) return cb_err_set(e, CB_ENOMEM, "out of memory");
  rp_experiment x;
  memset(&x, 0, sizeof x);
  char sha[65] = "";
  memcpy(copy, data, jlen);
  copy[jlen] = '\0';
  int rc = rp_summary_parse(&x, copy, jlen, "summary.json", sha, e);
  cb_err metrics = {0};
  memcpy(copy, csv, clen);
  copy[clen] = '\0';
  int rc2 = rp_metrics_parse(&x, copy, clen, "metrics.csv", &metrics);
  if (rc == CB_OK && rc2 != CB_OK) *e = metrics;
  rp_experiment_free(&x);
  free(copy);
  return rc ? rc : rc2;
}

int cbf_override(const char *base_text, const char *base_name, const uint8_t *data, size_t size, cb_err *e) {
  cb_err_clear(e);
  char *text = text_of(data, size, e);
  if (!text) return e->code;
  cb_ytree t;
  int rc = cb_ytree_load_string(&t, base_text, base_name, e);
  if (rc != CB_OK) {
    free(text);
    cb_err_prefix(e, "fuzz: the base scenario does not load: ");
    return rc;
  }
  /* text[size] ends the last assignment */
  int index = 1;
  for (size_t at = 0; rc == CB_OK && at <= size; at += strlen(text + at) + 1)
    rc = cb_ytree_override(&t, text + at, index++, e);
  if (rc == CB_OK) rc = bind(&t, e);
  cb_ytree_free(&t);
  free(text);
  return rc;
}

/* A simulation of the fuzzed snapshots' world, initialised; NULL with a message in e if not. */
static cb_sim *snapshot_world(const char *scenario, cb_err *e) {
  static const char *const sets[] = CBF_SNAPSHOT_SETS;
  cb_sim *S = cb_new();
  if (!S) return NULL;
  int rc = cb_read_scenario(S, scenario);
  for (size_t i = 0; rc == CB_OK && i < sizeof sets / sizeof sets[0]; i++) rc = cb_set(S, sets[i]);
  if (rc == CB_OK) rc = cb_init(S);
  if (rc == CB_OK) return S;
  cb_err_set(e, CB_EMISUSE, "fuzz: cannot set up the snapshot world of %s: %s", scenario, cb_errmsg(S));
  cb_free(S);
  return NULL;
}

int cbf_snapshot(const char *scenario, const uint8_t *data, size_t size, cb_err *e) {
  cb_err_clear(e);
  cb_sim *S = snapshot_world(scenario, e);
  if (!S) return e->code ? e->code : cb_err_set(e, CB_ENOMEM, "fuzz: out of memory");
  /* an exact-size copy, so reading past the input's end is caught */
  uint8_t *buf = cb_xmalloc(e, size ? size : 1);
  if (!buf) {
    cb_free(S);
    return e->code;
  }
  if (size) memcpy(buf, data, size);
  if (size >= SHA256_DIGEST_SIZE) {
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, size - SHA256_DIGEST_SIZE, buf);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, buf + size - SHA256_DIGEST_SIZE);
  }
  int rc = cb_snapshot_from_buffer(S, buf, size, "fuzz.snap");
  if (rc != CB_OK) cb_err_set(e, rc, "%s", cb_errmsg(S));
  free(buf);
  cb_free(S);
  return rc;
}

void cbf_print(const char *target, int rc, const cb_err *e) {
  if (getenv("CB_FUZZ_PRINT")) fprintf(stderr, "%s: %d %s\n", target, rc, rc ? e->msg : "(accepted)");
}

uint8_t *cbf_read_file(const char *path, size_t *size) {
  cb_err e;
  cb_err_clear(&e);
  uint8_t *b;
  return cb_read_whole(path, &b, size, &e) == CB_OK ? b : NULL;
}
