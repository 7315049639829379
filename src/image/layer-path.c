/* Paths inside a layer being extracted: cleaning tar names, resolving
 * directories inside the destination with openat2(RESOLVE_IN_ROOT),
 * removing trees without following symlinks, and the set of paths the
 * layer created. */
#include "image/layer-internal.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

char *layer_clean_path(const char *name)
{
        size_t len = 0;
        char *out = xmalloc(strlen(name) + 1);
        const char *p = name;

        for (;;) {
                const char *s;
                size_t l;

                while (*p == '/')
                        p++;
                if (*p == '\0')
                        break;
                s = p;
                while (*p != '\0' && *p != '/')
                        p++;
                l = (size_t)(p - s);
                if (l == 1 && s[0] == '.')
                        continue;
                if (l == 2 && s[0] == '.' && s[1] == '.') {
                        char *slash;

                        if (len == 0) {
                                free(out);
                                return NULL;
                        }
                        slash = memrchr(out, '/', len);
                        len = slash != NULL ? (size_t)(slash - out) : 0;
                        continue;
                }
                if (len > 0)
                        out[len++] = '/';
                memcpy(out + len, s, l);
                len += l;
        }
        out[len] = '\0';
        return out;
}

const char *layer_split(const char *path, char **dir)
{
        const char *slash = strrchr(path, '/');

        if (slash == NULL) {
                *dir = xstrdup("");
                return path;
        }
        *dir = strndup(path, (size_t)(slash - path));
        if (*dir == NULL)
                abort();
        return slash + 1;
}

char *layer_quote(const char *name)
{
        size_t max = 200, n = 0;
        char *out = xmalloc(max * 4 + 8), *o = out;

        *o++ = '"';
        for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++, n++) {
                if (n == max) {
                        o = stpcpy(o, "...");
                        break;
                }
                if (*p == '"' || *p == '\\') {
                        *o++ = '\\';
                        *o++ = (char)*p;
                } else if (*p < 0x20 || *p == 0x7f) {
                        o += sprintf(o, "\\x%02x", *p);
                } else {
                        *o++ = (char)*p;
                }
        }
        *o++ = '"';
        *o = '\0';
        return out;
}

int layer_openat2(int destfd, const char *path, int flags, unsigned long long extra)
{
        struct open_how how = { .flags = (unsigned long long)(flags | O_CLOEXEC),
                                .resolve = LAYER_RESOLVE | extra };
        int fd = -1;

        /* EAGAIN: a rename raced with the walk; the kernel asks for a retry */
        for (int tries = 0; tries < 64; tries++) {
                fd = (int)syscall(SYS_openat2, destfd, path[0] != '\0' ? path : ".", &how, sizeof(how));
                if (fd >= 0 || errno != EAGAIN)
                        break;
        }
        return fd;
}

void layer_cache_drop(struct layer_ctx *c)
{
        if (c->cache_fd >= 0)
                close(c->cache_fd);
        c->cache_fd = -1;
        free(c->cache_path);
        c->cache_path = NULL;
}

/* Make the missing directories of dir one by one: each component is
 * resolved from the root (it may be a symlink, followed inside the root),
 * and created with mkdirat in its resolved parent. */
