/* Docker-style config.json credentials: round trip, other keys kept, the
 * Docker Hub key, URL-shaped keys, errors, file mode, default path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <sys/stat.h>

#include "image/auth-config.h"
#include "util/util.h"

struct fixture {
        char dir[64];
        char *path;
};

#define assert_ok(expr)                                                                 \
        do {                                                                            \
                if ((expr) < 0) {                                                       \
                        fail_msg("%s: %s", #expr, err ? err->msg : "(no message)");    \
                }                                                                       \
        } while (0)

static int setup(void **state)
{
        struct fixture *f = xcalloc(1, sizeof(*f));
        strcpy(f->dir, "/tmp/berth-unit-auth-XXXXXX");
        if (mkdtemp(f->dir) == NULL)
                return -1;
        f->path = xasprintf("%s/docker/config.json", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", f->dir); /* test cleanup only */
        int r = system(cmd);
        free(f->path);
        free(f);
        return r == 0 ? 0 : -1;
}

static void write_config(struct fixture *f, const char *text)
{
        berth_error_t *err = NULL;
        _cleanup_free_ char *dir = xasprintf("%s/docker", f->dir);
        assert_ok(mkdir_p(dir, 0700, &err));
        assert_ok(write_file(f->path, text, strlen(text), &err));
}

static json_t *load_config(struct fixture *f)
{
        json_t *j = json_load_file(f->path, 0, NULL);
        assert_non_null(j);
        return j;
}

static void expect_creds(const char *path, const char *host, const char *user, const char *pass)
{
        berth_error_t *err = NULL;
        char *u = NULL, *p = NULL;
        int r = auth_config_get(path, host, &u, &p, &err);
        assert_ok(r);
        if (user == NULL) {
                assert_int_equal(r, 1);
                return;
        }
        assert_int_equal(r, 0);
        assert_string_equal(u, user);
        assert_string_equal(p, pass);
        free(u);
        free(p);
}

static void test_missing_file(void **state)
{
        struct fixture *f = *state;
        berth_error_t *err = NULL;
        expect_creds(f->path, "myreg:5000", NULL, NULL);
        assert_int_equal(auth_config_remove(f->path, "myreg:5000", &err), 1);
        assert_int_equal(access(f->path, F_OK), -1); /* nothing created */
}

static void test_round_trip(void **state)
{
        struct fixture *f = *state;
        berth_error_t *err = NULL;
        struct stat st;

        assert_ok(auth_config_set(f->path, "myreg:5000", "alice", "pa:ss w0rd", &err));
        expect_creds(f->path, "myreg:5000", "alice", "pa:ss w0rd");
        expect_creds(f->path, "other:5000", NULL, NULL);
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        /* what docker reads: auths.<host>.auth = base64(user:pass) */
        json_t *j = load_config(f);
        const char *a = json_string_value(json_object_get(json_object_get(json_object_get(j, "auths"), "myreg:5000"),
                                                          "auth"));
        assert_non_null(a);
        assert_string_equal(a, "YWxpY2U6cGE6c3MgdzByZA==");
        json_decref(j);

        /* replace, then remove */
        assert_ok(auth_config_set(f->path, "myreg:5000", "bob", "x", &err));
        expect_creds(f->path, "myreg:5000", "bob", "x");
        assert_int_equal(auth_config_remove(f->path, "myreg:5000", &err), 0);
        expect_creds(f->path, "myreg:5000", NULL, NULL);
        assert_int_equal(auth_config_remove(f->path, "myreg:5000", &err), 1);

        /* no leftover temporary files */
        _cleanup_free_ char *cmd = xasprintf("test -z \"$(find '%s' -name '*.tmp.*')\"", f->dir);
        assert_int_equal(system(cmd), 0);
}

