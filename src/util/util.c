#include "util.h"
#include <dirent.h>
#include <fcntl.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

void cleanup_strvp(char ***v)
{
        if (*v == NULL)
                return;
        for (char **p = *v; *p; p++)
                free(*p);
        free(*v);
}

static void *oom_check(void *p)
{
        if (p == NULL) {
                static const char msg[] = "berth: out of memory\n";
                (void)!write(2, msg, sizeof(msg) - 1);
                abort();
        }
        return p;
}

void *xmalloc(size_t n) { return oom_check(malloc(n ? n : 1)); }
void *xcalloc(size_t n, size_t size) { return oom_check(calloc(n ? n : 1, size ? size : 1)); }
void *xrealloc(void *p, size_t n) { return oom_check(realloc(p, n ? n : 1)); }
char *xstrdup(const char *s) { return oom_check(strdup(s)); }

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                oom_check(NULL);
        va_end(ap);
        return s;
}

int send_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
                        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                                return -errno;
                        continue;
                }
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

void strbuf_add(struct strbuf *b, const void *p, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                b->cap = (b->len + n + 1) * 2;
                b->data = xrealloc(b->data, b->cap);
        }
        if (n > 0)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
}

void strbuf_adds(struct strbuf *b, const char *s)
{
        strbuf_add(b, s, strlen(s));
}

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int write_file_at(int dirfd, const char *path, const char *data, size_t len, berth_error_t **err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0)
                return berth_error(err, errno, "open %s", path);
        if (write_all(fd, data, len) < 0)
                return berth_error(err, errno, "write %s", path);
        return 0;
}

int write_file(const char *path, const char *data, size_t len, berth_error_t **err)
{
        return write_file_at(AT_FDCWD, path, data, len, err);
}

int write_file_atomic(const char *path, const char *data, size_t len, berth_error_t **err)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
        int ret = write_file(tmp, data, len, err);

        if (ret < 0) {
                unlink(tmp);
                return ret;
        }
        if (rename(tmp, path) < 0) {
                ret = berth_error(err, errno, "rename %s", tmp);
                unlink(tmp);
                return ret;
        }
        return 0;
}

int read_file_at(int dirfd, const char *path, char **out, size_t *len, berth_error_t **err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        size_t used = 0, cap = 4096;

        if (fd < 0)
                return berth_error(err, errno, "open %s", path);
        buf = xmalloc(cap);
        for (;;) {
                ssize_t n;

                if (used + 1 >= cap) {
                        cap *= 2;
                        buf = xrealloc(buf, cap);
                }
                n = read(fd, buf + used, cap - used - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return berth_error(err, errno, "read %s", path);
                }
                if (n == 0)
                        break;
                used += (size_t)n;
        }
        buf[used] = '\0';
        if (len)
                *len = used;
        *out = steal_pointer(&buf);
        return 0;
}

int read_file(const char *path, char **out, size_t *len, berth_error_t **err)
{
        return read_file_at(AT_FDCWD, path, out, len, err);
}

int mkdir_p(const char *path, mode_t mode, berth_error_t **err)
{
        _cleanup_free_ char *copy = xstrdup(path);

        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(copy, mode) < 0 && errno != EEXIST)
                        return berth_error(err, errno, "mkdir %s", copy);
                *p = '/';
        }
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
                return berth_error(err, errno, "mkdir %s", copy);
        return 0;
}

bool str_has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

long long parse_ll(const char *s)
{
        char *end;
        long long v;

        if (s == NULL || *s < '0' || *s > '9')
                return -1;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || *end != '\0')
                return -1;
        return v;
}

char *quote_n(const char *s, size_t len)
{
        size_t n = len > 256 ? 256 : len;
        char *out = xmalloc(n * 4 + sizeof("\"\"...")), *p = out;

        *p++ = '"';
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"' || c == '\\')
                        p += sprintf(p, "\\%c", c);
                else if (c < 0x20 || c >= 0x7f)
                        p += sprintf(p, "\\x%02x", c);
                else
                        *p++ = (char)c;
        }
        *p++ = '"';
        if (len > n)
                p = stpcpy(p, "...");
        *p = '\0';
        return out;
}

/* ---- removing trees, never following symlinks ---- */

/* One pass over the directory; *removed tells whether it deleted
 * anything. */
static int clear_pass(int fd, bool *removed)
{
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (dup < 0)
                return -errno;
        d = fdopendir(dup);
        if (d == NULL) {
                r = -errno;
                close(dup);
                return r;
        }
        *removed = false;
        while (r == 0 && (errno = 0, de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                r = remove_tree_at(fd, de->d_name);
                *removed = true;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(d);
        return r;
}

int clear_dir(int fd)
{
        bool removed;
        int r;

        /* again until a pass finds nothing: POSIX leaves it open whether
         * readdir still sees every entry while others are unlinked */
        do
                r = clear_pass(fd, &removed);
        while (r == 0 && removed);
        return r;
}

int remove_tree_at(int dirfd, const char *name)
{
        _cleanup_close_ int fd = -1;
        int r;

        if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR)
                return -errno;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        r = clear_dir(fd);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

bool go_duration_parse(const char *s, double *ns)
{
        static const struct {
                const char *unit;
                double ns;
        } units[] = {
                { "ns", 1 }, { "us", 1e3 }, { "µs", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
        };
        bool neg = false;

        *ns = 0;
        if (*s == '-' || *s == '+')
                neg = *s++ == '-';
        if (strcmp(s, "0") == 0)
                return true;
        if (*s == '\0')
                return false;
        while (*s) {
                char *end;
                double v = strtod(s, &end);
                size_t best = 0;
                int found = -1;
                if (end == s || !(isdigit((unsigned char)*s) || *s == '.'))
                        return false;
                s = end;
                for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                        size_t n = strlen(units[i].unit);
                        if (strncmp(s, units[i].unit, n) == 0 && n > best) {
                                best = n;
                                found = (int)i;
                        }
                }
                if (found < 0)
                        return false;
                *ns += v * units[found].ns;
                s += best;
        }
        if (neg)
                *ns = -*ns;
        return true;
}
