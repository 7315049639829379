/* Kubernetes objects: in memory by "kind/namespace/name", written through
 * to berth.db (table kube_objects) on every change, so a restarted berthd
 * knows every declared object and its last status.  resourceVersion is
 * one counter for all objects, as etcd's revision is. */
#include "orch/kube-internal.h"
#include "util/util.h"
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static const struct kube_kind kinds[] = {
        { "Pod", "v1", "pods", "po", true },
        { "Service", "v1", "services", "svc", true },
        { "Endpoints", "v1", "endpoints", "ep", true },
        { "ConfigMap", "v1", "configmaps", "cm", true },
        { "Secret", "v1", "secrets", NULL, true },
        { "Event", "v1", "events", "ev", true },
        { "Namespace", "v1", "namespaces", "ns", false },
        { "Deployment", "apps/v1", "deployments", "deploy", true },
        { "ReplicaSet", "apps/v1", "replicasets", "rs", true },
        { "HorizontalPodAutoscaler", "autoscaling/v2", "horizontalpodautoscalers", "hpa", true },
};

const struct kube_kind *kube_kinds(size_t *n)
{
        *n = sizeof(kinds) / sizeof(kinds[0]);
        return kinds;
}

const struct kube_kind *kube_kind_by_name(const char *name)
{
        for (size_t i = 0; name && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                const struct kube_kind *k = &kinds[i];
                size_t plural = strlen(k->resource);
                if (strcasecmp(name, k->kind) == 0 || strcmp(name, k->resource) == 0 ||
                    (k->short_name && strcmp(name, k->short_name) == 0) ||
                    (strlen(name) + 1 == plural && strncmp(name, k->resource, plural - 1) == 0))
                        return k;
        }
        return NULL;
}

/* "deployments.apps", as kube-apiserver names a resource in messages */
static char *resource_name(const char *kind)
{
        const struct kube_kind *k = kube_kind_by_name(kind);
        const char *slash = k ? strchr(k->api_version, '/') : NULL;

        if (k == NULL)
                return xstrdup(kind);
        if (slash == NULL)
                return xstrdup(k->resource);
        return xasprintf("%s.%.*s", k->resource, (int)(slash - k->api_version), k->api_version);
}

char *kube_now_rfc3339(void)
{
        struct timespec ts;
        struct tm tm;
        char buf[32];

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
        return xstrdup(buf);
}

int64_t kube_parse_rfc3339(const char *s)
{
        struct tm tm = { 0 };
        const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;

        if (end == NULL)
                return -1;
        return (int64_t)timegm(&tm);
}

