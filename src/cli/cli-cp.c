/* berth cp: files between a container and the host through the archive
 * endpoints, with docker's copy rules (moby's pkg/archive CopyTo and
 * PrepareArchiveCopy): a destination that exists as a directory receives
 * the source inside it; otherwise the source takes the destination's name,
 * which is done by renaming the archive's first path element.
 *
 * The archive streams through a pipe: a child process writes the tar of
 * the host source while the parent uploads it (PUT, chunked), or extracts
 * the tar the parent downloads (GET).  Host-side tar work uses libarchive;
 * extraction refuses "..", absolute names and paths through symlinks, and
 * never changes ownership (docker's NoLchown). */
#include "cli/cli.h"
#include "util/base64.h"
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define GO_MODE_DIR (1u << 31)
#define GO_MODE_SYMLINK (1u << 27)

struct cp_opts {
        bool follow_link, archive, quiet;
};

/* Go's filepath.Clean, lexically. */
static char *path_clean(const char *p)
{
        size_t n = strlen(p);
        _cleanup_strv_ char **parts = xcalloc(n + 2, sizeof(char *));
        _cleanup_free_ char *copy = xstrdup(p);
        bool abs = p[0] == '/';
        size_t k = 0, len = 2;
        char *save = NULL, *out;

        for (char *s = strtok_r(copy, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
                if (strcmp(s, ".") == 0)
                        continue;
                if (strcmp(s, "..") == 0) {
                        if (k > 0 && strcmp(parts[k - 1], "..") != 0) {
                                free(parts[--k]);
                                parts[k] = NULL;
                                continue;
                        }
                        if (abs)
                                continue;
                }
                parts[k++] = xstrdup(s);
        }
        for (size_t i = 0; i < k; i++)
                len += strlen(parts[i]) + 1;
        out = xcalloc(1, len);
        if (abs)
                strcat(out, "/");
        for (size_t i = 0; i < k; i++) {
                if (i)
                        strcat(out, "/");
                strcat(out, parts[i]);
        }
        if (*out == '\0')
                strcpy(out, ".");
        return out;
}

static bool ends_with_sep(const char *p)
{
        size_t n = strlen(p);
        return n > 0 && p[n - 1] == '/';
}

static bool ends_with_dot(const char *p)
{
        size_t n = strlen(p);
        return strcmp(p, ".") == 0 || (n >= 2 && strcmp(p + n - 2, "/.") == 0);
}

/* The absolute path, keeping a trailing "/" or "/." the user wrote: they
 * mean "a directory" and "its contents" (PreserveTrailingDotOrSeparator). */
static char *local_abs(const char *p)
{
        char cwd[PATH_MAX];
        _cleanup_free_ char *joined = NULL, *clean = NULL;

        if (p[0] != '/' && getcwd(cwd, sizeof(cwd)))
                joined = xasprintf("%s/%s", cwd, p);
        clean = path_clean(joined ? joined : p);
        if (ends_with_dot(p) && !ends_with_dot(clean))
                return xasprintf("%s/.", strcmp(clean, "/") == 0 ? "" : clean);
        if (ends_with_sep(p) && !ends_with_sep(clean))
                return xasprintf("%s/", clean);
        return steal_pointer(&clean);
}

/* SplitPathDirEntry: "a/b/" -> "a", "b"; "a/." -> "a", ".". */
static void split_dir_entry(const char *p, char **dir, char **base)
{
        _cleanup_free_ char *clean = path_clean(p);
        char *slash;

        if (ends_with_dot(p) && strcmp(clean, ".") != 0) {
                *dir = xstrdup(clean);
                *base = xstrdup(".");
                return;
        }
        slash = strrchr(clean, '/');
        if (slash == NULL) {
                *dir = xstrdup(".");
                *base = xstrdup(clean);
        } else {
                *dir = slash == clean ? xstrdup("/") : xasprintf("%.*s", (int)(slash - clean), clean);
                *base = xstrdup(slash[1] ? slash + 1 : "/");
        }
}

/* old/rest -> new/rest for the archive's first element, as docker's
 * RebaseArchiveEntries; NULL when the name does not start with old. */
static char *rebase_name(const char *name, const char *old, const char *new)
{
        size_t n = strlen(old);

        if (strncmp(name, old, n) != 0 || (name[n] != '\0' && name[n] != '/'))
                return NULL;
        return xasprintf("%s%s", new, name + n);
}

/* ---- the container side ---- */

struct path_stat {
        bool exists, is_dir, is_link;
        char *link_target;
};

static void path_stat_free(struct path_stat *s)
{
        free(s->link_target);
        memset(s, 0, sizeof(*s));
}
#define _cleanup_path_stat_ __attribute__((cleanup(path_stat_free)))

/* X-Docker-Container-Path-Stat: base64 JSON of name, size, mode (Go's
 * FileMode bits), mtime, linkTarget. */
static void decode_path_stat(const char *header, struct path_stat *s)
{
        _cleanup_free_ char *text = header ? base64_decode(header, NULL) : NULL;
        _cleanup_json_ json_t *j = text ? json_loads(text, 0, NULL) : NULL;
        unsigned long long mode = (unsigned long long)json_integer_value(json_object_get(j, "mode"));

        memset(s, 0, sizeof(*s));
        if (j == NULL)
                return;
        s->exists = true;
        s->is_dir = (mode & GO_MODE_DIR) != 0;
        s->is_link = (mode & GO_MODE_SYMLINK) != 0;
        s->link_target = xstrdup(json_string_value(json_object_get(j, "linkTarget")) ?: "");
}

/* HEAD .../archive?path=: whether and what the path is in the container. */
static int container_stat(struct cli *c, const char *container, const char *path, struct path_stat *s,
                          berth_error_t **err)
{
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *name = cli_escape_path(container), *q = cli_escape_query(path);
        _cleanup_free_ char *url = xasprintf("/containers/%s/archive?path=%s", name, q);
        struct cli_req r = { .method = "HEAD", .path = url, .capture = "X-Docker-Container-Path-Stat" };
        int ret;

        memset(s, 0, sizeof(*s));
        ret = cli_request(c, &r, &resp, err);
        if (ret == 0 && resp.status < 400)
                decode_path_stat(r.captured, s);
        else if (ret == 0)
                ret = 1;        /* not there (or not reachable): the PUT will tell */
        free(r.captured);
        return ret < 0 ? -1 : 0;
}

/* ---- writing the host source's tar (the child of a copy to a container) ---- */

static struct archive *tar_out;
static const char *tar_root;            /* the directory names are relative to */
static const char *tar_from, *tar_to;   /* the first element and its new name */
static int tar_error;

static int add_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        struct archive_entry *e;
        _cleanup_free_ char *rel = NULL, *name = NULL;
        char target[PATH_MAX];
        size_t rlen = strlen(tar_root);

        (void)flag;
        (void)ftw;
        if (S_ISSOCK(st->st_mode))
                return 0;       /* docker leaves sockets out */
        rel = strcmp(tar_root, "/") == 0 ? xstrdup(path + 1) : xstrdup(path + rlen + 1);
        /* a "." source: "./" for itself, "./x" for what it holds */
        if (strcmp(tar_from, ".") == 0 && strncmp(rel, "./", 2) != 0 && strcmp(rel, ".") != 0) {
                char *r = xasprintf("./%s", rel);
                free(rel);
                rel = r;
        }
        name = rebase_name(rel, tar_from, tar_to);
        e = archive_entry_new();
        archive_entry_copy_stat(e, st);
        archive_entry_set_pathname(e, name ? name : rel);
        if (S_ISLNK(st->st_mode)) {
                ssize_t n = readlink(path, target, sizeof(target) - 1);
                target[n > 0 ? n : 0] = '\0';
                archive_entry_set_symlink(e, target);
        }
        if (archive_write_header(tar_out, e) != ARCHIVE_OK) {
                fprintf(stderr, "%s\n", archive_error_string(tar_out));
                tar_error = 1;
                archive_entry_free(e);
                return 1;
        }
        if (S_ISREG(st->st_mode) && st->st_size > 0) {
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                char buf[65536];
                ssize_t n;
                if (fd < 0) {
                        fprintf(stderr, "open %s: %s\n", path, strerror(errno));
                        tar_error = 1;
                        archive_entry_free(e);
                        return 1;
                }
                while ((n = read(fd, buf, sizeof(buf))) > 0)
                        if (archive_write_data(tar_out, buf, (size_t)n) < 0)
                                break;
        }
        archive_entry_free(e);
        return 0;
}

