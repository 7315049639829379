/* Image archives: docker save / load, OCI archives and layouts, import.
 * Images are built in a temporary content store (a layer tar made here
 * with libarchive, gzip'd, a config, a Docker schema2 manifest); archives
 * go through memfds.  Hostile archives are built entry by entry.  When
 * podman and skopeo are installed, saved archives are checked with them
 * (private storage under the test's directory) and podman's own archives
 * are loaded back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "image/archive.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/store.h"
#include "util/util.h"

struct fixture {
        char dir[64];
        struct content_store *src, *dst;
        char *dst_root;
        /* the image built in src */
        char *manifest, *config, *layer, *diff_id;
};

/* ---- tars in memory ------------------------------------------------------ */

struct membuf {
        char *p;
        size_t len, cap;
};

static la_ssize_t mem_write(struct archive *a, void *data, const void *buf, size_t len)
{
        struct membuf *m = data;

        (void)a;
        if (m->len + len > m->cap) {
                m->cap = (m->len + len) * 2;
                m->p = xrealloc(m->p, m->cap);
        }
        memcpy(m->p + m->len, buf, len);
        m->len += len;
        return (la_ssize_t)len;
}

enum { T_FILE, T_DIR, T_SYMLINK, T_HARDLINK };
struct tentry {
        const char *path;
        int type;
        const char *data;       /* file content, or the link target */
        size_t len;             /* 0: strlen(data) */
};

/* A tar of the entries, through filter ("gzip", "zstd" or NULL). */
static char *make_tar(const struct tentry *e, size_t n, const char *filter, size_t *len)
{
        struct archive *a = archive_write_new();
        struct membuf m = { 0 };

        archive_write_set_format_pax_restricted(a);
        if (filter && strcmp(filter, "gzip") == 0)
                archive_write_add_filter_gzip(a);
        else if (filter && strcmp(filter, "zstd") == 0)
                archive_write_add_filter_zstd(a);
        archive_write_set_bytes_in_last_block(a, 1);
        assert_int_equal(archive_write_open(a, &m, NULL, mem_write, NULL), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *ae = archive_entry_new();
                size_t l = e[i].type == T_FILE ? (e[i].len ? e[i].len : strlen(e[i].data)) : 0;

                archive_entry_set_pathname(ae, e[i].path);
                archive_entry_set_mtime(ae, 1700000000, 0);
                if (e[i].type == T_DIR) {
                        archive_entry_set_filetype(ae, AE_IFDIR);
                        archive_entry_set_perm(ae, 0755);
                } else if (e[i].type == T_SYMLINK) {
                        archive_entry_set_filetype(ae, AE_IFLNK);
                        archive_entry_set_symlink(ae, e[i].data);
                        archive_entry_set_perm(ae, 0777);
                } else if (e[i].type == T_HARDLINK) {
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_hardlink(ae, e[i].data);
                        archive_entry_set_perm(ae, 0644);
                } else {
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_perm(ae, 0644);
                        archive_entry_set_size(ae, (la_int64_t)l);
                }
                assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
                if (l > 0)
                        assert_int_equal(archive_write_data(a, e[i].data, l), (la_ssize_t)l);
                archive_entry_free(ae);
        }
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        *len = m.len;
        return m.p;
}

/* Raw bytes through gzip. */
static char *gzip_bytes(const char *data, size_t len, size_t *out_len)
{
        struct archive *a = archive_write_new();
        struct archive_entry *ae = archive_entry_new();
        struct membuf m = { 0 };

        archive_write_set_format_raw(a);
        archive_write_add_filter_gzip(a);
        archive_write_set_bytes_in_last_block(a, 1);
        assert_int_equal(archive_write_open(a, &m, NULL, mem_write, NULL), ARCHIVE_OK);
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_pathname(ae, "x");
        archive_entry_set_size(ae, (la_int64_t)len);
        assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
        assert_int_equal(archive_write_data(a, data, len), (la_ssize_t)len);
        archive_write_close(a);
        archive_write_free(a);
        archive_entry_free(ae);
        *out_len = m.len;
        return m.p;
}

static int memfd_with(const void *data, size_t len)
{
        int fd = memfd_create("archive", MFD_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, data, len), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

static char *fd_contents(int fd, size_t *len)
{
        struct stat st;
        char *buf;

        assert_int_equal(fstat(fd, &st), 0);
        buf = xmalloc((size_t)st.st_size + 1);
        assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
        buf[st.st_size] = '\0';
        *len = (size_t)st.st_size;
        return buf;
}

/* The content of one entry of a tar held in memory; NULL when absent. */
static char *tar_member(const char *tar, size_t len, const char *name, size_t *out_len)
{
        struct archive *a = archive_read_new();
        struct archive_entry *ae;
        char *res = NULL;

        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        assert_int_equal(archive_read_open_memory(a, tar, len), ARCHIVE_OK);
        while (res == NULL && archive_read_next_header(a, &ae) == ARCHIVE_OK) {
                if (strcmp(archive_entry_pathname(ae), name) != 0)
                        continue;
                *out_len = (size_t)archive_entry_size(ae);
                res = xmalloc(*out_len + 1);
                assert_int_equal(archive_read_data(a, res, *out_len), (la_ssize_t)*out_len);
                res[*out_len] = '\0';
        }
        archive_read_free(a);
        return res;
}

/* ---- the image ----------------------------------------------------------- */

static const struct tentry layer_files[] = {
        { "etc/", T_DIR, NULL, 0 },
        { "etc/hostname", T_FILE, "berth\n", 0 },
        { "hello.txt", T_FILE, "hello world\n", 0 },
        { "bin/sh", T_SYMLINK, "/bin/busybox", 0 },
};

static char *config_json(const char *diff_id)
{
        return xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05Z\","
                         "\"config\":{\"Cmd\":[\"/bin/sh\"],\"Env\":[\"PATH=/bin\"]},"
                         "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]},"
                         "\"history\":[{\"created\":\"2024-01-02T03:04:05Z\",\"created_by\":\"test\"}]}",
                         diff_id);
}

