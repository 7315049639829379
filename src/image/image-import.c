/* docker import: a root filesystem tarball (plain, gzip, zstd, xz, bzip2)
 * becomes a one-layer image.
 *
 * The layer is stored decompressed, so its digest is its DiffID and the
 * bytes stay exactly the tarball's; a registry push compresses it if it
 * wants.  Two libarchive readers in a chain, as in layer.c: the first
 * (raw format) decompresses and everything it yields goes into the store;
 * the second reads that as tar, only to refuse what is not a tar.  One
 * pass, so stdin works. */
#include "image/archive-internal.h"
#include "image/digest.h"
#include <time.h>

struct import_source {
        struct archive *raw;
        struct ingest *in;
        int64_t total;
        bool eof;
        berth_error_t *err;     /* the store's failure, inside a libarchive callback */
};

/* The decompressed stream, block by block, into the store as it passes. */
static la_ssize_t tee_cb(struct archive *a, void *data, const void **buf)
{
        struct import_source *s = data;
        la_int64_t off;
        size_t len = 0;
        int r;

        if (s->eof)
                return 0;
        r = archive_read_data_block(s->raw, buf, &len, &off);
        if (r == ARCHIVE_EOF) {
                s->eof = true;
                return 0;
        }
        if (r < ARCHIVE_WARN) {
                archive_set_error(a, archive_errno(s->raw), "%s", archive_error_string(s->raw));
                return -1;
        }
        if (ingest_write(s->in, *buf, len, &s->err) < 0) {
                archive_set_error(a, EIO, "%s", s->err->msg);
                return -1;
        }
        s->total += (int64_t)len;
        return (la_ssize_t)len;
}

static int open_raw(struct import_source *s, int fd, berth_error_t **err)
{
        struct archive_entry *e;

        s->raw = archive_read_new();
        if (s->raw == NULL)
                abort();
        if (archive_read_filters(s->raw, err) < 0)
                return -1;
        if (archive_read_support_format_raw(s->raw) != ARCHIVE_OK ||
            archive_read_open_fd(s->raw, fd, ARCHIVE_BUF) != ARCHIVE_OK)
                return archive_fail(s->raw, "read the tarball", err);
        if (archive_read_next_header(s->raw, &e) != ARCHIVE_OK)
                return archive_fail(s->raw, "read the tarball", err);
        return 0;
}

/* Walk the tar (headers only), then take in whatever follows its end. */
static int check_tar(struct import_source *s, berth_error_t **err)
{
        _cleanup_archive_read_ struct archive *tar = archive_read_new();
        struct archive_entry *e;
        const void *buf;
        int r;

        if (tar == NULL)
                abort();
        if (archive_read_support_format_tar(tar) != ARCHIVE_OK ||
            archive_read_open(tar, s, NULL, tee_cb, NULL) != ARCHIVE_OK)
                return archive_fail(tar, "not a tar archive", err);
        while ((r = archive_read_next_header(tar, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
                if (archive_read_data_skip(tar) < ARCHIVE_WARN)
                        break;
        if (r != ARCHIVE_EOF)
                return archive_fail(tar, s->total > 0 ? "not a tar archive" : "read the tarball", err);
        while ((r = (int)tee_cb(tar, s, &buf)) > 0)
                ;
        if (r < 0)
                return archive_fail(tar, "read the tarball", err);
        return 0;
}

/* The tarball into the store; *diff_id and *size of the layer. */
static int store_layer(struct content_store *cs, int fd, char **diff_id, int64_t *size, berth_error_t **err)
{
        struct import_source s = { 0 };
        int ret = -1;

        if (ingest_begin_unnamed(cs, &s.in, err) < 0)
                return -1;
        if (open_raw(&s, fd, err) < 0 || check_tar(&s, err) < 0) {
                ingest_abort(s.in, false);
                goto out;
        }
        ret = ingest_commit_unnamed(s.in, diff_id, err);
        *size = s.total;
out:
        if (s.raw)
                archive_read_free(s.raw);
        berth_error_free(&s.err);
        return ret;
}

/* RFC 3339 in UTC as Go writes it: nanoseconds when they are known. */
static char *created_string(time_t given)
{
        struct timespec ts = { given, 0 };
        char buf[64];
        struct tm tm;
        size_t n;

        if (given == 0)
                clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        if (ts.tv_nsec != 0)
                snprintf(buf + n, sizeof(buf) - n, ".%09ldZ", ts.tv_nsec);
        else
                snprintf(buf + n, sizeof(buf) - n, "Z");
        return xstrdup(buf);
}

static json_t *config_doc(const struct platform *p, const char *created, const char *comment, json_t *config,
                          const char *diff_id)
{
        json_t *doc = json_pack("{s:s, s:s}", "architecture", p->arch, "os", p->os);

        if (p->variant != NULL)
                json_object_set_new(doc, "variant", json_string(p->variant));
        json_object_set_new(doc, "created", json_string(created));
        json_object_set_new(doc, "comment", json_string(comment));
        json_object_set(doc, "config", config);
        json_object_set_new(doc, "rootfs", json_pack("{s:s, s:[s]}", "type", "layers", "diff_ids", diff_id));
        json_object_set_new(doc, "history", json_pack("[{s:s, s:s}]", "created", created, "comment", comment));
        return doc;
}

/* Config and manifest around the stored layer. */
static int store_image(struct content_store *cs, const json_t *cfg_doc, const char *diff_id, int64_t layer_size,
                       char **out, berth_error_t **err)
{
        _cleanup_free_ char *config = NULL, *config_digest = NULL, *manifest = NULL;
        _cleanup_json_ json_t *m = NULL;
        size_t config_len, manifest_len;

        config = json_compact((json_t *)cfg_doc, &config_len);
        if (content_put(cs, config, config_len, &config_digest, err) < 0)
                return -1;
        m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2, "mediaType",
                      MEDIA_TYPE_OCI_MANIFEST, "config", "mediaType", MEDIA_TYPE_OCI_CONFIG, "digest", config_digest,
                      "size", (json_int_t)config_len, "layers", "mediaType", MEDIA_TYPE_OCI_LAYER, "digest", diff_id,
                      "size", (json_int_t)layer_size);
        manifest = json_compact(m, &manifest_len);
        return content_put(cs, manifest, manifest_len, out, err);
}

int image_import(struct content_store *cs, int tar_fd, const struct image_import_opts *o,
                 char **manifest_digest_out, berth_error_t **err)
{
        static const struct image_import_opts defaults = { 0 };
        _cleanup_platform_ struct platform p = { 0 };
        _cleanup_json_ json_t *config = json_object(), *doc = NULL;
        _cleanup_free_ char *created = NULL, *diff_id = NULL;
        int64_t size = 0;

        if (o == NULL)
                o = &defaults;
        /* everything that can be refused is, before the stream is read */
        if (platform_parse(o->platform, &p, err) < 0 || image_changes_apply(config, o->changes, err) < 0)
                return -1;
        created = created_string(o->created);
        if (store_layer(cs, tar_fd, &diff_id, &size, err) < 0)
                return -1;
        doc = config_doc(&p, created, o->message ? o->message : "Imported from -", config, diff_id);
        return store_image(cs, doc, diff_id, size, manifest_digest_out, err);
}
