/* Exogenous time series read from CSV (long format: entity,time,value), e.g. the Daily NK market
 * exchange rate per city. The model asks for a value per entity per simulated day; between survey
 * dates values are interpolated linearly, before the first and after the last they are held. */
#ifndef CB_IO_SERIES_H
#define CB_IO_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

typedef struct cb_series_entity {
  char name[48];
  size_t n;
  int32_t *day;        /* days since 1970-01-01, strictly increasing */
  double *value;       /* finite, > 0 */
} cb_series_entity;

typedef struct cb_series {
  size_t n;
  cb_series_entity *ent;
} cb_series;

/* Reads a CSV whose header is exactly "entity,time,value" (a trailing \r on lines is allowed).
 * time is YYYY-MM-DD; value a finite number > 0. Rows of one entity may be interleaved with
 * others' but must be in increasing date order with no repeated date. Every error names
 * "path:line:column: what is wrong; what to do" (CB_EIO if unreadable, CB_EPARSE otherwise),
 * and an empty file or one without data rows is an error. */
int cb_series_load(cb_series *s, const char *path, cb_err *e);
/* The same reader on text in memory (len bytes, NULs included, no terminator needed); name stands
 * for the path in messages. cb_series_load reads the file and parses it exactly so. */
int cb_series_parse(cb_series *s, const char *text, size_t len, const char *name, cb_err *e);
void cb_series_free(cb_series *s);
/* Index of an entity by name, or -1. */
int cb_series_find(const cb_series *s, const char *entity);
/* Value on a day: linear interpolation between surveys, held flat outside the surveyed range. */
double cb_series_at(const cb_series *s, int entity, int32_t day);

#endif
