/* File-system helpers for everything the simulator writes: atomic replacement of output files and
 * snapshots (a crash or a full disk must never leave a half-written file where a good one was),
 * directory creation, and the SHA-256 fingerprints that tie outputs to their exact inputs. */
#include "io/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Temporary names must stay under NAME_MAX (255) even for long targets, so only this much of
 * the target's name goes into them; the pid keeps them distinct. */
#define TMP_BASE_MAX 200

static int io_fail(cb_err *e, const char *path, const char *doing, int err, const char *advice) {
  return cb_err_set(e, CB_EIO, "%s: %s: %s; %s", path, doing, strerror(err), advice);
}

void cb_dirname(const char *path, char *out, size_t n) {
  if (n == 0) return;
  size_t len = strlen(path);
  while (len > 1 && path[len - 1] == '/') len--; /* "a/b/" names b, like POSIX dirname */
  while (len > 0 && path[len - 1] != '/') len--; /* drop the last component */
  if (len == 0) {
    snprintf(out, n, "%s", path[0] == '/' ? "/" : ".");
    return;
  }
  while (len > 1 && path[len - 1] == '/') len--; /* "a//b" -> "a", but "/b" -> "/" */
  snprintf(out, n, "%.*s", (int)len, path);
}

/* ---- atomic write ---------------------------------------------------------------------- */

/* "dir/.name.tmp.pid" next to the target: the same file system, so rename is atomic. */
static char *temp_path_for(const char *path, cb_err *e) {
  const char *slash = strrchr(path, '/');
  size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
  const char *base = path + dirlen;
  size_t baselen = strlen(base);
  if (baselen > TMP_BASE_MAX) baselen = TMP_BASE_MAX;
  size_t n = dirlen + 1 + baselen + 32;
  char *tmp = cb_xmalloc(e, n);
  if (tmp)
    snprintf(tmp, n, "%.*s.%.*s.tmp.%ld", (int)dirlen, path, (int)baselen, base, (long)getpid());
  return tmp;
}

static FILE *open_temp(const char *tmp) {
  /* O_CLOEXEC: a child process started by the embedding program must not inherit the file. */
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return NULL;
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    int err = errno;
    close(fd);
    errno = err;
  }
  return f;
}

/* The writer's failure: keep its own message if it gave one, otherwise explain it from the
 * stream's state (most writers just stop when fprintf fails). errno is trusted only when the
 * stream says a write failed; otherwise it may be left over from unrelated work in the writer. */
static int writer_failed(cb_err *e, const char *path, FILE *f, int err) {
  if (e && e->code != CB_OK) return e->code;
  if (ferror(f))
    return io_fail(e, path, "write failed", err ? err : EIO, "check free disk space and permissions");
  return cb_err_set(e, CB_EIO, "%s: the content could not be produced, so the previous file was kept; "
                    "see earlier messages for the cause", path);
}

/* Everything the writer put in the stdio buffer reaches the disk, or we learn why not. A writer
 * that ignored a failed fprintf leaves only the stream's error flag; then the errno seen after
 * the writer (earlier_err) is the best explanation left. */
static int flush_and_sync(FILE *f, const char *path, int earlier_err, cb_err *e) {
  errno = 0;
  if (fflush(f) != 0 || ferror(f)) {
    int err = errno ? errno : earlier_err ? earlier_err : EIO;
    return io_fail(e, path, "write failed", err, "check free disk space and permissions");
  }
  if (fsync(fileno(f)) != 0)
    return io_fail(e, path, "fsync failed", errno, "check free disk space and the storage device");
  return CB_OK;
}

/* Makes the rename itself durable. File systems that cannot sync a directory say EINVAL; on
 * those the rename is as durable as it will get, so that is not an error. */
static int sync_dir(const char *path, cb_err *e) {
  size_t n = strlen(path) + 2;
  char *dir = cb_xmalloc(e, n);
  if (!dir) return e ? e->code : CB_ENOMEM;
  cb_dirname(path, dir, n);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(dir);
  if (fd < 0)
    return io_fail(e, path, "written, but its directory could not be opened to sync it", errno,
                   "check the directory's permissions");
  int rc = fsync(fd) == 0 || errno == EINVAL ? 0 : errno;
  close(fd);
  if (rc != 0)
    return io_fail(e, path, "written, but its directory could not be synced", rc,
                   "check the storage device");
  return CB_OK;
}

