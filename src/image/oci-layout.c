/* An OCI image layout of images in the store, blobs exactly as stored:
 * into a directory (hard links to the store's blobs where the filesystem
 * allows, copies elsewhere) or as a tar stream.  index.json names each
 * image by tag (org.opencontainers.image.ref.name, the OCI convention) and
 * by full name (io.containerd.image.name, so a load gets it back). */
#include "image/archive-internal.h"
#include <fcntl.h>
#include <sys/stat.h>

struct layout_blob {
        const char *digest;
        int64_t size;
};

static int layout_blob_cmp(const void *a, const void *b)
{
        return strcmp(((const struct layout_blob *)a)->digest, ((const struct layout_blob *)b)->digest);
}

/* The image's platform for its index entry, from the config. */
static json_t *platform_json(const struct image_config *c)
{
        json_t *p;

        if (c->architecture == NULL || c->os == NULL)
                return NULL;
        p = json_pack("{s:s, s:s}", "architecture", c->architecture, "os", c->os);
        if (c->variant != NULL)
                json_object_set_new(p, "variant", json_string(c->variant));
        return p;
}

/* Every blob once, sorted by digest. */
static struct layout_blob *collect(const struct stored_image *si, size_t n, size_t *count)
{
        size_t cap = 0, k = 0;
        struct layout_blob *b;

        for (size_t i = 0; i < n; i++)
                cap += 2 + si[i].m->n_layers;
        b = xcalloc(cap + 1, sizeof(*b));
        for (size_t i = 0; i < n; i++) {
                b[k++] = (struct layout_blob){ si[i].manifest_digest, (int64_t)si[i].manifest_len };
                b[k++] = (struct layout_blob){ si[i].m->config.digest, si[i].m->config.size };
                for (size_t j = 0; j < si[i].m->n_layers; j++)
                        b[k++] = (struct layout_blob){ si[i].m->layers[j].digest, si[i].m->layers[j].size };
        }
        qsort(b, k, sizeof(*b), layout_blob_cmp);
        *count = 0;
        for (size_t j = 0; j < k; j++)
                if (*count == 0 || strcmp(b[*count - 1].digest, b[j].digest) != 0)
                        b[(*count)++] = b[j];
        return b;
}

/* Blob sizes as the manifests say, checked against the store. */
static int check_sizes(struct content_store *cs, const struct layout_blob *b, size_t n, berth_error_t **err)
{
        for (size_t i = 0; i < n; i++) {
                int64_t size;
                if (blob_size(cs, b[i].digest, &size, err) < 0)
                        return -1;
                if (size != b[i].size)
                        return berth_error(err, 0, "blob %s: %lld bytes in the store, %lld in its descriptor",
                                           b[i].digest, (long long)size, (long long)b[i].size);
        }
        return 0;
}

static char *index_json(const struct stored_image *si, size_t n, size_t *len)
{
        json_t *manifests = json_array();
        _cleanup_json_ json_t *index = index_new(manifests);

        for (size_t i = 0; i < n; i++) {
                json_t *platform = platform_json(si[i].config);
                index_add_manifest(manifests, manifest_kind_media_type(si[i].m->kind), si[i].manifest_digest,
                                   (int64_t)si[i].manifest_len, si[i].tags, si[i].n_tags, platform);
                json_decref(platform);
        }
        return json_compact(index, len);
}

/* ---- as a tar ------------------------------------------------------------ */

static int export_tar(struct content_store *cs, const struct layout_blob *b, size_t n, const char *index,
                      size_t index_len, int fd, berth_error_t **err)
{
        _cleanup_archive_write_ struct archive *a = NULL;

        if (tarw_open(fd, &a, err) < 0 || tarw_dir(a, "blobs/", err) < 0 || tarw_dir(a, "blobs/sha256/", err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = blob_path(b[i].digest);
                if (tarw_blob(a, cs, path, b[i].digest, LAYER_UNCOMPRESSED, b[i].size, err) < 0)
                        return -1;
        }
        if (tarw_buf(a, "index.json", index, index_len, err) < 0 ||
            tarw_buf(a, "oci-layout", OCI_LAYOUT_JSON, strlen(OCI_LAYOUT_JSON), err) < 0)
                return -1;
        return tarw_close(&a, err);
}

/* ---- into a directory ---------------------------------------------------- */

static int copy_fd(int in, int out, const char *digest, berth_error_t **err)
{
        _cleanup_free_ char *buf = NULL;
        ssize_t n;

        /* copy_file_range shares extents where the filesystem can */
        while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0)
                ;
        if (n == 0)
                return 0;
        if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
                return berth_error(err, errno, "copy blob %s", digest);
        buf = xmalloc(ARCHIVE_BUF);
        while ((n = read(in, buf, ARCHIVE_BUF)) > 0)
                if (write_all(out, buf, (size_t)n) < 0)
                        return berth_error(err, errno, "copy blob %s", digest);
        return n < 0 ? berth_error(err, errno, "copy blob %s", digest) : 0;
}

