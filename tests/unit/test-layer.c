/* Layer extraction (src/image/layer*.c), as root: tars are built here with
 * libarchive's writer (plain, gzip, zstd), extracted into a temp dir, and
 * the tree is checked exactly.  Every test has a sentinel directory next to
 * the destination; hostile layers must leave it (and the host) unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/capability.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "image/layer.h"
#include "util/util.h"

enum { PLAIN, GZIP, ZSTD };

struct xa {
        const char *name;
        const void *value;
        size_t len;
};

struct ent {
        const char *name;
        mode_t mode;      /* S_IF* | permissions */
        const char *data; /* file content, or symlink target */
        size_t size;      /* zero-filled content of this size when data is NULL */
        const char *link; /* hardlink target */
        int uid, gid;
        time_t mtime;
        long mtime_ns;
        time_t atime;
        unsigned rmaj, rmin;
        struct xa x[3];
};
#define E(...) (&(const struct ent){ __VA_ARGS__ })
#define TAR(...) ((const struct ent *const[]){ __VA_ARGS__, NULL })

struct fx {
        char base[64];
        char *dest, *tars, *sentinel;
};

/* ---- helpers ---- */

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb, (void)flag, (void)ftw;
        return remove(p);
}

static void rm_rf(const char *p)
{
        nftw(p, rm_cb, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void write_buf(const char *path, const char *s, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, s, len), (ssize_t)len);
        close(fd);
}

static void write_str(const char *path, const char *s)
{
        write_buf(path, s, strlen(s));
}

static int setup(void **state)
{
        struct fx *f = xcalloc(1, sizeof(*f));

        strcpy(f->base, "/tmp/berth-layer-XXXXXX");
        if (mkdtemp(f->base) == NULL)
                return -1;
        f->dest = xasprintf("%s/dest", f->base);
        f->tars = xasprintf("%s/tars", f->base);
        f->sentinel = xasprintf("%s/sentinel", f->base);
        if (mkdir(f->dest, 0755) < 0 || mkdir(f->tars, 0755) < 0 || mkdir(f->sentinel, 0755) < 0)
                return -1;
        _cleanup_free_ char *secret = xasprintf("%s/secret", f->sentinel);
        write_str(secret, "secret");
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;

        rm_rf(f->base);
        free(f->dest);
        free(f->tars);
        free(f->sentinel);
        free(f);
        return 0;
}

static void put(struct archive *a, const struct ent *e)
{
        struct archive_entry *ae = archive_entry_new();
        size_t size = 0;

        archive_entry_set_pathname(ae, e->name);
        if (e->link != NULL) {
                archive_entry_set_hardlink(ae, e->link);
                archive_entry_set_mode(ae, S_IFREG | 0644);
        } else {
                archive_entry_set_mode(ae, e->mode);
        }
        archive_entry_set_uid(ae, e->uid);
        archive_entry_set_gid(ae, e->gid);
        archive_entry_set_mtime(ae, e->mtime ? e->mtime : 1600000000, e->mtime_ns);
        if (e->atime)
                archive_entry_set_atime(ae, e->atime, 0);
        if (e->link == NULL && S_ISLNK(e->mode))
                archive_entry_set_symlink(ae, e->data);
        if (e->link == NULL && S_ISREG(e->mode))
                size = e->data != NULL ? strlen(e->data) : e->size;
        archive_entry_set_size(ae, (la_int64_t)size);
        if (S_ISCHR(e->mode) || S_ISBLK(e->mode)) {
                archive_entry_set_rdevmajor(ae, e->rmaj);
                archive_entry_set_rdevminor(ae, e->rmin);
        }
        for (size_t i = 0; i < ARRAY_SIZE(e->x) && e->x[i].name != NULL; i++)
                archive_entry_xattr_add_entry(ae, e->x[i].name, e->x[i].value, e->x[i].len);
        /* ARCHIVE_WARN: a name not in the locale's charset, written as is */
        if (archive_write_header(a, ae) < ARCHIVE_WARN)
                fail_msg("write %s: %s", e->name, archive_error_string(a));
        if (size > 0 && e->data != NULL) {
                assert_int_equal(archive_write_data(a, e->data, size), (la_ssize_t)size);
        } else if (size > 0) {
                static const char zeros[65536];
                for (size_t done = 0; done < size;) {
                        size_t n = size - done < sizeof(zeros) ? size - done : sizeof(zeros);
                        assert_int_equal(archive_write_data(a, zeros, n), (la_ssize_t)n);
                        done += n;
                }
        }
        archive_entry_free(ae);
}

/* Write tars/<name> with the entries. */
static char *build(struct fx *f, const char *name, int filter, const struct ent *const *ents)
{
        char *path = xasprintf("%s/%s", f->tars, name);
        struct archive *a = archive_write_new();

        assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
        if (filter == GZIP)
                assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        if (filter == ZSTD)
                assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
        for (; *ents != NULL; ents++)
                put(a, *ents);
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        return path;
}

static int apply_file(const char *tar, const char *dest, const struct layer_apply_opts *o, struct layer_stats *st,
                      berth_error_t **err)
{
        int fd = open(tar, O_RDONLY | O_CLOEXEC), r;

        assert_true(fd >= 0);
        r = layer_apply(fd, dest, o, st, err);
        close(fd);
        return r;
}

/* Build and apply; expect success. */
static void apply_ok(struct fx *f, const char *dest, const struct layer_apply_opts *o, struct layer_stats *st,
                     const struct ent *const *ents)
{
        _cleanup_free_ char *tar = build(f, "layer.tar", PLAIN, ents);
        _cleanup_error_ berth_error_t *err = NULL;
        int r = apply_file(tar, dest, o, st, &err);

        if (r < 0)
                fail_msg("layer_apply: %s", err->msg);
}

