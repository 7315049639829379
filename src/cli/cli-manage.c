/* Container management: restart, pause, unpause, top, rename, update,
 * container prune.  Commands acting on several containers print each name
 * that worked and, as docker 28 does, all the failures at the end. */
#include "cli/cli.h"

/* method path-suffix query on each container argument. */
static int each(struct cli *c, int argc, char **argv, const char *action, const char *query)
{
        struct cli_errors errs = { 0 };

        for (int i = optind; i < argc; i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_response_ struct cli_response resp = { 0 };
                _cleanup_free_ char *name = cli_escape_path(argv[i]);
                _cleanup_free_ char *path = xasprintf("/containers/%s/%s%s", name, action, query);

                if (cli_call_ok(c, "POST", path, NULL, &resp, &err) < 0) {
                        cli_errors_add(&errs, err);
                        continue;
                }
                printf("%s\n", argv[i]);
                fflush(stdout);
        }
        return cli_errors_finish(&errs);
}

static int no_flags(int argc, char **argv, const char *cmd)
{
        static const struct option longopts[] = { CLI_OPT_HELP, CLI_OPT_END };
        int o;

        while ((o = cli_getopt(argc, argv, "+:", longopts, cmd)) != -1)
                return o == CLI_GETOPT_HELP ? 0 : 125;
        return -1;
}

int cmd_pause(struct cli *c, int argc, char **argv)
{
        int r = no_flags(argc, argv, "pause");

        if (r >= 0)
                return r;
        if (optind >= argc)
                return cli_usage_error("pause", "requires at least 1 argument");
        return each(c, argc, argv, "pause", "");
}

int cmd_unpause(struct cli *c, int argc, char **argv)
{
        int r = no_flags(argc, argv, "unpause");

        if (r >= 0)
                return r;
        if (optind >= argc)
                return cli_usage_error("unpause", "requires at least 1 argument");
        return each(c, argc, argv, "unpause", "");
}