static int create_dirs(struct layer_ctx *c, const char *dir, unsigned long long extra)
{
        _cleanup_free_ char *copy = xstrdup(dir);
        _cleanup_close_ int prev = layer_openat2(c->destfd, "", O_PATH | O_DIRECTORY, 0);
        char *p = copy;

        if (prev < 0)
                return -1;
        for (;;) {
                char *slash = strchr(p, '/');
                int fd;

                if (slash != NULL)
                        *slash = '\0';
                fd = layer_openat2(c->destfd, copy, O_PATH | O_DIRECTORY, extra);
                if (fd < 0 && errno == ENOENT) {
                        if (mkdirat(prev, p, 0755) < 0) {
                                if (errno == EEXIST) /* a dangling symlink */
                                        errno = ENOENT;
                                return -1;
                        }
                        /* we just made it a directory: chmod cannot be misled */
                        if (fchmodat(prev, p, 0755, 0) < 0)
                                return -1;
                        fd = openat(prev, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (fd < 0)
                        return -1;
                close(prev);
                prev = fd;
                if (slash == NULL)
                        return steal_fd(&prev);
                *slash = '/';
                p = slash + 1;
        }
}

int layer_open_dir(struct layer_ctx *c, const char *dir, bool create, bool no_symlinks)
{
        unsigned long long extra = no_symlinks ? RESOLVE_NO_SYMLINKS : 0;
        int fd;

        if (!no_symlinks && c->cache_path != NULL && strcmp(c->cache_path, dir) == 0) {
                fd = fcntl(c->cache_fd, F_DUPFD_CLOEXEC, 3);
                return fd >= 0 ? fd : -errno;
        }
        fd = layer_openat2(c->destfd, dir, O_PATH | O_DIRECTORY, extra);
        if (fd < 0 && errno == ENOENT && create)
                fd = create_dirs(c, dir, extra);
        if (fd < 0)
                return -errno;
        if (!no_symlinks) {
                layer_cache_drop(c);
                c->cache_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (c->cache_fd >= 0)
                        c->cache_path = xstrdup(dir);
        }
        return fd;
}

/* Remove the entries of directory fd.  With c, keep what the layer made
 * (path is fd's path then) and clean inside what is kept. */
static int remove_children(struct layer_ctx *c, int fd, const char *path)
{
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        bool removed;
        DIR *d;
        int r = 0;

        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (d == NULL) {
                r = -errno;
                close(dfd);
                return r;
        }
        /* several passes: entries removed under readdir may hide others */
        do {
                struct dirent *de;

                removed = false;
                rewinddir(d);
                while (r == 0 && (errno = 0, de = readdir(d)) != NULL) {
                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                continue;
                        if (c != NULL) {
                                _cleanup_free_ char *child = path[0] != '\0'
                                        ? xasprintf("%s/%s", path, de->d_name) : xstrdup(de->d_name);

                                if (layer_pathset_has(&c->mine, child)) {
                                        int cfd = openat(fd, de->d_name,
                                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                        if (cfd >= 0) {
                                                r = remove_children(c, cfd, child);
                                                close(cfd);
                                        } else if (errno != ENOTDIR && errno != ELOOP) {
                                                r = -errno;
                                        }
                                        continue;
                                }
                        }
                        r = layer_remove_tree(fd, de->d_name);
                        removed = true;
                }
                if (r == 0 && errno != 0)
                        r = -errno;
        } while (r == 0 && removed && c == NULL);
        closedir(d);
        return r;
}

int layer_remove_tree(int dirfd, const char *name)
{
        return remove_tree_at(dirfd, name);
}

int layer_remove_lower(struct layer_ctx *c, int fd, const char *path)
{
        return remove_children(c, fd, path);
}

/* FNV-1a */
static uint64_t path_hash(const char *s)
{
        uint64_t h = 0xcbf29ce484222325ULL;

        for (; *s != '\0'; s++)
                h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
        return h;
}

bool layer_pathset_has(const struct layer_pathset *s, const char *path)
{
        if (s->cap == 0)
                return false;
        for (size_t i = path_hash(path) & (s->cap - 1); s->slots[i] != NULL; i = (i + 1) & (s->cap - 1))
                if (strcmp(s->slots[i], path) == 0)
                        return true;
        return false;
}

static void pathset_put(struct layer_pathset *s, char *path)
{
        size_t i = path_hash(path) & (s->cap - 1);

        while (s->slots[i] != NULL)
                i = (i + 1) & (s->cap - 1);
        s->slots[i] = path;
}

/* Returns false when path was already there. */
static bool pathset_insert(struct layer_pathset *s, const char *path)
{
        if (path[0] == '\0' || layer_pathset_has(s, path))
                return false;
        if ((s->used + 1) * 2 > s->cap) {
                struct layer_pathset n = { .cap = s->cap ? s->cap * 2 : 256 };

                n.slots = xcalloc(n.cap, sizeof(char *));
                for (size_t i = 0; i < s->cap; i++)
                        if (s->slots[i] != NULL)
                                pathset_put(&n, s->slots[i]);
                free(s->slots);
                s->slots = n.slots;
                s->cap = n.cap;
        }
        pathset_put(s, xstrdup(path));
        s->used++;
        return true;
}

void layer_pathset_add(struct layer_pathset *s, const char *path)
{
        _cleanup_free_ char *copy = NULL;
        char *slash;

        if (!pathset_insert(s, path))
                return; /* its ancestors are there too */
        copy = xstrdup(path);
        while ((slash = strrchr(copy, '/')) != NULL) {
                *slash = '\0';
                if (!pathset_insert(s, copy))
                        break;
        }
}

void layer_pathset_free(struct layer_pathset *s)
{
        for (size_t i = 0; i < s->cap; i++)
                free(s->slots[i]);
        free(s->slots);
        s->slots = NULL;
        s->cap = s->used = 0;
}
