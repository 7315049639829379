/* Disk space: docker container prune (the containers that do not run,
 * filtered by until and label) and the container and volume parts of
 * docker system df (their sizes, measured by walking their files). */
#include "engine/engine-internal.h"
#include "image/image-store.h"
#include "image/imagedb.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

static inline void json_decref_p(json_t **j) { json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(json_decref_p)))

/* ---- sizes ------------------------------------------------------------- */

/* Bytes of the files under dirfd (apparent sizes, as dockerd's
 * directory.Size; a hard link counts each time).  Consumes dirfd.  Never
 * leaves the file system or follows a link: container layers and volumes
 * hold whatever their containers put there. */
static int64_t tree_size(int dirfd, dev_t dev)
{
        DIR *d = fdopendir(dirfd);
        struct dirent *de;
        int64_t total = 0;

        if (d == NULL) {
                close(dirfd);
                return 0;
        }
        while ((de = readdir(d)) != NULL) {
                struct stat st;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
                        continue;
                if (!S_ISDIR(st.st_mode)) {
                        total += st.st_size;
                        continue;
                }
                int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0)
                        total += tree_size(sub, dev);
        }
        closedir(d);
        return total;
}

static int64_t path_size(const char *path)
{
        int fd = path ? open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
        struct stat st;

        if (fd < 0)
                return 0;
        if (fstat(fd, &st) < 0) {
                close(fd);
                return 0;
        }
        return tree_size(fd, st.st_dev);
}

/* The container's writable layer: overlay's upper directory.  A vfs copy
 * (no overlay on the data root) has no layer apart from the image's files;
 * dockerd's vfs driver counts none either. */
static int64_t size_rw(struct engine *e, const char *id)
{
        _cleanup_free_ char *upper = xasprintf("%s/containers/%s/upper", e->data_root, id);
        return path_size(upper);
}

/* ---- filters ----------------------------------------------------------- */

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

/* A Go duration ("90s", "1h30m", "1.5h"): seconds; false when s is not one. */
static bool parse_duration(const char *s, double *secs)
{
        static const struct { const char *unit; double secs; } units[] = {
                { "ns", 1e-9 }, { "us", 1e-6 }, { "ms", 1e-3 }, { "s", 1 }, { "m", 60 }, { "h", 3600 },
        };
        *secs = 0;
        if (*s == '\0')
                return false;
        while (*s) {
                char *end;
                double v = strtod(s, &end);
                if (end == s || *end == '\0' || v < 0)
                        return false;
                /* the longest unit first: "ms" before "m" */
                size_t best = ARRAY_SIZE(units);
                for (size_t k = 0; k < ARRAY_SIZE(units); k++)
                        if (str_has_prefix(end, units[k].unit) &&
                            (best == ARRAY_SIZE(units) || strlen(units[k].unit) > strlen(units[best].unit)))
                                best = k;
                if (best == ARRAY_SIZE(units))
                        return false;
                *secs += v * units[best].secs;
                s = end + strlen(units[best].unit);
        }
        return true;
}

/* A zone suffix: "Z", "+07:00", "-0700"; seconds east of UTC. */
static bool parse_zone(const char *s, long *east)
{
        int h, m;

        if (strcmp(s, "Z") == 0 || strcmp(s, "z") == 0) {
                *east = 0;
                return true;
        }
        if ((s[0] != '+' && s[0] != '-') ||
            (sscanf(s + 1, "%2d:%2d", &h, &m) != 2 && sscanf(s + 1, "%2d%2d", &h, &m) != 2))
                return false;
        *east = (s[0] == '-' ? -1 : 1) * (h * 3600L + m * 60L);
        return true;
}

/* dockerd's timetypes.GetTimestamp: a duration back from now, unix
 * seconds ("1700000000", "1700000000.5"), or an RFC 3339 date or time
 * (local time without a zone). */