/* Build and apply; expect this error message. */
static void apply_fails(struct fx *f, const struct layer_apply_opts *o, const char *msg,
                        const struct ent *const *ents)
{
        _cleanup_free_ char *tar = build(f, "layer.tar", PLAIN, ents);
        _cleanup_error_ berth_error_t *err = NULL;

        assert_true(apply_file(tar, f->dest, o, NULL, &err) < 0);
        assert_non_null(err);
        assert_string_equal(err->msg, msg);
        assert_null(strchr(err->msg, '\n'));
}

static char **lines;
static size_t nlines;
static size_t root_len;

static int dump_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        char extra[256] = "";
        char type = '?';

        (void)flag;
        if (ftw->level == 0)
                return 0;
        switch (sb->st_mode & S_IFMT) {
        case S_IFREG: {
                char buf[64] = "";
                int fd = open(p, O_RDONLY | O_NOATIME | O_CLOEXEC);
                ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

                if (fd >= 0)
                        close(fd);
                type = 'f';
                if (sb->st_size <= 32 && n >= 0)
                        snprintf(extra, sizeof(extra), " \"%s\"", buf);
                else
                        snprintf(extra, sizeof(extra), " size=%lld", (long long)sb->st_size);
                break;
        }
        case S_IFDIR: type = 'd'; break;
        case S_IFLNK: {
                char t[200];
                ssize_t n = readlink(p, t, sizeof(t) - 1);
                t[n < 0 ? 0 : n] = '\0';
                type = 'l';
                snprintf(extra, sizeof(extra), " -> %s", t);
                break;
        }
        case S_IFCHR:
        case S_IFBLK:
                type = S_ISCHR(sb->st_mode) ? 'c' : 'b';
                snprintf(extra, sizeof(extra), " %u,%u", major(sb->st_rdev), minor(sb->st_rdev));
                break;
        case S_IFIFO: type = 'p'; break;
        }
        lines = xrealloc(lines, (nlines + 1) * sizeof(char *));
        lines[nlines++] = xasprintf("%s %c%04o %u:%u%s", p + root_len + 1, type, sb->st_mode & 07777,
                                    sb->st_uid, sb->st_gid, S_ISLNK(sb->st_mode) ? extra : extra);
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The tree under dir, one sorted line per node:
 * "path <type><mode> uid:gid [content | -> target | maj,min]". */
static char *dump(const char *dir)
{
        size_t len = 0;
        char *out;

        lines = NULL;
        nlines = 0;
        root_len = strlen(dir);
        assert_int_equal(nftw(dir, dump_cb, 32, FTW_PHYS), 0);
        qsort(lines, nlines, sizeof(char *), cmp_str);
        for (size_t i = 0; i < nlines; i++)
                len += strlen(lines[i]) + 1;
        out = xcalloc(1, len + 1);
        for (size_t i = 0; i < nlines; i++) {
                strcat(out, lines[i]);
                strcat(out, "\n");
                free(lines[i]);
        }
        free(lines);
        return out;
}

static void assert_tree(const char *dir, const char *expect)
{
        _cleanup_free_ char *got = dump(dir);

        if (strcmp(got, expect) != 0)
                fail_msg("tree of %s:\n%s\nexpected:\n%s", dir, got, expect);
}

/* Sorted names in dir, comma-separated. */
static char *names(const char *dir)
{
        DIR *d = opendir(dir);
        char *v[64];
        size_t n = 0;
        char *out = xcalloc(1, 4096);
        struct dirent *de;

        assert_non_null(d);
        while ((de = readdir(d)) != NULL && n < 64)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        v[n++] = xstrdup(de->d_name);
        closedir(d);
        qsort(v, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        strcat(out, ",");
                strcat(out, v[i]);
                free(v[i]);
        }
        return out;
}

