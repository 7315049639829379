/* berthd: the daemon.  dockerd's flags and daemon.json (--config-file,
 * default /etc/berth/daemon.json; src/engine/daemon-config.h has the
 * keys and the rules), so several daemons can run side by side (tests):
 * -H unix://PATH or tcp://ADDR:PORT (TLS client certificates only),
 * --data-root, --exec-root, --pidfile, --debug...; plus --shim and
 * --auth-config, which have no daemon.json key.
 * SIGHUP reloads the file; SIGTERM or SIGINT stops berthd; containers keep
 * running under their shims and a restarted berthd adopts them. */
#include "api/http.h"
#include "api/routes.h"
#include "engine/daemon-config.h"
#include "engine/engine.h"
#include "orch/orch.h"
#include "util/log.h"
#include "util/util.h"
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>

#ifndef BERTH_SECCOMP_PROFILE
#define BERTH_SECCOMP_PROFILE "/usr/share/berth/seccomp/default.json"
#endif
#define DEFAULT_CONFIG_FILE "/etc/berth/daemon.json"
/* The socket's group when none is configured and it exists, as dockerd's "docker". */
#define DEFAULT_GROUP "berth"

struct daemon_opts {
        json_t *flags;                  /* daemon.json keys given as flags */
        const char *config_file;
        bool config_required;           /* --config-file given: it must exist */
        const char *shim, *auth_config;
        struct kube_opts kube;          /* --kube-*: the orchestrator's timings (tests shorten them) */
};

static int usage(void)
{
        fprintf(stderr,
                "usage: berthd [--config-file FILE] [-H unix://PATH|tcp://ADDR:PORT]... [--data-root DIR]\n"
                "              [--exec-root DIR] [--pidfile FILE] [--group GROUP] [-D|--debug] [-l|--log-level LEVEL]\n"
                "              [--tls] [--tlsverify] [--tlscacert FILE] [--tlscert FILE] [--tlskey FILE]\n"
                "              [--insecure-registry HOST]... [--default-ulimit NAME=SOFT[:HARD]]...\n"
                "              [--add-runtime NAME=PATH]... [--default-runtime NAME] [--seccomp-profile FILE]\n"
                "              [--shim PATH] [--auth-config FILE]\n"
                "              [--kube-backoff-base S] [--kube-backoff-max S] [--kube-backoff-reset S]\n"
                "              [--kube-hpa-sync S]\n"
                "              [--kube-hpa-downscale-window S] [--kube-configmap-sync S]\n"
                "              [--kube-service-cidr CIDR] [--kube-pod-cidr CIDR]\n");
        return 2;
}

/* Flags that are daemon.json keys of the same name and take a value. */
static const char *const value_keys[] = {
        "data-root", "exec-root", "pidfile", "group", "log-level", "default-runtime",
        "tlscacert", "tlscert", "tlskey", "seccomp-profile",
};

enum { OPT_VALUE = 0x100, OPT_CONFIG = 0x200, OPT_SHIM, OPT_AUTH, OPT_INSECURE, OPT_RUNTIME, OPT_ULIMIT, OPT_TLS,
       OPT_TLSVERIFY, OPT_KUBE_BACKOFF_BASE, OPT_KUBE_BACKOFF_MAX, OPT_KUBE_BACKOFF_RESET, OPT_KUBE_HPA_SYNC, OPT_KUBE_HPA_WINDOW,
       OPT_KUBE_CM_SYNC, OPT_KUBE_SVC_CIDR, OPT_KUBE_POD_CIDR };

static int seconds(const char *flag, const char *v, int *out, berth_error_t **err)
{
        char *end;
        long n = strtol(v, &end, 10);

        if (*v == '\0' || *end || n <= 0 || n > 86400)
                return berth_error(err, EINVAL, "--%s: %s: a number of seconds from 1 to 86400", flag, v);
        *out = (int)n;
        return 0;
}