static int parse_until(const char *s, int64_t now, int64_t *out, berth_error_t **err)
{
        static const char *const formats[] = { "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d" };
        double secs;

        if (parse_duration(s, &secs)) {
                *out = now - (int64_t)secs;
                return 0;
        }
        if (strspn(s, "0123456789") > 0 && strspn(s, "0123456789.") == strlen(s)) {
                *out = (int64_t)strtod(s, NULL);
                return 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
                struct tm tm = { 0 };
                const char *rest = strptime(s, formats[i], &tm);
                long east = 0;
                if (rest == NULL)
                        continue;
                if (*rest == '.')
                        rest += 1 + strspn(rest + 1, "0123456789");
                if (*rest == '\0') {
                        tm.tm_isdst = -1;
                        *out = (int64_t)mktime(&tm);
                        return 0;
                }
                if (parse_zone(rest, &east)) {
                        *out = (int64_t)timegm(&tm) - east;
                        return 0;
                }
        }
        return berth_fail(err, EINVAL, "failed to parse value as time or duration: \"%s\"", s);
}

struct prune_filters {
        bool has_until;
        int64_t until;
        json_t *labels, *not_labels;
};

static int filters_parse(json_t *filters, struct prune_filters *f, berth_error_t **err)
{
        const char *key;
        json_t *v;

        json_object_foreach(filters, key, v) {
                if (strcmp(key, "until") != 0 && strcmp(key, "label") != 0 && strcmp(key, "label!") != 0)
                        return berth_fail(err, EINVAL, "invalid filter '%s'", key);
        }
        _cleanup_json_ json_t *until = filter_values(filters, "until");
        if (json_array_size(until) > 1)
                return berth_fail(err, EINVAL, "more than one until filter specified");
        if (json_array_size(until) == 1) {
                f->has_until = true;
                if (parse_until(json_string_value(json_array_get(until, 0)), (int64_t)time(NULL), &f->until, err) < 0)
                        return -1;
        }
        f->labels = filter_values(filters, "label");
        f->not_labels = filter_values(filters, "label!");
        return 0;
}

static void filters_clear(struct prune_filters *f)
{
        json_decref(f->labels);
        json_decref(f->not_labels);
}

/* Every "key" or "key=value" of want is among labels (dockerd's
 * MatchKVList); an empty want matches. */
static bool labels_match(json_t *want, json_t *labels)
{
        json_t *v;
        size_t i;

        json_array_foreach(want, i, v) {
                _cleanup_free_ char *k = xstrdup(json_string_value(v));
                char *eq = strchr(k, '=');
                if (eq)
                        *eq++ = '\0';
                const char *have = json_string_value(json_object_get(labels, k));
                if (have == NULL || (eq && strcmp(have, eq) != 0))
                        return false;
        }
        return true;
}

/* Not running (created, exited, dead) and passing the filters. */
static bool prunable(struct ctr *c, const struct prune_filters *f)
{
        json_t *labels = json_object_get(c->body, "Labels");

        if (c->status == CTR_RUNNING || c->status == CTR_PAUSED || c->status == CTR_RESTARTING ||
            c->status == CTR_REMOVING || c->removed)
                return false;
        if (f->has_until && rfc3339_to_unix(c->created) >= f->until)
                return false;
        if (!labels_match(f->labels, labels))
                return false;
        return json_array_size(f->not_labels) == 0 || !labels_match(f->not_labels, labels);
}

/* ---- prune ------------------------------------------------------------- */

static json_t *prune_candidates(struct engine *e, const struct prune_filters *f)
{
        json_t *ids = json_array();

        pthread_mutex_lock(&e->lock);
        for (size_t i = 0; i < e->n_ctrs; i++) {
                struct ctr *c = e->ctrs[i];
                pthread_mutex_lock(&c->lock);
                if (prunable(c, f))
                        json_array_append_new(ids, json_string(c->id));
                pthread_mutex_unlock(&c->lock);
        }
        pthread_mutex_unlock(&e->lock);
        return ids;
}

