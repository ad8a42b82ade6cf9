/* The parameter table machinery: field descriptors that say, once, each scenario key's name, type,
 * storage, range, default, unit and meaning. One table drives parsing, validation, --set overrides
 * and the generated parameter reference (Redis's config table, REBOUND's field descriptors).
 * The model's own table lives in io/scenario.c; this file knows nothing about the model. */
#ifndef CB_IO_SCHEMA_H
#define CB_IO_SCHEMA_H

#include <stdint.h>
#include <stdio.h>

#include "engine/err.h"
#include "io/ytree.h"

#define CB_NAME_MAX 48      /* names of collection entries (hubs, categories, ...) */
#define CB_STR_MAX 256      /* string fields (file paths) */
#define CB_MAX_REFS 16      /* entries in a reference list */
#define CB_MAX_ENTRIES 32   /* entries in any collection; MAP_DOUBLE arrays have this length */

typedef enum {
  CB_T_INT,        /* int64_t; YAML integer; range [min, max] */
  CB_T_DOUBLE,     /* double; YAML number (integers accepted); finite; range [min, max] */
  CB_T_BOOL,       /* int 0/1 */
  CB_T_DATE,       /* int32_t days since 1970-01-01; text YYYY-MM-DD, a real calendar date */
  CB_T_ENUM,       /* int index into names[] */
  CB_T_FLAGS,      /* uint32_t bitmask over names[]; YAML sequence of names (may be empty) */
  CB_T_STRING,     /* char[CB_STR_MAX]; any scalar shorter than that */
  CB_T_REF,        /* int index of an entry of collection `target` */
  CB_T_REFLIST,    /* cb_reflist; YAML sequence of entry names of `target`, no duplicates */
  CB_T_MAP_DOUBLE  /* double[CB_MAX_ENTRIES] indexed like collection `target`; YAML mapping from
                      entry names to numbers in [min, max]; entries not given take dflt (if dflt is
                      NULL every entry of target must be given) */
} cb_ftype;

typedef struct cb_reflist {
  int n;
  int idx[CB_MAX_REFS];
} cb_reflist;

typedef struct cb_field {
  const char *name;
  cb_ftype type;
  size_t offset;            /* offset of the storage inside the section struct or entry struct */
  double min, max;          /* inclusive range for INT, DOUBLE, MAP_DOUBLE values */
  const char *dflt;         /* default, written as YAML text; NULL = required */
  const char *const *names; /* ENUM, FLAGS: NULL-terminated allowed names */
  const char *target;       /* REF, REFLIST, MAP_DOUBLE: the referenced collection's section name */
  const char *unit;         /* for the docs: "USD", "days", "share", ... (may be NULL) */
  const char *doc;          /* one line: what the parameter means */
} cb_field;

typedef struct cb_section {
  const char *name;         /* top-level key in the scenario */
  const char *doc;
  const cb_field *fields;
  size_t nfields;
  size_t offset;            /* singleton: offset of its struct in the output object;
                               collection: offset of the entry array */
  int collection;           /* 0: a mapping of fields; 1: a mapping of named entries, each a mapping of fields */
  int required;             /* the section must appear (singletons whose fields all have defaults may be omitted) */
  size_t entry_size;        /* collection: sizeof one entry */
  size_t max_entries;       /* collection: capacity (<= CB_MAX_ENTRIES) */
  int min_entries;          /* collection: fewest entries allowed */
  size_t count_offset;      /* collection: offset of its int entry count in the output object */
  size_t name_offset;       /* collection: offset of char name[CB_NAME_MAX] inside an entry */
} cb_section;

typedef struct cb_schema {
  const cb_section *sections;
  size_t nsections;
} cb_schema;

/* Binds the tree into `out` (the caller zeroes it first). Sections are bound in table order, so a
 * collection must come before any section that references it. Every error names
 * "src:line:col: section.entry.field: what is wrong; what is allowed" and returns CB_ESCHEMA:
 * unknown keys (with a did-you-mean suggestion), wrong node kinds, wrong scalar types, values out
 * of range, NaN/infinity, invalid dates, unknown enum names or references (listing the allowed
 * ones), duplicate list items, missing required keys/sections, too many or too few entries,
 * entry names longer than CB_NAME_MAX-1. Defaults are applied to every field not given. */
int cb_schema_bind(const cb_schema *sc, const cb_ytree *t, void *out, cb_err *e);

/* Finds a field by dotted path ("population.buyers" or "categories.laptops.bulk" — for
 * collections the middle segment is any entry name). Returns NULL if there is no such key. */
const cb_field *cb_schema_find(const cb_schema *sc, const char *dotted, const cb_section **sec);

/* The parameter reference as Markdown: a table per section with key, type, range, default, unit
 * and meaning. */
int cb_schema_write_markdown(const cb_schema *sc, FILE *f);

/* Every parameter in effect in a tree that binds: fn(ctx, "section[.entry].key", value as YAML
 * flow text, 1 if it is the default, its field) in table order, entries in file order. Stops at
 * the first non-zero return of fn and returns it. */
typedef int (*cb_schema_value_fn)(void *ctx, const char *key, const char *value, int is_default, const cb_field *f);
int cb_schema_each_value(const cb_schema *sc, const cb_ytree *t, cb_schema_value_fn fn, void *ctx);

#endif