const char *kube_meta_str(const json_t *obj, const char *field)
{
        return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

static char *object_key(const char *kind, const char *ns, const char *name)
{
        return xasprintf("%s/%s/%s", kind, ns ? ns : "", name);
}

static char *key_of(const json_t *obj)
{
        return object_key(json_string_value(json_object_get(obj, "kind")), kube_meta_str(obj, "namespace"),
                          kube_meta_str(obj, "name"));
}

/* ---- berth.db ------------------------------------------------------------ */

static const char schema[] = "CREATE TABLE IF NOT EXISTS kube_objects ("
                             "  key TEXT PRIMARY KEY, object TEXT NOT NULL);";

static int db_fail(struct kube *k, berth_error_t **err, const char *what)
{
        return berth_error(err, 0, "%s/berth.db: kube objects: %s: %s", k->data_root, what, sqlite3_errmsg(k->db));
}

static int db_put(struct kube *k, const char *key, const json_t *obj, berth_error_t **err)
{
        _cleanup_free_ char *text = json_dumps(obj, JSON_COMPACT);
        sqlite3_stmt *st = NULL;

        if (sqlite3_prepare_v2(k->db, "INSERT OR REPLACE INTO kube_objects VALUES (?, ?)", -1, &st, NULL) != SQLITE_OK)
                return db_fail(k, err, "prepare");
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : db_fail(k, err, "write");
}

static int db_delete(struct kube *k, const char *key, berth_error_t **err)
{
        sqlite3_stmt *st = NULL;

        if (sqlite3_prepare_v2(k->db, "DELETE FROM kube_objects WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
                return db_fail(k, err, "prepare");
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : db_fail(k, err, "delete");
}

static int db_load(struct kube *k, berth_error_t **err)
{
        sqlite3_stmt *st = NULL;
        int rc;

        if (sqlite3_prepare_v2(k->db, "SELECT key, object FROM kube_objects", -1, &st, NULL) != SQLITE_OK)
                return db_fail(k, err, "prepare");
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *key = (const char *)sqlite3_column_text(st, 0);
                json_t *obj = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
                if (obj == NULL)
                        continue;       /* not ours to fix: skipped, the rest loads */
                uint64_t rv = strtoull(kube_meta_str(obj, "resourceVersion") ? kube_meta_str(obj, "resourceVersion") : "0",
                                       NULL, 10);
                if (rv > k->resource_version)
                        k->resource_version = rv;
                json_object_set_new(k->objects, key, obj);
        }
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : db_fail(k, err, "read");
}

int kube_store_open(struct kube *k, berth_error_t **err)
{
        _cleanup_free_ char *path = xasprintf("%s/berth.db", k->data_root);
        char *msg = NULL;

        k->objects = must(json_object());
        if (sqlite3_open_v2(path, &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
            SQLITE_OK)
                return berth_error(err, 0, "open %s: %s", path, k->db ? sqlite3_errmsg(k->db) : "out of memory");
        sqlite3_busy_timeout(k->db, 10000);
        if (sqlite3_exec(k->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(k->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
                int r = berth_error(err, 0, "%s: %s", path, msg ? msg : sqlite3_errmsg(k->db));
                sqlite3_free(msg);
                return r;
        }
        return db_load(k, err);
}

void kube_store_close(struct kube *k)
{
        sqlite3_close_v2(k->db);
        k->db = NULL;
        json_decref(k->objects);
        k->objects = NULL;
}

/* ---- reads ---------------------------------------------------------------- */

static int not_found(const char *kind, const char *name, berth_error_t **err)
{
        _cleanup_free_ char *res = resource_name(kind);
        return berth_fail(err, ENOENT, "%s \"%s\" not found", res, name);
}

int kube_get(struct kube *k, const char *kind, const char *ns, const char *name, json_t **obj, berth_error_t **err)
{
        _cleanup_free_ char *key = object_key(kind, ns, name);

        pthread_mutex_lock(&k->store_lock);
        json_t *o = json_object_get(k->objects, key);
        *obj = o ? json_deep_copy(o) : NULL;
        pthread_mutex_unlock(&k->store_lock);
        return o ? 0 : not_found(kind, name, err);
}

json_t *kube_list(struct kube *k, const char *kind, const char *ns, const json_t *selector)
{
        json_t *out = must(json_array()), *o;
        const char *key;

        pthread_mutex_lock(&k->store_lock);
        json_object_foreach(k->objects, key, o) {
                const char *okind = json_string_value(json_object_get(o, "kind"));
                const char *ons = kube_meta_str(o, "namespace");
                if (kind && (okind == NULL || strcmp(okind, kind) != 0))
                        continue;
                if (ns && (ons == NULL || strcmp(ons, ns) != 0))
                        continue;
                if (selector && !kube_selector_matches(selector, json_object_get(json_object_get(o, "metadata"),
                                                                                  "labels")))
                        continue;
                json_array_append_new(out, json_deep_copy(o));
        }
        pthread_mutex_unlock(&k->store_lock);
        return out;
}

/* ---- writes --------------------------------------------------------------- */

static void set_rv(struct kube *k, json_t *obj)
{
        _cleanup_free_ char *rv = xasprintf("%llu", (unsigned long long)++k->resource_version);
        json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion", json_string(rv));
}

static char *new_uid(void)
{
        unsigned char b[16];

        if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
                abort();
        b[6] = (b[6] & 0x0f) | 0x40;    /* a version 4 UUID, as Kubernetes' */
        b[8] = (b[8] & 0x3f) | 0x80;
        return xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
                         b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static void generate_name(json_t *meta)
{
        static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
        const char *prefix = json_string_value(json_object_get(meta, "generateName"));
        unsigned char r[5];
        char suffix[6];

        if (prefix == NULL || json_string_value(json_object_get(meta, "name")))
                return;
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
                abort();
        for (size_t i = 0; i < 5; i++)
                suffix[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
        suffix[5] = '\0';
        json_object_set_new(meta, "name", json_sprintf("%s%s", prefix, suffix));
}

int kube_create(struct kube *k, json_t *obj, json_t **out, berth_error_t **err)
{
        json_t *meta = json_object_get(obj, "metadata");
        const char *kind = json_string_value(json_object_get(obj, "kind"));

        if (!json_is_object(meta) || kind == NULL)
                return berth_error(err, EINVAL, "an object needs kind and metadata");
        generate_name(meta);
        if (kube_meta_str(obj, "name") == NULL)
                return berth_fail(err, EINVAL, "%s: metadata.name: Required value: name or generateName is required",
                                  kind);
        _cleanup_free_ char *key = key_of(obj);
        _cleanup_free_ char *uid = new_uid();
        _cleanup_free_ char *now = kube_now_rfc3339();
        int r = 0;

        pthread_mutex_lock(&k->store_lock);
        if (json_object_get(k->objects, key)) {
                pthread_mutex_unlock(&k->store_lock);
                _cleanup_free_ char *res = resource_name(kind);
                return berth_fail(err, EEXIST, "%s \"%s\" already exists", res, kube_meta_str(obj, "name"));
        }
        json_t *stored = json_deep_copy(obj);
        json_t *smeta = json_object_get(stored, "metadata");
        json_object_set_new(smeta, "uid", json_string(uid));
        json_object_set_new(smeta, "creationTimestamp", json_string(now));
        json_object_set_new(smeta, "generation", json_integer(1));
        set_rv(k, stored);
        r = db_put(k, key, stored, err);
        if (r == 0)
                json_object_set(k->objects, key, stored);
        if (r == 0 && out)
                *out = json_deep_copy(stored);
        pthread_mutex_unlock(&k->store_lock);
        json_decref(stored);
        if (r == 0)
                kube_wake(k);
        return r;
}

/* Whether anything but metadata and status differs: what bumps the
 * generation. */
static bool spec_changed(const json_t *a, const json_t *b)
{
        const char *key;
        json_t *v;

        json_object_foreach((json_t *)a, key, v) {
                if (strcmp(key, "metadata") == 0 || strcmp(key, "status") == 0)
                        continue;
                if (!json_equal(v, json_object_get(b, key)))
                        return true;
        }
        json_object_foreach((json_t *)b, key, v) if (strcmp(key, "metadata") != 0 && strcmp(key, "status") != 0 &&
                                                     json_object_get(a, key) == NULL) return true;
        return false;
}

static int conflict(const json_t *obj, berth_error_t **err)
{
        _cleanup_free_ char *res = resource_name(json_string_value(json_object_get(obj, "kind")));
        return berth_fail(err, EAGAIN,
                          "Operation cannot be fulfilled on %s \"%s\": the object has been modified; please apply "
                          "your changes to the latest version and try again",
                          res, kube_meta_str(obj, "name"));
}

int kube_update(struct kube *k, json_t *obj, json_t **out, berth_error_t **err)
{
        _cleanup_free_ char *key = key_of(obj);
        const char *rv = kube_meta_str(obj, "resourceVersion");
        int r;

        pthread_mutex_lock(&k->store_lock);
        json_t *cur = json_object_get(k->objects, key);
        if (cur == NULL) {
                pthread_mutex_unlock(&k->store_lock);
                return not_found(json_string_value(json_object_get(obj, "kind")), kube_meta_str(obj, "name"), err);
        }
        if (rv && strcmp(rv, kube_meta_str(cur, "resourceVersion")) != 0) {
                pthread_mutex_unlock(&k->store_lock);
                return conflict(obj, err);
        }
        json_t *stored = json_deep_copy(obj);
        json_t *smeta = json_object_get(stored, "metadata"), *cmeta = json_object_get(cur, "metadata");
        json_object_set(smeta, "uid", json_object_get(cmeta, "uid"));
        json_object_set(smeta, "creationTimestamp", json_object_get(cmeta, "creationTimestamp"));
        json_int_t gen = json_integer_value(json_object_get(cmeta, "generation"));
        json_object_set_new(smeta, "generation", json_integer(spec_changed(cur, stored) ? gen + 1 : gen));
        /* the deletion mark is the API's to set; an update cannot lift it */
        if (json_object_get(cmeta, "deletionTimestamp")) {
                json_object_set(smeta, "deletionTimestamp", json_object_get(cmeta, "deletionTimestamp"));
                json_object_set(smeta, "deletionGracePeriodSeconds",
                                json_object_get(cmeta, "deletionGracePeriodSeconds"));
        }
        set_rv(k, stored);
        r = db_put(k, key, stored, err);
        if (r == 0)
                json_object_set(k->objects, key, stored);
        if (r == 0 && out)
                *out = json_deep_copy(stored);
        pthread_mutex_unlock(&k->store_lock);
        json_decref(stored);
        if (r == 0)
                kube_wake(k);
        return r;
}

int kube_update_status(struct kube *k, const json_t *obj, berth_error_t **err)
{
        _cleanup_free_ char *key = key_of(obj);
        json_t *status = json_object_get(obj, "status");
        int r = 0;

        pthread_mutex_lock(&k->store_lock);
        json_t *cur = json_object_get(k->objects, key);
        if (cur == NULL) {
                pthread_mutex_unlock(&k->store_lock);
                return not_found(json_string_value(json_object_get(obj, "kind")), kube_meta_str(obj, "name"), err);
        }
        /* a status for an object that was deleted and made again under
         * the same name is stale */
        const char *uid = kube_meta_str(obj, "uid");
        if (uid && strcmp(uid, kube_meta_str(cur, "uid")) != 0) {
                pthread_mutex_unlock(&k->store_lock);
                return conflict(obj, err);
        }
        if (json_equal(status, json_object_get(cur, "status"))) {
                pthread_mutex_unlock(&k->store_lock);
                return 0;
        }
        json_t *stored = json_deep_copy(cur);
        json_object_set_new(stored, "status", status ? json_deep_copy(status) : json_object());
        set_rv(k, stored);
        r = db_put(k, key, stored, err);
        if (r == 0)
                json_object_set(k->objects, key, stored);
        pthread_mutex_unlock(&k->store_lock);
        json_decref(stored);
        if (r == 0)
                kube_wake(k);
        return r;
}

int kube_mark_deleted(struct kube *k, const char *kind, const char *ns, const char *name, int64_t grace,
                      json_t **out, berth_error_t **err)
{
        _cleanup_free_ char *key = object_key(kind, ns, name);
        _cleanup_free_ char *now = kube_now_rfc3339();
        int r = 0;

        pthread_mutex_lock(&k->store_lock);
        json_t *cur = json_object_get(k->objects, key);
        if (cur == NULL) {
                pthread_mutex_unlock(&k->store_lock);
                return not_found(kind, name, err);
        }
        json_t *stored = json_deep_copy(cur);
        json_t *meta = json_object_get(stored, "metadata");
        json_t *had = json_object_get(meta, "deletionGracePeriodSeconds");
        /* a second delete may only shorten the grace period */
        if (!json_object_get(meta, "deletionTimestamp") || !had || json_integer_value(had) > grace) {
                if (!json_object_get(meta, "deletionTimestamp"))
                        json_object_set_new(meta, "deletionTimestamp", json_string(now));
                json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(grace));
                set_rv(k, stored);
                r = db_put(k, key, stored, err);
                if (r == 0)
                        json_object_set(k->objects, key, stored);
        }
        if (r == 0 && out)
                *out = json_deep_copy(stored);
        pthread_mutex_unlock(&k->store_lock);
        json_decref(stored);
        if (r == 0)
                kube_wake(k);
        return r;
}

int kube_remove(struct kube *k, const char *kind, const char *ns, const char *name, berth_error_t **err)
{
        _cleanup_free_ char *key = object_key(kind, ns, name);
        int r;

        pthread_mutex_lock(&k->store_lock);
        if (json_object_get(k->objects, key) == NULL) {
                pthread_mutex_unlock(&k->store_lock);
                return not_found(kind, name, err);
        }
        r = db_delete(k, key, err);
        if (r == 0)
                json_object_del(k->objects, key);
        pthread_mutex_unlock(&k->store_lock);
        if (r == 0)
                kube_wake(k);
        return r;
}

/* ---- owners --------------------------------------------------------------- */

bool kube_is_owned_by(const json_t *obj, const json_t *owner)
{
        const char *uid = kube_meta_str(owner, "uid");
        size_t i;
        json_t *ref;

        json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i, ref) {
                const char *ruid = json_string_value(json_object_get(ref, "uid"));
                if (uid && ruid && strcmp(uid, ruid) == 0)
                        return true;
        }
        return false;
}

json_t *kube_owner_ref(const json_t *owner)
{
        return must(json_pack("{s:O, s:O, s:s, s:s, s:b, s:b}", "apiVersion", json_object_get(owner, "apiVersion"),
                              "kind", json_object_get(owner, "kind"), "name", kube_meta_str(owner, "name"), "uid",
                              kube_meta_str(owner, "uid"), "controller", 1, "blockOwnerDeletion", 1));
}
