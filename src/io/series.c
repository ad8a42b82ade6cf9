/* Reads exogenous time series (the Daily NK exchange rates and rice prices) from long-format CSV
 * and answers "what was the value for this entity on this day". The reader is strict, and every
 * complaint points at a line and column, because these files are edited by hand and a silently
 * misread rate would distort every price in the model. */
#include "io/series.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/calendar.h"
#include "io/files.h"

#define SERIES_HEADER "entity,time,value"
#define NAME_LEN_MAX (sizeof(((cb_series_entity *)0)->name) - 1)
/* How much of an offending field is quoted back in a message: enough to recognise it. */
#define QUOTE_MAX 40

/* Bookkeeping needed only while reading: capacities, and each entity's latest line so an
 * out-of-order row can name the row it conflicts with. */
typedef struct ent_aux {
  size_t cap;
  size_t last_line;
} ent_aux;

typedef struct loader {
  const char *path;
  cb_series *s;
  cb_err *e;
  ent_aux *aux;
  size_t cap;       /* entities allocated in s->ent and aux */
  size_t hit;       /* entity of the previous row: rows usually come grouped */
} loader;

/* One data row split in place: each field NUL-terminated, with its 1-based column. */
typedef struct row {
  char *field[3];
  size_t col[3];
} row;

__attribute__((format(printf, 4, 5)))
static int fail(loader *L, size_t line, size_t col, const char *fmt, ...) {
  char what[CB_ERRMSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return cb_err_set(L->e, CB_EPARSE, "%s:%zu:%zu: %s", L->path, line, col, what);
}

/* Length of a field as quoted in messages, and the ellipsis to show it was cut. */
static int quote_len(const char *s) {
  size_t n = strlen(s);
  return (int)(n > QUOTE_MAX ? QUOTE_MAX : n);
}

static const char *quote_more(const char *s) {
  return strlen(s) > QUOTE_MAX ? "..." : "";
}

/* Drops the line terminator, "\n" or "\r\n", so files saved on Windows read the same. */
static size_t chomp(char *line, size_t len) {
  if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
  if (len > 0 && line[len - 1] == '\r') line[--len] = '\0';
  return len;
}

/* String functions would silently stop at an embedded NUL, so a line must not hold one. */
static int check_no_nul(loader *L, const char *line, size_t len, size_t lineno) {
  const char *nul = memchr(line, '\0', len);
  if (!nul) return CB_OK;
  return fail(L, lineno, (size_t)(nul - line) + 1,
              "line contains a NUL byte; the file must be plain-text CSV");
}

static int check_header(loader *L, char *line, size_t len) {
  /* A UTF-8 byte-order mark is invisible in editors and spreadsheets add it; accept it. */
  static const char bom[] = "\xEF\xBB\xBF";
  size_t skip = (len >= 3 && memcmp(line, bom, 3) == 0) ? 3 : 0;
  const char *h = line + skip;
  if (strcmp(h, SERIES_HEADER) == 0) return CB_OK;
  size_t i = 0;
  while (h[i] && h[i] == SERIES_HEADER[i]) i++;
  return fail(L, 1, skip + i + 1, "header is \"%.*s%s\"; it must be exactly \"" SERIES_HEADER "\"",
              quote_len(h), h, quote_more(h));
}

static char *comma_after(char *line, size_t len, char *from) {
  return memchr(from, ',', len - (size_t)(from - line));
}

static int split_fields(loader *L, char *line, size_t len, size_t lineno, row *r) {
  char *c1 = comma_after(line, len, line);
  char *c2 = c1 ? comma_after(line, len, c1 + 1) : NULL;
  if (!c2)
    return fail(L, lineno, len + 1,
                "found %d field%s where 3 are expected (entity,time,value); complete the row",
                c1 ? 2 : 1, c1 ? "s" : "");
  char *c3 = comma_after(line, len, c2 + 1);
  if (c3)
    return fail(L, lineno, (size_t)(c3 - line) + 1,
                "more than 3 fields (entity,time,value); remove the extra commas (numbers must not "
                "use thousands separators, names must not contain commas)");
  *c1 = *c2 = '\0';
  r->field[0] = line;
  r->field[1] = c1 + 1;
  r->field[2] = c2 + 1;
  for (int i = 0; i < 3; i++) r->col[i] = (size_t)(r->field[i] - line) + 1;
  return CB_OK;
}

static int check_entity(loader *L, const row *r, size_t lineno) {
  const char *name = r->field[0];
  size_t n = strlen(name);
  if (n == 0)
    return fail(L, lineno, r->col[0], "entity is empty; give the name of the place or series");
  if (n > NAME_LEN_MAX)
    return fail(L, lineno, r->col[0],
                "entity name \"%.*s...\" is %zu characters long; shorten it to at most %zu",
                QUOTE_MAX, name, n, NAME_LEN_MAX);
  return CB_OK;
}

static int parse_day(loader *L, const row *r, size_t lineno, int32_t *day) {
  const char *t = r->field[1];
  if (cb_parse_date(t, day) == 0) return CB_OK;
  return fail(L, lineno, r->col[1],
              "bad date \"%.*s%s\"; write a real calendar date as YYYY-MM-DD, e.g. 2014-07-01",
              quote_len(t), t, quote_more(t));
}

/* Decimal numbers only: strtod would also take leading blanks and hexadecimal, which in a
 * hand-edited data file are more likely mistakes than intent. */
static int looks_decimal(const char *t) {
  return t[0] != '\0' && strchr(" \t\f\v\r\n", t[0]) == NULL && strpbrk(t, "xX") == NULL;
}

static int parse_value(loader *L, const row *r, size_t lineno, double *out) {
  const char *t = r->field[2];
  size_t col = r->col[2];
  if (t[0] == '\0') return fail(L, lineno, col, "value is empty; give a number > 0");
  char *end = NULL;
  double v = looks_decimal(t) ? strtod(t, &end) : 0.0;
  if (!end || end == t || *end != '\0')
    return fail(L, lineno, col, "value \"%.*s%s\" is not a number; write a decimal such as 8000 or 38.25",
                quote_len(t), t, quote_more(t));
  if (!isfinite(v))
    return fail(L, lineno, col, "value \"%.*s%s\" is not a finite number; give a finite number > 0",
                quote_len(t), t, quote_more(t));
  if (v <= 0)
    return fail(L, lineno, col,
                "value %.*s%s is not > 0; prices and exchange rates must be positive, fix or remove the row",
                quote_len(t), t, quote_more(t));
  *out = v;
  return CB_OK;
}

static int grow_entities(loader *L) {
  size_t cap = L->cap ? 2 * L->cap : 4;
  cb_series_entity *ent = cb_xrealloc(L->e, L->s->ent, cap * sizeof *ent);
  if (!ent) return L->e->code;
  L->s->ent = ent;
  ent_aux *aux = cb_xrealloc(L->e, L->aux, cap * sizeof *aux);
  if (!aux) return L->e->code;
  L->aux = aux;
  L->cap = cap;
  return CB_OK;
}

/* Index of the named entity, adding it if new; -1 only if memory ran out. A linear scan is
 * fine: series have a handful of entities and the previous row's entity is tried first. */
static long entity_index(loader *L, const char *name) {
  cb_series *s = L->s;
  if (L->hit < s->n && strcmp(s->ent[L->hit].name, name) == 0) return (long)L->hit;
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->ent[i].name, name) == 0) return (long)(L->hit = i);
  if (s->n == L->cap && grow_entities(L) != CB_OK) return -1;
  cb_series_entity *en = &s->ent[s->n];
  memset(en, 0, sizeof *en);
  memcpy(en->name, name, strlen(name) + 1);
  L->aux[s->n] = (ent_aux){0, 0};
  L->hit = s->n;
  return (long)s->n++;
}

