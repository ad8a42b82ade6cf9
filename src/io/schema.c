/* The generic binder behind the parameter table: it walks a cb_ytree under the direction of a
 * cb_schema, checks every key and value, applies defaults and stores the results in the caller's
 * structs. Keeping it model-agnostic is what lets one table drive parsing, --set, validation and
 * the Markdown reference; every message points at the YAML node (or --set) it is about. */
#include "io/schema.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/calendar.h"

#define PATH_MAX_LEN 512
#define LIST_MAX_LEN 1200

/* State of one bind call; nothing global, so binds may run concurrently. */
typedef struct binder {
  const cb_schema *sc;
  unsigned char *out;
  cb_err *e;
  size_t cur;          /* index of the section being bound */
  const char *dflt;    /* while binding a default: its text (messages say so) */
} binder;

/* A position to report when there is no node of its own (missing keys, defaults). */
typedef struct where {
  const char *src;
  int line, col;
} where;

/* ---- names: fields, sections, enum names and collection entries seen as one list -------- */

/* Lists of names stored either as pointers (tables) or inline char arrays (entries). */
typedef struct namelist {
  const unsigned char *base;
  size_t n, stride;
  int inline_text;
} namelist;

static const char *nl_get(const namelist *l, size_t i) {
  const unsigned char *p = l->base + i * l->stride;
  if (l->inline_text) return (const char *)p;
  const char *s;
  memcpy(&s, p, sizeof s);
  return s;
}

static long nl_find(const namelist *l, const char *name) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(nl_get(l, i), name) == 0) return (long)i;
  return -1;
}

static namelist fields_list(const cb_section *s) {
  namelist l = {(const unsigned char *)s->fields + offsetof(cb_field, name), s->nfields, sizeof(cb_field), 0};
  return l;
}

static namelist sections_list(const cb_schema *sc) {
  namelist l = {(const unsigned char *)sc->sections + offsetof(cb_section, name), sc->nsections, sizeof(cb_section), 0};
  return l;
}

static namelist enum_list(const char *const *names) {
  size_t n = 0;
  while (names && names[n]) n++;
  namelist l = {(const unsigned char *)names, n, sizeof(const char *), 0};
  return l;
}

/* Appends text to buf (size cap); once something does not fit, buf ends in "..." for good. */
static void buf_add(char *buf, size_t cap, const char *text) {
  size_t n = strlen(buf), t = strlen(text);
  if (n >= 3 && strcmp(buf + n - 3, "...") == 0) return;
  if (n + t < cap) {
    memcpy(buf + n, text, t + 1);
  } else if (cap > 4 && n + 4 < cap) {
    memcpy(buf + n, "...", 4);
  }
}

/* "a, b, c" into buf. */
static const char *nl_join(const namelist *l, char *buf, size_t cap) {
  buf[0] = '\0';
  for (size_t i = 0; i < l->n; i++) {
    if (i) buf_add(buf, cap, ", ");
    buf_add(buf, cap, nl_get(l, i));
  }
  if (l->n == 0) buf_add(buf, cap, "(none)");
  return buf;
}

