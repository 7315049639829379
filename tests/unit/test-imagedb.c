/* berth.db (imagedb.c) and the image store's repair on open
 * (image-store.c), on a temporary data root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "image/image-store.h"
#include "image/imagedb.h"
#include "util/util.h"

#define CHAIN_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define CHAIN_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define IMAGE_1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define IMAGE_2 "sha256:1112222222222222222222222222222222222222222222222222222222222222"

struct fixture {
        char dir[64];
        char *dbpath;
        struct imagedb *db;
};

static int setup(void **state)
{
        struct fixture *f = xcalloc(1, sizeof(*f));
        _cleanup_error_ berth_error_t *err = NULL;

        strcpy(f->dir, "/tmp/berth-test-imagedb.XXXXXX");
        if (mkdtemp(f->dir) == NULL)
                return -1;
        f->dbpath = xasprintf("%s/berth.db", f->dir);
        if (imagedb_open(f->dbpath, &f->db, &err) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *cmd = xasprintf("rm -rf %s", f->dir);

        imagedb_close(f->db);
        if (system(cmd) != 0)
                return -1;
        free(f->dbpath);
        free(f);
        return 0;
}

static void add_layer(struct imagedb *db, const char *chain, const char *parent)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct imagedb_layer l = { .chain_id = (char *)chain, .diff_id = (char *)chain, .parent = (char *)parent,
                                   .size = 100 };
        assert_int_equal(imagedb_layer_add(db, &l, &err), 0);
}

static void add_image(struct imagedb *db, const char *id, const char *const *chains, size_t n)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct imagedb_image img = { .id = (char *)id, .manifest_digest = (char *)id, .media_type = "x",
                                     .platform = "linux/amd64" };
        const char *blobs[] = { id };

        assert_int_equal(imagedb_begin(db, &err), 0);
        assert_int_equal(imagedb_image_add(db, &img, chains, n, blobs, 1, &err), 1);
        assert_int_equal(imagedb_commit(db, &err), 0);
}

static int64_t refs(struct imagedb *db, const char *chain)
{
        struct imagedb_layer l = { 0 };
        int64_t r;

        assert_int_equal(imagedb_layer_get(db, chain, &l, NULL), 1);
        r = l.refs;
        imagedb_layer_clear(&l);
        return r;
}

static void test_wal_and_schema(void **state)
{
        struct fixture *f = *state;
        sqlite3 *raw;
        sqlite3_stmt *st;

        assert_int_equal(sqlite3_open(f->dbpath, &raw), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        /* a database from a newer berth is refused, not misread */
        assert_int_equal(sqlite3_exec(raw, "UPDATE meta SET value = '99' WHERE key = 'schema'", NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(raw);
        struct imagedb *db = NULL;
        _cleanup_error_ berth_error_t *err = NULL;
        assert_int_equal(imagedb_open(f->dbpath, &db, &err) < 0, 1);
        assert_non_null(strstr(err->msg, "schema version 99 is newer"));
}

static void test_refs_follow_images(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        const char *stack1[] = { CHAIN_A };
        const char *stack2[] = { CHAIN_A, CHAIN_B };
        _cleanup_strv_ char **layers = NULL;
        size_t n;

        add_layer(f->db, CHAIN_A, NULL);
        add_layer(f->db, CHAIN_B, CHAIN_A);
        add_image(f->db, IMAGE_1, stack1, 1);
        add_image(f->db, IMAGE_2, stack2, 2);
        assert_int_equal(refs(f->db, CHAIN_A), 2);
        assert_int_equal(refs(f->db, CHAIN_B), 1);
        assert_int_equal(imagedb_image_layers(f->db, IMAGE_2, &layers, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(layers[0], CHAIN_A);
        assert_int_equal(imagedb_blob_used(f->db, IMAGE_1, &err), 1);

        assert_int_equal(imagedb_begin(f->db, &err), 0);
        assert_int_equal(imagedb_image_delete(f->db, IMAGE_2, &err), 0);
        assert_int_equal(imagedb_commit(f->db, &err), 0);
        assert_int_equal(refs(f->db, CHAIN_A), 1);
        assert_int_equal(refs(f->db, CHAIN_B), 0);
        assert_int_equal(imagedb_blob_used(f->db, IMAGE_2, &err), 0);
}

static void test_image_needs_recorded_layers(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct imagedb_image img = { .id = IMAGE_1, .manifest_digest = IMAGE_1, .media_type = "x", .platform = "p" };
        const char *stack[] = { CHAIN_B };

        assert_int_equal(imagedb_begin(f->db, &err), 0);
        assert_true(imagedb_image_add(f->db, &img, stack, 1, NULL, 0, &err) < 0);
        assert_non_null(strstr(err->msg, "is not recorded"));
        imagedb_rollback(f->db);
        assert_int_equal(imagedb_image_get(f->db, IMAGE_1, NULL, NULL), 0);
}

static void test_names_move_and_cascade(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *old = NULL;
        _cleanup_free_ char *id = NULL;
        _cleanup_strv_ char **tags = NULL;
        _cleanup_strv_ char **digests = NULL;

        add_image(f->db, IMAGE_1, NULL, 0);
        add_image(f->db, IMAGE_2, NULL, 0);
        assert_int_equal(imagedb_name_set(f->db, "docker.io/library/a:1", IMAGE_1, &old, &err), 0);
        assert_null(old);
        assert_int_equal(imagedb_name_set(f->db, "docker.io/library/a@" IMAGE_1, IMAGE_1, NULL, &err), 0);
        assert_int_equal(imagedb_name_set(f->db, "docker.io/library/a:1", IMAGE_2, &old, &err), 0);
        assert_string_equal(old, IMAGE_1);
        assert_int_equal(imagedb_name_get(f->db, "docker.io/library/a:1", &id, &err), 1);
        assert_string_equal(id, IMAGE_2);
        assert_int_equal(imagedb_image_names(f->db, IMAGE_1, false, &tags, &err), 0);
        assert_null(tags[0]);
        assert_int_equal(imagedb_image_names(f->db, IMAGE_1, true, &digests, &err), 0);
        assert_string_equal(digests[0], "docker.io/library/a@" IMAGE_1);
        /* deleting the image takes its names */
        assert_int_equal(imagedb_image_delete(f->db, IMAGE_1, &err), 0);
        assert_int_equal(imagedb_name_get(f->db, "docker.io/library/a@" IMAGE_1, NULL, &err), 0);
}

static void test_prefix_lookup(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *id = NULL;

        add_image(f->db, IMAGE_1, NULL, 0);
        add_image(f->db, IMAGE_2, NULL, 0);
        assert_int_equal(imagedb_image_find_prefix(f->db, "1111", &id, &err), 1);
        assert_string_equal(id, IMAGE_1);
        assert_true(imagedb_image_find_prefix(f->db, "111", NULL, &err) < 0);
        assert_non_null(strstr(err->msg, "ambiguous"));
        berth_error_free(&err);
        assert_int_equal(imagedb_image_find_prefix(f->db, "ffff", NULL, &err), 0);
        /* LIKE wildcards are not hex: never a match */
        assert_int_equal(imagedb_image_find_prefix(f->db, "%", NULL, &err), 0);
}

static void test_containers_and_fix_refs(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *image = NULL;
        const char *stack[] = { CHAIN_A };
        int64_t users;
        unsigned fixed;

        add_layer(f->db, CHAIN_A, NULL);
        add_image(f->db, IMAGE_1, stack, 1);
        assert_int_equal(imagedb_container_add(f->db, "c1", IMAGE_1, &err), 0);
        assert_true(imagedb_container_add(f->db, "c1", IMAGE_1, &err) < 0);
        assert_int_equal(err->status, EEXIST);
        assert_int_equal(imagedb_image_users(f->db, IMAGE_1, &users, NULL), 0);
        assert_int_equal(users, 1);
        assert_int_equal(imagedb_container_delete(f->db, "c1", &image, NULL), 1);
        assert_string_equal(image, IMAGE_1);
        assert_int_equal(imagedb_container_delete(f->db, "c1", NULL, NULL), 0);

        /* a wrong count (a crash mid-way in an older berth, a hand edit)
         * is recomputed from the stacks */
        assert_int_equal(imagedb_layer_ref(f->db, CHAIN_A, +5, NULL), 0);
        assert_int_equal(imagedb_fix_refs(f->db, &fixed, NULL), 0);
        assert_int_equal(fixed, 1);
        assert_int_equal(refs(f->db, CHAIN_A), 1);
}

/* image_store_open removes what a crash leaves: temporary extractions,
 * unrecorded layer directories, records of unused layers without one. */
static void test_store_repair_on_open(void **state)
{
        struct fixture *f = *state;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *tmp = xasprintf("%s/layers/.tmp-abc-1-0/diff", f->dir);
        _cleanup_free_ char *orphan = xasprintf("%s/layers/%s/diff", f->dir, &CHAIN_B[7]);
        _cleanup_free_ char *kept = xasprintf("%s/layers/%s/diff", f->dir, &CHAIN_A[7]);
        struct image_store *s = NULL;

        assert_int_equal(mkdir_p(tmp, 0755, &err), 0);
        assert_int_equal(mkdir_p(orphan, 0755, &err), 0);
        assert_int_equal(mkdir_p(kept, 0755, &err), 0);
        add_layer(f->db, CHAIN_A, NULL);
        /* recorded, unused, directory gone */
        add_layer(f->db, "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", NULL);
        assert_int_equal(image_store_open(f->dir, &s, &err), 0);
        assert_int_equal(access(tmp, F_OK), -1);
        assert_int_equal(access(orphan, F_OK), -1);
        assert_int_equal(access(kept, F_OK), 0);
        assert_true(image_store_has_layer(s, CHAIN_A));
        assert_int_equal(
                imagedb_layer_get(image_store_db(s),
                                  "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", NULL, NULL),
                0);
        image_store_close(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_wal_and_schema, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refs_follow_images, setup, teardown),
                cmocka_unit_test_setup_teardown(test_image_needs_recorded_layers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_names_move_and_cascade, setup, teardown),
                cmocka_unit_test_setup_teardown(test_prefix_lookup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_containers_and_fix_refs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_repair_on_open, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
