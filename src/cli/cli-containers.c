/* Container commands that are one request per container: ps, stop, kill,
 * rm, wait, and inspect (which also finds images). */
#include "cli/cli.h"
#include <time.h>

static const char *str(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "";
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Join the strings of v (or "k=v" of an object) with sep, sorted. */
static char *join_sorted(char **v, size_t n, const char *sep)
{
        size_t len = 1;
        char *out;

        qsort(v, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++)
                len += strlen(v[i]) + strlen(sep);
        out = xmalloc(len);
        out[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                if (i)
                        strcat(out, sep);
                strcat(out, v[i]);
        }
        return out;
}

/* ps's IMAGE: an image ID shortened, a digest dropped, unless --no-trunc. */
static char *image_text(json_t *ct, bool trunc)
{
        const char *image = str(ct, "Image"), *at;

        if (*image == '\0')
                return xstrdup("<no image>");
        if (!trunc)
                return xstrdup(image);
        if (str_has_prefix(image, "sha256:"))
                return short_id(image);
        at = strchr(image, '@');
        if (at)
                return xasprintf("%.*s", (int)(at - image), image);
        return xstrdup(image);
}

json_t *cli_container_row(json_t *ct, bool trunc)
{
        json_t *names = json_object_get(ct, "Names"), *labels = json_object_get(ct, "Labels"), *e;
        json_t *mounts = json_object_get(ct, "Mounts");
        json_t *nets = json_object_get(json_object_get(ct, "NetworkSettings"), "Networks");
        size_t n, i;
        const char *key;
        long long created = json_integer_value(json_object_get(ct, "Created"));
        _cleanup_free_ char *id = trunc ? short_id(str(ct, "Id")) : xstrdup(str(ct, "Id"));
        _cleanup_free_ char *cmd = trunc ? ellipsis(str(ct, "Command"), 20) : xstrdup(str(ct, "Command"));
        _cleanup_free_ char *qcmd = go_quote(cmd);
        _cleanup_free_ char *dur = human_duration((long long)time(NULL) - created);
        _cleanup_free_ char *since = xasprintf("%s ago", dur);
        _cleanup_free_ char *at = go_time_string(created);
        _cleanup_free_ char *image = image_text(ct, trunc);
        _cleanup_free_ char *ports = cli_ports_display(json_object_get(ct, "Ports"));
        _cleanup_free_ char *size = NULL, *names_s = NULL, *labels_s = NULL, *mounts_s = NULL, *nets_s = NULL;

        /* names without a further "/" are the container's own; the others
         * are link aliases */
        n = json_array_size(names);
        {
                _cleanup_strv_ char **v = xcalloc(n + 1, sizeof(char *));
                size_t k = 0;
                json_array_foreach(names, i, e) {
                        const char *s = json_string_value(e);
                        if (s == NULL)
                                continue;
                        if (*s == '/')
                                s++;
                        if (strchr(s, '/') == NULL)
                                v[k++] = xstrdup(s);
                }
                names_s = join_sorted(v, k, ",");
        }
        {
                n = json_object_size(labels);
                _cleanup_strv_ char **v = xcalloc(n + 1, sizeof(char *));
                size_t k = 0;
                json_object_foreach(labels, key, e)
                        v[k++] = xasprintf("%s=%s", key, json_string_value(e) ? json_string_value(e) : "");
                labels_s = join_sorted(v, k, ",");
        }
        {
                n = json_array_size(mounts);
                _cleanup_strv_ char **v = xcalloc(n + 1, sizeof(char *));
                size_t k = 0;
                json_array_foreach(mounts, i, e) {
                        const char *name = *str(e, "Name") ? str(e, "Name") : str(e, "Source");
                        v[k++] = trunc ? ellipsis(name, 15) : xstrdup(name);
                }
                mounts_s = join_sorted(v, k, ",");
        }
        {
                n = json_object_size(nets);
                _cleanup_strv_ char **v = xcalloc(n + 1, sizeof(char *));
                size_t k = 0;
                json_object_foreach(nets, key, e)
                        v[k++] = xstrdup(key);
                nets_s = join_sorted(v, k, ",");
        }
        {
                /* the virtual size only when there is one, as docker */
                _cleanup_free_ char *rw = human_size((double)json_integer_value(json_object_get(ct, "SizeRw")));
                long long virt = json_integer_value(json_object_get(ct, "SizeRootFs"));
                _cleanup_free_ char *rootfs = human_size((double)virt);
                size = virt > 0 ? xasprintf("%s (virtual %s)", rw, rootfs) : xstrdup(rw);
        }
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Command", qcmd,
                         "CreatedAt", at, "ID", id, "Image", image, "Labels", labels_s, "Mounts", mounts_s,
                         "Names", names_s, "Networks", nets_s, "Ports", ports, "RunningFor", since, "Size", size,
                         "State", str(ct, "State"), "Status", str(ct, "Status"));
}

