/* berth version and berth info: the client's facts, then the daemon's from
 * GET /version and GET /info, laid out as docker lays them out. */
#include "cli/cli.h"
#include <time.h>

#if defined(__x86_64__)
#define CLI_ARCH "amd64"
#elif defined(__aarch64__)
#define CLI_ARCH "arm64"
#elif defined(__arm__)
#define CLI_ARCH "arm"
#elif defined(__i386__)
#define CLI_ARCH "386"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CLI_ARCH "ppc64le"
#elif defined(__s390x__)
#define CLI_ARCH "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define CLI_ARCH "riscv64"
#else
#define CLI_ARCH "unknown"
#endif

static const char *str(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "";
}

/* Go's time.ANSIC for the daemon's RFC 3339 build time, as docker shows
 * it; the text as it came when it does not parse. */
static char *ansic(const char *rfc3339)
{
        long long t = parse_rfc3339(rfc3339, NULL);
        time_t tt = (time_t)t;
        struct tm tm;
        char out[64];

        if (t < 0 || gmtime_r(&tt, &tm) == NULL || strftime(out, sizeof(out), "%a %b %e %H:%M:%S %Y", &tm) == 0)
                return xstrdup(rfc3339);
        return xstrdup(out);
}

static json_t *client_json(struct cli *c)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s}", "Version", BERTH_VERSION, "ApiVersion",
                         c->api_version[0] ? c->api_version : CLI_API_MAX, "DefaultAPIVersion", CLI_API_MAX,
                         "Os", "linux", "Arch", CLI_ARCH);
}

static void print_client(struct cli *c)
{
        printf("Client:\n");
        printf(" %-19s%s\n", "Version:", BERTH_VERSION);
        if (c->api_version[0] && strcmp(c->api_version, CLI_API_MAX) != 0)
                printf(" %-19s%s (downgraded from %s)\n", "API version:", c->api_version, CLI_API_MAX);
        else
                printf(" %-19s%s\n", "API version:", c->api_version[0] ? c->api_version : CLI_API_MAX);
        printf(" %-19s%s\n", "OS/Arch:", "linux/" CLI_ARCH);
}

static void print_engine(json_t *details, const char *version)
{
        _cleanup_free_ char *built = ansic(str(details, "BuildTime"));

        printf("  %-18s%s\n", "Version:", version);
        printf("  %-18s%s (minimum version %s)\n", "API version:", str(details, "ApiVersion"),
               str(details, "MinAPIVersion"));
        if (*str(details, "GoVersion"))
                printf("  %-18s%s\n", "Go version:", str(details, "GoVersion"));
        printf("  %-18s%s\n", "Git commit:", str(details, "GitCommit"));
        printf("  %-18s%s\n", "Built:", built);
        printf("  %-18s%s/%s\n", "OS/Arch:", str(details, "Os"), str(details, "Arch"));
        printf("  %-18s%s\n", "Experimental:", *str(details, "Experimental") ? str(details, "Experimental") : "false");
}

static int cmp_key(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_server(json_t *v)
{
        json_t *comps = json_object_get(v, "Components"), *comp;
        const char *platform = str(json_object_get(v, "Platform"), "Name");
        size_t i;

        printf("\nServer:%s%s\n", *platform ? " " : "", platform);
        if (json_array_size(comps) == 0) {
                /* a daemon without Components: the top-level fields */
                json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ApiVersion", str(v, "ApiVersion"),
                                      "MinAPIVersion", str(v, "MinAPIVersion"), "GoVersion", str(v, "GoVersion"),
                                      "GitCommit", str(v, "GitCommit"), "BuildTime", str(v, "BuildTime"),
                                      "Os", str(v, "Os"), "Arch", str(v, "Arch"));
                printf(" Engine:\n");
                print_engine(d, str(v, "Version"));
                json_decref(d);
                return;
        }
        json_array_foreach(comps, i, comp) {
                json_t *details = json_object_get(comp, "Details");
                printf(" %s:\n", str(comp, "Name"));
                if (strcmp(str(comp, "Name"), "Engine") == 0) {
                        print_engine(details, str(comp, "Version"));
                        continue;
                }
                printf("  %-18s%s\n", "Version:", str(comp, "Version"));
                size_t n = json_object_size(details), k = 0;
                _cleanup_free_ const char **keys = xcalloc(n, sizeof(char *));
                const char *key;
                json_t *val;
                json_object_foreach(details, key, val)
                        keys[k++] = key;
                qsort(keys, n, sizeof(char *), cmp_key);
                for (k = 0; k < n; k++) {
                        _cleanup_free_ char *label = xasprintf("%s:", keys[k]);
                        printf("  %-18s%s\n", label, str(details, keys[k]));
                }
        }
}

