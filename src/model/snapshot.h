/* Snapshots in memory (see snapshot.c): what saving and restoring files is built on, and what a
 * forked comparison uses to continue scenario B from scenario A's state without touching disk. */
#ifndef CB_MODEL_SNAPSHOT_H
#define CB_MODEL_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "contraband.h"

/* The state of S between two days as a malloc'd buffer in the snapshot file format. */
int cb_snapshot_to_buffer(cb_sim *S, uint8_t **out, size_t *len);
/* Restores S (initialised, not yet stepped) from a snapshot buffer; name is used in messages. */
int cb_snapshot_from_buffer(cb_sim *S, const uint8_t *buf, size_t len, const char *name);
/* CB_OK if a run of S can be forked on day (YYYY-MM-DD): after its first day, not after its last. */
int cb_snapshot_check_fork_day(cb_sim *S, const char *day);

#endif