static int parse_opt(int c, struct daemon_opts *o, berth_error_t **err)
{
        switch (c) {
        case 'H': daemon_flag_append(o->flags, "hosts", optarg); return 0;
        case 'D': daemon_flag_bool(o->flags, "debug", true); return 0;
        case 'l': daemon_flag_set(o->flags, "log-level", optarg); return 0;
        case OPT_TLS: daemon_flag_bool(o->flags, "tls", true); return 0;
        case OPT_TLSVERIFY: daemon_flag_bool(o->flags, "tlsverify", true); return 0;
        case OPT_INSECURE: daemon_flag_append(o->flags, "insecure-registries", optarg); return 0;
        case OPT_RUNTIME: return daemon_flag_runtime(o->flags, optarg, err);
        case OPT_ULIMIT: return daemon_flag_ulimit(o->flags, optarg, err);
        case OPT_CONFIG: o->config_file = optarg; o->config_required = true; return 0;
        case OPT_SHIM: o->shim = optarg; return 0;
        case OPT_AUTH: o->auth_config = optarg; return 0;
        case OPT_KUBE_BACKOFF_BASE: return seconds("kube-backoff-base", optarg, &o->kube.backoff_base_s, err);
        case OPT_KUBE_BACKOFF_MAX: return seconds("kube-backoff-max", optarg, &o->kube.backoff_max_s, err);
        case OPT_KUBE_BACKOFF_RESET: return seconds("kube-backoff-reset", optarg, &o->kube.backoff_reset_s, err);
        case OPT_KUBE_HPA_SYNC: return seconds("kube-hpa-sync", optarg, &o->kube.hpa_sync_s, err);
        case OPT_KUBE_HPA_WINDOW:
                return seconds("kube-hpa-downscale-window", optarg, &o->kube.hpa_downscale_window_s, err);
        case OPT_KUBE_CM_SYNC: return seconds("kube-configmap-sync", optarg, &o->kube.configmap_sync_s, err);
        case OPT_KUBE_SVC_CIDR: o->kube.service_cidr = optarg; return 0;
        case OPT_KUBE_POD_CIDR: o->kube.pod_cidr = optarg; return 0;
        default:
                if (c >= OPT_VALUE && c < OPT_VALUE + (int)ARRAY_SIZE(value_keys)) {
                        daemon_flag_set(o->flags, value_keys[c - OPT_VALUE], optarg);
                        return 0;
                }
                return -1;      /* usage */
        }
}

/* -1 without *err: a usage error. */
static int parse(int argc, char **argv, struct daemon_opts *o, berth_error_t **err)
{
        struct option opts[ARRAY_SIZE(value_keys) + 24] = {
                { "host", required_argument, NULL, 'H' },
                { "debug", no_argument, NULL, 'D' },
                { "tls", no_argument, NULL, OPT_TLS },
                { "tlsverify", no_argument, NULL, OPT_TLSVERIFY },
                { "insecure-registry", required_argument, NULL, OPT_INSECURE },
                { "add-runtime", required_argument, NULL, OPT_RUNTIME },
                { "default-ulimit", required_argument, NULL, OPT_ULIMIT },
                { "config-file", required_argument, NULL, OPT_CONFIG },
                { "shim", required_argument, NULL, OPT_SHIM },
                { "auth-config", required_argument, NULL, OPT_AUTH },
                { "kube-backoff-base", required_argument, NULL, OPT_KUBE_BACKOFF_BASE },
                { "kube-backoff-max", required_argument, NULL, OPT_KUBE_BACKOFF_MAX },
                { "kube-backoff-reset", required_argument, NULL, OPT_KUBE_BACKOFF_RESET },
                { "kube-hpa-sync", required_argument, NULL, OPT_KUBE_HPA_SYNC },
                { "kube-hpa-downscale-window", required_argument, NULL, OPT_KUBE_HPA_WINDOW },
                { "kube-configmap-sync", required_argument, NULL, OPT_KUBE_CM_SYNC },
                { "kube-service-cidr", required_argument, NULL, OPT_KUBE_SVC_CIDR },
                { "kube-pod-cidr", required_argument, NULL, OPT_KUBE_POD_CIDR },
        };
        size_t n = 0;
        int c;

        while (opts[n].name)
                n++;
        for (size_t i = 0; i < ARRAY_SIZE(value_keys); i++)
                opts[n++] = (struct option){ value_keys[i], required_argument, NULL, OPT_VALUE + (int)i };
        /* -l is --log-level's short form, as dockerd's */
        while ((c = getopt_long(argc, argv, "H:Dl:", opts, NULL)) != -1)
                if (parse_opt(c, o, err) < 0)
                        return -1;
        return optind == argc ? 0 : -1;
}

/* berth-shim and berth-runtime next to berthd, as the build and an
 * install place them. */
static char *next_to_self(const char *name)
{
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

        if (n <= 0)
                return xasprintf("/usr/bin/%s", name);
        self[n] = '\0';
        *strrchr(self, '/') = '\0';
        return xasprintf("%s/%s", self, name);
}

static const char *cgroup_version(void)
{
        return access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "2" : "1";
}

/* ---- sockets -------------------------------------------------------------- */

/* A group from /etc/group, as dockerd looks its socket group up (Go's
 * user.LookupGroup in moby/sys/user reads the file, not NSS); NSS would
 * also load its modules into a daemon that stays resident for good. */
