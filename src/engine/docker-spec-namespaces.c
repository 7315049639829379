/* Namespaces from NetworkMode, IpcMode, PidMode, UTSMode, CgroupnsMode and
 * UsernsMode; the hostname and domainname; and Sysctls, which are only
 * allowed in namespaces the container owns. */
#include "engine/docker-spec-internal.h"
#include "oci/config.h"

/* The kernel's limit (HOST_NAME_MAX) for hostname and domainname. */
#define NAME_MAX_LEN 64

struct ns_modes {
        const char *net, *ipc, *pid, *uts, *cgroupns, *userns;
        const char *net_path, *ipc_path, *pid_path, *uts_path;  /* joined namespaces */
        bool net_host, pid_host;
};

/* "container:<name|id>": the engine resolved it to a namespace path. */
static int container_mode(const char *field, const char *mode, const char *path, const char **out,
                          berth_error_t **err)
{
        if (mode[strlen("container:")] == '\0')
                return berth_error(err, 0, "%s: invalid container format container:<name|id>", field);
        if (path == NULL)
                return berth_error(err, 0, "%s: %s: the engine gave no namespace to join", field, mode);
        *out = path;
        return 0;
}

static int network_mode(struct spec_ctx *ctx, struct ns_modes *m, berth_error_t **err)
{
        bool disabled;
        int ret;

        if ((ret = dj_bool(ctx->body, "", "NetworkDisabled", &disabled, err)) < 0)
                return ret;
        if (disabled || strcmp(m->net, "none") == 0) {
                ctx->info->network = DOCKER_NETWORK_NONE;
        } else if (strcmp(m->net, "host") == 0) {
                ctx->info->network = DOCKER_NETWORK_HOST;
                m->net_host = true;
        } else if (str_has_prefix(m->net, "container:")) {
                ctx->info->network = DOCKER_NETWORK_CONTAINER;
                return container_mode("HostConfig.NetworkMode", m->net, ctx->in->netns_path, &m->net_path, err);
        } else {
                /* the default bridge or a user-defined network: a namespace
                 * of the container's own, which the engine made and named */
                ctx->info->network = DOCKER_NETWORK_BRIDGE;
                if (ctx->in->netns_path == NULL)
                        return berth_error(err, 0, "HostConfig.NetworkMode: %s: the engine gave no network namespace",
                                           m->net);
                m->net_path = ctx->in->netns_path;
        }
        return 0;
}

static int ipc_mode(struct spec_ctx *ctx, struct ns_modes *m, berth_error_t **err)
{
        const char *v = m->ipc;

        if (v[0] == '\0' || strcmp(v, "private") == 0)
                return 0;
        if (strcmp(v, "shareable") == 0)
                return ctx->info->ipc_shareable = true, 0;
        if (strcmp(v, "host") == 0)
                return ctx->ipc_host = true, 0;
        if (strcmp(v, "none") == 0)
                return ctx->ipc_none = true, 0;
        if (str_has_prefix(v, "container:")) {
                ctx->ipc_container = true;
                return container_mode("HostConfig.IpcMode", v, ctx->in->ipcns_path, &m->ipc_path, err);
        }
        _cleanup_free_ char *q = printable(v);
        return berth_error(err, 0, "HostConfig.IpcMode: invalid IPC mode: %s", q);
}

static int other_modes(struct spec_ctx *ctx, struct ns_modes *m, berth_error_t **err)
{
        _cleanup_free_ char *q = NULL;

        if (str_has_prefix(m->pid, "container:")) {
                int ret = container_mode("HostConfig.PidMode", m->pid, ctx->in->pidns_path, &m->pid_path, err);
                if (ret < 0)
                        return ret;
        } else if (strcmp(m->pid, "host") == 0) {
                m->pid_host = true;
        } else if (m->pid[0]) {
                q = printable(m->pid);
                return berth_error(err, 0, "HostConfig.PidMode: invalid PID mode: %s", q);
        }
        if (strcmp(m->uts, "host") == 0) {
                ctx->uts_host = true;
        } else if (str_has_prefix(m->uts, "container:")) {
                /* a pod's containers share its sandbox's hostname (Podman
                 * has this mode; Docker's API field takes it as a string) */
                ctx->uts_container = true;
                int ret = container_mode("HostConfig.UTSMode", m->uts, ctx->in->utsns_path, &m->uts_path, err);
                if (ret < 0)
                        return ret;
        } else if (m->uts[0]) {
                q = printable(m->uts);
                return berth_error(err, 0, "HostConfig.UTSMode: invalid UTS mode: %s", q);
        }
        if (strcmp(m->cgroupns, "host") == 0) {
                ctx->cgroupns_host = true;
        } else if (m->cgroupns[0] && strcmp(m->cgroupns, "private") != 0) {
                q = printable(m->cgroupns);
                return berth_error(err, 0, "HostConfig.CgroupnsMode: invalid cgroup namespace mode: %s", q);
        }
        if (m->userns[0] && strcmp(m->userns, "host") != 0) {
                q = printable(m->userns);
                return berth_error(err, 0, "HostConfig.UsernsMode: user namespaces are not supported yet: %s", q);
        }
        return 0;
}

