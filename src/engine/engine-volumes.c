/* Named and anonymous volumes: <data-root>/volumes/<name>/_data, with
 * <name>/meta.json (created, labels, options, anonymous) written
 * atomically.  A volume is in use while a container's config mounts it.
 * A new volume mounted where the image has files gets a copy of them on
 * first use, as Docker does (unless nocopy). */
#include "engine/engine-internal.h"
#include "storage/snapshot.h"
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <regex.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static bool volume_name_valid(const char *name)
{
        size_t n = strlen(name);
        /* docker: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
        return n >= 2 && n <= 255 && ctr_name_valid(name);
}

static char *volume_dir(struct engine *e, const char *name)
{
        return xasprintf("%s/volumes/%s", e->data_root, name);
}

static json_t *volume_json(struct engine *e, const char *name, json_t *meta)
{
        _cleanup_free_ char *dir = volume_dir(e, name);
        _cleanup_free_ char *mp = xasprintf("%s/_data", dir);
        json_t *labels = json_object_get(meta, "Labels");
        json_t *opts = json_object_get(meta, "Options");

        return json_pack("{s:s, s:s, s:O?, s:s, s:s, s:O?, s:s}", "CreatedAt",
                         json_string_value(json_object_get(meta, "CreatedAt")) ?: "", "Driver", "local", "Labels",
                         json_object_size(labels) ? labels : NULL, "Mountpoint", mp, "Name", name, "Options",
                         json_object_size(opts) ? opts : NULL, "Scope", "local");
}

static json_t *read_meta(struct engine *e, const char *name)
{
        _cleanup_free_ char *dir = volume_dir(e, name);
        _cleanup_free_ char *path = xasprintf("%s/meta.json", dir);
        json_t *m = json_load_file(path, 0, NULL);
        return m ? m : json_object();
}

/* Create the volume unless it exists; *created says which. */
int engine_volume_ensure(struct engine *e, const char *name, bool anonymous, json_t *labels, json_t *options,
                         bool *created, berth_error_t **err)
{
        _cleanup_free_ char *dir = volume_dir(e, name);
        _cleanup_free_ char *data = xasprintf("%s/_data", dir);
        _cleanup_free_ char *meta_path = xasprintf("%s/meta.json", dir);
        struct stat st;

        *created = false;
        if (!volume_name_valid(name))
                return berth_fail(err, EINVAL,
                                  "create %s: \"%s\" includes invalid characters for a local volume name, only "
                                  "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed",
                                  name, name);
        if (stat(meta_path, &st) == 0)
                return 0;
        if (mkdir_p(data, 0755, err) < 0)
                return -1;
        _cleanup_free_ char *now = now_rfc3339();
        /* docker shows volumes' times to the second */
        now[19] = 'Z';
        now[20] = '\0';
        json_t *meta = json_pack("{s:s, s:O?, s:O?, s:b}", "CreatedAt", now, "Labels", labels, "Options", options,
                                 "anonymous", anonymous);
        _cleanup_free_ char *text = json_dumps(meta, JSON_COMPACT);
        json_decref(meta);
        if (write_file_atomic(meta_path, text, strlen(text), err) < 0)
                return -1;
        *created = true;
        return 0;
}

/* Copy what the image has at dest (inside the mounted rootfs, resolved
 * there: dest may be a symlink in the image) into a new volume. */
int engine_volume_copy_up(const char *rootfs, const char *dest, const char *volume_data, berth_error_t **err)
{
        struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        _cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = -1;
        char path[64];

        if (root < 0)
                return berth_error(err, errno, "open %s", rootfs);
        fd = (int)syscall(SYS_openat2, root, dest[0] == '/' ? dest + 1 : dest, &how, sizeof(how));
        if (fd < 0)
                return 0; /* nothing there in the image (or not a directory): an empty volume */
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        const char *layers[] = { path };
        return snapshot_vfs_create(layers, 1, volume_data, err);
}

/* The containers whose config mounts the volume. */
static json_t *volume_users(struct engine *e, const char *name)
{
        _cleanup_free_ char *dir = volume_dir(e, name);
        _cleanup_free_ char *prefix = xasprintf("%s/_data", dir);
        json_t *users = json_array();

        pthread_mutex_lock(&e->lock);
        for (size_t i = 0; i < e->n_ctrs; i++) {
                json_t *mounts = json_object_get(e->ctrs[i]->config, "mounts"), *m;
                size_t k;
                json_array_foreach(mounts, k, m) {
                        const char *src = json_string_value(json_object_get(m, "source"));
                        if (src && str_has_prefix(src, prefix) &&
                            (src[strlen(prefix)] == '\0' || src[strlen(prefix)] == '/')) {
                                json_array_append_new(users, json_string(e->ctrs[i]->id));
                                break;
                        }
                }
        }
        pthread_mutex_unlock(&e->lock);
        return users;
}

int engine_volume_create(struct engine *e, json_t *body, json_t **out, berth_error_t **err)
{
        const char *name = json_string_value(json_object_get(body, "Name"));
        const char *driver = json_string_value(json_object_get(body, "Driver"));
        char gen[CONTAINER_ID_LEN + 1];
        bool created;

        if (driver && *driver && strcmp(driver, "local") != 0)
                return berth_fail(err, EINVAL, "volume driver %s is not available: only \"local\"", driver);
        if (name == NULL || *name == '\0') {
                random_hex_id(gen);
                name = gen;
        }
        if (engine_volume_ensure(e, name, false, json_object_get(body, "Labels"), json_object_get(body, "DriverOpts"),
                                 &created, err) < 0)
                return -1;
        json_t *meta = read_meta(e, name);
        *out = volume_json(e, name, meta);
        json_decref(meta);
        return 0;
}

int engine_volume_inspect(struct engine *e, const char *name, json_t **out, berth_error_t **err)
{
        _cleanup_free_ char *dir = volume_dir(e, name);
        _cleanup_free_ char *meta_path = xasprintf("%s/meta.json", dir);

        if (!volume_name_valid(name) || access(meta_path, F_OK) < 0)
                return berth_fail(err, ENOENT, "get %s: no such volume", name);
        json_t *meta = read_meta(e, name);
        *out = volume_json(e, name, meta);
        json_decref(meta);
        return 0;
}

typedef void (*volume_fn)(struct engine *e, const char *name, json_t *meta, void *data);

static void each_volume(struct engine *e, volume_fn fn, void *data)
{
        _cleanup_free_ char *root = xasprintf("%s/volumes", e->data_root);
        DIR *d = opendir(root);
        struct dirent *de;

        if (d == NULL)
                return;
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.' || !volume_name_valid(de->d_name))
                        continue;
                _cleanup_free_ char *meta_path = xasprintf("%s/%s/meta.json", root, de->d_name);
                if (access(meta_path, F_OK) < 0)
                        continue;
                json_t *meta = read_meta(e, de->d_name);
                fn(e, de->d_name, meta, data);
                json_decref(meta);
        }
        closedir(d);
}

