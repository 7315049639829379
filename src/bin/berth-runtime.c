/* berth-runtime: an OCI runtime with runc's command-line contract.  Only
 * argument parsing lives here; the work is in src/runtime/. */
#include "runtime/cloned-binary.h"
#include "runtime/container.h"
#include "oci/config.h"
#include "oci/features.h"
#include "oci/signals.h"
#include "oci/spec.h"
#include "util/log.h"
#include "util/util.h"
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#define RUNTIME_SPEC_VERSION "1.2.0"

struct globals {
        const char *root;
        const char *log;
        const char *log_format;
        bool systemd_cgroup;
        bool debug;
};

static struct globals g = { .root = "/run/berth-runtime", .log_format = "text" };
static berth_error_t *error;

static int usage_error(const char *fmt, const char *arg)
{
        return berth_error(&error, 0, fmt, arg);
}

/* getopt_long_only: runc's parser takes -bundle as well as --bundle */
#define PARSE_OPTS(argc, argv, shortopts, longopts, c) \
        for (optind = 1, opterr = 0; ((c) = getopt_long_only((argc), (argv), (shortopts), (longopts), NULL)) != -1;)

static const char *one_id(int argc, char **argv, const char *cmd)
{
        if (optind != argc - 1) {
                usage_error("%s: expects exactly one container id", cmd);
                return NULL;
        }
        return argv[optind];
}

static int print_json(json_t *j)
{
        char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

        puts(text);
        free(text);
        json_decref(j);
        return 0;
}

static int cmd_create_or_run(int argc, char **argv, bool run)
{
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' }, { "pid-file", required_argument, NULL, 'p' },
                { "console-socket", required_argument, NULL, 'c' }, { "preserve-fds", required_argument, NULL, 'P' },
                { "no-pivot", no_argument, NULL, 'n' }, { "no-new-keyring", no_argument, NULL, 'k' },
                { "detach", no_argument, NULL, 'd' }, { "keep", no_argument, NULL, 'K' },
                { "no-subreaper", no_argument, NULL, 'S' }, { NULL, 0, NULL, 0 },
        };
        struct create_opts o = { 0 };
        const char *id;
        int c, code = 0;

        PARSE_OPTS(argc, argv, "b:d", opts, c) {
                switch (c) {
                case 'b': o.bundle = optarg; break;
                case 'p': o.pid_file = optarg; break;
                case 'c': o.console_socket = optarg; break;
                case 'P': o.preserve_fds = atoi(optarg); break;
                case 'n': o.no_pivot = true; break;
                case 'k': o.no_new_keyring = true; break;
                case 'd': o.detach = true; break;
                case 'K': case 'S': break;
                default: return usage_error("%s: unknown option", argv[optind - 1]);
                }
        }
        if ((id = one_id(argc, argv, argv[0])) == NULL)
                return -1;
        /* systemd socket activation: pass LISTEN_FDS on like --preserve-fds */
        if (getenv("LISTEN_FDS") && parse_ll(getenv("LISTEN_FDS")) > 0)
                o.listen_fds = (int)parse_ll(getenv("LISTEN_FDS"));
        if (!run)
                return container_create(g.root, id, &o, &error);
        if (container_run(g.root, id, &o, &code, &error) < 0)
                return -1;
        return code;
}

static int cmd_simple(int argc, char **argv)
{
        static const struct option opts[] = { { NULL, 0, NULL, 0 } };
        const char *id;
        json_t *state;
        int c;

        PARSE_OPTS(argc, argv, "", opts, c)
                return usage_error("%s: unknown option", argv[optind - 1]);
        if ((id = one_id(argc, argv, argv[0])) == NULL)
                return -1;
        if (strcmp(argv[0], "start") == 0)
                return container_start(g.root, id, &error);
        if (strcmp(argv[0], "pause") == 0)
                return container_pause(g.root, id, true, &error);
        if (strcmp(argv[0], "resume") == 0)
                return container_pause(g.root, id, false, &error);
        if (container_state(g.root, id, &state, &error) < 0)
                return -1;
        return print_json(state);
}

static int cmd_kill(int argc, char **argv)
{
        static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { NULL, 0, NULL, 0 } };
        bool all = false;
        int c, sig = SIGTERM;

        PARSE_OPTS(argc, argv, "a", opts, c) {
                if (c != 'a')
                        return usage_error("%s: unknown option", argv[optind - 1]);
                all = true;
        }
        if (optind >= argc || argc - optind > 2)
                return usage_error("%s: usage: kill [--all] <container-id> [signal]", "kill");
        if (argc - optind == 2 && (sig = signal_parse(argv[optind + 1])) < 0)
                return usage_error("unknown signal \"%s\"", argv[optind + 1]);
        return container_kill(g.root, argv[optind], sig, all, &error);
}