/* A copy written beside its name and renamed, so a reader never sees half. */
static int copy_blob(struct content_store *cs, int dirfd, const char *digest, const char *hex, berth_error_t **err)
{
        _cleanup_free_ char *tmp = xasprintf(".tmp-%s", hex);
        _cleanup_close_ int in = content_open(cs, digest, err), out = -1;

        if (in < 0)
                return -1;
        out = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (out < 0)
                return berth_error(err, errno, "create blob %s", digest);
        if (copy_fd(in, out, digest, err) < 0 || fsync(out) < 0 || renameat(dirfd, tmp, dirfd, hex) < 0) {
                if (err == NULL || *err == NULL)
                        berth_error(err, errno, "write blob %s", digest);
                unlinkat(dirfd, tmp, 0);
                return -1;
        }
        return 0;
}

static int export_blob(struct content_store *cs, int dirfd, const struct layout_blob *b, berth_error_t **err)
{
        const char *hex = b->digest + strlen("sha256:");
        _cleanup_free_ char *src = content_path(cs, b->digest);
        struct stat st;

        /* already there (content-addressed): a blob of the right size stays */
        if (fstatat(dirfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && st.st_size == b->size)
                return 0;
        unlinkat(dirfd, hex, 0);
        if (linkat(AT_FDCWD, src, dirfd, hex, 0) == 0)
                return 0;
        if (errno != EXDEV && errno != EPERM && errno != EMLINK)
                return berth_error(err, errno, "link blob %s", b->digest);
        return copy_blob(cs, dirfd, b->digest, hex, err);
}

static int export_dir(struct content_store *cs, const struct layout_blob *b, size_t n, const char *index,
                      size_t index_len, const char *dir, berth_error_t **err)
{
        _cleanup_free_ char *blobs = xasprintf("%s/blobs/sha256", dir), *layout = xasprintf("%s/oci-layout", dir),
                           *index_path = xasprintf("%s/index.json", dir);
        _cleanup_close_ int dirfd = -1;

        if (mkdir_p(blobs, 0755, err) < 0)
                return -1;
        dirfd = open(blobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return berth_error(err, errno, "open %s", blobs);
        for (size_t i = 0; i < n; i++)
                if (export_blob(cs, dirfd, &b[i], err) < 0)
                        return -1;
        if (fsync(dirfd) < 0)
                return berth_error(err, errno, "fsync %s", blobs);
        /* index.json last: the layout is whole once it names anything */
        if (write_file_atomic(layout, OCI_LAYOUT_JSON, strlen(OCI_LAYOUT_JSON), err) < 0 ||
            write_file_atomic(index_path, index, index_len, err) < 0)
                return -1;
        return 0;
}

int oci_layout_export(struct content_store *cs, const struct archive_image *images, size_t n, const char *dir,
                      int tar_fd, berth_error_t **err)
{
        struct stored_image *si = xcalloc(n + 1, sizeof(*si));
        _cleanup_free_ struct layout_blob *b = NULL;
        _cleanup_free_ char *index = NULL;
        size_t read = 0, count, index_len;
        int ret = -1;

        if (n == 0) {
                berth_error(err, 0, "no image to export");
                goto out;
        }
        for (; read < n; read++)
                if (stored_image_read(cs, &images[read], &si[read], err) < 0)
                        goto out;
        b = collect(si, n, &count);
        if (check_sizes(cs, b, count, err) < 0)
                goto out;
        index = index_json(si, n, &index_len);
        ret = dir ? export_dir(cs, b, count, index, index_len, dir, err)
                  : export_tar(cs, b, count, index, index_len, tar_fd, err);
out:
        for (size_t i = 0; i < read; i++)
                stored_image_clear(&si[i]);
        free(si);
        return ret;
}
