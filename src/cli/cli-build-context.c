/* The build context of `berth build`, made as the docker CLI makes it and
 * streamed as the body of POST /build, never held in memory.
 *
 * A directory is walked depth first, each directory's entries in byte
 * order (Go's filepath.Walk: "a", "a/x", "a.txt"), symlinks never
 * followed, and written as a tar by libarchive: uid and gid 0, no owner
 * names, mtimes in whole seconds, hard links as links to the first name.
 * Every path goes through one filter (the .dockerignore, see build_filter
 * in cli.h); an excluded directory is not entered unless the filter says
 * an exception may match below it.  A Dockerfile from outside the context
 * (-f ../x, -f -) is added under a generated name, ".dockerfile.<20 hex>",
 * and that name is appended to the .dockerignore sent (created when there
 * is none), as docker's AddDockerfileToBuildContext does.
 *
 * The tar is produced on demand: the stream is a FILE (fopencookie) whose
 * reads advance the walk one entry, or one block of a file, at a time, so
 * the memory used is one block whatever the size of the context.  A tar
 * (or compressed tar) on stdin is passed through the same way; anything
 * else on stdin is taken as a Dockerfile, the only file of the context. */
#include "cli/cli.h"
#include "util/dockerignore.h"
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#define CTX_BLOCK 65536

struct walk_level {
        int fd;
        char *prefix;           /* "" for the root, else "dir/" */
        void *state;            /* the filter's, for the entries here */
        char **names;           /* sorted */
        size_t n, i;
};

struct hardlink {
        dev_t dev;
        ino_t ino;
        char *name;
};

struct build_context {
        /* a directory */
        struct walk_level *levels;
        size_t depth, cap;
        struct build_filter filter;
        struct archive *a;
        int file_fd;                    /* the regular file being sent */
        struct hardlink *links;
        size_t nlinks;
        /* the Dockerfile from elsewhere, and the .dockerignore naming it */
        char *df_name, *df_data;
        size_t df_len;
        bool ignore_done;
        time_t now;
        /* a stream from stdin: what was peeked, then the fd */
        int raw_fd;
        char *raw_head;
        size_t raw_len, raw_off;
        bool raw_eof;

        struct strbuf out;              /* produced, not yet read */
        size_t out_off;
        bool closed;                    /* the tar is complete */
        long long sent;
        bool reported_last;
        build_progress_fn progress;
        void *progress_opaque;
        berth_error_t *error;
        FILE *stream;
};

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void level_free(struct walk_level *l)
{
        if (l->fd >= 0)
                close(l->fd);
        for (size_t i = 0; i < l->n; i++)
                free(l->names[i]);
        free(l->names);
        free(l->prefix);
        free(l->state);
}

/* Enter the directory open as fd (which it takes) under prefix, with the
 * filter's state for it (which it takes too). */
static int push_level(struct build_context *c, int fd, const char *prefix, void *state, berth_error_t **err)
{
        DIR *d = fdopendir(fd);
        struct walk_level l = { .fd = -1, .state = state };
        struct dirent *de;
        size_t cap = 0;

        if (d == NULL) {
                close(fd);
                free(state);
                return berth_error(err, errno, "open %s", *prefix ? prefix : ".");
        }
        errno = 0;
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (l.n == cap) {
                        cap = cap ? cap * 2 : 16;
                        l.names = xrealloc(l.names, cap * sizeof(char *));
                }
                l.names[l.n++] = xstrdup(de->d_name);
        }
        if (errno != 0) {
                int e = errno;
                closedir(d);
                level_free(&l);
                return berth_error(err, e, "read directory %s", *prefix ? prefix : ".");
        }
        qsort(l.names, l.n, sizeof(char *), cmp_names);
        /* keep an fd of our own for the *at calls; the DIR goes */
        l.fd = fcntl(dirfd(d), F_DUPFD_CLOEXEC, 3);
        closedir(d);
        if (l.fd < 0) {
                level_free(&l);
                return berth_error(err, errno, "dup");
        }
        l.prefix = xstrdup(prefix);
        if (c->depth == c->cap) {
                c->cap = c->cap ? c->cap * 2 : 8;
                c->levels = xrealloc(c->levels, c->cap * sizeof(*c->levels));
        }
        c->levels[c->depth++] = l;
        return 0;
}

static la_ssize_t on_write(struct archive *a, void *opaque, const void *buf, size_t n)
{
        struct build_context *c = opaque;
        (void)a;
        strbuf_add(&c->out, buf, n);
        return (la_ssize_t)n;
}