static void add_filter(json_t *filters, const char *arg)
{
        const char *eq = strchr(arg, '=');
        _cleanup_free_ char *key = xasprintf("%.*s", (int)(eq ? eq - arg : (long)strlen(arg)), arg);
        json_t *m = json_object_get(filters, key);

        if (m == NULL) {
                m = json_object();
                json_object_set_new(filters, key, m);
        }
        json_object_set_new(m, eq ? eq + 1 : "", json_true());
}

int cmd_ps(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "all", no_argument, NULL, 'a' },
                { "quiet", no_argument, NULL, 'q' },
                { "no-trunc", no_argument, NULL, 'T' },
                { "format", required_argument, NULL, 'F' },
                { "filter", required_argument, NULL, 'f' },
                { "last", required_argument, NULL, 'n' },
                { "latest", no_argument, NULL, 'l' },
                { "size", no_argument, NULL, 's' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *filters = json_object(), *list = NULL, *rows = json_array();
        bool all = false, quiet = false, trunc = true, size = false;
        const char *format = NULL;
        long last = -1;
        _cleanup_free_ char *query = xstrdup("");
        size_t i;
        json_t *ct;
        int o;

        while ((o = cli_getopt(argc, argv, ":aqf:n:ls", longopts, "ps")) != -1) {
                switch (o) {
                case 'a': all = true; break;
                case 'q': quiet = true; break;
                case 'T': trunc = false; break;
                case 'F': format = optarg; break;
                case 'f':
                        if (strchr(optarg, '=') == NULL) {
                                fprintf(stderr, "invalid argument \"%s\" for \"-f, --filter\" flag: bad format of filter (expected name=value)\n",
                                        optarg);
                                return 125;
                        }
                        add_filter(filters, optarg);
                        break;
                case 'n': last = parse_ll(optarg); break;
                case 'l': last = 1; break;
                case 's': size = true; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind < argc)
                return cli_usage_error("ps", "accepts no arguments");
#define QADD(fmt, ...)                                                                   \
        do {                                                                             \
                char *q_ = xasprintf("%s%s" fmt, query, *query ? "&" : "?", __VA_ARGS__); \
                free(query);                                                             \
                query = q_;                                                              \
        } while (0)
        if (all)
                QADD("%s", "all=1");
        if (json_object_size(filters) > 0) {
                _cleanup_free_ char *fs = json_dumps(filters, JSON_COMPACT | JSON_SORT_KEYS);
                _cleanup_free_ char *fq = cli_escape_query(fs);
                QADD("filters=%s", fq);
        }
        if (last > 0)
                QADD("limit=%ld", last);
        if (size || (format && strstr(format, ".Size")))
                QADD("%s", "size=1");
#undef QADD
        _cleanup_free_ char *path = xasprintf("/containers/json%s", query);
        if (cli_call_json(c, "GET", path, NULL, &list, &err) < 0) {
                cli_print_error(err);
                return 1;
        }
        json_array_foreach(list, i, ct)
                json_array_append_new(rows, cli_container_row(ct, trunc));
        if (quiet) {
                json_array_foreach(rows, i, ct)
                        printf("%s\n", str(ct, "ID"));
                return 0;
        }
        if (format && strcmp(format, "table") != 0) {
                _cleanup_json_ json_t *header = json_pack(
                        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Command", "COMMAND",
                        "CreatedAt", "CREATED AT", "ID", "CONTAINER ID", "Image", "IMAGE", "Labels", "LABELS",
                        "Mounts", "MOUNTS", "Names", "NAMES", "Networks", "NETWORKS", "Ports", "PORTS",
                        "RunningFor", "CREATED", "Size", "SIZE", "State", "STATE", "Status", "STATUS");
                if (format_print(format, header, rows, &err) < 0) {
                        cli_print_error(err);
                        return 1;
                }
                return 0;
        }
        struct table t;
        table_init(&t, size ? 8 : 7);
        table_add(&t, "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES", "SIZE");
        json_array_foreach(rows, i, ct)
                table_add(&t, str(ct, "ID"), str(ct, "Image"), str(ct, "Command"), str(ct, "RunningFor"),
                          str(ct, "Status"), str(ct, "Ports"), str(ct, "Names"), str(ct, "Size"));
        table_print(&t, stdout);
        table_free(&t);
        return 0;
}

/* One POST per container, printing each name as docker does; 1 when any
 * failed. */
static int each_container(struct cli *c, int argc, char **argv, const char *method, const char *action,
                          const char *query)
{
        int ret = 0;

        for (int i = optind; i < argc; i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_response_ struct cli_response resp = { 0 };
                _cleanup_free_ char *name = cli_escape_path(argv[i]);
                _cleanup_free_ char *path = xasprintf("/containers/%s%s%s", name, action, query);

                if (cli_call_ok(c, method, path, NULL, &resp, &err) < 0) {
                        fflush(stdout);
                        cli_print_error(err);
                        ret = 1;
                        continue;
                }
                printf("%s\n", argv[i]);
                fflush(stdout);
        }
        return ret;
}

int cmd_stop(struct cli *c, int argc, char **argv)
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

        while ((o = cli_getopt(argc, argv, ":t:s:", longopts, "stop")) != -1) {
                switch (o) {
                case 't':
                        if (parse_ll(optarg) < 0 && strcmp(optarg, "-1") != 0) {
                                fprintf(stderr, "invalid argument \"%s\" for \"-t, --timeout\" flag: strconv.ParseInt: parsing \"%s\": invalid syntax\n",
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
                return cli_usage_error("stop", "requires at least 1 argument");
        sq = signal ? cli_escape_query(signal) : NULL;
        query = xasprintf("%s%s%s%s%s", signal || timeout ? "?" : "", signal ? "signal=" : "", sq ? sq : "",
                          signal && timeout ? "&t=" : timeout ? "t=" : "", timeout ? timeout : "");
        return each_container(c, argc, argv, "POST", "/stop", query);
}

int cmd_kill(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "signal", required_argument, NULL, 's' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        const char *signal = NULL;
        _cleanup_free_ char *query = NULL, *sq = NULL;
        int o;

        while ((o = cli_getopt(argc, argv, ":s:", longopts, "kill")) != -1) {
                switch (o) {
                case 's': signal = optarg; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind >= argc)
                return cli_usage_error("kill", "requires at least 1 argument");
        sq = signal ? cli_escape_query(signal) : NULL;
        query = signal ? xasprintf("?signal=%s", sq) : xstrdup("");
        return each_container(c, argc, argv, "POST", "/kill", query);
}

int cmd_rm(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "force", no_argument, NULL, 'f' },
                { "link", no_argument, NULL, 'l' },
                { "volumes", no_argument, NULL, 'v' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        bool force = false, link = false, volumes = false;
        _cleanup_free_ char *query = NULL;
        int o;

        while ((o = cli_getopt(argc, argv, ":flv", longopts, "rm")) != -1) {
                switch (o) {
                case 'f': force = true; break;
                case 'l': link = true; break;
                case 'v': volumes = true; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind >= argc)
                return cli_usage_error("rm", "requires at least 1 argument");
        query = xasprintf("%s%s%s%s%s%s", force || link || volumes ? "?" : "", force ? "force=1" : "",
                          force && link ? "&" : "", link ? "link=1" : "", (force || link) && volumes ? "&" : "",
                          volumes ? "v=1" : "");
        return each_container(c, argc, argv, "DELETE", "", query);
}

int wait_status(const struct cli_response *resp, int *status, berth_error_t **err)
{
        _cleanup_json_ json_t *j = json_loadb(resp->body, resp->len, 0, NULL);
        json_t *e;

        if (resp->status >= 400)
                return cli_daemon_error(resp, err);
        if (j == NULL || !json_is_integer(json_object_get(j, "StatusCode")))
                return berth_error(err, 0, "invalid wait response from the daemon");
        e = json_object_get(json_object_get(j, "Error"), "Message");
        if (json_string_value(e) && *json_string_value(e))
                return berth_error(err, 0, "%s", json_string_value(e));
        *status = (int)json_integer_value(json_object_get(j, "StatusCode"));
        return 0;
}

int cmd_wait(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = { CLI_OPT_HELP, CLI_OPT_END };
        int o, ret = 0;

        while ((o = cli_getopt(argc, argv, ":", longopts, "wait")) != -1) {
                switch (o) {
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind >= argc)
                return cli_usage_error("wait", "requires at least 1 argument");
        for (int i = optind; i < argc; i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_response_ struct cli_response resp = { 0 };
                _cleanup_free_ char *name = cli_escape_path(argv[i]);
                _cleanup_free_ char *path = xasprintf("/containers/%s/wait", name);
                int status;

                if (cli_call(c, "POST", path, NULL, &resp, &err) < 0 || wait_status(&resp, &status, &err) < 0) {
                        fflush(stdout);
                        cli_print_error(err);
                        ret = 1;
                        continue;
                }
                printf("%d\n", status);
                fflush(stdout);
        }
        return ret;
}

enum inspect_type { INSPECT_ANY, INSPECT_CONTAINER, INSPECT_IMAGE, INSPECT_NETWORK, INSPECT_VOLUME };

/* What inspect looks through without --type, in docker's order. */
static const struct {
        const char *name, *path;
} kinds[] = {
        [INSPECT_CONTAINER] = { "container", "/containers/%s/json" },
        [INSPECT_IMAGE] = { "image", "/images/%s/json" },
        [INSPECT_NETWORK] = { "network", "/networks/%s" },
        [INSPECT_VOLUME] = { "volume", "/volumes/%s" },
};

/* GET the object; 1 when it does not exist (the daemon's message in
 * *err), 0 with *out, -1 on errors. */
static int get_object(struct cli *c, enum inspect_type type, const char *name, json_t **out, berth_error_t **err)
{
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *esc = cli_escape_path(name);
        _cleanup_free_ char *path = xasprintf(kinds[type].path, esc);

        if (cli_call(c, "GET", path, NULL, &resp, err) < 0)
                return -1;
        if (resp.status >= 400) {
                cli_daemon_error(&resp, err);
                return resp.status == 404 ? 1 : -1;
        }
        *out = json_loadb(resp.body, resp.len, 0, NULL);
        if (*out == NULL)
                return berth_error(err, 0, "invalid JSON from the daemon for %s", path);
        return 0;
}

/* The object of the type asked for, else the first kind that has one of
 * that name; -1 with the message docker prints when there is none. */
static int find_object(struct cli *c, enum inspect_type type, const char *name, json_t **out, berth_error_t **err)
{
        enum inspect_type t = type == INSPECT_ANY ? INSPECT_CONTAINER : type;
        int r;

        for (;; t++) {
                berth_error_free(err);
                r = get_object(c, t, name, out, err);
                if (r != 1 || type != INSPECT_ANY || t == INSPECT_VOLUME)
                        break;
        }
        /* asked for by type, a missing object is told in the daemon's words */
        if (r != 1 || type != INSPECT_ANY)
                return r == 1 ? -1 : r;
        berth_error_free(err);
        return berth_fail(err, 0, "Error: No such object: %s", name);
}

static int inspect_type_of(const char *s, enum inspect_type *type)
{
        for (enum inspect_type t = INSPECT_CONTAINER; t <= INSPECT_VOLUME; t++) {
                if (strcmp(s, kinds[t].name) == 0) {
                        *type = t;
                        return 0;
                }
        }
        fprintf(stderr, "unknown type: \"%s\": must be one of \"container\", \"image\", \"network\", \"volume\"\n", s);
        return -1;
}

static int inspect(struct cli *c, int argc, char **argv, enum inspect_type type, const char *cmd)
{
        static const struct option longopts[] = {
                { "format", required_argument, NULL, 'f' },
                { "type", required_argument, NULL, 'T' },
                { "size", no_argument, NULL, 's' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_json_ json_t *results = json_array();
        _cleanup_strv_ char **errors = xcalloc((size_t)argc + 1, sizeof(char *));
        size_t nerrors = 0;
        const char *format = NULL;
        int o, ret = 0;

        while ((o = cli_getopt(argc, argv, ":f:s", longopts, cmd)) != -1) {
                switch (o) {
                case 'f': format = optarg; break;
                case 's': break;
                case 'T':
                        if (inspect_type_of(optarg, &type) < 0)
                                return 1;
                        break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind >= argc)
                return cli_usage_error(cmd, "requires at least 1 argument");
        for (int i = optind; i < argc; i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                json_t *obj = NULL;

                if (find_object(c, type, argv[i], &obj, &err) < 0) {
                        errors[nerrors++] = xstrdup(err->msg);
                        continue;
                }
                json_array_append_new(results, obj);
        }
        if (format) {
                size_t i;
                json_t *obj;
                json_array_foreach(results, i, obj) {
                        _cleanup_error_ berth_error_t *err = NULL;
                        _cleanup_free_ char *out = NULL;
                        if (template_render(format, obj, &out, &err) < 0) {
                                fprintf(stderr, "template parsing error: %s\n", err->msg);
                                return 1;
                        }
                        printf("%s\n", out);
                }
        } else {
                _cleanup_free_ char *s = json_dumps(results, JSON_INDENT(4));
                printf("%s\n", s ? s : "[]");
        }
        fflush(stdout);
        for (size_t i = 0; i < nerrors; i++) {
                fprintf(stderr, "%s\n", errors[i]);
                ret = 1;
        }
        return ret;
}

int cmd_inspect(struct cli *c, int argc, char **argv)
{
        return inspect(c, argc, argv, INSPECT_ANY, "inspect");
}

int cmd_container_inspect(struct cli *c, int argc, char **argv)
{
        return inspect(c, argc, argv, INSPECT_CONTAINER, "container-inspect");
}

int cmd_image_inspect(struct cli *c, int argc, char **argv)
{
        return inspect(c, argc, argv, INSPECT_IMAGE, "image-inspect");
}

static int cmp_natural(const void *a, const void *b)
{
        return cli_natural_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* net.JoinHostPort of a binding: brackets around an IPv6 address. */
static char *binding_text(json_t *b)
{
        const char *ip = str(b, "HostIp");

        return xasprintf(strchr(ip, ':') ? "[%s]:%s" : "%s:%s", ip, str(b, "HostPort"));
}

/* PRIVATE_PORT[/PROTO] as the key of NetworkSettings.Ports ("80/tcp");
 * NULL with docker's message when the port is no 16-bit number. */
static char *port_key(const char *arg, berth_error_t **err)
{
        const char *slash = strchr(arg, '/');
        size_t n = slash ? (size_t)(slash - arg) : strlen(arg);
        unsigned long v = 0;
        const char *why = n ? NULL : "invalid syntax";

        /* Go's ParseUint: the first bad digit or the first overflow */
        for (size_t i = 0; i < n && why == NULL; i++) {
                if (arg[i] < '0' || arg[i] > '9')
                        why = "invalid syntax";
                else if ((v = v * 10 + (unsigned long)(arg[i] - '0')) > 65535)
                        why = "value out of range";
        }
        if (why) {
                berth_fail(err, 0, "Error: invalid port (%.*s): strconv.ParseUint: parsing \"%.*s\": %s", (int)n, arg,
                           (int)n, arg, why);
                return NULL;
        }
        return xasprintf("%.*s/%s", (int)n, arg, slash && slash[1] ? slash + 1 : "tcp");
}

/* Every binding as "80/tcp -> 0.0.0.0:8080", or those of one port as
 * "0.0.0.0:8080"; NULL when the one port has none. */
static char **port_lines(json_t *ports, const char *key, size_t *n)
{
        char **out = xcalloc(1, sizeof(char *));
        const char *k;
        json_t *list, *b;
        size_t i;

        *n = 0;
        json_object_foreach(ports, k, list) {
                if (key && strcmp(k, key) != 0)
                        continue;
                json_array_foreach(list, i, b) {
                        _cleanup_free_ char *hp = binding_text(b);
                        out = xrealloc(out, (*n + 2) * sizeof(char *));
                        out[(*n)++] = key ? steal_pointer(&hp) : xasprintf("%s -> %s", k, hp);
                        out[*n] = NULL;
                }
        }
        qsort(out, *n, sizeof(char *), cmp_natural);
        return out;
}

int cmd_port(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = { CLI_OPT_HELP, CLI_OPT_END };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *ct = NULL;
        _cleanup_free_ char *key = NULL, *name = NULL, *path = NULL;
        _cleanup_strv_ char **lines = NULL;
        size_t n;
        int o;

        while ((o = cli_getopt(argc, argv, "+:", longopts, "port")) != -1) {
                switch (o) {
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind < 1 || argc - optind > 2)
                return cli_usage_error("port", "requires at least 1 and at most 2 arguments");
        _cleanup_free_ char *id = cli_trim_id("container", argv[optind], &err);
        if (id) {
                name = cli_escape_path(id);
                path = xasprintf("/containers/%s/json", name);
        }
        if (id == NULL || cli_call_json(c, "GET", path, NULL, &ct, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        /* an empty PRIVATE_PORT is none, as docker takes it */
        if (argc - optind == 2 && *argv[optind + 1] && (key = port_key(argv[optind + 1], &err)) == NULL) {
                cli_print_raw(err);
                return 1;
        }
        lines = port_lines(json_object_get(json_object_get(ct, "NetworkSettings"), "Ports"), key, &n);
        if (key && n == 0) {
                fprintf(stderr, "Error: No public port '%s' published for %s\n", argv[optind + 1], argv[optind]);
                return 1;
        }
        for (size_t i = 0; i < n; i++)
                printf("%s\n", lines[i]);
        return 0;
}