static int cmd_delete(int argc, char **argv)
{
        static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
        bool force = false;
        int c;

        PARSE_OPTS(argc, argv, "f", opts, c) {
                if (c != 'f')
                        return usage_error("%s: unknown option", argv[optind - 1]);
                force = true;
        }
        if (optind >= argc)
                return usage_error("%s: expects a container id", "delete");
        for (int i = optind; i < argc; i++)
                if (container_delete(g.root, argv[i], force, &error) < 0)
                        return -1;
        return 0;
}

static int cmd_list(int argc, char **argv)
{
        static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                              { "quiet", no_argument, NULL, 'q' }, { NULL, 0, NULL, 0 } };
        const char *format = "table";
        bool quiet = false;
        json_t *list, *s;
        size_t i;
        int c;

        PARSE_OPTS(argc, argv, "f:q", opts, c) {
                if (c == 'f')
                        format = optarg;
                else if (c == 'q')
                        quiet = true;
                else
                        return usage_error("%s: unknown option", argv[optind - 1]);
        }
        if (container_list(g.root, &list, &error) < 0)
                return -1;
        if (strcmp(format, "json") == 0)
                return print_json(list);
        if (!quiet)
                printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
        json_array_foreach(list, i, s) {
                const char *id = json_path_str(s, "", "id", NULL);
                if (quiet)
                        puts(id);
                else
                        printf("%-12s %-8lld %-10s %-40s %-30s %s\n", id,
                               (long long)json_integer_value(json_object_get(s, "pid")),
                               json_path_str(s, "", "status", NULL), json_path_str(s, "", "bundle", NULL),
                               json_path_str(s, "", "created", NULL), "root");
        }
        json_decref(list);
        return 0;
}

static int cmd_ps(int argc, char **argv)
{
        static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
        const char *format = "table", *id;
        _cleanup_free_ pid_t *pids = NULL;
        int c, n;

        PARSE_OPTS(argc, argv, "f:", opts, c) {
                if (c != 'f')
                        return usage_error("%s: unknown option", argv[optind - 1]);
                format = optarg;
        }
        if (optind >= argc)
                return usage_error("%s: expects a container id", "ps");
        id = argv[optind];
        if ((n = container_pids(g.root, id, &pids, &error)) < 0)
                return -1;
        if (strcmp(format, "json") == 0) {
                json_t *arr = json_array();
                for (int i = 0; i < n; i++)
                        json_array_append_new(arr, json_integer(pids[i]));
                char *text = json_dumps(arr, JSON_COMPACT);
                puts(text);
                free(text);
                json_decref(arr);
                return 0;
        }
        printf("%-8s %s\n", "PID", "CMD");
        for (int i = 0; i < n; i++) {
                char path[64];
                _cleanup_free_ char *cmd = NULL;
                size_t len = 0;
                snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pids[i]);
                if (read_file(path, &cmd, &len, NULL) < 0)
                        continue;
                for (size_t k = 0; k + 1 < len; k++)
                        if (cmd[k] == '\0')
                                cmd[k] = ' ';
                printf("%-8d %s\n", (int)pids[i], cmd);
        }
        return 0;
}

/* exec without --process: the container's own process is the template,
 * as with runc. */
static json_t *exec_template(const char *id)
{
        json_t *state = NULL, *config = NULL, *process;
        _cleanup_free_ char *path = NULL;

        if (container_state(g.root, id, &state, &error) < 0)
                return NULL;
        path = xasprintf("%s/config.json", json_path_str(state, "", "bundle", NULL));
        json_decref(state);
        config = json_load_file(path, 0, NULL);
        process = json_deep_copy(json_object_get(config, "process"));
        json_decref(config);
        if (process == NULL)
                process = json_pack("{s:s, s:{s:i, s:i}}", "cwd", "/", "user", "uid", 0, "gid", 0);
        json_object_del(process, "consoleSize");
        return process;
}

static int exec_set_user(json_t *process, const char *spec)
{
        json_t *user = json_object();
        const char *colon = strchr(spec, ':');
        long long uid = parse_ll(colon ? strndupa(spec, (size_t)(colon - spec)) : spec);
        long long gid = colon ? parse_ll(colon + 1) : 0;

        if (uid < 0 || gid < 0)
                return usage_error("--user \"%s\": expects uid[:gid]", spec);
        json_object_set_new(user, "uid", json_integer(uid));
        json_object_set_new(user, "gid", json_integer(gid));
        json_object_set_new(process, "user", user);
        return 0;
}