/* The host around dest is as setup() left it. */
static void assert_host_unchanged(struct fx *f, const char *base_names)
{
        _cleanup_free_ char *got = names(f->base);
        _cleanup_free_ char *secret = xasprintf("%s/secret", f->sentinel);
        struct stat st;

        assert_string_equal(got, base_names);
        assert_tree(f->sentinel, "secret f0644 0:0 \"secret\"\n");
        assert_int_equal(stat(secret, &st), 0);
        assert_int_equal(st.st_nlink, 1);
        assert_int_equal(stat(f->sentinel, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        assert_int_equal(access("/pwned", F_OK), -1);
        assert_int_equal(access("/etc/berth-pwned", F_OK), -1);
}

static char *sha256_file(const char *path)
{
        unsigned char md[32], buf[65536];
        char *out = xcalloc(1, 80);
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        unsigned len = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        assert_true(fd >= 0);
        EVP_DigestInit_ex(c, EVP_sha256(), NULL);
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                EVP_DigestUpdate(c, buf, (size_t)n);
        EVP_DigestFinal_ex(c, md, &len);
        EVP_MD_CTX_free(c);
        close(fd);
        strcpy(out, "sha256:");
        for (unsigned i = 0; i < len; i++)
                sprintf(out + 7 + 2 * i, "%02x", md[i]);
        return out;
}

static char *at(const char *dir, const char *rel)
{
        return xasprintf("%s/%s", dir, rel);
}

/* file capabilities: cap_net_raw+ep, as setcap writes them (revision 2) */
static const uint32_t cap_net_raw[5] = { VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE, 1u << 13, 0, 0, 0 };

/* ---- a full tree, in each compression ---- */

/* a macro: compound literals live as long as the block using them */
#define FULL_TREE TAR(E(.name = "./", .mode = S_IFDIR | 0755, .mtime = 1100000000), \
                E(.name = "bin/", .mode = S_IFDIR | 0755, .mtime = 1200000000), \
                E(.name = "bin/ping", .mode = S_IFREG | 04755, .data = "ELF", .uid = 1000, .gid = 1000, \
                  .x = { { "security.capability", cap_net_raw, sizeof(cap_net_raw) } }), \
                E(.name = "bin/sh", .mode = S_IFREG | 0755, .data = "shell", .mtime = 1500000000, \
                  .mtime_ns = 123456789, .atime = 1300000000, .x = { { "user.x", "hello", 5 } }), \
                E(.name = "bin/bash", .link = "bin/sh"), \
                E(.name = "bin/abs", .mode = S_IFLNK | 0777, .data = "/bin/sh", .uid = 7, .gid = 8), \
                E(.name = "bin/rel", .mode = S_IFLNK | 0777, .data = "../etc/../bin/sh", \
                  .x = { { "trusted.t", "1", 1 } }), \
                E(.name = "/etc", .mode = S_IFDIR | 02775, .gid = 50, .x = { { "user.d", "", 0 } }), \
                E(.name = "etc/passwd", .mode = S_IFREG | 0644, .data = "root:x:0:0\n"), \
                E(.name = "tmp", .mode = S_IFDIR | 01777, .mtime = 1000000000), \
                E(.name = "tmp/fifo", .mode = S_IFIFO | 0600, .uid = 3), \
                E(.name = "deep/a/b/c/file", .mode = S_IFREG | 0400, .data = ""), \
                E(.name = "big", .mode = S_IFREG | 0644, .size = 300000), \
                E(.name = "./caf\xc3\xa9", .mode = S_IFREG | 0600, .data = "utf-8"))

static const char full_expect[] =
        "big f0644 0:0 size=300000\n"
        "bin d0755 0:0\n"
        "bin/abs l0777 7:8 -> /bin/sh\n"
        "bin/bash f0755 0:0 \"shell\"\n"
        "bin/ping f4755 1000:1000 \"ELF\"\n"
        "bin/rel l0777 0:0 -> ../etc/../bin/sh\n"
        "bin/sh f0755 0:0 \"shell\"\n"
        "caf\xc3\xa9 f0600 0:0 \"utf-8\"\n"
        "deep d0755 0:0\n"
        "deep/a d0755 0:0\n"
        "deep/a/b d0755 0:0\n"
        "deep/a/b/c d0755 0:0\n"
        "deep/a/b/c/file f0400 0:0 \"\"\n"
        "etc d2775 0:50\n"
        "etc/passwd f0644 0:0 \"root:x:0:0\n\"\n"
        "tmp d1777 0:0\n"
        "tmp/fifo p0600 3:0\n";

static void full_tree_in(void **state, int filter)
{
        struct fx *f = *state;
        _cleanup_free_ char *plain = build(f, "plain.tar", PLAIN, FULL_TREE);
        _cleanup_free_ char *tar = build(f, "t.tar", filter, FULL_TREE);
        _cleanup_free_ char *diff_id = sha256_file(plain);
        _cleanup_error_ berth_error_t *err = NULL;
        struct layer_apply_opts o = { .keep_ownership = true };
        struct layer_stats st;
        struct stat sh, bash, s;
        char buf[64];
        _cleanup_free_ char *p_sh = at(f->dest, "bin/sh"), *p_bash = at(f->dest, "bin/bash"),
                            *p_ping = at(f->dest, "bin/ping"), *p_rel = at(f->dest, "bin/rel"),
                            *p_bin = at(f->dest, "bin"), *p_tmp = at(f->dest, "tmp"),
                            *p_etc = at(f->dest, "etc");

        if (apply_file(tar, f->dest, &o, &st, &err) < 0)
                fail_msg("%s", err->msg);
        /* times first: reading would move atimes */
        assert_int_equal(lstat(p_sh, &sh), 0);
        assert_int_equal(sh.st_mtim.tv_sec, 1500000000);
        assert_int_equal(sh.st_mtim.tv_nsec, 123456789);
        assert_int_equal(sh.st_atim.tv_sec, 1300000000);
        assert_int_equal(lstat(p_bin, &s), 0);
        assert_int_equal(s.st_mtim.tv_sec, 1200000000); /* set after its content */
        assert_int_equal(lstat(p_tmp, &s), 0);
        assert_int_equal(s.st_mtim.tv_sec, 1000000000);
        assert_int_equal(lstat(p_rel, &s), 0);
        assert_int_equal(s.st_mtim.tv_sec, 1600000000);
        assert_int_equal(lstat(f->dest, &s), 0);
        assert_int_equal(s.st_mtim.tv_sec, 1100000000);
        assert_int_equal(s.st_mode & 07777, 0755);

        assert_tree(f->dest, full_expect);
        /* hardlink shares the inode */
        assert_int_equal(lstat(p_bash, &bash), 0);
        assert_int_equal(sh.st_ino, bash.st_ino);
        assert_int_equal(bash.st_nlink, 2);
        /* xattrs: user, file capabilities (after the chown), trusted on a symlink */
        assert_int_equal(getxattr(p_sh, "user.x", buf, sizeof(buf)), 5);
        assert_memory_equal(buf, "hello", 5);
        assert_int_equal(getxattr(p_ping, "security.capability", buf, sizeof(buf)), (ssize_t)sizeof(cap_net_raw));
        assert_memory_equal(buf, cap_net_raw, sizeof(cap_net_raw));
        assert_int_equal(lgetxattr(p_rel, "trusted.t", buf, sizeof(buf)), 1);
        assert_int_equal(getxattr(p_etc, "user.d", buf, sizeof(buf)), 0);

        assert_int_equal(st.files, 13); /* entries, not the root nor implicit parents */
        assert_int_equal(st.bytes, 3 + 5 + 11 + 300000 + 5);
        assert_int_equal(st.whiteouts, 0);
        assert_int_equal(st.skipped_devices, 0);
        assert_int_equal(st.skipped_xattrs, 0);
        assert_string_equal(st.diff_id, diff_id);
        assert_host_unchanged(f, "dest,sentinel,tars");
}

static void full_tree_plain(void **state) { full_tree_in(state, PLAIN); }
static void full_tree_gzip(void **state) { full_tree_in(state, GZIP); }
static void full_tree_zstd(void **state) { full_tree_in(state, ZSTD); }

static void ownership_not_kept(void **state)
{
        struct fx *f = *state;

        apply_ok(f, f->dest, NULL, NULL,
                 TAR(E(.name = "d", .mode = S_IFDIR | 0750, .uid = 5, .gid = 6),
                     E(.name = "d/f", .mode = S_IFREG | 06755, .data = "x", .uid = 5, .gid = 6),
                     E(.name = "d/l", .mode = S_IFLNK | 0777, .data = "f", .uid = 5, .gid = 6)));
        assert_tree(f->dest, "d d0750 0:0\n"
                             "d/f f6755 0:0 \"x\"\n"
                             "d/l l0777 0:0 -> f\n");
}

static void devices(void **state)
{
        struct fx *f = *state;
        struct layer_apply_opts o = { .allow_devices = true };
        struct layer_stats st;
        _cleanup_free_ char *dest2 = at(f->base, "dest2");
        const struct ent *const *t = TAR(E(.name = "dev/null", .mode = S_IFCHR | 0666, .rmaj = 1, .rmin = 3),
                                         E(.name = "dev/loop9", .mode = S_IFBLK | 0660, .rmaj = 7, .rmin = 9),
                                         E(.name = "dev/fifo", .mode = S_IFIFO | 0644));

        apply_ok(f, f->dest, &o, &st, t);
        assert_tree(f->dest, "dev d0755 0:0\n"
                             "dev/fifo p0644 0:0\n"
                             "dev/loop9 b0660 0:0 7,9\n"
                             "dev/null c0666 0:0 1,3\n");
        assert_int_equal(st.skipped_devices, 0);
        /* not allowed: skipped and counted, the rest extracted */
        assert_int_equal(mkdir(dest2, 0755), 0);
        apply_ok(f, dest2, NULL, &st, t);
        assert_tree(dest2, "dev d0755 0:0\n"
                           "dev/fifo p0644 0:0\n");
        assert_int_equal(st.skipped_devices, 2);
        assert_int_equal(st.files, 1);
        assert_host_unchanged(f, "dest,dest2,sentinel,tars");
}

/* Existing content replaced per tar semantics; nothing written through a
 * symlink that was in the way. */
static void replace_semantics(void **state)
{
        struct fx *f = *state;
        _cleanup_free_ char *secret = at(f->sentinel, "secret");

        apply_ok(f, f->dest, NULL, NULL,
                 TAR(E(.name = "dir/a/b", .mode = S_IFREG | 0644, .data = "old"),
                     E(.name = "merge/keep", .mode = S_IFREG | 0644, .data = "lower"),
                     E(.name = "file", .mode = S_IFREG | 0644, .data = "f"),
                     E(.name = "tosecret", .mode = S_IFLNK | 0777, .data = secret),
                     E(.name = "tosentinel", .mode = S_IFLNK | 0777, .data = f->sentinel),
                     E(.name = "ln", .mode = S_IFREG | 0644, .data = "will be a link")));
        apply_ok(f, f->dest, NULL, NULL,
                 TAR(E(.name = "dir", .mode = S_IFREG | 0600, .data = "now a file"),
                     E(.name = "merge", .mode = S_IFDIR | 0700),
                     E(.name = "merge/new", .mode = S_IFREG | 0644, .data = "upper"),
                     E(.name = "file", .mode = S_IFDIR | 0711),
                     E(.name = "tosecret", .mode = S_IFREG | 0666, .data = "pwned"),
                     E(.name = "tosentinel", .mode = S_IFDIR | 0700),
                     E(.name = "ln", .mode = S_IFLNK | 0777, .data = "file")));
        assert_tree(f->dest, "dir f0600 0:0 \"now a file\"\n"
                             "file d0711 0:0\n"
                             "ln l0777 0:0 -> file\n"
                             "merge d0700 0:0\n"
                             "merge/keep f0644 0:0 \"lower\"\n"
                             "merge/new f0644 0:0 \"upper\"\n"
                             "tosecret f0666 0:0 \"pwned\"\n"
                             "tosentinel d0700 0:0\n");
        assert_host_unchanged(f, "dest,sentinel,tars");
}

/* ---- whiteouts: two layers, both models ---- */

/* a macro: compound literals live as long as the block using them */
#define LOWER_LAYER TAR(E(.name = "a/", .mode = S_IFDIR | 0755), \
                E(.name = "a/f", .mode = S_IFREG | 0644, .data = "f"), \
                E(.name = "a/g", .mode = S_IFREG | 0644, .data = "g"), \
                E(.name = "d/tree/x", .mode = S_IFREG | 0644, .data = "x"), \
                E(.name = "o/", .mode = S_IFDIR | 0755), \
                E(.name = "o/lower1", .mode = S_IFREG | 0644, .data = "1"), \
                E(.name = "o/sub/lower2", .mode = S_IFREG | 0644, .data = "2"), \
                E(.name = "o/early", .mode = S_IFREG | 0644, .data = "lower"), \
                E(.name = "keep", .mode = S_IFREG | 0644, .data = "k"))