/* Writes and closes the temporary file; on failure it is closed but still on disk. */
static int fill_temp(FILE *f, const char *path, cb_writer_fn writer, void *ctx, cb_err *e) {
  errno = 0;
  int rc = writer(f, ctx, e);
  int err = errno;
  if (rc != 0) rc = writer_failed(e, path, f, err);
  if (rc == CB_OK) rc = flush_and_sync(f, path, err, e);
  errno = 0;
  if (fclose(f) != 0 && rc == CB_OK)
    rc = io_fail(e, path, "closing failed", errno ? errno : EIO, "check free disk space");
  return rc;
}

/* A process killed while writing leaves its temporary copy ".NAME.tmp.PID" behind (never a
 * half-written NAME). The next write of NAME removes such copies whose process is gone. */
static void remove_stale_temps(const char *path) {
  char dir[4096];
  cb_dirname(path, dir, sizeof dir);
  const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
  char prefix[TMP_BASE_MAX + 8];
  snprintf(prefix, sizeof prefix, ".%.*s.tmp.", TMP_BASE_MAX, base);
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *ent;
  while ((ent = readdir(d)) != NULL) {
    if (strncmp(ent->d_name, prefix, strlen(prefix)) != 0) continue;
    char *end;
    long pid = strtol(ent->d_name + strlen(prefix), &end, 10);
    if (*end || pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    char stale[4096 + 300];
    snprintf(stale, sizeof stale, "%s/%s", dir, ent->d_name);
    unlink(stale);
  }
  closedir(d);
}

/* Writes one file's temporary copy; *tmp gets its name (to rename or remove), NULL if none. */
static int stage(const cb_output *o, char **tmp, cb_err *e) {
  *tmp = NULL;
  size_t len = strlen(o->path);
  if (len == 0 || o->path[len - 1] == '/')
    return cb_err_set(e, CB_EIO, "%s: not a file name; give the path of a file to write", o->path);
  remove_stale_temps(o->path);
  char *t = temp_path_for(o->path, e);
  if (!t) return e ? e->code : CB_ENOMEM;
  FILE *f = open_temp(t);
  if (!f) {
    int rc = io_fail(e, o->path, "cannot create a temporary file next to it", errno, "check that the directory exists and is writable");
    free(t);
    return rc;
  }
  *tmp = t;
  return fill_temp(f, o->path, o->writer, o->ctx, e);
}

/* A set of files that belong together (a run's metrics.csv and summary.json): every temporary copy
 * is written and synced before the first rename, so a failure while writing (a full disk) leaves
 * all the previous files; then the renames follow one another. */
int cb_atomic_write_all(const cb_output *outs, int n, cb_err *e) {
  char *tmp[CB_MAX_OUTPUTS] = {0};
  int rc = n > CB_MAX_OUTPUTS ? cb_err_set(e, CB_EMISUSE, "cb_atomic_write_all: at most %d files", CB_MAX_OUTPUTS) : CB_OK;
  for (int i = 0; i < n && rc == CB_OK; i++) rc = stage(&outs[i], &tmp[i], e);
  for (int i = 0; i < n && rc == CB_OK; i++)
    if (rename(tmp[i], outs[i].path) != 0) rc = io_fail(e, outs[i].path, "cannot replace it", errno, "check the permissions of the file and directory");
    else {
      free(tmp[i]);
      tmp[i] = NULL;
    }
  for (int i = 0; i < n && i < CB_MAX_OUTPUTS; i++) {
    if (tmp[i]) unlink(tmp[i]);
    free(tmp[i]);
  }
  for (int i = 0; i < n && rc == CB_OK; i++) rc = sync_dir(outs[i].path, e);
  return rc;
}

int cb_atomic_write(const char *path, cb_writer_fn writer, void *ctx, cb_err *e) {
  cb_output o = {path, writer, ctx};
  return cb_atomic_write_all(&o, 1, e);
}

/* ---- directories ----------------------------------------------------------------------- */

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Any error on a component that turns out to exist as a directory is harmless (EEXIST, but
 * also EACCES or EROFS on a parent we may not write but only need to pass through). */
static int mkdir_one(const char *prefix, const char *dir, cb_err *e) {
  if (mkdir(prefix, 0777) == 0) return CB_OK;
  int err = errno;
  if (is_dir(prefix)) return CB_OK;
  if (err == EEXIST)
    return cb_err_set(e, CB_EIO, "%s: cannot create directory: %s exists and is not a directory; "
                      "remove it or choose another directory", dir, prefix);
  return cb_err_set(e, CB_EIO, "%s: cannot create directory %s: %s; check the path and permissions",
                    dir, prefix, strerror(err));
}

int cb_mkdir_p(const char *dir, cb_err *e) {
  if (dir[0] == '\0')
    return cb_err_set(e, CB_EIO, "cannot create a directory with an empty name; give a path");
  char *p = cb_xstrdup(e, dir);
  if (!p) return e ? e->code : CB_ENOMEM;
  int rc = CB_OK;
  size_t len = strlen(p);
  /* Create each prefix ending before a '/', then the whole path; skip empty components. */
  for (size_t i = 1; i <= len && rc == CB_OK; i++) {
    if (i < len && p[i] != '/') continue;
    if (p[i - 1] == '/') continue;
    char saved = p[i];
    p[i] = '\0';
    rc = mkdir_one(p, dir, e);
    p[i] = saved;
  }
  free(p);
  return rc;
}

/* ---- hashing --------------------------------------------------------------------------- */

static void to_hex(const uint8_t *bytes, size_t n, char *hex) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    hex[2 * i] = digits[bytes[i] >> 4];
    hex[2 * i + 1] = digits[bytes[i] & 15];
  }
  hex[2 * n] = '\0';
}