static void build_image(struct fixture *f)
{
        _cleanup_error_ berth_error_t *err = NULL;
        size_t tar_len, gz_len;
        _cleanup_free_ char *tar = make_tar(layer_files, ARRAY_SIZE(layer_files), NULL, &tar_len);
        _cleanup_free_ char *gz = gzip_bytes(tar, tar_len, &gz_len), *config = NULL, *manifest = NULL;

        f->diff_id = digest_of(tar, tar_len);
        assert_int_equal(content_put(f->src, gz, gz_len, &f->layer, &err), 0);
        config = config_json(f->diff_id);
        assert_int_equal(content_put(f->src, config, strlen(config), &f->config, &err), 0);
        manifest = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
                             "\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
                             "\"size\":%zu}]}",
                             MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_DOCKER_CONFIG, f->config, strlen(config),
                             MEDIA_TYPE_DOCKER_LAYER_GZIP, f->layer, gz_len);
        assert_int_equal(content_put(f->src, manifest, strlen(manifest), &f->manifest, &err), 0);
}

static int setup(void **state)
{
        struct fixture *f = xcalloc(1, sizeof(*f));
        _cleanup_free_ char *a = NULL;
        berth_error_t *err = NULL;

        strcpy(f->dir, "/tmp/berth-unit-archive-XXXXXX");
        if (mkdtemp(f->dir) == NULL)
                return -1;
        a = xasprintf("%s/a", f->dir);
        f->dst_root = xasprintf("%s/b", f->dir);
        if (content_store_open(a, &f->src, &err) < 0 || content_store_open(f->dst_root, &f->dst, &err) < 0)
                return -1;
        build_image(f);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", f->dir); /* test cleanup only */

        content_store_close(f->src);
        content_store_close(f->dst);
        free(f->dst_root);
        free(f->manifest);
        free(f->config);
        free(f->layer);
        free(f->diff_id);
        if (system(cmd) != 0)
                return -1;
        free(f);
        return 0;
}

/* ---- what a load reports ------------------------------------------------- */

struct got {
        int n;
        char *manifest[8];
        char *tags[8][4];
        int fail;               /* the callback fails */
};

static int on_loaded(void *data, const char *manifest, const char *const *tags, berth_error_t **err)
{
        struct got *g = data;

        if (g->fail)
                return berth_error(err, 0, "callback says no");
        assert_true(g->n < 8);
        g->manifest[g->n] = xstrdup(manifest);
        for (int i = 0; tags[i] != NULL; i++) {
                assert_true(i < 3);
                g->tags[g->n][i] = xstrdup(tags[i]);
        }
        g->n++;
        return 0;
}

static void got_free(struct got *g)
{
        for (int i = 0; i < g->n; i++) {
                free(g->manifest[i]);
                for (int j = 0; g->tags[i][j]; j++)
                        free(g->tags[i][j]);
        }
        memset(g, 0, sizeof(*g));
}

static int load_bytes(struct content_store *cs, const char *data, size_t len, struct got *g, berth_error_t **err)
{
        _cleanup_close_ int fd = memfd_with(data, len);

        return archive_load(cs, fd, on_loaded, g, err);
}

/* The loaded manifest's config digest and layers' uncompressed digests. */
static void check_loaded(struct content_store *cs, const char *manifest, const char *config, const char *diff_id,
                         const char *layer_type)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *raw = NULL;
        _cleanup_manifest_ struct manifest *m = NULL;
        size_t len;

        assert_int_equal(content_read(cs, manifest, &raw, &len, &err), 0);
        assert_int_equal(manifest_parse(raw, len, NULL, &m, &err), 0);
        assert_string_equal(m->config.digest, config);
        assert_true(content_exists(cs, config));
        assert_int_equal(m->n_layers, 1);
        assert_string_equal(m->layers[0].media_type, layer_type);
        if (strcmp(layer_type, MEDIA_TYPE_OCI_LAYER) == 0)
                assert_string_equal(m->layers[0].digest, diff_id);
        assert_true(content_exists(cs, m->layers[0].digest));
}

static char *save_image(struct fixture *f, const char *const *tags, size_t *len)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct archive_image img = { f->manifest, tags };
        _cleanup_close_ int fd = memfd_create("save", MFD_CLOEXEC);

        assert_int_equal(archive_save(f->src, &img, 1, fd, &err), 0);
        return fd_contents(fd, len);
}

/* ---- save and load ------------------------------------------------------- */