int cmd_version(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "format", required_argument, NULL, 'f' }, CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *v = NULL;
        const char *format = NULL;
        int o;

        while ((o = cli_getopt(argc, argv, ":f:", longopts, "version")) != -1) {
                switch (o) {
                case 'f':
                        format = optarg;
                        break;
                case CLI_GETOPT_HELP:
                        return 0;
                default:
                        return 125;
                }
        }
        int ret = cli_call_json(c, "GET", "/version", NULL, &v, &err);
        if (format) {
                _cleanup_json_ json_t *all = json_pack("{s:o, s:O}", "Client", client_json(c), "Server",
                                                       ret < 0 ? json_null() : v);
                _cleanup_free_ char *out = NULL;
                _cleanup_error_ berth_error_t *terr = NULL;
                if (template_render(format, all, &out, &terr) < 0) {
                        cli_print_error(terr);
                        return 1;
                }
                printf("%s\n", out);
        } else {
                print_client(c);
                if (ret == 0)
                        print_server(v);
        }
        if (ret < 0) {
                fflush(stdout);
                cli_print_error(err);
                return 1;
        }
        return 0;
}

static void print_list(const char *label, json_t *arr)
{
        size_t i;
        json_t *e;

        printf("  %s:", label);
        json_array_foreach(arr, i, e)
                printf(" %s", json_string_value(e) ? json_string_value(e) : "");
        printf("\n");
}

static const char *yes_no(json_t *b) { return json_is_true(b) ? "true" : "false"; }

/* "name=seccomp,profile=default" as docker's info shows it. */
static void print_security_option(const char *opt)
{
        _cleanup_free_ char *copy = xstrdup(opt);
        char *save = NULL;

        for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(kv, '=');
                if (eq == NULL)
                        continue;
                *eq = '\0';
                if (strcmp(kv, "name") == 0) {
                        printf("  %s\n", eq + 1);
                } else {
                        kv[0] = (char)(kv[0] >= 'a' && kv[0] <= 'z' ? kv[0] - 32 : kv[0]);
                        printf("   %s: %s\n", kv, eq + 1);
                }
        }
}

