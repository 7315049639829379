/* Container paths for docker cp, resolved safely: docker's absPath, the
 * root a path lives in (the rootfs or a bind mount's source), and the
 * lookup inside it.
 *
 * The container's root may have replaced any directory with a symlink to
 * "/" or "..".  Every path is resolved with openat2(RESOLVE_IN_ROOT) from
 * an fd on the root or, on kernels without openat2, by a component walk
 * that handles symlinks and ".." itself and never climbs above the root;
 * either way a symlink is followed as the container would follow it, and
 * never out.  What is found is held as an O_PATH fd. */
#include "engine/engine-archive.h"
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define MAX_SYMLINK_HOPS 40

int archive_ctr(struct engine *e, const char *name, struct ctr **out, berth_error_t **err)
{
        struct ctr *c;
        bool gone;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        pthread_mutex_lock(&c->lock);
        gone = c->removed || c->status == CTR_REMOVING || c->status == CTR_DEAD;
        pthread_mutex_unlock(&c->lock);
        if (gone) {
                ctr_unref(c);
                return berth_fail(err, EBUSY, "container %s is marked for removal and cannot be used", name);
        }
        *out = c;
        return 0;
}

/* Go's filepath.Base(p) == ".": the user asked for a directory's content. */
static bool names_current_dir(const char *p)
{
        size_t n = strlen(p);

        while (n > 1 && p[n - 1] == '/')
                n--;
        return (n == 1 && p[0] == '.') || (n >= 2 && p[n - 1] == '.' && p[n - 2] == '/');
}

/* Docker's absPath: filepath.Join("/", path), which cleans it lexically
 * (".." folded, never above "/"), then PreserveTrailingDotOrSeparator:
 * a trailing "/." asks for a directory's content, a trailing "/" insists
 * on a directory. */
char *cpath_abs(const char *path)
{
        size_t n = strlen(path), len = 0;
        char *out = xmalloc(n + 4);
        const char *p = path;

        for (;;) {
                while (*p == '/')
                        p++;
                if (*p == '\0')
                        break;
                const char *s = p;
                while (*p && *p != '/')
                        p++;
                size_t l = (size_t)(p - s);
                if (l == 1 && s[0] == '.')
                        continue;
                if (l == 2 && s[0] == '.' && s[1] == '.') {
                        char *slash = memrchr(out, '/', len);
                        len = slash ? (size_t)(slash - out) : 0;
                        continue;
                }
                out[len++] = '/';
                memcpy(out + len, s, l);
                len += l;
        }
        if (len == 0)
                out[len++] = '/';
        out[len] = '\0';
        if (names_current_dir(path))
                strcpy(out + len, len > 1 ? "/." : ".");
        else if (n > 0 && path[n - 1] == '/' && len > 1)
                strcpy(out + len, "/");
        return out;
}

/* Go's filepath.Base: what docker names the entry and the stat. */
char *cpath_base(const char *abs)
{
        size_t n = strlen(abs);

        while (n > 1 && abs[n - 1] == '/')
                n--;
        if (n == 1 && abs[0] == '/')
                return xstrdup("/");
        const char *slash = memrchr(abs, '/', n);
        const char *b = slash ? slash + 1 : abs;
        return strndup(b, n - (size_t)(b - abs)) ?: (abort(), NULL);
}

/* openat2 unavailable: walk the path one component at a time, each
 * opened O_PATH|O_NOFOLLOW from the fd of its parent.  Symlinks are read
 * and their target spliced in front of what is left (an absolute one
 * starts again at root); ".." pops back to the parent we hold, and at
 * root stays there.  The last component is followed too. */
struct fd_stack {
        int *fd;
        size_t n, cap;
};

static void fd_stack_clear(struct fd_stack *s)
{
        for (size_t i = 0; i < s->n; i++)
                close(s->fd[i]);
        free(s->fd);
}

static void fd_stack_push(struct fd_stack *s, int fd)
{
        if (s->n == s->cap) {
                s->cap = s->cap ? 2 * s->cap : 16;
                s->fd = xrealloc(s->fd, s->cap * sizeof(int));
        }
        s->fd[s->n++] = fd;
}