static void save_load_roundtrip(void **state)
{
        struct fixture *f = *state;
        const char *tags[] = { "busybox:latest", "localhost:5000/x:y", NULL };
        _cleanup_error_ berth_error_t *err = NULL;
        size_t len, n;
        _cleanup_free_ char *tar = save_image(f, tags, &len), *mj = NULL, *repos = NULL, *index = NULL,
                                *expect = NULL, *layer = NULL, *hex = NULL;
        struct got g = { 0 };

        /* Docker's manifest.json and repositories, the layer uncompressed */
        mj = tar_member(tar, len, "manifest.json", &n);
        assert_non_null(mj);
        expect = xasprintf("[{\"Config\":\"blobs/sha256/%s\",\"RepoTags\":[\"busybox:latest\",\"localhost:5000/x:y\"],"
                           "\"Layers\":[\"blobs/sha256/%s\"]}]",
                           f->config + 7, f->diff_id + 7);
        assert_string_equal(mj, expect);
        repos = tar_member(tar, len, "repositories", &n);
        free(expect);
        expect = xasprintf("{\"busybox\":{\"latest\":\"%s\"},\"localhost:5000/x\":{\"y\":\"%s\"}}", f->config + 7,
                           f->config + 7);
        assert_string_equal(repos, expect);
        index = tar_member(tar, len, "index.json", &n);
        assert_non_null(strstr(index, "\"io.containerd.image.name\":\"docker.io/library/busybox:latest\","
                                      "\"org.opencontainers.image.ref.name\":\"latest\""));
        hex = xasprintf("blobs/sha256/%s", f->diff_id + 7);
        layer = tar_member(tar, len, hex, &n);
        assert_non_null(layer);
        free(expect);
        expect = digest_of(layer, n);
        assert_string_equal(expect, f->diff_id);

        assert_int_equal(load_bytes(f->dst, tar, len, &g, &err), 0);
        assert_int_equal(g.n, 1);
        /* a new manifest, as Docker makes: not the registry's */
        assert_string_not_equal(g.manifest[0], f->manifest);
        check_loaded(f->dst, g.manifest[0], f->config, f->diff_id, MEDIA_TYPE_OCI_LAYER);
        assert_string_equal(g.tags[0][0], "busybox:latest");
        assert_string_equal(g.tags[0][1], "localhost:5000/x:y");
        assert_null(g.tags[0][2]);
        got_free(&g);
}

static void save_is_deterministic(void **state)
{
        struct fixture *f = *state;
        const char *tags[] = { "busybox", NULL };
        size_t a_len, b_len;
        _cleanup_free_ char *a = save_image(f, tags, &a_len), *b = save_image(f, tags, &b_len);

        assert_int_equal(a_len, b_len);
        assert_memory_equal(a, b, a_len);
}

/* Two images sharing a layer; one untagged: the layer is written once. */
static void save_two_images(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        const char *tags[] = { "one:1", NULL };
        _cleanup_free_ char *config2 = xasprintf("{\"architecture\":\"arm64\",\"os\":\"linux\","
                                                 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                                                 f->diff_id);
        _cleanup_free_ char *c2 = NULL, *m2 = NULL, *man2 = NULL, *tar = NULL, *mj = NULL;
        _cleanup_close_ int fd = memfd_create("save", MFD_CLOEXEC);
        int64_t layer_size;
        struct got g = { 0 };
        size_t len, n;
        struct stat st;
        int lfd;

        lfd = content_open(f->src, f->layer, &err);
        assert_true(lfd >= 0 && fstat(lfd, &st) == 0);
        close(lfd);
        layer_size = st.st_size;
        assert_int_equal(content_put(f->src, config2, strlen(config2), &c2, &err), 0);
        man2 = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\","
                         "\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}]}",
                         MEDIA_TYPE_OCI_MANIFEST, MEDIA_TYPE_OCI_CONFIG, c2, strlen(config2),
                         MEDIA_TYPE_OCI_LAYER_GZIP, f->layer, (long long)layer_size);
        assert_int_equal(content_put(f->src, man2, strlen(man2), &m2, &err), 0);
        struct archive_image imgs[] = { { f->manifest, tags }, { m2, NULL } };
        assert_int_equal(archive_save(f->src, imgs, 2, fd, &err), 0);
        tar = fd_contents(fd, &len);
        mj = tar_member(tar, len, "manifest.json", &n);
        assert_non_null(strstr(mj, "\"RepoTags\":null"));
        assert_int_equal(load_bytes(f->dst, tar, len, &g, &err), 0);
        assert_int_equal(g.n, 2);
        assert_null(g.tags[1][0]);
        check_loaded(f->dst, g.manifest[1], c2, f->diff_id, MEDIA_TYPE_OCI_LAYER);
        got_free(&g);
}

static void load_gzipped(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        const char *tags[] = { "busybox", NULL };
        size_t len, gz_len;
        _cleanup_free_ char *tar = save_image(f, tags, &len), *gz = gzip_bytes(tar, len, &gz_len);
        struct got g = { 0 };

        assert_int_equal(load_bytes(f->dst, gz, gz_len, &g, &err), 0);
        assert_int_equal(g.n, 1);
        check_loaded(f->dst, g.manifest[0], f->config, f->diff_id, MEDIA_TYPE_OCI_LAYER);
        got_free(&g);
}

/* Through a pipe: nothing may seek. */
static void load_from_pipe(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        const char *tags[] = { "busybox", NULL };
        size_t len;
        _cleanup_free_ char *tar = save_image(f, tags, &len);
        struct got g = { 0 };
        int p[2];
        pid_t pid;

        assert_int_equal(pipe(p), 0);
        pid = fork();
        if (pid == 0) {
                close(p[0]);
                _exit(write_all(p[1], tar, len) == 0 ? 0 : 1);
        }
        close(p[1]);
        assert_int_equal(archive_load(f->dst, p[0], on_loaded, &g, &err), 0);
        close(p[0]);
        waitpid(pid, NULL, 0);
        assert_int_equal(g.n, 1);
        got_free(&g);
}

/* Docker before 25: "<id>/layer.tar", "<config hex>.json", manifest.json
 * last (so the layers pass before anything names them). */
static void load_legacy(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        size_t layer_len, len;
        _cleanup_free_ char *layer = make_tar(layer_files, ARRAY_SIZE(layer_files), NULL, &layer_len);
        _cleanup_free_ char *config = config_json(f->diff_id), *config_name = xasprintf("%s.json", f->config + 7);
        _cleanup_free_ char *mj = xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"legacy:v1\"],"
                                            "\"Layers\":[\"0123abcd/layer.tar\"]}]",
                                            config_name);
        const struct tentry e[] = {
                { "0123abcd/", T_DIR, NULL, 0 },
                { "0123abcd/VERSION", T_FILE, "1.0", 0 },
                { "0123abcd/json", T_FILE, "{}", 0 },
                { "0123abcd/layer.tar", T_FILE, layer, layer_len },
                { config_name, T_FILE, config, 0 },
                { "manifest.json", T_FILE, mj, 0 },
                { "repositories", T_FILE, "{\"legacy\":{\"v1\":\"0123abcd\"}}", 0 },
        };
        _cleanup_free_ char *tar = make_tar(e, ARRAY_SIZE(e), NULL, &len);
        struct got g = { 0 };

        assert_int_equal(load_bytes(f->dst, tar, len, &g, &err), 0);
        assert_int_equal(g.n, 1);
        check_loaded(f->dst, g.manifest[0], f->config, f->diff_id, MEDIA_TYPE_OCI_LAYER);
        assert_string_equal(g.tags[0][0], "legacy:v1");
        got_free(&g);
}