/* a macro: compound literals live as long as the block using them */
#define UPPER_LAYER TAR(E(.name = "a/", .mode = S_IFDIR | 0755), \
                E(.name = "a/.wh.f", .mode = S_IFREG | 0644), \
                E(.name = ".wh.d", .mode = S_IFREG | 0644), \
                E(.name = ".wh.missing", .mode = S_IFREG | 0644), \
                E(.name = "o/", .mode = S_IFDIR | 0750), \
                E(.name = "o/early", .mode = S_IFREG | 0644, .data = "upper"), /* before the marker */ \
                E(.name = "o/.wh..wh..opq", .mode = S_IFREG | 0644), \
                E(.name = "o/sub/", .mode = S_IFDIR | 0755), \
                E(.name = "o/sub/new", .mode = S_IFREG | 0644, .data = "n"), \
                E(.name = "new/.wh..wh..opq", .mode = S_IFREG | 0644), \
                E(.name = ".wh..wh.plnk/123", .mode = S_IFREG | 0644, .data = "aufs"))

static const char union_expect[] =
        "a d0755 0:0\n"
        "a/g f0644 0:0 \"g\"\n"
        "keep f0644 0:0 \"k\"\n"
        "new d0755 0:0\n"
        "o d0750 0:0\n"
        "o/early f0644 0:0 \"upper\"\n"
        "o/sub d0755 0:0\n"
        "o/sub/new f0644 0:0 \"n\"\n";