static int walk_step(struct fd_stack *s, const char *comp, char **rest, unsigned *hops)
{
        char target[PATH_MAX];
        struct stat st;
        int fd = openat(s->fd[s->n - 1], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        if (!S_ISLNK(st.st_mode)) {
                fd_stack_push(s, fd);
                return 0;
        }
        ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
        close(fd);
        if (n < 0)
                return -errno;
        if (++*hops > MAX_SYMLINK_HOPS)
                return -ELOOP;
        target[n] = '\0';
        if (target[0] == '/')
                while (s->n > 1)
                        close(s->fd[--s->n]);
        char *joined = xasprintf("%s/%s", target, *rest);
        free(*rest);
        *rest = joined;
        return 0;
}

static int walk_in_root(int root, const char *path, int *out)
{
        struct fd_stack s = { 0 };
        char *rest = xstrdup(path);
        unsigned hops = 0;
        int r = 0;

        int top = fcntl(root, F_DUPFD_CLOEXEC, 3);
        if (top < 0) {
                free(rest);
                return -errno;
        }
        fd_stack_push(&s, top);
        while (r == 0) {
                char *p = rest + strspn(rest, "/"), *end = p + strcspn(p, "/");
                if (*p == '\0')
                        break;
                _cleanup_free_ char *comp = strndup(p, (size_t)(end - p));
                char *tail = xstrdup(end);
                free(rest);
                rest = tail;
                if (comp == NULL)
                        abort();
                if (strcmp(comp, ".") == 0)
                        continue;
                if (strcmp(comp, "..") == 0) {
                        if (s.n > 1)
                                close(s.fd[--s.n]);
                        continue;
                }
                /* only directories may have something after them */
                struct stat st;
                if (fstat(s.fd[s.n - 1], &st) < 0 || !S_ISDIR(st.st_mode))
                        r = -ENOTDIR;
                else
                        r = walk_step(&s, comp, &rest, &hops);
        }
        if (r == 0)
                *out = s.fd[--s.n];
        fd_stack_clear(&s);
        free(rest);
        return r;
}

/* An O_PATH fd on what path names inside root, every symlink followed
 * inside it; dir: it must be a directory.  -errno on failure. */
int cpath_open_in_root(int root, const char *path, bool dir)
{
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC | (dir ? O_DIRECTORY : 0),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        const char *p = path + strspn(path, "/");
        int fd = -1;

        /* EAGAIN: a rename raced with the lookup; the kernel asks for a retry */
        for (int tries = 0; tries < 64; tries++) {
                fd = (int)syscall(SYS_openat2, root, *p ? p : ".", &how, sizeof(how));
                if (fd >= 0 || errno != EAGAIN)
                        break;
        }
        if (fd >= 0)
                return fd;
        if (errno != ENOSYS)
                return -errno;
        int r = walk_in_root(root, path, &fd);
        if (r < 0)
                return r;
        struct stat st;
        if (dir && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))) {
                close(fd);
                return -ENOTDIR;
        }
        return fd;
}

static char *fd_path(int fd)
{
        char proc[64], buf[PATH_MAX];
        ssize_t n;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, buf, sizeof(buf) - 1);
        if (n < 0)
                return NULL;
        buf[n] = '\0';
        return xstrdup(buf);
}

void ctr_root_clear(struct ctr_root *r)
{
        if (r->fd >= 0)
                close(r->fd);
        free(r->host);
        free(r->dest);
}

static bool has_option(json_t *mount, const char *name)
{
        json_t *o;
        size_t i;

        json_array_foreach(json_object_get(mount, "options"), i, o)
                if (json_is_string(o) && strcmp(json_string_value(o), name) == 0)
                        return true;
        return false;
}

/* The bind mount whose destination is the longest prefix of abs, from
 * config.json.  Mount points reached through a symlink in the rootfs are
 * not seen: the rootfs's empty mount point is.  Absolute symlinks inside
 * a mount resolve inside that mount. */
json_t *cpath_find_mount(json_t *config, const char *abs, size_t *dest_len)
{
        json_t *best = NULL, *m;
        size_t i;

        *dest_len = 0;
        json_array_foreach(json_object_get(config, "mounts"), i, m) {
                const char *dest = json_string_value(json_object_get(m, "destination"));
                const char *type = json_string_value(json_object_get(m, "type"));
                bool bind = (type && strcmp(type, "bind") == 0) || has_option(m, "bind") || has_option(m, "rbind");
                if (!bind || dest == NULL || dest[0] != '/')
                        continue;
                _cleanup_free_ char *d = cpath_abs(dest);
                size_t n = strlen(d);
                if (n <= 1 || strncmp(abs, d, n) != 0 || (abs[n] != '\0' && abs[n] != '/') || n <= *dest_len)
                        continue;
                best = m;
                *dest_len = n;
        }
        return best;
}