/* manifest.json first, layers behind symlinks and a hard link (Docker 25's
 * compatibility directories, podman's "<hex>.tar"), a gzip'd layer. */
static void load_links(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        size_t tar_len, gz_len, len;
        _cleanup_free_ char *layer = make_tar(layer_files, ARRAY_SIZE(layer_files), NULL, &tar_len);
        _cleanup_free_ char *gz = gzip_bytes(layer, tar_len, &gz_len), *gz_digest = digest_of(gz, gz_len);
        _cleanup_free_ char *blob = xasprintf("blobs/sha256/%s", gz_digest + 7);
        _cleanup_free_ char *target = xasprintf("../blobs/sha256/%s", gz_digest + 7);
        _cleanup_free_ char *config = config_json(f->diff_id);
        _cleanup_free_ char *mj = xasprintf("[{\"Config\":\"./cfg.json\",\"RepoTags\":[\"links:1\"],"
                                            "\"Layers\":[\"abc/layer.tar\"]},"
                                            "{\"Config\":\"cfg2.json\",\"RepoTags\":[\"links:2\"],"
                                            "\"Layers\":[\"l.tar\"]}]");
        const struct tentry e[] = {
                { "manifest.json", T_FILE, mj, 0 },
                { "abc/layer.tar", T_SYMLINK, target, 0 },
                { blob, T_FILE, gz, gz_len },
                { "cfg.json", T_FILE, config, 0 },
                { "cfg2.json", T_HARDLINK, "cfg.json", 0 },
                { "l.tar", T_SYMLINK, "abc/layer.tar", 0 },
        };
        _cleanup_free_ char *tar = make_tar(e, ARRAY_SIZE(e), "zstd", &len);
        struct got g = { 0 };

        assert_int_equal(load_bytes(f->dst, tar, len, &g, &err), 0);
        /* both entries are the same image */
        assert_int_equal(g.n, 1);
        check_loaded(f->dst, g.manifest[0], f->config, f->diff_id, MEDIA_TYPE_OCI_LAYER_GZIP);
        assert_string_equal(g.tags[0][0], "links:1");
        assert_string_equal(g.tags[0][1], "links:2");
        got_free(&g);
}

/* An OCI archive of the stored blobs: the manifest is kept as it is. */
static void load_oci_archive(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *mraw = NULL, *craw = NULL, *lraw = NULL, *index = NULL, *tar = NULL;
        _cleanup_free_ char *mp = xasprintf("blobs/sha256/%s", f->manifest + 7);
        _cleanup_free_ char *cp = xasprintf("blobs/sha256/%s", f->config + 7);
        _cleanup_free_ char *lp = xasprintf("blobs/sha256/%s", f->layer + 7);
        size_t ml, cl, ll, len;
        struct got g = { 0 };

        assert_int_equal(content_read(f->src, f->manifest, &mraw, &ml, &err), 0);
        assert_int_equal(content_read(f->src, f->config, &craw, &cl, &err), 0);
        assert_int_equal(content_read(f->src, f->layer, &lraw, &ll, &err), 0);
        index = xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
                          "\"annotations\":{\"org.opencontainers.image.ref.name\":\"example.com/app:2.0\"}},"
                          "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
                          "\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}]}",
                          MEDIA_TYPE_DOCKER_MANIFEST, f->manifest, ml, MEDIA_TYPE_DOCKER_MANIFEST, f->manifest, ml);
        const struct tentry e[] = {
                { "oci-layout", T_FILE, "{\"imageLayoutVersion\":\"1.0.0\"}", 0 },
                { "index.json", T_FILE, index, 0 },
                { mp, T_FILE, mraw, ml },
                { cp, T_FILE, craw, cl },
                { lp, T_FILE, lraw, ll },
        };
        tar = make_tar(e, ARRAY_SIZE(e), NULL, &len);
        assert_int_equal(load_bytes(f->dst, tar, len, &g, &err), 0);
        assert_int_equal(g.n, 1);
        assert_string_equal(g.manifest[0], f->manifest);
        assert_string_equal(g.tags[0][0], "example.com/app:2.0");
        assert_null(g.tags[0][1]); /* a bare tag names nothing */
        check_loaded(f->dst, g.manifest[0], f->config, f->diff_id, MEDIA_TYPE_DOCKER_LAYER_GZIP);
        got_free(&g);
}

/* The callback's error stops the load. */
static void load_callback_fails(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        const char *tags[] = { "busybox", NULL };
        size_t len;
        _cleanup_free_ char *tar = save_image(f, tags, &len);
        struct got g = { .fail = 1 };

        assert_true(load_bytes(f->dst, tar, len, &g, &err) < 0);
        assert_string_equal(err->msg, "callback says no");
}

/* ---- OCI layout export --------------------------------------------------- */

