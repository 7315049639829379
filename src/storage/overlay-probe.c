/* Whether overlay works with upper and work on a filesystem: a tiny
 * overlay is mounted and used in a scratch directory; the answer is kept
 * per filesystem (st_dev) for the life of the process. */
#include "storage/snapshot.h"
#include "storage/storage-internal.h"
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

struct probe_answer {
        dev_t dev;
        int yes;
        char *why; /* when not */
};

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
/* a handful of filesystems at most: data root, maybe a bundle's */
static struct probe_answer answers[16];
static size_t nanswers;

static int scratch_dirs(int basefd, const char *base, berth_error_t **err)
{
        static const char *const dirs[] = { "lower", "upper", "work", "merged" };
        _cleanup_close_ int fd = -1;

        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
                if (mkdirat(basefd, dirs[i], 0755) < 0)
                        return berth_error(err, errno, "mkdir %s/%s", base, dirs[i]);
        /* a lower file to delete through the overlay: that needs a whiteout */
        fd = openat(basefd, "lower/file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return berth_error(err, errno, "create %s/lower/file", base);
        return 0;
}

/* Use the mounted overlay the way a container would: copy up, write,
 * delete a lower file.  0, or -1 with *why. */
static int use_overlay(const char *base, char **why)
{
        _cleanup_free_ char *merged = xasprintf("%s/merged", base);
        _cleanup_close_ int dfd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd = -1;

        if (dfd < 0) {
                *why = xasprintf("open the merged directory: %s", strerror(errno));
                return -1;
        }
        fd = openat(dfd, "new", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, "x", 1) != 1) {
                *why = xasprintf("write a file through overlay: %s", strerror(errno));
                return -1;
        }
        if (unlinkat(dfd, "file", 0) < 0) {
                *why = xasprintf("delete a lower file through overlay (whiteout): %s", strerror(errno));
                return -1;
        }
        return 0;
}

/* 1 or 0 (with *why) for the filesystem of base, a fresh empty directory. */
static int try_overlay(const char *base, char **why, berth_error_t **err)
{
        _cleanup_free_ char *lower = xasprintf("%s/lower", base), *upper = xasprintf("%s/upper", base);
        _cleanup_free_ char *work = xasprintf("%s/work", base), *merged = xasprintf("%s/merged", base);
        _cleanup_close_ int basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_error_ berth_error_t *merr = NULL;
        const char *layers[] = { lower };
        struct snapshot_spec spec = { .layers = layers, .nlayers = 1, .upper = upper, .work = work };
        int ok;

        if (basefd < 0)
                return berth_error(err, errno, "open %s", base);
        if (scratch_dirs(basefd, base, err) < 0)
                return -1;
        if (snapshot_mount(&spec, merged, &merr) < 0) {
                *why = steal_pointer(&merr->msg);
                return 0;
        }
        ok = use_overlay(base, why) == 0;
        if (snapshot_unmount(merged, err) < 0)
                return -1;
        return ok;
}

static int probe(const char *dir, char **why, berth_error_t **err)
{
        _cleanup_free_ char *base = xasprintf("%s/.berth-overlay-probe-XXXXXX", dir);
        _cleanup_free_ char *merged = NULL;
        int r, rm;

        if (mkdtemp(base) == NULL)
                return berth_error(err, errno, "make a probe directory in %s", dir);
        r = try_overlay(base, why, err);
        if (r < 0)
                berth_error_wrap(err, "probe overlay in %s", dir);
        /* still mounted after a failure: leave it rather than delete through it */
        merged = xasprintf("%s/merged", base);
        if (snapshot_unmount(merged, NULL) < 0)
                return r;
        rm = remove_tree_at(AT_FDCWD, base);
        if (rm < 0 && r >= 0) {
                free(steal_pointer(why));
                return berth_error(err, -rm, "remove %s", base);
        }
        return r;
}

static struct probe_answer *find_answer(dev_t dev)
{
        for (size_t i = 0; i < nanswers; i++)
                if (answers[i].dev == dev)
                        return &answers[i];
        return NULL;
}

static int answer(const struct probe_answer *a, berth_error_t **err)
{
        if (!a->yes && err != NULL)
                berth_error(err, 0, "%s", a->why != NULL ? a->why : "overlay unusable");
        return a->yes;
}

int snapshot_overlay_supported(const char *dir, berth_error_t **err)
{
        _cleanup_free_ char *why = NULL;
        struct probe_answer *a;
        struct stat st;
        int r;

        if (stat(dir, &st) < 0)
                return berth_error(err, errno, "stat %s", dir);
        /* held across the probe: a second caller waits for the answer */
        pthread_mutex_lock(&probe_lock);
        a = find_answer(st.st_dev);
        if (a != NULL) {
                r = answer(a, err);
                pthread_mutex_unlock(&probe_lock);
                return r;
        }
        r = probe(dir, &why, err);
        if (r >= 0 && nanswers < ARRAY_SIZE(answers)) {
                answers[nanswers] = (struct probe_answer){ .dev = st.st_dev, .yes = r, .why = steal_pointer(&why) };
                r = answer(&answers[nanswers++], err);
        } else if (r == 0 && err != NULL) {
                berth_error(err, 0, "%s", why != NULL ? why : "overlay unusable");
        }
        pthread_mutex_unlock(&probe_lock);
        return r;
}