static void print_info(json_t *in)
{
        json_t *arr, *e, *plugins = json_object_get(in, "Plugins");
        const char *key;
        size_t i;
        _cleanup_free_ char *mem = human_bytes((double)json_integer_value(json_object_get(in, "MemTotal")));

        printf("\nServer:\n");
        printf(" Containers: %lld\n", (long long)json_integer_value(json_object_get(in, "Containers")));
        printf("  Running: %lld\n", (long long)json_integer_value(json_object_get(in, "ContainersRunning")));
        printf("  Paused: %lld\n", (long long)json_integer_value(json_object_get(in, "ContainersPaused")));
        printf("  Stopped: %lld\n", (long long)json_integer_value(json_object_get(in, "ContainersStopped")));
        printf(" Images: %lld\n", (long long)json_integer_value(json_object_get(in, "Images")));
        printf(" Server Version: %s\n", str(in, "ServerVersion"));
        printf(" Storage Driver: %s\n", str(in, "Driver"));
        json_array_foreach(json_object_get(in, "DriverStatus"), i, e)
                printf("  %s: %s\n", json_string_value(json_array_get(e, 0)) ?: "",
                       json_string_value(json_array_get(e, 1)) ?: "");
        printf(" Logging Driver: %s\n", str(in, "LoggingDriver"));
        printf(" Cgroup Driver: %s\n", str(in, "CgroupDriver"));
        if (*str(in, "CgroupVersion"))
                printf(" Cgroup Version: %s\n", str(in, "CgroupVersion"));
        if (plugins) {
                printf(" Plugins:\n");
                print_list("Volume", json_object_get(plugins, "Volume"));
                print_list("Network", json_object_get(plugins, "Network"));
                print_list("Log", json_object_get(plugins, "Log"));
        }
        if (json_object_size(json_object_get(in, "Runtimes")) > 0) {
                json_t *rt = json_object_get(in, "Runtimes");
                size_t n = json_object_size(rt), k = 0;
                _cleanup_free_ const char **keys = xcalloc(n, sizeof(char *));
                json_object_foreach(rt, key, e)
                        keys[k++] = key;
                qsort(keys, n, sizeof(char *), cmp_key);
                printf(" Runtimes:");
                for (k = 0; k < n; k++)
                        printf(" %s", keys[k]);
                printf("\n");
        }
        if (*str(in, "DefaultRuntime"))
                printf(" Default Runtime: %s\n", str(in, "DefaultRuntime"));
        if (*str(in, "InitBinary"))
                printf(" Init Binary: %s\n", str(in, "InitBinary"));
        arr = json_object_get(in, "SecurityOptions");
        if (json_array_size(arr) > 0) {
                printf(" Security Options:\n");
                json_array_foreach(arr, i, e)
                        print_security_option(json_string_value(e) ?: "");
        }
        printf(" Kernel Version: %s\n", str(in, "KernelVersion"));
        printf(" Operating System: %s\n", str(in, "OperatingSystem"));
        printf(" OSType: %s\n", str(in, "OSType"));
        printf(" Architecture: %s\n", str(in, "Architecture"));
        printf(" CPUs: %lld\n", (long long)json_integer_value(json_object_get(in, "NCPU")));
        printf(" Total Memory: %s\n", mem);
        printf(" Name: %s\n", str(in, "Name"));
        printf(" ID: %s\n", str(in, "ID"));
        printf(" Docker Root Dir: %s\n", str(in, "DockerRootDir"));
        printf(" Debug Mode: %s\n", yes_no(json_object_get(in, "Debug")));
        printf(" Experimental: %s\n", yes_no(json_object_get(in, "ExperimentalBuild")));
        json_t *reg = json_object_get(in, "RegistryConfig");
        json_t *cidrs = json_object_get(reg, "InsecureRegistryCIDRs");
        json_t *indexes = json_object_get(reg, "IndexConfigs");
        bool header = false;
        json_object_foreach(indexes, key, e) {
                if (json_is_false(json_object_get(e, "Secure"))) {
                        if (!header)
                                printf(" Insecure Registries:\n");
                        header = true;
                        printf("  %s\n", key);
                }
        }
        json_array_foreach(cidrs, i, e) {
                if (!header)
                        printf(" Insecure Registries:\n");
                header = true;
                printf("  %s\n", json_string_value(e) ?: "");
        }
        printf(" Live Restore Enabled: %s\n", yes_no(json_object_get(in, "LiveRestoreEnabled")));
        fflush(stdout);
        json_array_foreach(json_object_get(in, "Warnings"), i, e)
                fprintf(stderr, "%s\n", json_string_value(e) ?: "");
}

int cmd_info(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "format", required_argument, NULL, 'f' }, CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *in = NULL;
        const char *format = NULL;
        int o;

        while ((o = cli_getopt(argc, argv, ":f:", longopts, "info")) != -1) {
                switch (o) {
                case 'f':
                        format = optarg;
                        break;
                case CLI_GETOPT_HELP:
                        return 0;
                default:
                        return 125;
                }
        }
        if (format) {
                _cleanup_free_ char *out = NULL;
                if (cli_call_json(c, "GET", "/info", NULL, &in, &err) < 0 ||
                    (strcmp(format, "json") == 0 ? (out = json_dumps(in, JSON_COMPACT)) == NULL
                                                 : template_render(format, in, &out, &err) < 0)) {
                        cli_print_error(err);
                        return 1;
                }
                printf("%s\n", out);
                return 0;
        }
        printf("Client:\n Version:    %s\n Debug Mode: false\n", BERTH_VERSION);
        if (cli_call_json(c, "GET", "/info", NULL, &in, &err) < 0) {
                fflush(stdout);
                cli_print_error(err);
                return 1;
        }
        print_info(in);
        return 0;
}