static void export_tar_and_load(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        const char *tags[] = { "localhost:5000/app:3", NULL };
        struct archive_image img = { f->manifest, tags };
        _cleanup_close_ int fd = memfd_create("oci", MFD_CLOEXEC);
        _cleanup_free_ char *tar = NULL, *index = NULL;
        struct got g = { 0 };
        size_t len, n;

        assert_int_equal(oci_layout_export(f->src, &img, 1, NULL, fd, &err), 0);
        tar = fd_contents(fd, &len);
        index = tar_member(tar, len, "index.json", &n);
        assert_non_null(strstr(index, "\"org.opencontainers.image.ref.name\":\"3\""));
        assert_non_null(strstr(index, "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}"));
        assert_int_equal(load_bytes(f->dst, tar, len, &g, &err), 0);
        assert_int_equal(g.n, 1);
        assert_string_equal(g.manifest[0], f->manifest);
        assert_string_equal(g.tags[0][0], "localhost:5000/app:3");
        check_loaded(f->dst, g.manifest[0], f->config, f->diff_id, MEDIA_TYPE_DOCKER_LAYER_GZIP);
        got_free(&g);
}

static void export_dir(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        const char *tags[] = { "busybox:1.36", NULL };
        struct archive_image img = { f->manifest, tags };
        _cleanup_free_ char *dir = xasprintf("%s/layout", f->dir), *index_path = xasprintf("%s/index.json", dir);
        _cleanup_free_ char *layer = xasprintf("%s/blobs/sha256/%s", dir, f->layer + 7);
        _cleanup_free_ char *stored = content_path(f->src, f->layer), *index = NULL;
        struct stat a, b;
        size_t n;

        assert_int_equal(oci_layout_export(f->src, &img, 1, dir, -1, &err), 0);
        /* again: what is there stays */
        assert_int_equal(oci_layout_export(f->src, &img, 1, dir, -1, &err), 0);
        assert_int_equal(read_file(index_path, &index, &n, &err), 0);
        assert_non_null(strstr(index, "\"org.opencontainers.image.ref.name\":\"1.36\""));
        assert_int_equal(stat(layer, &a), 0);
        assert_int_equal(stat(stored, &b), 0);
        assert_int_equal(a.st_ino, b.st_ino); /* same filesystem: a hard link */
}

/* ---- import -------------------------------------------------------------- */

static bool strv_has(char **v, const char *s)
{
        for (; v && *v; v++)
                if (strcmp(*v, s) == 0)
                        return true;
        return false;
}

static struct image_config *imported_config(struct content_store *cs, const char *manifest, char **layer)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *raw = NULL, *craw = NULL;
        _cleanup_manifest_ struct manifest *m = NULL;
        struct image_config *c = NULL;
        size_t len;

        assert_int_equal(content_read(cs, manifest, &raw, &len, &err), 0);
        assert_int_equal(manifest_parse(raw, len, NULL, &m, &err), 0);
        assert_int_equal(manifest_check_image(m, &err), 0);
        assert_int_equal(m->n_layers, 1);
        assert_string_equal(m->layers[0].media_type, MEDIA_TYPE_OCI_LAYER);
        assert_int_equal(content_read(cs, m->config.digest, &craw, &len, &err), 0);
        assert_int_equal(image_config_parse(craw, len, &c, &err), 0);
        assert_int_equal(image_config_check_layers(c, m, &err), 0);
        *layer = xstrdup(m->layers[0].digest);
        return c;
}

static void import_with_changes(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        const char *changes[] = {
                "CMD [\"/bin/app\", \"--serve\"]",
                "ENV A=1 B=\"two words\" PATH=/usr/bin",
                "env C three four",
                "ENV A=again",
                "WORKDIR /srv",
                "WORKDIR app",
                "EXPOSE 80 53/udp 8000-8002",
                "LABEL org.example=yes \"with space\"='x y'",
                "ENTRYPOINT exec /bin/init",
                "USER 1000:1000",
                "VOLUME [\"/data\", \"/logs\"]",
                "STOPSIGNAL SIGQUIT",
                NULL,
        };
        struct image_import_opts o = { changes, "first import", "linux/arm64", 1700000000 };
        size_t tar_len, gz_len;
        _cleanup_free_ char *tar = make_tar(layer_files, ARRAY_SIZE(layer_files), NULL, &tar_len);
        _cleanup_free_ char *gz = gzip_bytes(tar, tar_len, &gz_len), *manifest = NULL, *layer = NULL;
        _cleanup_free_ char *want = digest_of(tar, tar_len);
        _cleanup_close_ int fd = memfd_with(gz, gz_len);
        _cleanup_image_config_ struct image_config *c = NULL;

        assert_int_equal(image_import(f->dst, fd, &o, &manifest, &err), 0);
        c = imported_config(f->dst, manifest, &layer);
        assert_string_equal(layer, want); /* stored decompressed: digest = DiffID */
        assert_string_equal(c->diff_ids[0], want);
        assert_string_equal(c->architecture, "arm64");
        assert_string_equal(c->os, "linux");
        assert_string_equal(c->created, "2023-11-14T22:13:20Z");
        assert_string_equal(c->cmd[0], "/bin/app");
        assert_string_equal(c->cmd[1], "--serve");
        assert_null(c->cmd[2]);
        assert_string_equal(c->entrypoint[0], "/bin/sh");
        assert_string_equal(c->entrypoint[1], "-c");
        assert_string_equal(c->entrypoint[2], "exec /bin/init");
        assert_string_equal(c->env[0], "A=again");
        assert_string_equal(c->env[1], "B=two words");
        assert_string_equal(c->env[2], "PATH=/usr/bin");
        assert_string_equal(c->env[3], "C=three four");
        assert_string_equal(c->working_dir, "/srv/app");
        assert_true(strv_has(c->exposed_ports, "80/tcp"));
        assert_true(strv_has(c->exposed_ports, "53/udp"));
        assert_true(strv_has(c->exposed_ports, "8001/tcp"));
        assert_true(strv_has(c->exposed_ports, "8002/tcp"));
        assert_string_equal(json_string_value(json_object_get(c->labels, "org.example")), "yes");
        assert_string_equal(json_string_value(json_object_get(c->labels, "with space")), "x y");
        assert_string_equal(c->user, "1000:1000");
        assert_true(strv_has(c->volumes, "/data") && strv_has(c->volumes, "/logs"));
        assert_string_equal(c->stop_signal, "SIGQUIT");
        assert_int_equal(c->n_history, 1);
        assert_string_equal(c->history[0].comment, "first import");
}