static int cmd_exec(int argc, char **argv)
{
        static const struct option opts[] = {
                { "process", required_argument, NULL, 'p' }, { "detach", no_argument, NULL, 'd' },
                { "pid-file", required_argument, NULL, 'P' }, { "console-socket", required_argument, NULL, 'c' },
                { "tty", no_argument, NULL, 't' }, { "env", required_argument, NULL, 'e' },
                { "cwd", required_argument, NULL, 'w' }, { "user", required_argument, NULL, 'u' },
                { "cap", required_argument, NULL, 'C' }, { "no-new-privs", no_argument, NULL, 'N' },
                { "preserve-fds", required_argument, NULL, 'F' }, { "additional-gids", required_argument, NULL, 'g' },
                { NULL, 0, NULL, 0 },
        };
        struct exec_opts o = { 0 };
        const char *process_file = NULL, *cwd = NULL, *user = NULL, *id;
        json_t *env = json_array(), *caps = json_array(), *gids = json_array();
        bool tty = false, nnp = false;
        int c, code = 0, ret = -1;

        PARSE_OPTS(argc, argv, "+p:dtue:c", opts, c) {
                switch (c) {
                case 'p': process_file = optarg; break;
                case 'd': o.detach = true; break;
                case 'P': o.pid_file = optarg; break;
                case 'c': o.console_socket = optarg; break;
                case 't': tty = true; break;
                case 'e': json_array_append_new(env, json_string(optarg)); break;
                case 'w': cwd = optarg; break;
                case 'u': user = optarg; break;
                case 'C': json_array_append_new(caps, json_string(optarg)); break;
                case 'N': nnp = true; break;
                case 'F': o.preserve_fds = atoi(optarg); break;
                case 'g': json_array_append_new(gids, json_integer(parse_ll(optarg))); break;
                default: usage_error("%s: unknown option", argv[optind - 1]); goto out;
                }
        }
        if (optind >= argc) {
                usage_error("%s: expects a container id", "exec");
                goto out;
        }
        id = argv[optind++];
        if (process_file) {
                json_error_t jerr;
                o.process = strcmp(process_file, "-") == 0 ? json_loadf(stdin, 0, &jerr)
                                                           : json_load_file(process_file, 0, &jerr);
                if (o.process == NULL) {
                        berth_error(&error, 0, "parse process %s: %s", process_file, jerr.text);
                        goto out;
                }
        } else {
                json_t *args = json_array();
                if (optind >= argc) {
                        json_decref(args);
                        usage_error("%s: needs --process or a command", "exec");
                        goto out;
                }
                if ((o.process = exec_template(id)) == NULL) {
                        json_decref(args);
                        goto out;
                }
                for (int i = optind; i < argc; i++)
                        json_array_append_new(args, json_string(argv[i]));
                json_object_set_new(o.process, "args", args);
                json_object_set_new(o.process, "terminal", json_boolean(tty));
                if (!json_is_array(json_object_get(o.process, "env")))
                        json_object_set_new(o.process, "env", json_array());
                json_array_extend(json_object_get(o.process, "env"), env);
                if (cwd)
                        json_object_set_new(o.process, "cwd", json_string(cwd));
                if (user && exec_set_user(o.process, user) < 0)
                        goto out;
                if (json_array_size(gids))
                        json_object_set(json_object_get(o.process, "user"), "additionalGids", gids);
                if (nnp)
                        json_object_set_new(o.process, "noNewPrivileges", json_true());
                if (json_array_size(caps)) {
                        json_t *pc = json_object_get(o.process, "capabilities");
                        static const char *const sets[] = { "bounding", "effective", "permitted" };
                        for (size_t s = 0; pc && s < ARRAY_SIZE(sets); s++)
                                if (json_is_array(json_object_get(pc, sets[s])))
                                        json_array_extend(json_object_get(pc, sets[s]), caps);
                }
        }
        if (container_exec(g.root, id, &o, &code, &error) == 0)
                ret = code;
        else
                berth_error_wrap(&error, "exec failed"); /* as runc says it */
out:
        json_decref(o.process);
        json_decref(env);
        json_decref(caps);
        json_decref(gids);
        return ret;
}

/* "64m", "1g", "-1", "1024" -> bytes */
static json_t *parse_size(const char *s)
{
        char *end;
        long long v = strtoll(s, &end, 10);

        switch (*end) {
        case 'k': case 'K': v <<= 10; end++; break;
        case 'm': case 'M': v <<= 20; end++; break;
        case 'g': case 'G': v <<= 30; end++; break;
        default: break;
        }
        if (*end == 'b' || *end == 'B')
                end++;
        if (end == s || *end)
                return NULL;
        return json_integer(v);
}

