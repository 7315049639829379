/* The build context of `berth build` (src/cli/cli-build-context.c): the
 * walk's order (each directory's entries in byte order, depth first), the
 * tar's headers as the docker CLI writes them (uid/gid 0, no owner names,
 * whole-second mtimes, symlinks kept, hard links as links), the filter
 * (skipped files, skipped trees, directories walked but not sent, the
 * state handed from a directory to its entries), the .dockerignore with the
 * Dockerfile and .dockerignore always sent, a Dockerfile from outside added
 * under a generated name and named in the .dockerignore, stdin as a tar
 * passed through or as a Dockerfile, and a large file streamed through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "cli/cli.h"

struct entry {
        char *name;
        unsigned type;
        mode_t perm;
        long long uid, gid;
        char *uname;
        time_t mtime;
        long mtime_ns;
        char *link, *hardlink;
        char *data;
        size_t size;
};

struct tarlist {
        struct entry e[64];
        size_t n;
        char *bytes;
        size_t len;
};

static void tarlist_free(struct tarlist *t)
{
        for (size_t i = 0; i < t->n; i++) {
                free(t->e[i].name);
                free(t->e[i].uname);
                free(t->e[i].link);
                free(t->e[i].hardlink);
                free(t->e[i].data);
        }
        free(t->bytes);
        memset(t, 0, sizeof(*t));
}

/* Read the whole stream in odd-sized pieces, then list the tar. */
static void read_all(FILE *f, struct tarlist *t)
{
        struct strbuf b = { 0 };
        char buf[7777];
        size_t n;

        memset(t, 0, sizeof(*t));
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                strbuf_add(&b, buf, n);
        assert_false(ferror(f));
        t->bytes = b.data;
        t->len = b.len;
}

static void list_tar(struct tarlist *t)
{
        struct archive *a = archive_read_new();
        struct archive_entry *ae;

        archive_read_support_format_tar(a);
        archive_read_support_filter_all(a);
        assert_int_equal(archive_read_open_memory(a, t->bytes, t->len), ARCHIVE_OK);
        while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
                struct entry *e = &t->e[t->n++];
                struct strbuf d = { 0 };
                char buf[65536];
                la_ssize_t r;
                assert_true(t->n < 64);
                e->name = xstrdup(archive_entry_pathname(ae));
                e->type = archive_entry_filetype(ae);
                e->perm = archive_entry_perm(ae);
                e->uid = archive_entry_uid(ae);
                e->gid = archive_entry_gid(ae);
                e->uname = archive_entry_uname(ae) ? xstrdup(archive_entry_uname(ae)) : NULL;
                e->mtime = archive_entry_mtime(ae);
                e->mtime_ns = archive_entry_mtime_nsec(ae);
                e->link = archive_entry_symlink(ae) ? xstrdup(archive_entry_symlink(ae)) : NULL;
                e->hardlink = archive_entry_hardlink(ae) ? xstrdup(archive_entry_hardlink(ae)) : NULL;
                while ((r = archive_read_data(a, buf, sizeof(buf))) > 0)
                        strbuf_add(&d, buf, (size_t)r);
                assert_true(r == 0);
                e->data = d.data;
                e->size = d.len;
        }
        archive_read_free(a);
}

static struct entry *find(struct tarlist *t, const char *name)
{
        for (size_t i = 0; i < t->n; i++)
                if (strcmp(t->e[i].name, name) == 0)
                        return &t->e[i];
        return NULL;
}

static char *names(struct tarlist *t)
{
        struct strbuf b = { 0 };
        for (size_t i = 0; i < t->n; i++) {
                strbuf_adds(&b, t->e[i].name);
                strbuf_adds(&b, " ");
        }
        if (b.data == NULL)
                strbuf_adds(&b, "");
        return b.data;
}

static char *mkctx(void)
{
        char tmpl[] = "/tmp/test-cli-build.XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        return xstrdup(tmpl);
}

static void put(const char *dir, const char *name, const char *data, mode_t mode)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        _cleanup_error_ berth_error_t *err = NULL;
        assert_int_equal(write_file(p, data, strlen(data), &err), 0);
        assert_int_equal(chmod(p, mode), 0);
}

