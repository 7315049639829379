/* What the builder (src/build) needs from the engine besides create,
 * start, archive put and derive: the rootfs path of a container, and the
 * build cache.
 *
 * The cache is a table of its own in berth.db, next to the containers
 * (the engine's connection): (parent image, step key) -> image.  The key
 * is a digest of the step as expanded (history text, build args in the
 * environment, source checksums for COPY/ADD), so the chain of parents
 * is the chain of rows.  Images are the builder's intermediate images
 * (untagged, kept as dockerd's legacy builder keeps them): a row whose
 * image was removed is a miss, and is dropped. */
#include "engine/engine-internal.h"
#include "image/image-store.h"
#include <sqlite3.h>
#include <time.h>

char *engine_container_rootfs(struct engine *e, const char *id)
{
        return xasprintf("%s/containers/%s/rootfs", e->data_root, id);
}

static const char cache_schema[] =
        "CREATE TABLE IF NOT EXISTS build_cache ("
        "  parent TEXT NOT NULL, key TEXT NOT NULL, image_id TEXT NOT NULL, created INTEGER NOT NULL,"
        "  PRIMARY KEY (parent, key));";

static int cache_fail(struct engine *e, berth_error_t **err, const char *what)
{
        return berth_error(err, 0, "%s/berth.db: build cache: %s: %s", e->data_root, what, sqlite3_errmsg(e->db));
}

static int cache_table(struct engine *e, berth_error_t **err)
{
        char *msg = NULL;

        if (sqlite3_exec(e->db, cache_schema, NULL, NULL, &msg) != SQLITE_OK) {
                int r = berth_error(err, 0, "%s/berth.db: build cache: %s", e->data_root, msg ? msg : "error");
                sqlite3_free(msg);
                return r;
        }
        return 0;
}

static void cache_drop(struct engine *e, const char *parent, const char *key)
{
        sqlite3_stmt *st = NULL;

        if (sqlite3_prepare_v2(e->db, "DELETE FROM build_cache WHERE parent = ? AND key = ?", -1, &st, NULL) !=
            SQLITE_OK)
                return;
        sqlite3_bind_text(st, 1, parent, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_finalize(st);
}

int engine_build_cache_get(struct engine *e, const char *parent, const char *key, char **id, berth_error_t **err)
{
        _cleanup_free_ char *found = NULL, *resolved = NULL;
        sqlite3_stmt *st = NULL;
        int r;

        *id = NULL;
        if (cache_table(e, err) < 0)
                return -1;
        if (sqlite3_prepare_v2(e->db, "SELECT image_id FROM build_cache WHERE parent = ? AND key = ?", -1, &st,
                               NULL) != SQLITE_OK)
                return cache_fail(e, err, "prepare");
        sqlite3_bind_text(st, 1, parent, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_ROW)
                found = xstrdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        if (r != SQLITE_ROW && r != SQLITE_DONE)
                return cache_fail(e, err, "look up");
        if (found == NULL)
                return 0;
        /* the image may have been removed (rmi, prune) since */
        struct image_store *s = engine_images_lock(e);
        r = image_store_resolve(s, found, &resolved, NULL);
        engine_images_unlock(e);
        if (r < 0 || strcmp(resolved, found) != 0) {
                cache_drop(e, parent, key);
                return 0;
        }
        *id = steal_pointer(&found);
        return 1;
}

int engine_build_cache_put(struct engine *e, const char *parent, const char *key, const char *id,
                           berth_error_t **err)
{
        sqlite3_stmt *st = NULL;
        int r = 0;

        if (cache_table(e, err) < 0)
                return -1;
        if (sqlite3_prepare_v2(e->db, "INSERT OR REPLACE INTO build_cache VALUES (?, ?, ?, ?)", -1, &st, NULL) !=
            SQLITE_OK)
                return cache_fail(e, err, "prepare");
        sqlite3_bind_text(st, 1, parent, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
        if (sqlite3_step(st) != SQLITE_DONE)
                r = cache_fail(e, err, "record");
        sqlite3_finalize(st);
        return r;
}

/* dockerd's `docker images` leaves out images with children (the legacy
 * builder's intermediates) unless -a: an image some cached step was made
 * on is one. */
bool engine_build_cache_is_parent(struct engine *e, const char *id)
{
        sqlite3_stmt *st = NULL;
        bool found = false;

        if (cache_table(e, NULL) < 0 ||
            sqlite3_prepare_v2(e->db, "SELECT 1 FROM build_cache WHERE parent = ? LIMIT 1", -1, &st, NULL) != SQLITE_OK)
                return false;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        return found;
}