/* In the child: the tar of dir/base (names starting with to) on fd. */
static int write_tar(int fd, const char *dir, const char *base, const char *to)
{
        _cleanup_free_ char *top = strcmp(dir, "/") == 0 ? xasprintf("/%s", base) : xasprintf("%s/%s", dir, base);

        tar_out = archive_write_new();
        archive_write_set_format_pax_restricted(tar_out);
        archive_write_set_bytes_per_block(tar_out, 512);
        if (archive_write_open_fd(tar_out, fd) != ARCHIVE_OK) {
                fprintf(stderr, "%s\n", archive_error_string(tar_out));
                return 1;
        }
        tar_root = dir;
        tar_from = base;
        tar_to = to;
        if (nftw(top, add_entry, 64, FTW_PHYS) != 0 && !tar_error) {
                fprintf(stderr, "lstat %s: %s\n", top, strerror(errno));
                tar_error = 1;
        }
        archive_write_close(tar_out);
        archive_write_free(tar_out);
        return tar_error;
}

/* ---- extracting the container's tar (the child of a copy from one) ---- */

/* NoOverwriteDirNonDir: a directory and a non-directory never replace
 * each other. */
static int check_overwrite(const char *name, bool entry_is_dir)
{
        struct stat st;

        if (lstat(name, &st) < 0)
                return 0;
        if (S_ISDIR(st.st_mode) && !entry_is_dir) {
                fprintf(stderr, "cannot overwrite directory \"%s\" with non-directory\n", name);
                return -1;
        }
        if (!S_ISDIR(st.st_mode) && entry_is_dir) {
                fprintf(stderr, "cannot overwrite non-directory \"%s\" with directory\n", name);
                return -1;
        }
        return 0;
}