static bool etc_group_gid(const char *name, gid_t *gid)
{
        _cleanup_fclose_ FILE *f = fopen("/etc/group", "re");
        struct group gr, *found = NULL;
        char buf[4096];

        if (f == NULL)
                return false;
        while (fgetgrent_r(f, &gr, buf, sizeof(buf), &found) == 0 && found) {
                if (strcmp(found->gr_name, name) == 0) {
                        *gid = found->gr_gid;
                        return true;
                }
        }
        return false;
}

/* The unix sockets' group: the configured one (which must exist), else
 * "berth" when it exists, else root's. */
static int socket_group(const struct daemon_config *c, bool *chgrp, gid_t *gid, berth_error_t **err)
{
        const char *name = c->group ? c->group : DEFAULT_GROUP;
        long long num = parse_ll(name);

        *chgrp = false;
        if (etc_group_gid(name, gid)) {
                *chgrp = true;
        } else if (c->group && num >= 0) {
                *chgrp = true;
                *gid = (gid_t)num;
        } else if (c->group) {
                return berth_fail(err, EINVAL, "group %s not found", name);
        }
        return 0;
}

struct listeners {
        struct http_listener l[HTTP_MAX_LISTENERS];
        size_t n;
        struct http_tls tls;
        char *pem[3];                   /* cert, key, ca */
};

static void listeners_clear(struct listeners *ls)
{
        for (size_t i = 0; i < ARRAY_SIZE(ls->pem); i++)
                free(ls->pem[i]);
}

/* The TLS files, read once for every TCP host. */
static int load_tls(const struct daemon_config *c, struct listeners *ls, berth_error_t **err)
{
        const char *paths[3] = { c->tlscert, c->tlskey, c->tlscacert };
        static const char *const keys[3] = { "tlscert", "tlskey", "tlscacert" };
        size_t len;

        if (ls->pem[0])
                return 0;
        for (size_t i = 0; i < 3; i++)
                if (read_file(paths[i], &ls->pem[i], &len, err) < 0)
                        return berth_error_wrap(err, "%s", keys[i]);
        ls->tls = (struct http_tls){ .cert = ls->pem[0], .key = ls->pem[1], .ca = ls->pem[2] };
        return 0;
}

static int unix_listener(const char *path, bool chgrp, gid_t gid, struct http_listener *l, berth_error_t **err)
{
        _cleanup_free_ char *dir = xstrdup(path);

        *strrchr(dir, '/') = '\0';
        if (dir[0] && mkdir_p(dir, 0755, err) < 0)
                return -1;
        *l = (struct http_listener){ .unix_path = path, .unix_mode = 0660, .unix_chgrp = chgrp, .unix_gid = gid };
        return 0;
}

/* daemon-config has checked the hosts' forms and that TCP has TLS. */
static int make_listeners(const struct daemon_config *c, struct listeners *ls, berth_error_t **err)
{
        bool chgrp;
        gid_t gid = 0;

        if (socket_group(c, &chgrp, &gid, err) < 0)
                return -1;
        for (size_t i = 0; c->hosts[i]; i++) {
                const char *h = c->hosts[i];
                if (ls->n == ARRAY_SIZE(ls->l))
                        return berth_fail(err, EINVAL, "hosts: at most %zu", ARRAY_SIZE(ls->l));
                if (str_has_prefix(h, "tcp://")) {
                        if (load_tls(c, ls, err) < 0)
                                return -1;
                        ls->l[ls->n++] = (struct http_listener){ .tcp_addr = h + strlen("tcp://"), .tls = &ls->tls };
                } else if (unix_listener(h + strlen("unix://"), chgrp, gid, &ls->l[ls->n++], err) < 0) {
                        return -1;
                }
        }
        return 0;
}

/* ---- running --------------------------------------------------------------- */

static void apply_logging(const struct daemon_config *c)
{
        berth_log_init(NULL, false, daemon_config_debug(c));
}

/* SIGHUP: the reloadable keys take effect for new operations; the others
 * wait for a restart, which the log says; a bad file changes nothing. */
static void reload(struct daemon_opts *o)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *ignored = NULL, *desc = NULL;
        struct daemon_config *c;

        if (daemon_config_reload(o->flags, o->config_file, o->config_required, daemon_config_current(), &c, &ignored,
                                 &err) < 0) {
                berth_log(BERTH_LOG_ERROR, "reload: %s (the configuration in use is kept)", err->msg);
                return;
        }
        if (ignored)
                berth_warn("reload: %s changed in %s: that takes a restart of berthd", ignored, o->config_file);
        desc = daemon_config_describe(c);
        daemon_config_publish(c);
        apply_logging(c);
        berth_log(BERTH_LOG_INFO, "reloaded the configuration from %s: %s", o->config_file, desc);
}