static int archive_fail(struct build_context *c, const char *what, berth_error_t **err)
{
        return berth_error(err, archive_errno(c->a) > 0 ? archive_errno(c->a) : 0, "%s: %s", what,
                           archive_error_string(c->a) ?: "tar error");
}

static struct archive_entry *new_entry(const char *name, unsigned type, mode_t perm, time_t mtime)
{
        struct archive_entry *e = archive_entry_new();
        if (e == NULL)
                abort();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, perm & 07777);
        archive_entry_set_mtime(e, mtime, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        return e;
}

/* A whole file from memory (the generated Dockerfile, the .dockerignore). */
static int write_memory_file(struct build_context *c, const char *name, mode_t perm, time_t mtime,
                             const char *data, size_t len, berth_error_t **err)
{
        struct archive_entry *e = new_entry(name, AE_IFREG, perm, mtime);
        int r;

        archive_entry_set_size(e, (la_int64_t)len);
        r = archive_write_header(c->a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK)
                return archive_fail(c, name, err);
        if (len > 0 && archive_write_data(c->a, data, len) < 0)
                return archive_fail(c, name, err);
        return 0;
}

/* The .dockerignore sent when a Dockerfile is added: its content (or the
 * line ".dockerignore" when there is none) and the generated name. */
static int write_dockerignore(struct build_context *c, const char *orig, size_t len, mode_t perm, time_t mtime,
                              berth_error_t **err)
{
        struct strbuf b = { 0 };
        int r;

        if (orig)
                strbuf_add(&b, orig, len);
        else
                strbuf_adds(&b, ".dockerignore");
        strbuf_adds(&b, "\n");
        strbuf_adds(&b, c->df_name);
        strbuf_adds(&b, "\n");
        r = write_memory_file(c, ".dockerignore", perm, mtime, b.data, b.len, err);
        free(b.data);
        c->ignore_done = true;
        return r;
}

static const char *seen_link(struct build_context *c, const struct stat *st, const char *name)
{
        for (size_t i = 0; i < c->nlinks; i++)
                if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino)
                        return c->links[i].name;
        c->links = xrealloc(c->links, (c->nlinks + 1) * sizeof(*c->links));
        c->links[c->nlinks++] = (struct hardlink){ st->st_dev, st->st_ino, xstrdup(name) };
        return NULL;
}

/* One entry of the walk: its header, and the file opened for its data. */
static int walk_entry(struct build_context *c, struct walk_level *l, const char *name, berth_error_t **err)
{
        _cleanup_free_ char *rel = xasprintf("%s%s", l->prefix, name);
        _cleanup_free_ void *state = NULL;
        struct archive_entry *e = NULL;
        struct stat st;
        enum build_match m = BUILD_SEND;
        int r;

        if (fstatat(l->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;       /* gone while we walked */
                return berth_error(err, 0, "can't stat '%s'", rel);
        }
        if (S_ISDIR(st.st_mode) && c->filter.state_size)
                state = xcalloc(1, c->filter.state_size);
        if (c->filter.fn)
                m = c->filter.fn(c->filter.opaque, rel, S_ISDIR(st.st_mode), l->state, state);
        if (m != BUILD_SEND && !S_ISDIR(st.st_mode))
                return 0;
        if (m == BUILD_SKIP)
                return 0;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_free_ char *prefix = xasprintf("%s/", rel);
                int fd;
                if (m == BUILD_SEND) {
                        e = new_entry(rel, AE_IFDIR, st.st_mode, st.st_mtim.tv_sec);
                        r = archive_write_header(c->a, e);
                        archive_entry_free(e);
                        if (r != ARCHIVE_OK)
                                return archive_fail(c, rel, err);
                }
                fd = openat(l->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return berth_error(err, 0, "can't stat '%s'", rel);
                return push_level(c, fd, prefix, steal_pointer(&state), err);  /* l is stale from here */
        }
        if (c->df_name && strcmp(rel, ".dockerignore") == 0 && S_ISREG(st.st_mode)) {
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                if (read_file_at(l->fd, name, &data, &len, err) < 0)
                        return -1;
                return write_dockerignore(c, data, len, st.st_mode, st.st_mtim.tv_sec, err);
        }
        if (S_ISREG(st.st_mode)) {
                const char *target = st.st_nlink > 1 ? seen_link(c, &st, rel) : NULL;
                int fd = -1;
                if (target == NULL) {
                        fd = openat(l->fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                        if (fd < 0)
                                return berth_error(err, 0, "no permission to read from '%s'", rel);
                }
                e = new_entry(rel, AE_IFREG, st.st_mode, st.st_mtim.tv_sec);
                if (target) {
                        archive_entry_set_hardlink(e, target);
                        archive_entry_set_size(e, 0);
                } else {
                        archive_entry_set_size(e, st.st_size);
                }
                r = archive_write_header(c->a, e);
                archive_entry_free(e);
                if (r != ARCHIVE_OK) {
                        if (fd >= 0)
                                close(fd);
                        return archive_fail(c, rel, err);
                }
                c->file_fd = fd;
                return 0;
        }
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX + 1];
                ssize_t n = readlinkat(l->fd, name, target, PATH_MAX);
                if (n < 0)
                        return berth_error(err, errno, "readlink %s", rel);
                target[n] = '\0';
                e = new_entry(rel, AE_IFLNK, 0777, st.st_mtim.tv_sec);
                archive_entry_set_symlink(e, target);
        } else if (S_ISFIFO(st.st_mode)) {
                e = new_entry(rel, AE_IFIFO, st.st_mode, st.st_mtim.tv_sec);
        } else {
                return 0;       /* sockets and devices stay behind */
        }
        r = archive_write_header(c->a, e);
        archive_entry_free(e);
        return r == ARCHIVE_OK ? 0 : archive_fail(c, rel, err);
}

