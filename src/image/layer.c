/* Layer extraction: the stream, the entry loop, dispatch.
 *
 * Two libarchive readers in a chain: the first (raw format, gzip and zstd
 * filters) decompresses; its output is counted against max_bytes, hashed
 * into the DiffID and fed to the second, which reads tar only.  Nothing
 * but tar is accepted, and no external decompressor is ever run. */
#include "image/layer-internal.h"
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>

#define READ_BUF (128 * 1024)

struct source {
        int fd;
        layer_read_fn fn;
        void *cookie;
        char *buf;
        struct archive *raw;
        EVP_MD_CTX *md;
        uint64_t max, total;
        bool raw_eof;
};

static la_ssize_t input_cb(struct archive *a, void *data, const void **buf)
{
        struct source *s = data;
        ssize_t n;

        do
                n = s->fn != NULL ? s->fn(s->cookie, s->buf, READ_BUF) : read(s->fd, s->buf, READ_BUF);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                archive_set_error(a, errno, "read the layer stream: %s", strerror(errno));
                return -1;
        }
        *buf = s->buf;
        return n;
}

/* The uncompressed tar, block by block; 0 at its end. */
static la_ssize_t tar_cb(struct archive *a, void *data, const void **buf)
{
        struct source *s = data;
        la_int64_t off;
        size_t len = 0;
        int r;

        if (s->raw_eof)
                return 0;
        r = archive_read_data_block(s->raw, buf, &len, &off);
        if (r == ARCHIVE_EOF) {
                s->raw_eof = true;
                return 0;
        }
        if (r < ARCHIVE_WARN) {
                archive_set_error(a, archive_errno(s->raw), "%s", archive_error_string(s->raw));
                return -1;
        }
        s->total += len;
        if (s->max > 0 && s->total > s->max) {
                archive_set_error(a, EFBIG, "larger than the layer size limit of %llu bytes (uncompressed)",
                                  (unsigned long long)s->max);
                return -1;
        }
        if (EVP_DigestUpdate(s->md, *buf, len) != 1) {
                archive_set_error(a, EIO, "sha256 failed");
                return -1;
        }
        return (la_ssize_t)len;
}

static int archive_fail(struct archive *a, const char *what, berth_error_t **err)
{
        const char *msg = archive_error_string(a);
        int e = archive_errno(a);

        if (msg == NULL)
                msg = e > 0 ? strerror(e) : "unknown error";
        return berth_error(err, 0, "%s: %s", what, msg);
}

static int open_source(struct source *s, struct archive **tar, berth_error_t **err)
{
        struct archive_entry *e;

        s->raw = archive_read_new();
        *tar = archive_read_new();
        if (s->raw == NULL || *tar == NULL)
                abort();
        /* ARCHIVE_WARN here means "through an external program": refused */
        if (archive_read_support_filter_gzip(s->raw) != ARCHIVE_OK ||
            archive_read_support_filter_zstd(s->raw) != ARCHIVE_OK)
                return berth_error(err, 0, "libarchive lacks built-in gzip or zstd support");
        if (archive_read_support_format_raw(s->raw) != ARCHIVE_OK ||
            archive_read_support_format_tar(*tar) != ARCHIVE_OK)
                return archive_fail(s->raw, "layer", err);
        if (archive_read_open(s->raw, s, NULL, input_cb, NULL) != ARCHIVE_OK ||
            archive_read_next_header(s->raw, &e) != ARCHIVE_OK)
                return archive_fail(s->raw, "read layer", err);
        if (archive_read_open(*tar, s, NULL, tar_cb, NULL) != ARCHIVE_OK)
                return archive_fail(*tar, "read layer", err);
        return 0;
}

/* AUFS metadata (.wh..wh.plnk and the like), anywhere in the path; the
 * opaque marker is the one exception, as a last component. */
static bool aufs_meta(const char *path)
{
        for (const char *p = path; p != NULL; p = strchr(p, '/')) {
                if (*p == '/')
                        p++;
                if (str_has_prefix(p, ".wh..wh.")) {
                        const char *end = strchr(p, '/');

                        return end != NULL || strcmp(p, ".wh..wh..opq") != 0;
                }
        }
        return false;
}

