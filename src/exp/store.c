/* The results store in SQLite (see store.h). Metrics are stored normalised: each distinct series
 * (metric and coordinates) once per experiment, and one narrow row per run, series and period,
 * which keeps a 100,000-row metrics.csv near 2 MB in the store; the view `metrics` gives them back
 * in metrics.csv's long format. Every write of a run is one transaction. */
#include "exp/store.h"

#include <errno.h>
#include <jansson.h>
#include <nettle/sha2.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/calendar.h"
#include "exp/result.h"
#include "io/files.h"
#include "io/metrics.h"

/* "CBRS" in PRAGMA application_id marks a contraband results store; user_version its schema. */
#define CB_STORE_APP_ID 0x43425253
#define CB_STORE_SCHEMA 2 /* 2: runs.digest */

static const char schema_sql[] =
    "CREATE TABLE experiments ("
    "  id INTEGER PRIMARY KEY, identity TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, scenario TEXT NOT NULL,"
    "  scenario_sha256 TEXT NOT NULL, overrides TEXT NOT NULL, master_seed INTEGER NOT NULL,"
    "  fork_day TEXT, parent_id INTEGER REFERENCES experiments(id), design TEXT, version TEXT NOT NULL,"
    "  created_at TEXT NOT NULL);"
    "CREATE TABLE runs ("
    "  experiment_id INTEGER NOT NULL REFERENCES experiments(id), run INTEGER NOT NULL, point INTEGER NOT NULL,"
    "  replicate INTEGER NOT NULL, seed INTEGER NOT NULL, parameters TEXT NOT NULL, status TEXT NOT NULL, wall_seconds REAL NOT NULL, version TEXT NOT NULL,"
    "  finished_at TEXT NOT NULL, digest TEXT, PRIMARY KEY (experiment_id, run));"
    "CREATE TABLE series ("
    "  id INTEGER PRIMARY KEY, experiment_id INTEGER NOT NULL REFERENCES experiments(id), ord INTEGER NOT NULL,"
    "  metric TEXT NOT NULL, place TEXT NOT NULL, channel TEXT NOT NULL, origin TEXT NOT NULL, category TEXT NOT NULL,"
    "  UNIQUE (experiment_id, metric, place, channel, origin, category));"
    "CREATE TABLE metric_values ("
    "  experiment_id INTEGER NOT NULL, run INTEGER NOT NULL, series_id INTEGER NOT NULL REFERENCES series(id),"
    "  day INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY (experiment_id, run, series_id, day)) WITHOUT ROWID;"
    "CREATE TABLE summaries ("
    "  experiment_id INTEGER NOT NULL, run INTEGER NOT NULL, name TEXT NOT NULL, value REAL NOT NULL,"
    "  PRIMARY KEY (experiment_id, run, name)) WITHOUT ROWID;"
    "CREATE VIEW metrics AS SELECT v.experiment_id AS experiment_id, v.run AS run,"
    "  date(v.day * 86400, 'unixepoch') AS date, s.metric AS metric, s.place AS place, s.channel AS channel,"
    "  s.origin AS origin, s.category AS category, v.value AS value"
    "  FROM metric_values v JOIN series s ON s.id = v.series_id;";

enum { ST_FIND_EXP, ST_INS_EXP, ST_FIND_SERIES, ST_INS_SERIES, ST_INS_VALUE, ST_INS_SUMMARY, ST_INS_RUN, ST_COUNT };

static const char *const stmt_sql[ST_COUNT] = {
    [ST_FIND_EXP] = "SELECT id FROM experiments WHERE identity = ?1",
    [ST_INS_EXP] = "INSERT INTO experiments (identity, kind, scenario, scenario_sha256, overrides, master_seed, version,"
                   " created_at, fork_day, parent_id, design) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_FIND_SERIES] = "SELECT id FROM series WHERE experiment_id = ?1 AND metric = ?2 AND place = ?3 AND channel = ?4"
                       " AND origin = ?5 AND category = ?6",
    [ST_INS_SERIES] = "INSERT INTO series (experiment_id, ord, metric, place, channel, origin, category)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_INS_VALUE] = "INSERT INTO metric_values (experiment_id, run, series_id, day, value) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_INS_SUMMARY] = "INSERT INTO summaries (experiment_id, run, name, value) VALUES (?1, ?2, ?3, ?4)",
    [ST_INS_RUN] = "INSERT INTO runs (experiment_id, run, point, replicate, seed, parameters, status, wall_seconds, version,"
                   " finished_at) VALUES (?1, ?2, ?8, ?9, ?3, ?4, 'done', ?5, ?6, ?7)",
};

struct cb_store {
  sqlite3 *db;
  sqlite3_stmt *st[ST_COUNT];
  char path[1024];
  int64_t *series_of;   /* a run's series ids by metrics-layout order; 0 = not looked up yet */
  uint32_t nseries_of;
};