/* Produce the next piece of the tar into c->out. */
static int step(struct build_context *c, berth_error_t **err)
{
        if (c->file_fd >= 0) {
                char buf[CTX_BLOCK];
                ssize_t n = read(c->file_fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        return 0;
                if (n < 0)
                        return berth_error(err, errno, "read the build context");
                if (n == 0) {
                        /* a file that shrank is padded by libarchive */
                        close(c->file_fd);
                        c->file_fd = -1;
                        if (archive_write_finish_entry(c->a) != ARCHIVE_OK)
                                return archive_fail(c, "tar", err);
                        return 0;
                }
                if (archive_write_data(c->a, buf, (size_t)n) < 0)
                        return archive_fail(c, "tar", err);
                return 0;
        }
        while (c->depth > 0) {
                struct walk_level *l = &c->levels[c->depth - 1];
                if (l->i < l->n) {
                        const char *name = l->names[l->i++];
                        return walk_entry(c, l, name, err);
                }
                level_free(l);
                c->depth--;
        }
        if (c->df_name && !c->ignore_done && write_dockerignore(c, NULL, 0, 0600, c->now, err) < 0)
                return -1;
        if (c->df_name && write_memory_file(c, c->df_name, 0600, c->now, c->df_data, c->df_len, err) < 0)
                return -1;
        if (archive_write_close(c->a) != ARCHIVE_OK)
                return archive_fail(c, "tar", err);
        c->closed = true;
        return 0;
}

static void report(struct build_context *c, size_t n, bool last)
{
        if (c->reported_last)
                return;
        c->sent += (long long)n;
        c->reported_last = last;
        if (c->progress)
                c->progress(c->progress_opaque, c->sent, last);
}

static ssize_t raw_read(struct build_context *c, char *buf, size_t size)
{
        if (c->raw_off < c->raw_len) {
                size_t n = MIN(size, c->raw_len - c->raw_off);
                memcpy(buf, c->raw_head + c->raw_off, n);
                c->raw_off += n;
                return (ssize_t)n;
        }
        if (c->raw_eof)
                return 0;
        for (;;) {
                ssize_t n = read(c->raw_fd, buf, size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        berth_error(&c->error, errno, "read the build context from stdin");
                if (n == 0)
                        c->raw_eof = true;
                return n;
        }
}

static ssize_t ctx_read(void *cookie, char *buf, size_t size)
{
        struct build_context *c = cookie;
        ssize_t n;

        if (c->error) {
                errno = EIO;
                return -1;
        }
        if (c->raw_head || c->raw_fd >= 0) {
                n = raw_read(c, buf, size);
                if (n < 0) {
                        errno = EIO;
                        return -1;
                }
                report(c, (size_t)n, n == 0);
                return n;
        }
        while (c->out_off == c->out.len && !c->closed) {
                c->out.len = c->out_off = 0;
                if (step(c, &c->error) < 0) {
                        errno = EIO;
                        return -1;
                }
        }
        n = (ssize_t)MIN(size, c->out.len - c->out_off);
        memcpy(buf, c->out.data + c->out_off, (size_t)n);
        c->out_off += (size_t)n;
        report(c, (size_t)n, n == 0);
        return n;
}

static int ctx_close(void *cookie)
{
        (void)cookie;
        return 0;
}

static struct build_context *ctx_new(void)
{
        struct build_context *c = xcalloc(1, sizeof(*c));
        cookie_io_functions_t io = { .read = ctx_read, .close = ctx_close };

        c->file_fd = -1;
        c->raw_fd = -1;
        c->now = time(NULL);
        c->stream = fopencookie(c, "r", io);
        if (c->stream == NULL)
                abort();
        /* fread asks for a block at a time; no second buffer in between */
        setvbuf(c->stream, NULL, _IONBF, 0);
        return c;
}

char *build_random_dockerfile_name(void)
{
        unsigned char r[10];
        char hex[21];

        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
                /* not worth failing a build for */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                for (size_t i = 0; i < sizeof(r); i++)
                        r[i] = (unsigned char)((ts.tv_nsec >> (i % 4 * 8)) ^ (getpid() >> i) ^ (i * 37));
        }
        for (size_t i = 0; i < sizeof(r); i++)
                snprintf(hex + 2 * i, 3, "%02x", r[i]);
        return xasprintf(".dockerfile.%s", hex);
}

int build_context_dir(const char *dir, const struct build_filter *filter, const char *dockerfile,
                      size_t dockerfile_len, struct build_context **out, berth_error_t **err)
{
        struct build_context *c;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return berth_error(err, errno, "open %s", dir);
        c = ctx_new();
        if (filter)
                c->filter = *filter;
        if (dockerfile) {
                c->df_name = build_random_dockerfile_name();
                c->df_data = xmalloc(dockerfile_len + 1);
                memcpy(c->df_data, dockerfile, dockerfile_len);
                c->df_len = dockerfile_len;
        }
        c->a = archive_write_new();
        if (c->a == NULL)
                abort();
        /* no blocking: the end is two zero records, as Go's tar writes */
        if (archive_write_set_format_pax_restricted(c->a) != ARCHIVE_OK ||
            archive_write_add_filter_none(c->a) != ARCHIVE_OK ||
            archive_write_set_bytes_per_block(c->a, 0) != ARCHIVE_OK ||
            archive_write_open2(c->a, c, NULL, on_write, NULL, NULL) != ARCHIVE_OK) {
                archive_fail(c, "tar", err);
                close(fd);
                build_context_free(c);
                return -1;
        }
        if (push_level(c, fd, "", NULL, err) < 0) {
                build_context_free(c);
                return -1;
        }
        *out = c;
        return 0;
}

bool build_is_archive(const void *head, size_t len)
{
        const unsigned char *p = head;
        static const unsigned char xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };
        static const unsigned char zstd[] = { 0x28, 0xb5, 0x2f, 0xfd };
        unsigned sum = 0, want;
        char field[9];

        if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
                return true;
        if (len >= 3 && memcmp(p, "BZh", 3) == 0)
                return true;
        if (len >= sizeof(xz) && memcmp(p, xz, sizeof(xz)) == 0)
                return true;
        if (len >= sizeof(zstd) && memcmp(p, zstd, sizeof(zstd)) == 0)
                return true;
        /* a tar header whose checksum is right (Go's tar.Reader.Next) */
        if (len < 512)
                return false;
        for (size_t i = 0; i < 512; i++)
                sum += i >= 148 && i < 156 ? ' ' : p[i];
        memcpy(field, p + 148, 8);
        field[8] = '\0';
        if (sscanf(field, "%o", &want) != 1)
                return false;
        return sum == want && sum != 8 * ' ';
}

