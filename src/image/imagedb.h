/* Image metadata in <data-root>/berth.db (SQLite, WAL): images, the names
 * (tags and repo digests) pointing at them, unpacked layers with reference
 * counts, and which blobs each image holds in the content store.
 *
 * Blobs and layer directories are written first and recorded here last, in
 * one transaction, so a crash at any moment leaves either nothing recorded
 * or a complete record.  What a crash can leave on disk without a record
 * (a partial ingest, a layer directory never recorded) the image store's
 * repair finds and finishes or removes.
 *
 * A layer's refs count the images whose stacks include it (a container
 * holds its image, and so its layers, through the containers table); a
 * layer with refs 0 is kept until garbage collection, so a pull
 * interrupted after some layers reuses them.
 *
 * Not thread-safe: one connection, used by one thread at a time (the
 * puller's workers hand their results to the calling thread). */
#pragma once
#include "util/error.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imagedb;

struct imagedb_image {
        char *id;               /* config digest: "sha256:<hex>" */
        char *manifest_digest;  /* the single-platform manifest in the content store */
        char *media_type;       /* of that manifest */
        char *index_digest;     /* the manifest list it was chosen from, or NULL */
        char *platform;         /* "linux/amd64" */
        char *created;          /* from the config, or NULL */
        int64_t size;           /* unpacked bytes of all layers */
        int64_t added;          /* unix time of the pull, load or import */
};

struct imagedb_layer {
        char *chain_id;         /* "sha256:<hex>" */
        char *diff_id;
        char *parent;           /* parent's chain id, NULL for the bottom layer */
        char *blob_digest;      /* the (compressed) blob it came from, NULL when unknown */
        char *media_type;
        int64_t size;           /* unpacked bytes */
        int64_t refs;
};

int imagedb_open(const char *path, struct imagedb **out, berth_error_t **err);
void imagedb_close(struct imagedb *db);

/* Transactions (BEGIN IMMEDIATE): every write of the image store happens
 * inside one.  rollback never fails. */
int imagedb_begin(struct imagedb *db, berth_error_t **err);
int imagedb_commit(struct imagedb *db, berth_error_t **err);
void imagedb_rollback(struct imagedb *db);

/* ---- layers ---------------------------------------------------------- */
/* 1 and *out filled (out may be NULL), 0 when absent. */
int imagedb_layer_get(struct imagedb *db, const char *chain_id, struct imagedb_layer *out, berth_error_t **err);
/* Record an unpacked layer (refs 0); an existing row is left as it is. */
int imagedb_layer_add(struct imagedb *db, const struct imagedb_layer *l, berth_error_t **err);
int imagedb_layer_delete(struct imagedb *db, const char *chain_id, berth_error_t **err);
/* refs += delta. */
int imagedb_layer_ref(struct imagedb *db, const char *chain_id, int delta, berth_error_t **err);
typedef int (*imagedb_layer_fn)(void *data, const struct imagedb_layer *l, berth_error_t **err);
int imagedb_layer_each(struct imagedb *db, imagedb_layer_fn fn, void *data, berth_error_t **err);
void imagedb_layer_clear(struct imagedb_layer *l);

/* ---- images ---------------------------------------------------------- */
/* Record an image with its layer stack (chain ids, bottom first; each
 * layer's refs incremented) and the blobs it holds.  An image already
 * recorded is left as it is and 0 returned; 1 when added. */
int imagedb_image_add(struct imagedb *db, const struct imagedb_image *img, const char *const *chain_ids, size_t n,
                      const char *const *blobs, size_t n_blobs, berth_error_t **err);
/* Remove the image, its names and blob records, decrementing its layers'
 * refs. */
int imagedb_image_delete(struct imagedb *db, const char *id, berth_error_t **err);
int imagedb_image_get(struct imagedb *db, const char *id, struct imagedb_image *out, berth_error_t **err);
/* The chain ids of an image's layers, bottom first (NULL-terminated). */
int imagedb_image_layers(struct imagedb *db, const char *id, char ***out, size_t *n, berth_error_t **err);
typedef int (*imagedb_image_fn)(void *data, const struct imagedb_image *img, berth_error_t **err);
int imagedb_image_each(struct imagedb *db, imagedb_image_fn fn, void *data, berth_error_t **err);
void imagedb_image_clear(struct imagedb_image *img);
/* Image ids whose id starts with prefix ("sha256:abc" or "abc"): 1 and
 * *id when exactly one, 0 when none, an error when ambiguous. */
int imagedb_image_find_prefix(struct imagedb *db, const char *prefix, char **id, berth_error_t **err);

/* ---- names: tags ("docker.io/library/busybox:latest") and repo digests
 * ("docker.io/library/busybox@sha256:...") ------------------------------ */
/* Point name at id, moving it from any other image; *old_id (may be NULL)
 * gets the image it pointed at before, when another. */
int imagedb_name_set(struct imagedb *db, const char *name, const char *id, char **old_id, berth_error_t **err);
int imagedb_name_delete(struct imagedb *db, const char *name, berth_error_t **err);
/* 1 and *id when the name exists, 0 when not. */
int imagedb_name_get(struct imagedb *db, const char *name, char **id, berth_error_t **err);
/* Names of an image, sorted (NULL-terminated); digests: the @ names,
 * else the tags. */
int imagedb_image_names(struct imagedb *db, const char *id, bool digests, char ***out, berth_error_t **err);

/* ---- blobs held by images, for garbage collection -------------------- */
/* 1 when some image holds digest. */
int imagedb_blob_used(struct imagedb *db, const char *digest, berth_error_t **err);

/* ---- containers using an image (their rootfs holds its layers) ------- */
int imagedb_container_add(struct imagedb *db, const char *container_id, const char *image_id, berth_error_t **err);
/* 1 when removed, 0 when unknown. */
int imagedb_container_delete(struct imagedb *db, const char *container_id, char **image_id, berth_error_t **err);
/* Number of containers using image id. */
int imagedb_image_users(struct imagedb *db, const char *id, int64_t *n, berth_error_t **err);

/* For the store check: recompute every layer's refs from the images and
 * containers that use it; *fixed gets how many rows were wrong. */
int imagedb_fix_refs(struct imagedb *db, unsigned *fixed, berth_error_t **err);
