/* docker inspect, ps and top: containers in the Engine API's shapes. */
#include "engine/engine-network.h"
#include "runtime/container.h"
#include <time.h>

static json_t *str_or_empty(const char *s)
{
        return json_string(s ? s : "");
}

/* "0001-01-01T00:00:00Z" is Go's zero time, which docker shows for
 * never. */
static json_t *time_or_zero(const char *s)
{
        return json_string(s ? s : "0001-01-01T00:00:00Z");
}

static json_t *state_base(struct ctr *c)
{
        return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:i, s:I, s:o, s:o, s:o}", "Status",
                         ctr_status_name(c->status), "Running", c->status == CTR_RUNNING || c->status == CTR_PAUSED,
                         "Paused", c->status == CTR_PAUSED, "Restarting", c->status == CTR_RESTARTING, "OOMKilled",
                         c->oom_killed, "Dead", c->status == CTR_DEAD, "RemovalInProgress", c->status == CTR_REMOVING,
                         "Pid", (int)c->pid, "ExitCode", (json_int_t)c->exit_code, "Error", str_or_empty(c->error),
                         "StartedAt", time_or_zero(c->started_at), "FinishedAt", time_or_zero(c->finished_at));
}

static json_t *state_json(struct ctr *c)
{
        json_t *st = state_base(c), *health = health_state_json(c);

        /* only for a container with a healthcheck, as dockerd */
        if (health)
                json_object_set_new(st, "Health", health);
        return st;
}

/* The process the container runs, from its OCI config: Path and Args. */
static void process_args(struct ctr *c, json_t **path, json_t **args)
{
        json_t *a = json_object_get(json_object_get(c->config, "process"), "args");
        size_t n = json_array_size(a);

        *path = json_incref(n ? json_array_get(a, 0) : json_string(""));
        *args = json_array();
        for (size_t i = 1; i < n; i++)
                json_array_append(*args, json_array_get(a, i));
}

/* The container's Config as docker shows it: the create body's Config
 * fields (which docker already merged with the image's for display). */
static json_t *config_json(struct ctr *c)
{
        static const char *const keys[] = { "Hostname", "Domainname", "User", "AttachStdin", "AttachStdout",
                                             "AttachStderr", "ExposedPorts", "Tty", "OpenStdin", "StdinOnce", "Env",
                                             "Cmd", "Healthcheck", "Image", "Volumes", "WorkingDir", "Entrypoint",
                                             "OnBuild", "Labels", "StopSignal", "StopTimeout" };
        json_t *cfg = json_object();
        json_t *process = json_object_get(c->config, "process");

        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                json_t *v = json_object_get(c->body, keys[i]);
                if (v)
                        json_object_set(cfg, keys[i], v);
        }
        /* what actually runs: the merged environment and working dir */
        if (json_object_get(process, "env"))
                json_object_set(cfg, "Env", json_object_get(process, "env"));
        if (json_object_get(process, "cwd"))
                json_object_set(cfg, "WorkingDir", json_object_get(process, "cwd"));
        /* the image's healthcheck merged in, once the container ran */
        json_t *hc = health_config_json(c);
        if (hc)
                json_object_set_new(cfg, "Healthcheck", hc);
        json_object_set_new(cfg, "Image", str_or_empty(c->image));
        if (json_object_get(cfg, "Hostname") == NULL || json_string_length(json_object_get(cfg, "Hostname")) == 0)
                json_object_set(cfg, "Hostname", json_object_get(c->config, "hostname"));
        if (json_object_get(cfg, "Labels") == NULL)
                json_object_set_new(cfg, "Labels", json_object());
        return cfg;
}

static json_t *host_config(struct ctr *c)
{
        json_t *h = json_object_get(c->body, "HostConfig");
        return h ? json_deep_copy(h) : json_pack("{s:s}", "NetworkMode", "none");
}

