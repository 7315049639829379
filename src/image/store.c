#include "image/store.h"
#include "image/digest.h"
#include "util/util.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

struct content_store {
        int blobs_fd;   /* <root>/blobs/sha256 */
        int ingest_fd;  /* <root>/blobs/ingest */
        char *root;     /* <root>/blobs */
};

struct ingest {
        struct content_store *cs;
        struct digester *d;
        char *digest;
        char name[DIGEST_HEX_MAX + 16]; /* <hex>.partial */
        int fd;
        int64_t expected, written;
        int64_t flushed;        /* bytes handed to writeback early */
};

/* Start writeback of what was written so far, every 8 MiB, without
 * waiting: the fsync at commit then has little left to do, instead of
 * flushing a whole layer at once. */
#define INGEST_WRITEBACK_STEP (8 << 20)
static void ingest_writeback(struct ingest *in)
{
        if (in->written - in->flushed < INGEST_WRITEBACK_STEP)
                return;
        (void)sync_file_range(in->fd, in->flushed, in->written - in->flushed, SYNC_FILE_RANGE_WRITE);
        in->flushed = in->written;
}

int content_store_open(const char *data_root, struct content_store **out, berth_error_t **err)
{
        _cleanup_free_ char *blobs = xasprintf("%s/blobs/sha256", data_root);
        _cleanup_free_ char *ingest = xasprintf("%s/blobs/ingest", data_root);
        struct content_store *cs;

        if (mkdir_p(blobs, 0700, err) < 0 || mkdir_p(ingest, 0700, err) < 0)
                return berth_error_wrap(err, "content store %s", data_root);
        cs = xcalloc(1, sizeof(*cs));
        cs->root = xasprintf("%s/blobs", data_root);
        cs->blobs_fd = open(blobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cs->ingest_fd = open(ingest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cs->blobs_fd < 0 || cs->ingest_fd < 0) {
                int e = errno;
                content_store_close(cs);
                return berth_error(err, e, "open content store %s", data_root);
        }
        *out = cs;
        return 0;
}

void content_store_close(struct content_store *cs)
{
        if (cs == NULL)
                return;
        if (cs->blobs_fd >= 0)
                close(cs->blobs_fd);
        if (cs->ingest_fd >= 0)
                close(cs->ingest_fd);
        free(cs->root);
        free(cs);
}

/* The hex of a sha256 digest, validated: it becomes a file name. */
static const char *blob_name(const char *digest, struct digest *d, berth_error_t **err)
{
        if (digest_parse(digest, d, err) < 0)
                return NULL;
        if (strcmp(d->algo, "sha256") != 0) {
                berth_error(err, 0, "content store: only sha256 blobs are stored, not %s", digest);
                return NULL;
        }
        return d->hex;
}

bool content_exists(struct content_store *cs, const char *digest)
{
        struct digest d;
        const char *name = blob_name(digest, &d, NULL);

        return name && faccessat(cs->blobs_fd, name, F_OK, 0) == 0;
}

char *content_path(struct content_store *cs, const char *digest)
{
        struct digest d;
        const char *name = blob_name(digest, &d, NULL);

        return name ? xasprintf("%s/sha256/%s", cs->root, name) : NULL;
}

int content_open(struct content_store *cs, const char *digest, berth_error_t **err)
{
        struct digest d;
        const char *name = blob_name(digest, &d, err);
        int fd;

        if (name == NULL)
                return -1;
        fd = openat(cs->blobs_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return berth_error(err, errno, "blob %s", digest);
        return fd;
}

int content_read(struct content_store *cs, const char *digest, char **buf, size_t *len, berth_error_t **err)
{
        struct digest d;
        const char *name = blob_name(digest, &d, err);

        if (name == NULL)
                return -1;
        if (read_file_at(cs->blobs_fd, name, buf, len, err) < 0)
                return berth_error_wrap(err, "blob %s", digest);
        return 0;
}

int content_delete(struct content_store *cs, const char *digest, berth_error_t **err)
{
        struct digest d;
        const char *name = blob_name(digest, &d, err);

        if (name == NULL)
                return -1;
        if (unlinkat(cs->blobs_fd, name, 0) < 0 && errno != ENOENT)
                return berth_error(err, errno, "remove blob %s", digest);
        return 0;
}

/* Hash what an earlier, interrupted ingest already wrote. */
static int rehash_partial(struct ingest *in, berth_error_t **err)
{
        char buf[65536];
        ssize_t n;

        while ((n = read(in->fd, buf, sizeof(buf))) > 0) {
                digester_update(in->d, buf, (size_t)n);
                in->written += n;
        }
        if (n < 0)
                return berth_error(err, errno, "read partial blob %s", in->digest);
        if (in->expected >= 0 && in->written > in->expected) {
                /* longer than the blob can be: start over */
                if (ftruncate(in->fd, 0) < 0 || lseek(in->fd, 0, SEEK_SET) < 0)
                        return berth_error(err, errno, "reset partial blob %s", in->digest);
                digester_free(in->d);
                in->d = digester_new();
                in->written = 0;
        }
        return 0;
}

int ingest_begin(struct content_store *cs, const char *digest, int64_t size, struct ingest **out, int64_t *offset,
                 berth_error_t **err)
{
        struct digest d;
        const char *hex = blob_name(digest, &d, err);
        struct ingest *in;

        if (hex == NULL)
                return -1;
        in = xcalloc(1, sizeof(*in));
        in->cs = cs;
        in->digest = xstrdup(digest);
        in->expected = size;
        in->d = digester_new();
        snprintf(in->name, sizeof(in->name), "%s.partial", hex);
        in->fd = openat(cs->ingest_fd, in->name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (in->fd < 0 || rehash_partial(in, err) < 0) {
                if (in->fd < 0)
                        berth_error(err, errno, "create partial blob %s", digest);
                ingest_abort(in, true);
                return -1;
        }
        if (offset)
                *offset = in->written;
        *out = in;
        return 0;
}

int ingest_write(struct ingest *in, const void *buf, size_t len, berth_error_t **err)
{
        if (in->expected >= 0 && in->written + (int64_t)len > in->expected)
                return berth_error(err, 0, "blob %s: more than the %lld bytes announced", in->digest,
                                   (long long)in->expected);
        if (write_all(in->fd, buf, len) < 0)
                return berth_error(err, errno, "write blob %s", in->digest);
        digester_update(in->d, buf, len);
        in->written += (int64_t)len;
        ingest_writeback(in);
        return 0;
}

void ingest_abort(struct ingest *in, bool keep_partial)
{
        if (in == NULL)
                return;
        if (in->fd >= 0)
                close(in->fd);
        if (!keep_partial)
                unlinkat(in->cs->ingest_fd, in->name, 0);
        digester_free(in->d);
        free(in->digest);
        free(in);
}

int ingest_commit(struct ingest *in, berth_error_t **err)
{
        _cleanup_free_ char *got = digester_final(in->d);
        struct digest d;
        int ret = 0;

        if (in->expected >= 0 && in->written != in->expected)
                ret = berth_error(err, 0, "blob %s: %lld bytes received, %lld announced", in->digest,
                                  (long long)in->written, (long long)in->expected);
        else if (strcmp(got, in->digest) != 0)
                ret = berth_error(err, 0, "blob %s: content has digest %s", in->digest, got);
        else if (fsync(in->fd) < 0)
                ret = berth_error(err, errno, "fsync blob %s", in->digest);
        else if (renameat(in->cs->ingest_fd, in->name, in->cs->blobs_fd, blob_name(in->digest, &d, NULL)) < 0)
                ret = berth_error(err, errno, "commit blob %s", in->digest);
        else if (fsync(in->cs->blobs_fd) < 0)
                ret = berth_error(err, errno, "fsync the blob directory");
        /* committed: the name is gone from ingest/; failed: remove it */
        ingest_abort(in, ret == 0);
        return ret;
}

int content_put(struct content_store *cs, const void *buf, size_t len, char **digest_out, berth_error_t **err)
{
        _cleanup_free_ char *digest = digest_of(buf, len);
        struct ingest *in;
        int64_t offset;

        if (content_exists(cs, digest))
                goto done;
        if (ingest_begin(cs, digest, (int64_t)len, &in, &offset, err) < 0)
                return -1;
        if (offset > 0 && (ftruncate(in->fd, 0) < 0 || lseek(in->fd, 0, SEEK_SET) < 0)) {
                ingest_abort(in, false);
                return berth_error(err, errno, "reset partial blob %s", digest);
        }
        if (offset > 0) {
                digester_free(in->d);
                in->d = digester_new();
                in->written = 0;
        }
        if (ingest_write(in, buf, len, err) < 0) {
                ingest_abort(in, false);
                return -1;
        }
        if (ingest_commit(in, err) < 0)
                return -1;
done:
        if (digest_out)
                *digest_out = steal_pointer(&digest);
        return 0;
}

static int check_blobs(struct content_store *cs, struct store_check_report *r, berth_error_t **err)
{
        int dfd = dup(cs->blobs_fd);
        DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
        struct dirent *de;

        if (dir == NULL)
                return berth_error(err, errno, "read %s/sha256", cs->root);
        rewinddir(dir);
        while ((de = readdir(dir)) != NULL) {
                _cleanup_free_ char *want = NULL, *got = NULL;
                _cleanup_close_ int fd = -1;
                if (de->d_name[0] == '.')
                        continue;
                want = xasprintf("sha256:%s", de->d_name);
                fd = openat(cs->blobs_fd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                r->blobs++;
                if (digest_parse(want, NULL, NULL) < 0 || fd < 0 || digest_of_file(fd, &got, NULL) < 0 ||
                    strcmp(got, want) != 0) {
                        unlinkat(cs->blobs_fd, de->d_name, 0);
                        r->corrupt++;
                }
        }
        closedir(dir);
        return 0;
}

static int check_ingests(struct content_store *cs, unsigned max_age, struct store_check_report *r,
                         berth_error_t **err)
{
        int dfd = dup(cs->ingest_fd);
        DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
        struct dirent *de;
        time_t now = time(NULL);

        if (dir == NULL)
                return berth_error(err, errno, "read %s/ingest", cs->root);
        rewinddir(dir);
        while ((de = readdir(dir)) != NULL) {
                struct stat st;
                if (de->d_name[0] == '.' || max_age == 0)
                        continue;
                if (fstatat(cs->ingest_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    now - st.st_mtime >= (time_t)max_age) {
                        unlinkat(cs->ingest_fd, de->d_name, 0);
                        r->stale_ingests++;
                }
        }
        closedir(dir);
        return 0;
}

int content_check(struct content_store *cs, unsigned max_ingest_age, struct store_check_report *r,
                  berth_error_t **err)
{
        memset(r, 0, sizeof(*r));
        if (check_blobs(cs, r, err) < 0)
                return -1;
        return check_ingests(cs, max_ingest_age, r, err);
}

int ingest_begin_unnamed(struct content_store *cs, struct ingest **out, berth_error_t **err)
{
        unsigned char rnd[16];
        struct ingest *in;
        char *p;

        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                return berth_error(err, errno, "getrandom");
        in = xcalloc(1, sizeof(*in));
        in->cs = cs;
        /* not a digest: ingest_commit compares against it and refuses */
        in->digest = xstrdup("(unnamed blob)");
        in->expected = -1;
        in->d = digester_new();
        p = in->name + sprintf(in->name, "unnamed-");
        for (size_t i = 0; i < sizeof(rnd); i++)
                p += sprintf(p, "%02x", rnd[i]);
        strcpy(p, ".partial");
        in->fd = openat(cs->ingest_fd, in->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (in->fd < 0) {
                int e = errno;
                ingest_abort(in, true);
                return berth_error(err, e, "create partial blob");
        }
        *out = in;
        return 0;
}

int ingest_commit_unnamed(struct ingest *in, char **digest_out, berth_error_t **err)
{
        _cleanup_free_ char *got = digester_final(in->d);
        struct digest d;
        const char *hex = blob_name(got, &d, NULL);
        bool keep = false;
        int ret = 0;

        if (faccessat(in->cs->blobs_fd, hex, F_OK, 0) == 0)
                ; /* already stored: the partial file just goes */
        else if (fsync(in->fd) < 0)
                ret = berth_error(err, errno, "fsync blob %s", got);
        else if (renameat(in->cs->ingest_fd, in->name, in->cs->blobs_fd, hex) < 0)
                ret = berth_error(err, errno, "commit blob %s", got);
        else if (fsync(in->cs->blobs_fd) < 0)
                ret = berth_error(err, errno, "fsync the blob directory");
        else
                keep = true; /* renamed: nothing left to remove */
        ingest_abort(in, keep);
        if (ret == 0 && digest_out)
                *digest_out = steal_pointer(&got);
        return ret;
}