/* Plain and zstd tarballs, no options: this host's platform, docker's comment. */
static void import_plain_and_zstd(void **state)
{
        struct fixture *f = *state;
        const char *filters[] = { NULL, "zstd" };

        for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                size_t len, plain_len;
                _cleanup_free_ char *tar = make_tar(layer_files, ARRAY_SIZE(layer_files), filters[i], &len);
                _cleanup_free_ char *plain = make_tar(layer_files, ARRAY_SIZE(layer_files), NULL, &plain_len);
                _cleanup_free_ char *want = digest_of(plain, plain_len), *manifest = NULL, *layer = NULL;
                _cleanup_close_ int fd = memfd_with(tar, len);
                _cleanup_image_config_ struct image_config *c = NULL;

                assert_int_equal(image_import(f->dst, fd, NULL, &manifest, &err), 0);
                c = imported_config(f->dst, manifest, &layer);
                assert_string_equal(layer, want);
                assert_string_equal(c->history[0].comment, "Imported from -");
                assert_null(c->cmd);
                assert_non_null(c->created);
        }
}

static int count_dir(const char *path)
{
        DIR *d = opendir(path);
        struct dirent *de;
        int n = 0;

        assert_non_null(d);
        while ((de = readdir(d)) != NULL)
                n += de->d_name[0] != '.';
        closedir(d);
        return n;
}

static void import_refused(void **state)
{
        struct fixture *f = *state;
        const char *bad[][2] = {
                { "RUN echo hi", "\"RUN\" is not a valid change" },
                { "ONBUILD RUN x", "ONBUILD is not supported" },
                { "EXPOSE 80/foo", "protocol must be tcp, udp or sctp" },
                { "EXPOSE 70000", "not a port" },
                { "ENV novalue", "needs a name and a value" },
                { "ENV =x", "is not KEY=VALUE" },
                { "CMD", "CMD needs an argument" },
                { "LABEL a=\"unterminated", "unterminated \" quote" },
                { "STOPSIGNAL SIG TERM", "not a signal" },
        };
        _cleanup_free_ char *ingest = xasprintf("%s/blobs/ingest", f->dst_root);
        _cleanup_free_ char *blobs = xasprintf("%s/blobs/sha256", f->dst_root);
        int before = count_dir(blobs);

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                const char *changes[] = { bad[i][0], NULL };
                struct image_import_opts o = { .changes = changes };
                char *manifest = NULL;

                assert_true(image_import(f->dst, -1, &o, &manifest, &err) < 0);
                if (strstr(err->msg, bad[i][1]) == NULL)
                        fail_msg("%s: %s", bad[i][0], err->msg);
        }
        /* not a tar: nothing stored, no partial file left */
        {
                _cleanup_error_ berth_error_t *err = NULL;
                char junk[3000];
                _cleanup_close_ int fd = -1;
                char *manifest = NULL;

                for (size_t i = 0; i < sizeof(junk); i++)
                        junk[i] = (char)(i * 7 + 1);
                fd = memfd_with(junk, sizeof(junk));
                assert_true(image_import(f->dst, fd, NULL, &manifest, &err) < 0);
                print_message("not a tar: %s\n", err->msg);
                assert_non_null(strstr(err->msg, "not a tar archive"));
        }
        assert_int_equal(count_dir(ingest), 0);
        assert_int_equal(count_dir(blobs), before);
}

/* ---- hostile archives ---------------------------------------------------- */

static void expect_load_error(struct fixture *f, const struct tentry *e, size_t n, const char *want)
{
        _cleanup_error_ berth_error_t *err = NULL;
        size_t len;
        _cleanup_free_ char *tar = make_tar(e, n, NULL, &len);
        struct got g = { 0 };

        assert_true(load_bytes(f->dst, tar, len, &g, &err) < 0);
        assert_int_equal(g.n, 0);
        if (strstr(err->msg, want) == NULL)
                fail_msg("want \"%s\" in: %s", want, err->msg);
        assert_null(strchr(err->msg, '\n'));
}

static void hostile_paths(void **state)
{
        struct fixture *f = *state;
        const struct tentry dotdot[] = { { "../x", T_FILE, "x", 0 } };
        const struct tentry inner[] = { { "a/../../x", T_FILE, "x", 0 } };
        const struct tentry absolute[] = { { "/etc/x", T_FILE, "x", 0 } };
        const struct tentry link_out[] = { { "a/layer.tar", T_SYMLINK, "../../etc/passwd", 0 } };
        const struct tentry link_abs[] = { { "layer.tar", T_SYMLINK, "/etc/passwd", 0 } };
        const struct tentry hard_out[] = { { "layer.tar", T_HARDLINK, "../etc/passwd", 0 } };
        const struct tentry mj_out[] = { { "manifest.json", T_FILE,
                                           "[{\"Config\":\"../c.json\",\"Layers\":[]}]", 0 } };

        expect_load_error(f, dotdot, 1, "archive entry \"../x\": leads outside the archive");
        expect_load_error(f, inner, 1, "leads outside the archive");
        expect_load_error(f, absolute, 1, "archive entry \"/etc/x\": absolute path");
        expect_load_error(f, link_out, 1, "leads outside the archive");
        expect_load_error(f, link_abs, 1, "leads outside the archive");
        expect_load_error(f, hard_out, 1, "leads outside the archive");
        expect_load_error(f, mj_out, 1, "manifest.json: [0]: archive entry \"../c.json\": leads outside");
}

