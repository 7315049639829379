/* The content store: immutable blobs under <data-root>/blobs/sha256/<hex>
 * (DESIGN.md).  A blob is written to blobs/ingest/<hex>.partial, fsynced,
 * its size and digest verified, then renamed into place: no reader ever
 * sees a partial blob, and a digest mismatch leaves nothing behind.  A
 * partial file survives a crash so the next pull resumes it (HTTP Range)
 * instead of starting again. */
#pragma once
#include "util/error.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct content_store;
struct ingest;

int content_store_open(const char *data_root, struct content_store **out, berth_error_t **err);
void content_store_close(struct content_store *cs);

bool content_exists(struct content_store *cs, const char *digest);
/* Open a committed blob read-only; its path for mounting or logging. */
int content_open(struct content_store *cs, const char *digest, berth_error_t **err);
char *content_path(struct content_store *cs, const char *digest);
/* A small blob (manifest, config) read whole, NUL-terminated. */
int content_read(struct content_store *cs, const char *digest, char **buf, size_t *len, berth_error_t **err);
/* Store buf; *digest_out (may be NULL) gets its "sha256:<hex>". */
int content_put(struct content_store *cs, const void *buf, size_t len, char **digest_out, berth_error_t **err);
int content_delete(struct content_store *cs, const char *digest, berth_error_t **err);

/* Start writing the blob `digest` (size -1 when unknown).  An existing
 * partial file is kept and hashed again, so *offset says where a download
 * may resume. */
int ingest_begin(struct content_store *cs, const char *digest, int64_t size, struct ingest **out, int64_t *offset,
                 berth_error_t **err);
/* Append; more bytes than the expected size is an error. */
int ingest_write(struct ingest *in, const void *buf, size_t len, berth_error_t **err);
/* Verify size and digest and move the blob into place; on a mismatch the
 * partial file is removed.  Frees in either way. */
int ingest_commit(struct ingest *in, berth_error_t **err);
/* Give up and remove the partial file (keep_partial: leave it to resume). */
void ingest_abort(struct ingest *in, bool keep_partial);

/* A blob whose digest is known only once it is all written (a file of a
 * docker-archive named by path, an imported tarball): written to a
 * uniquely named partial file, hashed as it goes, and filed under that
 * digest by ingest_commit_unnamed, which returns it in *digest_out (may
 * be NULL).  ingest_write and ingest_abort apply as usual; ingest_commit
 * refuses it. */
int ingest_begin_unnamed(struct content_store *cs, struct ingest **out, berth_error_t **err);
int ingest_commit_unnamed(struct ingest *in, char **digest_out, berth_error_t **err);

struct store_check_report {
        unsigned blobs;          /* blobs verified */
        unsigned corrupt;        /* blobs whose content did not match: removed */
        unsigned stale_ingests;  /* partial files older than max_ingest_age: removed */
};
/* Verify every blob's digest; remove what does not match and partial
 * files older than max_ingest_age seconds (0: keep them). */
int content_check(struct content_store *cs, unsigned max_ingest_age, struct store_check_report *r,
                  berth_error_t **err);