/* ---- list filters -------------------------------------------------------- */

/* What dockerd labels its anonymous volumes with; Berth keeps a flag in
 * meta.json instead, and matches it as this label so that filters that
 * name it find the same volumes. */
#define ANONYMOUS_LABEL "com.docker.volume.anonymous"

/* GET /volumes?filters= as dockerd reads it: driver (any of, by name),
 * name (any of, equal or matching as an unanchored regular expression),
 * label (every one, "key" or "key=value"), dangling (true or 1: unused,
 * false or 0: in use); the keys given all apply. */
struct volume_filters {
        json_t *drivers, *names, *labels;       /* arrays of strings */
        int dangling;                           /* -1: either, 0: in use, 1: unused */
};

static void volume_filters_clear(struct volume_filters *f)
{
        json_decref(f->drivers);
        json_decref(f->names);
        json_decref(f->labels);
}

/* A filter's values: {"key": ["a"]} or, as the CLI sends them,
 * {"key": {"a": true}}.  A new array of strings. */
static json_t *filter_values(json_t *filters, const char *key)
{
        json_t *f = json_object_get(filters, key), *out = json_array(), *v;
        const char *k;
        size_t i;

        if (json_is_object(f))
                json_object_foreach(f, k, v) json_array_append_new(out, json_string(k));
        else
                json_array_foreach(f, i, v) if (json_is_string(v)) json_array_append(out, v);
        return out;
}