static int db_fail(cb_store *s, cb_err *e, const char *doing) {
  return cb_err_set(e, CB_EIO, "results store %s: %s: %s", s->path, doing, s->db ? sqlite3_errmsg(s->db) : "cannot open");
}

static int exec(cb_store *s, const char *sql, cb_err *e) {
  char *msg = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK) return CB_OK;
  int rc = cb_err_set(e, CB_EIO, "results store %s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
  sqlite3_free(msg);
  return rc;
}

static int damaged(cb_store *s, cb_err *e, const char *what) {
  return cb_err_set(e, CB_EIO, "results store %s is damaged (%s); it was not used. Restore it from a copy, or give another --db "
                    "to start a new one", s->path, what);
}

/* One integer from a query without parameters (PRAGMAs, counts); -1 with e set on failure. */
static int64_t query_int(cb_store *s, const char *sql, cb_err *e) {
  sqlite3_stmt *q = NULL;
  int64_t v = -1;
  if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
  else if (sqlite3_errcode(s->db) == SQLITE_NOTADB)
    cb_err_set(e, CB_EIO, "results store %s: not a contraband results store (%s); give the path of a store "
               "written by `contraband ensemble --db`, or a new file", s->path, sqlite3_errmsg(s->db));
  else damaged(s, e, sqlite3_errmsg(s->db));
  sqlite3_finalize(q);
  return v;
}

/* A new file gets the schema; an existing one must carry the store's application id and a schema
 * this version reads. */
/* A run's checksum: SHA-256 over its stored rows read back in a fixed order (each metric value
 * with its series' names and its day, then each total), so any later change to them — a flipped
 * bit SQLite's own structure checks cannot see — shows as a mismatch. Written in the run's own
 * transaction, checked when a command opens the store (cb_store_open). */
static const char digest_values_sql[] =
    "SELECT s.metric, s.place, s.channel, s.origin, s.category, v.day, v.value FROM metric_values v"
    " JOIN series s ON s.id = v.series_id WHERE v.experiment_id = ?1 AND v.run = ?2 ORDER BY s.ord, v.day";
static const char digest_totals_sql[] = "SELECT name, value FROM summaries WHERE experiment_id = ?1 AND run = ?2 ORDER BY name";

static void digest_row(struct sha256_ctx *h, sqlite3_stmt *q) {
  int n = sqlite3_column_count(q);
  for (int i = 0; i < n; i++) {
    if (sqlite3_column_type(q, i) == SQLITE_TEXT) {
      const unsigned char *t = sqlite3_column_text(q, i);
      sha256_update(h, (size_t)sqlite3_column_bytes(q, i) + 1, t); /* with its terminating 0 */
    } else {
      double d = sqlite3_column_double(q, i);
      uint8_t b[8];
      memcpy(b, &d, sizeof b);
      sha256_update(h, sizeof b, b);
    }
  }
}

static int run_digest(cb_store *s, int64_t experiment, int64_t run, char hex[65], cb_err *e) {
  struct sha256_ctx h;
  sha256_init(&h);
  const char *sql[2] = {digest_values_sql, digest_totals_sql};
  for (int k = 0; k < 2; k++) {
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db, sql[k], -1, &q, NULL) != SQLITE_OK) return db_fail(s, e, "cannot read a run back");
    sqlite3_bind_int64(q, 1, experiment);
    sqlite3_bind_int64(q, 2, run);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) digest_row(&h, q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return db_fail(s, e, "cannot read a run back");
  }
  cb_sha256_hex(&h, hex);
  return CB_OK;
}


/* SQLite's structural check, then every run's checksum (stores of schema 1 have none). */
static int verify_store(cb_store *s, int checksums, cb_err *e) {
  sqlite3_stmt *q = NULL;
  /* integrity_check, not quick_check: only it finds an index that disagrees with its table */
  if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &q, NULL) != SQLITE_OK) return damaged(s, e, sqlite3_errmsg(s->db));
  int rc = sqlite3_step(q);
  char what[512];
  snprintf(what, sizeof what, "SQLite's check: %s",
           rc == SQLITE_ROW ? (const char *)sqlite3_column_text(q, 0) : sqlite3_errmsg(s->db));
  int ok = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(q, 0), "ok") == 0;
  sqlite3_finalize(q);
  if (!ok) return damaged(s, e, what);
  if (!checksums) return CB_OK;
  if (sqlite3_prepare_v2(s->db, "SELECT experiment_id, run, digest FROM runs WHERE digest IS NOT NULL ORDER BY experiment_id, run", -1,
                         &q, NULL) != SQLITE_OK)
    return damaged(s, e, sqlite3_errmsg(s->db));
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t x = sqlite3_column_int64(q, 0), run = sqlite3_column_int64(q, 1);
    char want[65], got[65];
    snprintf(want, sizeof want, "%s", (const char *)sqlite3_column_text(q, 2));
    if (run_digest(s, x, run, got, e)) break;
    if (strcmp(want, got) != 0) {
      snprintf(what, sizeof what, "run %lld of experiment %lld no longer matches the checksum stored with it", (long long)run,
               (long long)x);
      damaged(s, e, what);
      break;
    }
  }
  if (!e->code && rc != SQLITE_DONE) damaged(s, e, sqlite3_errmsg(s->db));
  sqlite3_finalize(q);
  return e->code;
}

