#include "image/image-store.h"
#include "image/digest.h"
#include "image/imagedb.h"
#include "image/layer.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store.h"
#include "util/util.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/stat.h>

struct image_store {
        char *root;
        int lock_fd;
        int layers_fd;          /* <root>/layers */
        struct content_store *cs;
        struct imagedb *db;
};

struct content_store *image_store_content(struct image_store *s) { return s->cs; }
struct imagedb *image_store_db(struct image_store *s) { return s->db; }
const char *image_store_root(struct image_store *s) { return s->root; }

/* The hex part of a validated "sha256:<hex>". */
static const char *hex_of(const char *digest)
{
        const char *colon = strchr(digest, ':');
        return colon ? colon + 1 : digest;
}

char *image_store_layer_path(struct image_store *s, const char *chain_id)
{
        return xasprintf("%s/layers/%s/diff", s->root, hex_of(chain_id));
}

static int take_lock(const char *root, int *fd_out, berth_error_t **err)
{
        _cleanup_free_ char *path = xasprintf("%s/image-store.lock", root);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

        if (fd < 0)
                return berth_error(err, errno, "open %s", path);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return berth_error(err, errno, "lock %s", path);
                /* another process owns the store: wait for it, as a second
                 * `podman pull` waits for the first */
                if (flock(fd, LOCK_EX) < 0)
                        return berth_error(err, errno, "lock %s", path);
        }
        *fd_out = steal_fd(&fd);
        return 0;
}

/* ---- repair on open ------------------------------------------------- */

static bool is_chain_hex(const char *name)
{
        return strlen(name) == 64 && strspn(name, "0123456789abcdef") == 64;
}

/* Remove layers/.tmp-* (extractions a crash interrupted) and directories
 * never recorded (a crash between rename and record). */
static int repair_layer_dirs(struct image_store *s, berth_error_t **err)
{
        int dfd = dup(s->layers_fd);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        struct dirent *de;

        if (d == NULL) {
                if (dfd >= 0)
                        close(dfd);
                return berth_error(err, errno, "read %s/layers", s->root);
        }
        while ((de = readdir(d)) != NULL) {
                const char *n = de->d_name;
                bool remove = false;

                if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
                        continue;
                if (str_has_prefix(n, ".tmp-")) {
                        remove = true;
                } else if (is_chain_hex(n)) {
                        _cleanup_free_ char *chain = xasprintf("sha256:%s", n);
                        int r = imagedb_layer_get(s->db, chain, NULL, err);
                        if (r < 0) {
                                closedir(d);
                                return r;
                        }
                        remove = r == 0;
                }
                int rr = remove ? remove_tree_at(s->layers_fd, n) : 0;
                if (rr < 0) {
                        int e = -rr;
                        closedir(d);
                        return berth_error(err, e, "remove %s/layers/%s", s->root, n);
                }
        }
        closedir(d);
        return 0;
}

struct missing_layers {
        struct image_store *s;
        char **chains;
        size_t n;
};

static int collect_missing(void *data, const struct imagedb_layer *l, berth_error_t **err)
{
        struct missing_layers *m = data;
        (void)err;

        if (l->refs == 0 && !image_store_has_layer(m->s, l->chain_id)) {
                m->chains = xrealloc(m->chains, (m->n + 1) * sizeof(char *));
                m->chains[m->n++] = xstrdup(l->chain_id);
        }
        return 0;
}

/* Records of unused layers whose directory is gone (removed by hand or
 * by the step above): forget them, a pull unpacks them again.  Layers of
 * images are left to image_store_check, which can re-extract them. */
static int repair_layer_rows(struct image_store *s, berth_error_t **err)
{
        struct missing_layers m = { .s = s };
        int r = imagedb_layer_each(s->db, collect_missing, &m, err);

        if (r == 0 && m.n > 0 && (r = imagedb_begin(s->db, err)) == 0) {
                for (size_t i = 0; i < m.n && r == 0; i++)
                        r = imagedb_layer_delete(s->db, m.chains[i], err);
                if (r == 0)
                        r = imagedb_commit(s->db, err);
                if (r < 0)
                        imagedb_rollback(s->db);
        }
        for (size_t i = 0; i < m.n; i++)
                free(m.chains[i]);
        free(m.chains);
        return r;
}