static int apply_entry(struct layer_ctx *c, struct archive_entry *e, const char *name, berth_error_t **err)
{
        _cleanup_free_ char *path = layer_clean_path(name), *dir = NULL;
        const char *base;

        if (path == NULL)
                return berth_error(err, 0, "leads outside the layer");
        if (path[0] == '\0') {
                if (archive_entry_hardlink(e) != NULL || archive_entry_filetype(e) != AE_IFDIR)
                        return berth_error(err, 0, "replaces the layer root");
                return layer_root_meta(c, e, err);
        }
        if (aufs_meta(path)) {
                c->st->skipped_other++;
                return 0;
        }
        base = layer_split(path, &dir);
        if (str_has_prefix(base, ".wh."))
                return layer_whiteout(c, dir, base, err);
        return layer_create(c, e, path, err);
}

static int extract(struct layer_ctx *c, struct source *s, berth_error_t **err)
{
        struct archive_entry *e;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;

        for (;;) {
                const char *name;
                int r = archive_read_next_header(c->a, &e);

                if (r == ARCHIVE_EOF)
                        break;
                /* ARCHIVE_WARN: e.g. a name not in the locale's charset;
                 * the raw bytes are kept and used */
                if (r < ARCHIVE_WARN)
                        return archive_fail(c->a, "read layer", err);
                name = archive_entry_pathname(e);
                if (name == NULL)
                        return berth_error(err, 0, "read layer: an entry without a name");
                if (apply_entry(c, e, name, err) < 0) {
                        _cleanup_free_ char *q = layer_quote(name);
                        return berth_error_wrap(err, "layer entry %s", q);
                }
        }
        /* what follows the end-of-archive blocks belongs to the DiffID */
        while (!s->raw_eof) {
                const void *buf;

                if (tar_cb(c->a, s, &buf) < 0)
                        return archive_fail(c->a, "read layer", err);
        }
        if (layer_finish_dirs(c, err) < 0)
                return -1;
        if (EVP_DigestFinal_ex(s->md, md, &mdlen) != 1 || mdlen != 32)
                return berth_error(err, 0, "sha256 failed");
        strcpy(c->st->diff_id, "sha256:");
        for (unsigned i = 0; i < mdlen; i++)
                sprintf(c->st->diff_id + 7 + 2 * i, "%02x", md[i]);
        c->st->tar_bytes = s->total;
        return 0;
}

static int apply(struct source *s, const char *dest_dir, const struct layer_apply_opts *o,
                 struct layer_stats *st, berth_error_t **err)
{
        struct layer_stats local;
        struct layer_ctx c = { .destfd = -1, .cache_fd = -1 };
        int r;

        if (st == NULL)
                st = &local;
        memset(st, 0, sizeof(*st));
        c.st = st;
        if (o != NULL)
                c.o = *o;
        s->max = c.o.max_bytes;
        s->buf = xmalloc(READ_BUF);
        s->md = EVP_MD_CTX_new();
        if (s->md == NULL || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
                abort();
        c.destfd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c.destfd < 0)
                r = berth_error(err, errno, "open %s", dest_dir);
        else
                r = open_source(s, &c.a, err);
        if (r == 0)
                r = extract(&c, s, err);

        if (c.a != NULL)
                archive_read_free(c.a);
        if (s->raw != NULL)
                archive_read_free(s->raw);
        EVP_MD_CTX_free(s->md);
        free(s->buf);
        layer_cache_drop(&c);
        layer_pathset_free(&c.mine);
        for (size_t i = 0; i < c.ndirs; i++)
                free(c.dirs[i].path);
        free(c.dirs);
        if (c.destfd >= 0)
                close(c.destfd);
        return r < 0 ? r : 0;
}

int layer_apply(int fd_in, const char *dest_dir, const struct layer_apply_opts *o, struct layer_stats *st,
                berth_error_t **err)
{
        struct source s = { .fd = fd_in };

        return apply(&s, dest_dir, o, st, err);
}

int layer_apply_read(layer_read_fn fn, void *cookie, const char *dest_dir, const struct layer_apply_opts *o,
                     struct layer_stats *st, berth_error_t **err)
{
        struct source s = { .fd = -1, .fn = fn, .cookie = cookie };

        return apply(&s, dest_dir, o, st, err);
}
