/* Shared by the engine-archive*.c files (docker cp, export) and
 * engine-commit.c (docker commit): container paths resolved inside the
 * container (engine-archive-path.c) and trees written as tar streams
 * (engine-archive-tar.c); not an API. */
#pragma once
#include "engine/engine-internal.h"
#include <archive.h>

static inline void archive_json_decrefp(json_t **j) { json_decref(*j); }
#define _cleanup_archive_json_ __attribute__((cleanup(archive_json_decrefp)))

/* ---- trees as tar (engine-archive-tar.c) ---- */

/* Where a tree goes: libarchive's writer callbacks end in write(data). */
struct tree_tar {
        engine_write_fn write;
        void *data;
        /* overlay upper dir to image layer: 0:0 character devices become
         * ".wh.NAME", opaque directories get a ".wh..wh..opq" entry */
        bool whiteouts;
        /* The container's config.json and the container path of the top,
         * to see the bind mounts below it (NULL: none).  docker cp shows
         * what is mounted there; a commit leaves out the empty files the
         * runtime made as mount points (/etc/hostname...), as dockerd's
         * init layer keeps them out of its commits. */
        json_t *config;
        const char *top_path;
        uint64_t entries;       /* out: entries written */
};

/* Open a tar writer for t (pax where needed, ustar otherwise, no padding
 * after the end-of-archive blocks, as Go's archive/tar writes). */
int tree_tar_open(struct tree_tar *t, struct archive **out, berth_error_t **err);
/* Write fd (an O_PATH fd on a directory or anything else) under the
 * entry name `name` and, for a directory, everything below it as
 * name/...; include_top false leaves out the entry of the top directory
 * itself (export, layer diffs; name is "" then).  Symlinks are written as
 * symlinks, never followed; every node below fd is opened from its
 * parent's fd with O_NOFOLLOW. */
int tree_tar_write(struct tree_tar *t, struct archive *a, int fd, const char *name, bool include_top,
                   berth_error_t **err);
/* End the archive (or fail it, without the end marker, when ok is false)
 * and free the writer. */
int tree_tar_close(struct archive *a, bool ok, berth_error_t **err);

/* ---- container paths (engine-archive-path.c) ---- */

/* The container, refusing one that is being removed. */
int archive_ctr(struct engine *e, const char *name, struct ctr **out, berth_error_t **err);

/* Docker's absPath: "/" + path cleaned lexically (".." folded, never
 * above "/"), keeping a trailing "/" or "/." the user gave. */
char *cpath_abs(const char *path);
/* Go's filepath.Base of an absPath: what docker names entry and stat. */
char *cpath_base(const char *abs);
/* An O_PATH fd on what path names inside root, every symlink followed
 * inside it (openat2 RESOLVE_IN_ROOT, or a careful walk without it); dir:
 * it must be a directory.  -errno on failure. */
int cpath_open_in_root(int root, const char *path, bool dir);
/* The bind mount of config.json whose destination is the longest prefix
 * of abs (a clean absolute path); *dest_len the destination's length. */
json_t *cpath_find_mount(json_t *config, const char *abs, size_t *dest_len);
/* ENOENT "Could not find the file P in container N" for -ENOENT and
 * -ENOTDIR, the errno otherwise. */
int cpath_not_found(berth_error_t **err, int r, const char *path, const char *name);

/* Where a container path lives: the rootfs, or the source of the bind
 * mount (volume, /etc/hostname...) whose destination holds it. */
struct ctr_root {
        int fd;                 /* O_PATH */
        char *host;             /* its path here, to tell where an fd is */
        char *dest;             /* where the container sees it: "/" or the mount's destination */
        bool read_only;         /* --read-only rootfs, or a mount with "ro" */
};
/* The root for abs (clean); *rel gets the part of abs inside it. */
int ctr_root_open(struct engine *e, struct ctr *c, const char *abs, struct ctr_root *r, const char **rel,
                  berth_error_t **err);
void ctr_root_clear(struct ctr_root *r);
/* The container path of fd, something under r; NULL if it is not. */
char *ctr_root_path(const struct ctr_root *r, int fd);

/* A container path, found: its root, an O_PATH fd on it, docker's
 * absPath, and the path inside the root. */
struct ctr_target {
        struct ctr_root root;
        int fd;
        char *abs;
        char *rel;
};
/* Resolve path in c as docker does: the directory part with every
 * symlink followed (inside the root), the last component as it is,
 * unless a trailing "/" or "/." asks for a directory. */
int ctr_target_open(struct engine *e, struct ctr *c, const char *name, const char *path, struct ctr_target *t,
                    berth_error_t **err);
void ctr_target_clear(struct ctr_target *t);