static void whiteouts_apply(void **state)
{
        struct fx *f = *state;
        _cleanup_free_ char *l1 = build(f, "l1.tar", GZIP, LOWER_LAYER);
        _cleanup_free_ char *l2 = build(f, "l2.tar", ZSTD, UPPER_LAYER);
        _cleanup_error_ berth_error_t *err = NULL;
        struct layer_stats st;

        assert_int_equal(apply_file(l1, f->dest, NULL, &st, &err), 0);
        assert_int_equal(st.files, 9);
        if (apply_file(l2, f->dest, NULL, &st, &err) < 0)
                fail_msg("%s", err->msg);
        assert_tree(f->dest, union_expect);
        assert_int_equal(st.whiteouts, 5);
        assert_int_equal(st.skipped_other, 1);
        assert_host_unchanged(f, "dest,sentinel,tars");
}

/* Overlay model: each layer in its own directory; the overlayfs of both
 * shows the same tree the apply model built. */
static void whiteouts_overlay(void **state)
{
        struct fx *f = *state;
        _cleanup_free_ char *l1 = build(f, "l1.tar", PLAIN, LOWER_LAYER);
        _cleanup_free_ char *l2 = build(f, "l2.tar", PLAIN, UPPER_LAYER);
        _cleanup_free_ char *d1 = at(f->base, "l1"), *d2 = at(f->base, "l2"), *mnt = at(f->base, "mnt");
        _cleanup_free_ char *opts = xasprintf("lowerdir=%s:%s", d2, d1);
        _cleanup_free_ char *o2 = at(d2, "o"), *n2 = at(d2, "new");
        _cleanup_error_ berth_error_t *err = NULL;
        struct layer_apply_opts o = { .overlay_whiteouts = true };
        struct layer_stats st;
        char buf[8];

        assert_int_equal(mkdir(d1, 0755), 0);
        assert_int_equal(mkdir(d2, 0755), 0);
        assert_int_equal(mkdir(mnt, 0755), 0);
        assert_int_equal(apply_file(l1, d1, &o, &st, &err), 0);
        if (apply_file(l2, d2, &o, &st, &err) < 0)
                fail_msg("%s", err->msg);
        assert_int_equal(st.whiteouts, 5);
        assert_tree(d2, "a d0755 0:0\n"
                        "a/f c0000 0:0 0,0\n"
                        "d c0000 0:0 0,0\n"
                        "missing c0000 0:0 0,0\n"
                        "new d0755 0:0\n"
                        "o d0750 0:0\n"
                        "o/early f0644 0:0 \"upper\"\n"
                        "o/sub d0755 0:0\n"
                        "o/sub/new f0644 0:0 \"n\"\n");
        assert_int_equal(getxattr(o2, "trusted.overlay.opaque", buf, sizeof(buf)), 1);
        assert_int_equal(buf[0], 'y');
        assert_int_equal(getxattr(n2, "trusted.overlay.opaque", buf, sizeof(buf)), 1);
        if (mount("overlay", mnt, "overlay", MS_RDONLY, opts) < 0) {
                print_message("overlay mount: %s (union not checked)\n", strerror(errno));
        } else {
                _cleanup_free_ char *got = dump(mnt);
                umount2(mnt, MNT_DETACH);
                assert_string_equal(got, union_expect);
        }
        assert_host_unchanged(f, "dest,l1,l2,mnt,sentinel,tars");
}

/* The layer's own content wins over its whiteouts, in either order. */
static void whiteout_of_own_entry(void **state)
{
        struct fx *f = *state;

        apply_ok(f, f->dest, NULL, NULL,
                 TAR(E(.name = "x", .mode = S_IFREG | 0644, .data = "mine"),
                     E(.name = ".wh.x", .mode = S_IFREG | 0644),
                     E(.name = ".wh.y", .mode = S_IFREG | 0644),
                     E(.name = "y", .mode = S_IFREG | 0644, .data = "again")));
        assert_tree(f->dest, "x f0644 0:0 \"mine\"\n"
                             "y f0644 0:0 \"again\"\n");
}

/* ---- hostile layers ---- */

