#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "orch/kube-configdata.h"
#include "orch/kube-projection.h"
#include "util/util.h"

struct vol {
        char *dir;
        int fd;
};

static int vol_setup(void **state)
{
        struct vol *v = xcalloc(1, sizeof(*v));

        v->dir = xstrdup("/tmp/berth-projection-XXXXXX");
        if (!mkdtemp(v->dir))
                return -1;
        v->fd = open(v->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        *state = v;
        return v->fd < 0 ? -1 : 0;
}

static int vol_teardown(void **state)
{
        struct vol *v = *state;

        close(v->fd);
        remove_tree_at(AT_FDCWD, v->dir);
        free(v->dir);
        free(v);
        return 0;
}

#define FILE_(p, s) { (char *)(p), (char *)(s), sizeof(s) - 1, -1 }
#define FILE_MODE(p, s, m) { (char *)(p), (char *)(s), sizeof(s) - 1, (m) }

static void write_ok(struct vol *v, const struct kube_projected_file *f, size_t n, int mode)
{
        _cleanup_error_ berth_error_t *err = NULL;
        int r = kube_projection_write(v->fd, f, n, mode, &err);

        if (r < 0)
                fail_msg("kube_projection_write: %s", err->msg);
}

static char *link_at(struct vol *v, const char *name)
{
        char buf[4096];
        ssize_t n = readlinkat(v->fd, name, buf, sizeof(buf) - 1);

        if (n < 0)
                return NULL;
        buf[n] = '\0';
        return xstrdup(buf);
}

/* Content through the volume's symlinks, as a container reads it. */
static char *content(struct vol *v, const char *path)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *full = xasprintf("%s/%s", v->dir, path);
        char *data = NULL;

        return read_file(full, &data, NULL, &err) < 0 ? NULL : data;
}

static mode_t mode_of(struct vol *v, const char *path)
{
        struct stat st;

        assert_int_equal(fstatat(v->fd, path, &st, 0), 0);
        return st.st_mode & 07777;
}

