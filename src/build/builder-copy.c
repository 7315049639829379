/* COPY, ADD and WORKDIR: files put into a created (never started)
 * container of the current image through the engine's archive put (the
 * same symlink-safe extraction as docker cp), then its writable layer
 * committed.
 *
 * Sources are paths in the context (or, with --from, in the rootfs of a
 * container of that stage's or image's result), cleaned lexically so none
 * leads out, opened with openat2(RESOLVE_IN_ROOT): a symlink given as the
 * source is followed inside the root, symlinks below it are copied as
 * symlinks.  Globs match with fnmatch (FNM_PATHNAME), as Go's
 * filepath.Match.  Docker's directory rules: a directory's contents are
 * copied; a destination ending in "/", an existing directory, or several
 * sources make the destination a directory.  Owners are 0:0 unless
 * --chown; modes are the sources' unless --chmod.
 *
 * The cache key holds a checksum of the sources (names, types, modes,
 * owners, sizes, contents, link targets), or for --from the source
 * image's id (images never change under an id). */
#include "build/builder-internal.h"
#include "engine/docker-user.h"
#include "image/digest.h"
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>


static int open_in_root(int root, const char *rel, int flags)
{
        struct open_how how = { .flags = (uint64_t)flags | O_CLOEXEC,
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        int fd = (int)syscall(SYS_openat2, root, *rel ? rel : ".", &how, sizeof(how));

        return fd < 0 ? -errno : fd;
}

/* "a/./b/../c/" -> "a/c"; NULL when ".." leads above the root. */
static char *clean_rel(const char *path)
{
        _cleanup_free_ char *copy = xstrdup(path);
        char **parts = xcalloc(strlen(path) + 1, sizeof(char *));
        size_t n = 0;
        struct strbuf out = { 0 };
        char *save = NULL;

        for (char *p = strtok_r(copy, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
                if (strcmp(p, ".") == 0)
                        continue;
                if (strcmp(p, "..") == 0) {
                        if (n == 0) {
                                free(parts);
                                return NULL;
                        }
                        n--;
                        continue;
                }
                parts[n++] = p;
        }
        for (size_t i = 0; i < n; i++) {
                if (i)
                        strbuf_adds(&out, "/");
                strbuf_adds(&out, parts[i]);
        }
        free(parts);
        return out.data ? out.data : xstrdup("");
}

static int cmp_str(const void *x, const void *y)
{
        return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* ---- sources ------------------------------------------------------------ */

struct source {
        char *rel;      /* in the root, clean */
        char *base;     /* its last component as written */
        int fd;         /* O_RDONLY */
        struct stat st;
        bool archive;   /* ADD: a local tar to unpack */
};

struct copy {
        struct build *b;
        const struct df_instr *in;
        bool add;
        const char *from, *chown_spec, *chmod_spec;
        int root;
        char *from_image, *from_ctr;
        struct source *src;
        size_t nsrc;
        char *dest;     /* absolute, clean */
        bool dest_slash;
};

static bool has_glob(const char *s)
{
        return strpbrk(s, "*?[") != NULL;
}

static void glob_walk(struct copy *cp, int fd, const char *prefix, const char *pattern, char ***out, size_t *n)
{
        int dfd = dup(fd);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        struct dirent *de;

        if (d == NULL) {
                if (dfd >= 0)
                        close(dfd);
                return;
        }
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                _cleanup_free_ char *rel = *prefix ? xasprintf("%s/%s", prefix, de->d_name) : xstrdup(de->d_name);
                if (fnmatch(pattern, rel, FNM_PATHNAME) == 0) {
                        *out = xrealloc(*out, (*n + 2) * sizeof(char *));
                        (*out)[(*n)++] = xstrdup(rel);
                        (*out)[*n] = NULL;
                }
                struct stat st;
                bool dir = de->d_type == DT_DIR ||
                           (de->d_type == DT_UNKNOWN && fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                            S_ISDIR(st.st_mode));
                if (dir) {
                        int cfd = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (cfd >= 0) {
                                glob_walk(cp, cfd, rel, pattern, out, n);
                                close(cfd);
                        }
                }
        }
        closedir(d);
}

static int add_source(struct copy *cp, const char *rel, const char *written, berth_error_t **err)
{
        struct source s = { .rel = xstrdup(rel) };
        const char *slash = strrchr(rel, '/');

        s.base = xstrdup(slash ? slash + 1 : rel);
        s.fd = open_in_root(cp->root, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK);
        if (s.fd < 0 || fstat(s.fd, &s.st) < 0) {
                int e = s.fd < 0 ? -s.fd : errno;
                if (s.fd >= 0)
                        close(s.fd);
                free(s.rel);
                free(s.base);
                if (e == ENOENT || e == ENOTDIR)
                        return berth_fail(err, ENOENT,
                                          "%s failed: file not found in build context or excluded by "
                                          ".dockerignore: stat %s: file does not exist",
                                          cp->add ? "ADD" : "COPY", written);
                return berth_error(err, e, "%s failed: open %s", cp->add ? "ADD" : "COPY", written);
        }
        if (cp->add && cp->from == NULL && S_ISREG(s.st.st_mode)) {
                unsigned char h[512] = { 0 };
                ssize_t n = pread(s.fd, h, sizeof(h), 0);
                s.archive = n >= 4 && ((h[0] == 0x1f && h[1] == 0x8b) ||
                                       (h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd) ||
                                       (n >= 262 && memcmp(h + 257, "ustar", 5) == 0));
        }
        cp->src = xrealloc(cp->src, (cp->nsrc + 1) * sizeof(*cp->src));
        cp->src[cp->nsrc++] = s;
        return 0;
}

/* COPY <<EOF: the here-document as a file named after its delimiter,
 * root's and 0644 (its text as written: no expansion). */
static int add_heredoc(struct copy *cp, const struct df_heredoc *h, berth_error_t **err)
{
        struct source s = { .rel = xstrdup(h->name), .base = xstrdup(h->name) };
        size_t len = strlen(h->content);

        s.fd = memfd_create("berth-heredoc", MFD_CLOEXEC);
        if (s.fd < 0 || write_all(s.fd, h->content, len) < 0 || lseek(s.fd, 0, SEEK_SET) < 0 ||
            fstat(s.fd, &s.st) < 0) {
                int e = errno;
                if (s.fd >= 0)
                        close(s.fd);
                free(s.rel);
                free(s.base);
                return berth_error(err, e, "a here-document for %s", cp->add ? "ADD" : "COPY");
        }
        s.st.st_mode = S_IFREG | 0644;
        s.st.st_uid = 0;
        s.st.st_gid = 0;
        s.st.st_mtime = cp->b->reproducible ? (time_t)cp->b->epoch : time(NULL);
        cp->src = xrealloc(cp->src, (cp->nsrc + 1) * sizeof(*cp->src));
        cp->src[cp->nsrc++] = s;
        return 0;
}

/* ADD <url>: fetched now (builder-url.c); never unpacked. */
static int add_url(struct copy *cp, const char *url, berth_error_t **err)
{
        struct source s = { .fd = -1 };

        if (build_fetch_url(cp->b, url, &s.fd, &s.st, &s.base, err) < 0)
                return berth_error_wrap(err, "%s:%u", cp->b->df->file, cp->in->line);
        s.rel = xstrdup(s.base);
        cp->src = xrealloc(cp->src, (cp->nsrc + 1) * sizeof(*cp->src));
        cp->src[cp->nsrc++] = s;
        return 0;
}

static int find_sources(struct copy *cp, char **words, size_t n, berth_error_t **err)
{
        const char *what = cp->add ? "ADD" : "COPY";

        for (size_t i = 0; i < n; i++) {
                const struct df_heredoc *h = dockerfile_arg_heredoc(cp->in, i);
                if (h) {
                        if (add_heredoc(cp, h, err) < 0)
                                return -1;
                        continue;
                }
                if (cp->add && (str_has_prefix(words[i], "http://") || str_has_prefix(words[i], "https://"))) {
                        if (add_url(cp, words[i], err) < 0)
                                return -1;
                        continue;
                }
                _cleanup_free_ char *rel = clean_rel(words[i]);
                if (rel == NULL)
                        return berth_fail(err, EINVAL, "%s failed: forbidden path outside the build context: %s",
                                          what, words[i]);
                if (!has_glob(rel)) {
                        if (add_source(cp, rel, words[i], err) < 0)
                                return -1;
                        continue;
                }
                _cleanup_strv_ char **matches = NULL;
                size_t nm = 0;
                glob_walk(cp, cp->root, "", rel, &matches, &nm);
                if (nm == 0)
                        return berth_fail(err, ENOENT, "%s failed: no source files were specified", what);
                qsort(matches, nm, sizeof(char *), cmp_str);
                for (size_t k = 0; k < nm; k++)
                        if (add_source(cp, matches[k], matches[k], err) < 0)
                                return -1;
        }
        return 0;
}

static void copy_clear(struct copy *cp)
{
        for (size_t i = 0; i < cp->nsrc; i++) {
                close(cp->src[i].fd);
                free(cp->src[i].rel);
                free(cp->src[i].base);
        }
        free(cp->src);
        if (cp->root >= 0)
                close(cp->root);
        if (cp->from_ctr)
                build_container_remove(cp->b, cp->from_ctr);
        free(cp->from_ctr);
        free(cp->from_image);
        free(cp->dest);
}

/* ---- the destination ------------------------------------------------------ */

static char *abs_dest(struct stage_state *s, const char *dest)
{
        const char *wd = json_string_value(json_object_get(s->config, "WorkingDir"));
        _cleanup_free_ char *joined = dest[0] == '/' ? xstrdup(dest) : xasprintf("%s/%s", wd && *wd ? wd : "/", dest);
        _cleanup_free_ char *rel = clean_rel(joined);

        return xasprintf("/%s", rel ? rel : "");
}

/* 1: a directory, 0: something else, -ENOENT: nothing. */
static int dest_kind(struct build *b, const char *ctr, const char *path)
{
        _cleanup_json_decref_ json_t *st = NULL;
        _cleanup_error_ berth_error_t *err = NULL;

        if (engine_archive_stat(b->e, ctr, path, &st, &err) < 0)
                return -ENOENT;
        json_int_t mode = json_integer_value(json_object_get(st, "mode"));
        return (mode & ((json_int_t)1 << 31)) ? 1 : 0;
}

/* The sources into ctr: one tar at "/" with the destination's paths,
 * then each archive of ADD unpacked into the destination. */
static int put_sources(struct copy *cp, struct copier *c, const char *ctr, berth_error_t **err)
{
        struct build *b = cp->b;
        bool several = cp->nsrc > 1;
        int kind = dest_kind(b, ctr, cp->dest);
        bool dest_is_dir = cp->dest_slash || several || kind == 1 || S_ISDIR(cp->src[0].st.st_mode) ||
                           cp->src[0].archive;
        _cleanup_close_ int fd = -1;
        int r = 0;

        if (several && !cp->dest_slash && kind != 1)
                return berth_fail(err, EINVAL,
                                  "When using %s with more than one source file, the destination must be a "
                                  "directory and end with a /",
                                  cp->add ? "ADD" : "COPY");
        if ((fd = build_spool_open(b, err)) < 0 || build_tar_open(c, fd) < 0)
                return -1;
        if (dest_is_dir && kind == -ENOENT)
                r = build_dir_entry(c, cp->dest);
        for (size_t i = 0; i < cp->nsrc && r == 0; i++) {
                struct source *s = &cp->src[i];
                const char *d = cp->dest + 1;
                if (s->archive)
                        continue;
                if (S_ISDIR(s->st.st_mode)) {
                        r = build_walk(c, s->fd, &s->st, d, true);
                } else if (dest_is_dir) {
                        _cleanup_free_ char *name = *d ? xasprintf("%s/%s", d, s->base) : xstrdup(s->base);
                        r = build_walk(c, s->fd, &s->st, name, false);
                } else {
                        r = build_walk(c, s->fd, &s->st, d, false);
                }
        }
        r = build_tar_close(c, r);
        if (r == 0)
                r = build_put_fd(b, ctr, "/", fd, err);
        for (size_t i = 0; i < cp->nsrc && r == 0; i++)
                if (cp->src[i].archive)
                        r = build_put_fd(b, ctr, cp->dest, cp->src[i].fd, err);
        return r;
}

/* ---- the step --------------------------------------------------------------- */

static char *checksum(struct copy *cp, berth_error_t **err)
{
        struct copier c = { .b = cp->b, .hash = digester_new(), .buf = xmalloc(COPY_BUF), .err = err };
        int r = 0;
        char *out;

        for (size_t i = 0; i < cp->nsrc && r == 0; i++) {
                struct source *s = &cp->src[i];
                digester_update(c.hash, s->base, strlen(s->base) + 1);
                if (lseek(s->fd, 0, SEEK_SET) < 0 && S_ISREG(s->st.st_mode))
                        r = berth_error(err, errno, "rewind %s", s->rel);
                if (r == 0)
                        r = build_walk(&c, s->fd, &s->st, "", S_ISDIR(s->st.st_mode));
                lseek(s->fd, 0, SEEK_SET);
        }
        out = digester_final(c.hash);
        digester_free(c.hash);
        free(c.buf);
        if (r < 0) {
                free(out);
                return NULL;
        }
        return out;
}

static int parse_flags(struct copy *cp, berth_error_t **err)
{
        for (size_t i = 0; i < cp->in->nflags; i++) {
                const struct df_flag *f = &cp->in->flags[i];
                if (strcmp(f->name, "from") == 0 && !cp->add)
                        cp->from = f->value;
                else if (strcmp(f->name, "chown") == 0)
                        cp->chown_spec = f->value;
                else if (strcmp(f->name, "chmod") == 0)
                        cp->chmod_spec = f->value;
                else if (strcmp(f->name, "link") == 0 || strcmp(f->name, "keep-git-dir") == 0 ||
                         strcmp(f->name, "checksum") == 0)
                        continue; /* accepted, no effect here */
                else
                        return berth_fail(err, EINVAL, "%s:%u: unknown flag: %s", cp->b->df->file, cp->in->line,
                                          f->name);
        }
        return 0;
}

static int open_root(struct copy *cp, struct stage_state *s, berth_error_t **err)
{
        struct build *b = cp->b;

        if (cp->from == NULL) {
                cp->root = open(b->o->context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                return cp->root < 0 ? berth_error(err, errno, "open the build context") : 0;
        }
        _cleanup_free_ char *from = NULL;
        if (build_expand(b, s, cp->from, &from, err) < 0)
                return -1;
        const struct df_stage *st = dockerfile_stage(b->df, from);
        if (st && st->index >= s->st->index)
                return berth_fail(err, EINVAL, "%s:%u: COPY --from=%s: the stage is not built before this one",
                                  b->df->file, cp->in->line, from);
        if (build_resolve_image(b, from, true, &cp->from_image, NULL, err) < 0 ||
            build_container(b, cp->from_image, NULL, &cp->from_ctr, err) < 0)
                return -1;
        _cleanup_free_ char *rootfs = engine_container_rootfs(b->e, cp->from_ctr);
        cp->root = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return cp->root < 0 ? berth_error(err, errno, "open %s", rootfs) : 0;
}

static int owner(struct copy *cp, const char *ctr, struct copier *c, berth_error_t **err)
{
        struct build *b = cp->b;

        if (cp->chmod_spec) {
                char *end;
                long m = strtol(cp->chmod_spec, &end, 8);
                if (*cp->chmod_spec == '\0' || *end != '\0' || m < 0 || m > 07777)
                        return berth_fail(err, EINVAL, "%s:%u: invalid chmod parameter: %s", b->df->file,
                                          cp->in->line, cp->chmod_spec);
                c->chmod = true;
                c->mode = (mode_t)m;
        }
        if (cp->chown_spec && *cp->chown_spec) {
                _cleanup_free_ char *spec = NULL;
                _cleanup_free_ char *rootfs = engine_container_rootfs(b->e, ctr);
                struct docker_user u = { 0 };
                spec = xstrdup(cp->chown_spec);
                if (docker_user_resolve(rootfs, spec, NULL, &u, err) < 0)
                        return berth_error_wrap(err, "%s:%u: --chown=%s", b->df->file, cp->in->line, spec);
                c->chown = true;
                c->uid = u.uid;
                c->gid = u.gid;
                docker_user_clear(&u);
        }
        return 0;
}

int build_copy_step(struct build *b, struct stage_state *s, const struct df_instr *in, berth_error_t **err)
{
        struct copy cp = { .b = b, .in = in, .add = in->kind == DF_ADD, .root = -1 };
        char **words = NULL;
        _cleanup_free_ char *sum = NULL, *created_by = NULL, *keytext = NULL, *key = NULL, *ctr = NULL;
        _cleanup_json_decref_ json_t *sh = build_shell(s->config);
        const char *what = cp.add ? "ADD" : "COPY";
        size_t nw = in->nargs;
        bool hit;
        int r = -1;

        if (nw < 2)
                return berth_fail(err, EINVAL, "%s:%u: %s requires at least two arguments", b->df->file, in->line,
                                  what);
        if (parse_flags(&cp, err) < 0)
                return -1;
        words = xcalloc(nw + 1, sizeof(char *));
        for (size_t i = 0; i < nw; i++)
                if (build_expand(b, s, in->args[i], &words[i], err) < 0)
                        goto out;
        cp.dest_slash = words[nw - 1][0] && words[nw - 1][strlen(words[nw - 1]) - 1] == '/';
        cp.dest = abs_dest(s, words[nw - 1]);
        if (open_root(&cp, s, err) < 0 || find_sources(&cp, words, nw - 1, err) < 0)
                goto out;
        if (cp.from_image) {
                struct strbuf t = { 0 };
                strbuf_adds(&t, cp.from_image);
                for (size_t i = 0; i < nw - 1; i++) {
                        strbuf_adds(&t, " ");
                        strbuf_adds(&t, words[i]);
                }
                sum = digest_of(t.data, t.len);
                free(t.data);
        } else if ((sum = checksum(&cp, err)) == NULL) {
                goto out;
        }
        {
                const char *hex = str_has_prefix(sum, "sha256:") ? sum + 7 : sum;
                const char *kind = cp.nsrc > 1 ? "multi" : S_ISDIR(cp.src[0].st.st_mode) ? "dir" : "file";
                struct strbuf cb = { 0 };
                size_t i;
                json_t *v;
                json_array_foreach(sh, i, v) {
                        strbuf_adds(&cb, json_string_value(v) ?: "");
                        strbuf_adds(&cb, " ");
                }
                created_by = xasprintf("%s#(nop) %s %s:%s in %s%s ", cb.data ? cb.data : "", what, kind, hex,
                                       cp.dest, cp.dest_slash && strcmp(cp.dest, "/") != 0 ? "/" : "");
                free(cb.data);
        }
        keytext = xasprintf("%s\nchown=%s\nchmod=%s", created_by, cp.chown_spec ?: "", cp.chmod_spec ?: "");
        key = build_cache_key(keytext);
        if (build_cache_try(b, s, key, &hit, err) < 0)
                goto out;
        if (hit) {
                r = 0;
                goto out;
        }
        if (build_ensure_image(b, s, err) < 0 || build_container(b, s->image, NULL, &ctr, err) < 0)
                goto out;
        struct copier c = { .b = b, .buf = xmalloc(COPY_BUF), .err = err };
        r = owner(&cp, ctr, &c, err);
        if (r == 0)
                r = put_sources(&cp, &c, ctr, err);
        free(c.buf);
        if (r < 0) {
                build_container_remove(b, ctr);
                berth_error_wrap(err, "%s failed", what);
                goto out;
        }
        r = build_commit(b, s, ctr, created_by, key, err);
out:
        for (size_t i = 0; i < nw; i++)
                free(words[i]);
        free(words);
        copy_clear(&cp);
        return r;
}

int build_workdir_step(struct build *b, struct stage_state *s, const struct df_instr *in, berth_error_t **err)
{
        _cleanup_free_ char *w = NULL, *path = NULL, *text = NULL, *created_by = NULL, *key = NULL, *ctr = NULL;
        _cleanup_json_decref_ json_t *before = json_deep_copy(s->config);
        bool hit;

        if (in->nargs == 0)
                return berth_fail(err, EINVAL, "%s:%u: WORKDIR requires exactly one argument", b->df->file,
                                  in->line);
        if (build_expand(b, s, in->args[0], &w, err) < 0)
                return -1;
        path = abs_dest(s, w);
        text = xasprintf("WORKDIR %s", path);
        created_by = build_nop(before, text);
        key = build_cache_key(created_by);
        if (build_cache_try(b, s, key, &hit, err) < 0)
                return -1;
        if (hit)
                return 0;
        json_object_set_new(s->config, "WorkingDir", json_string(path));
        if (build_ensure_image(b, s, err) < 0 || build_container(b, s->image, NULL, &ctr, err) < 0)
                return -1;
        int kind = dest_kind(b, ctr, path);
        if (kind == 1) {
                build_container_remove(b, ctr);
                return build_commit(b, s, NULL, created_by, key, err);
        }
        /* made as dockerd makes it: root's, 0755, parents too */
        struct copier c = { .b = b, .err = err };
        _cleanup_close_ int fd = build_spool_open(b, err);
        int r = fd < 0 ? -1 : build_tar_open(&c, fd);
        if (r == 0)
                r = build_dir_entry(&c, path);
        r = build_tar_close(&c, r);
        if (r == 0)
                r = build_put_fd(b, ctr, "/", fd, err);
        if (r < 0) {
                build_container_remove(b, ctr);
                return -1;
        }
        return build_commit(b, s, ctr, created_by, key, err);
}