static int cmd_update(int argc, char **argv)
{
        static const struct { const char *flag, *section, *key; bool size, string; } knobs[] = {
                { "memory", "memory", "limit", true, false },
                { "memory-swap", "memory", "swap", true, false },
                { "memory-reservation", "memory", "reservation", true, false },
                { "kernel-memory", "memory", "kernel", true, false },
                { "cpu-share", "cpu", "shares", false, false }, /* runc's spelling */
                { "cpu-shares", "cpu", "shares", false, false },
                { "cpu-quota", "cpu", "quota", false, false },
                { "cpu-period", "cpu", "period", false, false },
                { "cpu-rt-runtime", "cpu", "realtimeRuntime", false, false },
                { "cpu-rt-period", "cpu", "realtimePeriod", false, false },
                { "cpuset-cpus", "cpu", "cpus", false, true },
                { "cpuset-mems", "cpu", "mems", false, true },
                { "pids-limit", "pids", "limit", false, false },
                { "blkio-weight", "blockIO", "weight", false, false },
        };
        struct option opts[ARRAY_SIZE(knobs) + 2];
        json_t *resources = NULL;
        int c, ret;

        for (size_t i = 0; i < ARRAY_SIZE(knobs); i++)
                opts[i] = (struct option){ knobs[i].flag, required_argument, NULL, 1000 + (int)i };
        opts[ARRAY_SIZE(knobs)] = (struct option){ "resources", required_argument, NULL, 'r' };
        opts[ARRAY_SIZE(knobs) + 1] = (struct option){ NULL, 0, NULL, 0 };
        json_t *flags = json_object();
        PARSE_OPTS(argc, argv, "r:", opts, c) {
                if (c == 'r') {
                        json_error_t jerr;
                        json_decref(resources);
                        resources = strcmp(optarg, "-") == 0 ? json_loadf(stdin, 0, &jerr)
                                                             : json_load_file(optarg, 0, &jerr);
                        if (resources == NULL) {
                                json_decref(flags);
                                return berth_error(&error, 0, "parse resources %s: %s", optarg, jerr.text);
                        }
                } else if (c >= 1000 && c < 1000 + (int)ARRAY_SIZE(knobs)) {
                        size_t k = (size_t)(c - 1000);
                        json_t *v = knobs[k].string ? json_string(optarg) : knobs[k].size ? parse_size(optarg)
                                  : parse_ll(optarg) >= 0 || optarg[0] == '-' ? json_integer(strtoll(optarg, NULL, 10))
                                  : NULL;
                        json_t *section;
                        if (v == NULL) {
                                json_decref(flags);
                                json_decref(resources);
                                return usage_error("update: bad value \"%s\"", optarg);
                        }
                        if ((section = json_object_get(flags, knobs[k].section)) == NULL)
                                json_object_set_new(flags, knobs[k].section, section = json_object());
                        json_object_set_new(section, knobs[k].key, v);
                } else {
                        json_decref(flags);
                        json_decref(resources);
                        return usage_error("%s: unknown option", argv[optind - 1]);
                }
        }
        if (resources == NULL)
                resources = json_object();
        /* single-value flags win over the file, section by section */
        const char *section;
        json_t *v;
        json_object_foreach(flags, section, v) {
                json_t *target = json_object_get(resources, section);
                if (target == NULL)
                        json_object_set(resources, section, v);
                else
                        json_object_update(target, v);
        }
        json_decref(flags);
        if (optind != argc - 1) {
                json_decref(resources);
                return usage_error("%s: expects exactly one container id", "update");
        }
        ret = container_update(g.root, argv[optind], resources, &error);
        json_decref(resources);
        return ret;
}

static int cmd_spec(int argc, char **argv)
{
        static const struct option opts[] = { { "bundle", required_argument, NULL, 'b' },
                                              { "rootless", no_argument, NULL, 'r' }, { NULL, 0, NULL, 0 } };
        const char *bundle = ".";
        bool rootless = false;
        _cleanup_free_ char *path = NULL;
        int c, ret;

        PARSE_OPTS(argc, argv, "b:", opts, c) {
                if (c == 'b')
                        bundle = optarg;
                else if (c == 'r')
                        rootless = true;
                else
                        return usage_error("%s: unknown option", argv[optind - 1]);
        }
        path = xasprintf("%s/config.json", bundle);
        if (access(path, F_OK) == 0)
                return berth_error(&error, 0, "File %s exists. Remove it first", path);
        json_t *spec = oci_default_spec(rootless);
        ret = json_dump_file(spec, path, JSON_INDENT(8) | JSON_PRESERVE_ORDER);
        json_decref(spec);
        if (ret < 0)
                return berth_error(&error, errno, "write %s", path);
        return 0;
}

