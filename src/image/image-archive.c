/* docker save, load, import and OCI export over the image store: the
 * archive formats (archive.h) work on the content store, this file
 * resolves names and records what they bring in. */
#include "image/archive.h"
#include "image/image.h"
#include "image/imagedb.h"
#include "image/reference.h"
#include "util/util.h"

/* The names to put in an archive for what the user named: the familiar
 * form of a reference ("busybox:latest"), nothing for an id. */
static char **archive_tags(const char *name)
{
        _cleanup_image_ref_ struct image_ref ref = { 0 };
        char **tags = xcalloc(2, sizeof(char *));

        if (!str_has_prefix(name, "sha256:") && image_ref_parse(name, &ref, NULL) == 0 && ref.digest == NULL)
                tags[0] = image_ref_familiar(&ref);
        return tags;
}

/* Resolve names into archive_image entries (manifest digests and tags). */
static int archive_images(struct image_store *s, const char *const *names, struct archive_image **out, size_t *n,
                          char ***owned, berth_error_t **err)
{
        size_t count = 0;

        while (names[count])
                count++;
        *out = xcalloc(count + 1, sizeof(struct archive_image));
        /* per image: its manifest digest and its tag vector */
        *owned = xcalloc(2 * count + 1, sizeof(char *));
        for (size_t i = 0; i < count; i++) {
                _cleanup_free_ char *id = NULL;
                struct imagedb_image img = { 0 };
                char **tags;

                if (image_store_resolve(s, names[i], &id, err) < 0 ||
                    imagedb_image_get(image_store_db(s), id, &img, err) <= 0)
                        return -1;
                tags = archive_tags(names[i]);
                (*owned)[2 * i] = steal_pointer(&img.manifest_digest);
                (*owned)[2 * i + 1] = (char *)tags;
                (*out)[i].manifest_digest = (*owned)[2 * i];
                (*out)[i].repo_tags = (const char *const *)tags;
                imagedb_image_clear(&img);
        }
        *n = count;
        return 0;
}

static void free_owned(char **owned, size_t n)
{
        for (size_t i = 0; owned && i < n; i++) {
                free(owned[2 * i]);
                char **tags = (char **)owned[2 * i + 1];
                cleanup_strvp(&tags);
        }
        free(owned);
}

int image_save(struct image_store *s, const char *const *names, int fd, berth_error_t **err)
{
        struct archive_image *images = NULL;
        char **owned = NULL;
        size_t n = 0;
        int r = archive_images(s, names, &images, &n, &owned, err);

        if (r == 0)
                r = archive_save(image_store_content(s), images, n, fd, err);
        free_owned(owned, n ? n : 0);
        free(images);
        return r < 0 ? berth_error_wrap(err, "save") : 0;
}

int image_export_oci(struct image_store *s, const char *const *names, const char *dir, berth_error_t **err)
{
        struct archive_image *images = NULL;
        char **owned = NULL;
        size_t n = 0;
        int r = archive_images(s, names, &images, &n, &owned, err);

        if (r == 0)
                r = oci_layout_export(image_store_content(s), images, n, dir, -1, err);
        free_owned(owned, n);
        free(images);
        return r < 0 ? berth_error_wrap(err, "export %s", dir) : 0;
}

struct loader {
        struct image_store *s;
        image_removed_fn fn;
        void *data;
};

/* Archive tags are familiar names: store them fully qualified. */
static int loaded(void *data, const char *manifest_digest, const char *const *tags, berth_error_t **err)
{
        struct loader *l = data;
        _cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *id = NULL;
        size_t n = 0;

        for (size_t i = 0; tags && tags[i]; i++) {
                _cleanup_image_ref_ struct image_ref ref = { 0 };
                if (image_ref_parse(tags[i], &ref, err) < 0)
                        return berth_error_wrap(err, "archive tag");
                names = xrealloc(names, (n + 2) * sizeof(char *));
                names[n++] = image_ref_string(&ref);
                names[n] = NULL;
        }
        if (image_store_register(l->s, manifest_digest, NULL, (const char *const *)names, NULL, NULL, &id, err) < 0)
                return -1;
        for (size_t i = 0; tags && tags[i]; i++)
                if (l->fn)
                        l->fn(l->data, "Loaded image", tags[i]);
        if ((tags == NULL || tags[0] == NULL) && l->fn)
                l->fn(l->data, "Loaded image ID", id);
        return 0;
}

int image_load(struct image_store *s, int fd, image_removed_fn fn, void *data, berth_error_t **err)
{
        struct loader l = { .s = s, .fn = fn, .data = data };

        if (archive_load(image_store_content(s), fd, loaded, &l, err) < 0)
                return berth_error_wrap(err, "load");
        return 0;
}

int image_import_tar(struct image_store *s, int fd, const char *ref, const char *const *changes, const char *message,
                     char **id, berth_error_t **err)
{
        struct image_import_opts o = { .changes = changes, .message = message };
        _cleanup_image_ref_ struct image_ref r = { 0 };
        _cleanup_free_ char *manifest = NULL;
        _cleanup_free_ char *full = NULL;
        const char *names[2] = { NULL, NULL };

        if (ref != NULL) {
                if (image_ref_parse(ref, &r, err) < 0)
                        return berth_error_wrap(err, "import");
                full = image_ref_string(&r);
                names[0] = full;
        }
        if (image_import(image_store_content(s), fd, &o, &manifest, err) < 0 ||
            image_store_register(s, manifest, NULL, names, NULL, NULL, id, err) < 0)
                return berth_error_wrap(err, "import");
        return 0;
}