static int check_or_create_schema(cb_store *s, int mode, cb_err *e) {
  int create = mode & CB_STORE_CREATE;
  int64_t app = query_int(s, "PRAGMA application_id", e), ver = app < 0 ? -1 : query_int(s, "PRAGMA user_version", e);
  int64_t tables = ver < 0 ? -1 : query_int(s, "SELECT count(*) FROM sqlite_master", e);
  if (tables < 0) return e->code;
  if (app == 0 && tables == 0) {
    if (!create) return cb_err_set(e, CB_EIO, "results store %s: the file holds no results; give the path of a store written by `contraband ensemble --db`", s->path);
    char pragmas[128];
    snprintf(pragmas, sizeof pragmas, "PRAGMA application_id = %d; PRAGMA user_version = %d;", CB_STORE_APP_ID, CB_STORE_SCHEMA);
    if (exec(s, "BEGIN IMMEDIATE", e)) return e->code;
    if (exec(s, schema_sql, e) || exec(s, pragmas, e)) {
      sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
      return e->code;
    }
    return exec(s, "COMMIT", e);
  }
  if (app != CB_STORE_APP_ID)
    return cb_err_set(e, CB_EIO, "results store %s: not a contraband results store (application_id %lld); give the "
                      "path of a store written by `contraband ensemble --db`, or a new file", s->path, (long long)app);
  if (ver > CB_STORE_SCHEMA)
    return cb_err_set(e, CB_EIO, "results store %s: written with store schema %lld, newer than this contraband reads (%d); "
                      "use a newer contraband", s->path, (long long)ver, CB_STORE_SCHEMA);
  /* schema 1 had no checksums: its runs stay unchecked, new ones get one */
  if (ver == 1 && create) {
    if (exec(s, "BEGIN IMMEDIATE; ALTER TABLE runs ADD COLUMN digest TEXT; PRAGMA user_version = 2; COMMIT;", e)) {
      sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
      return e->code;
    }
    ver = 2;
  }
  return mode & CB_STORE_CHECKED ? CB_OK : verify_store(s, ver >= 2, e);
}

int cb_store_open(cb_store **out, const char *path, int mode, cb_err *e) {
  int create = mode & CB_STORE_CREATE;
  *out = NULL;
  cb_store *s = cb_xcalloc(e, 1, sizeof *s);
  if (!s) return e->code;
  snprintf(s->path, sizeof s->path, "%s", path);
  if (!create && access(path, R_OK) != 0) {
    int err = errno;
    free(s);
    return cb_err_set(e, CB_EIO, "results store %s: cannot open: %s; check the path", path, strerror(err));
  }
  /* Reading opens for writing too when the file allows it: a transaction cut short (a full disk, a
   * killed process) leaves a journal that only a writer can roll back before the store is read. */
  int flags = create || access(path, W_OK) == 0 ? SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) : SQLITE_OPEN_READONLY;
  if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
    db_fail(s, e, "cannot open");
    cb_store_close(s);
    return e->code;
  }
  sqlite3_busy_timeout(s->db, 60000);
  if (check_or_create_schema(s, mode, e) || exec(s, "PRAGMA foreign_keys = ON", e)) {
    cb_store_close(s);
    return e->code;
  }
  for (int i = 0; i < ST_COUNT && create; i++)
    if (sqlite3_prepare_v2(s->db, stmt_sql[i], -1, &s->st[i], NULL) != SQLITE_OK) {
      db_fail(s, e, "cannot prepare a statement");
      cb_store_close(s);
      return e->code;
    }
  *out = s;
  return CB_OK;
}

void cb_store_close(cb_store *s) {
  if (!s) return;
  for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->st[i]);
  sqlite3_close(s->db);
  free(s->series_of);
  free(s);
}

/* Runs a prepared INSERT (or a SELECT of one integer into *id when id is given), then resets it. */
static int step_done(cb_store *s, sqlite3_stmt *q, int64_t *id, cb_err *e) {
  int rc = sqlite3_step(q);
  int ok = rc == SQLITE_DONE || (id && rc == SQLITE_ROW);
  if (id) *id = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
  sqlite3_reset(q);
  sqlite3_clear_bindings(q);
  return ok ? CB_OK : db_fail(s, e, "cannot write");
}

