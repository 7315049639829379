/* Images in and out of tar archives, between the content store and the
 * outside world; the image metadata (names, ids) is the caller's: these
 * functions take and return manifest digests.
 *
 * save    docker-archive as Docker 25+ writes it (`docker save`), which
 *         `docker load`, `podman load` and skopeo read: an OCI image layout
 *         (oci-layout, index.json, blobs/sha256/) plus manifest.json and
 *         repositories.  Layers are written uncompressed (blob = DiffID),
 *         so each image gets a new OCI manifest, as Docker does.  Streamed,
 *         deterministic (sorted entries, mtime 0, owner 0:0).
 * load    docker-archive (that form, the legacy one with "<id>/layer.tar"
 *         and "<hex>.json", podman's and go-containerregistry's) or an OCI
 *         image archive, plain, gzip or zstd, read once as a stream.
 * import  a root filesystem tarball as a one-layer image (`docker import`).
 * export  an OCI image layout, blobs exactly as stored, into a directory
 *         or as a tar.
 *
 * Archives are hostile input: entry names that are absolute or climb out
 * with ".." are refused, and so are symlinks leading out of the archive;
 * every blob named by digest is verified before it is committed; JSON
 * files are bounded (ARCHIVE_JSON_MAX); images are checked whole (config,
 * every layer, uncompressed layers against the config's diff_ids) before
 * the callback hears of any. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct content_store;

#define ARCHIVE_JSON_MAX        (4 << 20)       /* manifest.json, index.json */
#define ARCHIVE_MAX_IMAGES      10000           /* entries of manifest.json / index.json */
#define ARCHIVE_MAX_TAGS        1000            /* names per image */
#define ARCHIVE_MAX_ENTRIES     200000          /* files and links an archive may name */

/* An image to write: a single-platform image manifest (Docker schema2 or
 * OCI) in the store, and its names, any form image_ref_parse takes
 * ("busybox", "busybox:latest", "localhost:5000/x:y"); each needs a tag
 * (none given: "latest"), digests are refused. */
struct archive_image {
        const char *manifest_digest;
        const char *const *repo_tags;   /* NULL-terminated; NULL or empty: untagged */
};

int archive_save(struct content_store *cs, const struct archive_image *images, size_t n, int out_fd,
                 berth_error_t **err);

/* Called once per image loaded, after every image of the archive has been
 * checked: manifest_digest is an image manifest whose config and layers
 * are all in the store; repo_tags (NULL-terminated, maybe empty) are in
 * the familiar form Docker prints ("busybox:latest", "localhost:5000/x:y";
 * image_ref_parse gives the full reference back), deduplicated.  A
 * negative return stops the load with that error.
 *
 * Errors carry no "load: "/"save: "/"import: " prefix: callers add it. */
typedef int (*archive_loaded_fn)(void *data, const char *manifest_digest, const char *const *repo_tags,
                                 berth_error_t **err);

/* Read a docker-archive or OCI archive from in_fd (a pipe is fine).
 * Blobs are committed to the store as they pass, so a load that fails
 * late leaves verified blobs no image holds (garbage collection's).
 * A docker-archive keeps the manifest of its index.json when one matches
 * manifest.json's config and layers; otherwise an OCI manifest is made
 * for it.  An index in an OCI archive gives this host's platform. */
int archive_load(struct content_store *cs, int in_fd, archive_loaded_fn cb, void *data, berth_error_t **err);

/* docker import.  The layer is the decompressed tarball, stored
 * uncompressed (its digest is the DiffID; push compresses it if it must)
 * after checking that it is a tar. */
struct image_import_opts {
        const char *const *changes;     /* Dockerfile instructions, NULL-terminated; may be NULL */
        const char *message;            /* history comment; NULL: "Imported from -" */
        const char *platform;           /* "linux/arm64"...; NULL: this host's */
        time_t created;                 /* 0: now */
};
int image_import(struct content_store *cs, int tar_fd, const struct image_import_opts *o,
                 char **manifest_digest_out, berth_error_t **err);

/* `docker import --change` / `docker commit --change`: apply Dockerfile
 * instructions to config, the "config" object of an image config (Cmd,
 * Env...).  CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME,
 * WORKDIR; anything else (ONBUILD included) is an error.  No $VAR
 * expansion. */
int image_changes_apply(json_t *config, const char *const *changes, berth_error_t **err);

/* Write an OCI image layout of the images, blobs as stored (manifest,
 * config, layers compressed as pulled): into dir (created if needed; its
 * index.json is replaced; blobs are hard links to the store's when on the
 * same filesystem, so they must be treated as read-only, copies
 * otherwise), or, with dir NULL, as a tar to tar_fd.  index.json has one
 * entry per name, annotated org.opencontainers.image.ref.name (the tag, by
 * OCI convention) and io.containerd.image.name (the full name). */
int oci_layout_export(struct content_store *cs, const struct archive_image *images, size_t n, const char *dir,
                      int tar_fd, berth_error_t **err);