static void hostile_missing_layer(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *config = config_json(f->diff_id);
        const struct tentry e[] = {
                { "manifest.json", T_FILE, "[{\"Config\":\"c.json\",\"Layers\":[\"nothere/layer.tar\"]}]", 0 },
                { "c.json", T_FILE, config, 0 },
        };
        const struct tentry loop[] = {
                { "manifest.json", T_FILE, "[{\"Config\":\"c.json\",\"Layers\":[\"a\"]}]", 0 },
                { "c.json", T_FILE, config, 0 },
                { "a", T_SYMLINK, "b", 0 },
                { "b", T_SYMLINK, "a", 0 },
        };
        const struct tentry none[] = { { "hello", T_FILE, "x", 0 } };

        expect_load_error(f, e, ARRAY_SIZE(e), "manifest.json: [0].Layers[0]: \"nothere/layer.tar\" is not in the archive");
        expect_load_error(f, loop, ARRAY_SIZE(loop), "too many levels of links");
        expect_load_error(f, none, ARRAY_SIZE(none), "not an image archive");
}

/* A blob whose content is not what its name says: refused, not stored. */
static void hostile_blob_mismatch(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", f->diff_id + 7);
        _cleanup_free_ char *actual = digest_of("evil", 4);
        _cleanup_free_ char *ingest = xasprintf("%s/blobs/ingest", f->dst_root);
        const struct tentry e[] = { { name, T_FILE, "evil", 0 } };

        expect_load_error(f, e, 1, "content has digest");
        assert_false(content_exists(f->dst, f->diff_id));
        assert_false(content_exists(f->dst, actual));
        assert_int_equal(count_dir(ingest), 0);
}

/* A legacy layer that is not what the config's diff_id says. */
static void hostile_diff_id(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *config = config_json(f->diff_id);
        const struct tentry e[] = {
                { "manifest.json", T_FILE, "[{\"Config\":\"c.json\",\"Layers\":[\"x/layer.tar\"]}]", 0 },
                { "c.json", T_FILE, config, 0 },
                { "x/layer.tar", T_FILE, "not the layer", 0 },
        };
        const struct tentry count[] = {
                { "manifest.json", T_FILE, "[{\"Config\":\"c.json\",\"Layers\":[]}]", 0 },
                { "c.json", T_FILE, config, 0 },
        };

        expect_load_error(f, e, ARRAY_SIZE(e), "not the config's diff_id");
        expect_load_error(f, count, ARRAY_SIZE(count), "diff_ids");
}

static void hostile_json(void **state)
{
        struct fixture *f = *state;
        size_t big = ARCHIVE_JSON_MAX + 1;
        _cleanup_free_ char *huge = xmalloc(big + 1);
        const struct tentry oversized[] = { { "manifest.json", T_FILE, huge, big } };
        const struct tentry twice[] = { { "manifest.json", T_FILE, "[]", 0 }, { "./manifest.json", T_FILE, "[]", 0 } };
        const struct tentry garbage[] = { { "manifest.json", T_FILE, "[{\"Config\":", 0 } };
        const struct tentry empty[] = { { "manifest.json", T_FILE, "[]", 0 } };
        const struct tentry bad_tag[] = { { "manifest.json", T_FILE,
                                            "[{\"Config\":\"c\",\"RepoTags\":[\"Invalid Name\"]}]", 0 },
                                          { "c", T_FILE, "{}", 0 } };
        const struct tentry no_layout[] = { { "index.json", T_FILE, "{\"schemaVersion\":2,\"manifests\":[]}", 0 } };

        memset(huge, ' ', big);
        huge[0] = '[';
        huge[big] = '\0';
        expect_load_error(f, oversized, 1, "manifest.json: 4194305 bytes, more than the 4194304 allowed");
        expect_load_error(f, twice, 2, "manifest.json appears twice");
        expect_load_error(f, garbage, 1, "manifest.json: invalid JSON");
        expect_load_error(f, empty, 1, "no image in the archive");
        expect_load_error(f, bad_tag, 2, "RepoTags[0]");
        expect_load_error(f, no_layout, 1, "no oci-layout");
}

static void hostile_not_tar(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct got g = { 0 };

        assert_true(load_bytes(f->dst, "this is not a tar archive at all", 32, &g, &err) < 0);
        assert_non_null(strstr(err->msg, "read archive: "));
        berth_error_free(&err);
        assert_true(load_bytes(f->dst, "", 0, &g, &err) < 0);
}

/* ---- with the real tools ------------------------------------------------- */

static bool have(const char *tool)
{
        _cleanup_free_ char *cmd = xasprintf("%s --version >/dev/null 2>&1", tool);

        return system(cmd) == 0;
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
        va_list ap;
        char *cmd;
        int r;

        va_start(ap, fmt);
        if (vasprintf(&cmd, fmt, ap) < 0)
                abort();
        va_end(ap);
        r = system(cmd);
        if (r != 0)
                print_message("command failed (%d): %s\n", r, cmd);
        free(cmd);
        return r;
}

static void write_out(const char *path, const char *data, size_t len)
{
        berth_error_t *err = NULL;

        assert_int_equal(write_file(path, data, len, &err), 0);
}

static void load_path(struct fixture *f, const char *path, struct got *g)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        if (archive_load(f->dst, fd, on_loaded, g, &err) < 0)
                fail_msg("load %s: %s", path, err->msg);
}