static int read_modes(struct spec_ctx *ctx, struct ns_modes *m, berth_error_t **err)
{
        int ret;

        if ((ret = dj_string(ctx->hc, "HostConfig.", "NetworkMode", &m->net, err)) < 0 ||
            (ret = dj_string(ctx->hc, "HostConfig.", "IpcMode", &m->ipc, err)) < 0 ||
            (ret = dj_string(ctx->hc, "HostConfig.", "PidMode", &m->pid, err)) < 0 ||
            (ret = dj_string(ctx->hc, "HostConfig.", "UTSMode", &m->uts, err)) < 0 ||
            (ret = dj_string(ctx->hc, "HostConfig.", "CgroupnsMode", &m->cgroupns, err)) < 0 ||
            (ret = dj_string(ctx->hc, "HostConfig.", "UsernsMode", &m->userns, err)) < 0)
                return ret;
        if ((ret = network_mode(ctx, m, err)) < 0 || (ret = ipc_mode(ctx, m, err)) < 0)
                return ret;
        return other_modes(ctx, m, err);
}

static void add_ns(json_t *list, const char *type, const char *path)
{
        json_t *ns = must(json_pack("{s:s}", "type", type));

        if (path)
                json_object_set_new(ns, "path", must(json_string(path)));
        json_array_append_new(list, ns);
}

static json_t *namespace_list(struct spec_ctx *ctx, const struct ns_modes *m)
{
        json_t *list = must(json_array());

        if (!m->pid_host)
                add_ns(list, "pid", m->pid_path);
        if (!m->net_host)
                add_ns(list, "network", m->net_path);
        if (!ctx->ipc_host)
                add_ns(list, "ipc", m->ipc_path);
        if (!ctx->uts_host)
                add_ns(list, "uts", m->uts_path);
        add_ns(list, "mount", NULL);
        if (!ctx->cgroupns_host)
                add_ns(list, "cgroup", NULL);
        return list;
}

/* Letters, digits, '.', '-' and '_' (which some compose files use),
 * within the kernel's length: anything else would only fail later, at
 * sethostname or in the programs that read it. */
static int check_name(const char *field, const char *name, berth_error_t **err)
{
        size_t len = strlen(name);
        bool ok = len > 0 && len <= NAME_MAX_LEN && name[0] != '-' && name[0] != '.';

        for (size_t i = 0; ok && i < len; i++) {
                char c = name[i];
                ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                     c == '.' || c == '_';
        }
        if (!ok) {
                _cleanup_free_ char *q = printable(name);
                return berth_error(err, 0, "%s: invalid hostname format: %s", field, q);
        }
        return 0;
}

/* Conflicts Docker refuses at create with these words. */
static int network_conflicts(struct spec_ctx *ctx, const char *hostname, berth_error_t **err)
{
        bool container = ctx->info->network == DOCKER_NETWORK_CONTAINER, host = ctx->info->network == DOCKER_NETWORK_HOST;
        json_t *dns = dj_get(ctx->hc, "Dns"), *hosts = dj_get(ctx->hc, "ExtraHosts"), *links = dj_get(ctx->hc, "Links");
        json_t *ports = dj_get(ctx->hc, "PortBindings"), *exposed = dj_get(ctx->body, "ExposedPorts");
        const char *mac;
        bool publish_all;
        int ret;

        if ((ret = dj_string(ctx->body, "", "MacAddress", &mac, err)) < 0 ||
            (ret = dj_bool(ctx->hc, "HostConfig.", "PublishAllPorts", &publish_all, err)) < 0)
                return ret;
        if (container && hostname[0])
                return berth_error(err, 0, "conflicting options: hostname and the network mode");
        if ((ctx->uts_host || ctx->uts_container) && hostname[0])
                return berth_error(err, 0, "conflicting options: hostname and the UTS mode");
        if (container && json_array_size(dns) > 0)
                return berth_error(err, 0, "conflicting options: dns and the network mode");
        if (container && json_array_size(hosts) > 0)
                return berth_error(err, 0, "conflicting options: custom host-to-IP mapping and the network mode");
        if ((container || host) && mac[0])
                return berth_error(err, 0, "conflicting options: mac-address and the network mode");
        if (container && (json_object_size(ports) > 0 || publish_all))
                return berth_error(err, 0, "conflicting options: port publishing and the container type network mode");
        if (container && json_object_size(exposed) > 0)
                return berth_error(err, 0, "conflicting options: port exposing and the container type network mode");
        if ((container || host) && json_array_size(links) > 0)
                return berth_error(err, 0, "conflicting options: %s type network can't be used with links",
                                   container ? "container" : "host");
        /* host mode discards them, as dockerd; so does none, silently */
        if ((json_object_size(ports) > 0 || publish_all) && host)
                spec_warn(ctx, "Published ports are discarded when using host network mode");
        return 0;
}