static int grow_rows(loader *L, size_t k) {
  cb_series_entity *en = &L->s->ent[k];
  size_t cap = L->aux[k].cap ? 2 * L->aux[k].cap : 64;
  int32_t *day = cb_xrealloc(L->e, en->day, cap * sizeof *day);
  if (!day) return L->e->code;
  en->day = day;
  double *value = cb_xrealloc(L->e, en->value, cap * sizeof *value);
  if (!value) return L->e->code;
  en->value = value;
  L->aux[k].cap = cap;
  return CB_OK;
}

static int check_order(loader *L, size_t k, int32_t day, const row *r, size_t lineno) {
  const cb_series_entity *en = &L->s->ent[k];
  if (en->n == 0 || day > en->day[en->n - 1]) return CB_OK;
  char prev[11];
  cb_format_date(en->day[en->n - 1], prev);
  if (day == en->day[en->n - 1])
    return fail(L, lineno, r->col[1],
                "date %s of entity \"%s\" repeats line %zu; keep one row per entity and date",
                r->field[1], en->name, L->aux[k].last_line);
  return fail(L, lineno, r->col[1],
              "date %s of entity \"%s\" is before %s on line %zu; sort each entity's rows by date",
              r->field[1], en->name, prev, L->aux[k].last_line);
}

