/* Snapshots (src/storage), as root on this host: three layer directories
 * are built by hand in the overlay model (whiteout devices, an opaque
 * directory, symlinks, hard links, setuid, xattrs, a file capability, a
 * sparse file), then mounted as an overlay (new mount API and mount(2)),
 * copied by the vfs driver, and the two views compared entry by entry.
 * Every mount a test makes is under its temp dir; teardown detaches
 * whatever /proc/self/mountinfo still shows there before removing it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/xattr.h>

#include "storage/snapshot.h"
#include "util/util.h"

#define DIR_MTIME 1000000000 /* the top layer's etc/ */
#define FILE_MTIME 1200000000

struct fx {
        char base[64];
        char *l[3], *upper, *work, *merged, *vfs, *sentinel;
};

/* ---- paths and tree building ---- */

static const char *pj(const char *a, const char *b)
{
        static char bufs[16][PATH_MAX];
        static int next;
        char *p = bufs[next++ % 16];

        snprintf(p, PATH_MAX, "%s/%s", a, b);
        return p;
}

static void mkdirs(const char *path)
{
        _cleanup_error_ berth_error_t *err = NULL;

        assert_int_equal(mkdir_p(path, 0755, &err), 0);
}

static void mkparent(const char *path)
{
        _cleanup_free_ char *dir = xstrdup(path);

        *strrchr(dir, '/') = '\0';
        mkdirs(dir);
}