int engine_container_prune(struct engine *e, json_t *filters, json_t **out, berth_error_t **err)
{
        struct prune_filters f = { 0 };
        json_t *deleted = json_array(), *v;
        int64_t reclaimed = 0;
        size_t i;

        if (filters_parse(filters, &f, err) < 0) {
                filters_clear(&f);
                json_decref(deleted);
                return -1;
        }
        _cleanup_json_ json_t *ids = prune_candidates(e, &f);
        filters_clear(&f);
        json_array_foreach(ids, i, v) {
                const char *id = json_string_value(v);
                int64_t size = size_rw(e, id);
                /* not forced: one started meanwhile stays */
                if (engine_container_remove(e, id, false, false, NULL) < 0)
                        continue;
                json_array_append(deleted, v);
                reclaimed += size;
        }
        _cleanup_free_ char *bytes = xasprintf("%lld", (long long)reclaimed);
        engine_event(e, "container", "prune", "", json_pack("{s:s}", "reclaimed", bytes));
        *out = json_pack("{s:o, s:I}", "ContainersDeleted", deleted, "SpaceReclaimed", (json_int_t)reclaimed);
        return 0;
}

/* ---- system df ------------------------------------------------------- */

/* Unpacked size of an image (0 when it is gone). */
static int64_t image_size(struct engine *e, const char *image_id)
{
        struct imagedb_image img = { 0 };
        int64_t size = 0;

        if (image_id == NULL)
                return 0;
        struct image_store *s = engine_images_lock(e);
        if (imagedb_image_get(image_store_db(s), image_id, &img, NULL) == 1)
                size = img.size;
        engine_images_unlock(e);
        imagedb_image_clear(&img);
        return size;
}

int engine_df_containers(struct engine *e, json_t **out, berth_error_t **err)
{
        json_t *list = NULL, *c;
        size_t i;

        if (engine_container_list(e, true, NULL, &list, err) < 0)
                return -1;
        json_array_foreach(list, i, c) {
                int64_t rw = size_rw(e, json_string_value(json_object_get(c, "Id")));
                int64_t img = image_size(e, json_string_value(json_object_get(c, "ImageID")));
                json_object_set_new(c, "SizeRw", json_integer(rw));
                json_object_set_new(c, "SizeRootFs", json_integer(rw + img));
        }
        *out = list;
        return 0;
}

/* Containers whose config mounts the volume's data (or a subpath of it). */
static int64_t volume_refs(struct engine *e, const char *data)
{
        size_t len = strlen(data);
        int64_t n = 0;

        pthread_mutex_lock(&e->lock);
        for (size_t i = 0; i < e->n_ctrs; i++) {
                json_t *m;
                size_t k;
                json_array_foreach(json_object_get(e->ctrs[i]->config, "mounts"), k, m) {
                        const char *src = json_string_value(json_object_get(m, "source"));
                        if (src && strncmp(src, data, len) == 0 && (src[len] == '\0' || src[len] == '/')) {
                                n++;
                                break;
                        }
                }
        }
        pthread_mutex_unlock(&e->lock);
        return n;
}

int engine_df_volumes(struct engine *e, json_t **out, berth_error_t **err)
{
        json_t *all = NULL, *v;
        size_t i;

        if (engine_volume_list(e, &all, err) < 0)
                return -1;
        json_t *list = json_incref(json_object_get(all, "Volumes"));
        json_decref(all);
        json_array_foreach(list, i, v) {
                const char *mp = json_string_value(json_object_get(v, "Mountpoint"));
                json_object_set_new(v, "UsageData", json_pack("{s:I, s:I}", "Size", (json_int_t)path_size(mp),
                                                              "RefCount", (json_int_t)volume_refs(e, mp)));
        }
        *out = list;
        return 0;
}
