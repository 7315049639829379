/* berth volume create/ls/inspect/rm/prune: the /volumes endpoints, shown
 * as docker shows them (ls sorted by name, N/A for what only swarm and
 * system df fill in). */
#include "cli/cli.h"

static const char *str(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "";
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_name(const void *a, const void *b)
{
        return strcmp(str(*(json_t *const *)a, "Name"), str(*(json_t *const *)b, "Name"));
}

/* "k=v,k2=v2", sorted. */
static char *labels_text(json_t *labels)
{
        size_t n = json_object_size(labels), k = 0, len = 1;
        _cleanup_strv_ char **v = xcalloc(n + 1, sizeof(char *));
        const char *key;
        json_t *val;
        char *out;

        json_object_foreach(labels, key, val) {
                v[k] = xasprintf("%s=%s", key, json_string_value(val) ?: "");
                len += strlen(v[k++]) + 1;
        }
        qsort(v, k, sizeof(char *), cmp_str);
        out = xcalloc(1, len);
        for (size_t i = 0; i < k; i++) {
                if (i)
                        strcat(out, ",");
                strcat(out, v[i]);
        }
        return out;
}

json_t *cli_volume_row(json_t *v)
{
        _cleanup_free_ char *labels = labels_text(json_object_get(v, "Labels"));
        json_t *usage = json_object_get(v, "UsageData");
        _cleanup_free_ char *links = NULL, *size = NULL;

        if (json_is_object(usage)) {
                links = xasprintf("%lld", (long long)json_integer_value(json_object_get(usage, "RefCount")));
                size = human_size4((double)json_integer_value(json_object_get(usage, "Size")));
        }
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Availability", "N/A", "Driver",
                         str(v, "Driver"), "Group", "N/A", "Labels", labels, "Links", links ? links : "N/A",
                         "Mountpoint", str(v, "Mountpoint"), "Name", str(v, "Name"), "Scope", str(v, "Scope"),
                         "Size", size ? size : "N/A", "Status", "N/A");
}

/* The columns' titles for --format "table ...". */
json_t *cli_volume_header(void)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Availability", "AVAILABILITY",
                         "Driver", "DRIVER", "Group", "GROUP", "Labels", "LABELS", "Links", "LINKS", "Mountpoint",
                         "MOUNTPOINT", "Name", "VOLUME NAME", "Scope", "SCOPE", "Size", "SIZE", "Status", "STATUS");
}

/* "key=value" into a JSON map, a key alone with an empty value. */
static void add_kv(json_t *map, const char *kv)
{
        const char *eq = strchr(kv, '=');
        _cleanup_free_ char *key = xasprintf("%.*s", (int)(eq ? eq - kv : (long)strlen(kv)), kv);

        json_object_set_new(map, key, json_string(eq ? eq + 1 : ""));
}