static json_t *inspect_locked(struct engine *e, struct ctr *c)
{
        _cleanup_free_ char *log = ctr_log_path(e, c);
        _cleanup_free_ char *dir = ctr_dir(e, c);
        _cleanup_free_ char *hostname = xasprintf("%s/hostname", dir);
        _cleanup_free_ char *hosts = xasprintf("%s/hosts", dir);
        _cleanup_free_ char *resolv = xasprintf("%s/resolv.conf", dir);
        _cleanup_free_ char *name = xasprintf("/%s", c->name);
        json_t *path, *args;

        process_args(c, &path, &args);
        return json_pack("{s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:o, s:o, s:o, "
                         "s:o, s:{s:s, s:o}}",
                         "Id", c->id, "Created", c->created ? c->created : "", "Path", path, "Args", args, "State",
                         state_json(c), "Image", c->image_id ? c->image_id : "", "ResolvConfPath", resolv,
                         "HostnamePath", hostname, "HostsPath", hosts, "LogPath", log, "Name", name, "RestartCount",
                         (int)c->restart_count, "Driver", "overlay2", "Platform", "linux", "Mounts", json_array(),
                         "Config", config_json(c), "HostConfig", host_config(c), "NetworkSettings",
                         ctr_net_settings(c), "GraphDriver", "Name", "overlay2", "Data", json_object());
}

int engine_container_inspect(struct engine *e, const char *name, json_t **out, berth_error_t **err)
{
        struct ctr *c;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        pthread_mutex_lock(&c->lock);
        *out = inspect_locked(e, c);
        pthread_mutex_unlock(&c->lock);
        ctr_unref(c);
        return 0;
}

/* ---- list ------------------------------------------------------------ */

/* "Up 3 seconds", "Exited (0) 2 minutes ago", as docker words them. */
static char *human_duration(int64_t s)
{
        if (s < 1)
                return xstrdup("Less than a second");
        if (s < 60)
                return xasprintf("%lld second%s", (long long)s, s == 1 ? "" : "s");
        if (s < 3600)
                return s / 60 == 1 ? xstrdup("About a minute") : xasprintf("%lld minutes", (long long)(s / 60));
        if (s < 48 * 3600)
                return s / 3600 == 1 ? xstrdup("About an hour") : xasprintf("%lld hours", (long long)(s / 3600));
        return xasprintf("%lld days", (long long)(s / 86400));
}

/* "(healthy)", "(unhealthy)", "(health: starting)" after "Up ...". */
static char *health_suffix(struct ctr *c)
{
        const char *h = health_status(c);

        if (h == NULL)
                return xstrdup("");
        return xasprintf(" (%s%s)", strcmp(h, "starting") == 0 ? "health: " : "", h);
}

static char *status_text(struct ctr *c)
{
        int64_t now = (int64_t)time(NULL);
        _cleanup_free_ char *d = NULL, *health = NULL;

        switch (c->status) {
        case CTR_RUNNING:
        case CTR_PAUSED:
                d = human_duration(now - rfc3339_to_unix(c->started_at));
                health = c->status == CTR_PAUSED ? xstrdup(" (Paused)") : health_suffix(c);
                return xasprintf("Up %s%s", d, health);
        case CTR_EXITED:
                if (c->finished_at == NULL || c->started_at == NULL)
                        return xstrdup("Created");
                d = human_duration(now - rfc3339_to_unix(c->finished_at));
                return xasprintf("Exited (%lld) %s ago", (long long)c->exit_code, d);
        case CTR_RESTARTING:
                return xstrdup("Restarting");
        case CTR_REMOVING:
                return xstrdup("Removal In Progress");
        case CTR_DEAD:
                return xstrdup("Dead");
        default:
                return xstrdup("Created");
        }
}

/* dockerd's Command: the path, then the arguments, those with a space
 * in single quotes. */
static char *command_text(struct ctr *c)
{
        json_t *a = json_object_get(json_object_get(c->config, "process"), "args");
        char *s = xstrdup("");

        for (size_t i = 0; i < json_array_size(a); i++) {
                const char *arg = json_string_value(json_array_get(a, i));
                bool quote = i > 0 && arg && strchr(arg, ' ');
                char *joined = xasprintf("%s%s%s%s%s", s, i ? " " : "", quote ? "'" : "", arg ? arg : "",
                                         quote ? "'" : "");
                free(s);
                s = joined;
        }
        return s;
}

