#include "image/imagedb.h"
#include "util/util.h"
#include <sqlite3.h>
#include <time.h>

#define IMAGEDB_SCHEMA_VERSION 1

struct imagedb {
        sqlite3 *db;
        char *path;
};

/* Foreign keys cascade names, layer stacks and blob records away with
 * their image; the layers table is not cascaded: refs count its users. */
static const char schema[] =
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS images ("
        "  id TEXT PRIMARY KEY, manifest_digest TEXT NOT NULL, media_type TEXT NOT NULL,"
        "  index_digest TEXT, platform TEXT NOT NULL, created TEXT,"
        "  size INTEGER NOT NULL, added INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS names ("
        "  name TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
        "  is_digest INTEGER NOT NULL);"
        "CREATE INDEX IF NOT EXISTS names_image ON names(image_id);"
        "CREATE TABLE IF NOT EXISTS layers ("
        "  chain_id TEXT PRIMARY KEY, diff_id TEXT NOT NULL, parent TEXT, blob_digest TEXT,"
        "  media_type TEXT, size INTEGER NOT NULL, refs INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE IF NOT EXISTS image_layers ("
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, idx INTEGER NOT NULL,"
        "  chain_id TEXT NOT NULL REFERENCES layers(chain_id), PRIMARY KEY (image_id, idx));"
        "CREATE INDEX IF NOT EXISTS image_layers_chain ON image_layers(chain_id);"
        "CREATE TABLE IF NOT EXISTS image_blobs ("
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, digest TEXT NOT NULL,"
        "  PRIMARY KEY (image_id, digest));"
        "CREATE INDEX IF NOT EXISTS image_blobs_digest ON image_blobs(digest);"
        "CREATE TABLE IF NOT EXISTS containers ("
        "  id TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id));";

static int db_error(struct imagedb *db, berth_error_t **err, const char *what)
{
        return berth_error(err, 0, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->db));
}

