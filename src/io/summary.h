/* summary.json: the run's identity (version, scenario file and its SHA-256, seed, dates, wall
 * time) and its totals, for people and for tools that index many runs. */
#ifndef CB_IO_SUMMARY_H
#define CB_IO_SUMMARY_H

#include <stdio.h>

#include "model/world.h"

/* Writes summary.json; metrics_sha256 (or NULL) is the SHA-256 of the metrics.csv written with it. */
int cb_summary_write_json(cb_sim *S, const char *metrics_sha256, FILE *f, cb_err *e);
/* Share of foreign (disguisable) electronics delivered through crossing i; -1 if none yet. */
double cb_summary_route_share(const cb_sim *S, int crossing);
/* Units ordered over the run of every kind in price tier `tier` (categories.<k>.tier). */
double cb_summary_tier_units(const cb_sim *S, const char *tier);
/* The first category of the i-th distinct price tier, in scenario order; -1 past the last tier. */
int cb_summary_tier_category(const cb_sim *S, int i);
/* Writes s as a JSON string literal that any JSON reader takes: quotes and backslashes escaped,
 * control characters (C0, DEL, C1) as \uXXXX, bytes that are not valid UTF-8 as \ufffd. */
void cb_json_string(FILE *f, const char *s);
/* Calls fn for each of the run's totals, by name, in summary.json's order. */
void cb_summary_each_total(const cb_totals *t, void (*fn)(void *ctx, const char *name, double value), void *ctx);

#endif
