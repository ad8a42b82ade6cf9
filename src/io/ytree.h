/* A YAML document as a small tree of maps, sequences and scalars, each node remembering the file,
 * line and column it came from. The scenario binder walks this tree (so every error can point at
 * its source), and --set overrides edit it before binding (so overrides are validated exactly like
 * the file). Parsing itself is libyaml's. */
#ifndef CB_IO_YTREE_H
#define CB_IO_YTREE_H

#include <stddef.h>

#include "engine/err.h"

typedef enum { CB_Y_SCALAR, CB_Y_MAP, CB_Y_SEQ } cb_ykind;

typedef struct cb_ynode {
  cb_ykind kind;
  const char *src;     /* file path, or e.g. "--set #2"; owned by the tree */
  int line, col;       /* 1-based position of this node's value */
  char *value;         /* scalar text; NULL for maps and sequences */
  int quoted;          /* scalar was written in quotes */
  size_t n, cap;       /* number of children */
  char **keys;         /* maps only: keys[i] names children[i] */
  int *key_line, *key_col;
  struct cb_ynode **children;
} cb_ynode;

typedef struct cb_ytree {
  cb_ynode *root;      /* always a map after a successful load */
  char **srcs;         /* owned source names */
  size_t nsrcs;
} cb_ytree;

/* Loads a file; the root must be a mapping. Rejects duplicate keys, aliases/anchors, multiple
 * documents, non-scalar keys. Errors: CB_EIO (cannot open), CB_EPARSE (with file:line:column). */
int cb_ytree_load_file(cb_ytree *t, const char *path, cb_err *e);
/* Same, from a string; srcname is used in messages. */
int cb_ytree_load_string(cb_ytree *t, const char *text, const char *srcname, cb_err *e);
void cb_ytree_free(cb_ytree *t);

/* The node at a dotted path ("simulation.start", "categories.laptops.bulk"), or NULL. */
const cb_ynode *cb_ytree_get(const cb_ytree *t, const char *dotted);
/* Child of a map node by key, or NULL; *index gets its position when index != NULL. */
const cb_ynode *cb_ynode_child(const cb_ynode *map, const char *key, size_t *index);

/* Applies "dotted.path=value". The value is parsed as YAML flow text (a scalar, "[a, b]", or
 * "{k: v}") and replaces or creates the node at the path, creating intermediate maps; its source
 * is "--set #<index>" with the column inside the assignment. Errors (CB_EPARSE): no '=', an empty
 * path or segment, a path that runs through a scalar or sequence, an unparsable value. */
int cb_ytree_override(cb_ytree *t, const char *assignment, int index, cb_err *e);

/* Merges src over dst: mappings merge key by key, anything else in src replaces what dst had.
 * src's nodes and source names move to dst; src is left empty. */
int cb_ytree_merge(cb_ytree *dst, cb_ytree *src, cb_err *e);
/* Removes a top-level key; 1 if it was there. */
int cb_ytree_remove(cb_ytree *t, const char *key);

/* Scalar helpers used by the binder. Return 0 on success, -1 if the text is not of that form. */
int cb_yparse_int(const char *s, long long *out);     /* decimal, optional sign, '_' separators */
int cb_yparse_double(const char *s, double *out);     /* finite numbers only: rejects nan/inf */
int cb_yparse_bool(const char *s, int *out);          /* true/false/yes/no/on/off */

#endif