/* Edit distance, case-insensitive; long strings are never close to anything. */
static size_t edit_distance(const char *a, const char *b) {
  enum { MAXL = 64 };
  size_t la = strlen(a), lb = strlen(b);
  if (la > MAXL || lb > MAXL) return (size_t)-1;
  size_t row[MAXL + 1];
  for (size_t j = 0; j <= lb; j++) row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
      size_t best = diag + (same ? 0 : 1);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

/* " did you mean 'x'?" for the closest name within a small distance, or "". */
static const char *nl_suggest(const namelist *l, const char *name, char *buf, size_t cap) {
  size_t best = (size_t)-1, limit = strlen(name) <= 3 ? 1 : 2;
  const char *pick = NULL;
  for (size_t i = 0; i < l->n; i++) {
    size_t d = edit_distance(name, nl_get(l, i));
    if (d < best) {
      best = d;
      pick = nl_get(l, i);
    }
  }
  buf[0] = '\0';
  if (pick && best <= limit) snprintf(buf, cap, " did you mean '%s'?", pick);
  return buf;
}

/* ---- messages ---------------------------------------------------------------------------- */

/* The "what to do" after a name that matched nothing; no guessing about a schema default. */
static const char *name_hint(const binder *b, const namelist *l, const char *name, char *buf, size_t cap) {
  if (!b->dflt && nl_suggest(l, name, buf, cap)[0]) return buf;
  snprintf(buf, cap, " use one of these names");
  return buf;
}

static int fail_at(binder *b, where w, const char *path, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_at(binder *b, where w, const char *path, const char *fmt, ...) {
  char msg[CB_ERRMSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (b->dflt)
    cb_err_set(b->e, CB_ESCHEMA, "%s:%d:%d: %s: not given, and its default (%s) does not fit this scenario: %s; set %s explicitly",
               w.src, w.line, w.col, path, b->dflt, msg, path);
  else
    cb_err_set(b->e, CB_ESCHEMA, "%s:%d:%d: %s: %s", w.src, w.line, w.col, path, msg);
  return CB_ESCHEMA;
}

static where node_where(const cb_ynode *n) {
  where w = {n->src, n->line, n->col};
  return w;
}

static where key_where(const cb_ynode *map, size_t i) {
  where w = {map->children[i]->src, map->key_line[i], map->key_col[i]};
  return w;
}

/* A table mistake, not a scenario mistake: the programmer must fix the schema. */
static int table_bug(binder *b, const char *path, const char *what) {
  return cb_err_set(b->e, CB_EMISUSE, "parameter table error at %s: %s; fix the schema in the source", path, what);
}

static const char *kind_name(const cb_ynode *n) {
  switch (n->kind) {
  case CB_Y_MAP: return "a mapping";
  case CB_Y_SEQ: return "a list";
  default: return "a single value";
  }
}

/* How a node looks in a message: 'text', "quoted text", an empty value, a list... */
static const char *show(const cb_ynode *n, char *buf, size_t cap) {
  if (n->kind != CB_Y_SCALAR) return kind_name(n);
  if (!n->quoted && n->value[0] == '\0') return "an empty value";
  int len = (int)strlen(n->value);
  int shown = len > 60 ? 57 : len;
  snprintf(buf, cap, n->quoted ? "\"%.*s%s\"" : "'%.*s%s'", shown, n->value, shown < len ? "..." : "");
  return buf;
}

static void path_join(char *out, const char *a, const char *b) {
  snprintf(out, PATH_MAX_LEN, "%s.%s", a, b);
}

/* Range bounds as the user would write them: integers for INT fields. */
static const char *fmt_bound(double v, int integer, char *buf, size_t cap) {
  if (integer && fabs(v) < 9.0e18) snprintf(buf, cap, "%lld", (long long)v);
  else snprintf(buf, cap, "%g", v);
  return buf;
}

/* n is a number as written (so bare, short enough to print whole). */
static int out_of_range(binder *b, const cb_ynode *n, const cb_field *f, const char *path, int integer) {
  char lo[40], hi[40];
  return fail_at(b, node_where(n), path, "%.60s is out of range for %s; allowed %s to %s", n->value, path,
                 fmt_bound(f->min, integer, lo, sizeof lo), fmt_bound(f->max, integer, hi, sizeof hi));
}

/* ---- collections as reference targets ----------------------------------------------------- */

typedef struct target {
  const cb_section *sec;
  int count;
} target;

static size_t capacity(const cb_section *s) { return s->max_entries < CB_MAX_ENTRIES ? s->max_entries : CB_MAX_ENTRIES; }

static namelist entries_list(const binder *b, const target *t) {
  namelist l = {b->out + t->sec->offset + t->sec->name_offset, (size_t)t->count, t->sec->entry_size, 1};
  return l;
}

/* The collection a REF, REFLIST or MAP_DOUBLE field points at; it must already be bound. */
static int find_target(binder *b, const cb_field *f, const char *path, target *t) {
  namelist secs = sections_list(b->sc);
  long i = f->target ? nl_find(&secs, f->target) : -1;
  if (i < 0 || !b->sc->sections[i].collection || (size_t)i > b->cur)
    return table_bug(b, path, "its target is not a collection defined before (or in) this section");
  t->sec = &b->sc->sections[i];
  int count;
  memcpy(&count, b->out + t->sec->count_offset, sizeof count);
  if (count < 0) count = 0;
  if ((size_t)count > capacity(t->sec)) count = (int)capacity(t->sec);
  t->count = count;
  return CB_OK;
}

/* Index of the entry named by scalar n, or an error listing the defined entries. */
static int resolve_ref(binder *b, const target *t, const cb_ynode *n, const char *path, int *idx) {
  char shown[96], list[LIST_MAX_LEN], hint[96];
  namelist l = entries_list(b, t);
  long i = n->kind == CB_Y_SCALAR ? nl_find(&l, n->value) : -1;
  if (n->kind != CB_Y_SCALAR)
    return fail_at(b, node_where(n), path, "expected the name of a %s entry, found %s", t->sec->name, kind_name(n));
  if (i < 0)
    return fail_at(b, node_where(n), path, "%s is not one of the defined %s: %s;%s", show(n, shown, sizeof shown),
                   t->sec->name, nl_join(&l, list, sizeof list), name_hint(b, &l, n->value, hint, sizeof hint));
  *idx = (int)i;
  return CB_OK;
}

/* ---- scalar values ----------------------------------------------------------------------- */

static int want_scalar(binder *b, const cb_ynode *n, const char *path, const char *expected) {
  if (n->kind == CB_Y_SCALAR) return CB_OK;
  return fail_at(b, node_where(n), path, "expected %s, found %s; write a single value", expected, kind_name(n));
}

/* Numbers must be written bare: a quoted "5" is text, and silently converting it hides typos. */
static int want_unquoted(binder *b, const cb_ynode *n, const char *path, const char *expected) {
  char shown[96];
  if (!n->quoted) return CB_OK;
  return fail_at(b, node_where(n), path, "expected %s, found the quoted text %s; remove the quotes", expected,
                 show(n, shown, sizeof shown));
}

static int looks_nonfinite(const char *s) {
  if (*s == '+' || *s == '-') s++;
  if (*s == '.') s++;
  if (strcasecmp(s, "nan") == 0 || strcasecmp(s, "inf") == 0 || strcasecmp(s, "infinity") == 0) return 1;
  char *end;
  double v = strtod(s, &end);
  return end != s && *end == '\0' && !isfinite(v);
}

/* A finite number in [min, max] from a scalar node. */
static int read_number(binder *b, const cb_field *f, const cb_ynode *n, const char *path, double *v) {
  char shown[96];
  int rc = want_scalar(b, n, path, "a number");
  if (rc == CB_OK) rc = want_unquoted(b, n, path, "a number");
  if (rc != CB_OK) return rc;
  if (cb_yparse_double(n->value, v) != 0) {
    if (looks_nonfinite(n->value))
      return fail_at(b, node_where(n), path, "%s is not a finite number (NaN and infinity are not allowed); give a finite number",
                     show(n, shown, sizeof shown));
    return fail_at(b, node_where(n), path, "expected a number, found %s; write it like 12, 0.5 or 1e-3", show(n, shown, sizeof shown));
  }
  if (*v < f->min || *v > f->max) return out_of_range(b, n, f, path, 0);
  return CB_OK;
}

static int bind_int(binder *b, const cb_field *f, const cb_ynode *n, unsigned char *dst, const char *path) {
  char shown[96];
  long long v;
  int rc = want_scalar(b, n, path, "an integer");
  if (rc == CB_OK) rc = want_unquoted(b, n, path, "an integer");
  if (rc != CB_OK) return rc;
  if (cb_yparse_int(n->value, &v) != 0)
    return fail_at(b, node_where(n), path, "expected an integer, found %s; write whole numbers like 1500 or 1_500",
                   show(n, shown, sizeof shown));
  if ((double)v < f->min || (double)v > f->max) return out_of_range(b, n, f, path, 1);
  int64_t x = (int64_t)v;
  memcpy(dst, &x, sizeof x);
  return CB_OK;
}

static int bind_double(binder *b, const cb_field *f, const cb_ynode *n, unsigned char *dst, const char *path) {
  double v;
  int rc = read_number(b, f, n, path, &v);
  if (rc == CB_OK) memcpy(dst, &v, sizeof v);
  return rc;
}

static int bind_bool(binder *b, const cb_ynode *n, unsigned char *dst, const char *path) {
  char shown[96];
  int v;
  int rc = want_scalar(b, n, path, "true or false");
  if (rc == CB_OK) rc = want_unquoted(b, n, path, "true or false");
  if (rc != CB_OK) return rc;
  if (cb_yparse_bool(n->value, &v) != 0)
    return fail_at(b, node_where(n), path, "expected true or false (yes/no and on/off also work), found %s", show(n, shown, sizeof shown));
  memcpy(dst, &v, sizeof v);
  return CB_OK;
}

static int bind_date(binder *b, const cb_ynode *n, unsigned char *dst, const char *path) {
  char shown[96];
  int32_t d;
  int rc = want_scalar(b, n, path, "a date YYYY-MM-DD");
  if (rc != CB_OK) return rc;
  if (cb_parse_date(n->value, &d) != 0)
    return fail_at(b, node_where(n), path, "expected a date YYYY-MM-DD (a real calendar day, years 1000-9999), found %s",
                   show(n, shown, sizeof shown));
  memcpy(dst, &d, sizeof d);
  return CB_OK;
}

/* Index of scalar n in names[], or an error listing them. */
static int enum_index(binder *b, const cb_field *f, const cb_ynode *n, const char *path, int *idx) {
  char shown[96], list[LIST_MAX_LEN], hint[96];
  namelist l = enum_list(f->names);
  int rc = want_scalar(b, n, path, "one of the allowed names");
  if (rc != CB_OK) return rc;
  long i = nl_find(&l, n->value);
  if (i < 0)
    return fail_at(b, node_where(n), path, "%s is not one of the allowed values: %s;%s", show(n, shown, sizeof shown),
                   nl_join(&l, list, sizeof list), name_hint(b, &l, n->value, hint, sizeof hint));
  *idx = (int)i;
  return CB_OK;
}

static int bind_enum(binder *b, const cb_field *f, const cb_ynode *n, unsigned char *dst, const char *path) {
  int i;
  int rc = enum_index(b, f, n, path, &i);
  if (rc == CB_OK) memcpy(dst, &i, sizeof i);
  return rc;
}

static int bind_string(binder *b, const cb_ynode *n, unsigned char *dst, const char *path) {
  int rc = want_scalar(b, n, path, "text");
  if (rc != CB_OK) return rc;
  size_t len = strlen(n->value);
  if (len >= CB_STR_MAX)
    return fail_at(b, node_where(n), path, "the text is too long (%zu characters); at most %d are allowed", len, CB_STR_MAX - 1);
  memcpy(dst, n->value, len + 1);
  return CB_OK;
}

/* ---- lists and maps ---------------------------------------------------------------------- */

static int want_list(binder *b, const cb_ynode *n, const char *path, const char *of) {
  if (n->kind == CB_Y_SEQ) return CB_OK;
  char shown[96];
  return fail_at(b, node_where(n), path, "expected a list of %s like [a, b] (or [] for none), found %s", of, show(n, shown, sizeof shown));
}

/* The i-th item repeats an earlier one. */
static int duplicate_item(binder *b, const cb_ynode *list, size_t i, const char *path) {
  char shown[96];
  const cb_ynode *it = list->children[i];
  return fail_at(b, node_where(it), path, "%s is listed twice; list each name once", show(it, shown, sizeof shown));
}

static int bind_flags(binder *b, const cb_field *f, const cb_ynode *n, unsigned char *dst, const char *path) {
  namelist l = enum_list(f->names);
  if (l.n > 32) return table_bug(b, path, "a FLAGS field has more than 32 names");
  int rc = want_list(b, n, path, "names");
  uint32_t mask = 0;
  for (size_t i = 0; rc == CB_OK && i < n->n; i++) {
    int bit;
    rc = enum_index(b, f, n->children[i], path, &bit);
    if (rc == CB_OK && (mask & (UINT32_C(1) << bit))) rc = duplicate_item(b, n, i, path);
    if (rc == CB_OK) mask |= UINT32_C(1) << bit;
  }
  if (rc == CB_OK) memcpy(dst, &mask, sizeof mask);
  return rc;
}

static int bind_ref(binder *b, const cb_field *f, const cb_ynode *n, unsigned char *dst, const char *path) {
  target t;
  int idx;
  int rc = find_target(b, f, path, &t);
  if (rc == CB_OK) rc = resolve_ref(b, &t, n, path, &idx);
  if (rc == CB_OK) memcpy(dst, &idx, sizeof idx);
  return rc;
}

static int bind_reflist(binder *b, const cb_field *f, const cb_ynode *n, unsigned char *dst, const char *path) {
  target t;
  int rc = find_target(b, f, path, &t);
  if (rc == CB_OK) rc = want_list(b, n, path, "names");
  if (rc == CB_OK && n->n > CB_MAX_REFS)
    return fail_at(b, node_where(n->children[CB_MAX_REFS]), path, "too many items (%zu); at most %d are allowed", n->n, CB_MAX_REFS);
  cb_reflist rl;
  memset(&rl, 0, sizeof rl);
  for (size_t i = 0; rc == CB_OK && i < n->n; i++) {
    int idx;
    rc = resolve_ref(b, &t, n->children[i], path, &idx);
    for (int j = 0; rc == CB_OK && j < rl.n; j++)
      if (rl.idx[j] == idx) rc = duplicate_item(b, n, i, path);
    if (rc == CB_OK) rl.idx[rl.n++] = idx;
  }
  if (rc == CB_OK) memcpy(dst, &rl, sizeof rl);
  return rc;
}

static int bind_default(binder *b, const cb_field *f, where at, unsigned char *dst, const char *path);

/* Entries a MAP_DOUBLE mapping left out take the default, or are an error without one. */
static int fill_map_default(binder *b, const cb_field *f, const target *t, const int *given, where at,
                            double *vals, const char *path) {
  namelist l = entries_list(b, t);
  double d = 0;
  int have_default = 0;
  for (int j = 0; j < t->count; j++) {
    if (given[j]) continue;
    if (!f->dflt) {
      char list[LIST_MAX_LEN];
      return fail_at(b, at, path, "no value for '%s'; give a number for every %s entry: %s", nl_get(&l, (size_t)j),
                     t->sec->name, nl_join(&l, list, sizeof list));
    }
    if (!have_default) {
      int rc = bind_default(b, f, at, (unsigned char *)&d, path);
      if (rc != CB_OK) return rc;
      have_default = 1;
    }
    vals[j] = d;
  }
  return CB_OK;
}

static int bind_map_double(binder *b, const cb_field *f, const cb_ynode *n, unsigned char *dst, const char *path) {
  target t;
  int rc = find_target(b, f, path, &t);
  if (rc != CB_OK) return rc;
  if (n->kind != CB_Y_MAP) {
    char shown[96];
    return fail_at(b, node_where(n), path, "expected a mapping from %s names to numbers like {name: 1.5}, found %s",
                   t.sec->name, show(n, shown, sizeof shown));
  }
  double vals[CB_MAX_ENTRIES];
  int given[CB_MAX_ENTRIES] = {0};
  memcpy(vals, dst, sizeof vals);
  for (size_t i = 0; rc == CB_OK && i < n->n; i++) {
    char sub[PATH_MAX_LEN];
    cb_ynode keynode = {.kind = CB_Y_SCALAR, .src = n->children[i]->src, .line = n->key_line[i], .col = n->key_col[i], .value = n->keys[i]};
    int j = 0;
    path_join(sub, path, n->keys[i]);
    rc = resolve_ref(b, &t, &keynode, path, &j);
    if (rc == CB_OK) rc = read_number(b, f, n->children[i], sub, &vals[j]);
    if (rc == CB_OK) given[j] = 1;
  }
  if (rc == CB_OK) rc = fill_map_default(b, f, &t, given, node_where(n), vals, path);
  if (rc == CB_OK) memcpy(dst, vals, sizeof vals);
  return rc;
}

/* A MAP_DOUBLE field not given at all: every entry takes the default. */
static int bind_map_absent(binder *b, const cb_field *f, where at, unsigned char *dst, const char *path) {
  target t;
  int rc = find_target(b, f, path, &t);
  if (rc != CB_OK) return rc;
  double vals[CB_MAX_ENTRIES];
  int given[CB_MAX_ENTRIES] = {0};
  memcpy(vals, dst, sizeof vals);
  rc = fill_map_default(b, f, &t, given, at, vals, path);
  if (rc == CB_OK) memcpy(dst, vals, sizeof vals);
  return rc;
}

/* Stores the value of node n for field f at dst. */
static int bind_value(binder *b, const cb_field *f, const cb_ynode *n, unsigned char *dst, const char *path) {
  switch (f->type) {
  case CB_T_INT: return bind_int(b, f, n, dst, path);
  case CB_T_DOUBLE: return bind_double(b, f, n, dst, path);
  case CB_T_BOOL: return bind_bool(b, n, dst, path);
  case CB_T_DATE: return bind_date(b, n, dst, path);
  case CB_T_ENUM: return bind_enum(b, f, n, dst, path);
  case CB_T_FLAGS: return bind_flags(b, f, n, dst, path);
  case CB_T_STRING: return bind_string(b, n, dst, path);
  case CB_T_REF: return bind_ref(b, f, n, dst, path);
  case CB_T_REFLIST: return bind_reflist(b, f, n, dst, path);
  case CB_T_MAP_DOUBLE: return bind_map_double(b, f, n, dst, path);
  }
  return table_bug(b, path, "unknown field type");
}

/* ---- defaults ---------------------------------------------------------------------------- */

/* Moves every node of a parsed default to the place where the key was missing. */
static void relocate(cb_ynode *n, where at) {
  n->src = at.src;
  n->line = at.line;
  n->col = at.col;
  for (size_t i = 0; i < n->n; i++) {
    if (n->key_line) {
      n->key_line[i] = at.line;
      n->key_col[i] = at.col;
    }
    relocate(n->children[i], at);
  }
}

/* Parses the default text with the same YAML reader as files, then binds it with the same code,
 * so a default is validated exactly like a value the user wrote. MAP_DOUBLE defaults are one
 * number for each entry not given, so they are bound as a number. */
static int bind_default(binder *b, const cb_field *f, where at, unsigned char *dst, const char *path) {
  size_t len = strlen(f->dflt);
  char *text = cb_xmalloc(b->e, len + 4);
  if (!text) return CB_ENOMEM;
  memcpy(text, "v: ", 3);
  memcpy(text + 3, f->dflt, len + 1);
  cb_ytree t;
  cb_err pe;
  cb_err_clear(&pe);
  int rc = cb_ytree_load_string(&t, text, "default", &pe);
  free(text);
  if (rc != CB_OK || t.root->n != 1) {
    cb_ytree_free(&t);
    return rc == CB_ENOMEM ? cb_err_set(b->e, CB_ENOMEM, "%s", pe.msg) : table_bug(b, path, "the default is not valid YAML");
  }
  cb_ynode *v = t.root->children[0];
  relocate(v, at);
  const char *saved = b->dflt;
  b->dflt = f->dflt;
  if (f->type == CB_T_MAP_DOUBLE) {
    double d;
    rc = read_number(b, f, v, path, &d);
    if (rc == CB_OK) memcpy(dst, &d, sizeof d);
  } else {
    rc = bind_value(b, f, v, dst, path);
  }
  b->dflt = saved;
  cb_ytree_free(&t);
  return rc;
}

/* ---- sections and entries ---------------------------------------------------------------- */

/* Treats "name:" with nothing after it as an empty mapping: every key takes its default. */
static int is_null(const cb_ynode *n) {
  return n->kind == CB_Y_SCALAR && !n->quoted && (n->value[0] == '\0' || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0);
}

static int want_map(binder *b, const cb_ynode *n, const char *path, const char *what) {
  char shown[96];
  if (n->kind == CB_Y_MAP || is_null(n)) return CB_OK;
  return fail_at(b, node_where(n), path, "expected %s, found %s; write it as indented 'key: value' lines", what, show(n, shown, sizeof shown));
}

static int check_keys(binder *b, const cb_section *s, const cb_ynode *map, const char *prefix) {
  namelist l = fields_list(s);
  for (size_t i = 0; map->kind == CB_Y_MAP && i < map->n; i++) {
    if (nl_find(&l, map->keys[i]) >= 0) continue;
    char path[PATH_MAX_LEN], list[LIST_MAX_LEN], hint[96];
    path_join(path, prefix, map->keys[i]);
    return fail_at(b, key_where(map, i), path, "unknown key '%s';%s allowed keys in %s: %s", map->keys[i],
                   nl_suggest(&l, map->keys[i], hint, sizeof hint), prefix, nl_join(&l, list, sizeof list));
  }
  return CB_OK;
}

/* Binds every field of a section or entry from node (a mapping, a null, or NULL when the
 * section is absent). at is where missing keys are reported. */
static int bind_fields(binder *b, const cb_section *s, const cb_ynode *node, where at, unsigned char *base, const char *prefix) {
  const cb_ynode *map = node && node->kind == CB_Y_MAP ? node : NULL;
  int rc = map ? check_keys(b, s, map, prefix) : CB_OK;
  for (size_t i = 0; rc == CB_OK && i < s->nfields; i++) {
    const cb_field *f = &s->fields[i];
    const cb_ynode *n = map ? cb_ynode_child(map, f->name, NULL) : NULL;
    char path[PATH_MAX_LEN];
    path_join(path, prefix, f->name);
    if (n) rc = bind_value(b, f, n, base + f->offset, path);
    else if (f->dflt && f->type == CB_T_MAP_DOUBLE) rc = bind_map_absent(b, f, at, base + f->offset, path);
    else if (f->dflt) rc = bind_default(b, f, at, base + f->offset, path);
    else if (node) rc = fail_at(b, at, path, "missing required key '%s' in %s; add '%s: ...' there", f->name, prefix, f->name);
    else rc = fail_at(b, at, path, "missing required key '%s': the section '%s' is absent; add a '%s:' section with '%s: ...'",
                      f->name, s->name, s->name, f->name);
  }
  return rc;
}

static int bind_singleton(binder *b, const cb_section *s, const cb_ynode *n, where root) {
  int rc = n ? want_map(b, n, s->name, "a mapping of keys") : CB_OK;
  if (rc != CB_OK) return rc;
  return bind_fields(b, s, n, n ? node_where(n) : root, b->out + s->offset, s->name);
}

/* Names the entries first so fields may refer to entries of their own collection. */
static int name_entries(binder *b, const cb_section *s, const cb_ynode *map) {
  for (size_t i = 0; i < map->n; i++) {
    const char *name = map->keys[i];
    size_t len = strlen(name);
    char path[PATH_MAX_LEN];
    path_join(path, s->name, name);
    if (len == 0 || strchr(name, '.'))
      return fail_at(b, key_where(map, i), path, "an entry name must be non-empty and contain no '.'; rename it (e.g. with '_')");
    if (len >= CB_NAME_MAX)
      return fail_at(b, key_where(map, i), path, "the entry name is too long (%zu characters); at most %d are allowed", len, CB_NAME_MAX - 1);
    memcpy(b->out + s->offset + i * s->entry_size + s->name_offset, name, len + 1);
  }
  int count = (int)map->n;
  memcpy(b->out + s->count_offset, &count, sizeof count);
  return CB_OK;
}

static int check_entry_count(binder *b, const cb_section *s, const cb_ynode *n, size_t count, where at) {
  if (count > capacity(s))
    return fail_at(b, key_where(n, capacity(s)), s->name, "too many entries (%zu); at most %zu are allowed", count, capacity(s));
  if (count < (size_t)(s->min_entries > 0 ? s->min_entries : 0))
    return fail_at(b, at, s->name, "too few entries (%zu); at least %d %s needed", count, s->min_entries,
                   s->min_entries == 1 ? "is" : "are");
  return CB_OK;
}

static int bind_collection(binder *b, const cb_section *s, const cb_ynode *n, where root) {
  int zero = 0;
  memcpy(b->out + s->count_offset, &zero, sizeof zero);
  int rc = n ? want_map(b, n, s->name, "a mapping of named entries") : CB_OK;
  if (rc != CB_OK) return rc;
  const cb_ynode *map = n && n->kind == CB_Y_MAP ? n : NULL;
  if (!n && s->min_entries > 0)
    return fail_at(b, root, s->name, "missing section '%s', which needs at least %d %s; add a '%s:' section", s->name,
                   s->min_entries, s->min_entries == 1 ? "entry" : "entries", s->name);
  rc = check_entry_count(b, s, map, map ? map->n : 0, n ? node_where(n) : root);
  if (rc == CB_OK && map) rc = name_entries(b, s, map);
  for (size_t i = 0; rc == CB_OK && map && i < map->n; i++) {
    char prefix[PATH_MAX_LEN];
    const cb_ynode *entry = map->children[i];
    path_join(prefix, s->name, map->keys[i]);
    rc = want_map(b, entry, prefix, "a mapping of keys");
    if (rc == CB_OK)
      rc = bind_fields(b, s, entry, node_where(entry), b->out + s->offset + i * s->entry_size, prefix);
  }
  return rc;
}

static int check_sections(binder *b, const cb_ynode *root) {
  namelist l = sections_list(b->sc);
  for (size_t i = 0; i < root->n; i++) {
    if (nl_find(&l, root->keys[i]) >= 0) continue;
    char list[LIST_MAX_LEN], hint[96];
    return fail_at(b, key_where(root, i), root->keys[i], "unknown section '%s';%s allowed sections: %s", root->keys[i],
                   nl_suggest(&l, root->keys[i], hint, sizeof hint), nl_join(&l, list, sizeof list));
  }
  return CB_OK;
}

int cb_schema_bind(const cb_schema *sc, const cb_ytree *t, void *out, cb_err *e) {
  if (!sc || !t || !t->root || t->root->kind != CB_Y_MAP || !out)
    return cb_err_set(e, CB_EMISUSE, "cb_schema_bind needs a schema, a loaded YAML tree and an output object");
  binder b = {sc, out, e, 0, NULL};
  const cb_ynode *root = t->root;
  where top = {root->src, 1, 1};
  int rc = check_sections(&b, root);
  for (size_t i = 0; rc == CB_OK && i < sc->nsections; i++) {
    const cb_section *s = &sc->sections[i];
    const cb_ynode *n = cb_ynode_child(root, s->name, NULL);
    b.cur = i;
    if (!n && s->required)
      rc = fail_at(&b, top, s->name, "missing required section '%s'; add a '%s:' section to the file", s->name, s->name);
    else if (s->collection) rc = bind_collection(&b, s, n, top);
    else rc = bind_singleton(&b, s, n, top);
  }
  return rc;
}

/* ---- lookup ------------------------------------------------------------------------------ */

/* Splits dotted into at most 4 segments; returns their number, or 0 if any is empty. */
static int split_path(const char *dotted, const char *seg[4], size_t len[4]) {
  int n = 0;
  for (const char *s = dotted;; s++) {
    const char *dot = strchr(s, '.');
    size_t l = dot ? (size_t)(dot - s) : strlen(s);
    if (l == 0 || n == 4) return 0;
    seg[n] = s;
    len[n++] = l;
    if (!dot) return n;
    s = dot;
  }
}

static int seg_is(const char *seg, size_t len, const char *name) { return strlen(name) == len && memcmp(seg, name, len) == 0; }

static const cb_field *field_named(const cb_section *s, const char *seg, size_t len) {
  for (size_t i = 0; i < s->nfields; i++)
    if (seg_is(seg, len, s->fields[i].name)) return &s->fields[i];
  return NULL;
}

/* A MAP_DOUBLE field may also be named with one of its keys appended ("....price_usd.japan"). */
const cb_field *cb_schema_find(const cb_schema *sc, const char *dotted, const cb_section **sec) {
  const char *seg[4];
  size_t len[4];
  int n = sc && dotted ? split_path(dotted, seg, len) : 0;
  for (size_t i = 0; n >= 2 && i < sc->nsections; i++) {
    const cb_section *s = &sc->sections[i];
    if (!seg_is(seg[0], len[0], s->name)) continue;
    int fi = s->collection ? 2 : 1;
    if (n <= fi) return NULL;
    const cb_field *f = field_named(s, seg[fi], len[fi]);
    if (!f || (n > fi + 1 && (n > fi + 2 || f->type != CB_T_MAP_DOUBLE))) return NULL;
    if (sec) *sec = s;
    return f;
  }
  return NULL;
}

/* ---- Markdown reference ------------------------------------------------------------------ */

/* Writes text as one table cell: pipes escaped, line breaks flattened. */
static void md_cell(FILE *f, const char *text) {
  fputs("| ", f);
  for (const char *p = text ? text : ""; *p; p++) {
    if (*p == '|') fputs("\\|", f);
    else if (*p == '\n') fputc(' ', f);
    else fputc(*p, f);
  }
  fputc(' ', f);
}

static const char *md_type(const cb_field *fd, char *buf, size_t cap) {
  char list[LIST_MAX_LEN];
  namelist l = enum_list(fd->names);
  const char *tname = fd->target ? fd->target : "?";
  switch (fd->type) {
  case CB_T_INT: return "integer";
  case CB_T_DOUBLE: return "number";
  case CB_T_BOOL: return "true/false";
  case CB_T_DATE: return "date (YYYY-MM-DD)";
  case CB_T_ENUM: snprintf(buf, cap, "one of: %s", nl_join(&l, list, sizeof list)); return buf;
  case CB_T_FLAGS: snprintf(buf, cap, "list of: %s", nl_join(&l, list, sizeof list)); return buf;
  case CB_T_STRING: return "text";
  case CB_T_REF: snprintf(buf, cap, "name of a `%s` entry", tname); return buf;
  case CB_T_REFLIST: snprintf(buf, cap, "list of `%s` names", tname); return buf;
  case CB_T_MAP_DOUBLE: snprintf(buf, cap, "number per `%s` entry ({name: number})", tname); return buf;
  }
  return "";
}

static const char *md_range(const cb_field *fd, char *buf, size_t cap) {
  char lo[40], hi[40];
  int integer = fd->type == CB_T_INT;
  buf[0] = '\0';
  if (integer || fd->type == CB_T_DOUBLE || fd->type == CB_T_MAP_DOUBLE)
    snprintf(buf, cap, "%s to %s", fmt_bound(fd->min, integer, lo, sizeof lo), fmt_bound(fd->max, integer, hi, sizeof hi));
  else if (fd->type == CB_T_STRING)
    snprintf(buf, cap, "at most %d characters", CB_STR_MAX - 1);
  else if (fd->type == CB_T_REFLIST)
    snprintf(buf, cap, "at most %d items, no repeats", CB_MAX_REFS);
  return buf;
}

static const char *md_default(const cb_field *fd, char *buf, size_t cap) {
  if (!fd->dflt) return fd->type == CB_T_MAP_DOUBLE ? "required for every entry" : "required";
  if (fd->type == CB_T_MAP_DOUBLE) snprintf(buf, cap, "`%s` for each entry not given", fd->dflt);
  else snprintf(buf, cap, "`%s`", fd->dflt);
  return buf;
}

static void md_field(FILE *f, const cb_section *s, const cb_field *fd) {
  char key[PATH_MAX_LEN], type[LIST_MAX_LEN + 32], range[128], dflt[PATH_MAX_LEN];
  if (s->collection) snprintf(key, sizeof key, "`<name>.%s`", fd->name);
  else snprintf(key, sizeof key, "`%s`", fd->name);
  md_cell(f, key);
  md_cell(f, md_type(fd, type, sizeof type));
  md_cell(f, md_range(fd, range, sizeof range));
  md_cell(f, md_default(fd, dflt, sizeof dflt));
  md_cell(f, fd->unit);
  md_cell(f, fd->doc);
  fputs("|\n", f);
}

static void md_section(FILE *f, const cb_section *s) {
  fprintf(f, "## %s\n\n", s->name);
  if (s->doc) fprintf(f, "%s\n\n", s->doc);
  if (s->collection)
    fprintf(f, "A mapping of named entries (%d to %zu), each `<name>:` followed by the keys below.%s\n\n",
            s->min_entries > 0 ? s->min_entries : 0, capacity(s), s->required ? " Required." : "");
  else if (s->required)
    fputs("Required section.\n\n", f);
  fputs("| key | type | range | default | unit | meaning |\n|---|---|---|---|---|---|\n", f);
  for (size_t i = 0; i < s->nfields; i++) md_field(f, s, &s->fields[i]);
  fputc('\n', f);
}

int cb_schema_write_markdown(const cb_schema *sc, FILE *f) {
  for (size_t i = 0; i < sc->nsections; i++) md_section(f, &sc->sections[i]);
  return ferror(f) ? CB_EIO : CB_OK;
}

/* ---- the values in effect, for reports ---- */

/* A node as YAML flow text: scalars as written, lists as [a, b], mappings as {k: v}. */
static void flow_text(const cb_ynode *n, char *buf, size_t cap) {
  if (n->kind == CB_Y_SCALAR) {
    buf_add(buf, cap, n->value);
    return;
  }
  buf_add(buf, cap, n->kind == CB_Y_SEQ ? "[" : "{");
  for (size_t i = 0; i < n->n; i++) {
    if (i) buf_add(buf, cap, ", ");
    if (n->kind == CB_Y_MAP) {
      buf_add(buf, cap, n->keys[i]);
      buf_add(buf, cap, ": ");
    }
    flow_text(n->children[i], buf, cap);
  }
  buf_add(buf, cap, n->kind == CB_Y_SEQ ? "]" : "}");
}

static int visit_fields(const cb_section *s, const cb_ynode *map, const char *prefix, cb_schema_value_fn fn, void *ctx) {
  for (size_t i = 0; i < s->nfields; i++) {
    const cb_field *fd = &s->fields[i];
    const cb_ynode *n = map ? cb_ynode_child(map, fd->name, NULL) : NULL;
    if (!n && !fd->dflt) continue; /* a required key a bound scenario always has; nothing to show */
    char key[PATH_MAX_LEN], text[LIST_MAX_LEN] = "";
    snprintf(key, sizeof key, "%s.%s", prefix, fd->name);
    if (n) flow_text(n, text, sizeof text);
    else buf_add(text, sizeof text, fd->dflt);
    int rc = fn(ctx, key, text, !n, fd);
    if (rc) return rc;
  }
  return 0;
}

int cb_schema_each_value(const cb_schema *sc, const cb_ytree *t, cb_schema_value_fn fn, void *ctx) {
  for (size_t i = 0; i < sc->nsections; i++) {
    const cb_section *s = &sc->sections[i];
    const cb_ynode *sec = t->root ? cb_ynode_child(t->root, s->name, NULL) : NULL;
    int rc = 0;
    if (!s->collection) rc = visit_fields(s, sec && sec->kind == CB_Y_MAP ? sec : NULL, s->name, fn, ctx);
    else if (sec && sec->kind == CB_Y_MAP)
      for (size_t k = 0; k < sec->n && !rc; k++) {
        char prefix[PATH_MAX_LEN];
        snprintf(prefix, sizeof prefix, "%s.%s", s->name, sec->keys[k]);
        rc = visit_fields(s, sec->children[k]->kind == CB_Y_MAP ? sec->children[k] : NULL, prefix, fn, ctx);
      }
    if (rc) return rc;
  }
  return 0;
}
