#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "image/digest.h"
#include "image/store.h"
#include "util/util.h"

struct fixture {
        char dir[64];
        struct content_store *cs;
};

static int setup(void **state)
{
        struct fixture *f = xcalloc(1, sizeof(*f));
        berth_error_t *err = NULL;

        strcpy(f->dir, "/tmp/berth-unit-store-XXXXXX");
        if (mkdtemp(f->dir) == NULL || content_store_open(f->dir, &f->cs, &err) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", f->dir); /* test cleanup only */

        content_store_close(f->cs);
        if (system(cmd) != 0)
                return -1;
        free(f);
        return 0;
}

static int count_entries(const char *dir)
{
        int n = 0;
        _cleanup_free_ char *cmd = xasprintf("ls -A '%s' | wc -l", dir);
        FILE *p = popen(cmd, "r");

        if (p && fscanf(p, "%d", &n) != 1)
                n = -1;
        if (p)
                pclose(p);
        return n;
}

static void put_and_read(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *digest = NULL, *buf = NULL, *expect = digest_of("hello", 5);
        size_t len = 0;

        assert_int_equal(content_put(f->cs, "hello", 5, &digest, &err), 0);
        assert_string_equal(digest, expect);
        assert_true(content_exists(f->cs, digest));
        assert_int_equal(content_read(f->cs, digest, &buf, &len, &err), 0);
        assert_int_equal(len, 5);
        assert_memory_equal(buf, "hello", 5);
        /* storing it again is a no-op */
        free(digest);
        digest = NULL;
        assert_int_equal(content_put(f->cs, "hello", 5, &digest, &err), 0);
        assert_int_equal(content_delete(f->cs, digest, &err), 0);
        assert_false(content_exists(f->cs, digest));
}

static void mismatch_leaves_nothing(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *wrong = digest_of("other", 5);
        _cleanup_free_ char *ingest = xasprintf("%s/blobs/ingest", f->dir);
        struct ingest *in;
        int64_t off = -1;

        assert_int_equal(ingest_begin(f->cs, wrong, 5, &in, &off, &err), 0);
        assert_int_equal(off, 0);
        assert_int_equal(ingest_write(in, "hello", 5, &err), 0);
        assert_true(ingest_commit(in, &err) < 0);
        assert_non_null(strstr(err->msg, "content has digest"));
        assert_false(content_exists(f->cs, wrong));
        assert_int_equal(count_entries(ingest), 0);
}

static void size_is_enforced(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *d = digest_of("hello", 5);
        struct ingest *in;

        assert_int_equal(ingest_begin(f->cs, d, 4, &in, NULL, &err), 0);
        assert_true(ingest_write(in, "hello", 5, &err) < 0);
        assert_non_null(strstr(err->msg, "more than the 4 bytes"));
        ingest_abort(in, false);
        berth_error_free(&err);
        assert_int_equal(ingest_begin(f->cs, d, 6, &in, NULL, &err), 0);
        assert_int_equal(ingest_write(in, "hello", 5, &err), 0);
        assert_true(ingest_commit(in, &err) < 0);
        assert_non_null(strstr(err->msg, "5 bytes received, 6 announced"));
}

/* A download cut off half-way resumes where it stopped. */
static void resume_partial(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        const char *data = "0123456789abcdef";
        _cleanup_free_ char *d = digest_of(data, 16);
        struct ingest *in;
        int64_t off = -1;

        assert_int_equal(ingest_begin(f->cs, d, 16, &in, &off, &err), 0);
        assert_int_equal(ingest_write(in, data, 6, &err), 0);
        ingest_abort(in, true); /* the process dies here */
        assert_false(content_exists(f->cs, d));
        assert_int_equal(ingest_begin(f->cs, d, 16, &in, &off, &err), 0);
        assert_int_equal(off, 6);
        assert_int_equal(ingest_write(in, data + 6, 10, &err), 0);
        assert_int_equal(ingest_commit(in, &err), 0);
        assert_true(content_exists(f->cs, d));
}

static void check_repairs(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *good = NULL, *bad = NULL, *path = NULL;
        struct store_check_report r;
        struct ingest *in;
        int fd;

        assert_int_equal(content_put(f->cs, "good", 4, &good, &err), 0);
        assert_int_equal(content_put(f->cs, "bad!", 4, &bad, &err), 0);
        path = content_path(f->cs, bad);
        fd = open(path, O_WRONLY);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "BAD", 3), 3);
        close(fd);
        _cleanup_free_ char *d = digest_of("stale", 5);
        assert_int_equal(ingest_begin(f->cs, d, 5, &in, NULL, &err), 0);
        ingest_abort(in, true);
        assert_int_equal(content_check(f->cs, 0, &r, &err), 0);
        assert_int_equal(r.blobs, 2);
        assert_int_equal(r.corrupt, 1);
        assert_int_equal(r.stale_ingests, 0);
        assert_true(content_exists(f->cs, good));
        assert_false(content_exists(f->cs, bad));
        sleep(1);
        assert_int_equal(content_check(f->cs, 1, &r, &err), 0);
        assert_int_equal(r.stale_ingests, 1);
}

static void bad_digests_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct ingest *in;

        assert_true(ingest_begin(f->cs, "sha256:../../etc/passwd", 1, &in, NULL, &err) < 0);
        assert_false(content_exists(f->cs, "sha256:ABC"));
        assert_true(content_open(f->cs, "md5:00", &err) < 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(put_and_read, setup, teardown),
                cmocka_unit_test_setup_teardown(mismatch_leaves_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(size_is_enforced, setup, teardown),
                cmocka_unit_test_setup_teardown(resume_partial, setup, teardown),
                cmocka_unit_test_setup_teardown(check_repairs, setup, teardown),
                cmocka_unit_test_setup_teardown(bad_digests_refused, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