int cmd_volume_create(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "driver", required_argument, NULL, 'd' },
                { "label", required_argument, NULL, 'l' },
                { "opt", required_argument, NULL, 'o' },
                { "name", required_argument, NULL, 'n' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *opts = json_object(), *labels = json_object(), *body = NULL, *res = NULL;
        _cleanup_free_ char *s = NULL;
        const char *driver = "local", *name = NULL;
        int o;

        while ((o = cli_getopt(argc, argv, ":d:o:", longopts, "volume-create")) != -1) {
                switch (o) {
                case 'd': driver = optarg; break;
                case 'l': add_kv(labels, optarg); break;
                case 'o':
                        if (strchr(optarg, '=') == NULL) {
                                fprintf(stderr, "invalid argument \"%s\" for \"-o, --opt\" flag: invalid key value pair format\n",
                                        optarg);
                                return 125;
                        }
                        add_kv(opts, optarg);
                        break;
                case 'n': name = optarg; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind > 1)
                return cli_usage_error("volume-create", "requires at most 1 argument");
        if (optind < argc) {
                if (name) {
                        fprintf(stderr, "conflicting options: cannot specify a volume-name through both --name and as a positional arg\n");
                        return 1;
                }
                name = argv[optind];
        }
        body = json_pack("{s:s}", "Driver", driver);
        if (json_object_size(opts))
                json_object_set(body, "DriverOpts", opts);
        if (json_object_size(labels))
                json_object_set(body, "Labels", labels);
        if (name && *name)
                json_object_set_new(body, "Name", json_string(name));
        s = json_dumps(body, JSON_COMPACT);
        if (cli_call_json(c, "POST", "/volumes/create", s, &res, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        printf("%s\n", str(res, "Name"));
        return 0;
}

int cmd_volume_ls(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "format", required_argument, NULL, 'F' },
                { "filter", required_argument, NULL, 'f' },
                { "cluster", no_argument, NULL, 'C' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *filters = json_object(), *res = NULL, *rows = json_array();
        _cleanup_free_ char *q = NULL, *path = NULL;
        _cleanup_free_ json_t **vols = NULL;
        const char *format = NULL;
        bool quiet = false;
        size_t n, i;
        json_t *row;
        int o;

        while ((o = cli_getopt(argc, argv, ":qf:", longopts, "volume-ls")) != -1) {
                switch (o) {
                case 'q': quiet = true; break;
                case 'F': format = optarg; break;
                case 'C': break;
                case 'f':
                        if (!cli_filter_add(filters, optarg)) {
                                fprintf(stderr, "invalid argument \"%s\" for \"-f, --filter\" flag: bad format of filter (expected name=value)\n",
                                        optarg);
                                return 125;
                        }
                        break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind < argc)
                return cli_usage_error("volume-ls", "accepts no arguments");
        q = cli_filters_query(filters, true);
        path = xasprintf("/volumes%s", q);
        if (cli_call_json(c, "GET", path, NULL, &res, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        n = json_array_size(json_object_get(res, "Volumes"));
        vols = xcalloc(n + 1, sizeof(json_t *));
        for (i = 0; i < n; i++)
                vols[i] = json_array_get(json_object_get(res, "Volumes"), i);
        qsort(vols, n, sizeof(json_t *), cmp_name);
        for (i = 0; i < n; i++)
                json_array_append_new(rows, cli_volume_row(vols[i]));
        if (quiet) {
                json_array_foreach(rows, i, row)
                        printf("%s\n", str(row, "Name"));
                return 0;
        }
        if (format && strcmp(format, "table") != 0) {
                _cleanup_json_ json_t *header = cli_volume_header();
                if (format_print(format, header, rows, &err) < 0) {
                        cli_print_raw(err);
                        return 1;
                }
                return 0;
        }
        struct table t;
        table_init(&t, 2);
        table_add(&t, "DRIVER", "VOLUME NAME");
        json_array_foreach(rows, i, row)
                table_add(&t, str(row, "Driver"), str(row, "Name"));
        table_print(&t, stdout);
        table_free(&t);
        return 0;
}

int cmd_volume_inspect(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "format", required_argument, NULL, 'f' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_json_ json_t *found = json_array();
        struct cli_errors errs = { 0 };
        const char *format = NULL;
        size_t i;
        json_t *v;
        int o;

        while ((o = cli_getopt(argc, argv, ":f:", longopts, "volume-inspect")) != -1) {
                switch (o) {
                case 'f': format = optarg; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind >= argc)
                return cli_usage_error("volume-inspect", "requires at least 1 argument");
        for (int k = optind; k < argc; k++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_free_ char *name = cli_escape_path(argv[k]);
                _cleanup_free_ char *path = xasprintf("/volumes/%s", name);
                json_t *res = NULL;

                if (cli_call_json(c, "GET", path, NULL, &res, &err) < 0) {
                        cli_errors_add(&errs, err);
                        continue;
                }
                json_array_append_new(found, res);
        }
        if (format) {
                json_array_foreach(found, i, v) {
                        _cleanup_error_ berth_error_t *err = NULL;
                        _cleanup_free_ char *out = NULL;
                        if (template_render(format, v, &out, &err) < 0) {
                                fprintf(stderr, "template parsing error: %s\n", err->msg);
                                return 1;
                        }
                        printf("%s\n", out);
                }
        } else {
                _cleanup_free_ char *s = json_dumps(found, JSON_INDENT(4));
                printf("%s\n", s ? s : "[]");
        }
        return cli_errors_finish(&errs);
}

int cmd_volume_rm(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "force", no_argument, NULL, 'f' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        struct cli_errors errs = { 0 };
        bool force = false;
        int o;

        while ((o = cli_getopt(argc, argv, ":f", longopts, "volume-rm")) != -1) {
                switch (o) {
                case 'f': force = true; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind >= argc)
                return cli_usage_error("volume-rm", "requires at least 1 argument");
        for (int k = optind; k < argc; k++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_response_ struct cli_response resp = { 0 };
                _cleanup_free_ char *name = cli_escape_path(argv[k]);
                _cleanup_free_ char *path = xasprintf("/volumes/%s%s", name, force ? "?force=1" : "");

                if (cli_call_ok(c, "DELETE", path, NULL, &resp, &err) < 0) {
                        cli_errors_add(&errs, err);
                        continue;
                }
                printf("%s\n", argv[k]);
                fflush(stdout);
        }
        return cli_errors_finish(&errs);
}

int cmd_volume_prune(struct cli *c, int argc, char **argv)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *filters = json_object(), *res = NULL;
        bool all = false, force = false;
        int r = cli_prune_args(argc, argv, "volume-prune", &all, &force, filters);

        if (r >= 0)
                return r;
        if (all) {
                /* before 1.42 prune took every unused volume, named or not:
                 * docker refuses rather than mean something else */
                if (!cli_api_at_least(c, 1, 42)) {
                        fprintf(stderr, "\"--all\" requires API version 1.42, but the Berth daemon API version is %s\n",
                                c->api_version);
                        return 1;
                }
                if (json_object_get(filters, "all")) {
                        fprintf(stderr, "conflicting options: cannot specify both --all and --filter all=1\n");
                        return 1;
                }
                cli_filter_add(filters, "all=true");
        }
        if (!force && !cli_confirm(all ? "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?"
                                       : "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?"))
                return 0;
        if (cli_prune(c, "volumes", filters, &res, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        cli_print_reclaimed(cli_prune_report(res, "VolumesDeleted", "Deleted Volumes:"));
        return 0;
}