static int extract_tar(int fd, const char *dir, const char *from, const char *to)
{
        struct archive *in = archive_read_new(), *out = archive_write_disk_new();
        struct archive_entry *e;
        int r, ret = 0;

        archive_read_support_format_tar(in);
        archive_read_support_format_gnutar(in);
        archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                    ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                    ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
        if (chdir(dir) < 0) {
                fprintf(stderr, "chdir %s: %s\n", dir, strerror(errno));
                return 1;
        }
        if (archive_read_open_fd(in, fd, 65536) != ARCHIVE_OK) {
                fprintf(stderr, "%s\n", archive_error_string(in));
                return 1;
        }
        while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
                _cleanup_free_ char *name = from ? rebase_name(archive_entry_pathname(e), from, to) : NULL;
                const char *hard = archive_entry_hardlink(e);
                _cleanup_free_ char *hname = from && hard ? rebase_name(hard, from, to) : NULL;
                if (name)
                        archive_entry_set_pathname(e, name);
                if (hname)
                        archive_entry_set_hardlink(e, hname);
                if (check_overwrite(archive_entry_pathname(e), archive_entry_filetype(e) == AE_IFDIR) < 0) {
                        ret = 1;
                        break;
                }
                if (archive_write_header(out, e) != ARCHIVE_OK) {
                        fprintf(stderr, "%s\n", archive_error_string(out));
                        ret = 1;
                        break;
                }
                const void *buf;
                size_t len;
                la_int64_t off;
                while ((r = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK)
                        if (archive_write_data_block(out, buf, len, off) != ARCHIVE_OK)
                                break;
                if (archive_write_finish_entry(out) != ARCHIVE_OK) {
                        fprintf(stderr, "%s\n", archive_error_string(out));
                        ret = 1;
                        break;
                }
        }
        if (ret == 0 && r != ARCHIVE_EOF) {
                fprintf(stderr, "%s\n", archive_error_string(in));
                ret = 1;
        }
        archive_write_close(out);
        archive_write_free(out);
        archive_read_free(in);
        return ret;
}

