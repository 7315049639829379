/* What save, load, import and export share: entry names, stored blobs read
 * (decompressed when asked), the tar writer, names, images read whole. */
#include "image/archive-internal.h"
#include "image/digest.h"
#include "image/reference.h"
#include <fcntl.h>
#include <sys/stat.h>

int archive_fail(struct archive *a, const char *what, berth_error_t **err)
{
        const char *msg = archive_error_string(a);
        int e = archive_errno(a);

        if (msg == NULL)
                msg = e > 0 ? strerror(e) : "unknown error";
        return berth_error(err, 0, "%s: %s", what, msg);
}

/* Registering a filter libarchive lacks falls back to an external program
 * (ARCHIVE_WARN); a scratch reader tells without committing to that. */
static bool builtin_filter(int (*add)(struct archive *))
{
        struct archive *probe = archive_read_new();
        bool ok;

        if (probe == NULL)
                abort();
        ok = add(probe) == ARCHIVE_OK;
        archive_read_free(probe);
        return ok;
}

int archive_read_filters(struct archive *a, berth_error_t **err)
{
        if (archive_read_support_filter_gzip(a) != ARCHIVE_OK || archive_read_support_filter_zstd(a) != ARCHIVE_OK)
                return berth_error(err, 0, "libarchive lacks built-in gzip or zstd support");
        if (builtin_filter(archive_read_support_filter_xz) && archive_read_support_filter_xz(a) != ARCHIVE_OK)
                return archive_fail(a, "xz", err);
        if (builtin_filter(archive_read_support_filter_bzip2) && archive_read_support_filter_bzip2(a) != ARCHIVE_OK)
                return archive_fail(a, "bzip2", err);
        return 0;
}

/* ---- entry names --------------------------------------------------------- */

/* Append component c (n bytes) to the path in out (len bytes used). */
static void push_component(char *out, size_t *len, const char *c, size_t n)
{
        if (*len > 0)
                out[(*len)++] = '/';
        memcpy(out + *len, c, n);
        *len += n;
        out[*len] = '\0';
}

/* Drop the last component of the path in out. */
static bool pop_component(char *out, size_t *len)
{
        char *slash;

        if (*len == 0)
                return false;
        slash = strrchr(out, '/');
        *len = slash ? (size_t)(slash - out) : 0;
        out[*len] = '\0';
        return true;
}

/* Walk the components of path onto out; ".." pops when allowed. */
static int walk(char *out, size_t *len, const char *path, bool dotdot, const char *name, berth_error_t **err)
{
        const char *p = path;

        while (*p) {
                const char *end = strchrnul(p, '/');
                size_t n = (size_t)(end - p);

                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (!dotdot || !pop_component(out, len)) {
                                _cleanup_free_ char *q = quote(name);
                                return berth_error(err, 0, "archive entry %s: leads outside the archive", q);
                        }
                } else if (n > 0 && !(n == 1 && p[0] == '.')) {
                        push_component(out, len, p, n);
                }
                p = *end ? end + 1 : end;
        }
        return 0;
}

int archive_path_clean(const char *name, char **out, berth_error_t **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, n = strnlen(name, ARCHIVE_PATH_MAX + 1);

        if (n > ARCHIVE_PATH_MAX) {
                _cleanup_free_ char *q = quote(name);
                return berth_error(err, 0, "archive entry %s: name longer than %d bytes", q, ARCHIVE_PATH_MAX);
        }
        if (name[0] == '/') {
                _cleanup_free_ char *q = quote(name);
                return berth_error(err, 0, "archive entry %s: absolute path", q);
        }
        buf = xmalloc(n + 2);
        buf[0] = '\0';
        if (walk(buf, &len, name, false, name, err) < 0)
                return -1;
        *out = steal_pointer(&buf);
        return 0;
}

int archive_link_resolve(const char *link_path, const char *target, char **out, berth_error_t **err)
{
        size_t tn = strnlen(target, ARCHIVE_PATH_MAX + 1), ln = strlen(link_path), len;
        _cleanup_free_ char *buf = NULL;

        if (tn > ARCHIVE_PATH_MAX || target[0] == '/') {
                _cleanup_free_ char *q = quote(link_path), *t = quote(target);
                return berth_error(err, 0, "archive entry %s: link to %s leads outside the archive", q, t);
        }
        buf = xmalloc(ln + tn + 3);
        memcpy(buf, link_path, ln + 1);
        len = ln;
        pop_component(buf, &len); /* the link's directory */
        if (walk(buf, &len, target, true, link_path, err) < 0)
                return -1;
        *out = steal_pointer(&buf);
        return 0;
}