static void mkd(const char *dir, const char *name)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        assert_int_equal(mkdir(p, 0755), 0);
}

static void rmctx(char *dir)
{
        int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
        remove_tree_at(fd, dir + strlen("/tmp/"));
        close(fd);
        free(dir);
}

static void build_list(const char *dir, const struct build_filter *f, const char *df, struct tarlist *t,
                       char **df_name)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct build_context *c = NULL;

        assert_int_equal(build_context_dir(dir, f, df, df ? strlen(df) : 0, &c, &err), 0);
        read_all(build_context_stream(c), t);
        assert_null(build_context_error(c));
        if (df_name)
                *df_name = build_context_dockerfile_name(c) ? xstrdup(build_context_dockerfile_name(c)) : NULL;
        build_context_free(c);
        list_tar(t);
}

/* ---- the walk and the headers ---- */

static void test_walk_order_and_headers(void **state)
{
        (void)state;
        char *dir = mkctx();
        _cleanup_free_ char *got = NULL, *p = NULL, *h1 = NULL, *h2 = NULL;
        struct timespec ts[2] = { { 1700000000, 123456789 }, { 1700000000, 123456789 } };
        struct tarlist t;

        put(dir, "Dockerfile", "FROM scratch\n", 0644);
        mkd(dir, "a");
        put(dir, "a/x", "x\n", 0600);
        put(dir, "a.txt", "hello\n", 0640);
        put(dir, "B", "upper\n", 0644);
        p = xasprintf("%s/lnk", dir);
        assert_int_equal(symlink("a.txt", p), 0);
        put(dir, "h1", "same\n", 0755);
        h1 = xasprintf("%s/h1", dir);
        h2 = xasprintf("%s/h2", dir);
        assert_int_equal(link(h1, h2), 0);
        assert_int_equal(chown(h1, 1234, 5678), 0);
        _cleanup_free_ char *ax = xasprintf("%s/a.txt", dir);
        assert_int_equal(utimensat(AT_FDCWD, ax, ts, 0), 0);

        build_list(dir, NULL, NULL, &t, NULL);
        got = names(&t);
        /* byte order, each directory's entries right after it */
        assert_string_equal(got, "B Dockerfile a/ a/x a.txt h1 h2 lnk ");
        struct entry *e = find(&t, "a.txt");
        assert_int_equal(e->type, AE_IFREG);
        assert_int_equal(e->perm, 0640);
        assert_int_equal(e->mtime, 1700000000);
        assert_int_equal(e->mtime_ns, 0);
        assert_int_equal(e->size, 6);
        assert_memory_equal(e->data, "hello\n", 6);
        e = find(&t, "a/");
        assert_int_equal(e->type, AE_IFDIR);
        assert_int_equal(e->perm, 0755);
        e = find(&t, "a/x");
        assert_int_equal(e->perm, 0600);
        e = find(&t, "h1");
        assert_int_equal(e->uid, 0);
        assert_int_equal(e->gid, 0);
        assert_true(e->uname == NULL || *e->uname == '\0');
        assert_int_equal(e->size, 5);
        e = find(&t, "h2");
        assert_non_null(e->hardlink);
        assert_string_equal(e->hardlink, "h1");
        e = find(&t, "lnk");
        assert_int_equal(e->type, AE_IFLNK);
        assert_string_equal(e->link, "a.txt");
        /* the end is two zero records, nothing more (as Go's tar) */
        assert_int_equal(t.len % 512, 0);
        for (size_t i = t.len - 1024; i < t.len; i++)
                assert_int_equal(t.bytes[i], 0);
        tarlist_free(&t);
        rmctx(dir);
}

/* ---- the filter ---- */

struct seen {
        char log[512];
};

static enum build_match test_filter(void *opaque, const char *path, bool is_dir, const void *parent, void *st)
{
        struct seen *s = opaque;
        const char *p = parent;

