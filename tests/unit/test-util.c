#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/base64.h"
#include "util/util.h"

static void error_make_and_wrap(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        int ret = berth_error(&err, ENOENT, "open %s", "/x");

        assert_int_equal(ret, -ENOENT);
        assert_string_equal(err->msg, "open /x: No such file or directory");
        ret = berth_error_wrap(&err, "mount %s", "proc");
        assert_int_equal(ret, -ENOENT);
        assert_string_equal(err->msg, "mount proc: open /x: No such file or directory");
}

static void error_without_errno(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;

        assert_true(berth_error(&err, 0, "bad %d", 3) < 0);
        assert_string_equal(err->msg, "bad 3");
        assert_int_equal(err->status, 0);
}

static void files_roundtrip(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *dir = xstrdup("/tmp/berth-unit-XXXXXX");
        _cleanup_free_ char *path = NULL, *data = NULL, *deep = NULL;
        size_t len = 0;

        assert_non_null(mkdtemp(dir));
        deep = xasprintf("%s/a/b/c", dir);
        assert_int_equal(mkdir_p(deep, 0755, &err), 0);
        path = xasprintf("%s/a/file", dir);
        assert_int_equal(write_file_atomic(path, "hello", 5, &err), 0);
        assert_int_equal(read_file(path, &data, &len, &err), 0);
        assert_int_equal(len, 5);
        assert_string_equal(data, "hello");
        assert_true(read_file("/nonexistent/x", &data, &len, &err) < 0);
        assert_non_null(strstr(err->msg, "open /nonexistent/x"));
        unlink(path);
        rmdir(deep);
        *strrchr(deep, '/') = '\0';
        rmdir(deep);
        *strrchr(deep, '/') = '\0';
        rmdir(deep);
        rmdir(dir);
}

static void parse_numbers(void **state)
{
        (void)state;
        assert_int_equal(parse_ll("42"), 42);
        assert_int_equal(parse_ll("-1"), -1);
        assert_int_equal(parse_ll("4x"), -1);
        assert_int_equal(parse_ll(""), -1);
        assert_true(str_has_prefix("SIGKILL", "SIG"));
        assert_false(str_has_prefix("KILL", "SIG"));
}

static void quoting(void **state)
{
        (void)state;
        _cleanup_free_ char *a = quote("ab\"c\n\x7f"), *b = NULL;
        char long_input[400];

        assert_string_equal(a, "\"ab\\\"c\\x0a\\x7f\"");
        memset(long_input, 'x', sizeof(long_input) - 1);
        long_input[sizeof(long_input) - 1] = '\0';
        b = quote(long_input);
        assert_int_equal(strlen(b), 256 + 2 + 3);
        assert_string_equal(b + strlen(b) - 4, "\"...");
}

/* Go's StdEncoding and URLEncoding vectors (RFC 4648 section 10). */
static void base64_vectors(void **state)
{
        static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
        static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
        const unsigned char bin[] = { 0xfb, 0xff, 0xfe };
        char *e, *d;
        size_t n;

        (void)state;
        for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
                e = base64_encode(plain[i], strlen(plain[i]), false);
                assert_string_equal(e, coded[i]);
                d = base64_decode(e, &n);
                assert_non_null(d);
                assert_int_equal(n, strlen(plain[i]));
                assert_string_equal(d, plain[i]);
                free(d);
                free(e);
        }
        e = base64_encode(bin, sizeof(bin), false);
        assert_string_equal(e, "+//+");
        free(e);
        e = base64_encode(bin, sizeof(bin), true);
        assert_string_equal(e, "-__-");
        d = base64_decode(e, &n);
        assert_int_equal(n, 3);
        assert_memory_equal(d, bin, 3);
        free(d);
        free(e);
        /* unpadded input, as some clients send */
        d = base64_decode("Zm9vYg", &n);
        assert_string_equal(d, "foob");
        free(d);
        /* not base64 */
        assert_null(base64_decode("Zm9v!", NULL));
        assert_null(base64_decode("Z", NULL));
        assert_null(base64_decode("Zg===", NULL));
        assert_null(base64_decode("Zg=a", NULL));
}

static void strbuf_and_send_all(void **state)
{
        struct strbuf b = { 0 };
        int sv[2];
        char buf[8];

        (void)state;
        strbuf_add(&b, "", 0);
        assert_string_equal(b.data, "");
        strbuf_adds(&b, "ab");
        strbuf_add(&b, "cdef", 2);
        assert_int_equal(b.len, 4);
        assert_string_equal(b.data, "abcd");
        free(b.data);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(send_all(sv[0], "hi", 2), 0);
        assert_int_equal(read(sv[1], buf, sizeof(buf)), 2);
        close(sv[1]);
        /* a gone peer is -EPIPE, not a SIGPIPE that kills the test */
        assert_int_equal(send_all(sv[0], "hi", 2), -EPIPE);
        close(sv[0]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(error_make_and_wrap),
                cmocka_unit_test(error_without_errno),
                cmocka_unit_test(files_roundtrip),
                cmocka_unit_test(parse_numbers),
                cmocka_unit_test(quoting),
                cmocka_unit_test(base64_vectors),
                cmocka_unit_test(strbuf_and_send_all),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
