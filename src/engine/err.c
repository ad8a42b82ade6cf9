/* Error state and allocation wrappers: one place where failures become codes and messages. */
#include "engine/err.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/text.h"

/* A message echoes paths and values from outside; none of their control characters (an escape
 * sequence in a file name, a line break in a value) reaches whoever prints it (engine/text.h). */
static void make_printable(char *msg) {
  const unsigned char *p = (const unsigned char *)msg;
  while (*p && *p >= 0x20 && *p < 0x7F) p++;
  if (!*p) return; /* plain ASCII, the usual case */
  char raw[CB_ERRMSG_MAX];
  memcpy(raw, msg, CB_ERRMSG_MAX);
  cb_text_printable(msg, CB_ERRMSG_MAX, raw);
}

int cb_err_set(cb_err *e, int code, const char *fmt, ...) {
  if (!e || e->code != CB_OK) return e ? e->code : code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  make_printable(e->msg);
  e->code = code;
  return code;
}

void cb_err_prefix(cb_err *e, const char *fmt, ...) {
  if (!e) return;
  char head[CB_ERRMSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(head, sizeof head, fmt, ap);
  va_end(ap);
  size_t h = strlen(head), t = strlen(e->msg);
  if (h >= sizeof e->msg) h = sizeof e->msg - 1;
  if (h + t >= sizeof e->msg) t = sizeof e->msg - 1 - h;
  memmove(e->msg + h, e->msg, t);
  memcpy(e->msg, head, h);
  e->msg[h + t] = '\0';
  make_printable(e->msg);
}

void cb_err_clear(cb_err *e) {
  e->code = CB_OK;
  e->msg[0] = '\0';
}

/* Fault injection, for the tests that prove every allocation failure is handled: when armed with
 * n > 0, the n-th allocation from then on fails, once. One relaxed atomic per allocation. */
static _Atomic long alloc_countdown, alloc_calls;

void cb_alloc_fail_at(long n) { atomic_store(&alloc_countdown, n); }
long cb_alloc_count(void) { return atomic_load(&alloc_calls); }

static int injected_failure(void) {
  atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
  if (atomic_load_explicit(&alloc_countdown, memory_order_relaxed) <= 0) return 0;
  return atomic_fetch_sub(&alloc_countdown, 1) == 1;
}

void *cb_xmalloc(cb_err *e, size_t n) {
  void *p = injected_failure() ? NULL : malloc(n ? n : 1);
  if (!p) cb_err_set(e, CB_ENOMEM, "out of memory allocating %zu bytes; reduce the population sizes or free memory", n);
  return p;
}

void *cb_xcalloc(cb_err *e, size_t count, size_t size) {
  void *p = injected_failure() ? NULL : calloc(count ? count : 1, size ? size : 1);
  if (!p) cb_err_set(e, CB_ENOMEM, "out of memory allocating %zu x %zu bytes; reduce the population sizes or free memory", count, size);
  return p;
}

void *cb_xrealloc(cb_err *e, void *p, size_t n) {
  void *q = injected_failure() ? NULL : realloc(p, n ? n : 1);
  if (!q) cb_err_set(e, CB_ENOMEM, "out of memory growing a buffer to %zu bytes; reduce the population sizes or free memory", n);
  return q;
}

void *cb_xaligned(cb_err *e, size_t align, size_t n) {
  size_t bytes = (n + align - 1) / align * align;
  void *p = injected_failure() ? NULL : aligned_alloc(align, bytes ? bytes : align);
  if (!p) cb_err_set(e, CB_ENOMEM, "out of memory allocating %zu bytes; reduce the population sizes or free memory", n);
  return p;
}

char *cb_xstrdup(cb_err *e, const char *s) {
  size_t n = strlen(s) + 1;
  char *p = cb_xmalloc(e, n);
  if (p) memcpy(p, s, n);
  return p;
}

void *cb_xcover(cb_err *e, void *items, uint32_t *cap, uint32_t i, size_t elem) {
  if (i < *cap) return items;
  uint32_t n = i + 1024;
  unsigned char *a = cb_xrealloc(e, items, (size_t)n * elem);
  if (!a) return NULL;
  memset(a + (size_t)*cap * elem, 0, (size_t)(n - *cap) * elem);
  *cap = n;
  return a;
}

void *cb_xgrow_slow(cb_err *e, void *items, uint32_t *cap, uint32_t n, size_t elem, uint32_t first) {
  if (n < *cap) return items;
  uint32_t c = *cap ? *cap * 2 : first;
  void *p = cb_xrealloc(e, items, (size_t)c * elem);
  if (p) *cap = c;
  return p;
}