int build_context_stdin(int fd, struct build_context **out, bool *is_archive, berth_error_t **err)
{
        struct build_context *c = ctx_new();
        size_t want = 1024;

        c->raw_head = xmalloc(want);
        while (c->raw_len < want) {
                ssize_t n = read(fd, c->raw_head + c->raw_len, want - c->raw_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        berth_error(err, errno, "failed to peek context header from STDIN");
                        build_context_free(c);
                        return -1;
                }
                if (n == 0) {
                        c->raw_eof = true;
                        break;
                }
                c->raw_len += (size_t)n;
        }
        c->raw_fd = fd;
        *is_archive = build_is_archive(c->raw_head, c->raw_len);
        *out = c;
        return 0;
}

int build_context_stdin_dockerfile(struct build_context *raw, struct build_context **out, berth_error_t **err)
{
        struct strbuf df = { 0 };
        char buf[CTX_BLOCK];
        ssize_t n;
        int r;

        strbuf_add(&df, raw->raw_head, raw->raw_len);
        while (!raw->raw_eof) {
                n = read(raw->raw_fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        free(df.data);
                        return berth_error(err, errno, "read the Dockerfile from stdin");
                }
                if (n == 0)
                        break;
                strbuf_add(&df, buf, (size_t)n);
        }
        struct build_context *c = ctx_new();
        c->a = archive_write_new();
        if (c->a == NULL)
                abort();
        if (archive_write_set_format_pax_restricted(c->a) != ARCHIVE_OK ||
            archive_write_add_filter_none(c->a) != ARCHIVE_OK ||
            archive_write_set_bytes_per_block(c->a, 0) != ARCHIVE_OK ||
            archive_write_open2(c->a, c, NULL, on_write, NULL, NULL) != ARCHIVE_OK) {
                archive_fail(c, "tar", err);
                goto fail;
        }
        /* docker writes it to a temporary file (0644 under the usual
         * umask) and tars that directory */
        r = write_memory_file(c, "Dockerfile", 0644, c->now, df.data ? df.data : "", df.len, err);
        if (r < 0)
                goto fail;
        free(df.data);
        *out = c;
        return 0;
fail:
        free(df.data);
        build_context_free(c);
        return -1;
}