/* ---- the child process ---- */

struct child {
        pid_t pid;
        int fd;         /* the parent's end of the pipe */
};

enum child_kind { CHILD_WRITE_TAR, CHILD_EXTRACT };

static int child_start(struct child *ch, enum child_kind kind, const char *dir, const char *base, const char *to,
                       berth_error_t **err)
{
        int p[2];

        if (pipe2(p, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        fflush(NULL);
        ch->pid = fork();
        if (ch->pid < 0)
                return berth_error(err, errno, "fork");
        if (ch->pid == 0) {
                signal(SIGPIPE, SIG_DFL);
                if (kind == CHILD_WRITE_TAR) {
                        close(p[0]);
                        _exit(write_tar(p[1], dir, base, to));
                }
                close(p[1]);
                _exit(extract_tar(p[0], dir, base, to));
        }
        ch->fd = kind == CHILD_WRITE_TAR ? p[0] : p[1];
        close(kind == CHILD_WRITE_TAR ? p[1] : p[0]);
        return 0;
}

/* The child's verdict; it printed its own error. */
static int child_finish(struct child *ch)
{
        int status;

        if (ch->fd >= 0)
                close(ch->fd);
        ch->fd = -1;
        while (waitpid(ch->pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* ---- host to container ---- */

static void print_copied(long long bytes, const char *where)
{
        _cleanup_free_ char *h = human_size((double)bytes);
        fprintf(stderr, "Successfully copied %s to %s\n", h, where);
}

/* The bytes an upload read, for "Successfully copied". */
struct counting {
        FILE *f;
        long long n;
};

static ssize_t counting_read(void *cookie, char *buf, size_t size)
{
        struct counting *cnt = cookie;
        size_t n = fread(buf, 1, size, cnt->f);

        cnt->n += (long long)n;
        return ferror(cnt->f) ? -1 : (ssize_t)n;
}

static FILE *counted(struct counting *cnt, FILE *f)
{
        cnt->f = f;
        cnt->n = 0;
        return fopencookie(cnt, "r", (cookie_io_functions_t){ .read = counting_read });
}

static int upload(struct cli *c, const char *container, const char *dir, FILE *body, bool copy_uid_gid,
                  berth_error_t **err)
{
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *name = cli_escape_path(container), *q = cli_escape_query(dir);
        _cleanup_free_ char *url = xasprintf("/containers/%s/archive?%snoOverwriteDirNonDir=true&path=%s", name,
                                             copy_uid_gid ? "copyUIDGID=true&" : "", q);
        /* docker's client marks the body text/plain */
        struct cli_req r = { .method = "PUT", .path = url, .upload = body, .upload_size = -1,
                             .content_type = "text/plain" };

        return cli_request_ok(c, &r, &resp, err);
}

/* ResolveHostSourcePath: symlinks resolved in the directory part (in the
 * whole path with -L); *rebase names what the user called a followed link. */
static char *resolve_source(const char *src, bool follow, char **rebase, berth_error_t **err)
{
        _cleanup_free_ char *dir = NULL, *base = NULL;
        char real[PATH_MAX];

        *rebase = NULL;
        if (follow) {
                if (realpath(src, real) == NULL) {
                        berth_error(err, 0, "lstat %s: %s", src, go_strerror(errno));
                        return NULL;
                }
                _cleanup_free_ char *d1 = NULL, *b1 = NULL, *d2 = NULL, *b2 = NULL;
                split_dir_entry(src, &d1, &b1);
                split_dir_entry(real, &d2, &b2);
                if (strcmp(b1, b2) != 0)
                        *rebase = xstrdup(b1);
                return xstrdup(real);
        }
        split_dir_entry(src, &dir, &base);
        if (realpath(dir, real) == NULL) {
                berth_error(err, 0, "lstat %s: %s", src, go_strerror(errno));
                return NULL;
        }
        return strcmp(real, "/") == 0 ? xasprintf("/%s", base) : xasprintf("%s/%s", real, base);
}

/* The destination's stat, through a symlink to its target as docker
 * does; *path is what to copy to. */
static int stat_destination(struct cli *c, const char *container, const char *dst, struct path_stat *ds,
                            char **path, berth_error_t **err)
{
        _cleanup_free_ char *pdir = NULL, *pbase = NULL;

        *path = xstrdup(dst);
        if (container_stat(c, container, dst, ds, err) < 0)
                return -1;
        if (!ds->exists || !ds->is_link)
                return 0;
        split_dir_entry(dst, &pdir, &pbase);
        free(*path);
        *path = ds->link_target[0] == '/' ? xstrdup(ds->link_target) : xasprintf("%s/%s", pdir, ds->link_target);
        path_stat_free(ds);
        return container_stat(c, container, *path, ds, err);
}

/* PrepareArchiveCopy for an upload: the directory to extract in and the
 * name the source's top entry takes there. */
static int plan_upload(const struct path_stat *ds, const char *dst, const struct stat *st, const char *sbase,
                       const char *rebase, char **to_dir, char **to_base, berth_error_t **err)
{
        if (ds->exists && ds->is_dir) {
                *to_dir = xstrdup(dst);
                *to_base = xstrdup(rebase ? rebase : sbase);
                return 0;
        }
        if (ds->exists && S_ISDIR(st->st_mode))
                return berth_error(err, 0, "cannot copy directory");
        if (!ds->exists && !S_ISDIR(st->st_mode) && ends_with_sep(dst))
                return berth_error(err, 0, "no such directory");
        split_dir_entry(dst, to_dir, to_base);
        return 0;
}

/* The tar of the host source, written by a child, streamed up. */
static int upload_tree(struct cli *c, const struct cp_opts *o, const char *container, const char *sdir,
                       const char *sbase, const char *to_dir, const char *to_base, struct counting *cnt,
                       berth_error_t **err)
{
        struct child ch = { .fd = -1 };
        FILE *pipe_in, *body;
        int ret;

        if (child_start(&ch, CHILD_WRITE_TAR, sdir, sbase, to_base, err) < 0)
                return -1;
        pipe_in = fdopen(ch.fd, "rb");
        body = pipe_in ? counted(cnt, pipe_in) : NULL;
        if (body == NULL) {
                ret = berth_error(err, errno, "fdopen");
        } else {
                ch.fd = -1;     /* pipe_in owns it now */
                ret = upload(c, container, to_dir, body, o->archive, err);
        }
        if (body)
                fclose(body);
        if (pipe_in)
                fclose(pipe_in);
        if (child_finish(&ch) < 0 && ret == 0)
                ret = -2;       /* the child said why */
        return ret;
}

static int copy_to_container(struct cli *c, const struct cp_opts *o, const char *src, const char *container,
                             const char *dst, berth_error_t **err)
{
        _cleanup_free_ char *abs = NULL, *resolved = NULL, *rebase = NULL, *sdir = NULL, *sbase = NULL;
        _cleanup_free_ char *to_dir = NULL, *to_base = NULL, *dst_path = NULL;
        _cleanup_path_stat_ struct path_stat ds = { 0 };
        struct counting cnt = { 0 };
        struct stat st;
        int ret;

        if (stat_destination(c, container, dst, &ds, &dst_path, err) < 0)
                return -1;
        if (strcmp(src, "-") == 0) {
                /* a tar on stdin goes as it is, into a directory */
                FILE *body;
                if (!ds.is_dir)
                        return berth_error(err, 0, "destination \"%s:%s\" must be a directory", container, dst);
                body = counted(&cnt, stdin);
                ret = upload(c, container, dst_path, body, o->archive, err);
                fclose(body);
        } else {
                abs = local_abs(src);
                resolved = resolve_source(abs, o->follow_link, &rebase, err);
                if (resolved == NULL)
                        return -1;
                if (lstat(resolved, &st) < 0)
                        return berth_error(err, 0, "lstat %s: %s", resolved, go_strerror(errno));
                split_dir_entry(resolved, &sdir, &sbase);
                if (plan_upload(&ds, dst_path, &st, sbase, rebase, &to_dir, &to_base, err) < 0)
                        return -1;
                ret = upload_tree(c, o, container, sdir, sbase, to_dir, to_base, &cnt, err);
        }
        if (ret == 0 && !o->quiet && isatty(2)) {
                _cleanup_free_ char *w = xasprintf("%s:%s", container, dst_path);
                print_copied(cnt.n, w);
        }
        return ret;
}

/* ---- container to host ---- */

struct download {
        struct cli_req *req;
        const char *dst;        /* the absolute local destination */
        const char *src;        /* the container path asked for */
        const char *rebase;     /* -L: the link's own name */
        struct child ch;
        bool started;
        long long bytes;
};

/* CopyInfoDestinationPath and PrepareArchiveCopy, once the source's stat
 * (a response header) is known: start the extracting child. */
static int download_plan(struct download *d, berth_error_t **err)
{
        _cleanup_path_stat_ struct path_stat ss = { 0 };
        _cleanup_free_ char *ddir = NULL, *dbase = NULL, *sdir = NULL, *sbase = NULL;
        struct stat st;
        bool exists, is_dir;

        decode_path_stat(d->req->captured, &ss);
        split_dir_entry(d->dst, &ddir, &dbase);
        split_dir_entry(d->src, &sdir, &sbase);
        exists = stat(d->dst, &st) == 0;
        is_dir = exists && S_ISDIR(st.st_mode);
        if (!exists && (stat(ddir, &st) < 0 || !S_ISDIR(st.st_mode)))
                return berth_error(err, 0, "not a directory");
        /* into an existing directory as it is (under the link's name
         * with -L); else renamed to the destination's name */
        if (exists && is_dir)
                return child_start(&d->ch, CHILD_EXTRACT, d->dst, d->rebase ? sbase : NULL, d->rebase, err);
        if (exists && ss.is_dir)
                return berth_error(err, 0, "cannot copy directory");
        if (!exists && !ss.is_dir && ends_with_sep(d->dst))
                return berth_error(err, 0, "no such directory");
        return child_start(&d->ch, CHILD_EXTRACT, ddir, sbase, dbase, err);
}

static int download_sink(void *opaque, const char *data, size_t len, berth_error_t **err)
{
        struct download *d = opaque;

        if (!d->started) {
                d->started = true;
                if (download_plan(d, err) < 0)
                        return -1;
        }
        d->bytes += (long long)len;
        if (write_all(d->ch.fd, data, len) < 0)
                return berth_error(err, 0, "extraction stopped");
        return 0;
}

static int stdout_sink(void *opaque, const char *data, size_t len, berth_error_t **err)
{
        (void)opaque;
        if (write_all(1, data, len) < 0)
                return berth_error(err, errno, "write");
        return 0;
}

/* ValidateOutputPath: the parent must exist. */
static int check_output_path(const char *dst, berth_error_t **err)
{
        _cleanup_free_ char *clean = path_clean(dst), *dir = NULL, *base = NULL;
        struct stat st;

        split_dir_entry(clean, &dir, &base);
        if (strcmp(dir, ".") != 0 && stat(dir, &st) < 0 && errno == ENOENT)
                return berth_error(err, 0, "invalid output path: directory \"%s\" does not exist", dir);
        if (stat(dst, &st) == 0 && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                return berth_error(err, 0, "invalid output path: \"%s\" must be a directory or a regular file", dst);
        return 0;
}

static int copy_from_container(struct cli *c, const struct cp_opts *o, const char *container, const char *src,
                               const char *dst, berth_error_t **err)
{
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *abs = NULL, *name = cli_escape_path(container), *q = NULL, *url = NULL;
        _cleanup_free_ char *src_path = xstrdup(src), *rebase = NULL;
        struct download d = { .ch = { .fd = -1 } };
        int ret;

        if (strcmp(dst, "-") != 0) {
                abs = local_abs(dst);
                if (check_output_path(abs, err) < 0)
                        return -1;
        }
        if (o->follow_link) {
                /* GetRebaseName: copy the link's target under the link's name */
                _cleanup_path_stat_ struct path_stat ss = { 0 };
                _cleanup_error_ berth_error_t *serr = NULL;
                /* a failed stat is the GET's to report */
                if (container_stat(c, container, src, &ss, &serr) == 0 && ss.is_link) {
                        _cleanup_free_ char *pdir = NULL, *pbase = NULL, *tdir = NULL, *tbase = NULL;
                        split_dir_entry(src, &pdir, &pbase);
                        free(src_path);
                        src_path = ss.link_target[0] == '/' ? xstrdup(ss.link_target)
                                                             : xasprintf("%s/%s", pdir, ss.link_target);
                        split_dir_entry(src_path, &tdir, &tbase);
                        if (strcmp(pbase, tbase) != 0)
                                rebase = xstrdup(pbase);
                }
        }
        q = cli_escape_query(src_path);
        url = xasprintf("/containers/%s/archive?path=%s", name, q);
        struct cli_req r = { .method = "GET", .path = url, .capture = "X-Docker-Container-Path-Stat" };
        if (abs == NULL) {
                r.sink = stdout_sink;
                ret = cli_request_ok(c, &r, &resp, err);
                free(r.captured);
                return ret;
        }
        d.req = &r;
        d.dst = abs;
        d.src = src_path;
        d.rebase = rebase;
        r.sink = download_sink;
        r.opaque = &d;
        ret = cli_request_ok(c, &r, &resp, err);
        if (ret == 0 && !d.started) {
                /* an empty body still means "copy nothing", but plan it */
                d.started = true;
                ret = download_plan(&d, err);
        }
        if (d.ch.pid > 0 && child_finish(&d.ch) < 0 && ret == 0)
                ret = -2;       /* the child said why */
        free(r.captured);
        if (ret == 0 && !o->quiet && isatty(2))
                print_copied(d.bytes, abs);
        return ret;
}

/* "container:path", or a local path (absolute, or starting with "."). */
static void split_arg(const char *arg, char **container, const char **path)
{
        const char *colon = strchr(arg, ':');

        *container = NULL;
        *path = arg;
        if (arg[0] == '/' || colon == NULL || arg[0] == '.')
                return;
        *container = xasprintf("%.*s", (int)(colon - arg), arg);
        *path = colon + 1;
}

int cmd_cp(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "archive", no_argument, NULL, 'a' },
                { "follow-link", no_argument, NULL, 'L' },
                { "quiet", no_argument, NULL, 'q' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *src_ct = NULL, *dst_ct = NULL;
        const char *src, *dst;
        struct cp_opts o = { 0 };
        int opt, ret;

        while ((opt = cli_getopt(argc, argv, ":aLq", longopts, "cp")) != -1) {
                switch (opt) {
                case 'a': o.archive = true; break;
                case 'L': o.follow_link = true; break;
                case 'q': o.quiet = true; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind != 2)
                return cli_usage_error("cp", "requires 2 arguments");
        split_arg(argv[optind], &src_ct, &src);
        split_arg(argv[optind + 1], &dst_ct, &dst);
        if (src_ct && dst_ct) {
                fprintf(stderr, "copying between containers is not supported\n");
                return 1;
        }
        if (!src_ct && !dst_ct) {
                fprintf(stderr, "must specify at least one container source\n");
                return 1;
        }
        if (*src == '\0' || *dst == '\0') {
                fprintf(stderr, "%s can not be empty\n", *src == '\0' ? "source" : "destination");
                return 1;
        }
        /* a failed upload or extraction must not kill us with SIGPIPE */
        signal(SIGPIPE, SIG_IGN);
        ret = src_ct ? copy_from_container(c, &o, src_ct, src, dst, &err)
                     : copy_to_container(c, &o, src, dst_ct, dst, &err);
        if (ret == -1)
                cli_print_raw(err);
        return ret < 0 ? 1 : 0;
}
