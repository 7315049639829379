/* Internals shared by the archive files (archive-common.c: paths, blob
 * streams, the tar writer, names; archive-docker.c: save; archive-load.c:
 * load; oci-layout.c: export; image-import.c: import); not an API. */
#pragma once
#include "image/archive.h"
#include "image/manifest-internal.h"
#include "image/store.h"
#include <archive.h>
#include <archive_entry.h>
#include <stdbool.h>

#define ARCHIVE_BUF (128 * 1024)
#define ARCHIVE_PATH_MAX 4096
#define ARCHIVE_LINK_HOPS 16
#define OCI_LAYOUT_JSON "{\"imageLayoutVersion\":\"1.0.0\"}"

static inline void archive_read_freep(struct archive **a)
{
        if (*a)
                archive_read_free(*a);
}
/* A writer dropped on an error path must not finish the tar: a truncated
 * archive with a valid end marker would look whole. */
static inline void archive_write_failp(struct archive **a)
{
        if (*a) {
                archive_write_fail(*a);
                archive_write_free(*a);
        }
}
#define _cleanup_archive_read_ __attribute__((cleanup(archive_read_freep)))
#define _cleanup_archive_write_ __attribute__((cleanup(archive_write_failp)))

/* libarchive's message for a failure of a, after what. */
int archive_fail(struct archive *a, const char *what, berth_error_t **err);
/* The decompressors a reader may use: gzip and zstd always, xz and bzip2
 * when libarchive has them built in; never an external program. */
int archive_read_filters(struct archive *a, berth_error_t **err);

/* An entry name made canonical: "./a//b/" is "a/b", the top is "".
 * Absolute names and ".." components are refused. */
int archive_path_clean(const char *name, char **out, berth_error_t **err);
/* Where a symlink at link_path (clean) pointing at target leads, resolved
 * lexically; absolute targets and ones that climb out are refused. */
int archive_link_resolve(const char *link_path, const char *target, char **out, berth_error_t **err);

/* Size of a committed blob. */
int blob_size(struct content_store *cs, const char *digest, int64_t *size, berth_error_t **err);
/* What the first bytes of a stored blob say it is. */
int blob_sniff(struct content_store *cs, const char *digest, enum layer_compression *out, berth_error_t **err);

/* A stored blob read decompressed (gzip or zstd) or as it is. */
struct blob_stream {
        int fd;
        struct archive *raw;    /* NULL when uncompressed */
        const char *digest;
};
int blob_stream_open(struct content_store *cs, const char *digest, enum layer_compression c, struct blob_stream *s,
                     berth_error_t **err);
/* Up to len bytes; 0 at the end. */
ssize_t blob_stream_read(struct blob_stream *s, void *buf, size_t len, berth_error_t **err);
void blob_stream_close(struct blob_stream *s);
/* Size and digest of the decompressed blob. */
int blob_uncompressed(struct content_store *cs, const char *digest, enum layer_compression c, int64_t *size,
                      char **diff_id, berth_error_t **err);

/* The tar writer: pax (ustar unless a field needs more), mtime 0, 0:0. */
int tarw_open(int fd, struct archive **out, berth_error_t **err);
int tarw_dir(struct archive *a, const char *path, berth_error_t **err);
int tarw_buf(struct archive *a, const char *path, const void *buf, size_t len, berth_error_t **err);
/* A stored blob, decompressed as c says; exactly size bytes or an error. */
int tarw_blob(struct archive *a, struct content_store *cs, const char *path, const char *digest,
              enum layer_compression c, int64_t size, berth_error_t **err);
/* Finish the tar and free the writer (*a is NULL after, either way). */
int tarw_close(struct archive **a, berth_error_t **err);

/* A name given to save or export, in every form the formats want. */
struct tag_name {
        char *full;     /* docker.io/library/busybox:latest */
        char *familiar; /* busybox:latest */
        char *repo;     /* busybox */
        char *tag;      /* latest */
};
int tag_names_parse(const char *const *tags, struct tag_name **out, size_t *n, berth_error_t **err);
void tag_names_free(struct tag_name *t, size_t n);

/* An image of the store, read and checked whole: manifest, config, every
 * blob present. */
struct stored_image {
        const char *manifest_digest;
        char *manifest_raw;
        size_t manifest_len;
        struct manifest *m;
        struct image_config *config;
        struct tag_name *tags;
        size_t n_tags;
};
int stored_image_read(struct content_store *cs, const struct archive_image *in, struct stored_image *out,
                      berth_error_t **err);
void stored_image_clear(struct stored_image *si);

/* Append the index.json entries of a manifest: one per name, or one
 * without annotations when there is none.  platform may be NULL. */
void index_add_manifest(json_t *manifests, const char *media_type, const char *digest, int64_t size,
                        const struct tag_name *tags, size_t n_tags, json_t *platform);
json_t *index_new(json_t *manifests);
/* Compact JSON, malloc'd. */
char *json_compact(json_t *j, size_t *len);
/* "blobs/sha256/<hex>" */
char *blob_path(const char *digest);