static void hostile_dotdot(void **state)
{
        struct fx *f = *state;

        apply_fails(f, NULL, "layer entry \"../escape\": leads outside the layer",
                    TAR(E(.name = "ok", .mode = S_IFREG | 0644, .data = "ok"),
                        E(.name = "../escape", .mode = S_IFREG | 0644, .data = "pwned"),
                        E(.name = "after", .mode = S_IFREG | 0644, .data = "not reached")));
        assert_tree(f->dest, "ok f0644 0:0 \"ok\"\n");
        apply_fails(f, NULL, "layer entry \"a/../../sentinel/secret\": leads outside the layer",
                    TAR(E(.name = "a/../../sentinel/secret", .mode = S_IFREG | 0644, .data = "pwned")));
        apply_fails(f, NULL, "layer entry \"/../../sentinel/\": leads outside the layer",
                    TAR(E(.name = "/../../sentinel", .mode = S_IFDIR | 0777)));
        apply_fails(f, NULL, "layer entry \"../\": leads outside the layer",
                    TAR(E(.name = "..", .mode = S_IFDIR | 0777)));
        apply_fails(f, NULL, "layer entry \".\": replaces the layer root",
                    TAR(E(.name = ".", .mode = S_IFLNK | 0777, .data = "/")));
        apply_fails(f, NULL, "layer entry \"x\\x0a/../\\x1b/../..\": leads outside the layer",
                    TAR(E(.name = "x\n/../\x1b/../..", .mode = S_IFREG | 0644, .data = "")));
        /* inner ".." that stays inside is folded, as Docker does */
        apply_ok(f, f->dest, NULL, NULL, TAR(E(.name = "a/b/../c", .mode = S_IFREG | 0644, .data = "c")));
        assert_tree(f->dest, "a d0755 0:0\n"
                             "a/c f0644 0:0 \"c\"\n"
                             "ok f0644 0:0 \"ok\"\n");
        assert_host_unchanged(f, "dest,sentinel,tars");
}

static void hostile_absolute(void **state)
{
        struct fx *f = *state;
        _cleanup_free_ char *abs = xasprintf("%s/secret", f->sentinel);

        apply_ok(f, f->dest, NULL, NULL,
                 TAR(E(.name = "/pwned", .mode = S_IFREG | 0644, .data = "inside"),
                     E(.name = abs, .mode = S_IFREG | 0644, .data = "inside too")));
        _cleanup_free_ char *got = dump(f->dest);
        _cleanup_free_ char *expect = NULL;
        /* the sentinel's absolute path, recreated inside dest */
        expect = xasprintf("pwned f0644 0:0 \"inside\"\n"
                           "tmp d0755 0:0\n"
                           "%s d0755 0:0\n"
                           "%s/sentinel d0755 0:0\n"
                           "%s/sentinel/secret f0644 0:0 \"inside too\"\n",
                           f->base + 1, f->base + 1, f->base + 1);
        assert_string_equal(got, expect);
        assert_host_unchanged(f, "dest,sentinel,tars");
}

/* Parents that are symlinks are followed only inside dest. */
static void hostile_symlink_parent(void **state)
{
        struct fx *f = *state;

        apply_fails(f, NULL, "layer entry \"evil/secret\": open its directory: No such file or directory",
                    TAR(E(.name = "evil", .mode = S_IFLNK | 0777, .data = f->sentinel),
                        E(.name = "evil/secret", .mode = S_IFREG | 0644, .data = "pwned")));
        apply_fails(f, NULL, "layer entry \"rel/secret\": open its directory: No such file or directory",
                    TAR(E(.name = "rel", .mode = S_IFLNK | 0777, .data = "../sentinel"),
                        E(.name = "rel/secret", .mode = S_IFREG | 0644, .data = "pwned")));
        apply_fails(f, NULL, "layer entry \"x/y/z\": open its directory: Not a directory",
                    TAR(E(.name = "x", .mode = S_IFREG | 0644, .data = ""),
                        E(.name = "x/y/z", .mode = S_IFREG | 0644, .data = "")));
        _cleanup_free_ char *expect = xasprintf("evil l0777 0:0 -> %s\n"
                                                "rel l0777 0:0 -> ../sentinel\n"
                                                "x f0644 0:0 \"\"\n", f->sentinel);
        assert_tree(f->dest, expect);
        assert_host_unchanged(f, "dest,sentinel,tars");
}

/* A link to / or ../../.. is fine; writing through it lands in dest. */
static void hostile_symlink_parent_tree(void **state)
{
        struct fx *f = *state;
        _cleanup_free_ char *expect = NULL;

        apply_ok(f, f->dest, NULL, NULL,
                 TAR(E(.name = "evil", .mode = S_IFLNK | 0777, .data = f->sentinel),
                     E(.name = "root", .mode = S_IFLNK | 0777, .data = "/"),
                     E(.name = "up", .mode = S_IFLNK | 0777, .data = "../../../.."),
                     E(.name = "root/etc/berth-pwned", .mode = S_IFREG | 0644, .data = "1"),
                     E(.name = "up/pwned", .mode = S_IFREG | 0644, .data = "2"),
                     E(.name = "up/up/up/tmp", .mode = S_IFDIR | 0700)));
        expect = xasprintf("etc d0755 0:0\n"
                           "etc/berth-pwned f0644 0:0 \"1\"\n"
                           "evil l0777 0:0 -> %s\n"
                           "pwned f0644 0:0 \"2\"\n"
                           "root l0777 0:0 -> /\n"
                           "tmp d0700 0:0\n"
                           "up l0777 0:0 -> ../../../..\n",
                           f->sentinel);
        assert_tree(f->dest, expect);
        assert_host_unchanged(f, "dest,sentinel,tars");
}