static int cmd_features(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        return print_json(oci_features());
}

static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
} commands[] = {
        { "create", NULL },          { "run", NULL },           { "start", cmd_simple },
        { "state", cmd_simple },     { "pause", cmd_simple },   { "resume", cmd_simple },
        { "kill", cmd_kill },        { "delete", cmd_delete },  { "list", cmd_list },
        { "ps", cmd_ps },            { "exec", cmd_exec },      { "update", cmd_update },
        { "spec", cmd_spec },        { "features", cmd_features },
};

static void print_usage(void)
{
        puts("usage: berth-runtime [--root DIR] [--log FILE] [--log-format text|json] [--systemd-cgroup] [--debug]\n"
             "                     COMMAND [OPTIONS] ID\n"
             "commands: create start run state kill delete list ps exec pause resume update spec features\n"
             "An OCI runtime with runc's command-line contract; part of Berth.");
}

/* An unprivileged user cannot write /run: state goes where runc's does. */
static const char *rootless_root(void)
{
        static char path[4096];
        const char *xdg = getenv("XDG_RUNTIME_DIR");

        if (xdg && *xdg)
                snprintf(path, sizeof(path), "%s/berth-runtime", xdg);
        else
                snprintf(path, sizeof(path), "/tmp/berth-runtime-%u", (unsigned)geteuid());
        return path;
}

/* Global flags come before the command, as with runc. */
static int parse_globals(int argc, char **argv)
{
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' }, { "log", required_argument, NULL, 'l' },
                { "log-format", required_argument, NULL, 'f' }, { "systemd-cgroup", no_argument, NULL, 's' },
                { "debug", no_argument, NULL, 'd' }, { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' }, { "rootless", required_argument, NULL, 'R' },
                { "criu", required_argument, NULL, 'C' }, { NULL, 0, NULL, 0 },
        };
        bool root_given = false;
        int c;

        PARSE_OPTS(argc, argv, "+vh", opts, c) {
                switch (c) {
                case 'r': g.root = optarg; root_given = true; break;
                case 'l': g.log = optarg; break;
                case 'f': g.log_format = optarg; break;
                case 's': g.systemd_cgroup = true; break;
                case 'd': g.debug = true; break;
                case 'v':
                        printf("berth-runtime version %s\nspec: %s\n", BERTH_VERSION, RUNTIME_SPEC_VERSION);
                        exit(0);
                case 'h': print_usage(); exit(0);
                case 'R': case 'C': break;
                default: return usage_error("unknown global option %s", argv[optind - 1]);
                }
        }
        if (!root_given && geteuid() != 0)
                g.root = rootless_root();
        if (strcmp(g.log_format, "text") && strcmp(g.log_format, "json"))
                return usage_error("unknown --log-format \"%s\" (text or json)", g.log_format);
        return optind;
}

/* Commands that start processes in a container run from a sealed copy. */
static bool starts_container_processes(const char *cmd)
{
        return strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0 || strcmp(cmd, "exec") == 0;
}

int main(int argc, char **argv)
{
        int first, ret = -1;

        first = parse_globals(argc, argv);
        if (first >= 0 && first < argc && starts_container_processes(argv[first]) &&
            cloned_binary_ensure(argc, argv, &error) < 0)
                first = -1;
        if (first >= 0 && berth_log_init(g.log, strcmp(g.log_format, "json") == 0, g.debug) < 0)
                berth_warn("cannot open log %s: %s", g.log, strerror(errno));
        if (first >= 0 && first >= argc) {
                print_usage();
                return 1;
        }
        if (first >= 0 && g.systemd_cgroup)
                berth_warn("--systemd-cgroup: no systemd cgroup driver yet, using cgroupfs");
        for (size_t i = 0; first >= 0 && i < ARRAY_SIZE(commands); i++) {
                if (strcmp(argv[first], commands[i].name) != 0)
                        continue;
                if (commands[i].fn)
                        ret = commands[i].fn(argc - first, argv + first);
                else
                        ret = cmd_create_or_run(argc - first, argv + first, strcmp(commands[i].name, "run") == 0);
                goto done;
        }
        if (first >= 0)
                usage_error("unknown command \"%s\"", argv[first]);
done:
        if (error) {
                berth_error_print("berth-runtime", error);
                berth_error_free(&error);
                return ret > 0 ? ret : 1;
        }
        return ret < 0 ? 1 : ret;
}
