/* The engine's containers: lookup by id, prefix or name; names; paths;
 * times. */
#include "engine/engine-network.h"
#include <sys/random.h>
#include <time.h>

struct ctr *ctr_new(void)
{
        struct ctr *c = xcalloc(1, sizeof(*c));

        pthread_mutex_init(&c->lock, NULL);
        pthread_cond_init(&c->changed, NULL);
        c->refs = 1;
        c->stop_timeout = -1;
        return c;
}

void ctr_ref(struct ctr *c)
{
        __atomic_add_fetch(&c->refs, 1, __ATOMIC_SEQ_CST);
}

void ctr_unref(struct ctr *c)
{
        if (c == NULL || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_SEQ_CST) > 0)
                return;
        free(c->name);
        free(c->image);
        free(c->image_id);
        free(c->created);
        json_decref(c->body);
        json_decref(c->config);
        json_decref(c->net);
        free(c->stop_signal);
        free(c->started_at);
        free(c->finished_at);
        free(c->error);
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->changed);
        free(c);
}

int ctr_find(struct engine *e, const char *name, struct ctr **out, berth_error_t **err)
{
        const char *n = name[0] == '/' ? name + 1 : name;
        size_t len = strlen(n);
        struct ctr *found = NULL;
        bool ambiguous = false;

        pthread_mutex_lock(&e->lock);
        /* docker's order: full id, then name, then unique id prefix */
        for (size_t i = 0; i < e->n_ctrs && !found; i++)
                if (strcmp(e->ctrs[i]->id, n) == 0 || strcmp(e->ctrs[i]->name, n) == 0)
                        found = e->ctrs[i];
        for (size_t i = 0; i < e->n_ctrs && !found && len > 0; i++) {
                if (strncmp(e->ctrs[i]->id, n, len) != 0)
                        continue;
                for (size_t k = i + 1; k < e->n_ctrs; k++)
                        if (strncmp(e->ctrs[k]->id, n, len) == 0)
                                ambiguous = true;
                found = e->ctrs[i];
        }
        if (found && !ambiguous)
                ctr_ref(found);
        pthread_mutex_unlock(&e->lock);
        if (ambiguous)
                return berth_fail(err, EINVAL, "multiple IDs found with provided prefix: %s", n);
        if (found == NULL)
                return berth_fail(err, ENOENT, "No such container: %s", n);
        *out = found;
        return 0;
}

void ctr_add(struct engine *e, struct ctr *c)
{
        pthread_mutex_lock(&e->lock);
        e->ctrs = xrealloc(e->ctrs, (e->n_ctrs + 1) * sizeof(*e->ctrs));
        e->ctrs[e->n_ctrs++] = c;
        pthread_mutex_unlock(&e->lock);
}

void ctr_forget(struct engine *e, struct ctr *c)
{
        pthread_mutex_lock(&e->lock);
        for (size_t i = 0; i < e->n_ctrs; i++) {
                if (e->ctrs[i] != c)
                        continue;
                e->ctrs[i] = e->ctrs[--e->n_ctrs];
                ctr_unref(c);
                break;
        }
        pthread_mutex_unlock(&e->lock);
}

static const char *const status_names[] = {
        [CTR_CREATED] = "created", [CTR_RUNNING] = "running", [CTR_PAUSED] = "paused",
        [CTR_RESTARTING] = "restarting", [CTR_EXITED] = "exited", [CTR_REMOVING] = "removing",
        [CTR_DEAD] = "dead",
};

const char *ctr_status_name(enum ctr_status s)
{
        return status_names[s];
}

enum ctr_status ctr_status_parse(const char *s)
{
        for (size_t i = 0; s && i < ARRAY_SIZE(status_names); i++)
                if (strcmp(status_names[i], s) == 0)
                        return (enum ctr_status)i;
        return CTR_DEAD;
}

/* The shim binds its sockets here, and a unix socket path has 108 bytes:
 * the short id keeps <exec-root>/shims/<id>/control.sock well inside. */
char *ctr_shim_dir(struct engine *e, const struct ctr *c)
{
        return xasprintf("%s/shims/%.12s", e->exec_root, c->id);
}

char *ctr_dir(struct engine *e, const struct ctr *c)
{
        return xasprintf("%s/containers/%s", e->data_root, c->id);
}

char *ctr_log_path(struct engine *e, const struct ctr *c)
{
        return xasprintf("%s/containers/%s/%s-json.log", e->data_root, c->id, c->id);
}

char *now_rfc3339(void)
{
        struct timespec ts;
        struct tm tm;
        char buf[64];

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}

int64_t rfc3339_to_unix(const char *s)
{
        struct tm tm = { 0 };

        if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
                return 0;
        return (int64_t)timegm(&tm);
}