static char *host_hostname(void)
{
        char buf[NAME_MAX_LEN + 2] = "";

        if (gethostname(buf, sizeof(buf) - 1) < 0)
                return xstrdup("localhost");
        return xstrdup(buf);
}

static int names(struct spec_ctx *ctx, berth_error_t **err)
{
        const char *hostname, *domainname;
        const char *dflt = ctx->in->hostname_default;
        int ret;

        if ((ret = dj_string(ctx->body, "", "Hostname", &hostname, err)) < 0 ||
            (ret = dj_string(ctx->body, "", "Domainname", &domainname, err)) < 0)
                return ret;
        if ((ret = network_conflicts(ctx, hostname, err)) < 0)
                return ret;
        if (hostname[0] && (ret = check_name("Hostname", hostname, err)) < 0)
                return ret;
        if (domainname[0] && (ret = check_name("Domainname", domainname, err)) < 0)
                return ret;
        if (domainname[0] && (ctx->uts_host || ctx->uts_container))
                return berth_error(err, 0, "conflicting options: domainname and the UTS mode");
        if (hostname[0])
                ctx->info->hostname = xstrdup(hostname);
        else if (ctx->info->network == DOCKER_NETWORK_HOST || ctx->uts_host)
                ctx->info->hostname = host_hostname();
        else
                ctx->info->hostname = dflt ? xstrdup(dflt) : xasprintf("%.12s", ctx->in->id);
        /* a joined namespace keeps the hostname its owner set */
        if (ctx->uts_host || ctx->uts_container) {
                json_object_del(ctx->spec, "hostname");
                json_object_del(ctx->spec, "domainname");
                return 0;
        }
        json_object_set_new(ctx->spec, "hostname", must(json_string(ctx->info->hostname)));
        if (domainname[0])
                json_object_set_new(ctx->spec, "domainname", must(json_string(domainname)));
        else
                json_object_del(ctx->spec, "domainname");
        return 0;
}

static int sysctls(struct spec_ctx *ctx, json_t *namespaces, berth_error_t **err)
{
        json_t *given, *out, *v;
        const char *key;
        int ret;

        if ((ret = dj_object(ctx->hc, "HostConfig.", "Sysctls", &given, err)) < 0 || given == NULL)
                return ret;
        out = must(json_object());
        json_object_set_new(json_object_get(ctx->spec, "linux"), "sysctl", out);
        json_object_foreach(given, key, v) {
                _cleanup_free_ char *field = field_key("HostConfig.Sysctls", key);
                const char *s;
                if ((ret = dj_str_value(v, field, &s, err)) < 0)
                        return ret;
                if (strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") != strlen(key))
                        return berth_error(err, 0, "%s: invalid sysctl name", field);
                if ((ret = oci_sysctl_check(key, namespaces, err)) < 0)
                        return berth_error_wrap(err, "HostConfig.Sysctls");
                json_object_set_new(out, key, must(json_string(s)));
        }
        return 0;
}

int spec_namespaces(struct spec_ctx *ctx, berth_error_t **err)
{
        struct ns_modes m = { 0 };
        json_t *list;
        int ret;

        if ((ret = read_modes(ctx, &m, err)) < 0)
                return ret;
        list = namespace_list(ctx, &m);
        json_object_set_new(json_object_get(ctx->spec, "linux"), "namespaces", list);
        if ((ret = names(ctx, err)) < 0)
                return ret;
        return sysctls(ctx, list, err);
}