static void utc_now(char buf[32]) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The experiment's identity: a SHA-256 over what defines it (a fork's includes its parent's). */
static int identity_of(const cb_store_experiment *x, char hex[65], cb_err *e) {
  char parent[65] = "";
  if (x->parent && identity_of(x->parent, parent, e)) return e->code;
  const char *design = x->design ? x->design : "";
  size_t n = strlen(x->kind) + strlen(x->scenario_sha256) + strlen(x->overrides_json) + strlen(design) + 200;
  char *text = cb_xmalloc(e, n);
  if (!text) return e->code;
  snprintf(text, n, "%s\n%s\n%llu\n%s\n%s\n%s\n%s", x->kind, x->scenario_sha256, (unsigned long long)x->master_seed,
           x->overrides_json, x->fork_day ? x->fork_day : "", parent, design);
  cb_sha256_bytes(text, strlen(text), hex);
  free(text);
  return CB_OK;
}

int cb_store_experiment_id(cb_store *s, const cb_store_experiment *x, int64_t *id, cb_err *e) {
  char identity[65], now[32];
  int64_t parent = 0;
  if (x->parent && cb_store_experiment_id(s, x->parent, &parent, e)) return e->code;
  if (identity_of(x, identity, e)) return e->code;
  sqlite3_stmt *q = s->st[ST_FIND_EXP];
  sqlite3_bind_text(q, 1, identity, -1, SQLITE_TRANSIENT);
  if (step_done(s, q, id, e)) return e->code;
  if (*id > 0) return CB_OK;
  utc_now(now);
  q = s->st[ST_INS_EXP];
  sqlite3_bind_text(q, 1, identity, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(q, 2, x->kind, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(q, 3, x->scenario, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(q, 4, x->scenario_sha256, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(q, 5, x->overrides_json, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(q, 6, (sqlite3_int64)x->master_seed);
  sqlite3_bind_text(q, 7, cb_version(), -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 8, now, -1, SQLITE_TRANSIENT);
  if (x->fork_day) sqlite3_bind_text(q, 9, x->fork_day, -1, SQLITE_TRANSIENT);
  if (parent) sqlite3_bind_int64(q, 10, parent);
  if (x->design) sqlite3_bind_text(q, 11, x->design, -1, SQLITE_TRANSIENT);
  if (step_done(s, q, NULL, e)) return e->code;
  *id = sqlite3_last_insert_rowid(s->db);
  return CB_OK;
}

int cb_store_runs_done(cb_store *s, int64_t experiment, uint8_t *done, uint32_t n, cb_err *e) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(s->db, "SELECT run FROM runs WHERE experiment_id = ?1", -1, &q, NULL) != SQLITE_OK)
    return db_fail(s, e, "cannot read runs");
  sqlite3_bind_int64(q, 1, experiment);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t r = sqlite3_column_int64(q, 0);
    if (r >= 0 && r < (int64_t)n) done[r] = 1;
  }
  sqlite3_finalize(q);
  return rc == SQLITE_DONE ? CB_OK : db_fail(s, e, "cannot read runs");
}

/* ---- storing a run ---- */

typedef struct put_ctx {
  cb_store *s;
  int64_t experiment;
  uint32_t run;
  const cb_store_run *r;
  cb_err *e;
} put_ctx;

/* The series id of a row, looked up or inserted once per run and layout position. */
static int series_id(put_ctx *c, const cb_metric_row *r, int64_t *id) {
  cb_store *s = c->s;
  int64_t *a = cb_xcover(c->e, s->series_of, &s->nseries_of, r->order, sizeof *a);
  if (!a) return c->e->code;
  s->series_of = a;
  if ((*id = s->series_of[r->order]) > 0) return CB_OK;
  const char *cols[5] = {r->metric, r->place, r->channel, r->origin, r->category};
  sqlite3_stmt *q = s->st[ST_FIND_SERIES];
  sqlite3_bind_int64(q, 1, c->experiment);
  for (int i = 0; i < 5; i++) sqlite3_bind_text(q, 2 + i, cols[i], -1, SQLITE_STATIC);
  if (step_done(s, q, id, c->e)) return c->e->code;
  if (*id == 0) {
    q = s->st[ST_INS_SERIES];
    sqlite3_bind_int64(q, 1, c->experiment);
    sqlite3_bind_int64(q, 2, r->order);
    for (int i = 0; i < 5; i++) sqlite3_bind_text(q, 3 + i, cols[i], -1, SQLITE_STATIC);
    if (step_done(s, q, NULL, c->e)) return c->e->code;
    *id = sqlite3_last_insert_rowid(s->db);
  }
  s->series_of[r->order] = *id;
  return CB_OK;
}

static int put_row(void *ctx, const cb_metric_row *r) {
  put_ctx *c = ctx;
  int64_t sid;
  int32_t day;
  if (series_id(c, r, &sid)) return c->e->code;
  if (cb_parse_date(r->date, &day)) return cb_err_set(c->e, CB_EMISUSE, "results store: bad date '%s' in a metrics row", r->date);
  sqlite3_stmt *q = c->s->st[ST_INS_VALUE];
  sqlite3_bind_int64(q, 1, c->experiment);
  sqlite3_bind_int64(q, 2, c->run);
  sqlite3_bind_int64(q, 3, sid);
  sqlite3_bind_int64(q, 4, day);
  sqlite3_bind_double(q, 5, r->value);
  return step_done(c->s, q, NULL, c->e);
}

static int put_total(void *ctx, const char *name, double value) {
  put_ctx *c = ctx;
  sqlite3_stmt *q = c->s->st[ST_INS_SUMMARY];
  sqlite3_bind_int64(q, 1, c->experiment);
  sqlite3_bind_int64(q, 2, c->run);
  sqlite3_bind_text(q, 3, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(q, 4, value);
  return step_done(c->s, q, NULL, c->e);
}

static int put_run_row(put_ctx *c, uint64_t seed) {
  char now[32];
  utc_now(now);
  sqlite3_stmt *q = c->s->st[ST_INS_RUN];
  sqlite3_bind_int64(q, 1, c->experiment);
  sqlite3_bind_int64(q, 2, c->run);
  sqlite3_bind_int64(q, 3, (sqlite3_int64)seed);
  sqlite3_bind_text(q, 4, c->r->parameters_json ? c->r->parameters_json : "{}", -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(q, 5, c->r->wall_seconds);
  sqlite3_bind_text(q, 6, cb_version(), -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 7, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(q, 8, c->r->point);
  sqlite3_bind_int64(q, 9, c->r->replicate);
  return step_done(c->s, q, NULL, c->e);
}

static int put_digest(put_ctx *c) {
  char hex[65];
  if (run_digest(c->s, c->experiment, c->run, hex, c->e)) return c->e->code;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(c->s->db, "UPDATE runs SET digest = ?3 WHERE experiment_id = ?1 AND run = ?2", -1, &q, NULL) != SQLITE_OK)
    return db_fail(c->s, c->e, "cannot store a run's checksum");
  sqlite3_bind_int64(q, 1, c->experiment);
  sqlite3_bind_int64(q, 2, c->run);
  sqlite3_bind_text(q, 3, hex, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(q);
  sqlite3_finalize(q);
  return rc == SQLITE_DONE ? CB_OK : db_fail(c->s, c->e, "cannot store a run's checksum");
}

int cb_store_put_run(cb_store *s, int64_t experiment, const cb_store_run *r, const uint8_t *result, size_t len, cb_err *e) {
  put_ctx c = {s, experiment, r->run, r, e};
  uint64_t seed = 0;
  if (cb_result_seed(result, len, &seed, e)) return e->code;
  if (s->series_of) memset(s->series_of, 0, s->nseries_of * sizeof *s->series_of);
  if (exec(s, "BEGIN IMMEDIATE", e)) return e->code;
  cb_result_visitor v = {&c, put_row, put_total};
  if (!cb_result_visit(result, len, &v, e)) put_run_row(&c, seed);
  if (!e->code) put_digest(&c);
  if (e->code) {
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return e->code;
  }
  return exec(s, "COMMIT", e);
}

int cb_store_query(cb_store *s, const char *sql, int64_t param, cb_store_row_fn fn, void *ctx, cb_err *e) {
  return cb_store_query_params(s, sql, &param, 1, fn, ctx, e);
}

int cb_store_query_params(cb_store *s, const char *sql, const int64_t *params, int nparams, cb_store_row_fn fn, void *ctx, cb_err *e) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) return db_fail(s, e, "cannot query results");
  for (int i = 0; i < nparams; i++) sqlite3_bind_int64(q, i + 1, params[i]);
  int rc, n = sqlite3_column_count(q), stop = 0;
  if (n > CB_STORE_MAX_COLUMNS) n = CB_STORE_MAX_COLUMNS;
  const char *text[CB_STORE_MAX_COLUMNS];
  double num[CB_STORE_MAX_COLUMNS];
  while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    for (int i = 0; i < n; i++) {
      /* a number is not printed as text, nor text parsed as a number: no reader uses either,
       * and the conversions took most of the time of reading a large experiment */
      int type = sqlite3_column_type(q, i), numeric = type == SQLITE_INTEGER || type == SQLITE_FLOAT;
      text[i] = numeric ? NULL : (const char *)sqlite3_column_text(q, i);
      num[i] = numeric ? sqlite3_column_double(q, i) : 0.0;
    }
    cb_store_row row = {n, text, num};
    stop = fn(ctx, &row);
  }
  sqlite3_finalize(q);
  if (stop) return stop;
  return rc == SQLITE_DONE ? CB_OK : db_fail(s, e, "cannot query results");
}

typedef struct figure_adapter {
  cb_store_figure_fn fn;
  void *ctx;
} figure_adapter;

static int figure_row(void *ctx, const cb_store_row *r) {
  const figure_adapter *a = ctx;
  a->fn(a->ctx, r->text[0] ? r->text[0] : "", (uint32_t)r->num[1], r->num[2]);
  return 0;
}

int cb_store_figures(cb_store *s, int64_t experiment, const char *sql, cb_store_figure_fn fn, void *ctx, cb_err *e) {
  figure_adapter a = {fn, ctx};
  return cb_store_query(s, sql, experiment, figure_row, &a, e);
}

/* ---- export ---- */

/* The stored runs with their parameter values, spread into columns: the union of the keys of every
 * run's parameters object (a nested object's keys as key paths a.b), in the order they first
 * appear by experiment and run. cells[first .. first + n) are a run's values. */
typedef struct param_cell {
  uint32_t col;
  char *text;
} param_cell;

typedef struct param_run {
  int64_t experiment, run, point, replicate;
  uint32_t first, n;
} param_run;

typedef struct param_table {
  char **names;
  uint32_t ncols, cap_cols;
  param_run *runs;
  uint32_t nruns, cap_runs;
  param_cell *cells;
  uint32_t ncells, cap_cells;
} param_table;

static void param_table_free(param_table *t) {
  for (uint32_t i = 0; i < t->ncols; i++) free(t->names[i]);
  for (uint32_t i = 0; i < t->ncells; i++) free(t->cells[i].text);
  free(t->names);
  free(t->runs);
  free(t->cells);
}

/* A number as the shortest text that reads back as the same double (integers as they are). */
static void format_number(const json_t *v, char buf[40]) {
  if (json_is_integer(v)) {
    snprintf(buf, 40, "%lld", (long long)json_integer_value(v));
    return;
  }
  double d = json_real_value(v);
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(buf, 40, "%.*g", digits, d);
    if (strtod(buf, NULL) == d) return;
  }
}

static int param_add(param_table *t, const char *key, const json_t *v, cb_err *e) {
  char num[40];
  char *text;
  if (json_is_null(v)) return CB_OK; /* as if absent */
  if (json_is_string(v)) text = cb_xstrdup(e, json_string_value(v));
  else if (json_is_array(v)) {
    if (!(text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY))) return cb_err_set(e, CB_ENOMEM, "out of memory");
  } else {
    if (json_is_number(v)) format_number(v, num);
    else snprintf(num, sizeof num, "%s", json_is_true(v) ? "true" : "false");
    text = cb_xstrdup(e, num);
  }
  if (!text) return e->code;
  uint32_t col = 0;
  while (col < t->ncols && strcmp(t->names[col], key)) col++;
  if (col == t->ncols) {
    char **names = cb_xgrow(e, t->names, &t->cap_cols, t->ncols, sizeof *names, 8);
    char *name = names ? cb_xstrdup(e, key) : NULL;
    if (names) t->names = names;
    if (!name) {
      free(text);
      return e->code;
    }
    t->names[t->ncols++] = name;
  }
  param_run *r = &t->runs[t->nruns - 1];
  for (uint32_t i = r->first; i < r->first + r->n; i++) /* the same path twice (a.b and {"a": {"b"}}): the last wins */
    if (t->cells[i].col == col) {
      free(t->cells[i].text);
      t->cells[i].text = text;
      return CB_OK;
    }
  param_cell *cells = cb_xgrow(e, t->cells, &t->cap_cells, t->ncells, sizeof *cells, 64);
  if (!cells) {
    free(text);
    return e->code;
  }
  t->cells = cells;
  t->cells[t->ncells++] = (param_cell){col, text};
  r->n++;
  return CB_OK;
}

