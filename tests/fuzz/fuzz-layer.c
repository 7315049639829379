/* libFuzzer target: an image layer (tar, gzip or zstd) extracted by
 * layer_apply into a fresh directory, as root.  Beyond crashes it checks
 * that nothing was written outside the destination: the sentinel next to
 * it and a canary path on the host stay as they were (any change aborts).
 * The work directory is fixed, /tmp/berth-fuzz-layer (or $BERTH_FUZZ_DIR),
 * so seeds can aim symlinks and hardlinks at it; run one job at a time.
 * The options come from the input's length (size % 8), so every seed is
 * tried in both whiteout models, with and without devices and owners. */
#include "image/layer.h"
#include "image/layer-internal.h" /* layer_remove_tree: no PATH_MAX limit */
#include <dirent.h>
#include "util/util.h"
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CANARY "/tmp/berth-fuzz-layer-pwned"

static char *base, *dest, *secret;

struct mem {
        const uint8_t *p;
        size_t left;
};

static ssize_t mem_read(void *cookie, void *buf, size_t len)
{
        struct mem *m = cookie;
        size_t n = len < m->left ? len : m->left;

        memcpy(buf, m->p, n);
        m->p += n;
        m->left -= n;
        return (ssize_t)n;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb, (void)flag, (void)ftw;
        return remove(p);
}

static void init(void)
{
        const char *env = getenv("BERTH_FUZZ_DIR");
        _cleanup_free_ char *sentinel = NULL;
        int fd;

        base = xstrdup(env != NULL ? env : "/tmp/berth-fuzz-layer");
        nftw(base, rm_cb, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        dest = xasprintf("%s/dest", base);
        sentinel = xasprintf("%s/sentinel", base);
        secret = xasprintf("%s/secret", sentinel);
        if (mkdir(base, 0755) < 0 || mkdir(sentinel, 0755) < 0)
                abort();
        fd = open(secret, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, "secret", 6) != 6)
                abort();
        close(fd);
}

/* Only dest and sentinel in base, sentinel/secret untouched, no canary. */
static void check_host(void)
{
        _cleanup_free_ char *sentinel = xasprintf("%s/sentinel", base);
        char buf[16];
        struct stat st;
        int fd, n = 0;
        ssize_t len;
        DIR *d;
        struct dirent *de;

        if (stat(secret, &st) < 0 || st.st_nlink != 1 || st.st_uid != 0 || (st.st_mode & 07777) != 0644 ||
            st.st_size != 6)
                abort();
        fd = open(secret, O_RDONLY | O_CLOEXEC);
        len = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
        if (fd >= 0)
                close(fd);
        if (len != 6 || memcmp(buf, "secret", 6) != 0)
                abort();
        if (lstat(sentinel, &st) < 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 07777) != 0755)
                abort();
        d = opendir(base);
        if (d == NULL)
                abort();
        while ((de = readdir(d)) != NULL)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
                    strcmp(de->d_name, "dest") != 0 && strcmp(de->d_name, "sentinel") != 0)
                        abort();
        closedir(d);
        d = opendir(sentinel);
        while (d != NULL && (de = readdir(d)) != NULL)
                n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        if (d == NULL || n != 1)
                abort();
        closedir(d);
        if (lstat(CANARY, &st) == 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct layer_apply_opts o = {
                .allow_devices = size & 1,
                .keep_ownership = size & 2,
                .overlay_whiteouts = size & 4,
                .max_bytes = 8 << 20, /* keep the disk out of it */
        };
        struct mem m = { .p = data, .left = size };
        berth_error_t *err = NULL;
        struct layer_stats st;

        if (base == NULL)
                init();
        if (mkdir(dest, 0755) < 0)
                abort();
        if (layer_apply_read(mem_read, &m, dest, &o, &st, &err) < 0) {
                /* errors are one line */
                if (err == NULL || err->msg == NULL || strchr(err->msg, '\n') != NULL)
                        abort();
        } else if (err != NULL || strncmp(st.diff_id, "sha256:", 7) != 0 || strlen(st.diff_id) != 71) {
                abort();
        }
        berth_error_free(&err);
        check_host();
        if (layer_remove_tree(AT_FDCWD, dest) < 0)
                abort();
        return 0;
}