/* ---- stored blobs -------------------------------------------------------- */

int blob_size(struct content_store *cs, const char *digest, int64_t *size, berth_error_t **err)
{
        _cleanup_close_ int fd = content_open(cs, digest, err);
        struct stat st;

        if (fd < 0)
                return -1;
        if (fstat(fd, &st) < 0)
                return berth_error(err, errno, "blob %s", digest);
        *size = st.st_size;
        return 0;
}

int blob_sniff(struct content_store *cs, const char *digest, enum layer_compression *out, berth_error_t **err)
{
        static const unsigned char gz[] = { 0x1f, 0x8b }, zst[] = { 0x28, 0xb5, 0x2f, 0xfd };
        _cleanup_close_ int fd = content_open(cs, digest, err);
        unsigned char head[4];
        ssize_t n;

        if (fd < 0)
                return -1;
        n = pread(fd, head, sizeof(head), 0);
        if (n < 0)
                return berth_error(err, errno, "read blob %s", digest);
        if (n >= 2 && memcmp(head, gz, sizeof(gz)) == 0)
                *out = LAYER_GZIP;
        else if (n >= 4 && memcmp(head, zst, sizeof(zst)) == 0)
                *out = LAYER_ZSTD;
        else
                *out = LAYER_UNCOMPRESSED;
        return 0;
}

int blob_stream_open(struct content_store *cs, const char *digest, enum layer_compression c, struct blob_stream *s,
                     berth_error_t **err)
{
        struct archive_entry *e;

        memset(s, 0, sizeof(*s));
        s->digest = digest;
        s->fd = content_open(cs, digest, err);
        if (s->fd < 0)
                return -1;
        if (c == LAYER_UNCOMPRESSED)
                return 0;
        s->raw = archive_read_new();
        if (s->raw == NULL)
                abort();
        if (archive_read_support_filter_gzip(s->raw) != ARCHIVE_OK ||
            archive_read_support_filter_zstd(s->raw) != ARCHIVE_OK ||
            archive_read_support_format_raw(s->raw) != ARCHIVE_OK ||
            archive_read_open_fd(s->raw, s->fd, ARCHIVE_BUF) != ARCHIVE_OK ||
            archive_read_next_header(s->raw, &e) != ARCHIVE_OK) {
                _cleanup_free_ char *what = xasprintf("decompress blob %s", digest);
                archive_fail(s->raw, what, err);
                blob_stream_close(s);
                return -1;
        }
        return 0;
}

ssize_t blob_stream_read(struct blob_stream *s, void *buf, size_t len, berth_error_t **err)
{
        ssize_t n;

        if (s->raw != NULL) {
                n = archive_read_data(s->raw, buf, len);
                if (n < 0) {
                        _cleanup_free_ char *what = xasprintf("decompress blob %s", s->digest);
                        return archive_fail(s->raw, what, err);
                }
                return n;
        }
        do
                n = read(s->fd, buf, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return berth_error(err, errno, "read blob %s", s->digest);
        return n;
}

void blob_stream_close(struct blob_stream *s)
{
        if (s->raw != NULL)
                archive_read_free(s->raw);
        if (s->fd >= 0)
                close(s->fd);
        s->raw = NULL;
        s->fd = -1;
}

int blob_uncompressed(struct content_store *cs, const char *digest, enum layer_compression c, int64_t *size,
                      char **diff_id, berth_error_t **err)
{
        _cleanup_digester_ struct digester *d = digester_new();
        _cleanup_free_ char *buf = xmalloc(ARCHIVE_BUF);
        struct blob_stream s;
        int64_t total = 0;
        ssize_t n;

        if (blob_stream_open(cs, digest, c, &s, err) < 0)
                return -1;
        while ((n = blob_stream_read(&s, buf, ARCHIVE_BUF, err)) > 0) {
                digester_update(d, buf, (size_t)n);
                total += n;
        }
        blob_stream_close(&s);
        if (n < 0)
                return -1;
        *size = total;
        *diff_id = digester_final(d);
        return 0;
}

/* ---- the tar writer ------------------------------------------------------ */

int tarw_open(int fd, struct archive **out, berth_error_t **err)
{
        struct archive *a = archive_write_new();

        if (a == NULL)
                abort();
        /* no padding of the last block to 10 KiB: Go's archive/tar writes none */
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
            archive_write_open_fd(a, fd) != ARCHIVE_OK) {
                archive_fail(a, "write tar", err);
                archive_write_failp(&a);
                return -1;
        }
        *out = a;
        return 0;
}