        /* the state a directory filled reaches its entries */
        if (strncmp(path, "walked/", 7) == 0) {
                assert_non_null(p);
                assert_string_equal(p, "walked");
        } else if (strchr(path, '/') == NULL) {
                assert_null(p);
        }
        if (is_dir) {
                assert_non_null(st);
                snprintf(st, 16, "%s", path);
        } else {
                assert_null(st);
        }
        strncat(s->log, path, sizeof(s->log) - strlen(s->log) - 2);
        strcat(s->log, " ");
        if (strcmp(path, "skip.txt") == 0 || strcmp(path, "skipped") == 0 || strcmp(path, "walked/no") == 0)
                return BUILD_SKIP;
        if (strcmp(path, "walked") == 0)
                return BUILD_SKIP_DESCEND;
        if (strcmp(path, "file-descend") == 0)
                return BUILD_SKIP_DESCEND;      /* not a directory: skipped */
        return BUILD_SEND;
}

static void test_filter_hook(void **state)
{
        (void)state;
        char *dir = mkctx();
        _cleanup_free_ char *got = NULL;
        struct seen s = { "" };
        struct build_filter f = { test_filter, &s, 16 };
        struct tarlist t;

        put(dir, "Dockerfile", "FROM scratch\n", 0644);
        put(dir, "skip.txt", "no\n", 0644);
        put(dir, "file-descend", "no\n", 0644);
        mkd(dir, "skipped");
        put(dir, "skipped/inner", "no\n", 0644);
        mkd(dir, "walked");
        put(dir, "walked/yes", "yes\n", 0644);
        put(dir, "walked/no", "no\n", 0644);
        build_list(dir, &f, NULL, &t, NULL);
        got = names(&t);
        assert_string_equal(got, "Dockerfile walked/yes ");
        /* a skipped directory is not entered */
        assert_string_equal(s.log, "Dockerfile file-descend skip.txt skipped walked walked/no walked/yes ");
        tarlist_free(&t);
        rmctx(dir);
}

/* ---- .dockerignore ---- */

static void list_with_ignore(const char *dir, const char *dockerfile, const char *extra, struct tarlist *t,
                             char **df_name)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct build_ignore *ig = NULL;
        struct build_filter f;

        assert_int_equal(build_ignore_load(dir, dockerfile, &ig, &f, &err), 0);
        build_list(dir, &f, extra, t, df_name);
        build_ignore_free(ig);
}

static void test_dockerignore(void **state)
{
        (void)state;
        char *dir = mkctx();
        _cleanup_free_ char *got = NULL;
        struct tarlist t;

        put(dir, ".dockerignore", "# comment\n*.txt\n!keep.txt\nsecret\ndocs\n!docs/readme.md\nDockerfile\n.dockerignore\n",
            0644);
        put(dir, "Dockerfile", "FROM scratch\n", 0644);
        put(dir, "a.txt", "a\n", 0644);
        put(dir, "keep.txt", "k\n", 0644);
        mkd(dir, "secret");
        put(dir, "secret/key", "k\n", 0644);
        mkd(dir, "docs");
        put(dir, "docs/readme.md", "r\n", 0644);
        put(dir, "docs/other.md", "o\n", 0644);
        mkd(dir, "src");
        put(dir, "src/main.c", "m\n", 0644);
        put(dir, "src/notes.txt", "n\n", 0644);
        list_with_ignore(dir, "Dockerfile", NULL, &t, NULL);
        got = names(&t);
        /* the Dockerfile and .dockerignore always go; docs is walked for
         * its exception but not sent itself */
        assert_string_equal(got, ".dockerignore Dockerfile docs/readme.md keep.txt src/ src/main.c src/notes.txt ");
        tarlist_free(&t);
        free(steal_pointer(&got));

        /* a Dockerfile in an excluded directory is still sent */
        mkd(dir, "build");
        put(dir, "build/Dockerfile", "FROM scratch\n", 0644);
        put(dir, "build/other", "o\n", 0644);
        put(dir, ".dockerignore", "build\n", 0644);
        list_with_ignore(dir, "build/Dockerfile", NULL, &t, NULL);
        got = names(&t);
        assert_string_equal(got, ".dockerignore Dockerfile a.txt build/Dockerfile docs/ docs/other.md docs/readme.md "
                                 "keep.txt secret/ secret/key src/ src/main.c src/notes.txt ");
        tarlist_free(&t);

        /* a bad pattern is an error */
        _cleanup_error_ berth_error_t *err = NULL;
        struct build_ignore *ig = NULL;
        struct build_filter f;
        put(dir, ".dockerignore", "[a\n", 0644);
        assert_true(build_ignore_load(dir, "Dockerfile", &ig, &f, &err) < 0);
        assert_non_null(strstr(err->msg, "dockerignore"));
        assert_null(ig);
        /* none at all: no filter */
        berth_error_free(&err);
        _cleanup_free_ char *p = xasprintf("%s/.dockerignore", dir);
        unlink(p);
        assert_int_equal(build_ignore_load(dir, "Dockerfile", &ig, &f, &err), 0);
        assert_null(ig);
        assert_null(f.fn);
        rmctx(dir);
}

