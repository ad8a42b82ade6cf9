/* Civil dates as day numbers (days since 1970-01-01, proleptic Gregorian), so the simulation
 * clock is one integer and dates in scenarios, series and outputs convert exactly. */
#ifndef CB_ENGINE_CALENDAR_H
#define CB_ENGINE_CALENDAR_H

#include <stdint.h>

int32_t cb_days_from_civil(int y, int m, int d);
void cb_civil_from_days(int32_t z, int *y, int *m, int *d);
/* Strict YYYY-MM-DD with a real calendar date (years 1000-9999); 0 on success, -1 otherwise. */
int cb_parse_date(const char *s, int32_t *out);
/* Writes YYYY-MM-DD and a NUL into buf (11 bytes). */
void cb_format_date(int32_t z, char buf[11]);

#endif