static int tarw_header(struct archive *a, const char *path, mode_t type, int64_t size, berth_error_t **err)
{
        struct archive_entry *e = archive_entry_new();
        int r;

        if (e == NULL)
                abort();
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
        archive_entry_set_size(e, size);
        archive_entry_set_mtime(e, 0, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        r = archive_write_header(a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK) {
                _cleanup_free_ char *what = xasprintf("write tar entry %s", path);
                return archive_fail(a, what, err);
        }
        return 0;
}

static int tarw_data(struct archive *a, const char *path, const void *buf, size_t len, berth_error_t **err)
{
        const char *p = buf;

        while (len > 0) {
                la_ssize_t n = archive_write_data(a, p, len);
                if (n <= 0) {
                        _cleanup_free_ char *what = xasprintf("write tar entry %s", path);
                        return archive_fail(a, what, err);
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int tarw_dir(struct archive *a, const char *path, berth_error_t **err)
{
        return tarw_header(a, path, AE_IFDIR, 0, err);
}

int tarw_buf(struct archive *a, const char *path, const void *buf, size_t len, berth_error_t **err)
{
        if (tarw_header(a, path, AE_IFREG, (int64_t)len, err) < 0)
                return -1;
        return tarw_data(a, path, buf, len, err);
}

int tarw_blob(struct archive *a, struct content_store *cs, const char *path, const char *digest,
              enum layer_compression c, int64_t size, berth_error_t **err)
{
        _cleanup_free_ char *buf = xmalloc(ARCHIVE_BUF);
        struct blob_stream s;
        int64_t left = size;
        ssize_t n = 0;

        if (blob_stream_open(cs, digest, c, &s, err) < 0)
                return -1;
        if (tarw_header(a, path, AE_IFREG, size, err) < 0) {
                blob_stream_close(&s);
                return -1;
        }
        while (left > 0) {
                n = blob_stream_read(&s, buf, left < ARCHIVE_BUF ? (size_t)left : ARCHIVE_BUF, err);
                if (n <= 0)
                        break;
                if (tarw_data(a, path, buf, (size_t)n, err) < 0) {
                        n = -1;
                        break;
                }
                left -= n;
        }
        if (n >= 0 && left == 0)
                n = blob_stream_read(&s, buf, 1, err); /* must be the end */
        blob_stream_close(&s);
        if (n < 0)
                return -1;
        /* what was measured before must come out the same now */
        if (left != 0 || n != 0)
                return berth_error(err, 0, "blob %s changed while it was written (not %lld bytes)", digest,
                                   (long long)size);
        return 0;
}

int tarw_close(struct archive **a, berth_error_t **err)
{
        int ret = 0;

        if (archive_write_close(*a) != ARCHIVE_OK) {
                ret = archive_fail(*a, "write tar", err);
                archive_write_failp(a);
        } else {
                archive_write_free(*a);
        }
        *a = NULL;
        return ret;
}

/* ---- names --------------------------------------------------------------- */

static int tag_name_parse(const char *s, struct tag_name *t, berth_error_t **err)
{
        _cleanup_image_ref_ struct image_ref r = { 0 };

        if (image_ref_parse(s, &r, err) < 0)
                return -1;
        if (r.digest != NULL || r.tag == NULL) {
                _cleanup_free_ char *q = quote(s);
                return berth_error(err, 0, "%s: a name to save needs a tag, not a digest", q);
        }
        t->full = image_ref_string(&r);
        t->familiar = image_ref_familiar(&r);
        t->tag = steal_pointer(&r.tag);
        t->repo = image_ref_familiar(&r);
        return 0;
}

int tag_names_parse(const char *const *tags, struct tag_name **out, size_t *n, berth_error_t **err)
{
        struct tag_name *t = NULL;
        size_t count = 0, i, j;

        for (i = 0; tags != NULL && tags[i] != NULL; i++)
                ;
        if (i > ARCHIVE_MAX_TAGS)
                return berth_error(err, 0, "more than %d names for one image", ARCHIVE_MAX_TAGS);
        t = xcalloc(i + 1, sizeof(*t));
        for (i = 0; tags != NULL && tags[i] != NULL; i++) {
                if (tag_name_parse(tags[i], &t[count], err) < 0) {
                        tag_names_free(t, count + 1);
                        free(t);
                        return -1;
                }
                for (j = 0; j < count && strcmp(t[j].full, t[count].full) != 0; j++)
                        ;
                if (j < count) /* the same name twice */
                        tag_names_free(&t[count], 1), memset(&t[count], 0, sizeof(t[count]));
                else
                        count++;
        }
        *out = t;
        *n = count;
        return 0;
}

void tag_names_free(struct tag_name *t, size_t n)
{
        if (t == NULL)
                return;
        for (size_t i = 0; i < n; i++) {
                free(t[i].full);
                free(t[i].familiar);
                free(t[i].repo);
                free(t[i].tag);
        }
        /* the vector itself is freed by whoever owns it */
}

/* ---- images read whole --------------------------------------------------- */

static int read_config(struct content_store *cs, struct stored_image *si, berth_error_t **err)
{
        const char *digest = si->m->config.digest;
        _cleanup_free_ char *raw = NULL;
        size_t len;
        int64_t size;

        if (blob_size(cs, digest, &size, err) < 0)
                return -1;
        if (size > IMAGE_CONFIG_MAX_SIZE)
                return berth_error(err, 0, "image config %s: %lld bytes, too large", digest, (long long)size);
        if (content_read(cs, digest, &raw, &len, err) < 0 || image_config_parse(raw, len, &si->config, err) < 0 ||
            image_config_check_layers(si->config, si->m, err) < 0)
                return -1;
        return 0;
}

int stored_image_read(struct content_store *cs, const struct archive_image *in, struct stored_image *out,
                      berth_error_t **err)
{
        int64_t size;

        memset(out, 0, sizeof(*out));
        out->manifest_digest = in->manifest_digest;
        if (blob_size(cs, in->manifest_digest, &size, err) < 0)
                goto fail;
        if (size > MANIFEST_MAX_SIZE) {
                berth_error(err, 0, "%lld bytes, too large for a manifest", (long long)size);
                goto fail;
        }
        if (content_read(cs, in->manifest_digest, &out->manifest_raw, &out->manifest_len, err) < 0 ||
            manifest_parse(out->manifest_raw, out->manifest_len, NULL, &out->m, err) < 0 ||
            manifest_check_image(out->m, err) < 0 || read_config(cs, out, err) < 0 ||
            tag_names_parse(in->repo_tags, &out->tags, &out->n_tags, err) < 0)
                goto fail;
        for (size_t i = 0; i < out->m->n_layers; i++)
                if (!content_exists(cs, out->m->layers[i].digest)) {
                        berth_error(err, ENOENT, "layer %s is not in the content store", out->m->layers[i].digest);
                        goto fail;
                }
        return 0;
fail:
        stored_image_clear(out);
        return berth_error_wrap(err, "image %s", in->manifest_digest);
}

void stored_image_clear(struct stored_image *si)
{
        free(si->manifest_raw);
        manifest_free(si->m);
        image_config_free(si->config);
        tag_names_free(si->tags, si->n_tags);
        free(si->tags);
        memset(si, 0, sizeof(*si));
}

/* ---- index.json ---------------------------------------------------------- */

static json_t *descriptor_json(const char *media_type, const char *digest, int64_t size)
{
        return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size", (json_int_t)size);
}

void index_add_manifest(json_t *manifests, const char *media_type, const char *digest, int64_t size,
                        const struct tag_name *tags, size_t n_tags, json_t *platform)
{
        for (size_t i = 0; i < n_tags || (i == 0 && n_tags == 0); i++) {
                json_t *d = descriptor_json(media_type, digest, size);

                if (n_tags > 0)
                        json_object_set_new(d, "annotations",
                                            json_pack("{s:s, s:s}", "io.containerd.image.name", tags[i].full,
                                                      "org.opencontainers.image.ref.name", tags[i].tag));
                if (platform != NULL)
                        json_object_set(d, "platform", platform);
                json_array_append_new(manifests, d);
        }
}

json_t *index_new(json_t *manifests)
{
        return json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MEDIA_TYPE_OCI_INDEX, "manifests",
                         manifests);
}

char *json_compact(json_t *j, size_t *len)
{
        char *s = json_dumps(j, JSON_COMPACT);

        if (s == NULL)
                abort();
        if (len)
                *len = strlen(s);
        return s;
}

char *blob_path(const char *digest)
{
        return xasprintf("blobs/sha256/%s", digest + strlen("sha256:"));
}