int image_store_open(const char *data_root, struct image_store **out, berth_error_t **err)
{
        struct image_store *s = xcalloc(1, sizeof(*s));
        _cleanup_free_ char *layers = xasprintf("%s/layers", data_root);
        _cleanup_free_ char *dbpath = xasprintf("%s/berth.db", data_root);

        s->root = xstrdup(data_root);
        s->lock_fd = s->layers_fd = -1;
        if (mkdir_p(layers, 0700, err) < 0 || take_lock(data_root, &s->lock_fd, err) < 0)
                goto fail;
        s->layers_fd = open(layers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->layers_fd < 0) {
                berth_error(err, errno, "open %s", layers);
                goto fail;
        }
        if (content_store_open(data_root, &s->cs, err) < 0 || imagedb_open(dbpath, &s->db, err) < 0 ||
            repair_layer_dirs(s, err) < 0 || repair_layer_rows(s, err) < 0)
                goto fail;
        *out = s;
        return 0;
fail:
        image_store_close(s);
        return berth_error_wrap(err, "image store %s", data_root);
}

void image_store_close(struct image_store *s)
{
        if (s == NULL)
                return;
        imagedb_close(s->db);
        content_store_close(s->cs);
        if (s->layers_fd >= 0)
                close(s->layers_fd);
        if (s->lock_fd >= 0)
                close(s->lock_fd);
        free(s->root);
        free(s);
}

/* ---- names ---------------------------------------------------------- */