static bool exists(struct vol *v, const char *name)
{
        struct stat st;
        return fstatat(v->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* How many "..2*" data directories the volume holds. */
static int ts_dirs(struct vol *v)
{
        DIR *d = opendir(v->dir);
        struct dirent *de;
        int n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                n += str_has_prefix(de->d_name, "..2");
        closedir(d);
        return n;
}

static void layout(void **state)
{
        struct vol *v = *state;
        struct kube_projected_file f[] = { FILE_("a", "1"), FILE_("conf/app.conf", "x=1\n") };
        _cleanup_free_ char *data = NULL, *a = NULL, *conf = NULL, *ca = NULL, *cc = NULL;
        struct stat st;

        write_ok(v, f, 2, 0644);
        data = link_at(v, "..data");
        assert_non_null(data);
        /* ..2026_11_29_17_00_00.123456789 */
        assert_int_equal(strlen(data), strlen("..2026_11_29_17_00_00.123456789"));
        assert_true(str_has_prefix(data, "..20"));
        assert_int_equal(fstatat(v->fd, data, &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0755);
        a = link_at(v, "a");
        conf = link_at(v, "conf");
        assert_string_equal(a, "..data/a");
        assert_string_equal(conf, "..data/conf");
        ca = content(v, "a");
        cc = content(v, "conf/app.conf");
        assert_string_equal(ca, "1");
        assert_string_equal(cc, "x=1\n");
        assert_int_equal(mode_of(v, "a"), 0644);
        assert_int_equal(fstatat(v->fd, "conf/app.conf", &st, 0), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_uid, geteuid());
        assert_false(exists(v, "..data_tmp"));
        assert_int_equal(ts_dirs(v), 1);
}

static void modes(void **state)
{
        struct vol *v = *state;
        struct kube_projected_file f[] = { FILE_("a", "1"), FILE_MODE("b", "2", 0600), FILE_MODE("c/d", "3", 0444) };
        mode_t old = umask(0077);

        write_ok(v, f, 3, 0400);
        umask(old);
        assert_int_equal(mode_of(v, "a"), 0400);
        assert_int_equal(mode_of(v, "b"), 0600);
        assert_int_equal(mode_of(v, "c/d"), 0444);
        assert_int_equal(mode_of(v, "c"), 0755);
        /* only the mode changes: a new data directory */
        _cleanup_free_ char *before = link_at(v, "..data"), *after = NULL;
        f[0].mode = 0440;
        write_ok(v, f, 3, 0400);
        after = link_at(v, "..data");
        assert_string_not_equal(before, after);
        assert_int_equal(mode_of(v, "a"), 0440);
}

static void update_swaps_atomically(void **state)
{
        struct vol *v = *state;
        struct kube_projected_file f1[] = { FILE_("a", "old"), FILE_("b", "bee") };
        struct kube_projected_file f2[] = { FILE_("a", "new!"), FILE_("b", "bee") };
        _cleanup_free_ char *full = xasprintf("%s/a", v->dir), *before = NULL, *after = NULL, *now = NULL;
        _cleanup_close_ int fd = -1;
        char buf[16] = { 0 };

        write_ok(v, f1, 2, 0644);
        before = link_at(v, "..data");
        fd = open(full, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        write_ok(v, f2, 2, 0644);
        after = link_at(v, "..data");
        assert_string_not_equal(before, after);
        /* the old file, still open, keeps its content; its directory is gone */
        assert_int_equal(pread(fd, buf, sizeof(buf) - 1, 0), 3);
        assert_string_equal(buf, "old");
        assert_false(exists(v, before));
        now = content(v, "a");
        assert_string_equal(now, "new!");
        assert_int_equal(ts_dirs(v), 1);
}

static void removed_keys_go(void **state)
{
        struct vol *v = *state;
        struct kube_projected_file f1[] = { FILE_("a", "1"), FILE_("b", "2"), FILE_("n/x", "3"), FILE_("n/y", "4") };
        struct kube_projected_file f2[] = { FILE_("a", "1"), FILE_("n/x", "3") };
        _cleanup_free_ char *nx = NULL, *ny = NULL;

        write_ok(v, f1, 4, 0644);
        assert_true(exists(v, "b"));
        write_ok(v, f2, 2, 0644);
        assert_false(exists(v, "b"));
        assert_true(exists(v, "a"));
        nx = content(v, "n/x");
        ny = content(v, "n/y");
        assert_string_equal(nx, "3");
        assert_null(ny);
        /* nothing at all: an empty data directory */
        write_ok(v, NULL, 0, 0644);
        assert_false(exists(v, "a"));
        assert_false(exists(v, "n"));
        assert_true(exists(v, "..data"));
        assert_int_equal(ts_dirs(v), 1);
}

static void idempotent(void **state)
{
        struct vol *v = *state;
        struct kube_projected_file f[] = { FILE_("a", "1"), FILE_("conf/app.conf", "x") };
        _cleanup_free_ char *before = NULL, *after = NULL, *again = NULL;

        write_ok(v, f, 2, 0644);
        before = link_at(v, "..data");
        write_ok(v, f, 2, 0644);
        after = link_at(v, "..data");
        assert_string_equal(before, after);
        /* a user-visible link someone removed comes back without a swap */
        assert_int_equal(unlinkat(v->fd, "a", 0), 0);
        write_ok(v, f, 2, 0644);
        again = link_at(v, "..data");
        assert_string_equal(before, again);
        assert_true(exists(v, "a"));
        /* an extra file in the data directory is a change */
        _cleanup_free_ char *extra = xasprintf("%s/%s/stray", v->dir, before), *last = NULL;
        _cleanup_error_ berth_error_t *err = NULL;
        assert_int_equal(write_file(extra, "s", 1, &err), 0);
        write_ok(v, f, 2, 0644);
        last = link_at(v, "..data");
        assert_string_not_equal(before, last);
        assert_false(exists(v, "stray"));
}

static void leftovers_are_removed(void **state)
{
        struct vol *v = *state;
        struct kube_projected_file f1[] = { FILE_("a", "1") }, f2[] = { FILE_("a", "2") };

        write_ok(v, f1, 1, 0644);
        /* a crash between mkdir and the swap left this */
        assert_int_equal(mkdirat(v->fd, "..2020_01_01_00_00_00.000000001", 0755), 0);
        assert_int_equal(ts_dirs(v), 2);
        write_ok(v, f2, 1, 0644);
        assert_int_equal(ts_dirs(v), 1);
}

static void bad_paths(void **state)
{
        struct vol *v = *state;
        static const char *const bad[] = { "", "/abs", "../x", "a/../b", "..data/x", "..x", "a/..", ".", "./" };
        _cleanup_free_ char *clean = NULL;

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                struct kube_projected_file f = { (char *)bad[i], (char *)"x", 1, -1 };
                if (kube_projection_write(v->fd, &f, 1, 0644, &err) != -EINVAL)
                        fail_msg("path \"%s\" accepted", bad[i]);
                assert_true(str_has_prefix(err->msg, "invalid path"));
        }
        assert_false(exists(v, "..data"));
        {
                _cleanup_error_ berth_error_t *err = NULL;
                assert_int_equal(kube_projection_path_check("./a//b/", &clean, &err), 0);
                assert_string_equal(clean, "a/b");
                assert_int_equal(kube_projection_path_check("a..b/.c", NULL, &err), 0);
        }
        {
                _cleanup_error_ berth_error_t *err = NULL;
                struct kube_projected_file f[] = { FILE_("a", "1"), FILE_("a/b", "2") };
                assert_int_equal(kube_projection_write(v->fd, f, 2, 0644, &err), -EINVAL);
        }
        {
                _cleanup_error_ berth_error_t *err = NULL;
                struct kube_projected_file f[] = { FILE_MODE("a", "1", 01000) };
                assert_int_equal(kube_projection_write(v->fd, f, 1, 0644, &err), -EINVAL);
                assert_string_equal(err->msg, "a: must be a number between 0 and 0777 (octal), both inclusive");
        }
}

static json_t *parse(const char *s)
{
        json_t *j = json_loads(s, 0, NULL);
        assert_non_null(j);
        return j;
}

static const char *file_data(struct kube_projected_file *f, size_t n, const char *path)
{
        for (size_t i = 0; i < n; i++) {
                if (strcmp(f[i].path, path) == 0)
                        return f[i].data;
        }
        return NULL;
}

static void configmap_source(void **state)
{
        (void)state;
        json_t *cm = parse("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\"},"
                           "\"data\":{\"app.conf\":\"x=1\",\"b\":\"2\"},\"binaryData\":{\"bin\":\"AAE=\"}}");
        json_t *all = parse("{\"name\":\"cfg\"}");
        json_t *items = parse("{\"name\":\"cfg\",\"defaultMode\":256,\"items\":[{\"key\":\"app.conf\","
                              "\"path\":\"conf/app.conf\"},{\"key\":\"b\",\"path\":\"b\",\"mode\":384}]}");
        json_t *missing_key = parse("{\"name\":\"cfg\",\"items\":[{\"key\":\"nope\",\"path\":\"n\"}]}");
        json_t *opt_key = parse("{\"name\":\"cfg\",\"optional\":true,\"items\":[{\"key\":\"nope\",\"path\":\"n\"},"
                                "{\"key\":\"b\",\"path\":\"b\"}]}");
        _cleanup_error_ berth_error_t *err = NULL;
        struct kube_projected_file *f = NULL;
        size_t n = 0;
        int mode = 0;

        assert_int_equal(kube_volume_source_files(all, cm, &f, &n, &mode, &err), 0);
        assert_int_equal(n, 3);
        assert_int_equal(mode, 0644);
        assert_string_equal(file_data(f, n, "app.conf"), "x=1");
        assert_memory_equal(file_data(f, n, "bin"), "\0\1", 2);
        assert_int_equal(f[0].mode, -1);
        kube_projected_files_free(f, n);

        assert_int_equal(kube_volume_source_files(items, cm, &f, &n, &mode, &err), 0);
        assert_int_equal(n, 2);
        assert_int_equal(mode, 0400);
        assert_string_equal(f[0].path, "conf/app.conf");
        assert_string_equal(f[0].data, "x=1");
        assert_int_equal(f[0].mode, -1);
        assert_string_equal(f[1].path, "b");
        assert_int_equal(f[1].mode, 0600);
        kube_projected_files_free(f, n);

        assert_int_equal(kube_volume_source_files(missing_key, cm, &f, &n, &mode, &err), -ENOENT);
        assert_string_equal(err->msg, "configmap references non-existent config key: \"nope\"");
        berth_error_free(&err);
        assert_int_equal(kube_volume_source_files(opt_key, cm, &f, &n, &mode, &err), 0);
        assert_int_equal(n, 1);
        assert_string_equal(f[0].path, "b");
        kube_projected_files_free(f, n);

        /* the object itself missing */
        assert_int_equal(kube_volume_source_files(all, NULL, &f, &n, &mode, &err), -ENOENT);
        assert_string_equal(err->msg, "configmap \"cfg\" not found");
        berth_error_free(&err);
        assert_int_equal(kube_volume_source_files(opt_key, NULL, &f, &n, &mode, &err), 0);
        assert_int_equal(n, 0);
        kube_projected_files_free(f, n);
        json_decref(cm);
        json_decref(all);
        json_decref(items);
        json_decref(missing_key);
        json_decref(opt_key);
}

static void secret_source(void **state)
{
        struct vol *v = *state;
        json_t *s = parse("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"data\":{\"P\":\"c2VjcmV0LXZhbHVl\"},"
                          "\"stringData\":{\"T\":\"plain\"}}");
        json_t *vs = parse("{\"secretName\":\"s\",\"defaultMode\":256}");
        json_t *bad = parse("{\"secretName\":\"s\",\"defaultMode\":512}");
        json_t *bad_path = parse("{\"secretName\":\"s\",\"items\":[{\"key\":\"P\",\"path\":\"../P\"}]}");
        _cleanup_error_ berth_error_t *err = NULL;
        struct kube_projected_file *f = NULL;
        _cleanup_free_ char *p = NULL, *t = NULL;
        size_t n = 0;
        int mode = 0;

        assert_int_equal(kube_secret_normalize(s, NULL, &err), 0);
        assert_int_equal(kube_volume_source_files(vs, s, &f, &n, &mode, &err), 0);
        assert_int_equal(n, 2);
        assert_int_equal(mode, 0400);
        assert_int_equal(kube_projection_write(v->fd, f, n, mode, &err), 0);
        kube_projected_files_free(f, n);
        /* consumers see the decoded bytes */
        p = content(v, "P");
        t = content(v, "T");
        assert_string_equal(p, "secret-value");
        assert_string_equal(t, "plain");
        assert_int_equal(mode_of(v, "P"), 0400);

        assert_int_equal(kube_volume_source_files(vs, NULL, &f, &n, &mode, &err), -ENOENT);
        assert_string_equal(err->msg, "secret \"s\" not found");
        berth_error_free(&err);
        assert_int_equal(kube_volume_source_files(bad, s, &f, &n, &mode, &err), -EINVAL);
        assert_string_equal(err->msg, "defaultMode: must be a number between 0 and 0777 (octal), both inclusive");
        berth_error_free(&err);
        assert_int_equal(kube_volume_source_files(bad_path, s, &f, &n, &mode, &err), -EINVAL);
        assert_string_equal(err->msg, "invalid path: must not contain '..': \"../P\"");
        json_decref(s);
        json_decref(vs);
        json_decref(bad);
        json_decref(bad_path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(layout, vol_setup, vol_teardown),
                cmocka_unit_test_setup_teardown(modes, vol_setup, vol_teardown),
                cmocka_unit_test_setup_teardown(update_swaps_atomically, vol_setup, vol_teardown),
                cmocka_unit_test_setup_teardown(removed_keys_go, vol_setup, vol_teardown),
                cmocka_unit_test_setup_teardown(idempotent, vol_setup, vol_teardown),
                cmocka_unit_test_setup_teardown(leftovers_are_removed, vol_setup, vol_teardown),
                cmocka_unit_test_setup_teardown(bad_paths, vol_setup, vol_teardown),
                cmocka_unit_test(configmap_source),
                cmocka_unit_test_setup_teardown(secret_source, vol_setup, vol_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