/* ---- a Dockerfile from outside the context ---- */

static void test_outside_dockerfile(void **state)
{
        (void)state;
        char *dir = mkctx();
        _cleanup_free_ char *got = NULL, *name = NULL, *want = NULL;
        struct tarlist t;

        put(dir, "a", "a\n", 0644);
        build_list(dir, NULL, "FROM outside\n", &t, &name);
        assert_non_null(name);
        assert_int_equal(strlen(name), strlen(".dockerfile.") + 20);
        assert_true(str_has_prefix(name, ".dockerfile."));
        for (const char *p = name + strlen(".dockerfile."); *p; p++)
                assert_non_null(strchr("0123456789abcdef", *p));
        got = names(&t);
        want = xasprintf("a .dockerignore %s ", name);
        assert_string_equal(got, want);
        struct entry *e = find(&t, name);
        assert_int_equal(e->perm, 0600);
        assert_int_equal(e->size, strlen("FROM outside\n"));
        assert_memory_equal(e->data, "FROM outside\n", e->size);
        e = find(&t, ".dockerignore");
        _cleanup_free_ char *ign = xasprintf(".dockerignore\n%s\n", name);
        assert_int_equal(e->size, strlen(ign));
        assert_memory_equal(e->data, ign, e->size);
        tarlist_free(&t);
        free(steal_pointer(&got));
        free(steal_pointer(&name));
        free(steal_pointer(&want));

        /* an existing .dockerignore gets the name appended, in its place */
        put(dir, ".dockerignore", "*.log", 0644);
        put(dir, "x.log", "l\n", 0644);
        list_with_ignore(dir, NULL, "FROM outside\n", &t, &name);
        got = names(&t);
        want = xasprintf(".dockerignore a %s ", name);
        assert_string_equal(got, want);
        e = find(&t, ".dockerignore");
        free(ign);
        ign = xasprintf("*.log\n%s\n", name);
        assert_int_equal(e->size, strlen(ign));
        assert_memory_equal(e->data, ign, e->size);
        tarlist_free(&t);
        rmctx(dir);
}

/* ---- stdin ---- */

static void test_is_archive(void **state)
{
        (void)state;
        char *dir = mkctx();
        struct tarlist t;
        char zeros[512] = { 0 };

        put(dir, "f", "f\n", 0644);
        build_list(dir, NULL, NULL, &t, NULL);
        assert_true(build_is_archive(t.bytes, t.len));
        assert_true(build_is_archive("\x1f\x8b\x08\x00", 4));
        assert_true(build_is_archive("BZh91AY", 7));
        assert_true(build_is_archive("\xfd" "7zXZ\0", 6));
        assert_true(build_is_archive("\x28\xb5\x2f\xfd", 4));
        assert_false(build_is_archive("FROM busybox\nRUN true\n", 22));
        assert_false(build_is_archive(zeros, sizeof(zeros)));
        t.bytes[0] ^= 1;        /* a broken checksum */
        assert_false(build_is_archive(t.bytes, t.len));
        tarlist_free(&t);
        rmctx(dir);
}