static int param_object(param_table *t, const char *prefix, const json_t *o, cb_err *e) {
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)o, key, v) {
    size_t len = strlen(prefix) + strlen(key) + 2;
    char *path = cb_xmalloc(e, len);
    if (!path) return e->code;
    snprintf(path, len, "%s%s%s", prefix, *prefix ? "." : "", key);
    int rc = json_is_object(v) ? param_object(t, path, v, e) : param_add(t, path, v, e);
    free(path);
    if (rc) return rc;
  }
  return CB_OK;
}

static int param_table_load(cb_store *s, param_table *t, cb_err *e) {
  memset(t, 0, sizeof *t);
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(s->db, "SELECT experiment_id, run, point, replicate, parameters FROM runs ORDER BY experiment_id, run",
                         -1, &q, NULL) != SQLITE_OK)
    return db_fail(s, e, "cannot read runs");
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    param_run *runs = cb_xgrow(e, t->runs, &t->cap_runs, t->nruns, sizeof *runs, 64);
    if (!runs) break;
    t->runs = runs;
    t->runs[t->nruns++] = (param_run){sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2),
                                      sqlite3_column_int64(q, 3), t->ncells, 0};
    const char *text = (const char *)sqlite3_column_text(q, 4);
    json_error_t je; /* a key given twice (--vary k twice) keeps the last value, the one the run used */
    json_t *o = json_loads(text ? text : "", 0, &je);
    if (!o) o = json_loads(text ? text : "", JSON_DECODE_INT_AS_REAL, &je); /* beyond int64 */
    if (!json_is_object(o)) {
      json_decref(o);
      cb_err_set(e, CB_EIO, "results store %s: run %lld of experiment %lld: its parameters are not a JSON object (%s)", s->path,
                 (long long)sqlite3_column_int64(q, 1), (long long)sqlite3_column_int64(q, 0),
                 o ? "another JSON value" : je.text);
      break;
    }
    int bad = param_object(t, "", o, e);
    json_decref(o);
    if (bad) break;
  }
  if (!e->code && rc != SQLITE_DONE) db_fail(s, e, "cannot read runs");
  sqlite3_finalize(q);
  if (e->code) param_table_free(t);
  return e->code;
}