/* The last component is never followed: a symlink in the way is replaced,
 * metadata goes to the link itself. */
static void hostile_symlink_final(void **state)
{
        struct fx *f = *state;
        _cleanup_free_ char *secret = at(f->sentinel, "secret"), *expect = NULL;
        struct layer_apply_opts o = { .keep_ownership = true };

        apply_ok(f, f->dest, &o, NULL,
                 TAR(E(.name = "s", .mode = S_IFLNK | 0777, .data = secret),
                     E(.name = "d", .mode = S_IFLNK | 0777, .data = f->sentinel),
                     E(.name = "keep", .mode = S_IFLNK | 0777, .data = secret, .uid = 9, .gid = 9,
                       .mtime = 1234567890, .x = { { "trusted.t", "v", 1 } }),
                     E(.name = "hl", .link = "keep"),
                     E(.name = "s", .mode = S_IFREG | 0600, .data = "pwned", .uid = 9),
                     E(.name = "d", .mode = S_IFDIR | 0700, .uid = 9)));
        expect = xasprintf("d d0700 9:0\n"
                           "hl l0777 9:9 -> %s\n"
                           "keep l0777 9:9 -> %s\n"
                           "s f0600 9:0 \"pwned\"\n",
                           secret, secret);
        assert_tree(f->dest, expect);
        assert_host_unchanged(f, "dest,sentinel,tars");
        struct stat st;
        assert_int_equal(stat(secret, &st), 0);
        assert_int_equal(st.st_uid, 0);
        assert_int_not_equal(st.st_mtim.tv_sec, 1234567890);
        char buf[4];
        assert_int_equal(getxattr(secret, "trusted.t", buf, sizeof(buf)), -1);
}

static void hostile_hardlink(void **state)
{
        struct fx *f = *state;
        _cleanup_free_ char *secret = at(f->sentinel, "secret");
        _cleanup_free_ char *m1 = NULL, *m2 = NULL;

        apply_fails(f, NULL,
                    "layer entry \"h\": hardlink target \"../sentinel/secret\" leads outside the layer",
                    TAR(E(.name = "h", .link = "../sentinel/secret")));
        m1 = xasprintf("layer entry \"h\": hardlink target \"%s\": No such file or directory", secret);
        apply_fails(f, NULL, m1, TAR(E(.name = "h", .link = secret)));
        m2 = xasprintf("layer entry \"h\": hardlink target \"lnk/secret\": No such file or directory");
        apply_fails(f, NULL, m2,
                    TAR(E(.name = "lnk", .mode = S_IFLNK | 0777, .data = f->sentinel),
                        E(.name = "h", .link = "lnk/secret")));
        apply_fails(f, NULL, "layer entry \"h\": hardlink target \"dir\" is a directory",
                    TAR(E(.name = "dir", .mode = S_IFDIR | 0755), E(.name = "h", .link = "dir")));
        apply_fails(f, NULL, "layer entry \"h\": hardlink target \"nothere\": No such file or directory",
                    TAR(E(.name = "h", .link = "nothere")));
        assert_host_unchanged(f, "dest,sentinel,tars");
}

static void hostile_whiteout(void **state)
{
        struct fx *f = *state;
        struct layer_apply_opts ov = { .overlay_whiteouts = true };

        apply_fails(f, NULL, "layer entry \"../.wh.sentinel\": leads outside the layer",
                    TAR(E(.name = "../.wh.sentinel", .mode = S_IFREG | 0644)));
        apply_fails(f, NULL, "layer entry \"lnk/.wh.secret\": whiteout through a symlink",
                    TAR(E(.name = "lnk", .mode = S_IFLNK | 0777, .data = f->sentinel),
                        E(.name = "lnk/.wh.secret", .mode = S_IFREG | 0644)));
        apply_fails(f, &ov, "layer entry \"rel/.wh.secret\": whiteout through a symlink",
                    TAR(E(.name = "rel", .mode = S_IFLNK | 0777, .data = "../sentinel"),
                        E(.name = "rel/.wh.secret", .mode = S_IFREG | 0644)));
        apply_fails(f, NULL, "layer entry \"lnk/.wh..wh..opq\": whiteout through a symlink",
                    TAR(E(.name = "lnk/.wh..wh..opq", .mode = S_IFREG | 0644)));
        apply_fails(f, NULL, "layer entry \"a/.wh..\": not a valid whiteout",
                    TAR(E(.name = "a/.wh..", .mode = S_IFREG | 0644)));
        apply_fails(f, NULL, "layer entry \".wh.\": not a valid whiteout",
                    TAR(E(.name = ".wh.", .mode = S_IFREG | 0644)));
        /* whiteout of a symlink removes the link, not what it points to */
        apply_ok(f, f->dest, NULL, NULL, TAR(E(.name = ".wh.lnk", .mode = S_IFREG | 0644)));
        assert_tree(f->dest, "rel l0777 0:0 -> ../sentinel\n");
        assert_host_unchanged(f, "dest,sentinel,tars");
}

static void hostile_xattrs(void **state)
{
        struct fx *f = *state;
        struct layer_stats st;
        _cleanup_free_ char *d = at(f->dest, "d");
        char buf[8];

        apply_ok(f, f->dest, NULL, &st,
                 TAR(E(.name = "d", .mode = S_IFDIR | 0755,
                       .x = { { "trusted.overlay.redirect", "/etc", 4 }, { "trusted.overlay.opaque", "y", 1 },
                              { "user.overlay.opaque", "y", 1 } }),
                     E(.name = "l", .mode = S_IFLNK | 0777, .data = "d", .x = { { "user.x", "1", 1 } })));
        assert_int_equal(st.skipped_xattrs, 4);
        assert_int_equal(getxattr(d, "trusted.overlay.opaque", buf, sizeof(buf)), -1);
        assert_int_equal(getxattr(d, "trusted.overlay.redirect", buf, sizeof(buf)), -1);
}