static void test_keeps_other_keys(void **state)
{
        struct fixture *f = *state;
        berth_error_t *err = NULL;

        write_config(f, "{\"auths\":{\"other.io\":{\"auth\":\"dTpw\",\"email\":\"u@x\"}},"
                        "\"credsStore\":\"desktop\",\"HttpHeaders\":{\"X-Meta\":\"1\"},\"psFormat\":\"table\"}");
        assert_ok(auth_config_set(f->path, "myreg", "alice", "secret", &err));
        json_t *j = load_config(f);
        json_t *auths = json_object_get(j, "auths");
        assert_string_equal(json_string_value(json_object_get(j, "credsStore")), "desktop");
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "HttpHeaders"), "X-Meta")), "1");
        assert_string_equal(json_string_value(json_object_get(j, "psFormat")), "table");
        assert_string_equal(json_string_value(json_object_get(json_object_get(auths, "other.io"), "email")), "u@x");
        assert_int_equal(json_object_size(auths), 2);
        json_decref(j);
        expect_creds(f->path, "other.io", "u", "p");
        expect_creds(f->path, "myreg", "alice", "secret");

        assert_int_equal(auth_config_remove(f->path, "myreg", &err), 0);
        j = load_config(f);
        assert_int_equal(json_object_size(json_object_get(j, "auths")), 1);
        assert_string_equal(json_string_value(json_object_get(j, "credsStore")), "desktop");
        json_decref(j);
}

static void test_hub_key(void **state)
{
        struct fixture *f = *state;
        berth_error_t *err = NULL;
        const char *hub[] = { "docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/" };

        for (size_t i = 0; i < ARRAY_SIZE(hub); i++) {
                _cleanup_free_ char *k = auth_config_key(hub[i]);
                assert_string_equal(k, "https://index.docker.io/v1/");
        }
        _cleanup_free_ char *k = auth_config_key("Myreg.example:5000");
        assert_string_equal(k, "myreg.example:5000");

        assert_ok(auth_config_set(f->path, "registry-1.docker.io", "hubuser", "hubpass", &err));
        json_t *j = load_config(f);
        assert_non_null(json_object_get(json_object_get(j, "auths"), "https://index.docker.io/v1/"));
        assert_int_equal(json_object_size(json_object_get(j, "auths")), 1);
        json_decref(j);
        for (size_t i = 0; i < ARRAY_SIZE(hub); i++)
                expect_creds(f->path, hub[i], "hubuser", "hubpass");
        expect_creds(f->path, "docker.example", NULL, NULL);
        assert_int_equal(auth_config_remove(f->path, "docker.io", &err), 0);
        expect_creds(f->path, "index.docker.io", NULL, NULL);
}

static void test_url_keys(void **state)
{
        struct fixture *f = *state;
        berth_error_t *err = NULL;

        /* dXNlcjE6cDE= is user1:p1; the last uses username/password fields */
        write_config(f, "{\"auths\":{\"https://a.example\":{\"auth\":\"dXNlcjE6cDE=\"},"
                        "\"http://b.example:5000/\":{\"auth\":\"dXNlcjE6cDE=\"},"
                        "\"https://c.example/v2/\":{\"username\":\"cu\",\"password\":\"cp\"},"
                        "\"d.example\":{\"identitytoken\":\"tok\"}}}");
        expect_creds(f->path, "a.example", "user1", "p1");
        expect_creds(f->path, "b.example:5000", "user1", "p1");
        expect_creds(f->path, "B.example:5000", "user1", "p1");
        expect_creds(f->path, "b.example", NULL, NULL); /* the port is part of the host */
        expect_creds(f->path, "c.example", "cu", "cp");
        expect_creds(f->path, "d.example", NULL, NULL); /* a token only: not for us */

        /* set replaces the URL-shaped entry instead of adding a second one */
        assert_ok(auth_config_set(f->path, "a.example", "new", "pw", &err));
        json_t *j = load_config(f);
        json_t *auths = json_object_get(j, "auths");
        assert_null(json_object_get(auths, "https://a.example"));
        assert_non_null(json_object_get(auths, "a.example"));
        assert_int_equal(json_object_size(auths), 4);
        json_decref(j);
        expect_creds(f->path, "a.example", "new", "pw");
        assert_int_equal(auth_config_remove(f->path, "b.example:5000", &err), 0);
        expect_creds(f->path, "b.example:5000", NULL, NULL);
}

