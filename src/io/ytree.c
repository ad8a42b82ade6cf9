/* YAML text to a cb_ynode tree that remembers where every node came from. The binder needs
 * positions for its messages and --set needs a tree it can edit before binding, so neither can
 * work on libyaml's own output directly. The event API is used (not the document API) because it
 * shows anchors, aliases, scalar styles and document boundaries before anything is resolved,
 * which is what lets us reject them with a precise position.
 *
 * Invariant kept by every edit: keys[i] and key_line/key_col[i] are positions in the source of
 * children[i] (children[i]->src), so a message about a key can name the right file or --set. */
#include "io/ytree.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* Deep enough for any scenario, shallow enough that recursive walks cannot exhaust the stack. */
#define YT_MAX_DEPTH 64
/* Far more children than any scenario has (collections hold at most 32 entries), few enough that
 * the duplicate-key check, which compares each key with the earlier ones, stays fast on hostile
 * input. */
#define YT_MAX_CHILDREN 4096

/* One parse in progress: a whole file, or the value of one --set. */
typedef struct yreader {
  yaml_parser_t parser;
  cb_err *e;
  const char *src;  /* owned by the tree */
  const char *text;
  size_t len;
  int col0;         /* --set value: 1-based column of the value in the assignment; 0 for files */
  const char *assignment; /* --set: the whole "path=value", quoted in messages */
} yreader;