int image_store_resolve(struct image_store *s, const char *name, char **id, berth_error_t **err)
{
        _cleanup_image_ref_ struct image_ref ref = { 0 };
        _cleanup_free_ char *full = NULL;
        int r;

        /* a full or abbreviated id first, as docker does: "sha256:<hex>" is
         * never a valid reference, and a bare hex prefix rarely is a
         * repository name someone pulled */
        if (str_has_prefix(name, "sha256:") || (strlen(name) >= 4 && strspn(name, "0123456789abcdef") == strlen(name))) {
                r = imagedb_image_find_prefix(s->db, name, id, err);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        if (image_ref_parse(name, &ref, NULL) == 0) {
                full = image_ref_string(&ref);
                r = imagedb_name_get(s->db, full, id, err);
                if (r != 0)
                        return r < 0 ? r : 0;
                /* name:tag@digest: the digest decides */
                if (ref.tag && ref.digest) {
                        _cleanup_free_ char *repo = image_ref_name(&ref);
                        _cleanup_free_ char *by_digest = xasprintf("%s@%s", repo, ref.digest);
                        r = imagedb_name_get(s->db, by_digest, id, err);
                        if (r != 0)
                                return r < 0 ? r : 0;
                }
        }
        return berth_fail(err, ENOENT, "No such image: %s", name);
}

/* ---- layers --------------------------------------------------------- */

bool image_store_has_layer(struct image_store *s, const char *chain_id)
{
        _cleanup_free_ char *path = xasprintf("%s/diff", hex_of(chain_id));
        struct stat st;

        return fstatat(s->layers_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* The tar stream may have bytes after what the extractor needed (gzip
 * trailers, padding): read them so a writer feeding the fd finishes. */
static void drain(int fd)
{
        char buf[16384];
        ssize_t n;

        do
                n = read(fd, buf, sizeof(buf));
        while (n > 0 || (n < 0 && errno == EINTR));
}

static int extract_verified(struct image_store *s, struct layer_unpack *l, int fd, const char *tmp,
                            berth_error_t **err)
{
        _cleanup_free_ char *diff = xasprintf("%s/layers/%s/diff", s->root, tmp);
        struct layer_apply_opts o = {
                .overlay_whiteouts = true,
                .keep_ownership = true,
                /* root outside a user namespace may make device nodes */
                .allow_devices = geteuid() == 0,
        };
        struct layer_stats st;

        if (mkdirat(s->layers_fd, tmp, 0700) < 0 || mkdir(diff, 0755) < 0)
                return berth_error(err, errno, "create %s", diff);
        if (layer_apply(fd, diff, &o, &st, err) < 0)
                return -1;
        drain(fd);
        if (strcmp(st.diff_id, l->diff_id) != 0)
                return berth_error(err, 0, "content is %s, but the image config says its DiffID is %s", st.diff_id,
                                   l->diff_id);
        l->size = (int64_t)st.bytes;
        return 0;
}

int image_store_unpack_layer(struct image_store *s, struct layer_unpack *l, int fd, berth_error_t **err)
{
        static atomic_uint counter;
        char tmp[64 + 48];
        int r;

        snprintf(tmp, sizeof(tmp), ".tmp-%.12s-%d-%u", hex_of(l->chain_id), (int)getpid(), atomic_fetch_add(&counter, 1));
        r = extract_verified(s, l, fd, tmp, err);
        if (r == 0 && renameat(s->layers_fd, tmp, s->layers_fd, hex_of(l->chain_id)) < 0) {
                /* another thread unpacked the same chain first: keep that */
                if (errno != EEXIST && errno != ENOTEMPTY)
                        r = berth_error(err, errno, "rename layer %s into place", l->chain_id);
        }
        int rm = remove_tree_at(s->layers_fd, tmp);
        if (rm < 0 && r == 0)
                r = berth_error(err, -rm, "remove %s/layers/%s", s->root, tmp);
        if (r < 0)
                return berth_error_wrap(err, "layer %s", l->blob_digest ? l->blob_digest : l->diff_id);
        return 0;
}

int image_store_record_layer(struct image_store *s, const struct layer_unpack *l, berth_error_t **err)
{
        struct imagedb_layer row = {
                .chain_id = (char *)l->chain_id,
                .diff_id = (char *)l->diff_id,
                .parent = (char *)l->parent_chain_id,
                .blob_digest = (char *)l->blob_digest,
                .media_type = (char *)l->media_type,
                .size = l->size,
        };

        return imagedb_layer_add(s->db, &row, err);
}

/* ---- registering an image whose blobs are in the content store ------- */

void image_plan_clear(struct image_plan *p)
{
        if (p->m != NULL) {
                for (size_t i = 0; i < p->m->n_layers && p->chains; i++)
                        free(p->chains[i]);
        }
        free(p->chains);
        manifest_free(p->m);
        image_config_free(p->cfg);
        free(p->manifest_media_type);
        *p = (struct image_plan){ 0 };
}

int image_plan_from_manifest(struct image_plan *p, const char *manifest, size_t len, const char *content_type,
                             const char *config, size_t config_len, berth_error_t **err)
{
        if (manifest_parse(manifest, len, content_type, &p->m, err) < 0 || manifest_check_image(p->m, err) < 0)
                return -1;
        p->manifest_media_type = xstrdup(manifest_kind_media_type(p->m->kind));
        if (image_config_parse(config, config_len, &p->cfg, err) < 0 ||
            image_config_check_layers(p->cfg, p->m, err) < 0)
                return -1;
        p->chains = xcalloc(p->m->n_layers + 1, sizeof(char *));
        for (size_t i = 0; i < p->m->n_layers; i++)
                p->chains[i] = chain_id((const char *const *)p->cfg->diff_ids, i + 1);
        return 0;
}

static int64_t image_size(struct image_store *s, const struct image_plan *p)
{
        int64_t total = 0;

        for (size_t i = 0; p->chains[i]; i++) {
                struct imagedb_layer l = { 0 };
                if (imagedb_layer_get(s->db, p->chains[i], &l, NULL) > 0)
                        total += l.size;
                imagedb_layer_clear(&l);
        }
        return total;
}

static char *platform_of(const struct image_config *c)
{
        struct platform p = { .os = c->os, .arch = c->architecture, .variant = c->variant };
        return platform_format(&p);
}

int image_plan_record(struct image_store *s, const struct image_plan *p, const char *manifest_digest,
                      const char *index_digest, const char *const *names, char **id_out, berth_error_t **err)
{
        const struct manifest *m = p->m;
        size_t nblobs = 0;
        _cleanup_free_ const char **blobs = xcalloc(m->n_layers + 3, sizeof(char *));
        _cleanup_free_ char *platform = platform_of(p->cfg);
        struct imagedb_image img = {
                .id = m->config.digest,
                .manifest_digest = (char *)manifest_digest,
                .media_type = p->manifest_media_type,
                .index_digest = (char *)index_digest,
                .platform = platform,
                .created = p->cfg->created,
                .size = image_size(s, p),
        };
        int r;

        blobs[nblobs++] = manifest_digest;
        blobs[nblobs++] = m->config.digest;
        if (index_digest)
                blobs[nblobs++] = index_digest;
        for (size_t i = 0; i < m->n_layers; i++)
                blobs[nblobs++] = m->layers[i].digest;

        if (imagedb_begin(s->db, err) < 0)
                return -1;
        r = imagedb_image_add(s->db, &img, (const char *const *)p->chains, m->n_layers, blobs, nblobs, err);
        for (size_t i = 0; r >= 0 && names && names[i]; i++)
                r = imagedb_name_set(s->db, names[i], img.id, NULL, err);
        if (r >= 0)
                r = imagedb_commit(s->db, err);
        if (r < 0) {
                imagedb_rollback(s->db);
                return r;
        }
        if (id_out)
                *id_out = xstrdup(img.id);
        return 0;
}

static void report(image_progress_fn fn, void *data, const char *digest, const char *status, int64_t cur,
                   int64_t total)
{
        char id[13];

        if (fn == NULL)
                return;
        snprintf(id, sizeof(id), "%.12s", hex_of(digest));
        fn(data, &(struct image_progress){ .id = id, .status = status, .current = cur, .total = total });
}

/* Unpack layer i of the plan from its blob in the content store. */
static int unpack_from_store(struct image_store *s, const struct image_plan *p, size_t i, berth_error_t **err)
{
        const struct descriptor *d = &p->m->layers[i];
        struct layer_unpack l = {
                .chain_id = p->chains[i],
                .parent_chain_id = i > 0 ? p->chains[i - 1] : NULL,
                .diff_id = p->cfg->diff_ids[i],
                .blob_digest = d->digest,
                .media_type = d->media_type,
        };
        _cleanup_close_ int fd = content_open(s->cs, d->digest, err);

        if (fd < 0 || image_store_unpack_layer(s, &l, fd, err) < 0)
                return -1;
        return image_store_record_layer(s, &l, err);
}

int image_store_register(struct image_store *s, const char *manifest_digest, const char *index_digest,
                         const char *const *names, image_progress_fn progress, void *progress_data, char **id,
                         berth_error_t **err)
{
        _cleanup_free_ char *manifest = NULL;
        _cleanup_free_ char *config = NULL;
        size_t mlen, clen;
        struct image_plan p = { 0 };
        int r = -1;

        if (content_read(s->cs, manifest_digest, &manifest, &mlen, err) < 0)
                goto out;
        if (manifest_parse(manifest, mlen, NULL, &p.m, err) < 0)
                goto out;
        r = content_read(s->cs, p.m->config.digest, &config, &clen, err);
        manifest_free(steal_pointer(&p.m));
        if (r < 0 || (r = image_plan_from_manifest(&p, manifest, mlen, NULL, config, clen, err)) < 0)
                goto out;
        for (size_t i = 0; i < p.m->n_layers; i++) {
                if (image_store_has_layer(s, p.chains[i]) && imagedb_layer_get(s->db, p.chains[i], NULL, NULL) > 0) {
                        report(progress, progress_data, p.m->layers[i].digest, "Already exists", -1, -1);
                        continue;
                }
                report(progress, progress_data, p.m->layers[i].digest, "Extracting", 0, p.m->layers[i].size);
                if ((r = unpack_from_store(s, &p, i, err)) < 0)
                        goto out;
                report(progress, progress_data, p.m->layers[i].digest, "Pull complete", -1, -1);
        }
        r = image_plan_record(s, &p, manifest_digest, index_digest, names, id, err);
out:
        image_plan_clear(&p);
        return r < 0 ? berth_error_wrap(err, "image %s", manifest_digest) : 0;
}