/* The root for abs; *rel gets the part of abs inside it. */
int ctr_root_open(struct engine *e, struct ctr *c, const char *abs, struct ctr_root *r, const char **rel,
                  berth_error_t **err)
{
        size_t n;
        json_t *m = cpath_find_mount(c->config, abs, &n);
        _cleanup_free_ char *dir = ctr_dir(e, c);
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir);
        const char *src = m ? json_string_value(json_object_get(m, "source")) : rootfs;

        *r = (struct ctr_root){ .fd = -1 };
        if (src == NULL)
                return berth_fail(err, EINVAL, "a mount of the container has no source");
        r->fd = open(src, O_PATH | O_CLOEXEC);
        if (r->fd < 0)
                return berth_error(err, errno, "open %s", src);
        r->host = fd_path(r->fd);
        if (r->host == NULL)
                return berth_error(err, errno, "where is %s", src);
        r->dest = m ? strndup(abs, n) : xstrdup("/");
        if (r->dest == NULL)
                abort();
        r->read_only = m ? has_option(m, "ro")
                         : json_is_true(json_object_get(json_object_get(c->config, "root"), "readonly"));
        *rel = abs + (m ? n : 0);
        return 0;
}

/* The container path of fd, something under r; NULL if it is not (it
 * cannot be, resolved in r). */
char *ctr_root_path(const struct ctr_root *r, int fd)
{
        _cleanup_free_ char *host = fd_path(fd);
        size_t n = strcmp(r->host, "/") == 0 ? 0 : strlen(r->host);

        if (host == NULL || strncmp(host, r->host, n) != 0 || (host[n] != '\0' && host[n] != '/'))
                return NULL;
        if (host[n] == '\0')
                return xstrdup(r->dest);
        return strcmp(r->dest, "/") == 0 ? xstrdup(host + n) : xasprintf("%s%s", r->dest, host + n);
}

void ctr_target_clear(struct ctr_target *t)
{
        ctr_root_clear(&t->root);
        if (t->fd >= 0)
                close(t->fd);
        free(t->abs);
        free(t->rel);
}

int cpath_not_found(berth_error_t **err, int r, const char *path, const char *name)
{
        if (r == -ENOENT || r == -ENOTDIR)
                return berth_fail(err, ENOENT, "Could not find the file %s in container %s", path, name);
        return berth_error(err, -r, "%s in container %s", path, name);
}

/* The last component of rel, not followed, in its directory (followed). */
static int open_last(int root, const char *rel)
{
        _cleanup_free_ char *dir = xstrdup(rel);
        char *slash = strrchr(dir, '/');
        const char *base = slash ? slash + 1 : dir;

        if (slash)
                *slash = '\0';
        _cleanup_close_ int dfd = cpath_open_in_root(root, slash ? dir : "", true);
        if (dfd < 0)
                return dfd;
        int fd = openat(dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        return fd >= 0 ? fd : -errno;
}

/* Resolve path in container c as docker does: the directory part with
 * every symlink followed (inside the root), the last component as it is,
 * unless a trailing "/" or "/." asks for a directory. */
int ctr_target_open(struct engine *e, struct ctr *c, const char *name, const char *path, struct ctr_target *t,
                    berth_error_t **err)
{
        *t = (struct ctr_target){ .fd = -1, .root.fd = -1, .abs = cpath_abs(path) };
        _cleanup_free_ char *clean = xstrdup(t->abs);
        size_t n = strlen(clean);
        const char *rel;

        if (n > 2 && strcmp(clean + n - 2, "/.") == 0)
                clean[n -= 2] = '\0';
        if (n > 1 && clean[n - 1] == '/')
                clean[--n] = '\0';
        bool want_dir = strcmp(clean, t->abs) != 0;
        if (ctr_root_open(e, c, clean, &t->root, &rel, err) < 0)
                return -1;
        t->rel = xstrdup(rel + strspn(rel, "/"));
        /* the root itself: the rootfs, or a mount's source (a file for
         * /etc/hostname) */
        int fd;
        if (*t->rel == '\0') {
                fd = fcntl(t->root.fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        fd = -errno;
        } else {
                fd = want_dir ? cpath_open_in_root(t->root.fd, t->rel, true) : open_last(t->root.fd, t->rel);
        }
        if (fd < 0)
                return cpath_not_found(err, fd, path, name);
        t->fd = fd;
        struct stat st;
        if (want_dir && (fstat(t->fd, &st) < 0 || !S_ISDIR(st.st_mode)))
                return cpath_not_found(err, -ENOTDIR, path, name);
        return 0;
}