static void test_stdin(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct build_context *raw = NULL, *c = NULL;
        struct tarlist t, in;
        bool is_archive;
        int p[2];

        /* a Dockerfile */
        assert_int_equal(pipe(p), 0);
        assert_int_equal(write(p[1], "FROM scratch\n", 13), 13);
        close(p[1]);
        assert_int_equal(build_context_stdin(p[0], &raw, &is_archive, &err), 0);
        assert_false(is_archive);
        assert_int_equal(build_context_stdin_dockerfile(raw, &c, &err), 0);
        build_context_free(raw);
        close(p[0]);
        read_all(build_context_stream(c), &t);
        build_context_free(c);
        list_tar(&t);
        assert_int_equal(t.n, 1);
        assert_string_equal(t.e[0].name, "Dockerfile");
        assert_int_equal(t.e[0].size, 13);
        tarlist_free(&t);

        /* a tar goes through byte for byte */
        char *dir = mkctx();
        put(dir, "Dockerfile", "FROM scratch\n", 0644);
        put(dir, "f", "f\n", 0644);
        build_list(dir, NULL, NULL, &in, NULL);
        assert_true(in.len < 60000);    /* fits in the pipe */
        assert_int_equal(pipe(p), 0);
        assert_int_equal(write(p[1], in.bytes, in.len), (ssize_t)in.len);
        close(p[1]);
        assert_int_equal(build_context_stdin(p[0], &c, &is_archive, &err), 0);
        assert_true(is_archive);
        read_all(build_context_stream(c), &t);
        build_context_free(c);
        close(p[0]);
        assert_int_equal(t.len, in.len);
        assert_memory_equal(t.bytes, in.bytes, in.len);
        tarlist_free(&t);
        tarlist_free(&in);
        rmctx(dir);
}

/* ---- streaming ---- */

struct count {
        long long sent;
        int lasts;
};

static void count_progress(void *opaque, long long sent, bool last)
{
        struct count *c = opaque;
        assert_true(sent >= c->sent);
        c->sent = sent;
        c->lasts += last;
}

static void test_large_file_streamed(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        char *dir = mkctx();
        _cleanup_free_ char *big = xasprintf("%s/big", dir);
        struct build_context *c = NULL;
        struct count cnt = { 0 };
        long long total = 0, size = 5 * 1024 * 1024 + 3;
        char buf[65536];
        size_t n;
        int fd;

        put(dir, "Dockerfile", "FROM scratch\n", 0644);
        fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_true(fd >= 0);
        for (long long off = 0; off < size; off += 4096) {
                char b[4096];
                memset(b, (int)('a' + off / 4096 % 26), sizeof(b));
                size_t w = (size_t)MIN(4096, size - off);
                assert_int_equal(write(fd, b, w), (ssize_t)w);
        }
        close(fd);
        assert_int_equal(build_context_dir(dir, NULL, NULL, 0, &c, &err), 0);
        build_context_set_progress(c, count_progress, &cnt);
        /* read as the client does, a block at a time, checking the data
         * of "big" as it passes (after the Dockerfile and its own header) */
        while ((n = fread(buf, 1, sizeof(buf), build_context_stream(c))) > 0) {
                for (size_t i = 0; i < n; i++) {
                        long long pos = total + (long long)i - 1536;
                        if (pos >= 0 && pos < size)
                                assert_int_equal(buf[i], (char)('a' + pos / 4096 % 26));
                }
                total += (long long)n;
        }
        build_context_free(c);
        /* big (header, data padded to 512), Dockerfile, two zero records */
        long long want = 512 + (size + 511) / 512 * 512 + 512 + 512 + 1024;
        assert_int_equal(total, want);
        assert_int_equal(cnt.sent, total);
        assert_int_equal(cnt.lasts, 1);
        rmctx(dir);
}

static void test_missing_dir(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct build_context *c = NULL;

        assert_true(build_context_dir("/nonexistent/ctx", NULL, NULL, 0, &c, &err) < 0);
        assert_null(c);
        assert_int_equal(err->status, ENOENT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_walk_order_and_headers),
                cmocka_unit_test(test_filter_hook),
                cmocka_unit_test(test_dockerignore),
                cmocka_unit_test(test_outside_dockerfile),
                cmocka_unit_test(test_is_archive),
                cmocka_unit_test(test_stdin),
                cmocka_unit_test(test_large_file_streamed),
                cmocka_unit_test(test_missing_dir),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