int cmd_restart(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "time", required_argument, NULL, 't' },
                { "timeout", required_argument, NULL, 't' },
                { "signal", required_argument, NULL, 's' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        const char *timeout = NULL, *signal = NULL;
        _cleanup_free_ char *query = NULL, *sq = NULL;
        int o;

        while ((o = cli_getopt(argc, argv, ":t:s:", longopts, "restart")) != -1) {
                switch (o) {
                case 't':
                        if (parse_ll(optarg) < 0 && strcmp(optarg, "-1") != 0) {
                                fprintf(stderr, "invalid argument \"%s\" for \"-t, --timeout\" flag: strconv.ParseInt: parsing \"%s\": invalid syntax\n\nUsage:  berth restart [OPTIONS] CONTAINER [CONTAINER...]\n\nRun 'berth restart --help' for more information\n",
                                        optarg, optarg);
                                return 125;
                        }
                        timeout = optarg;
                        break;
                case 's': signal = optarg; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind >= argc)
                return cli_usage_error("restart", "requires at least 1 argument");
        /* Go sorts the query: signal before t */
        sq = signal ? cli_escape_query(signal) : NULL;
        query = xasprintf("%s%s%s%s%s", signal || timeout ? "?" : "", signal ? "signal=" : "", sq ? sq : "",
                          signal && timeout ? "&t=" : timeout ? "t=" : "", timeout ? timeout : "");
        return each(c, argc, argv, "restart", query);
}

/* docker top: ps's table with tabwriter's minimum width 20. */
int cmd_top(struct cli *c, int argc, char **argv)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *res = NULL;
        _cleanup_free_ char *name = NULL, *path = NULL, *args = xstrdup("");
        json_t *titles, *procs, *row;
        struct table t;
        size_t i;
        int r = no_flags(argc, argv, "top");

        if (r >= 0)
                return r;
        if (optind >= argc)
                return cli_usage_error("top", "requires at least 1 argument");
        /* everything after the container is ps's */
        for (int k = optind + 1; k < argc; k++) {
                char *a = xasprintf("%s%s%s", args, *args ? " " : "", argv[k]);
                free(args);
                args = a;
        }
        name = cli_escape_path(argv[optind]);
        if (*args) {
                _cleanup_free_ char *q = cli_escape_query(args);
                path = xasprintf("/containers/%s/top?ps_args=%s", name, q);
        } else {
                path = xasprintf("/containers/%s/top", name);
        }
        if (cli_call_json(c, "GET", path, NULL, &res, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        titles = json_object_get(res, "Titles");
        procs = json_object_get(res, "Processes");
        if (json_array_size(titles) == 0)
                return 0;
        table_init(&t, json_array_size(titles));
        {
                _cleanup_free_ char **cells = xcalloc(t.ncols, sizeof(char *));
                for (size_t k = 0; k < t.ncols; k++)
                        cells[k] = (char *)json_string_value(json_array_get(titles, k));
                table_addv(&t, cells);
                json_array_foreach(procs, i, row) {
                        for (size_t k = 0; k < t.ncols; k++)
                                cells[k] = (char *)json_string_value(json_array_get(row, k));
                        table_addv(&t, cells);
                }
        }
        table_print_min(&t, stdout, 20);
        table_free(&t);
        return 0;
}

int cmd_rename(struct cli *c, int argc, char **argv)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *name = NULL, *newname = NULL, *path = NULL;
        int r = no_flags(argc, argv, "rename");

        if (r >= 0)
                return r;
        if (argc - optind != 2)
                return cli_usage_error("rename", "requires 2 arguments");
        if (*argv[optind] == '\0' || *argv[optind + 1] == '\0') {
                fprintf(stderr, "Error: Neither old nor new names may be empty\n");
                return 1;
        }
        name = cli_escape_path(argv[optind]);
        newname = cli_escape_query(argv[optind + 1]);
        path = xasprintf("/containers/%s/rename?name=%s", name, newname);
        if (cli_call_ok(c, "POST", path, NULL, &resp, &err) < 0) {
                fprintf(stderr, "%s\nError: failed to rename container named %s\n", err->msg, argv[optind]);
                return 1;
        }
        return 0;
}

enum {
        UPD_BLKIO = 0x100, UPD_CPU_PERIOD, UPD_CPU_QUOTA, UPD_RT_PERIOD, UPD_RT_RUNTIME, UPD_CPUS, UPD_CPUSET_CPUS,
        UPD_CPUSET_MEMS, UPD_MEM_RES, UPD_MEM_SWAP, UPD_PIDS, UPD_RESTART, UPD_KMEM,
};

struct update_flags {
        long long blkio, cpu_period, cpu_quota, rt_period, rt_runtime, cpu_shares, nano_cpus;
        long long memory, memory_reservation, memory_swap, pids_limit, kernel_memory;
        const char *cpuset_cpus, *cpuset_mems, *restart;
        int nflags;
};

static int update_flag_error(const char *flag, const char *value, const char *why)
{
        fprintf(stderr, "invalid argument \"%s\" for \"%s\" flag: %s\n\nUsage:  berth update [OPTIONS] CONTAINER [CONTAINER...]\n\nRun 'berth update --help' for more information\n",
                value, flag, why);
        return 125;
}

/* An int64 flag, as strconv.ParseInt reports a bad one. */
static bool int_flag(const char *v, long long *out)
{
        char *end;

        errno = 0;
        *out = strtoll(v, &end, 10);
        return *v && errno == 0 && *end == '\0';
}

static int update_parse_one(struct update_flags *f, int o)
{
        bool ok = true;
        const char *flag = NULL;

        switch (o) {
        case UPD_BLKIO: ok = int_flag(optarg, &f->blkio); flag = "--blkio-weight"; break;
        case UPD_CPU_PERIOD: ok = int_flag(optarg, &f->cpu_period); flag = "--cpu-period"; break;
        case UPD_CPU_QUOTA: ok = int_flag(optarg, &f->cpu_quota); flag = "--cpu-quota"; break;
        case UPD_RT_PERIOD: ok = int_flag(optarg, &f->rt_period); flag = "--cpu-rt-period"; break;
        case UPD_RT_RUNTIME: ok = int_flag(optarg, &f->rt_runtime); flag = "--cpu-rt-runtime"; break;
        case 'c': ok = int_flag(optarg, &f->cpu_shares); flag = "-c, --cpu-shares"; break;
        case UPD_PIDS: ok = int_flag(optarg, &f->pids_limit); flag = "--pids-limit"; break;
        case UPD_CPUSET_CPUS: f->cpuset_cpus = optarg; break;
        case UPD_CPUSET_MEMS: f->cpuset_mems = optarg; break;
        case UPD_RESTART: f->restart = optarg; break;
        case UPD_CPUS:
                f->nano_cpus = cli_nano_cpus(optarg);
                if (f->nano_cpus < 0) {
                        _cleanup_free_ char *why = xasprintf("failed to parse %s as a rational number", optarg);
                        return update_flag_error("--cpus", optarg, why);
                }
                break;
        case 'm': case UPD_MEM_RES: case UPD_MEM_SWAP: case UPD_KMEM: {
                long long v = o == UPD_MEM_SWAP && strcmp(optarg, "-1") == 0 ? -1 : cli_ram_in_bytes(optarg);
                if (v < -1 || (v == -1 && o != UPD_MEM_SWAP)) {
                        const char *suffix = optarg;
                        while (*suffix && ((*suffix >= '0' && *suffix <= '9') || *suffix == '.'))
                                suffix++;
                        _cleanup_free_ char *why = xasprintf("invalid suffix: '%s'", suffix);
                        return update_flag_error(o == 'm' ? "-m, --memory" : o == UPD_MEM_RES ? "--memory-reservation"
                                                 : o == UPD_MEM_SWAP ? "--memory-swap" : "--kernel-memory",
                                                 optarg, why);
                }
                *(o == 'm' ? &f->memory : o == UPD_MEM_RES ? &f->memory_reservation
                  : o == UPD_MEM_SWAP ? &f->memory_swap : &f->kernel_memory) = v;
                break;
        }
        }
        if (!ok) {
                _cleanup_free_ char *why = xasprintf("strconv.ParseInt: parsing \"%s\": invalid syntax", optarg);
                return update_flag_error(flag, optarg, why);
        }
        f->nflags++;
        return 0;
}

/* --restart name[:count], checked as docker's ParseRestartPolicy. */
static json_t *restart_policy(const char *spec, berth_error_t **err)
{
        const char *colon;
        _cleanup_free_ char *name = NULL;
        long long count = 0;

        if (spec == NULL)
                return json_pack("{s:s, s:i}", "Name", "", "MaximumRetryCount", 0);
        colon = strchr(spec, ':');
        if (colon == spec) {
                berth_error(err, 0, "invalid restart policy format: no policy provided before colon");
                return NULL;
        }
        if (colon && colon[1] && !int_flag(colon + 1, &count)) {
                berth_error(err, 0, "invalid restart policy format: maximum retry count must be an integer");
                return NULL;
        }
        name = colon ? xasprintf("%.*s", (int)(colon - spec), spec) : xstrdup(spec);
        return json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount", (json_int_t)count);
}

/* The body docker sends: container.UpdateConfig, every Resources field. */
static json_t *update_body(const struct update_flags *f, json_t *restart)
{
        json_t *b = json_object();

#define SET(k, v) json_object_set_new(b, k, v)
        SET("CpuShares", json_integer(f->cpu_shares));
        SET("Memory", json_integer(f->memory));
        SET("NanoCpus", json_integer(f->nano_cpus));
        SET("CgroupParent", json_string(""));
        SET("BlkioWeight", json_integer(f->blkio));
        SET("BlkioWeightDevice", json_null());
        SET("BlkioDeviceReadBps", json_null());
        SET("BlkioDeviceWriteBps", json_null());
        SET("BlkioDeviceReadIOps", json_null());
        SET("BlkioDeviceWriteIOps", json_null());
        SET("CpuPeriod", json_integer(f->cpu_period));
        SET("CpuQuota", json_integer(f->cpu_quota));
        SET("CpuRealtimePeriod", json_integer(f->rt_period));
        SET("CpuRealtimeRuntime", json_integer(f->rt_runtime));
        SET("CpusetCpus", json_string(f->cpuset_cpus ? f->cpuset_cpus : ""));
        SET("CpusetMems", json_string(f->cpuset_mems ? f->cpuset_mems : ""));
        SET("Devices", json_null());
        SET("DeviceCgroupRules", json_null());
        SET("DeviceRequests", json_null());
        if (f->kernel_memory)
                SET("KernelMemory", json_integer(f->kernel_memory));
        SET("MemoryReservation", json_integer(f->memory_reservation));
        SET("MemorySwap", json_integer(f->memory_swap));
        SET("MemorySwappiness", json_null());
        SET("OomKillDisable", json_null());
        /* 0 means "not given": docker sends null then */
        SET("PidsLimit", f->pids_limit ? json_integer(f->pids_limit) : json_null());
        SET("Ulimits", json_null());
        SET("CpuCount", json_integer(0));
        SET("CpuPercent", json_integer(0));
        SET("IOMaximumIOps", json_integer(0));
        SET("IOMaximumBandwidth", json_integer(0));
        SET("RestartPolicy", restart);
#undef SET
        return b;
}

int cmd_update(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "blkio-weight", required_argument, NULL, UPD_BLKIO },
                { "cpu-period", required_argument, NULL, UPD_CPU_PERIOD },
                { "cpu-quota", required_argument, NULL, UPD_CPU_QUOTA },
                { "cpu-rt-period", required_argument, NULL, UPD_RT_PERIOD },
                { "cpu-rt-runtime", required_argument, NULL, UPD_RT_RUNTIME },
                { "cpu-shares", required_argument, NULL, 'c' },
                { "cpus", required_argument, NULL, UPD_CPUS },
                { "cpuset-cpus", required_argument, NULL, UPD_CPUSET_CPUS },
                { "cpuset-mems", required_argument, NULL, UPD_CPUSET_MEMS },
                { "memory", required_argument, NULL, 'm' },
                { "memory-reservation", required_argument, NULL, UPD_MEM_RES },
                { "memory-swap", required_argument, NULL, UPD_MEM_SWAP },
                { "kernel-memory", required_argument, NULL, UPD_KMEM },
                { "pids-limit", required_argument, NULL, UPD_PIDS },
                { "restart", required_argument, NULL, UPD_RESTART },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *body = NULL;
        _cleanup_free_ char *s = NULL;
        struct update_flags f = { 0 };
        struct cli_errors errs = { 0 };
        json_t *restart;
        int o, r;

        while ((o = cli_getopt(argc, argv, ":c:m:", longopts, "update")) != -1) {
                if (o == CLI_GETOPT_HELP)
                        return 0;
                if (o == CLI_GETOPT_ERROR)
                        return 125;
                if ((r = update_parse_one(&f, o)) != 0)
                        return r;
        }
        if (optind >= argc)
                return cli_usage_error("update", "requires at least 1 argument");
        if (f.nflags == 0) {
                fprintf(stderr, "you must provide one or more flags when using this command\n");
                return 1;
        }
        restart = restart_policy(f.restart, &err);
        if (restart == NULL) {
                cli_print_raw(err);
                return 1;
        }
        body = update_body(&f, restart);
        s = json_dumps(body, JSON_COMPACT);
        for (int i = optind; i < argc; i++) {
                _cleanup_error_ berth_error_t *uerr = NULL;
                _cleanup_json_ json_t *res = NULL;
                _cleanup_free_ char *name = cli_escape_path(argv[i]);
                _cleanup_free_ char *path = xasprintf("/containers/%s/update", name);
                size_t k;
                json_t *w;

                if (cli_call_json(c, "POST", path, s, &res, &uerr) < 0) {
                        cli_errors_add(&errs, uerr);
                        continue;
                }
                json_array_foreach(json_object_get(res, "Warnings"), k, w)
                        printf("%s\n", json_string_value(w) ? json_string_value(w) : "");
                printf("%s\n", argv[i]);
                fflush(stdout);
        }
        return cli_errors_finish(&errs);
}