static void write_pidfile(const char *path)
{
        _cleanup_free_ char *pid = xasprintf("%d\n", (int)getpid());

        if (path)
                write_file(path, pid, strlen(pid), NULL);
}

static int serve(const struct daemon_config *c, struct api *api, berth_error_t **err)
{
        struct listeners ls = { 0 };
        int r = make_listeners(c, &ls, err);

        if (r == 0) {
                struct http_server_opts ho = { .listeners = ls.l, .n_listeners = ls.n };
                r = http_server_new(&ho, &api->http, err);
        }
        listeners_clear(&ls);
        if (r < 0)
                return -1;
        api_routes(api);
        if (http_server_start(api->http, err) < 0) {
                http_server_free(api->http);
                return -1;
        }
        write_pidfile(c->pidfile);
        for (size_t i = 0; c->hosts[i]; i++)
                berth_log(BERTH_LOG_INFO, "API listen on %s", c->hosts[i]);
        return 0;
}

static void wait_for_stop(struct daemon_opts *o, sigset_t *set)
{
        int sig;

        while (sigwait(set, &sig) == 0 && sig == SIGHUP)
                reload(o);
}

static int run(struct daemon_opts *o, const struct daemon_config *c, berth_error_t **err)
{
        _cleanup_free_ char *shim = o->shim ? xstrdup(o->shim) : next_to_self("berth-shim");
        _cleanup_free_ char *runtime = next_to_self("berth-runtime");
        _cleanup_free_ char *runtime_root = xasprintf("%s/runtime", c->exec_root);
        struct engine_opts eo = {
                .data_root = c->data_root,
                .exec_root = c->exec_root,
                .runtime_root = runtime_root,
                .shim_path = shim,
                .runtime_path = runtime,
                .seccomp_profile = c->seccomp_profile ? c->seccomp_profile : BERTH_SECCOMP_PROFILE,
                .auth_config = o->auth_config,
                .insecure_registries = daemon_config_insecure_registries(),
        };
        struct api api = { .cgroup_version = cgroup_version() };
        sigset_t set;

        /* signals are taken synchronously below; every thread inherits
         * the mask */
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        /* 0711: the default socket lives here, and the berth group must
         * reach it; the shims' and runtime's directories are 0700 */
        if (mkdir_p(c->data_root, 0710, err) < 0 || mkdir_p(c->exec_root, 0711, err) < 0)
                return -1;
        if (engine_open(&eo, &api.engine, err) < 0)
                return -1;
        /* the orchestrator is part of the daemon's service: a daemon that
         * cannot run it (its pod network's subnet is taken) still serves
         * the Docker API, and /berth/v1 says why not */
        _cleanup_error_ berth_error_t *kerr = NULL;
        if (kube_open(api.engine, &o->kube, &api.kube, &kerr) < 0)
                berth_log(BERTH_LOG_ERROR, "orchestrator: %s", kerr->msg);
        if (serve(c, &api, err) < 0) {
                kube_close(api.kube);
                engine_close(api.engine);
                return -1;
        }
        wait_for_stop(o, &set);
        berth_log(BERTH_LOG_INFO, "stopping (containers keep running)");
        http_server_free(api.http);
        kube_close(api.kube);
        engine_close(api.engine);
        if (c->pidfile)
                unlink(c->pidfile);
        return 0;
}

int main(int argc, char **argv)
{
        struct daemon_opts o = { .flags = json_object(), .config_file = DEFAULT_CONFIG_FILE };
        _cleanup_error_ berth_error_t *err = NULL;
        struct daemon_config *c;
        int r;

        berth_log_set_program("berthd");
        /* A thread per connection and per request would give glibc up to
         * 8 arenas per core, each keeping what its threads freed: a daemon
         * that mostly waits wants one (and src/api trims it when idle). */
        mallopt(M_ARENA_MAX, 1);
        if (parse(argc, argv, &o, &err) < 0) {
                if (err == NULL)
                        return usage();
                berth_error_print("berthd", err);
                return 2;
        }
        if (daemon_config_load(o.flags, o.config_file, o.config_required, &c, &err) < 0) {
                berth_error_print("berthd", err);
                return 1;
        }
        apply_logging(c);
        daemon_config_publish(c);
        r = run(&o, c, &err);
        json_decref(o.flags);
        if (r < 0) {
                berth_error_print("berthd", err);
                return 1;
        }
        return 0;
}