static int yt_fail(cb_err *e, int code, const char *src, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int yt_fail(cb_err *e, int code, const char *src, int line, int col, const char *fmt, ...) {
  char msg[CB_ERRMSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cb_err_set(e, code, "%s:%d:%d: %s", src, line, col, msg);
  return code;
}

static int clamp_int(size_t v) { return v > (size_t)INT_MAX - 1 ? INT_MAX - 1 : (int)v; }

/* libyaml marks are 0-based; a --set value lives on line 1 of its assignment, after the '='. */
static void mark_pos(const yreader *r, yaml_mark_t m, int *line, int *col) {
  if (r->col0 == 0) {
    *line = clamp_int(m.line) + 1;
    *col = clamp_int(m.column) + 1;
  } else {
    *line = 1;
    *col = r->col0 + (m.line == 0 ? clamp_int(m.column) : 0);
  }
}

/* Reader errors (bad UTF-8) come with a byte offset only, so the position is counted here. */
static void offset_pos(const yreader *r, size_t off, int *line, int *col) {
  size_t ln = 0, cl = 0;
  for (size_t i = 0; i < off && i < r->len; i++) {
    if (r->text[i] == '\n') {
      ln++;
      cl = 0;
    } else {
      cl++;
    }
  }
  yaml_mark_t m = {off, ln, cl};
  mark_pos(r, m, line, col);
}

/* A parse error at line:col; a --set error also quotes the assignment. */
static int fail_pos(yreader *r, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_pos(yreader *r, int line, int col, const char *fmt, ...) {
  char msg[CB_ERRMSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (r->assignment) return yt_fail(r->e, CB_EPARSE, r->src, line, col, "in '%s': %s", r->assignment, msg);
  return yt_fail(r->e, CB_EPARSE, r->src, line, col, "%s", msg);
}

static int fail_mark(yreader *r, yaml_mark_t m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_mark(yreader *r, yaml_mark_t m, const char *fmt, ...) {
  char msg[CB_ERRMSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  int line, col;
  mark_pos(r, m, &line, &col);
  return fail_pos(r, line, col, "%s", msg);
}

/* Turns libyaml's error state into our message, keeping its own problem text. */
static int syntax_error(yreader *r) {
  yaml_parser_t *p = &r->parser;
  int line, col;
  if (p->error == YAML_MEMORY_ERROR)
    return cb_err_set(r->e, CB_ENOMEM, "%s: out of memory while parsing YAML; free memory or use a smaller file", r->src);
  if (p->error == YAML_READER_ERROR) {
    offset_pos(r, p->problem_offset, &line, &col);
    return fail_pos(r, line, col, "unreadable text: %s (byte %zu); save the file as UTF-8 text",
                   p->problem ? p->problem : "invalid encoding", p->problem_offset);
  }
  mark_pos(r, p->problem_mark, &line, &col);
  char ctx[256] = "";
  if (p->context) {
    int cl, cc;
    mark_pos(r, p->context_mark, &cl, &cc);
    snprintf(ctx, sizeof ctx, " (%s at line %d, column %d)", p->context, cl, cc);
  }
  return fail_pos(r, line, col,
                 "YAML syntax error: %s%s; check the indentation, the ': ' after each key and matching quotes and brackets",
                 p->problem ? p->problem : "malformed YAML", ctx);
}

static int next_event(yreader *r, yaml_event_t *ev) {
  if (!yaml_parser_parse(&r->parser, ev)) return syntax_error(r);
  return CB_OK;
}

static cb_ynode *node_new(cb_err *e, cb_ykind kind, const char *src, int line, int col) {
  cb_ynode *n = cb_xcalloc(e, 1, sizeof *n);
  if (!n) return NULL;
  n->kind = kind;
  n->src = src;
  n->line = line;
  n->col = col;
  return n;
}

static void node_free(cb_ynode *n) {
  if (!n) return;
  for (size_t i = 0; i < n->n; i++) {
    if (n->keys) free(n->keys[i]);
    node_free(n->children[i]);
  }
  free(n->keys);
  free(n->key_line);
  free(n->key_col);
  free(n->children);
  free(n->value);
  free(n);
}

/* Grows the child arrays of p by doubling; the key arrays exist for maps only. */
static int node_reserve(cb_err *e, cb_ynode *p) {
  if (p->n < p->cap) return CB_OK;
  size_t cap = p->cap ? p->cap * 2 : 4;
  cb_ynode **c = cb_xrealloc(e, p->children, cap * sizeof *c);
  if (!c) return CB_ENOMEM;
  p->children = c;
  if (p->kind == CB_Y_MAP) {
    char **k = cb_xrealloc(e, p->keys, cap * sizeof *k);
    if (!k) return CB_ENOMEM;
    p->keys = k;
    int *kl = cb_xrealloc(e, p->key_line, cap * sizeof *kl);
    if (!kl) return CB_ENOMEM;
    p->key_line = kl;
    int *kc = cb_xrealloc(e, p->key_col, cap * sizeof *kc);
    if (!kc) return CB_ENOMEM;
    p->key_col = kc;
  }
  p->cap = cap;
  return CB_OK;
}

/* Appends a child; takes ownership of key and child only on success. */
static int node_push(cb_err *e, cb_ynode *p, char *key, int kline, int kcol, cb_ynode *child) {
  if (node_reserve(e, p) != CB_OK) return CB_ENOMEM;
  if (p->kind == CB_Y_MAP) {
    p->keys[p->n] = key;
    p->key_line[p->n] = kline;
    p->key_col[p->n] = kcol;
  }
  p->children[p->n++] = child;
  return CB_OK;
}

static const cb_ynode *child_n(const cb_ynode *map, const char *key, size_t klen, size_t *index) {
  if (!map || map->kind != CB_Y_MAP) return NULL;
  for (size_t i = 0; i < map->n; i++) {
    if (strlen(map->keys[i]) == klen && memcmp(map->keys[i], key, klen) == 0) {
      if (index) *index = i;
      return map->children[i];
    }
  }
  return NULL;
}

static int check_anchor(yreader *r, const yaml_char_t *anchor, yaml_mark_t m) {
  if (!anchor) return CB_OK;
  return fail_mark(r, m, "anchors (&%s) are not supported; write each value out in full", (const char *)anchor);
}

/* --set values are one-line flow text; a block collection there is almost surely a typo. */
static int check_flow(yreader *r, int block, yaml_mark_t m) {
  if (!r->col0 || !block) return CB_OK;
  return fail_mark(r, m, "cannot parse the value as a flow value; write lists as [a, b], maps as {k: v} and quote text containing ': '");
}

static int parse_node(yreader *r, yaml_event_t *ev, int depth, cb_ynode **out);

static int build_scalar(yreader *r, const yaml_event_t *ev, cb_ynode **out) {
  int rc = check_anchor(r, ev->data.scalar.anchor, ev->start_mark);
  if (rc != CB_OK) return rc;
  int line, col;
  mark_pos(r, ev->start_mark, &line, &col);
  cb_ynode *n = node_new(r->e, CB_Y_SCALAR, r->src, line, col);
  if (!n) return CB_ENOMEM;
  size_t len = ev->data.scalar.length;
  n->value = cb_xmalloc(r->e, len + 1);
  if (!n->value) {
    node_free(n);
    return CB_ENOMEM;
  }
  memcpy(n->value, ev->data.scalar.value, len);
  n->value[len] = '\0';
  /* An explicit !!str tag means the same as quotes: the author wants text, not a number. */
  const char *tag = (const char *)ev->data.scalar.tag;
  n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || (tag && strcmp(tag, YAML_STR_TAG) == 0);
  *out = n;
  return CB_OK;
}

static int build_seq(yreader *r, const yaml_event_t *ev, int depth, cb_ynode **out) {
  int rc = check_anchor(r, ev->data.sequence_start.anchor, ev->start_mark);
  if (rc == CB_OK) rc = check_flow(r, ev->data.sequence_start.style == YAML_BLOCK_SEQUENCE_STYLE, ev->start_mark);
  if (rc != CB_OK) return rc;
  int line, col;
  mark_pos(r, ev->start_mark, &line, &col);
  cb_ynode *s = node_new(r->e, CB_Y_SEQ, r->src, line, col);
  if (!s) return CB_ENOMEM;
  for (;;) {
    yaml_event_t item;
    rc = next_event(r, &item);
    if (rc != CB_OK) break;
    if (item.type == YAML_SEQUENCE_END_EVENT) {
      yaml_event_delete(&item);
      break;
    }
    if (s->n == YT_MAX_CHILDREN) {
      rc = fail_mark(r, item.start_mark, "a list of more than %d items; no scenario needs so many", YT_MAX_CHILDREN);
      yaml_event_delete(&item);
      break;
    }
    cb_ynode *child;
    rc = parse_node(r, &item, depth + 1, &child);
    if (rc == CB_OK && (rc = node_push(r->e, s, NULL, 0, 0, child)) != CB_OK) node_free(child);
    if (rc != CB_OK) break;
  }
  if (rc != CB_OK) {
    node_free(s);
    return rc;
  }
  *out = s;
  return CB_OK;
}

/* Reads one mapping key: a scalar with no anchor, not already present in m. */
static int read_key(yreader *r, const cb_ynode *m, yaml_event_t *kev, char **key, int *kline, int *kcol) {
  int rc = CB_OK;
  *key = NULL;
  if (kev->type == YAML_ALIAS_EVENT) {
    rc = fail_mark(r, kev->start_mark, "aliases (*%s) are not supported; write each value out in full",
                   (const char *)kev->data.alias.anchor);
  } else if (kev->type != YAML_SCALAR_EVENT) {
    rc = fail_mark(r, kev->start_mark, "a key must be a plain name, not a list or a mapping; write 'name: value'");
  } else {
    rc = check_anchor(r, kev->data.scalar.anchor, kev->start_mark);
  }
  if (rc == CB_OK) {
    const char *k = (const char *)kev->data.scalar.value;
    size_t klen = kev->data.scalar.length;
    size_t prev;
    mark_pos(r, kev->start_mark, kline, kcol);
    if (child_n(m, k, klen, &prev)) {
      rc = fail_pos(r, *kline, *kcol,
                   "duplicate key '%s' (first given at line %d, column %d); keep only one of them", k,
                   m->key_line[prev], m->key_col[prev]);
    } else if ((*key = cb_xmalloc(r->e, klen + 1)) == NULL) {
      rc = CB_ENOMEM;
    } else {
      memcpy(*key, k, klen);
      (*key)[klen] = '\0';
    }
  }
  yaml_event_delete(kev);
  return rc;
}

/* Reads one key and its value into m; *done is set at the end of the mapping. */
static int build_pair(yreader *r, cb_ynode *m, int depth, int *done) {
  yaml_event_t kev, vev;
  int rc = next_event(r, &kev);
  if (rc != CB_OK) return rc;
  if (kev.type == YAML_MAPPING_END_EVENT) {
    yaml_event_delete(&kev);
    *done = 1;
    return CB_OK;
  }
  if (m->n == YT_MAX_CHILDREN) {
    rc = fail_mark(r, kev.start_mark, "a mapping of more than %d keys; no scenario needs so many", YT_MAX_CHILDREN);
    yaml_event_delete(&kev);
    return rc;
  }
  char *key;
  int kline, kcol;
  rc = read_key(r, m, &kev, &key, &kline, &kcol);
  if (rc != CB_OK) return rc;
  cb_ynode *child = NULL;
  rc = next_event(r, &vev);
  if (rc == CB_OK) rc = parse_node(r, &vev, depth + 1, &child);
  if (rc == CB_OK) rc = node_push(r->e, m, key, kline, kcol, child);
  if (rc != CB_OK) {
    free(key);
    node_free(child);
  }
  return rc;
}

static int build_map(yreader *r, const yaml_event_t *ev, int depth, cb_ynode **out) {
  int rc = check_anchor(r, ev->data.mapping_start.anchor, ev->start_mark);
  if (rc == CB_OK) rc = check_flow(r, ev->data.mapping_start.style == YAML_BLOCK_MAPPING_STYLE, ev->start_mark);
  if (rc != CB_OK) return rc;
  int line, col;
  mark_pos(r, ev->start_mark, &line, &col);
  cb_ynode *m = node_new(r->e, CB_Y_MAP, r->src, line, col);
  if (!m) return CB_ENOMEM;
  int done = 0;
  while (!done && rc == CB_OK) rc = build_pair(r, m, depth, &done);
  if (rc != CB_OK) {
    node_free(m);
    return rc;
  }
  *out = m;
  return CB_OK;
}

/* Builds the node that starts with ev; always consumes (deletes) ev. */
static int parse_node(yreader *r, yaml_event_t *ev, int depth, cb_ynode **out) {
  int rc;
  *out = NULL;
  if (depth > YT_MAX_DEPTH) {
    rc = fail_mark(r, ev->start_mark, "nested deeper than %d levels; flatten the structure", YT_MAX_DEPTH);
  } else {
    switch (ev->type) {
    case YAML_SCALAR_EVENT: rc = build_scalar(r, ev, out); break;
    case YAML_SEQUENCE_START_EVENT: rc = build_seq(r, ev, depth, out); break;
    case YAML_MAPPING_START_EVENT: rc = build_map(r, ev, depth, out); break;
    case YAML_ALIAS_EVENT:
      rc = fail_mark(r, ev->start_mark, "aliases (*%s) are not supported; write each value out in full",
                     (const char *)ev->data.alias.anchor);
      break;
    default: rc = fail_mark(r, ev->start_mark, "unexpected YAML structure; write a value, a list or a mapping"); break;
    }
  }
  yaml_event_delete(ev);
  return rc;
}

/* An empty --set value ("key=") is an empty scalar, like "key:" in a file. */
static int empty_value(yreader *r, cb_ynode **out) {
  *out = node_new(r->e, CB_Y_SCALAR, r->src, 1, r->col0);
  if (!*out) return CB_ENOMEM;
  (*out)->value = cb_xstrdup(r->e, "");
  return (*out)->value ? CB_OK : CB_ENOMEM;
}

/* Expects the event after a document's root: its end, then the end of the stream. */
static int finish_stream(yreader *r) {
  yaml_event_t ev;
  int rc = next_event(r, &ev);
  if (rc != CB_OK) return rc;
  yaml_event_delete(&ev); /* DOCUMENT_END: the parser guarantees it follows the root node */
  rc = next_event(r, &ev);
  if (rc != CB_OK) return rc;
  if (ev.type == YAML_DOCUMENT_START_EVENT)
    rc = fail_mark(r, ev.start_mark, "a second YAML document starts here ('---'); keep one document per file and remove the separator");
  yaml_event_delete(&ev);
  return rc;
}

/* Parses a whole stream that must hold exactly one document; *root gets its node. */
static int parse_stream(yreader *r, cb_ynode **root) {
  yaml_event_t ev;
  *root = NULL;
  int rc = next_event(r, &ev); /* STREAM_START */
  if (rc != CB_OK) return rc;
  yaml_event_delete(&ev);
  if ((rc = next_event(r, &ev)) != CB_OK) return rc;
  if (ev.type == YAML_STREAM_END_EVENT) {
    yaml_event_delete(&ev);
    if (r->col0) return empty_value(r, root);
    return yt_fail(r->e, CB_EPARSE, r->src, 1, 1, "the document is empty; write the scenario as a mapping of sections (name: ...)");
  }
  yaml_event_delete(&ev); /* DOCUMENT_START */
  if ((rc = next_event(r, &ev)) != CB_OK) return rc;
  if ((rc = parse_node(r, &ev, 1, root)) != CB_OK) return rc;
  if ((rc = finish_stream(r)) != CB_OK) {
    node_free(*root);
    *root = NULL;
  }
  return rc;
}

/* A file's root must be a mapping of sections; a bare "---" counts as empty. */
static int check_root(yreader *r, const cb_ynode *root) {
  if (root->kind == CB_Y_MAP) return CB_OK;
  if (root->kind == CB_Y_SCALAR && !root->quoted && root->value[0] == '\0')
    return yt_fail(r->e, CB_EPARSE, r->src, root->line, root->col, "the document is empty; write the scenario as a mapping of sections (name: ...)");
  return yt_fail(r->e, CB_EPARSE, r->src, root->line, root->col,
                 "the top level is a %s, not a mapping; write the scenario as a mapping of sections (name: ...)",
                 root->kind == CB_Y_SEQ ? "list" : "single value");
}

/* Runs libyaml over text; r->src, r->e and r->col0 must be set. */
static int parse_text(yreader *r, const char *text, size_t len, cb_ynode **root) {
  r->text = text;
  r->len = len;
  if (!yaml_parser_initialize(&r->parser))
    return cb_err_set(r->e, CB_ENOMEM, "%s: out of memory starting the YAML parser; free memory", r->src);
  yaml_parser_set_input_string(&r->parser, (const unsigned char *)text, len);
  int rc = parse_stream(r, root);
  yaml_parser_delete(&r->parser);
  return rc;
}

/* Adds a source name to the tree, which owns it from then on. */
static const char *add_src(cb_ytree *t, const char *name, cb_err *e) {
  char *s = cb_xstrdup(e, name);
  if (!s) return NULL;
  char **v = cb_xrealloc(e, t->srcs, (t->nsrcs + 1) * sizeof *v);
  if (!v) {
    free(s);
    return NULL;
  }
  t->srcs = v;
  t->srcs[t->nsrcs++] = s;
  return s;
}

static void drop_last_src(cb_ytree *t) {
  if (t->nsrcs == 0) return;
  free(t->srcs[--t->nsrcs]);
}

static int load_text(cb_ytree *t, const char *text, size_t len, const char *srcname, cb_err *e) {
  memset(t, 0, sizeof *t);
  yreader r;
  memset(&r, 0, sizeof r);
  r.e = e;
  r.src = add_src(t, srcname, e);
  if (!r.src) return CB_ENOMEM;
  cb_ynode *root = NULL;
  int rc = parse_text(&r, text, len, &root);
  if (rc == CB_OK) rc = check_root(&r, root);
  if (rc != CB_OK) {
    node_free(root);
    cb_ytree_free(t);
    return rc;
  }
  t->root = root;
  return CB_OK;
}

/* Reads a whole stream into memory so reader errors can be located by byte offset. */
static int slurp(FILE *f, const char *path, char **buf, size_t *len, cb_err *e) {
  size_t cap = 1 << 14, n = 0;
  char *b = cb_xmalloc(e, cap);
  if (!b) return CB_ENOMEM;
  for (;;) {
    n += fread(b + n, 1, cap - n, f);
    if (ferror(f)) {
      int err = errno;
      free(b);
      return cb_err_set(e, CB_EIO, "%s: cannot read: %s; check that it is a readable file", path, strerror(err));
    }
    if (n < cap) break;
    char *nb = cb_xrealloc(e, b, cap *= 2);
    if (!nb) {
      free(b);
      return CB_ENOMEM;
    }
    b = nb;
  }
  *buf = b;
  *len = n;
  return CB_OK;
}

int cb_ytree_load_file(cb_ytree *t, const char *path, cb_err *e) {
  memset(t, 0, sizeof *t);
  FILE *f = fopen(path, "rb");
  if (!f) return cb_err_set(e, CB_EIO, "%s: cannot open: %s; check the path and its permissions", path, strerror(errno));
  char *text = NULL;
  size_t len = 0;
  int rc = slurp(f, path, &text, &len, e);
  fclose(f);
  if (rc != CB_OK) return rc;
  rc = load_text(t, text, len, path, e);
  free(text);
  return rc;
}

int cb_ytree_load_string(cb_ytree *t, const char *text, const char *srcname, cb_err *e) {
  return load_text(t, text, strlen(text), srcname, e);
}

void cb_ytree_free(cb_ytree *t) {
  if (!t) return;
  node_free(t->root);
  for (size_t i = 0; i < t->nsrcs; i++) free(t->srcs[i]);
  free(t->srcs);
  memset(t, 0, sizeof *t);
}

const cb_ynode *cb_ynode_child(const cb_ynode *map, const char *key, size_t *index) {
  if (!key) return NULL;
  return child_n(map, key, strlen(key), index);
}

/* An empty path names the root; an empty segment names nothing. */
const cb_ynode *cb_ytree_get(const cb_ytree *t, const char *dotted) {
  if (!t || !dotted) return NULL;
  const cb_ynode *n = t->root;
  if (dotted[0] == '\0') return n;
  for (const char *s = dotted; n; s++) {
    const char *dot = strchr(s, '.');
    size_t len = dot ? (size_t)(dot - s) : strlen(s);
    if (len == 0) return NULL;
    n = child_n(n, s, len, NULL);
    if (!dot) return n;
    s = dot;
  }
  return NULL;
}

/* ---- overrides ---------------------------------------------------------------------------- */

/* One "a.b.c=value" being applied. */
typedef struct ovr {
  cb_ytree *t;
  cb_err *e;
  const char *text;   /* the whole assignment, for messages */
  const char *src;    /* "--set #N", owned by the tree */
  const char *path;   /* first character of the path */
  size_t plen;        /* path length, surrounding blanks excluded */
  int touched;        /* some node of the tree now points at src */
} ovr;

static int col_of(const ovr *o, const char *p) { return clamp_int((size_t)(p - o->text)) + 1; }

static int ovr_fail(const ovr *o, const char *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int ovr_fail(const ovr *o, const char *at, const char *fmt, ...) {
  char msg[CB_ERRMSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return yt_fail(o->e, CB_EPARSE, o->src, 1, col_of(o, at), "in '%s': %s", o->text, msg);
}

/* Checks the path's syntax: non-empty segments, not absurdly many. */
static int ovr_check_path(const ovr *o) {
  if (o->plen == 0) return ovr_fail(o, o->path, "the path before '=' is empty; write section.key=value");
  int depth = 0;
  for (const char *s = o->path, *end = o->path + o->plen; s <= end; s++) {
    const char *dot = memchr(s, '.', (size_t)(end - s));
    const char *segend = dot ? dot : end;
    if (segend == s) return ovr_fail(o, s, "empty name in the path; write names separated by single dots, like section.key=value");
    if (++depth > YT_MAX_DEPTH) return ovr_fail(o, s, "the path has more than %d names; shorten it", YT_MAX_DEPTH);
    s = segend;
  }
  return CB_OK;
}

static int ovr_parse_value(const ovr *o, const char *value, cb_ynode **out) {
  yreader r;
  memset(&r, 0, sizeof r);
  r.e = o->e;
  r.src = o->src;
  r.col0 = col_of(o, value);
  r.assignment = o->text;
  return parse_text(&r, value, strlen(value), out);
}

static char *dup_n(cb_err *e, const char *s, size_t n) {
  char *d = cb_xmalloc(e, n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

/* The segment ending at seg+len names c, which is not a map, so the path cannot go on. */
static int ovr_blocked(const ovr *o, const char *seg, size_t len, const cb_ynode *c) {
  int plen = clamp_int((size_t)(seg + len - o->path));
  return ovr_fail(o, seg, "'%.*s' is a %s (at %s:%d:%d), not a mapping, so nothing can be set inside it; set '%.*s' itself",
                  plen, o->path, c->kind == CB_Y_SEQ ? "list" : "single value", c->src, c->line, c->col, plen, o->path);
}

/* Puts child under map at key seg, replacing what was there; takes ownership of child. */
static int ovr_place(ovr *o, cb_ynode *map, const char *seg, size_t len, cb_ynode *child) {
  size_t i;
  int col = col_of(o, seg);
  if (child_n(map, seg, len, &i)) {
    node_free(map->children[i]);
    map->children[i] = child;
    map->key_line[i] = 1; /* the key now belongs to the override (see the invariant at the top) */
    map->key_col[i] = col;
    o->touched = 1;
    return CB_OK;
  }
  char *key = dup_n(o->e, seg, len);
  if (!key || node_push(o->e, map, key, 1, col, child) != CB_OK) {
    free(key);
    node_free(child);
    return CB_ENOMEM;
  }
  o->touched = 1;
  return CB_OK;
}

/* Descends one segment into an existing map or a new empty one; *next gets it. */
static int ovr_descend(ovr *o, cb_ynode *map, const char *seg, size_t len, cb_ynode **next) {
  size_t i;
  if (child_n(map, seg, len, &i)) {
    *next = map->children[i];
    return CB_OK;
  }
  cb_ynode *m = node_new(o->e, CB_Y_MAP, o->src, 1, col_of(o, seg));
  if (!m) return CB_ENOMEM;
  int rc = ovr_place(o, map, seg, len, m);
  if (rc == CB_OK) *next = m;
  return rc;
}

/* Walks the existing part of the path first, so a path that runs through a value fails before
 * anything is created. */
static int ovr_check_walk(const ovr *o) {
  const cb_ynode *n = o->t->root;
  const char *end = o->path + o->plen;
  for (const char *s = o->path, *dot; n && (dot = memchr(s, '.', (size_t)(end - s))) != NULL; s = dot + 1) {
    const cb_ynode *c = child_n(n, s, (size_t)(dot - s), NULL);
    if (c && c->kind != CB_Y_MAP) return ovr_blocked(o, s, (size_t)(dot - s), c);
    n = c;
  }
  return CB_OK;
}

static int ovr_apply(ovr *o, cb_ynode *value) {
  cb_ynode *n = o->t->root;
  const char *end = o->path + o->plen;
  const char *s = o->path;
  for (const char *dot; (dot = memchr(s, '.', (size_t)(end - s))) != NULL; s = dot + 1) {
    int rc = ovr_descend(o, n, s, (size_t)(dot - s), &n);
    if (rc != CB_OK) {
      node_free(value);
      return rc;
    }
  }
  return ovr_place(o, n, s, (size_t)(end - s), value);
}

/* Overrides may come before (or without) a file; they then start the tree. */
static int ovr_ensure_root(ovr *o) {
  if (o->t->root) return CB_OK;
  o->t->root = node_new(o->e, CB_Y_MAP, o->src, 1, 1);
  if (!o->t->root) return CB_ENOMEM;
  o->touched = 1;
  return CB_OK;
}

static int ovr_run(ovr *o, const char *eq) {
  int rc = ovr_check_path(o);
  cb_ynode *value = NULL;
  if (rc == CB_OK) rc = ovr_parse_value(o, eq + 1, &value);
  if (rc == CB_OK) rc = ovr_ensure_root(o);
  if (rc == CB_OK) rc = ovr_check_walk(o);
  if (rc != CB_OK) {
    node_free(value);
    return rc;
  }
  return ovr_apply(o, value);
}

int cb_ytree_override(cb_ytree *t, const char *assignment, int index, cb_err *e) {
  char name[32];
  snprintf(name, sizeof name, "--set #%d", index);
  ovr o = {t, e, assignment, NULL, assignment, 0, 0};
  o.src = add_src(t, name, e);
  if (!o.src) return CB_ENOMEM;
  const char *eq = strchr(assignment, '=');
  int rc;
  if (!eq) {
    rc = yt_fail(e, CB_EPARSE, o.src, 1, 1, "'%s' has no '='; write it as section.key=value", assignment);
  } else {
    while (o.path < eq && isspace((unsigned char)*o.path)) o.path++;
    const char *pend = eq;
    while (pend > o.path && isspace((unsigned char)pend[-1])) pend--;
    o.plen = (size_t)(pend - o.path);
    rc = ovr_run(&o, eq);
  }
  if (rc != CB_OK && !o.touched) drop_last_src(t);
  return rc;
}

/* ---- scalar helpers ---------------------------------------------------------------------- */

int cb_yparse_int(const char *s, long long *out) {
  if (!s) return -1;
  int neg = 0;
  if (*s == '+' || *s == '-') neg = *s++ == '-';
  const unsigned long long limit = neg ? (unsigned long long)LLONG_MAX + 1u : (unsigned long long)LLONG_MAX;
  unsigned long long v = 0;
  int last_digit = 0, digits = 0;
  for (; *s; s++) {
    if (*s == '_') {
      if (!last_digit) return -1; /* '_' only between digits */
      last_digit = 0;
      continue;
    }
    if (*s < '0' || *s > '9') return -1;
    unsigned d = (unsigned)(*s - '0');
    if (v > (limit - d) / 10) return -1;
    v = v * 10 + d;
    last_digit = 1;
    digits++;
  }
  if (!digits || !last_digit) return -1;
  if (neg) *out = v == (unsigned long long)LLONG_MAX + 1u ? LLONG_MIN : -(long long)v;
  else *out = (long long)v;
  return 0;
}

int cb_yparse_double(const char *s, double *out) {
  if (!s || !*s || isspace((unsigned char)*s)) return -1;
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end != '\0') {
    /* "1_000" is an integer to YAML, so it is a number here too. */
    long long i;
    if (cb_yparse_int(s, &i) != 0) return -1;
    v = (double)i;
  }
  if (!isfinite(v)) return -1;
  *out = v;
  return 0;
}

int cb_yparse_bool(const char *s, int *out) {
  static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
  if (!s) return -1;
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    if (strcasecmp(s, yes[i]) == 0) return *out = 1, 0;
    if (strcasecmp(s, no[i]) == 0) return *out = 0, 0;
  }
  return -1;
}

/* ---- merging a scenario over its base ---- */

/* Moves src's children into dst: maps merge key by key (recursively), anything else replaces.
 * Takes ownership of src (freed here). */
static int merge_node(cb_err *e, cb_ynode *dst, cb_ynode *src) {
  for (size_t i = 0; i < src->n; i++) {
    size_t j;
    cb_ynode *sc = src->children[i];
    const cb_ynode *found = child_n(dst, src->keys[i], strlen(src->keys[i]), &j);
    if (found && found->kind == CB_Y_MAP && sc->kind == CB_Y_MAP) {
      src->children[i] = NULL;
      if (merge_node(e, dst->children[j], sc) != CB_OK) return e->code;
      continue;
    }
    if (found) {
      node_free(dst->children[j]);
      dst->children[j] = sc;
      dst->key_line[j] = src->key_line[i];
      dst->key_col[j] = src->key_col[i];
      src->children[i] = NULL;
      continue;
    }
    if (node_push(e, dst, src->keys[i], src->key_line[i], src->key_col[i], sc) != CB_OK) return CB_ENOMEM;
    src->keys[i] = NULL;
    src->children[i] = NULL;
  }
  node_free(src);
  return CB_OK;
}

int cb_ytree_merge(cb_ytree *dst, cb_ytree *src, cb_err *e) {
  char **srcs = cb_xrealloc(e, dst->srcs, (dst->nsrcs + src->nsrcs) * sizeof *srcs);
  if (!srcs) return CB_ENOMEM;
  dst->srcs = srcs;
  memcpy(dst->srcs + dst->nsrcs, src->srcs, src->nsrcs * sizeof *srcs);
  dst->nsrcs += src->nsrcs;
  free(src->srcs);
  cb_ynode *root = src->root;
  memset(src, 0, sizeof *src);
  return merge_node(e, dst->root, root);
}

int cb_ytree_remove(cb_ytree *t, const char *key) {
  size_t j;
  if (!child_n(t->root, key, strlen(key), &j)) return 0;
  cb_ynode *r = t->root;
  free(r->keys[j]);
  node_free(r->children[j]);
  memmove(&r->keys[j], &r->keys[j + 1], (r->n - j - 1) * sizeof *r->keys);
  memmove(&r->children[j], &r->children[j + 1], (r->n - j - 1) * sizeof *r->children);
  memmove(&r->key_line[j], &r->key_line[j + 1], (r->n - j - 1) * sizeof *r->key_line);
  memmove(&r->key_col[j], &r->key_col[j + 1], (r->n - j - 1) * sizeof *r->key_col);
  r->n--;
  return 1;
}
