/* The image store: the content store (blobs), the unpacked layers
 * (<data-root>/layers/<chain-id hex>/diff, overlay lowerdirs) and the
 * metadata in berth.db, kept consistent with each other.
 *
 * Order of writes, so a kill -9 at any moment leaves something the next
 * open repairs or the next pull finishes:
 *   1. blobs: ingest, fsync, verify, rename (store.c); a partial ingest is
 *      resumed by the next pull;
 *   2. a layer: extracted into layers/.tmp-*, its DiffID verified, renamed
 *      to layers/<hex>, then recorded (refs 0);
 *   3. the image: recorded with its names in one transaction.
 * Opening the store removes .tmp-* directories, layer directories never
 * recorded, and records of layers whose directory is gone.
 * image_store_check does the slow part: every blob's digest, every image's
 * blobs and layers, re-extracting a missing layer from its blob when it
 * can, and reference counts.
 *
 * One process owns a data root at a time: image_store_open takes an
 * exclusive lock on <data-root>/image-store.lock (held until close; the
 * kernel drops it if the process dies). */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct image_store;
struct content_store;
struct imagedb;

int image_store_open(const char *data_root, struct image_store **out, berth_error_t **err);
void image_store_close(struct image_store *s);
static inline void image_store_closep(struct image_store **s) { image_store_close(*s); }
struct content_store *image_store_content(struct image_store *s);
struct imagedb *image_store_db(struct image_store *s);
const char *image_store_root(struct image_store *s);
/* "<data-root>/layers/<hex>/diff" of a chain id (not checked). */
char *image_store_layer_path(struct image_store *s, const char *chain_id);

/* An image by reference ("busybox", "localhost:5000/a:b",
 * "name@sha256:..."), full id ("sha256:<hex>") or a unique id prefix
 * (at least 4 hex characters).  Not found is an error with status ENOENT:
 * "No such image: NAME". */
int image_store_resolve(struct image_store *s, const char *name, char **id, berth_error_t **err);

/* Progress of a pull or push, per layer, as Docker reports it: id is the
 * first 12 hex digits of the blob, status one of "Pulling fs layer",
 * "Waiting", "Downloading", "Verifying Checksum", "Download complete",
 * "Extracting", "Pull complete", "Already exists", "Preparing",
 * "Pushing", "Pushed", "Layer already exists", "Mounted from <repo>".
 * current/total in bytes where they mean something (-1 otherwise).
 * Called from the calling thread and from worker threads, one call at a
 * time. */
struct image_progress {
        const char *id;
        const char *status;
        int64_t current, total;
};
typedef void (*image_progress_fn)(void *data, const struct image_progress *p);

/* Record the image whose single-platform manifest is in the content store
 * (its config and layer blobs too): unpack the layers not yet unpacked,
 * record the image and point names (fully qualified references) at it.
 * index_digest: the manifest list it came from, or NULL.  *id (may be
 * NULL) gets the image id (its config digest). */
int image_store_register(struct image_store *s, const char *manifest_digest, const char *index_digest,
                         const char *const *names, image_progress_fn progress, void *progress_data, char **id,
                         berth_error_t **err);

/* Unpack one layer whose compressed (or plain) tar is read from fd:
 * extract into a temporary directory, verify the DiffID, rename into
 * place (if another thread got there first, its copy stays), set
 * l->size.  Thread-safe; does not touch the database: the thread owning
 * the store records the layer with image_store_record_layer (refs 0).
 * blob_digest and media_type are recorded (NULL when unknown). */
struct layer_unpack {
        const char *chain_id, *parent_chain_id, *diff_id;
        const char *blob_digest, *media_type;
        int64_t size;           /* out: unpacked bytes */
};
int image_store_unpack_layer(struct image_store *s, struct layer_unpack *l, int fd, berth_error_t **err);
int image_store_record_layer(struct image_store *s, const struct layer_unpack *l, berth_error_t **err);
/* The layer is recorded and its directory exists. */
bool image_store_has_layer(struct image_store *s, const char *chain_id);

struct image_check_report {
        unsigned blobs, corrupt_blobs, stale_ingests;   /* from content_check */
        unsigned layers, reextracted, layers_removed;   /* layer rows checked; repaired */
        unsigned images, images_removed, refs_fixed;
        char **repaired;        /* one line per repair, NULL-terminated */
};
/* Verify and repair, as described above.  The report is the caller's to
 * clear. */
int image_store_check(struct image_store *s, struct image_check_report *r, berth_error_t **err);
void image_check_report_clear(struct image_check_report *r);

/* Garbage collection: layers no image uses, blobs no image holds, partial
 * ingests older than an hour. */
struct image_gc_report {
        unsigned layers, blobs;
        uint64_t bytes;         /* blob bytes freed */
};
int image_store_gc(struct image_store *s, struct image_gc_report *r, berth_error_t **err);

/* ---- shared by image-store.c, image-check.c, pull.c ------------------ */
struct manifest;
struct image_config;
/* A manifest with its config, checked against each other, and the chain
 * id of every layer. */
struct image_plan {
        struct manifest *m;
        struct image_config *cfg;
        char *manifest_media_type;
        char **chains;          /* one per layer, bottom first, NULL-terminated */
};
int image_plan_from_manifest(struct image_plan *p, const char *manifest, size_t len, const char *content_type,
                             const char *config, size_t config_len, berth_error_t **err);
/* Record the image (its layers are unpacked and recorded) and its names,
 * in one transaction. */
int image_plan_record(struct image_store *s, const struct image_plan *p, const char *manifest_digest,
                      const char *index_digest, const char *const *names, char **id_out, berth_error_t **err);
void image_plan_clear(struct image_plan *p);
