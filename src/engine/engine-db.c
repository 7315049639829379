/* Container records in berth.db, next to the image tables (its own
 * connection: the image store's belongs to the image lock).  A record is
 * written after each state change, so a restarted berthd knows every
 * container, its last state and its shim. */
#include "engine/engine-internal.h"
#include <sqlite3.h>

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS engine_containers ("
        "  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, record TEXT NOT NULL);";

int engine_db_fail(struct engine *e, berth_error_t **err, const char *what)
{
        return berth_error(err, 0, "%s/berth.db: %s: %s", e->data_root, what, sqlite3_errmsg(e->db));
}

int engine_db_open(struct engine *e, berth_error_t **err)
{
        _cleanup_free_ char *path = xasprintf("%s/berth.db", e->data_root);
        sqlite3 *db = NULL;
        char *msg = NULL;

        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
            SQLITE_OK) {
                int r = berth_error(err, 0, "open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
                sqlite3_close(db);
                return r;
        }
        e->db = db;
        sqlite3_busy_timeout(db, 10000);
        if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
                int r = berth_error(err, 0, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
                sqlite3_free(msg);
                return r;
        }
        return 0;
}

void engine_db_close(struct engine *e)
{
        sqlite3_close_v2(e->db);
        e->db = NULL;
}

static json_t *record_of(struct ctr *c)
{
        json_t *rec = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:O, s:O*, s:s?, s:i, s:b, s:b, s:b, s:s, s:i, s:i, s:I, "
                         "s:s?, s:s?, s:s?, s:b, s:i}",
                         "id", c->id, "name", c->name, "image", c->image, "image_id", c->image_id, "created",
                         c->created, "body", c->body, "config", c->config, "stop_signal", c->stop_signal,
                         "stop_timeout", c->stop_timeout, "tty", c->tty, "open_stdin", c->open_stdin, "auto_remove",
                         c->auto_remove, "status", ctr_status_name(c->status), "pid", (int)c->pid, "shim_pid",
                         (int)c->shim_pid, "exit_code", (json_int_t)c->exit_code, "started_at", c->started_at,
                         "finished_at", c->finished_at, "error", c->error, "oom_killed", c->oom_killed,
                         "restart_count", (int)c->restart_count);

        if (rec && c->net)
                json_object_set(rec, "net", c->net);
        return rec;
}

int engine_db_save(struct engine *e, struct ctr *c, berth_error_t **err)
{
        json_t *rec = record_of(c);
        _cleanup_free_ char *text = json_dumps(rec, JSON_COMPACT);
        sqlite3_stmt *st = NULL;
        int r = 0;

        json_decref(rec);
        /* an upsert on the id: OR REPLACE would also delete another
         * container's record holding the same name (rename checks names
         * first, but a record must never vanish that way) */
        if (sqlite3_prepare_v2(e->db,
                               "INSERT INTO engine_containers VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                               "name = excluded.name, record = excluded.record",
                               -1, &st, NULL) != SQLITE_OK)
                return engine_db_fail(e, err, "prepare");
        sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
                r = engine_db_fail(e, err, "save container");
        sqlite3_finalize(st);
        return r;
}

int engine_db_delete(struct engine *e, const char *id, berth_error_t **err)
{
        sqlite3_stmt *st = NULL;
        int r = 0;

        if (sqlite3_prepare_v2(e->db, "DELETE FROM engine_containers WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
                return engine_db_fail(e, err, "prepare");
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
                r = engine_db_fail(e, err, "delete container");
        sqlite3_finalize(st);
        return r;
}

static char *dup_member(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        return s ? xstrdup(s) : NULL;
}

static struct ctr *ctr_from_record(json_t *rec)
{
        struct ctr *c = ctr_new();
        const char *id = json_string_value(json_object_get(rec, "id"));

        snprintf(c->id, sizeof(c->id), "%s", id ? id : "");
        c->name = dup_member(rec, "name");
        c->image = dup_member(rec, "image");
        c->image_id = dup_member(rec, "image_id");
        c->created = dup_member(rec, "created");
        c->body = json_incref(json_object_get(rec, "body"));
        c->config = json_incref(json_object_get(rec, "config"));
        ctr_config_share(c);
        c->stop_signal = dup_member(rec, "stop_signal");
        c->stop_timeout = (int)json_integer_value(json_object_get(rec, "stop_timeout"));
        c->tty = json_is_true(json_object_get(rec, "tty"));
        c->open_stdin = json_is_true(json_object_get(rec, "open_stdin"));
        c->auto_remove = json_is_true(json_object_get(rec, "auto_remove"));
        c->status = ctr_status_parse(json_string_value(json_object_get(rec, "status")));
        c->pid = (pid_t)json_integer_value(json_object_get(rec, "pid"));
        c->shim_pid = (pid_t)json_integer_value(json_object_get(rec, "shim_pid"));
        c->exit_code = json_integer_value(json_object_get(rec, "exit_code"));
        c->started_at = dup_member(rec, "started_at");
        c->finished_at = dup_member(rec, "finished_at");
        c->error = dup_member(rec, "error");
        c->oom_killed = json_is_true(json_object_get(rec, "oom_killed"));
        c->restart_count = (unsigned)json_integer_value(json_object_get(rec, "restart_count"));
        c->net = json_incref(json_object_get(rec, "net"));
        if (c->name == NULL || c->body == NULL || strlen(c->id) != CONTAINER_ID_LEN) {
                ctr_unref(c);
                return NULL;
        }
        return c;
}

int engine_db_load(struct engine *e, struct ctr ***out, size_t *n, berth_error_t **err)
{
        sqlite3_stmt *st = NULL;
        struct ctr **v = NULL;
        size_t count = 0;
        int rc;

        if (sqlite3_prepare_v2(e->db, "SELECT record FROM engine_containers", -1, &st, NULL) != SQLITE_OK)
                return engine_db_fail(e, err, "prepare");
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                json_t *rec = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
                struct ctr *c = rec ? ctr_from_record(rec) : NULL;
                json_decref(rec);
                if (c == NULL) {
                        berth_warn("berth.db: skipping an unreadable container record");
                        continue;
                }
                v = xrealloc(v, (count + 1) * sizeof(*v));
                v[count++] = c;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
                for (size_t i = 0; i < count; i++)
                        ctr_unref(v[i]);
                free(v);
                return engine_db_fail(e, err, "load containers");
        }
        *out = v;
        *n = count;
        return 0;
}
