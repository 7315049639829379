/* libFuzzer target: docker load / OCI archive load (archive_load) of the
 * input into a scratch content store; inputs of odd length also go
 * through image_import.  Beyond crashes it checks that errors are one
 * line, that every image reported has its manifest, config and layers in
 * the store and parseable names, and that save can at least try it.  The
 * store lives in $BERTH_FUZZ_DIR or /dev/shm/berth-fuzz-archive (fsync is
 * free on tmpfs) and is wiped every 500 inputs.  Corpus:
 * tests/fuzz/corpus/archive. */
#include "image/archive.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store.h"
#include "util/util.h"
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *base;
static struct content_store *cs;
static unsigned runs;

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb, (void)flag, (void)ftw;
        return remove(p);
}

static void fresh_store(void)
{
        if (cs != NULL)
                content_store_close(cs);
        nftw(base, rm_cb, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        if (content_store_open(base, &cs, NULL) < 0)
                abort();
}

static void one_line(const berth_error_t *err)
{
        if (err == NULL || err->msg == NULL || strchr(err->msg, '\n') != NULL)
                abort();
}

/* An image the loader vouches for is whole in the store. */
static int check_image(void *data, const char *manifest, const char *const *tags, berth_error_t **err)
{
        _cleanup_free_ char *raw = NULL;
        _cleanup_manifest_ struct manifest *m = NULL;
        size_t len;

        (void)data;
        if (content_read(cs, manifest, &raw, &len, err) < 0 || manifest_parse(raw, len, NULL, &m, err) < 0 ||
            !content_exists(cs, m->config.digest))
                abort();
        for (size_t i = 0; i < m->n_layers; i++)
                if (!content_exists(cs, m->layers[i].digest))
                        abort();
        for (size_t i = 0; tags[i] != NULL; i++) {
                _cleanup_image_ref_ struct image_ref r = { 0 };
                if (image_ref_parse(tags[i], &r, NULL) < 0)
                        abort();
        }
        {
                struct archive_image img = { manifest, tags };
                berth_error_t *e = NULL;
                int out = open("/dev/null", O_WRONLY | O_CLOEXEC);

                /* may fail (a compressed layer's DiffID is only checked here) */
                if (out < 0)
                        abort();
                if (archive_save(cs, &img, 1, out, &e) < 0)
                        one_line(e);
                berth_error_free(&e);
                close(out);
        }
        return 0;
}

static int memfd_of(const uint8_t *data, size_t size)
{
        int fd = memfd_create("fuzz", MFD_CLOEXEC);

        if (fd < 0 || write_all(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) != 0)
                abort();
        return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        berth_error_t *err = NULL;
        int fd;

        if (base == NULL) {
                const char *env = getenv("BERTH_FUZZ_DIR");
                base = xstrdup(env ? env : access("/dev/shm", W_OK) == 0 ? "/dev/shm/berth-fuzz-archive"
                                                                        : "/tmp/berth-fuzz-archive");
        }
        if (runs++ % 500 == 0)
                fresh_store();
        fd = memfd_of(data, size);
        if (archive_load(cs, fd, check_image, NULL, &err) < 0)
                one_line(err);
        berth_error_free(&err);
        close(fd);
        if (size & 1) {
                static const char *const changes[] = { "CMD [\"/bin/sh\"]", "ENV A=1", NULL };
                struct image_import_opts o = { .changes = changes, .created = 1 };
                _cleanup_free_ char *manifest = NULL;

                fd = memfd_of(data, size);
                if (image_import(cs, fd, &o, &manifest, &err) < 0)
                        one_line(err);
                else if (!content_exists(cs, manifest))
                        abort();
                berth_error_free(&err);
                close(fd);
        }
        return 0;
}