static int exec_sql(struct imagedb *db, const char *sql, berth_error_t **err)
{
        char *msg = NULL;

        if (sqlite3_exec(db->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
                int r = berth_error(err, 0, "%s: %s", db->path, msg ? msg : sqlite3_errmsg(db->db));
                sqlite3_free(msg);
                return r;
        }
        return 0;
}

static int check_version(struct imagedb *db, berth_error_t **err)
{
        sqlite3_stmt *st = NULL;
        int version = 0;

        if (sqlite3_prepare_v2(db->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL) != SQLITE_OK)
                return db_error(db, err, "read schema version");
        if (sqlite3_step(st) == SQLITE_ROW)
                version = atoi((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        if (version == 0)
                return exec_sql(db, "INSERT INTO meta VALUES ('schema', '1')", err);
        if (version > IMAGEDB_SCHEMA_VERSION)
                return berth_error(err, 0, "%s: schema version %d is newer than this berth (%d)", db->path, version,
                                   IMAGEDB_SCHEMA_VERSION);
        return 0;
}

int imagedb_open(const char *path, struct imagedb **out, berth_error_t **err)
{
        struct imagedb *db = xcalloc(1, sizeof(*db));

        db->path = xstrdup(path);
        if (sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK) {
                int r = berth_error(err, 0, "open %s: %s", path,
                                    db->db ? sqlite3_errmsg(db->db) : "out of memory");
                imagedb_close(db);
                return r;
        }
        sqlite3_busy_timeout(db->db, 10000);
        /* WAL: readers never block the writer, and a kill -9 loses at most
         * the transaction in flight.  synchronous=NORMAL keeps WAL
         * durable against process crashes (only power loss can drop the
         * last commits, never corrupt). */
        if (exec_sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err) < 0 ||
            exec_sql(db, "BEGIN IMMEDIATE", err) < 0) {
                imagedb_close(db);
                return -1;
        }
        if (exec_sql(db, schema, err) < 0 || check_version(db, err) < 0 || exec_sql(db, "COMMIT", err) < 0) {
                imagedb_rollback(db);
                imagedb_close(db);
                return -1;
        }
        *out = db;
        return 0;
}

void imagedb_close(struct imagedb *db)
{
        if (db == NULL)
                return;
        sqlite3_close_v2(db->db);
        free(db->path);
        free(db);
}

int imagedb_begin(struct imagedb *db, berth_error_t **err)
{
        return exec_sql(db, "BEGIN IMMEDIATE", err);
}

int imagedb_commit(struct imagedb *db, berth_error_t **err)
{
        return exec_sql(db, "COMMIT", err);
}

void imagedb_rollback(struct imagedb *db)
{
        if (!sqlite3_get_autocommit(db->db))
                sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- statement helpers ---------------------------------------------- */

static void finalizep(sqlite3_stmt **st) { sqlite3_finalize(*st); }
#define _cleanup_stmt_ __attribute__((cleanup(finalizep)))

/* Prepare sql and bind the arguments: 's' text (NULL binds NULL), 'i'
 * int64. */
static int prepare(struct imagedb *db, sqlite3_stmt **st, berth_error_t **err, const char *sql, const char *types,
                   ...)
{
        va_list ap;

        if (sqlite3_prepare_v2(db->db, sql, -1, st, NULL) != SQLITE_OK)
                return db_error(db, err, "prepare");
        va_start(ap, types);
        for (int i = 0; types[i]; i++) {
                int rc;
                if (types[i] == 's') {
                        const char *s = va_arg(ap, const char *);
                        rc = s ? sqlite3_bind_text(*st, i + 1, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(*st, i + 1);
                } else {
                        rc = sqlite3_bind_int64(*st, i + 1, va_arg(ap, int64_t));
                }
                if (rc != SQLITE_OK) {
                        va_end(ap);
                        return db_error(db, err, "bind");
                }
        }
        va_end(ap);
        return 0;
}

/* Step a statement that returns no rows. */
static int step_done(struct imagedb *db, sqlite3_stmt *st, berth_error_t **err)
{
        if (sqlite3_step(st) != SQLITE_DONE)
                return db_error(db, err, "write");
        return 0;
}

/* 1 on a row, 0 at the end, <0 on error. */
static int step_row(struct imagedb *db, sqlite3_stmt *st, berth_error_t **err)
{
        int rc = sqlite3_step(st);

        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE)
                return 0;
        return db_error(db, err, "read");
}

static char *col_str(sqlite3_stmt *st, int i)
{
        const unsigned char *s = sqlite3_column_text(st, i);
        return s ? xstrdup((const char *)s) : NULL;
}

/* A query with one text argument returning one text column, as a
 * NULL-terminated vector. */
static int query_strv(struct imagedb *db, const char *sql, const char *arg, char ***out, size_t *n,
                      berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char **v = xcalloc(1, sizeof(char *));
        size_t count = 0;
        int r;

        if (prepare(db, &st, err, sql, "s", arg) < 0) {
                free(v);
                return -1;
        }
        while ((r = step_row(db, st, err)) > 0) {
                v = xrealloc(v, (count + 2) * sizeof(char *));
                v[count++] = col_str(st, 0);
                v[count] = NULL;
        }
        if (r < 0) {
                cleanup_strvp(&v);
                return r;
        }
        *out = v;
        if (n)
                *n = count;
        return 0;
}

/* ---- layers --------------------------------------------------------- */

void imagedb_layer_clear(struct imagedb_layer *l)
{
        free(l->chain_id);
        free(l->diff_id);
        free(l->parent);
        free(l->blob_digest);
        free(l->media_type);
        *l = (struct imagedb_layer){ 0 };
}

#define LAYER_COLUMNS "chain_id, diff_id, parent, blob_digest, media_type, size, refs"

static void layer_from_row(sqlite3_stmt *st, struct imagedb_layer *l)
{
        l->chain_id = col_str(st, 0);
        l->diff_id = col_str(st, 1);
        l->parent = col_str(st, 2);
        l->blob_digest = col_str(st, 3);
        l->media_type = col_str(st, 4);
        l->size = sqlite3_column_int64(st, 5);
        l->refs = sqlite3_column_int64(st, 6);
}

int imagedb_layer_get(struct imagedb *db, const char *chain_id, struct imagedb_layer *out, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (prepare(db, &st, err, "SELECT " LAYER_COLUMNS " FROM layers WHERE chain_id = ?", "s", chain_id) < 0)
                return -1;
        r = step_row(db, st, err);
        if (r > 0 && out)
                layer_from_row(st, out);
        return r;
}

int imagedb_layer_add(struct imagedb *db, const struct imagedb_layer *l, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (prepare(db, &st, err,
                    "INSERT OR IGNORE INTO layers (" LAYER_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, 0)", "sssssi",
                    l->chain_id, l->diff_id, l->parent, l->blob_digest, l->media_type, l->size) < 0)
                return -1;
        return step_done(db, st, err);
}

int imagedb_layer_delete(struct imagedb *db, const char *chain_id, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (prepare(db, &st, err, "DELETE FROM layers WHERE chain_id = ?", "s", chain_id) < 0)
                return -1;
        return step_done(db, st, err);
}

int imagedb_layer_ref(struct imagedb *db, const char *chain_id, int delta, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (prepare(db, &st, err, "UPDATE layers SET refs = MAX(refs + ?, 0) WHERE chain_id = ?", "is",
                    (int64_t)delta, chain_id) < 0)
                return -1;
        return step_done(db, st, err);
}

int imagedb_layer_each(struct imagedb *db, imagedb_layer_fn fn, void *data, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (prepare(db, &st, err, "SELECT " LAYER_COLUMNS " FROM layers ORDER BY chain_id", "") < 0)
                return -1;
        while ((r = step_row(db, st, err)) > 0) {
                struct imagedb_layer l = { 0 };
                layer_from_row(st, &l);
                r = fn(data, &l, err);
                imagedb_layer_clear(&l);
                if (r < 0)
                        return r;
        }
        return r;
}

/* ---- images --------------------------------------------------------- */

void imagedb_image_clear(struct imagedb_image *img)
{
        free(img->id);
        free(img->manifest_digest);
        free(img->media_type);
        free(img->index_digest);
        free(img->platform);
        free(img->created);
        *img = (struct imagedb_image){ 0 };
}

#define IMAGE_COLUMNS "id, manifest_digest, media_type, index_digest, platform, created, size, added"

static void image_from_row(sqlite3_stmt *st, struct imagedb_image *img)
{
        img->id = col_str(st, 0);
        img->manifest_digest = col_str(st, 1);
        img->media_type = col_str(st, 2);
        img->index_digest = col_str(st, 3);
        img->platform = col_str(st, 4);
        img->created = col_str(st, 5);
        img->size = sqlite3_column_int64(st, 6);
        img->added = sqlite3_column_int64(st, 7);
}

int imagedb_image_get(struct imagedb *db, const char *id, struct imagedb_image *out, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (prepare(db, &st, err, "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?", "s", id) < 0)
                return -1;
        r = step_row(db, st, err);
        if (r > 0 && out)
                image_from_row(st, out);
        return r;
}

static int image_add_row(struct imagedb *db, const struct imagedb_image *img, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (prepare(db, &st, err, "INSERT INTO images (" IMAGE_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    "ssssssii", img->id, img->manifest_digest, img->media_type, img->index_digest, img->platform,
                    img->created, img->size, img->added ? img->added : (int64_t)time(NULL)) < 0)
                return -1;
        return step_done(db, st, err);
}

static int image_add_layer(struct imagedb *db, const char *id, size_t idx, const char *chain_id,
                           berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        int r = imagedb_layer_get(db, chain_id, NULL, err);

        if (r < 0)
                return r;
        if (r == 0)
                return berth_error(err, 0, "image %s: layer %s is not recorded", id, chain_id);
        if (prepare(db, &st, err, "INSERT INTO image_layers VALUES (?, ?, ?)", "sis", id, (int64_t)idx, chain_id) < 0 ||
            step_done(db, st, err) < 0)
                return -1;
        return imagedb_layer_ref(db, chain_id, +1, err);
}

static int image_add_blob(struct imagedb *db, const char *id, const char *digest, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (prepare(db, &st, err, "INSERT OR IGNORE INTO image_blobs VALUES (?, ?)", "ss", id, digest) < 0)
                return -1;
        return step_done(db, st, err);
}

int imagedb_image_add(struct imagedb *db, const struct imagedb_image *img, const char *const *chain_ids, size_t n,
                      const char *const *blobs, size_t n_blobs, berth_error_t **err)
{
        int r = imagedb_image_get(db, img->id, NULL, err);

        if (r != 0)
                return r < 0 ? r : 0;
        if (image_add_row(db, img, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++)
                if (image_add_layer(db, img->id, i, chain_ids[i], err) < 0)
                        return -1;
        for (size_t i = 0; i < n_blobs; i++)
                if (image_add_blob(db, img->id, blobs[i], err) < 0)
                        return -1;
        return 1;
}

int imagedb_image_delete(struct imagedb *db, const char *id, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *unref = NULL;
        _cleanup_stmt_ sqlite3_stmt *del = NULL;

        if (prepare(db, &unref, err,
                    "UPDATE layers SET refs = MAX(refs - 1, 0) WHERE chain_id IN "
                    "(SELECT chain_id FROM image_layers WHERE image_id = ?)",
                    "s", id) < 0 ||
            step_done(db, unref, err) < 0)
                return -1;
        if (prepare(db, &del, err, "DELETE FROM images WHERE id = ?", "s", id) < 0)
                return -1;
        return step_done(db, del, err);
}

int imagedb_image_layers(struct imagedb *db, const char *id, char ***out, size_t *n, berth_error_t **err)
{
        return query_strv(db, "SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx", id, out, n, err);
}

int imagedb_image_each(struct imagedb *db, imagedb_image_fn fn, void *data, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (prepare(db, &st, err, "SELECT " IMAGE_COLUMNS " FROM images ORDER BY added DESC, id", "") < 0)
                return -1;
        while ((r = step_row(db, st, err)) > 0) {
                struct imagedb_image img = { 0 };
                image_from_row(st, &img);
                r = fn(data, &img, err);
                imagedb_image_clear(&img);
                if (r < 0)
                        return r;
        }
        return r;
}

int imagedb_image_find_prefix(struct imagedb *db, const char *prefix, char **id, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *pattern = NULL;
        _cleanup_free_ char *found = NULL;
        int r, count = 0;

        /* ids are "sha256:<hex>": the prefix may omit the algorithm.  Only
         * hex characters are allowed, so LIKE wildcards cannot sneak in. */
        const char *hex = str_has_prefix(prefix, "sha256:") ? prefix + 7 : prefix;
        if (*hex == '\0' || strspn(hex, "0123456789abcdef") != strlen(hex))
                return 0;
        pattern = xasprintf("sha256:%s%%", hex);
        if (prepare(db, &st, err, "SELECT id FROM images WHERE id LIKE ? LIMIT 2", "s", pattern) < 0)
                return -1;
        while ((r = step_row(db, st, err)) > 0) {
                count++;
                if (found == NULL)
                        found = col_str(st, 0);
        }
        if (r < 0)
                return r;
        if (count > 1)
                return berth_error(err, 0, "image id prefix %s is ambiguous", prefix);
        if (count == 0)
                return 0;
        *id = steal_pointer(&found);
        return 1;
}

/* ---- names ---------------------------------------------------------- */

int imagedb_name_get(struct imagedb *db, const char *name, char **id, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (prepare(db, &st, err, "SELECT image_id FROM names WHERE name = ?", "s", name) < 0)
                return -1;
        r = step_row(db, st, err);
        if (r > 0 && id)
                *id = col_str(st, 0);
        return r;
}

int imagedb_name_set(struct imagedb *db, const char *name, const char *id, char **old_id, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *old = NULL;
        int r = imagedb_name_get(db, name, &old, err);

        if (r < 0)
                return r;
        if (prepare(db, &st, err, "INSERT OR REPLACE INTO names VALUES (?, ?, ?)", "ssi", name, id,
                    (int64_t)(strchr(name, '@') != NULL)) < 0 ||
            step_done(db, st, err) < 0)
                return -1;
        if (old_id)
                *old_id = old && strcmp(old, id) != 0 ? steal_pointer(&old) : NULL;
        return 0;
}

int imagedb_name_delete(struct imagedb *db, const char *name, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (prepare(db, &st, err, "DELETE FROM names WHERE name = ?", "s", name) < 0)
                return -1;
        return step_done(db, st, err);
}

int imagedb_image_names(struct imagedb *db, const char *id, bool digests, char ***out, berth_error_t **err)
{
        return query_strv(db,
                          digests ? "SELECT name FROM names WHERE image_id = ? AND is_digest = 1 ORDER BY name"
                                  : "SELECT name FROM names WHERE image_id = ? AND is_digest = 0 ORDER BY name",
                          id, out, NULL, err);
}

/* ---- blobs and containers ------------------------------------------- */

static int query_count(struct imagedb *db, const char *sql, const char *arg, int64_t *n, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (prepare(db, &st, err, sql, "s", arg) < 0)
                return -1;
        r = step_row(db, st, err);
        if (r < 0)
                return r;
        *n = r > 0 ? sqlite3_column_int64(st, 0) : 0;
        return 0;
}

int imagedb_blob_used(struct imagedb *db, const char *digest, berth_error_t **err)
{
        int64_t n;

        if (query_count(db, "SELECT COUNT(*) FROM image_blobs WHERE digest = ?", digest, &n, err) < 0)
                return -1;
        return n > 0;
}

int imagedb_container_add(struct imagedb *db, const char *container_id, const char *image_id, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;

        if (prepare(db, &st, err, "INSERT INTO containers VALUES (?, ?)", "ss", container_id, image_id) < 0)
                return -1;
        if (sqlite3_step(st) != SQLITE_DONE) {
                if (sqlite3_extended_errcode(db->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
                        return berth_error(err, EEXIST, "container %s already has a rootfs", container_id);
                return db_error(db, err, "write");
        }
        return 0;
}

int imagedb_container_delete(struct imagedb *db, const char *container_id, char **image_id, berth_error_t **err)
{
        _cleanup_stmt_ sqlite3_stmt *get = NULL;
        _cleanup_stmt_ sqlite3_stmt *del = NULL;
        int r;

        if (prepare(db, &get, err, "SELECT image_id FROM containers WHERE id = ?", "s", container_id) < 0)
                return -1;
        r = step_row(db, get, err);
        if (r <= 0)
                return r;
        if (image_id)
                *image_id = col_str(get, 0);
        if (prepare(db, &del, err, "DELETE FROM containers WHERE id = ?", "s", container_id) < 0 ||
            step_done(db, del, err) < 0)
                return -1;
        return 1;
}

int imagedb_image_users(struct imagedb *db, const char *id, int64_t *n, berth_error_t **err)
{
        return query_count(db, "SELECT COUNT(*) FROM containers WHERE image_id = ?", id, n, err);
}

int imagedb_fix_refs(struct imagedb *db, unsigned *fixed, berth_error_t **err)
{
#define REFS_WRONG "FROM layers WHERE refs != " \
        "(SELECT COUNT(*) FROM image_layers WHERE image_layers.chain_id = layers.chain_id)"
        _cleanup_stmt_ sqlite3_stmt *count = NULL;
        int64_t n = 0;

        if (prepare(db, &count, err, "SELECT COUNT(*) " REFS_WRONG, "") < 0)
                return -1;
        if (step_row(db, count, err) > 0)
                n = sqlite3_column_int64(count, 0);
        *fixed = (unsigned)n;
        if (n == 0)
                return 0;
        return exec_sql(db,
                        "UPDATE layers SET refs = (SELECT COUNT(*) FROM image_layers "
                        "WHERE image_layers.chain_id = layers.chain_id) WHERE chain_id IN (SELECT chain_id " REFS_WRONG
                        ")",
                        err);
#undef REFS_WRONG
}
