/* Error state shared by every layer: a code plus a message that says what is wrong, where, and how
 * to fix it (SQLite's errcode/errmsg). Nothing in the library prints or exits; callers read this. */
#ifndef CB_ENGINE_ERR_H
#define CB_ENGINE_ERR_H

#include <stddef.h>
#include <stdint.h>

#include "contraband.h"

#define CB_ERRMSG_MAX 2048

typedef struct cb_err {
  int code;                  /* CB_OK or one of the CB_E* codes in contraband.h */
  char msg[CB_ERRMSG_MAX];
} cb_err;

/* Sets code and a printf-style message; returns code so callers can `return cb_err_set(...)`.
 * Does not overwrite an error already set (the first cause is the useful one) unless force. */
int cb_err_set(cb_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes the current message with more context, e.g. the file being read. */
void cb_err_prefix(cb_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cb_err_clear(cb_err *e);

/* Allocation wrappers that report failure through e (which may be NULL) instead of aborting. Every
 * allocation contraband makes itself goes through them. */
void *cb_xmalloc(cb_err *e, size_t n);
void *cb_xcalloc(cb_err *e, size_t count, size_t size);
void *cb_xrealloc(cb_err *e, void *p, size_t n);
char *cb_xstrdup(cb_err *e, const char *s);
/* n bytes aligned to align (a power of two), uninitialised. */
void *cb_xaligned(cb_err *e, size_t align, size_t n);
/* Tests only: make the n-th allocation from now fail (0 disarms); allocations made so far. */
void cb_alloc_fail_at(long n);
long cb_alloc_count(void);
/* Room for one more element in a growable array holding n of *cap: returns the (possibly moved)
 * array, growing *cap by doubling from `first`, or NULL (array untouched) if memory ran out. */
void *cb_xgrow_slow(cb_err *e, void *items, uint32_t *cap, uint32_t n, size_t elem, uint32_t first);
/* An array indexed by position that must reach index i: grows (zero-filling the new part, with room
 * to spare) so that i < *cap; returns the possibly moved array, or NULL (untouched) if memory ran out. */
void *cb_xcover(cb_err *e, void *items, uint32_t *cap, uint32_t i, size_t elem);
/* The check inline, the growing out of line: most calls find room (they sit on hot paths). */
static inline void *cb_xgrow(cb_err *e, void *items, uint32_t *cap, uint32_t n, size_t elem, uint32_t first) {
  return n < *cap ? items : cb_xgrow_slow(e, items, cap, n, elem, first);
}

#endif