static int add_row(loader *L, char *line, size_t len, size_t lineno) {
  row r = {{NULL, NULL, NULL}, {0, 0, 0}};
  int32_t day = 0;
  double v = 0;
  int rc;
  if ((rc = split_fields(L, line, len, lineno, &r)) != CB_OK) return rc;
  if ((rc = check_entity(L, &r, lineno)) != CB_OK) return rc;
  if ((rc = parse_day(L, &r, lineno, &day)) != CB_OK) return rc;
  if ((rc = parse_value(L, &r, lineno, &v)) != CB_OK) return rc;
  long k = entity_index(L, r.field[0]);
  if (k < 0) return L->e->code;
  size_t i = (size_t)k;
  if ((rc = check_order(L, i, day, &r, lineno)) != CB_OK) return rc;
  cb_series_entity *en = &L->s->ent[i];
  if (en->n == L->aux[i].cap && (rc = grow_rows(L, i)) != CB_OK) return rc;
  en = &L->s->ent[i];
  en->day[en->n] = day;
  en->value[en->n] = v;
  en->n++;
  L->aux[i].last_line = lineno;
  return CB_OK;
}

/* Reads header and rows from text (NUL-terminated at len, writable: fields are split in place);
 * lines end at '\n', empty lines are skipped so a trailing blank line is harmless. */
static int parse_lines(loader *L, char *text, size_t len) {
  size_t lineno = 0;
  int rc = CB_OK;
  for (size_t pos = 0; pos < len && rc == CB_OK;) {
    char *line = text + pos, *nl = memchr(line, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - line) + 1 : len - pos;
    pos += n;
    lineno++;
    if ((rc = check_no_nul(L, line, n, lineno)) != CB_OK) break;
    n = chomp(line, n); /* its '\n' becomes the line's NUL; the last line has text's final NUL */
    if (lineno == 1) rc = check_header(L, line, n);
    else if (n > 0) rc = add_row(L, line, n, lineno);
  }
  if (rc != CB_OK) return rc;
  if (lineno == 0)
    return fail(L, 1, 1, "file is empty; it needs the header \"" SERIES_HEADER "\" and data rows");
  if (L->s->n == 0)
    return fail(L, lineno + 1, 1,
                "no data rows after the header; add rows like \"sinuiju,2014-07-01,8000\"");
  return CB_OK;
}

/* Parses text in place (writable, len bytes then a NUL); s is emptied again on failure. */
static int parse_in_place(cb_series *s, char *text, size_t len, const char *name, cb_err *e) {
  loader L = {.path = name, .s = s, .e = e, .aux = NULL, .cap = 0, .hit = 0};
  int rc = parse_lines(&L, text, len);
  free(L.aux);
  if (rc != CB_OK) cb_series_free(s);
  return rc;
}

int cb_series_parse(cb_series *s, const char *text, size_t len, const char *name, cb_err *e) {
  *s = (cb_series){0, NULL};
  char *copy = cb_xmalloc(e, len + 1);
  if (!copy) return e->code;
  if (len) memcpy(copy, text, len);
  copy[len] = '\0';
  int rc = parse_in_place(s, copy, len, name, e);
  free(copy);
  return rc;
}

/* Reads the whole file (these files are small), then parses it like cb_series_parse. */
int cb_series_load(cb_series *s, const char *path, cb_err *e) {
  *s = (cb_series){0, NULL};
  uint8_t *text;
  size_t len;
  if (cb_read_whole(path, &text, &len, e)) return e->code;
  int rc = parse_in_place(s, (char *)text, len, path, e);
  free(text);
  return rc;
}

void cb_series_free(cb_series *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n; i++) {
    free(s->ent[i].day);
    free(s->ent[i].value);
  }
  free(s->ent);
  *s = (cb_series){0, NULL};
}

int cb_series_find(const cb_series *s, const char *entity) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->ent[i].name, entity) == 0) return (int)i;
  return -1;
}

/* Index of the last survey on or before day; the caller has ruled out day < day[0]. */
static size_t last_at_or_before(const cb_series_entity *en, int32_t day) {
  size_t lo = 0, hi = en->n - 1; /* invariant: day[lo] <= day < day[hi] */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (en->day[mid] <= day) lo = mid;
    else hi = mid;
  }
  return lo;
}

/* An index that names no entity is a programming error; NAN makes it visible downstream
 * without aborting inside the library. */
double cb_series_at(const cb_series *s, int entity, int32_t day) {
  if (entity < 0 || (size_t)entity >= s->n || s->ent[entity].n == 0) return NAN;
  const cb_series_entity *en = &s->ent[entity];
  if (day <= en->day[0]) return en->value[0];
  if (day >= en->day[en->n - 1]) return en->value[en->n - 1];
  size_t i = last_at_or_before(en, day);
  double span = (double)en->day[i + 1] - (double)en->day[i];
  double t = ((double)day - (double)en->day[i]) / span;
  return en->value[i] + t * (en->value[i + 1] - en->value[i]);
}