static void interop_podman(void **state)
{
        struct fixture *f = *state;
        const char *tags[] = { "localhost/berth-test:1", NULL };
        size_t len;
        _cleanup_free_ char *tar = NULL, *file = xasprintf("%s/saved.tar", f->dir);
        _cleanup_free_ char *podman = xasprintf("podman --root %s/p-root --runroot %s/p-run --storage-driver vfs "
                                                "--cgroup-manager cgroupfs --events-backend none",
                                                f->dir, f->dir);
        struct got g = { 0 };

        if (!have("podman")) {
                print_message("skipped: podman is not installed\n");
                skip();
        }
        tar = save_image(f, tags, &len);
        write_out(file, tar, len);
        assert_int_equal(run("%s load -q -i %s >/dev/null", podman, file), 0);
        assert_int_equal(run("%s image exists localhost/berth-test:1", podman), 0);
        /* and podman's archives back: docker-archive (legacy form) and OCI */
        assert_int_equal(run("%s save -q --format docker-archive -o %s/p-docker.tar localhost/berth-test:1", podman,
                             f->dir), 0);
        assert_int_equal(run("%s save -q --format oci-archive -o %s/p-oci.tar localhost/berth-test:1", podman, f->dir),
                         0);
        free(file);
        file = xasprintf("%s/p-docker.tar", f->dir);
        load_path(f, file, &g);
        assert_int_equal(g.n, 1);
        assert_string_equal(g.tags[0][0], "localhost/berth-test:1");
        check_loaded(f->dst, g.manifest[0], f->config, f->diff_id, MEDIA_TYPE_OCI_LAYER);
        got_free(&g);
        free(file);
        file = xasprintf("%s/p-oci.tar", f->dir);
        load_path(f, file, &g);
        assert_int_equal(g.n, 1);
        got_free(&g);
}

/* The image with OCI media types (skopeo 1.9 reads only OCI manifests
 * from an OCI layout). */
static char *oci_variant(struct fixture *f)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *m = NULL, *raw = NULL;
        char *digest = NULL;
        int64_t config_size, layer_size;
        size_t len;
        struct stat st;
        int fd;

        assert_int_equal(content_read(f->src, f->config, &raw, &len, &err), 0);
        config_size = (int64_t)len;
        fd = content_open(f->src, f->layer, &err);
        assert_true(fd >= 0 && fstat(fd, &st) == 0);
        close(fd);
        layer_size = st.st_size;
        m = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\","
                      "\"size\":%lld},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}]}",
                      MEDIA_TYPE_OCI_MANIFEST, MEDIA_TYPE_OCI_CONFIG, f->config, (long long)config_size,
                      MEDIA_TYPE_OCI_LAYER_GZIP, f->layer, (long long)layer_size);
        assert_int_equal(content_put(f->src, m, strlen(m), &digest, &err), 0);
        return digest;
}

static void interop_skopeo(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        const char *tags[] = { "busybox:latest", NULL };
        _cleanup_free_ char *oci_manifest = NULL;
        size_t len;
        _cleanup_free_ char *tar = NULL, *docker = xasprintf("%s/s-docker.tar", f->dir);
        _cleanup_free_ char *oci = xasprintf("%s/s-oci.tar", f->dir), *dir = xasprintf("%s/s-layout", f->dir);
        _cleanup_close_ int fd = -1;

        if (!have("skopeo")) {
                print_message("skipped: skopeo is not installed\n");
                skip();
        }
        tar = save_image(f, tags, &len);
        write_out(docker, tar, len);
        assert_int_equal(run("skopeo inspect docker-archive:%s | grep -q '\"Architecture\": \"amd64\"'", docker), 0);
        /* the saved docker-archive's layer survives skopeo's checks */
        assert_int_equal(run("skopeo copy -q docker-archive:%s dir:%s/s-copy >/dev/null", docker, f->dir), 0);

        oci_manifest = oci_variant(f);
        struct archive_image img = { oci_manifest, tags };
        fd = open(oci, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_int_equal(oci_layout_export(f->src, &img, 1, NULL, fd, &err), 0);
        assert_int_equal(oci_layout_export(f->src, &img, 1, dir, -1, &err), 0);
        assert_int_equal(run("skopeo inspect --raw oci-archive:%s:latest | grep -q '%s'", oci, f->config), 0);
        assert_int_equal(run("skopeo inspect --raw oci:%s:latest | grep -q '%s'", dir, f->config), 0);
        assert_int_equal(run("skopeo copy -q oci:%s:latest dir:%s/s-copy2 >/dev/null", dir, f->dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(save_load_roundtrip, setup, teardown),
                cmocka_unit_test_setup_teardown(save_is_deterministic, setup, teardown),
                cmocka_unit_test_setup_teardown(save_two_images, setup, teardown),
                cmocka_unit_test_setup_teardown(load_gzipped, setup, teardown),
                cmocka_unit_test_setup_teardown(load_from_pipe, setup, teardown),
                cmocka_unit_test_setup_teardown(load_legacy, setup, teardown),
                cmocka_unit_test_setup_teardown(load_links, setup, teardown),
                cmocka_unit_test_setup_teardown(load_oci_archive, setup, teardown),
                cmocka_unit_test_setup_teardown(load_callback_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(export_tar_and_load, setup, teardown),
                cmocka_unit_test_setup_teardown(export_dir, setup, teardown),
                cmocka_unit_test_setup_teardown(import_with_changes, setup, teardown),
                cmocka_unit_test_setup_teardown(import_plain_and_zstd, setup, teardown),
                cmocka_unit_test_setup_teardown(import_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(hostile_paths, setup, teardown),
                cmocka_unit_test_setup_teardown(hostile_missing_layer, setup, teardown),
                cmocka_unit_test_setup_teardown(hostile_blob_mismatch, setup, teardown),
                cmocka_unit_test_setup_teardown(hostile_diff_id, setup, teardown),
                cmocka_unit_test_setup_teardown(hostile_json, setup, teardown),
                cmocka_unit_test_setup_teardown(hostile_not_tar, setup, teardown),
                cmocka_unit_test_setup_teardown(interop_podman, setup, teardown),
                cmocka_unit_test_setup_teardown(interop_skopeo, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