/* ---- limits and bad input ---- */

static void max_bytes(void **state)
{
        struct fx *f = *state;
        _cleanup_free_ char *bomb = build(f, "bomb.tar.gz", GZIP,
                                          TAR(E(.name = "a", .mode = S_IFREG | 0644, .size = 100),
                                              E(.name = "zeros", .mode = S_IFREG | 0644, .size = 20 << 20)));
        _cleanup_free_ char *small = build(f, "small.tar", PLAIN,
                                           TAR(E(.name = "a", .mode = S_IFREG | 0644, .size = 1000)));
        _cleanup_error_ berth_error_t *err = NULL;
        struct layer_apply_opts o = { .max_bytes = 1 << 20 };
        struct layer_stats st;
        struct stat sb;

        assert_true(stat(bomb, &sb) == 0 && sb.st_size < 100000);
        assert_true(apply_file(bomb, f->dest, &o, NULL, &err) < 0);
        assert_string_equal(err->msg, "layer entry \"zeros\": larger than the layer size limit of 1048576 bytes");
        berth_error_free(&err);
        /* the stream bound, whatever the headers say */
        assert_int_equal(stat(small, &sb), 0);
        o.max_bytes = (uint64_t)sb.st_size - 1;
        assert_true(apply_file(small, f->dest, &o, NULL, &err) < 0);
        assert_non_null(strstr(err->msg, "larger than the layer size limit"));
        berth_error_free(&err);
        o.max_bytes = (uint64_t)sb.st_size;
        if (apply_file(small, f->dest, &o, &st, &err) < 0)
                fail_msg("%s", err->msg);
        assert_int_equal(st.tar_bytes, sb.st_size);
        assert_int_equal(st.bytes, 1000);
}

static void bad_input(void **state)
{
        struct fx *f = *state;
        _cleanup_free_ char *junk = at(f->tars, "junk"), *empty = at(f->tars, "empty");
        _cleanup_free_ char *good = build(f, "good.tar", PLAIN,
                                          TAR(E(.name = "a", .mode = S_IFREG | 0644, .size = 5000)));
        _cleanup_free_ char *cut = at(f->tars, "cut.tar");
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *data = NULL;
        size_t len;

        write_str(junk, "this is not a tar archive, not gzip, not zstd; just text that goes on for a while....."
                        "................................................................................"
                        "................................................................................"
                        "................................................................................"
                        "................................................................................"
                        "................................................................................"
                        "................................................................................");
        assert_true(apply_file(junk, f->dest, NULL, NULL, &err) < 0);
        assert_string_equal(err->msg, "read layer: Unrecognized archive format");
        berth_error_free(&err);
        write_str(empty, "");
        assert_true(apply_file(empty, f->dest, NULL, NULL, &err) < 0);
        berth_error_free(&err);
        assert_int_equal(read_file(good, &data, &len, &err), 0);
        write_buf(cut, data, 2048); /* headers, then the data cut short */
        assert_true(apply_file(cut, f->dest, NULL, NULL, &err) < 0);
        if (strstr(err->msg, "layer entry \"a\": read: ") == NULL)
                fail_msg("%s", err->msg);
        berth_error_free(&err);
        assert_int_equal(layer_apply(-1, f->dest, NULL, NULL, &err) < 0, 1);
        berth_error_free(&err);
        _cleanup_free_ char *nodir = at(f->base, "nodir");
        assert_true(apply_file(good, nodir, NULL, NULL, &err) < 0);
        assert_non_null(strstr(err->msg, "No such file or directory"));
}

struct mem {
        const char *p;
        size_t left, chunk;
};

static ssize_t mem_read(void *cookie, void *buf, size_t len)
{
        struct mem *m = cookie;
        size_t n = len < m->left ? len : m->left;

        if (n > m->chunk)
                n = m->chunk;
        memcpy(buf, m->p, n);
        m->p += n;
        m->left -= n;
        return (ssize_t)n;
}

static void reader_callback(void **state)
{
        struct fx *f = *state;
        _cleanup_free_ char *tar = build(f, "t.tar.zst", ZSTD,
                                         TAR(E(.name = "x/y", .mode = S_IFREG | 0640, .data = "through a callback")));
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *data = NULL;
        struct layer_stats st;
        struct mem m;
        size_t len;

        assert_int_equal(read_file(tar, &data, &len, &err), 0);
        m = (struct mem){ .p = data, .left = len, .chunk = 7 };
        if (layer_apply_read(mem_read, &m, f->dest, NULL, &st, &err) < 0)
                fail_msg("%s", err->msg);
        assert_tree(f->dest, "x d0755 0:0\n"
                             "x/y f0640 0:0 \"through a callback\"\n");
        assert_int_equal(st.files, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
                T(full_tree_plain),
                T(full_tree_gzip),
                T(full_tree_zstd),
                T(ownership_not_kept),
                T(devices),
                T(replace_semantics),
                T(whiteouts_apply),
                T(whiteouts_overlay),
                T(whiteout_of_own_entry),
                T(hostile_dotdot),
                T(hostile_absolute),
                T(hostile_symlink_parent),
                T(hostile_symlink_parent_tree),
                T(hostile_symlink_final),
                T(hostile_hardlink),
                T(hostile_whiteout),
                T(hostile_xattrs),
                T(max_bytes),
                T(bad_input),
                T(reader_callback),
        };
        if (geteuid() != 0) {
                print_message("test-layer needs root (xattrs, devices, ownership)\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