/* "a,b": values as Go's strings.Join shows them in its errors. */
static char *join_values(json_t *vals)
{
        char *out = xstrdup("");
        json_t *v;
        size_t i;

        json_array_foreach(vals, i, v) {
                char *next = xasprintf("%s%s%s", out, i ? "," : "", json_string_value(v));
                free(out);
                out = next;
        }
        return out;
}

/* dockerd's GetBoolOrDefault: true/1 and false/0, not both. */
static int dangling_parse(json_t *filters, int *out, berth_error_t **err)
{
        json_t *vals = filter_values(filters, "dangling"), *v;
        bool yes = false, no = false;
        size_t i;

        json_array_foreach(vals, i, v) {
                const char *s = json_string_value(v);
                yes |= strcmp(s, "true") == 0 || strcmp(s, "1") == 0;
                no |= strcmp(s, "false") == 0 || strcmp(s, "0") == 0;
        }
        if (yes == no) {
                _cleanup_free_ char *list = join_values(vals);
                json_decref(vals);
                return berth_fail(err, EINVAL, "invalid filter 'dangling=%s'", list);
        }
        json_decref(vals);
        *out = yes;
        return 0;
}

static int volume_filters_parse(json_t *filters, struct volume_filters *f, berth_error_t **err)
{
        static const char *const known[] = { "dangling", "driver", "label", "name" };
        const char *key;
        json_t *v;

        json_object_foreach(filters, key, v) {
                size_t i = 0;
                while (i < ARRAY_SIZE(known) && strcmp(key, known[i]) != 0)
                        i++;
                if (i == ARRAY_SIZE(known))
                        return berth_fail(err, EINVAL, "invalid filter '%s'", key);
        }
        f->drivers = filter_values(filters, "driver");
        f->names = filter_values(filters, "name");
        f->labels = filter_values(filters, "label");
        f->dangling = -1;
        if (json_object_get(filters, "dangling") != NULL)
                return dangling_parse(filters, &f->dangling, err);
        return 0;
}

/* filters.Args.Match: no patterns, an equal one, or a regular
 * expression found anywhere in s (one that does not compile is skipped,
 * as Go skips it). */
static bool name_match(json_t *patterns, const char *s)
{
        json_t *v;
        size_t i;

        if (json_array_size(patterns) == 0)
                return true;
        json_array_foreach(patterns, i, v) {
                const char *p = json_string_value(v);
                regex_t re;
                if (strcmp(p, s) == 0)
                        return true;
                if (regcomp(&re, p, REG_EXTENDED | REG_NOSUB) != 0)
                        continue;
                bool found = regexec(&re, s, 0, NULL, 0) == 0;
                regfree(&re);
                if (found)
                        return true;
        }
        return false;
}

/* Every "key" or "key=value" of want is among the volume's labels
 * (dockerd's MatchKVList). */
static bool labels_match(json_t *want, json_t *meta)
{
        json_t *labels = json_object_get(meta, "Labels"), *v;
        bool anonymous = json_is_true(json_object_get(meta, "anonymous"));
        size_t i;

        json_array_foreach(want, i, v) {
                _cleanup_free_ char *k = xstrdup(json_string_value(v));
                char *eq = strchr(k, '=');
                if (eq)
                        *eq++ = '\0';
                const char *have = json_string_value(json_object_get(labels, k));
                if (have == NULL && anonymous && strcmp(k, ANONYMOUS_LABEL) == 0)
                        have = "";
                if (have == NULL || (eq && strcmp(have, eq) != 0))
                        return false;
        }
        return true;
}