static void put(const char *root, const char *rel, const char *data, mode_t mode, uid_t uid, gid_t gid)
{
        const char *p = pj(root, rel);
        int fd;

        mkparent(p);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
        assert_int_equal(fchown(fd, uid, gid), 0);
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

static void whiteout(const char *root, const char *rel)
{
        mkparent(pj(root, rel));
        assert_int_equal(mknod(pj(root, rel), S_IFCHR | 0600, makedev(0, 0)), 0);
}

static void sym(const char *root, const char *rel, const char *target)
{
        mkparent(pj(root, rel));
        assert_int_equal(symlink(target, pj(root, rel)), 0);
}

static void set_mtime(const char *path, time_t t)
{
        struct timespec ts[2] = { { t, 0 }, { t, 0 } };

        assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static char *slurp(const char *path)
{
        _cleanup_error_ berth_error_t *err = NULL;
        char *s = NULL;

        if (read_file(path, &s, NULL, &err) < 0)
                return NULL;
        return s;
}

static void assert_content(const char *path, const char *want)
{
        _cleanup_free_ char *got = slurp(path);

        if (got == NULL)
                fail_msg("%s: cannot read", path);
        assert_string_equal(got, want);
}

static void assert_absent(const char *path)
{
        struct stat st;

        if (lstat(path, &st) == 0)
                fail_msg("%s exists", path);
        assert_int_equal(errno, ENOENT);
}

static struct vfs_cap_data cap_net_raw(void)
{
        struct vfs_cap_data c = { .magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE };

        c.data[0].permitted = 1u << CAP_NET_RAW;
        return c;
}

/* bottom layer */
static void build_l1(struct fx *f)
{
        const char *l = f->l[0];
        int fd;

        put(l, "etc/hostname", "l1\n", 0644, 0, 0);
        put(l, "etc/passwd", "root:x:0:0\n", 0644, 0, 0);
        put(l, "bin/tool", "tool", 04755, 1000, 1000);
        put(l, "data/old/a.txt", "a", 0644, 0, 0);
        put(l, "data/old/b.txt", "b", 0644, 0, 0);
        put(l, "data/replaced/inner", "inner", 0644, 0, 0);
        put(l, "gone.txt", "gone", 0644, 0, 0);
        put(l, "gonedir/x/y", "y", 0644, 0, 0);
        sym(l, "sym", "etc/hostname");
        assert_int_equal(link(pj(l, "sym"), pj(l, "symhard")), 0); /* a hard link to a symlink */
        put(l, "filedir", "a file below, a directory above", 0644, 0, 0);
        put(l, "xd/lower", "lower", 0644, 0, 0);
        assert_int_equal(setxattr(pj(l, "xd"), "user.lower", "1", 1, 0), 0);
        put(l, "hard1", "hard", 0600, 7, 8);
        assert_int_equal(link(pj(l, "hard1"), pj(l, "hard2")), 0);
        put(l, "xattr.txt", "x", 0644, 0, 0);
        assert_int_equal(setxattr(pj(l, "xattr.txt"), "user.test", "hello", 5, 0), 0);
        sym(l, "dirlink", f->sentinel); /* a later layer makes it a real directory */
        mkdirs(pj(l, "dev"));
        assert_int_equal(mknod(pj(l, "dev/null"), S_IFCHR | 0666, makedev(1, 3)), 0);
        assert_int_equal(chmod(pj(l, "dev/null"), 0666), 0);
        assert_int_equal(mkfifo(pj(l, "dev/fifo"), 0600), 0);
        /* 1 MiB, one block of data at the end */
        fd = open(pj(l, "sparse"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, "end", 3, (1 << 20) - 3), 3);
        close(fd);
        set_mtime(pj(l, "bin/tool"), FILE_MTIME);
}

static void build_l2(struct fx *f)
{
        const char *l = f->l[1];

        put(l, "etc/hostname", "l2\n", 0644, 0, 0);
        whiteout(l, "gone.txt");
        whiteout(l, "gonedir");
        put(l, "data/old/c.txt", "c", 0644, 0, 0);
        assert_int_equal(setxattr(pj(l, "data/old"), "trusted.overlay.opaque", "y", 1, 0), 0);
        put(l, "data/replaced", "now a file", 0644, 0, 0);
        put(l, "filedir/inside", "inside", 0644, 0, 0);
        put(l, "xd/upper", "upper", 0644, 0, 0);
        put(l, "h/a", "ha", 0640, 2, 3);
        assert_int_equal(link(pj(l, "h/a"), pj(l, "h/b")), 0);
        set_mtime(pj(l, "etc"), DIR_MTIME - 5);
}

static void build_l3(struct fx *f)
{
        const char *l = f->l[2];
        struct vfs_cap_data cap = cap_net_raw();

        put(l, "dirlink/f", "f", 0644, 0, 0);
        put(l, "etc/new", "l3", 0644, 0, 0);
        whiteout(l, "etc/passwd");
        put(l, "ping", "ping", 0755, 0, 0);
        assert_int_equal(setxattr(pj(l, "ping"), "security.capability", &cap, sizeof(cap), 0), 0);
        sym(l, "escape", "../../../../etc/shadow");
        set_mtime(pj(l, "etc"), DIR_MTIME);
}

static int setup(void **state)
{
        struct fx *f = xcalloc(1, sizeof(*f));

        strcpy(f->base, "/tmp/berth-snapshot-XXXXXX");
        if (mkdtemp(f->base) == NULL)
                return -1;
        for (int i = 0; i < 3; i++) {
                f->l[i] = xasprintf("%s/l%d", f->base, i + 1);
                mkdirs(f->l[i]);
        }
        f->upper = xasprintf("%s/upper", f->base);
        f->work = xasprintf("%s/work", f->base);
        f->merged = xasprintf("%s/merged", f->base);
        f->vfs = xasprintf("%s/vfs", f->base);
        f->sentinel = xasprintf("%s/sentinel", f->base);
        mkdirs(f->upper);
        mkdirs(f->work);
        mkdirs(f->merged);
        mkdirs(f->vfs);
        mkdirs(f->sentinel);
        build_l1(f);
        build_l2(f);
        build_l3(f);
        *state = f;
        return 0;
}

/* Detach every mount under base, deepest (last listed) first, until none
 * is left. */
static void umount_under(const char *base)
{
        size_t blen = strlen(base);
        bool again = true;

        for (int round = 0; again && round < 64; round++) {
                FILE *mi = fopen("/proc/self/mountinfo", "re");
                char *line = NULL, *last = NULL;
                size_t cap = 0;

                again = false;
                if (mi == NULL)
                        return;
                while (getline(&line, &cap, mi) > 0) {
                        char mp[PATH_MAX];

                        if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && strncmp(mp, base, blen) == 0 &&
                            mp[blen] == '/') {
                                free(last);
                                last = xstrdup(mp);
                        }
                }
                fclose(mi);
                free(line);
                if (last != NULL) {
                        again = umount2(last, MNT_DETACH) == 0;
                        free(last);
                }
        }
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb, (void)flag, (void)ftw;
        return remove(p);
}

static int teardown(void **state)
{
        struct fx *f = *state;

        umount_under(f->base);
        nftw(f->base, rm_cb, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        for (int i = 0; i < 3; i++)
                free(f->l[i]);
        free(f->upper);
        free(f->work);
        free(f->merged);
        free(f->vfs);
        free(f->sentinel);
        free(f);
        return 0;
}

/* ---- checks ---- */

static void assert_mount(const struct snapshot_spec *s, const char *target)
{
        _cleanup_error_ berth_error_t *err = NULL;

        if (snapshot_mount(s, target, &err) < 0)
                fail_msg("mount: %s", err->msg);
}

static void assert_unmount(const char *target)
{
        _cleanup_error_ berth_error_t *err = NULL;

        if (snapshot_unmount(target, &err) < 0)
                fail_msg("unmount: %s", err->msg);
}

static void assert_xattr(const char *path, const char *name, const void *want, size_t len)
{
        char buf[256];
        ssize_t n = lgetxattr(path, name, buf, sizeof(buf));

        if (n < 0)
                fail_msg("%s: getxattr %s: %s", path, name, strerror(errno));
        assert_int_equal(n, (ssize_t)len);
        assert_memory_equal(buf, want, len);
}

/* What the three layers merged must look like. */
static void check_view(const char *r, const char *sentinel)
{
        struct vfs_cap_data cap = cap_net_raw();
        struct stat a, b;
        char link[PATH_MAX];
        ssize_t n;

        assert_content(pj(r, "etc/hostname"), "l2\n");
        assert_content(pj(r, "etc/new"), "l3");
        assert_absent(pj(r, "etc/passwd"));
        assert_absent(pj(r, "gone.txt"));
        assert_absent(pj(r, "gonedir"));
        assert_absent(pj(r, "data/old/a.txt"));
        assert_absent(pj(r, "data/old/b.txt"));
        assert_content(pj(r, "data/old/c.txt"), "c");
        assert_content(pj(r, "data/replaced"), "now a file");
        n = readlink(pj(r, "sym"), link, sizeof(link) - 1);
        assert_true(n > 0);
        link[n] = '\0';
        assert_string_equal(link, "etc/hostname");
        assert_content(pj(r, "sym"), "l2\n");
        assert_int_equal(stat(pj(r, "hard1"), &a), 0);
        assert_int_equal(stat(pj(r, "hard2"), &b), 0);
        assert_int_equal(a.st_ino, b.st_ino);
        assert_int_equal(a.st_uid, 7);
        assert_int_equal(a.st_mode & 07777, 0600);
        assert_int_equal(stat(pj(r, "h/a"), &a), 0);
        assert_int_equal(stat(pj(r, "h/b"), &b), 0);
        assert_int_equal(a.st_ino, b.st_ino);
        assert_int_equal(a.st_mode & 07777, 0640);
        assert_int_equal(a.st_gid, 3);
        assert_int_equal(stat(pj(r, "bin/tool"), &a), 0);
        assert_int_equal(a.st_mode & 07777, 04755);
        assert_int_equal(a.st_uid, 1000);
        assert_xattr(pj(r, "xattr.txt"), "user.test", "hello", 5);
        assert_xattr(pj(r, "ping"), "security.capability", &cap, sizeof(cap));
        assert_int_equal(lstat(pj(r, "dirlink"), &a), 0);
        assert_true(S_ISDIR(a.st_mode));
        assert_content(pj(r, "dirlink/f"), "f");
        assert_absent(pj(sentinel, "f"));
        assert_int_equal(lstat(pj(r, "dev/null"), &a), 0);
        assert_true(S_ISCHR(a.st_mode));
        assert_int_equal(a.st_rdev, makedev(1, 3));
        assert_int_equal(a.st_mode & 07777, 0666);
        assert_int_equal(lstat(pj(r, "dev/fifo"), &a), 0);
        assert_true(S_ISFIFO(a.st_mode));
        assert_int_equal(lstat(pj(r, "etc"), &a), 0);
        assert_int_equal(a.st_mtim.tv_sec, DIR_MTIME);
        assert_int_equal(lstat(pj(r, "bin/tool"), &a), 0);
        assert_int_equal(a.st_mtim.tv_sec, FILE_MTIME);
        assert_int_equal(lstat(pj(r, "sparse"), &a), 0);
        assert_int_equal(a.st_size, 1 << 20);
        assert_int_equal(lstat(pj(r, "escape"), &a), 0);
        assert_true(S_ISLNK(a.st_mode));
        assert_int_equal(lstat(pj(r, "sym"), &a), 0);
        assert_int_equal(lstat(pj(r, "symhard"), &b), 0);
        assert_true(S_ISLNK(b.st_mode));
        assert_int_equal(a.st_ino, b.st_ino);
        assert_content(pj(r, "filedir/inside"), "inside");
        /* a merged directory has the upper one's xattrs only */
        assert_content(pj(r, "xd/lower"), "lower");
        assert_true(lgetxattr(pj(r, "xd"), "user.lower", NULL, 0) < 0);
        assert_int_equal(errno, ENODATA);
}

/* ---- comparing two trees entry by entry ---- */

struct inopair {
        ino_t a, b;
};

struct cmp {
        struct inopair *pairs;
        size_t n;
};

static int name_cmp(const void *x, const void *y)
{
        return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Sorted entry names of dir (NULL-terminated); *count set. */
static char **names_of(const char *dir, size_t *count)
{
        DIR *d = opendir(dir);
        char **v = NULL;
        size_t n = 0;
        struct dirent *de;

        assert_non_null(d);
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                v = xrealloc(v, (n + 2) * sizeof(*v));
                v[n++] = xstrdup(de->d_name);
        }
        closedir(d);
        v = xrealloc(v, (n + 1) * sizeof(*v));
        v[n] = NULL;
        qsort(v, n, sizeof(*v), name_cmp);
        *count = n;
        return v;
}

static void cmp_xattrs(const char *a, const char *b)
{
        char la[4096], lb[4096];
        ssize_t na = llistxattr(a, la, sizeof(la)), nb = llistxattr(b, lb, sizeof(lb));

        assert_true(na >= 0 && nb >= 0);
        if (na != nb || memcmp(la, lb, (size_t)na) != 0)
                fail_msg("%s and %s: different xattr names", a, b);
        for (char *p = la; p < la + na; p += strlen(p) + 1) {
                char va[4096], vb[4096];
                ssize_t sa = lgetxattr(a, p, va, sizeof(va)), sb = lgetxattr(b, p, vb, sizeof(vb));

                if (sa != sb || sa < 0 || memcmp(va, vb, (size_t)sa) != 0)
                        fail_msg("%s: xattr %s differs", b, p);
        }
}

static void cmp_inode(struct cmp *c, const struct stat *a, const struct stat *b, const char *path)
{
        for (size_t i = 0; i < c->n; i++)
                if (c->pairs[i].a == a->st_ino || c->pairs[i].b == b->st_ino) {
                        if (c->pairs[i].a != a->st_ino || c->pairs[i].b != b->st_ino)
                                fail_msg("%s: hard links differ", path);
                        return;
                }
        c->pairs = xrealloc(c->pairs, (c->n + 1) * sizeof(*c->pairs));
        c->pairs[c->n++] = (struct inopair){ a->st_ino, b->st_ino };
}

static void cmp_tree(struct cmp *c, const char *a, const char *b);

static void cmp_entry(struct cmp *c, const char *a, const char *b)
{
        struct stat sa, sb;

        assert_int_equal(lstat(a, &sa), 0);
        assert_int_equal(lstat(b, &sb), 0);
        if (sa.st_mode != sb.st_mode || sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid)
                fail_msg("%s: mode/owner %o %u:%u vs %o %u:%u", b, sa.st_mode, sa.st_uid, sa.st_gid, sb.st_mode,
                         sb.st_uid, sb.st_gid);
        if (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec || sa.st_mtim.tv_nsec != sb.st_mtim.tv_nsec)
                fail_msg("%s: mtime differs", b);
        cmp_xattrs(a, b);
        if (S_ISDIR(sa.st_mode))
                return cmp_tree(c, a, b);
        assert_int_equal(sa.st_size, sb.st_size);
        assert_int_equal(sa.st_nlink, sb.st_nlink);
        if (sa.st_nlink > 1)
                cmp_inode(c, &sa, &sb, b);
        if (S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode))
                assert_int_equal(sa.st_rdev, sb.st_rdev);
        if (S_ISLNK(sa.st_mode)) {
                char ta[PATH_MAX], tb[PATH_MAX];
                ssize_t na = readlink(a, ta, sizeof(ta)), nb = readlink(b, tb, sizeof(tb));

                assert_int_equal(na, nb);
                assert_memory_equal(ta, tb, (size_t)na);
        }
        if (S_ISREG(sa.st_mode)) {
                _cleanup_free_ char *da = NULL, *db = NULL;
                _cleanup_error_ berth_error_t *err = NULL;
                size_t la, lb;

                assert_int_equal(read_file(a, &da, &la, &err), 0);
                assert_int_equal(read_file(b, &db, &lb, &err), 0);
                assert_int_equal(la, lb);
                assert_memory_equal(da, db, la);
        }
}

/* Same names, types, modes, owners, mtimes, xattrs, content, links. */
static void cmp_tree(struct cmp *c, const char *a, const char *b)
{
        size_t na, nb;
        _cleanup_strv_ char **va = names_of(a, &na);
        _cleanup_strv_ char **vb = names_of(b, &nb);

        for (size_t i = 0; i < na || i < nb; i++) {
                _cleanup_free_ char *pa = NULL, *pb = NULL;

                if (i >= na || i >= nb || strcmp(va[i], vb[i]) != 0)
                        fail_msg("%s vs %s: entry %s vs %s", a, b, i < na ? va[i] : "(none)",
                                 i < nb ? vb[i] : "(none)");
                pa = xasprintf("%s/%s", a, va[i]);
                pb = xasprintf("%s/%s", b, vb[i]);
                cmp_entry(c, pa, pb);
        }
}

static void assert_same_tree(const char *a, const char *b)
{
        struct cmp c = { 0 };

        cmp_tree(&c, a, b);
        free(c.pairs);
}

static size_t count_fds(void)
{
        size_t n;
        _cleanup_strv_ char **v = names_of("/proc/self/fd", &n);
        (void)v;

        return n;
}

/* ---- tests ---- */

static struct snapshot_spec spec3(struct fx *f, const char **layers)
{
        for (int i = 0; i < 3; i++)
                layers[i] = f->l[i];
        return (struct snapshot_spec){ .layers = layers, .nlayers = 3, .upper = f->upper, .work = f->work };
}

static void overlay_view(void **state, bool legacy)
{
        struct fx *f = *state;
        const char *layers[3];
        struct snapshot_spec s = spec3(f, layers);
        struct stat st;

        snapshot_force_legacy_mount = legacy;
        assert_mount(&s, f->merged);
        snapshot_force_legacy_mount = false;
        check_view(f->merged, f->sentinel);
        /* writes land in upper, the layers stay as they were */
        put(f->merged, "etc/newfile", "w", 0644, 0, 0);
        assert_content(pj(f->upper, "etc/newfile"), "w");
        assert_absent(pj(f->l[2], "etc/newfile"));
        assert_int_equal(unlink(pj(f->merged, "etc/hostname")), 0);
        assert_absent(pj(f->merged, "etc/hostname"));
        assert_int_equal(lstat(pj(f->upper, "etc/hostname"), &st), 0);
        assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
        assert_content(pj(f->l[1], "etc/hostname"), "l2\n");
        put(f->merged, "hard1", "changed", 0600, 7, 8);
        assert_content(pj(f->l[0], "hard1"), "hard");
        assert_content(pj(f->l[0], "hard2"), "hard");
        assert_unmount(f->merged);
        assert_absent(pj(f->merged, "etc"));
}

static void test_overlay_view(void **state) { overlay_view(state, false); }
static void test_overlay_view_legacy(void **state) { overlay_view(state, true); }

static void test_vfs_matches_overlay(void **state)
{
        struct fx *f = *state;
        const char *layers[3];
        struct snapshot_spec s = spec3(f, layers);
        _cleanup_error_ berth_error_t *err = NULL;
        struct stat st;
        size_t fds = count_fds();

        s.read_only = true;
        if (snapshot_vfs_create(layers, 3, f->vfs, &err) < 0)
                fail_msg("vfs: %s", err->msg);
        assert_int_equal(count_fds(), fds);
        check_view(f->vfs, f->sentinel);
        /* hard links inside one layer stay links; holes stay holes */
        assert_int_equal(lstat(pj(f->vfs, "sparse"), &st), 0);
        assert_true(st.st_blocks * 512 < 64 * 1024);
        assert_mount(&s, f->merged);
        assert_same_tree(f->merged, f->vfs);
        assert_unmount(f->merged);
        /* the layers are untouched */
        assert_content(pj(f->l[0], "gone.txt"), "gone");
        assert_content(pj(f->l[0], "data/old/a.txt"), "a");
}

static void test_vfs_replaces_symlink_dir(void **state)
{
        struct fx *f = *state;
        const char *layers[2] = { f->l[0], f->l[2] };
        _cleanup_error_ berth_error_t *err = NULL;
        struct stat st;

        /* the bottom layer's dirlink points at the sentinel; the top
         * layer's dirlink/ is a directory: the copy must replace the
         * symlink, never write through it */
        assert_int_equal(snapshot_vfs_create(layers, 2, f->vfs, &err), 0);
        assert_int_equal(lstat(pj(f->vfs, "dirlink"), &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_absent(pj(f->sentinel, "f"));
        /* copying again over the result merges */
        assert_int_equal(snapshot_vfs_create(layers, 2, f->vfs, &err), 0);
        assert_content(pj(f->vfs, "dirlink/f"), "f");
}

static void test_vfs_missing_layer(void **state)
{
        struct fx *f = *state;
        const char *layers[2] = { f->l[0], "/nonexistent/berth-layer" };
        _cleanup_error_ berth_error_t *err = NULL;

        assert_true(snapshot_vfs_create(layers, 2, f->vfs, &err) < 0);
        assert_non_null(strstr(err->msg, "copy layer 1 (/nonexistent/berth-layer)"));
        assert_int_equal(err->status, ENOENT);
}

/* n layers under base/many, each with its own file and a shared one. */
static char **many_layers(struct fx *f, size_t n)
{
        char **v = xcalloc(n + 1, sizeof(*v));

        for (size_t i = 0; i < n; i++) {
                char name[32], num[32];

                v[i] = xasprintf("%s/many/layer-%03zu", f->base, i);
                snprintf(name, sizeof(name), "f%03zu", i);
                snprintf(num, sizeof(num), "%zu", i);
                mkdirs(v[i]);
                put(v[i], name, num, 0644, 0, 0);
                put(v[i], "common", num, 0644, 0, 0);
        }
        return v;
}

static bool kernel_at_least(int maj, int min)
{
        struct utsname u;
        int a = 0, b = 0;

        return uname(&u) == 0 && sscanf(u.release, "%d.%d", &a, &b) == 2 && (a > maj || (a == maj && b >= min));
}

/* The mountinfo line of target (the last one), or NULL. */
static char *mountinfo_of(const char *target)
{
        FILE *mi = fopen("/proc/self/mountinfo", "re");
        char *line = NULL, *found = NULL;
        size_t cap = 0;

        assert_non_null(mi);
        while (getline(&line, &cap, mi) > 0) {
                char mp[PATH_MAX];

                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && strcmp(mp, target) == 0) {
                        free(found);
                        found = xstrdup(line);
                }
        }
        fclose(mi);
        free(line);
        return found;
}

static void many(void **state, size_t n, bool legacy)
{
        struct fx *f = *state;
        _cleanup_strv_ char **v = many_layers(f, n);
        struct snapshot_spec s = { .layers = (const char *const *)v, .nlayers = n, .upper = f->upper,
                                   .work = f->work };
        _cleanup_free_ char *want = xasprintf("%zu", n - 1), *mi = NULL;

        size_t fds = count_fds();

        snapshot_force_legacy_mount = legacy;
        assert_mount(&s, f->merged);
        snapshot_force_legacy_mount = false;
        assert_int_equal(count_fds(), fds);
        assert_content(pj(f->merged, "common"), want);
        assert_content(pj(f->merged, "f000"), "0");
        assert_content(pj(f->merged, "f199"), "199");
        mi = mountinfo_of(f->merged);
        assert_non_null(mi);
        if (legacy)
                assert_non_null(strstr(mi, "lowerdir=/proc/self/fd/"));
        else if (kernel_at_least(6, 8))
                assert_non_null(strstr(mi, "lowerdir+="));
        /* the kernel lists only what differs from its defaults */
        assert_null(strstr(mi, "index=on"));
        assert_null(strstr(mi, "redirect_dir=on"));
        assert_null(strstr(mi, "metacopy=on"));
        assert_unmount(f->merged);
}

static void test_200_layers(void **state) { many(state, 200, false); }
static void test_200_layers_legacy(void **state) { many(state, 200, true); }

static void test_300_layers(void **state)
{
        struct fx *f = *state;
        _cleanup_strv_ char **v = many_layers(f, 300);
        struct snapshot_spec s = { .layers = (const char *const *)v, .nlayers = 300, .upper = f->upper,
                                   .work = f->work };
        _cleanup_error_ berth_error_t *err = NULL;

        /* beyond one page even with /proc/self/fd paths: a clear error */
        snapshot_force_legacy_mount = true;
        assert_true(snapshot_mount(&s, f->merged, &err) < 0);
        snapshot_force_legacy_mount = false;
        assert_int_equal(err->status, E2BIG);
        assert_non_null(strstr(err->msg, "300 layers need"));
        if (!kernel_at_least(6, 8))
                skip();
        assert_mount(&s, f->merged);
        assert_content(pj(f->merged, "common"), "299");
        assert_unmount(f->merged);
}

static void test_too_many_layers(void **state)
{
        struct fx *f = *state;
        const char **v = xcalloc(SNAPSHOT_MAX_LAYERS + 1, sizeof(*v));
        struct snapshot_spec s = { .layers = v, .nlayers = SNAPSHOT_MAX_LAYERS + 1, .upper = f->upper,
                                   .work = f->work };
        _cleanup_error_ berth_error_t *err = NULL;

        for (size_t i = 0; i <= SNAPSHOT_MAX_LAYERS; i++)
                v[i] = f->l[0];
        assert_true(snapshot_mount(&s, f->merged, &err) < 0);
        assert_non_null(strstr(err->msg, "at most 500"));
        free(v);
}

static void assert_erofs(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

        if (fd >= 0)
                close(fd);
        assert_true(fd < 0);
        assert_int_equal(errno, EROFS);
}

static void test_read_only(void **state)
{
        struct fx *f = *state;
        const char *layers[3];
        struct snapshot_spec s = spec3(f, layers);

        s.read_only = true;
        s.upper = s.work = NULL;
        assert_mount(&s, f->merged);
        check_view(f->merged, f->sentinel);
        assert_erofs(pj(f->merged, "newfile"));
        assert_unmount(f->merged);
        /* the legacy path too */
        snapshot_force_legacy_mount = true;
        assert_mount(&s, f->merged);
        snapshot_force_legacy_mount = false;
        assert_content(pj(f->merged, "etc/hostname"), "l2\n");
        assert_erofs(pj(f->merged, "newfile"));
        assert_unmount(f->merged);
}

static void test_read_only_one_layer(void **state)
{
        struct fx *f = *state;
        const char *layers[1] = { f->l[0] };
        struct snapshot_spec s = { .layers = layers, .nlayers = 1, .read_only = true };

        assert_mount(&s, f->merged);
        assert_content(pj(f->merged, "etc/hostname"), "l1\n");
        assert_erofs(pj(f->merged, "newfile"));
        assert_unmount(f->merged);
        assert_absent(pj(f->l[0], "newfile"));
}

static void test_zero_layers(void **state)
{
        struct fx *f = *state;
        struct snapshot_spec s = { .upper = f->upper, .work = f->work };
        size_t n;

        /* writable: upper is the rootfs */
        assert_mount(&s, f->merged);
        put(f->merged, "hello", "scratch", 0644, 0, 0);
        assert_content(pj(f->upper, "hello"), "scratch");
        assert_unmount(f->merged);
        /* read-only: an empty read-only root */
        s = (struct snapshot_spec){ .read_only = true };
        assert_mount(&s, f->merged);
        _cleanup_strv_ char **names = names_of(f->merged, &n);
        (void)names;
        assert_int_equal(n, 0);
        assert_erofs(pj(f->merged, "x"));
        assert_unmount(f->merged);
}

static void test_writable_needs_upper(void **state)
{
        struct fx *f = *state;
        const char *layers[1] = { f->l[0] };
        struct snapshot_spec s = { .layers = layers, .nlayers = 1 };
        _cleanup_error_ berth_error_t *err = NULL;

        assert_true(snapshot_mount(&s, f->merged, &err) < 0);
        assert_non_null(strstr(err->msg, "needs upper and work"));
}

static void test_mount_errors_name_the_cause(void **state)
{
        struct fx *f = *state;
        const char *layers[2] = { f->l[0], "/nonexistent/berth-layer" };
        struct snapshot_spec s = { .layers = layers, .nlayers = 2, .upper = f->upper, .work = f->work };
        _cleanup_error_ berth_error_t *err = NULL;

        assert_true(snapshot_mount(&s, f->merged, &err) < 0);
        assert_non_null(strstr(err->msg, "/nonexistent/berth-layer"));
        berth_error_free(&err);
        snapshot_force_legacy_mount = true;
        assert_true(snapshot_mount(&s, f->merged, &err) < 0);
        snapshot_force_legacy_mount = false;
        assert_non_null(strstr(err->msg, "/nonexistent/berth-layer"));
}

static void test_unmount_idempotent(void **state)
{
        struct fx *f = *state;
        const char *layers[3];
        struct snapshot_spec s = spec3(f, layers);

        assert_mount(&s, f->merged);
        assert_unmount(f->merged);
        assert_unmount(f->merged);
        assert_unmount(f->vfs);                        /* never mounted */
        assert_unmount(pj(f->base, "does-not-exist")); /* missing */
        assert_absent(pj(f->merged, "etc"));
}

static void test_unmount_busy(void **state)
{
        struct fx *f = *state;
        const char *layers[3];
        struct snapshot_spec s = spec3(f, layers);
        int fd;

        assert_mount(&s, f->merged);
        fd = open(pj(f->merged, "etc"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_unmount(f->merged); /* busy: detached lazily */
        assert_absent(pj(f->merged, "etc"));
        close(fd);
}

static void assert_no_probe_left(const char *dir)
{
        size_t n;
        _cleanup_strv_ char **names = names_of(dir, &n);

        for (size_t i = 0; i < n; i++)
                if (str_has_prefix(names[i], ".berth-overlay-probe-"))
                        fail_msg("%s/%s left behind", dir, names[i]);
}

static void test_probe(void **state)
{
        struct fx *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        const char *tmpfs = pj(f->base, "tmpfs");
        const char *layers[3];
        struct snapshot_spec s = spec3(f, layers);

        assert_int_equal(snapshot_overlay_supported(f->base, &err), 1);
        assert_null(err);
        assert_no_probe_left(f->base);
        assert_int_equal(snapshot_overlay_supported(f->base, &err), 1); /* cached */
        mkdirs(tmpfs);
        assert_int_equal(mount("tmpfs", tmpfs, "tmpfs", 0, "mode=0755"), 0);
        assert_int_equal(snapshot_overlay_supported(tmpfs, &err), 1);
        assert_no_probe_left(tmpfs);
        /* upper on overlay itself: refused by the kernel */
        assert_mount(&s, f->merged);
        assert_int_equal(snapshot_overlay_supported(f->merged, &err), 0);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "upperdir"));
        assert_no_probe_left(f->merged);
        berth_error_free(&err);
        assert_int_equal(snapshot_overlay_supported(f->merged, &err), 0); /* cached, with the reason */
        assert_non_null(err);
        assert_int_equal(snapshot_overlay_supported(f->merged, NULL), 0);
        assert_unmount(f->merged);
        assert_int_equal(umount2(tmpfs, 0), 0);
        berth_error_free(&err);
        assert_true(snapshot_overlay_supported(pj(f->base, "missing"), &err) < 0);
        assert_int_equal(err->status, ENOENT);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_overlay_view),
                T(test_overlay_view_legacy),
                T(test_vfs_matches_overlay),
                T(test_vfs_replaces_symlink_dir),
                T(test_vfs_missing_layer),
                T(test_200_layers),
                T(test_200_layers_legacy),
                T(test_300_layers),
                T(test_too_many_layers),
                T(test_read_only),
                T(test_read_only_one_layer),
                T(test_zero_layers),
                T(test_writable_needs_upper),
                T(test_mount_errors_name_the_cause),
                T(test_unmount_idempotent),
                T(test_unmount_busy),
                T(test_probe),
        };

        if (geteuid() != 0) {
                fprintf(stderr, "test-snapshot: needs root (mounts, mknod, trusted xattrs)\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