static void test_bad_file(void **state)
{
        struct fixture *f = *state;
        berth_error_t *err = NULL;
        char *u = NULL, *p = NULL;
        const char *bad[] = { "{\"auths\": {", "[1, 2]", "{\"auths\": []}" };

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                write_config(f, bad[i]);
                assert_true(auth_config_get(f->path, "myreg", &u, &p, &err) < 0);
                assert_non_null(strstr(err->msg, f->path));
                berth_error_free(&err);
                /* a broken file is not overwritten */
                assert_true(auth_config_set(f->path, "myreg", "a", "b", &err) < 0);
                berth_error_free(&err);
        }
        write_config(f, "{\"auths\": {");
        assert_true(auth_config_get(f->path, "myreg", &u, &p, &err) < 0);
        assert_non_null(strstr(err->msg, "invalid JSON"));
        berth_error_free(&err);

        /* an auth that is not base64 of user:password */
        write_config(f, "{\"auths\":{\"myreg\":{\"auth\":\"bm9jb2xvbg==\"}}}"); /* "nocolon" */
        assert_true(auth_config_get(f->path, "myreg", &u, &p, &err) < 0);
        assert_non_null(strstr(err->msg, "myreg"));
        assert_non_null(strstr(err->msg, f->path));
        berth_error_free(&err);
        write_config(f, "{\"auths\":{\"myreg\":{\"auth\":\"!!!\"}}}");
        assert_true(auth_config_get(f->path, "myreg", &u, &p, &err) < 0);
        berth_error_free(&err);

        assert_true(auth_config_set(f->path, "myreg", "a:b", "c", &err) < 0);
        berth_error_free(&err);
}

static void test_mode_and_symlink(void **state)
{
        struct fixture *f = *state;
        berth_error_t *err = NULL;
        struct stat st;

        /* an existing world-readable file becomes 0600 */
        write_config(f, "{}");
        assert_int_equal(chmod(f->path, 0644), 0);
        assert_ok(auth_config_set(f->path, "myreg", "a", "b", &err));
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        /* a symlinked config.json: the target is updated, the link stays */
        _cleanup_free_ char *link = xasprintf("%s/link.json", f->dir);
        assert_int_equal(symlink(f->path, link), 0);
        assert_ok(auth_config_set(link, "other", "c", "d", &err));
        assert_int_equal(lstat(link, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        expect_creds(f->path, "other", "c", "d");
        expect_creds(f->path, "myreg", "a", "b");
}

static void test_default_path(void **state)
{
        struct fixture *f = *state;
        berth_error_t *err = NULL;
        _cleanup_free_ char *saved_home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
        _cleanup_free_ char *saved_dc = getenv("DOCKER_CONFIG") ? xstrdup(getenv("DOCKER_CONFIG")) : NULL;
        _cleanup_free_ char *dc = xasprintf("%s/dc", f->dir);

        setenv("DOCKER_CONFIG", dc, 1);
        _cleanup_free_ char *p1 = auth_config_default_path();
        _cleanup_free_ char *want1 = xasprintf("%s/config.json", dc);
        assert_string_equal(p1, want1);
        assert_ok(auth_config_set(NULL, "myreg", "a", "b", &err));
        expect_creds(want1, "myreg", "a", "b");

        unsetenv("DOCKER_CONFIG");
        setenv("HOME", f->dir, 1);
        _cleanup_free_ char *p2 = auth_config_default_path();
        _cleanup_free_ char *want2 = xasprintf("%s/.docker/config.json", f->dir);
        assert_string_equal(p2, want2);
        expect_creds(NULL, "myreg", NULL, NULL);

        unsetenv("HOME");
        assert_null(auth_config_default_path());
        char *u, *p;
        assert_true(auth_config_get(NULL, "myreg", &u, &p, &err) < 0);
        berth_error_free(&err);

        if (saved_home)
                setenv("HOME", saved_home, 1);
        if (saved_dc)
                setenv("DOCKER_CONFIG", saved_dc, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keeps_other_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hub_key, setup, teardown),
                cmocka_unit_test_setup_teardown(test_url_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_mode_and_symlink, setup, teardown),
                cmocka_unit_test_setup_teardown(test_default_path, setup, teardown),
        };
        return cmocka_run_group_tests_name("auth-config", tests, NULL, NULL);
}
