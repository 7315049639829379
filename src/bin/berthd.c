/* berthd: the daemon.  dockerd's flags where they exist, so several
 * daemons can run side by side (tests): -H unix://PATH, --data-root,
 * --exec-root, --pidfile, --debug; plus --shim and --seccomp-profile.
 * SIGTERM or SIGINT stops it; containers keep running under their shims
 * and a restarted berthd adopts them. */
#include "api/http.h"
#include "api/routes.h"
#include "engine/engine.h"
#include "util/log.h"
#include "util/util.h"
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>

#ifndef BERTH_SECCOMP_PROFILE
#define BERTH_SECCOMP_PROFILE "/usr/share/berth/seccomp/default.json"
#endif

struct daemon_opts {
        const char *host, *data_root, *exec_root, *pidfile, *shim, *seccomp, *auth_config;
        const char *insecure[16];
        size_t n_insecure;
        bool debug;
};

static int usage(void)
{
        fprintf(stderr, "usage: berthd [-H unix://PATH] [--data-root DIR] [--exec-root DIR] [--pidfile FILE]\n"
                        "              [--shim PATH] [--seccomp-profile FILE] [--insecure-registry HOST] [--debug]\n");
        return 2;
}

static int parse(int argc, char **argv, struct daemon_opts *o)
{
        static const struct option opts[] = {
                { "host", required_argument, NULL, 'H' },
                { "data-root", required_argument, NULL, 'd' },
                { "exec-root", required_argument, NULL, 'e' },
                { "pidfile", required_argument, NULL, 'p' },
                { "shim", required_argument, NULL, 's' },
                { "seccomp-profile", required_argument, NULL, 'S' },
                { "insecure-registry", required_argument, NULL, 'i' },
                { "auth-config", required_argument, NULL, 'a' },
                { "debug", no_argument, NULL, 'D' },
                { NULL, 0, NULL, 0 },
        };
        int c;

        while ((c = getopt_long(argc, argv, "H:D", opts, NULL)) != -1) {
                switch (c) {
                case 'H': o->host = optarg; break;
                case 'd': o->data_root = optarg; break;
                case 'e': o->exec_root = optarg; break;
                case 'p': o->pidfile = optarg; break;
                case 's': o->shim = optarg; break;
                case 'S': o->seccomp = optarg; break;
                case 'a': o->auth_config = optarg; break;
                case 'i':
                        if (o->n_insecure < ARRAY_SIZE(o->insecure) - 1)
                                o->insecure[o->n_insecure++] = optarg;
                        break;
                case 'D': o->debug = true; break;
                default: return -1;
                }
        }
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

static int run(struct daemon_opts *o, berth_error_t **err)
{
        _cleanup_free_ char *shim = o->shim ? xstrdup(o->shim) : next_to_self("berth-shim");
        _cleanup_free_ char *runtime = next_to_self("berth-runtime");
        _cleanup_free_ char *runtime_root = xasprintf("%s/runtime", o->exec_root);
        _cleanup_free_ char *sock = NULL;
        struct engine_opts eo = {
                .data_root = o->data_root,
                .exec_root = o->exec_root,
                .runtime_root = runtime_root,
                .shim_path = shim,
                .runtime_path = runtime,
                .seccomp_profile = o->seccomp ? o->seccomp : BERTH_SECCOMP_PROFILE,
                .auth_config = o->auth_config,
                .insecure_registries = o->insecure,
        };
        struct api api = { .cgroup_version = cgroup_version() };
        sigset_t set;
        int sig;

        if (!str_has_prefix(o->host, "unix://"))
                return berth_error(err, EINVAL, "-H %s: only unix:// sockets are served (TCP needs TLS, not there yet)",
                                   o->host);
        sock = xstrdup(o->host + strlen("unix://"));
        /* signals are taken synchronously below; every thread inherits
         * the mask */
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        if (mkdir_p(o->data_root, 0710, err) < 0 || mkdir_p(o->exec_root, 0700, err) < 0)
                return -1;
        if (engine_open(&eo, &api.engine, err) < 0)
                return -1;
        struct http_server_opts ho = { .unix_path = sock };
        if (http_server_new(&ho, &api.http, err) < 0) {
                engine_close(api.engine);
                return -1;
        }
        api_routes(&api);
        if (http_server_start(api.http, err) < 0) {
                http_server_free(api.http);
                engine_close(api.engine);
                return -1;
        }
        if (o->pidfile) {
                _cleanup_free_ char *pid = xasprintf("%d\n", (int)getpid());
                write_file(o->pidfile, pid, strlen(pid), NULL);
        }
        berth_log(BERTH_LOG_INFO, "API listen on %s", sock);
        while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
                berth_log(BERTH_LOG_INFO, "SIGHUP: nothing to reload yet");
        berth_log(BERTH_LOG_INFO, "stopping (containers keep running)");
        http_server_free(api.http);
        engine_close(api.engine);
        if (o->pidfile)
                unlink(o->pidfile);
        return 0;
}

int main(int argc, char **argv)
{
        struct daemon_opts o = {
                .host = "unix:///run/berth/berth.sock",
                .data_root = "/var/lib/berth",
                .exec_root = "/run/berth",
        };
        _cleanup_error_ berth_error_t *err = NULL;

        berth_log_set_program("berthd");
        if (parse(argc, argv, &o) < 0)
                return usage();
        berth_log_init(NULL, false, o.debug);
        if (run(&o, &err) < 0) {
                berth_error_print("berthd", err);
                return 1;
        }
        return 0;
}
