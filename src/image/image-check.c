/* The store check (later `berth system check`) and garbage collection. */
#include "image/digest.h"
#include "image/image-store.h"
#include "image/imagedb.h"
#include "image/manifest.h"
#include "image/store.h"
#include "util/util.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

void image_check_report_clear(struct image_check_report *r)
{
        cleanup_strvp(&r->repaired);
        *r = (struct image_check_report){ 0 };
}

static void strv_push(char ***v, size_t *n, char *s)
{
        *v = xrealloc(*v, (*n + 2) * sizeof(char *));
        (*v)[(*n)++] = s;
        (*v)[*n] = NULL;
}

static void repaired(struct image_check_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void repaired(struct image_check_report *r, const char *fmt, ...)
{
        size_t n = 0;
        va_list ap;
        char *line;

        va_start(ap, fmt);
        if (vasprintf(&line, fmt, ap) < 0)
                abort();
        va_end(ap);
        while (r->repaired && r->repaired[n])
                n++;
        strv_push(&r->repaired, &n, line);
}

struct id_list {
        char **ids;
        size_t n;
};

static int collect_image(void *data, const struct imagedb_image *img, berth_error_t **err)
{
        struct id_list *l = data;
        (void)err;
        strv_push(&l->ids, &l->n, xstrdup(img->id));
        return 0;
}

static int collect_unused_layer(void *data, const struct imagedb_layer *l, berth_error_t **err)
{
        struct id_list *list = data;
        (void)err;
        if (l->refs == 0)
                strv_push(&list->ids, &list->n, xstrdup(l->chain_id));
        return 0;
}

static int remove_image(struct image_store *s, const char *id, berth_error_t **err)
{
        struct imagedb *db = image_store_db(s);

        if (imagedb_begin(db, err) < 0)
                return -1;
        if (imagedb_image_delete(db, id, err) < 0 || imagedb_commit(db, err) < 0) {
                imagedb_rollback(db);
                return -1;
        }
        return 0;
}

/* Layer i of the plan: recorded and unpacked, or extracted again from its
 * blob.  1 when repaired, 0 when fine, <0 (why set) when it cannot be. */
static int check_layer(struct image_store *s, const struct image_plan *p, size_t i, berth_error_t **why)
{
        const struct descriptor *d = &p->m->layers[i];
        struct layer_unpack l = { .chain_id = p->chains[i], .parent_chain_id = i ? p->chains[i - 1] : NULL,
                                  .diff_id = p->cfg->diff_ids[i], .blob_digest = d->digest,
                                  .media_type = d->media_type };
        int rec = imagedb_layer_get(image_store_db(s), p->chains[i], NULL, why);

        if (rec < 0)
                return rec;
        if (rec > 0 && image_store_has_layer(s, p->chains[i]))
                return 0;
        _cleanup_close_ int fd = content_open(image_store_content(s), d->digest, why);
        if (fd < 0 || image_store_unpack_layer(s, &l, fd, why) < 0 || image_store_record_layer(s, &l, why) < 0)
                return -1;
        return 1;
}

/* One image: its manifest and config blobs readable and consistent, each
 * layer recorded and unpacked.  A missing layer is extracted again from
 * its blob; an image that cannot be repaired is removed (a pull brings it
 * back). */
static int check_image(struct image_store *s, const char *id, struct image_check_report *r, berth_error_t **err)
{
        struct content_store *cs = image_store_content(s);
        struct imagedb_image img = { 0 };
        _cleanup_free_ char *manifest = NULL;
        _cleanup_free_ char *config = NULL;
        _cleanup_error_ berth_error_t *why = NULL;
        struct image_plan p = { 0 };
        size_t mlen, clen;
        int ret = 0;

        if (imagedb_image_get(image_store_db(s), id, &img, err) <= 0)
                return -1;
        r->images++;
        if (content_read(cs, img.manifest_digest, &manifest, &mlen, &why) < 0 ||
            manifest_parse(manifest, mlen, img.media_type, &p.m, &why) < 0 ||
            content_read(cs, p.m->config.digest, &config, &clen, &why) < 0)
                goto broken;
        manifest_free(steal_pointer(&p.m));
        if (image_plan_from_manifest(&p, manifest, mlen, img.media_type, config, clen, &why) < 0)
                goto broken;
        for (size_t i = 0; p.chains[i]; i++) {
                int fixed = check_layer(s, &p, i, &why);
                r->layers++;
                if (fixed < 0)
                        goto broken;
                if (fixed > 0) {
                        r->reextracted++;
                        repaired(r, "image %s: layer %s was missing: extracted again from blob %s", id,
                                 p.chains[i], p.m->layers[i].digest);
                }
        }
        goto out;
broken:
        if (remove_image(s, id, err) < 0) {
                ret = -1;
                goto out;
        }
        r->images_removed++;
        repaired(r, "image %s: %s: removed (pull it again)", id, why ? why->msg : "broken");
out:
        image_plan_clear(&p);
        imagedb_image_clear(&img);
        return ret;
}

int image_store_check(struct image_store *s, struct image_check_report *r, berth_error_t **err)
{
        struct imagedb *db = image_store_db(s);
        struct store_check_report cr = { 0 };
        struct id_list images = { 0 };
        int ret = 0;

        *r = (struct image_check_report){ 0 };
        /* blobs first: a corrupt blob is removed, then the image that
         * needs it is found broken below */
        if (content_check(image_store_content(s), 3600, &cr, err) < 0)
                return -1;
        r->blobs = cr.blobs;
        r->corrupt_blobs = cr.corrupt;
        r->stale_ingests = cr.stale_ingests;
        if (cr.corrupt)
                repaired(r, "%u corrupt blob(s) removed", cr.corrupt);
        if (cr.stale_ingests)
                repaired(r, "%u partial download(s) older than an hour removed", cr.stale_ingests);
        if (imagedb_image_each(db, collect_image, &images, err) < 0)
                return -1;
        for (size_t i = 0; i < images.n && ret == 0; i++)
                ret = check_image(s, images.ids[i], r, err);
        cleanup_strvp(&images.ids);
        if (ret < 0)
                return ret;
        if (imagedb_begin(db, err) < 0)
                return -1;
        if (imagedb_fix_refs(db, &r->refs_fixed, err) < 0 || imagedb_commit(db, err) < 0) {
                imagedb_rollback(db);
                return -1;
        }
        if (r->refs_fixed)
                repaired(r, "%u layer reference count(s) corrected", r->refs_fixed);
        return 0;
}

/* ---- garbage collection -------------------------------------------- */

static int gc_layers(struct image_store *s, struct image_gc_report *r, berth_error_t **err)
{
        struct imagedb *db = image_store_db(s);
        struct id_list unused = { 0 };
        _cleanup_close_ int root = open(image_store_root(s), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int ret = root < 0 ? berth_error(err, errno, "open %s", image_store_root(s))
                           : imagedb_layer_each(db, collect_unused_layer, &unused, err);

        for (size_t i = 0; ret == 0 && i < unused.n; i++) {
                _cleanup_free_ char *rel = xasprintf("layers/%s", strchr(unused.ids[i], ':') + 1);
                /* forget first: a crash after this leaves a directory the
                 * next open removes, never a record without one */
                ret = imagedb_layer_delete(db, unused.ids[i], err);
                int rm = ret == 0 ? remove_tree_at(root, rel) : 0;
                if (rm < 0)
                        ret = berth_error(err, -rm, "remove %s/%s", image_store_root(s), rel);
                r->layers++;
        }
        cleanup_strvp(&unused.ids);
        return ret;
}

static int gc_blobs(struct image_store *s, struct image_gc_report *r, berth_error_t **err)
{
        _cleanup_free_ char *dir = xasprintf("%s/blobs/sha256", image_store_root(s));
        DIR *d = opendir(dir);
        struct dirent *de;
        int ret = 0;

        if (d == NULL)
                return errno == ENOENT ? 0 : berth_error(err, errno, "read %s", dir);
        while (ret == 0 && (de = readdir(d)) != NULL) {
                struct stat st;
                if (strlen(de->d_name) != 64 || strspn(de->d_name, "0123456789abcdef") != 64)
                        continue;
                _cleanup_free_ char *digest = xasprintf("sha256:%s", de->d_name);
                int used = imagedb_blob_used(image_store_db(s), digest, err);
                if (used != 0) {
                        ret = used < 0 ? -1 : 0;
                        continue;
                }
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        r->bytes += (uint64_t)st.st_size;
                ret = content_delete(image_store_content(s), digest, err);
                r->blobs++;
        }
        closedir(d);
        return ret;
}

/* Partial downloads nobody resumed within an hour. */
static void gc_ingests(struct image_store *s)
{
        _cleanup_free_ char *dir = xasprintf("%s/blobs/ingest", image_store_root(s));
        DIR *d = opendir(dir);
        struct dirent *de;
        time_t now = time(NULL);

        if (d == NULL)
                return;
        while ((de = readdir(d)) != NULL) {
                struct stat st;
                if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISREG(st.st_mode) && now - st.st_mtime > 3600)
                        unlinkat(dirfd(d), de->d_name, 0);
        }
        closedir(d);
}

int image_store_gc(struct image_store *s, struct image_gc_report *r, berth_error_t **err)
{
        struct imagedb *db = image_store_db(s);

        *r = (struct image_gc_report){ 0 };
        if (imagedb_begin(db, err) < 0)
                return -1;
        if (gc_layers(s, r, err) < 0 || imagedb_commit(db, err) < 0) {
                imagedb_rollback(db);
                return berth_error_wrap(err, "garbage collection");
        }
        if (gc_blobs(s, r, err) < 0)
                return berth_error_wrap(err, "garbage collection");
        gc_ingests(s);
        return 0;
}