/* "Total reclaimed space: 1.982MB" as go-units prints it. */
void cli_print_reclaimed(long long bytes)
{
        _cleanup_free_ char *h = human_size4((double)bytes);
        printf("Total reclaimed space: %s\n", h);
}

int cmd_container_prune(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "force", no_argument, NULL, 'f' },
                { "filter", required_argument, NULL, 'F' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *filters = json_object(), *res = NULL;
        bool force = false;
        int o;

        while ((o = cli_getopt(argc, argv, ":f", longopts, "container-prune")) != -1) {
                switch (o) {
                case 'f': force = true; break;
                case 'F':
                        if (!cli_filter_add(filters, optarg)) {
                                fprintf(stderr, "bad format of filter (expected name=value)\n");
                                return 125;
                        }
                        break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind < argc)
                return cli_usage_error("container-prune", "accepts no arguments");
        if (!force && !cli_confirm("WARNING! This will remove all stopped containers.\nAre you sure you want to continue?"))
                return 0;
        if (cli_prune(c, "containers", filters, &res, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        cli_print_reclaimed(cli_prune_report(res, "ContainersDeleted", "Deleted Containers:"));
        return 0;
}

int cli_prune(struct cli *c, const char *kind, json_t *filters, json_t **res, berth_error_t **err)
{
        _cleanup_free_ char *q = cli_filters_query(filters, true);
        _cleanup_free_ char *path = xasprintf("/%s/prune%s", kind, q);

        return cli_call_json(c, "POST", path, NULL, res, err);
}

long long cli_prune_report(json_t *res, const char *key, const char *title)
{
        json_t *list = json_object_get(res, key), *e;
        size_t i;

        if (json_array_size(list) > 0) {
                printf("%s\n", title);
                json_array_foreach(list, i, e)
                        printf("%s\n", json_string_value(e) ? json_string_value(e) : "");
                printf("\n");
        }
        return (long long)json_integer_value(json_object_get(res, "SpaceReclaimed"));
}
