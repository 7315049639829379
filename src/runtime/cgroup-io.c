/* Reading and writing the small files cgroup knobs are, and the clock and
 * backoff used while waiting for the kernel to act on them. */
#include "runtime/cgroup-internal.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- small file I/O for cgroup knobs ---- */

int cg_write(int dirfd, const char *file, const char *value, berth_error_t **err)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
        size_t len = strlen(value);
        ssize_t n;

        if (fd < 0)
                return berth_error(err, errno, "write %s=%s", file, value);
        /* A cgroup knob takes its value in one write(); kernfs never
         * writes short, but don't trust a stale errno if it ever did. */
        n = write(fd, value, len);
        if (n != (ssize_t)len)
                return berth_error(err, n < 0 ? errno : EIO, "write %s=%s", file, value);
        return 0;
}

int cg_write_i64(int dirfd, const char *file, int64_t value, berth_error_t **err)
{
        char buf[32];

        snprintf(buf, sizeof(buf), "%" PRId64, value);
        return cg_write(dirfd, file, buf, err);
}

int cg_read(int dirfd, const char *file, char *buf, size_t size, berth_error_t **err)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
        size_t used = 0;

        if (fd < 0)
                return berth_error(err, errno, "open %s", file);
        while (used + 1 < size) {
                ssize_t n = read(fd, buf + used, size - used - 1);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_error(err, errno, "read %s", file);
                if (n == 0)
                        break;
                used += (size_t)n;
        }
        while (used > 0 && buf[used - 1] == '\n')
                used--;
        buf[used] = '\0';
        return 0;
}

static int parse_u64(const char *s, const char *file, uint64_t *out, berth_error_t **err)
{
        char *end;

        if (strcmp(s, "max") == 0) {
                *out = UINT64_MAX;
                return 0;
        }
        errno = 0;
        *out = strtoull(s, &end, 10);
        if (errno || end == s || (*end != '\0' && *end != '\n' && *end != ' '))
                return berth_error(err, 0, "%s: not a number: \"%s\"", file, s);
        return 0;
}

int cg_read_u64(int dirfd, const char *file, uint64_t *out, berth_error_t **err)
{
        char buf[64];
        int ret = cg_read(dirfd, file, buf, sizeof(buf), err);

        return ret < 0 ? ret : parse_u64(buf, file, out, err);
}

int cg_read_keyed(int dirfd, const char *file, const char *key, uint64_t *out, berth_error_t **err)
{
        char buf[4096], *p = buf, *line;
        size_t klen = strlen(key);
        int ret = cg_read(dirfd, file, buf, sizeof(buf), err);

        if (ret < 0)
                return ret;
        *out = 0;
        while ((line = strsep(&p, "\n")) != NULL)
                if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
                        return parse_u64(line + klen + 1, file, out, err);
        return 0;
}

int cg_write_optional(int dirfd, const char *file, int64_t v, berth_error_t **err)
{
        int ret = cg_write_i64(dirfd, file, v, err);

        if (ret != -ENOENT)
                return ret;
        if (v == 0) {
                berth_error_free(err);
                return 0;
        }
        return berth_error(err, 0, "write %s=%" PRId64 ": not supported by this kernel (no such file)", file, v);
}

int cg_stat(int dirfd, const char *file, const char *key, uint64_t *out, berth_error_t **err)
{
        uint64_t v;
        int ret;

        if (dirfd < 0)
                return 0;
        ret = key ? cg_read_keyed(dirfd, file, key, &v, err) : cg_read_u64(dirfd, file, &v, err);
        if (ret == -ENOENT) {
                berth_error_free(err);
                return 0;
        }
        if (ret == 0)
                *out = v;
        return ret;
}

/* ---- waiting on the kernel ---- */

void cg_backoff(unsigned *step)
{
        long us = 50L << (*step < 8 ? *step : 8);
        struct timespec ts;

        if (us > 10000)
                us = 10000;
        ts = (struct timespec){ 0, us * 1000 };
        nanosleep(&ts, NULL);
        (*step)++;
}

uint64_t cg_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
