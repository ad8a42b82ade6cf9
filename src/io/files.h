/* File output that never leaves anything half-written: every file goes to a temporary name in the
 * same directory, is flushed and fsync'ed, then renamed over the target (Redis's approach), so a
 * crash or a full disk leaves either the previous complete file or the new complete one. */
#ifndef CB_IO_FILES_H
#define CB_IO_FILES_H

#include <stdint.h>
#include <nettle/sha2.h>
#include <stdio.h>

#include "engine/err.h"

/* Callback that writes the content; returns 0 on success, non-zero on failure (it may set e). */
typedef int (*cb_writer_fn)(FILE *f, void *ctx, cb_err *e);

/* Writes path atomically via writer. On any failure (open, write, flush, fsync, rename — a full
 * disk included) the temporary file is removed, the previous file at path is untouched, and
 * CB_EIO is returned with a message naming the path and the system error. */
int cb_atomic_write(const char *path, cb_writer_fn writer, void *ctx, cb_err *e);
/* Files that belong together, written the same way: all temporary copies are complete and synced
 * before the first is renamed, so a failure while writing keeps every previous file. */
#define CB_MAX_OUTPUTS 8
typedef struct cb_output {
  const char *path;
  cb_writer_fn writer;
  void *ctx;
} cb_output;
int cb_atomic_write_all(const cb_output *outs, int n, cb_err *e);
/* The same into folder dir, made with its parents if missing: each outs[i].path is a name in dir. */
int cb_atomic_write_in(const char *dir, const cb_output *outs, int n, cb_err *e);
/* Creates a directory and its parents (like mkdir -p); CB_EIO with the path on failure. */
int cb_mkdir_p(const char *dir, cb_err *e);
/* SHA-256 of a file's bytes as 64 lowercase hex digits (nettle). CB_EIO if unreadable. */
int cb_sha256_file(const char *path, char hex[65], cb_err *e);
void cb_sha256_bytes(const void *data, size_t n, char hex[65]);
/* Finishes a SHA-256 fed piece by piece (nettle's sha256_update) as 64 lowercase hex digits. */
void cb_sha256_hex(struct sha256_ctx *ctx, char hex[65]);
/* Reads a whole file into a malloc'd buffer, followed by a NUL byte not counted in *len (so text
 * can be parsed in place); CB_EIO naming the path if it cannot. */
int cb_read_whole(const char *path, uint8_t **out, size_t *len, cb_err *e);
/* Directory part of a path ("a/b/c.yaml" -> "a/b", "c.yaml" -> "."), into out of size n. */
void cb_dirname(const char *path, char *out, size_t n);

#endif