bool ctr_name_valid(const char *name)
{
        size_t n = strlen(name);

        /* docker: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
        return n >= 2 && n <= 128 && strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", name[0]) &&
               strspn(name, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_.-") == n;
}

static const char *const adjectives[] = {
        "agile", "bold", "brave", "bright", "calm", "clever", "eager", "fair", "gentle", "happy", "keen", "kind",
        "lucid", "merry", "nimble", "proud", "quick", "quiet", "sharp", "steady", "swift", "tidy", "vivid", "wise",
};
static const char *const surnames[] = {
        "babbage", "bardeen", "cerf", "dijkstra", "engelbart", "hamilton", "hopper", "kernighan", "knuth",
        "lamport", "liskov", "lovelace", "mccarthy", "noether", "pike", "ritchie", "shannon", "thompson", "torvalds",
        "turing", "wing", "wozniak",
};

void random_hex_id(char id[CONTAINER_ID_LEN + 1])
{
        unsigned char r[CONTAINER_ID_LEN / 2];

        if (getrandom(r, sizeof(r), 0) != sizeof(r))
                abort();
        for (size_t i = 0; i < sizeof(r); i++)
                sprintf(id + 2 * i, "%02x", r[i]);
}

char *ctr_make_name(struct engine *e)
{
        for (unsigned attempt = 0;; attempt++) {
                unsigned r[3];
                struct ctr *c = NULL;
                if (getrandom(r, sizeof(r), 0) != sizeof(r))
                        abort();
                char *name = attempt < 10 ? xasprintf("%s_%s", adjectives[r[0] % ARRAY_SIZE(adjectives)],
                                                      surnames[r[1] % ARRAY_SIZE(surnames)])
                                          : xasprintf("%s_%s%u", adjectives[r[0] % ARRAY_SIZE(adjectives)],
                                                      surnames[r[1] % ARRAY_SIZE(surnames)], r[2] % 1000);
                if (ctr_find(e, name, &c, NULL) < 0)
                        return name;
                ctr_unref(c);
                free(name);
        }
}

/* ---- rename ------------------------------------------------------------- */

/* Old names stay allocated: some readers of c->name take no lock (event
 * attributes, messages) and may hold the old pointer.  A few bytes per
 * rename, reachable, for the daemon's life. */
static pthread_mutex_t retired_lock = PTHREAD_MUTEX_INITIALIZER;
static char **retired;
static size_t n_retired;

static void retire_name(char *name)
{
        pthread_mutex_lock(&retired_lock);
        retired = xrealloc(retired, (n_retired + 1) * sizeof(*retired));
        retired[n_retired++] = name;
        pthread_mutex_unlock(&retired_lock);
}

/* Under the list's lock, so a create or another rename cannot take the
 * name meanwhile (they check it under the same lock). */
static int rename_locked(struct engine *e, struct ctr *c, const char *n, char **old, berth_error_t **err)
{
        if (c->removed)
                return berth_fail(err, ENOENT, "No such container: %s", c->id);
        if (strcmp(c->name, n) == 0)
                return berth_fail(err, EINVAL, "Renaming a container with the same name as its current name");
        for (size_t i = 0; i < e->n_ctrs; i++)
                if (strcmp(e->ctrs[i]->name, n) == 0)
                        return berth_fail(err, EEXIST,
                                          "Error when allocating new name: Conflict. The container name \"/%s\" is "
                                          "already in use by container \"%s\". You have to remove (or rename) that "
                                          "container to be able to reuse that name.",
                                          n, e->ctrs[i]->id);
        *old = c->name;
        c->name = xstrdup(n);
        if (engine_db_save(e, c, err) < 0) {
                free(c->name);
                c->name = *old;
                return -1;
        }
        return 0;
}

int engine_container_rename(struct engine *e, const char *name, const char *new_name, berth_error_t **err)
{
        const char *n = new_name && new_name[0] == '/' ? new_name + 1 : new_name;
        char *old = NULL;
        struct ctr *c;
        int r;

        if (name == NULL || *name == '\0' || n == NULL || *n == '\0')
                return berth_fail(err, EINVAL, "Neither old nor new names may be empty");
        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        if (!ctr_name_valid(n)) {
                ctr_unref(c);
                return berth_fail(err, EINVAL,
                                  "Error when allocating new name: Invalid container name (%s), only "
                                  "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                                  n);
        }
        pthread_mutex_lock(&e->lock);
        pthread_mutex_lock(&c->lock);
        r = rename_locked(e, c, n, &old, err);
        pthread_mutex_unlock(&c->lock);
        pthread_mutex_unlock(&e->lock);
        if (r == 0) {
                /* dockerd's oldName keeps the leading slash */
                _cleanup_free_ char *attr = xasprintf("/%s", old);
                engine_container_event(e, c, "rename", json_pack("{s:s}", "oldName", attr));
                retire_name(old);
                ctr_net_renamed(e, c);
        }
        ctr_unref(c);
        return r;
}

/* Containers made with the same seccomp profile (nearly all of them: the
 * default) hold one copy of it: the profile is about 60% of an OCI
 * config, and jansson's objects make it tens of KiB per container.  The
 * shared subtree is never modified in place (update touches resources
 * only). */
void ctr_config_share(struct ctr *c)
{
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        static json_t *shared;
        json_t *linux_ = json_object_get(c->config, "linux");
        json_t *seccomp = json_object_get(linux_, "seccomp");

        if (seccomp == NULL)
                return;
        pthread_mutex_lock(&lock);
        if (shared && shared != seccomp && json_equal(shared, seccomp))
                json_object_set(linux_, "seccomp", shared);
        else if (shared == NULL)
                shared = json_incref(seccomp);
        pthread_mutex_unlock(&lock);
}