/* A run's columns point,replicate and its parameter values (each after a comma), when the store has
 * parameter columns at all. */
static void write_param_cells(FILE *f, const param_table *t, const param_run *r, int with_place) {
  if (!t->ncols) return;
  if (with_place) fprintf(f, ",%lld,%lld", (long long)r->point, (long long)r->replicate);
  for (uint32_t c = 0; c < t->ncols; c++) {
    fputc(',', f);
    for (uint32_t i = r->first; i < r->first + r->n; i++)
      if (t->cells[i].col == c) cb_csv_field(f, t->cells[i].text);
  }
}

static void write_param_names(FILE *f, const param_table *t, int with_place) {
  if (!t->ncols) return;
  if (with_place) fputs(",point,replicate", f);
  for (uint32_t c = 0; c < t->ncols; c++) {
    fputc(',', f);
    cb_csv_field(f, t->names[c]);
  }
}

/* The run (experiment, run) in t, found by moving *at forward (both walk in the same order). */
static const param_run *param_run_of(const param_table *t, uint32_t *at, int64_t experiment, int64_t run) {
  while (*at < t->nruns && (t->runs[*at].experiment < experiment ||
                            (t->runs[*at].experiment == experiment && t->runs[*at].run < run)))
    (*at)++;
  if (*at < t->nruns && t->runs[*at].experiment == experiment && t->runs[*at].run == run) return &t->runs[*at];
  return NULL;
}