int cb_read_whole(const char *path, uint8_t **out, size_t *len, cb_err *e) {
  *out = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return io_fail(e, path, "cannot open", errno, "check the path and its permissions");
  size_t cap = 1 << 20, n = 0, got;
  uint8_t *buf = cb_xmalloc(e, cap);
  errno = 0;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      uint8_t *b = cb_xrealloc(e, buf, cap *= 2);
      if (!b) free(buf);
      buf = b;
    }
  }
  int err = errno, bad = ferror(f);
  fclose(f);
  if (!buf) return e->code;
  if (bad) {
    free(buf);
    return io_fail(e, path, "cannot read", err ? err : EIO, "check that it is a readable file");
  }
  buf[n] = 0; /* the loop grows buf whenever it fills, so n < cap */
  *out = buf;
  *len = n;
  return CB_OK;
}

void cb_sha256_hex(struct sha256_ctx *ctx, char hex[65]) {
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(ctx, SHA256_DIGEST_SIZE, digest);
  to_hex(digest, sizeof digest, hex);
}

void cb_sha256_bytes(const void *data, size_t n, char hex[65]) {
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, n, data);
  cb_sha256_hex(&ctx, hex);
}

int cb_sha256_file(const char *path, char hex[65], cb_err *e) {
  FILE *f = fopen(path, "rb");
  if (!f) return io_fail(e, path, "cannot open", errno, "check the path and its permissions");
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  uint8_t buf[1 << 14];
  size_t got;
  errno = 0;
  while ((got = fread(buf, 1, sizeof buf, f)) > 0) sha256_update(&ctx, got, buf);
  int err = errno;
  int bad = ferror(f);
  fclose(f);
  if (bad) return io_fail(e, path, "cannot read", err ? err : EIO, "check that it is a readable file");
  cb_sha256_hex(&ctx, hex);
  return CB_OK;
}

int cb_atomic_write_in(const char *dir, const cb_output *outs, int n, cb_err *e) {
  if (n < 1 || n > 8) return cb_err_set(e, CB_EMISUSE, "cb_atomic_write_in: %d files (1 to 8)", n);
  if (cb_mkdir_p(dir, e)) return e->code;
  char paths[8][4096];
  cb_output in[8];
  for (int i = 0; i < n; i++) {
    snprintf(paths[i], sizeof paths[i], "%s/%s", dir, outs[i].path);
    in[i] = (cb_output){paths[i], outs[i].writer, outs[i].ctx};
  }
  return cb_atomic_write_all(in, n, e);
}