/* Every "KEY" or "KEY=VALUE" in values holds for the container's labels. */
static bool labels_match(struct ctr *c, json_t *values)
{
        json_t *labels = json_object_get(c->body, "Labels");
        size_t i;
        json_t *v;

        json_array_foreach(values, i, v) {
                const char *s = json_string_value(v);
                if (s == NULL)
                        continue;
                _cleanup_free_ char *k = xstrdup(s);
                char *eq = strchr(k, '=');
                if (eq)
                        *eq++ = '\0';
                json_t *lv = json_object_get(labels, k);
                if (lv == NULL || (eq && strcmp(json_string_value(lv) ?: "", eq) != 0))
                        return false;
        }
        return true;
}

/* filters: {"name": ["x"], "id": [...], "status": [...], "label": [...]};
 * a container passes when every given filter has one matching value. */
static bool filter_match(struct ctr *c, json_t *filters)
{
        const char *key;
        json_t *values;

        json_object_foreach(filters, key, values) {
                bool any = false;
                size_t i;
                json_t *v;
                /* docker also sends {"name": {"x": true}} (old clients) */
                if (json_is_object(values)) {
                        const char *k2;
                        json_t *tmp = json_array();
                        json_object_foreach(values, k2, v) json_array_append_new(tmp, json_string(k2));
                        json_t *one = json_pack("{s:o}", key, tmp);
                        bool r = filter_match(c, one);
                        json_decref(one);
                        if (!r)
                                return false;
                        continue;
                }
                /* label values must all match (docker-compose sends the
                 * project and the service); other keys match any value */
                if (strcmp(key, "label") == 0) {
                        if (!labels_match(c, values))
                                return false;
                        continue;
                }
                json_array_foreach(values, i, v) {
                        const char *s = json_string_value(v);
                        if (s == NULL)
                                continue;
                        if (strcmp(key, "name") == 0)
                                any |= strstr(c->name, s[0] == '/' ? s + 1 : s) != NULL;
                        else if (strcmp(key, "id") == 0)
                                any |= str_has_prefix(c->id, s);
                        else if (strcmp(key, "status") == 0)
                                any |= strcmp(ctr_status_name(c->status), s) == 0;
                        else if (strcmp(key, "health") == 0)
                                any |= strcmp(health_status(c) ?: "none", s) == 0;
                        else if (strcmp(key, "ancestor") == 0)
                                any |= (c->image && strcmp(c->image, s) == 0) ||
                                       (c->image_id && str_has_prefix(c->image_id + 7, s));
                        else if (strcmp(key, "network") == 0)
                                any |= ctr_net_on(c, s);
                        else
                                any = true; /* filters not known yet do not hide anything */
                }
                if (!any)
                        return false;
        }
        return true;
}

static json_t *summary(struct ctr *c)
{
        _cleanup_free_ char *name = xasprintf("/%s", c->name);
        _cleanup_free_ char *status = status_text(c);
        _cleanup_free_ char *command = command_text(c);
        json_t *labels = json_object_get(c->body, "Labels");
        const char *mode = json_string_value(json_object_get(json_object_get(c->body, "HostConfig"), "NetworkMode"));

        return json_pack("{s:s, s:[s], s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:o, s:{s:s}, s:{s:o}, s:[]}", "Id", c->id,
                         "Names", name, "Image", c->image ? c->image : "", "ImageID", c->image_id ? c->image_id : "",
                         "Command", command, "Created", (json_int_t)rfc3339_to_unix(c->created), "State",
                         ctr_status_name(c->status), "Status", status, "Ports", ctr_net_ports_summary(c), "Labels",
                         labels ? json_deep_copy(labels) : json_object(), "HostConfig", "NetworkMode",
                         mode ? mode : "none", "NetworkSettings", "Networks", ctr_net_networks_summary(c), "Mounts");
}

int engine_container_list(struct engine *e, bool all, json_t *filters, json_t **out, berth_error_t **err)
{
        json_t *list = json_array();

        (void)err;
        pthread_mutex_lock(&e->lock);
        /* newest first, as docker ps */
        for (size_t i = e->n_ctrs; i-- > 0;) {
                struct ctr *c = e->ctrs[i];
                pthread_mutex_lock(&c->lock);
                bool show = (all || c->status == CTR_RUNNING || c->status == CTR_PAUSED ||
                             c->status == CTR_RESTARTING) &&
                            (filters == NULL || filter_match(c, filters));
                if (show)
                        json_array_append_new(list, summary(c));
                pthread_mutex_unlock(&c->lock);
        }
        pthread_mutex_unlock(&e->lock);
        *out = list;
        return 0;
}