static int export_failed(cb_store *s, FILE *f, int bad, cb_err *e) {
  if (e->code) return e->code;
  if (bad || ferror(f)) return cb_err_set(e, CB_EIO, "export of %s: cannot write the CSV: %s", s->path, strerror(errno));
  return CB_OK;
}

int cb_store_export_csv(cb_store *s, FILE *f, cb_err *e) {
  static const char sql[] =
      "SELECT v.experiment_id, v.run, v.day, s.metric, s.place, s.channel, s.origin, s.category, v.value"
      " FROM metric_values v JOIN series s ON s.id = v.series_id ORDER BY v.experiment_id, v.run, v.day, s.ord";
  param_table t;
  if (param_table_load(s, &t, e)) return e->code;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
    param_table_free(&t);
    return db_fail(s, e, "cannot read metrics");
  }
  fputs("experiment,run", f);
  write_param_names(f, &t, 1);
  fputs("," CB_METRICS_CSV_HEADER "\n", f);
  /* the columns before date are the same for all of a run's rows: written once into prefix */
  char *prefix = NULL;
  size_t prefix_len = 0;
  int64_t cur_x = -1, cur_run = -1;
  uint32_t at = 0;
  int rc, bad = 0;
  while (!bad && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t x = sqlite3_column_int64(q, 0), run = sqlite3_column_int64(q, 1);
    if (!prefix || x != cur_x || run != cur_run) {
      free(prefix);
      prefix = NULL;
      FILE *m = open_memstream(&prefix, &prefix_len);
      if (!m) {
        bad = 1;
        break;
      }
      fprintf(m, "%lld,%lld", (long long)x, (long long)run);
      const param_run *r = param_run_of(&t, &at, x, run);
      param_run none = {x, run, 0, run, 0, 0};
      write_param_cells(m, &t, r ? r : &none, 1);
      fputc(',', m);
      if (fclose(m) != 0) {
        bad = 1;
        break;
      }
      cur_x = x;
      cur_run = run;
    }
    char date[11];
    cb_format_date((int32_t)sqlite3_column_int64(q, 2), date);
    cb_metric_row r = {date, (const char *)sqlite3_column_text(q, 3), (const char *)sqlite3_column_text(q, 4),
                       (const char *)sqlite3_column_text(q, 5), (const char *)sqlite3_column_text(q, 6),
                       (const char *)sqlite3_column_text(q, 7), sqlite3_column_double(q, 8), 0};
    bad = fwrite(prefix, 1, prefix_len, f) != prefix_len || cb_metrics_write_row_csv(f, &r);
  }
  free(prefix);
  if (!bad && rc != SQLITE_DONE) db_fail(s, e, "cannot read metrics");
  sqlite3_finalize(q);
  param_table_free(&t);
  return export_failed(s, f, bad, e);
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int cb_store_export_summaries_csv(cb_store *s, FILE *f, cb_err *e) {
  param_table t;
  if (param_table_load(s, &t, e)) return e->code;
  char **totals = NULL;
  uint32_t ntotals = 0, cap = 0;
  double *value = NULL;
  uint8_t *has = NULL;
  sqlite3_stmt *q = NULL, *v = NULL;
  int rc = SQLITE_DONE, bad = 0;
  /* the totals' names, sorted as strcmp sorts (SQLite's BINARY collation compares the same bytes) */
  if (sqlite3_prepare_v2(s->db, "SELECT DISTINCT name FROM summaries ORDER BY name", -1, &q, NULL) != SQLITE_OK) {
    db_fail(s, e, "cannot read totals");
    goto done;
  }
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    char **grown = cb_xgrow(e, totals, &cap, ntotals, sizeof *grown, 32);
    if (!grown) goto done;
    totals = grown;
    if (!(totals[ntotals] = cb_xstrdup(e, (const char *)sqlite3_column_text(q, 0)))) goto done;
    ntotals++;
  }
  sqlite3_finalize(q);
  q = NULL;
  if (rc != SQLITE_DONE) {
    db_fail(s, e, "cannot read totals");
    goto done;
  }
  if (!(value = cb_xcalloc(e, ntotals + 1, sizeof *value)) || !(has = cb_xcalloc(e, ntotals + 1, 1))) goto done;
  if (sqlite3_prepare_v2(s->db, "SELECT r.experiment_id, e.kind, r.run, r.point, r.replicate, r.seed FROM runs r"
                         " JOIN experiments e ON e.id = r.experiment_id ORDER BY r.experiment_id, r.run", -1, &q, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(s->db, "SELECT experiment_id, run, name, value FROM summaries ORDER BY experiment_id, run, name", -1, &v,
                         NULL) != SQLITE_OK) {
    db_fail(s, e, "cannot read totals");
    goto done;
  }
  fputs("experiment,kind,run,point,replicate,seed", f);
  write_param_names(f, &t, 0);
  for (uint32_t i = 0; i < ntotals; i++) {
    fputc(',', f);
    cb_csv_field(f, totals[i]);
  }
  fputc('\n', f);
  int vrc = sqlite3_step(v); /* the totals cursor, walked along with the runs */
  uint32_t at = 0;
  while (!bad && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t x = sqlite3_column_int64(q, 0), run = sqlite3_column_int64(q, 2);
    memset(has, 0, ntotals);
    for (; vrc == SQLITE_ROW; vrc = sqlite3_step(v)) {
      int64_t vx = sqlite3_column_int64(v, 0), vrun = sqlite3_column_int64(v, 1);
      if (vx > x || (vx == x && vrun > run)) break;
      if (vx < x || vrun < run) continue; /* totals of no stored run */
      const char *name = (const char *)sqlite3_column_text(v, 2);
      char **hit = bsearch(&name, totals, ntotals, sizeof *totals, compare_names);
      if (hit) {
        value[hit - totals] = sqlite3_column_double(v, 3);
        has[hit - totals] = 1;
      }
    }
    if (vrc != SQLITE_ROW && vrc != SQLITE_DONE) break;
    fprintf(f, "%lld,", (long long)x);
    cb_csv_field(f, (const char *)sqlite3_column_text(q, 1));
    fprintf(f, ",%lld,%lld,%lld,%llu", (long long)run, (long long)sqlite3_column_int64(q, 3), (long long)sqlite3_column_int64(q, 4),
            (unsigned long long)sqlite3_column_int64(q, 5));
    const param_run *r = param_run_of(&t, &at, x, run);
    param_run none = {x, run, 0, 0, 0, 0};
    write_param_cells(f, &t, r ? r : &none, 0);
    for (uint32_t i = 0; i < ntotals; i++) {
      char buf[32] = "";
      if (has[i]) cb_metrics_format_value(value[i], buf);
      fputc(',', f);
      fputs(buf, f);
    }
    bad = fputc('\n', f) == EOF;
  }
  if (!bad && (rc != SQLITE_DONE || (vrc != SQLITE_ROW && vrc != SQLITE_DONE))) db_fail(s, e, "cannot read totals");
done:
  sqlite3_finalize(q);
  sqlite3_finalize(v);
  for (uint32_t i = 0; i < ntotals; i++) free(totals[i]);
  free(totals);
  free(value);
  free(has);
  param_table_free(&t);
  return export_failed(s, f, bad, e);
}