FILE *build_context_stream(struct build_context *c)
{
        return c->stream;
}

void build_context_set_progress(struct build_context *c, build_progress_fn fn, void *opaque)
{
        c->progress = fn;
        c->progress_opaque = opaque;
}

const char *build_context_dockerfile_name(struct build_context *c)
{
        return c->df_name;
}

berth_error_t *build_context_error(struct build_context *c)
{
        return c->error;
}

void build_context_free(struct build_context *c)
{
        if (c == NULL)
                return;
        if (c->stream)
                fclose(c->stream);
        while (c->depth > 0)
                level_free(&c->levels[--c->depth]);
        free(c->levels);
        if (c->file_fd >= 0)
                close(c->file_fd);
        if (c->a)
                archive_write_free(c->a);
        for (size_t i = 0; i < c->nlinks; i++)
                free(c->links[i].name);
        free(c->links);
        free(c->df_name);
        free(c->df_data);
        free(c->raw_head);
        free(c->out.data);
        berth_error_free(&c->error);
        free(c);
}

/* ---- the .dockerignore: the one place the filter plugs in ---- */

struct build_ignore {
        struct dockerignore *di;
};

/* The docker CLI's walk (archive.TarWithOptions with the patterns). */
static enum build_match ignore_match(void *opaque, const char *path, bool is_dir, const void *parent, void *state)
{
        struct build_ignore *ig = opaque;

        if (!dockerignore_matches_walk(ig->di, path, parent, state))
                return BUILD_SEND;
        if (is_dir && dockerignore_may_reinclude(ig->di, path))
                return BUILD_SKIP_DESCEND;
        return BUILD_SKIP;
}

int build_ignore_load(const char *dir, const char *dockerfile, struct build_ignore **out, struct build_filter *f,
                      berth_error_t **err)
{
        _cleanup_free_ char *path = xasprintf("%s/.dockerignore", dir), *text = NULL;
        struct build_ignore *ig;
        size_t len = 0;

        memset(f, 0, sizeof(*f));
        *out = NULL;
        if (read_file(path, &text, &len, err) < 0) {
                if ((*err)->status != ENOENT)
                        return -1;
                berth_error_free(err);
                return 0;
        }
        ig = xcalloc(1, sizeof(*ig));
        if (dockerignore_parse(text, len, &ig->di, err) < 0 ||
            dockerignore_keep(ig->di, ".dockerignore", err) < 0 ||
            (dockerfile && dockerignore_keep(ig->di, dockerfile, err) < 0)) {
                build_ignore_free(ig);
                berth_error_wrap(err, "failed to parse dockerignore");
                return -1;
        }
        f->fn = ignore_match;
        f->opaque = ig;
        f->state_size = dockerignore_npatterns(ig->di) * sizeof(bool);
        *out = ig;
        return 0;
}

void build_ignore_free(struct build_ignore *ig)
{
        if (ig == NULL)
                return;
        dockerignore_free(ig->di);
        free(ig);
}
