/* Internals of layer extraction, shared by layer*.c; not an API. */
#pragma once
#include "image/layer.h"
#include "util/util.h"
#include <archive.h>
#include <archive_entry.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <time.h>

/* How every path inside the destination is resolved. */
#define LAYER_RESOLVE (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

/* A set of paths (open addressing); the paths this layer created. */
struct layer_pathset {
        char **slots;
        size_t cap, used;
};

struct layer_dirtime {
        char *path;
        struct timespec ts[2];
};

struct layer_ctx {
        struct archive *a;
        int destfd; /* O_RDONLY|O_DIRECTORY */
        struct layer_apply_opts o;
        struct layer_stats *st;
        struct layer_pathset mine;
        /* the last parent directory opened: layers list files dir by dir */
        char *cache_path;
        int cache_fd;
        struct layer_dirtime *dirs;
        size_t ndirs, capdirs;
};

/* layer-path.c */
/* Clean a tar name lexically: no leading '/', no "." or empty components,
 * ".." folded.  "" is the root.  NULL when ".." leads above the root. */
char *layer_clean_path(const char *name);
/* Split a cleaned path: *dir gets a copy of the parent path ("" for the
 * root), the return value points at the last component inside path. */
const char *layer_split(const char *path, char **dir);
/* "name" quoted for a one-line message: escapes, truncated. */
char *layer_quote(const char *name);
/* openat2(destfd, path, flags, LAYER_RESOLVE | extra) with EAGAIN retried;
 * "" is the root.  Returns the fd or -1 with errno. */
int layer_openat2(int destfd, const char *path, int flags, unsigned long long extra);
/* A new O_PATH fd on directory dir inside the destination.  create: make
 * missing directories (0755).  no_symlinks: refuse symlinks on the way
 * (ELOOP).  Returns the fd or -errno (no message: callers name the entry). */
int layer_open_dir(struct layer_ctx *c, const char *dir, bool create, bool no_symlinks);
/* Forget the cached parent: call after removing anything. */
void layer_cache_drop(struct layer_ctx *c);
/* Remove name in dirfd, a whole tree if it is a directory; symlinks are
 * removed, never followed.  ENOENT is success.  Returns 0 or -errno. */
int layer_remove_tree(int dirfd, const char *name);
/* Remove the content of directory fd (which is path) except what this
 * layer created (c->mine); kept directories are cleaned recursively. */
int layer_remove_lower(struct layer_ctx *c, int fd, const char *path);

void layer_pathset_free(struct layer_pathset *s);
bool layer_pathset_has(const struct layer_pathset *s, const char *path);
/* Add path and its ancestors. */
void layer_pathset_add(struct layer_pathset *s, const char *path);

/* layer-entry.c */
/* Create what entry e describes at path (cleaned, not the root). */
int layer_create(struct layer_ctx *c, struct archive_entry *e, const char *path, berth_error_t **err);
/* Metadata for the root entry ("./"). */
int layer_root_meta(struct layer_ctx *c, struct archive_entry *e, berth_error_t **err);
/* Set the deferred directory times.  */
int layer_finish_dirs(struct layer_ctx *c, berth_error_t **err);

/* layer-whiteout.c */
/* base starts with ".wh.": apply or convert the whiteout at dir/base. */
int layer_whiteout(struct layer_ctx *c, const char *dir, const char *base, berth_error_t **err);