static bool driver_match(json_t *drivers)
{
        json_t *v;
        size_t i;

        if (json_array_size(drivers) == 0)
                return true;
        /* "local" is the only driver there is */
        json_array_foreach(drivers, i, v) {
                if (strcmp(json_string_value(v), "local") == 0)
                        return true;
        }
        return false;
}

static bool volume_passes(struct engine *e, const char *name, json_t *meta, const struct volume_filters *f)
{
        if (!driver_match(f->drivers) || !name_match(f->names, name) || !labels_match(f->labels, meta))
                return false;
        if (f->dangling < 0)
                return true;
        /* last, as it looks at every container */
        json_t *users = volume_users(e, name);
        bool unused = json_array_size(users) == 0;
        json_decref(users);
        return unused == (f->dangling == 1);
}

struct lister {
        const struct volume_filters *f;
        json_t *list;
};

static void list_one(struct engine *e, const char *name, json_t *meta, void *data)
{
        struct lister *l = data;

        if (volume_passes(e, name, meta, l->f))
                json_array_append_new(l->list, volume_json(e, name, meta));
}

int engine_volume_list(struct engine *e, json_t **out, berth_error_t **err)
{
        return engine_volume_list_filtered(e, NULL, out, err);
}

int engine_volume_list_filtered(struct engine *e, json_t *filters, json_t **out, berth_error_t **err)
{
        __attribute__((cleanup(volume_filters_clear))) struct volume_filters f = { 0 };
        struct lister l = { .f = &f };

        if (volume_filters_parse(filters, &f, err) < 0)
                return -1;
        l.list = json_array();
        each_volume(e, list_one, &l);
        *out = json_pack("{s:o, s:[]}", "Volumes", l.list, "Warnings");
        return 0;
}

int engine_volume_remove(struct engine *e, const char *name, bool force, berth_error_t **err)
{
        _cleanup_free_ char *dir = volume_dir(e, name);
        _cleanup_free_ char *meta_path = xasprintf("%s/meta.json", dir);
        json_t *users;

        if (!volume_name_valid(name) || access(meta_path, F_OK) < 0)
                return force ? 0 : berth_fail(err, ENOENT, "get %s: no such volume", name);
        users = volume_users(e, name);
        if (json_array_size(users) > 0) {
                _cleanup_free_ char *list = json_dumps(users, JSON_COMPACT);
                json_decref(users);
                return berth_fail(err, EBUSY, "remove %s: volume is in use - %s", name, list);
        }
        json_decref(users);
        /* meta first: a crash leaves data the next remove cleans, never a
         * volume that lists but has no data */
        unlink(meta_path);
        int r = remove_tree_at(AT_FDCWD, dir);
        if (r < 0)
                return berth_error(err, -r, "remove volume %s", name);
        return 0;
}

struct prune {
        bool all;
        json_t *deleted;
        json_int_t bytes;
};

static void prune_one(struct engine *e, const char *name, json_t *meta, void *data)
{
        struct prune *p = data;
        json_t *users;

        if (!p->all && !json_is_true(json_object_get(meta, "anonymous")))
                return;
        users = volume_users(e, name);
        bool used = json_array_size(users) > 0;
        json_decref(users);
        if (!used && engine_volume_remove(e, name, false, NULL) == 0)
                json_array_append_new(p->deleted, json_string(name));
}

int engine_volume_prune(struct engine *e, bool all, json_t **out, berth_error_t **err)
{
        struct prune p = { .all = all, .deleted = json_array() };

        (void)err;
        each_volume(e, prune_one, &p);
        *out = json_pack("{s:o, s:I}", "VolumesDeleted", p.deleted, "SpaceReclaimed", p.bytes);
        return 0;
}
