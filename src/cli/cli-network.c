/* berth network create/ls/inspect/rm/connect/disconnect/prune: the
 * /networks endpoints with the requests docker CLI 28 sends
 * (docker-api-traces/network.txt) and its output, errors and exit
 * statuses. */
#include "cli/cli.h"
#include <arpa/inet.h>
#include <ctype.h>

static const char *str(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "";
}

char *cli_trim_id(const char *kind, const char *name, berth_error_t **err)
{
        size_t n = strlen(name);

        while (isspace((unsigned char)*name)) {
                name++;
                n--;
        }
        while (n > 0 && isspace((unsigned char)name[n - 1]))
                n--;
        if (n == 0) {
                berth_fail(err, 0, "invalid %s name or ID: value is empty", kind);
                return NULL;
        }
        return xasprintf("%.*s", (int)n, name);
}

/* "/networks/NAME" + tail for a trimmed, escaped name. */
static char *network_path(const char *name, const char *tail, berth_error_t **err)
{
        _cleanup_free_ char *id = cli_trim_id("network", name, err);
        _cleanup_free_ char *esc = id ? cli_escape_path(id) : NULL;

        return esc ? xasprintf("/networks/%s%s", esc, tail) : NULL;
}

/* "key=value" into a map, a key alone with an empty value (MapOpts). */
static void add_kv(json_t *map, const char *kv)
{
        const char *eq = strchr(kv, '=');
        _cleanup_free_ char *key = xasprintf("%.*s", (int)(eq ? eq - kv : (long)strlen(kv)), kv);

        json_object_set_new(map, key, json_string(eq ? eq + 1 : ""));
}

/* A "strings" flag: comma-separated values appended to list. */
static void add_csv(json_t *list, const char *v)
{
        size_t n;
        _cleanup_strv_ char **f = cli_csv_fields(v, &n);

        for (size_t i = 0; i < n; i++)
                json_array_append_new(list, json_string(f[i]));
}


/* ---- create ---- */

struct create_opts {
        const char *driver, *ipam_driver, *scope, *config_from;
        bool internal, attachable, ingress, config_only;
        int ipv4, ipv6;                 /* -1: not given, so not sent */
        json_t *opts, *labels, *ipam_opts, *aux;
        json_t *subnets, *ranges, *gateways;
};

static void create_opts_free(struct create_opts *o)
{
        json_t **all[] = { &o->opts, &o->labels, &o->ipam_opts, &o->aux, &o->subnets, &o->ranges, &o->gateways };

        for (size_t i = 0; i < ARRAY_SIZE(all); i++)
                json_decref(*all[i]);
}

struct cidr {
        int family;
        unsigned char addr[16];
        unsigned bits;
};

static bool parse_addr(const char *s, int *family, unsigned char *addr)
{
        if (inet_pton(AF_INET, s, addr) == 1)
                *family = AF_INET;
        else if (inet_pton(AF_INET6, s, addr) == 1)
                *family = AF_INET6;
        else
                return false;
        return true;
}

/* net.ParseCIDR: "10.0.0.0/8", "fd00::/64". */
static bool parse_cidr(const char *s, struct cidr *c)
{
        const char *slash = strchr(s, '/');
        _cleanup_free_ char *ip = slash ? xasprintf("%.*s", (int)(slash - s), s) : NULL;
        char *end;

        if (ip == NULL || !parse_addr(ip, &c->family, c->addr))
                return false;
        if (!isdigit((unsigned char)slash[1]) || strlen(slash + 1) > 3)
                return false;
        c->bits = (unsigned)strtoul(slash + 1, &end, 10);
        return *end == '\0' && c->bits <= (c->family == AF_INET ? 32u : 128u);
}

static bool cidr_contains(const struct cidr *net, int family, const unsigned char *addr)
{
        unsigned full = net->bits / 8, rest = net->bits % 8;

        if (family != net->family || memcmp(net->addr, addr, full) != 0)
                return false;
        return rest == 0 || ((net->addr[full] ^ addr[full]) & (0xff << (8 - rest))) == 0;
}

/* docker's subnetMatches: whether data (an address, or the address of a
 * CIDR) is inside subnet; 1, 0, or -1 with its error. */
static int subnet_matches(const char *subnet, const char *data, berth_error_t **err)
{
        struct cidr net, d;

        if (!parse_cidr(subnet, &net))
                return berth_fail(err, 0, "invalid subnet: invalid CIDR address: %s", subnet);
        if (strchr(data, '/')) {
                if (!parse_cidr(data, &d))
                        return berth_fail(err, 0, "invalid CIDR address: %s", data);
        } else if (!parse_addr(data, &d.family, d.addr)) {
                return 0;
        }
        return cidr_contains(&net, d.family, d.addr);
}

/* Overlapping subnets are refused before anything is sent. */
static int check_overlap(json_t *subnets, berth_error_t **err)
{
        size_t i, j;
        json_t *s, *k;

        json_array_foreach(subnets, i, s) {
                for (j = 0; j < i; j++) {
                        k = json_array_get(subnets, j);
                        int a = subnet_matches(json_string_value(s), json_string_value(k), err);
                        int b = a == 0 ? subnet_matches(json_string_value(k), json_string_value(s), err) : a;
                        if (a < 0 || b < 0)
                                return -1;
                        if (a || b)
                                return berth_fail(err, 0, "multiple overlapping subnet configuration is not supported");
                }
        }
        return 0;
}

/* Put a range or gateway (field) value into the config of every subnet
 * that holds it, as createIPAMConfig does. */
static int assign(json_t *subnets, json_t *configs, const char *field, const char *what, const char *value,
                  berth_error_t **err)
{
        bool match = false;
        size_t i;
        json_t *s;

        json_array_foreach(subnets, i, s) {
                int r = subnet_matches(json_string_value(s), value, err);
                if (r < 0)
                        return -1;
                if (r == 0)
                        continue;
                json_t *cfg = json_object_get(configs, json_string_value(s));
                const char *have = json_string_value(json_object_get(cfg, field));
                if (have)
                        return berth_fail(err, 0, strcmp(field, "IPRange") == 0
                                                          ? "cannot configure multiple ranges (%s, %s) on the same subnet (%s)"
                                                          : "cannot configure multiple gateways (%s, %s) for the same subnet (%s)",
                                          value, have, json_string_value(s));
                json_object_set_new(cfg, field, json_string(value));
                match = true;
        }
        if (!match)
                return berth_fail(err, 0, "no matching subnet for %s %s", what, value);
        return 0;
}

static int assign_aux(json_t *subnets, json_t *configs, const char *key, const char *value, berth_error_t **err)
{
        bool match = false;
        size_t i;
        json_t *s;

        json_array_foreach(subnets, i, s) {
                int r = subnet_matches(json_string_value(s), value, err);
                if (r < 0)
                        return -1;
                if (r == 0)
                        continue;
                json_t *cfg = json_object_get(configs, json_string_value(s));
                json_t *aux = json_object_get(cfg, "AuxiliaryAddresses");
                if (aux == NULL) {
                        aux = json_object();
                        json_object_set_new(cfg, "AuxiliaryAddresses", aux);
                }
                json_object_set_new(aux, key, json_string(value));
                match = true;
        }
        if (!match)
                return berth_fail(err, 0, "no matching subnet for aux-address %s", value);
        return 0;
}

/* The IPAM.Config list: one entry per subnet, in the order given. */
static json_t *ipam_configs(struct create_opts *o, berth_error_t **err)
{
        _cleanup_json_ json_t *configs = json_object();
        json_t *list, *v, *cfg;
        const char *key;
        size_t i;

        if (json_array_size(o->subnets) < json_array_size(o->ranges) ||
            json_array_size(o->subnets) < json_array_size(o->gateways))
                return berth_fail(err, 0, "every ip-range or gateway must have a corresponding subnet"), NULL;
        if (check_overlap(o->subnets, err) < 0)
                return NULL;
        json_array_foreach(o->subnets, i, v)
                json_object_set_new(configs, json_string_value(v), json_pack("{s:O}", "Subnet", v));
        json_array_foreach(o->ranges, i, v)
                if (assign(o->subnets, configs, "IPRange", "range", json_string_value(v), err) < 0)
                        return NULL;
        json_array_foreach(o->gateways, i, v)
                if (assign(o->subnets, configs, "Gateway", "gateway", json_string_value(v), err) < 0)
                        return NULL;
        json_object_foreach(o->aux, key, v)
                if (assign_aux(o->subnets, configs, key, json_string_value(v), err) < 0)
                        return NULL;
        list = json_array();
        json_array_foreach(o->subnets, i, v) {
                /* Subnet, IPRange, Gateway, AuxiliaryAddresses: Go's order */
                json_t *c = json_object_get(configs, json_string_value(v)), *out = json_pack("{s:O}", "Subnet", v);
                const char *fields[] = { "IPRange", "Gateway" };
                for (size_t f = 0; f < ARRAY_SIZE(fields); f++)
                        if ((cfg = json_object_get(c, fields[f])))
                                json_object_set(out, fields[f], cfg);
                if ((cfg = json_object_get(c, "AuxiliaryAddresses")))
                        json_object_set_new(out, "AuxiliaryAddresses", json_sorted_copy(cfg));
                json_array_append_new(list, out);
        }
        return list;
}

/* The NetworkCreateRequest, fields in docker's order. */
static json_t *create_body(struct cli *c, struct create_opts *o, const char *name, berth_error_t **err)
{
        json_t *configs = ipam_configs(o, err), *body;

        if (configs == NULL)
                return NULL;
        body = json_pack("{s:s, s:s}", "Driver", o->driver, "Scope", o->scope);
        if (o->ipv4 >= 0)
                json_object_set_new(body, "EnableIPv4", json_boolean(o->ipv4));
        if (o->ipv6 >= 0)
                json_object_set_new(body, "EnableIPv6", json_boolean(o->ipv6));
        json_object_set_new(body, "IPAM", json_pack("{s:s, s:o, s:o}", "Driver", o->ipam_driver, "Options",
                                                     json_sorted_copy(o->ipam_opts), "Config", configs));
        json_object_set_new(body, "Internal", json_boolean(o->internal));
        json_object_set_new(body, "Attachable", json_boolean(o->attachable));
        json_object_set_new(body, "Ingress", json_boolean(o->ingress));
        json_object_set_new(body, "ConfigOnly", json_boolean(o->config_only));
        json_object_set_new(body, "ConfigFrom", o->config_from && *o->config_from
                                                        ? json_pack("{s:s}", "Network", o->config_from)
                                                        : json_null());
        json_object_set_new(body, "Options", json_sorted_copy(o->opts));
        json_object_set_new(body, "Labels", json_sorted_copy(o->labels));
        json_object_set_new(body, "Name", json_string(name));
        /* deprecated in 1.44; the client sends it to older daemons */
        if (!cli_api_at_least(c, 1, 44))
                json_object_set_new(body, "CheckDuplicate", json_true());
        return body;
}

enum {
        OPT_ATTACHABLE = 0x100, OPT_AUX, OPT_CONFIG_FROM, OPT_CONFIG_ONLY, OPT_GATEWAY, OPT_INGRESS,
        OPT_INTERNAL, OPT_IP_RANGE, OPT_IPAM_DRIVER, OPT_IPAM_OPT, OPT_IPV4, OPT_IPV6, OPT_LABEL, OPT_SCOPE,
        OPT_SUBNET, OPT_FORMAT, OPT_NO_TRUNC, OPT_ALIAS, OPT_DRIVER_OPT, OPT_GW_PRIORITY, OPT_IP, OPT_IP6,
        OPT_LINK, OPT_LINK_LOCAL_IP, OPT_FILTER,
};

/* A boolean flag's optional "=false"; -1 after printing the error. */
static int bool_flag(const char *cmd, const char *flag, bool *dst)
{
        bool ok;

        *dst = cli_bool_arg(optarg, &ok);
        if (ok)
                return 0;
        _cleanup_free_ char *why = xasprintf("strconv.ParseBool: parsing \"%s\": invalid syntax", optarg);
        cli_flag_error(cmd, flag, optarg, why);
        return -1;
}

/* One option of create; 1 when parsing should stop (the status in *rc). */
static int create_opt(struct create_opts *o, int opt, int *rc)
{
        bool b;

        *rc = 125;
        switch (opt) {
        case 'd': o->driver = optarg; break;
        case 'o': add_kv(o->opts, optarg); break;
        case OPT_AUX: add_kv(o->aux, optarg); break;
        case OPT_IPAM_OPT: add_kv(o->ipam_opts, optarg); break;
        case OPT_IPAM_DRIVER: o->ipam_driver = optarg; break;
        case OPT_SCOPE: o->scope = optarg; break;
        case OPT_CONFIG_FROM: o->config_from = optarg; break;
        case OPT_SUBNET: add_csv(o->subnets, optarg); break;
        case OPT_IP_RANGE: add_csv(o->ranges, optarg); break;
        case OPT_GATEWAY: add_csv(o->gateways, optarg); break;
        case OPT_LABEL: {
                const char *eq = strchr(optarg, '=');
                _cleanup_free_ char *key = xasprintf("%.*s", (int)(eq ? eq - optarg : (long)strlen(optarg)), optarg);
                if (key[strspn(key, " \t\n\r\v\f")] == '\0') {
                        _cleanup_free_ char *why = xasprintf("invalid label '%s': empty name", optarg);
                        cli_flag_error("network-create", "--label", optarg, why);
                        return 1;
                }
                add_kv(o->labels, optarg);
                break;
        }
        case OPT_ATTACHABLE: if (bool_flag("network-create", "--attachable", &o->attachable) < 0) return 1; break;
        case OPT_INTERNAL: if (bool_flag("network-create", "--internal", &o->internal) < 0) return 1; break;
        case OPT_INGRESS: if (bool_flag("network-create", "--ingress", &o->ingress) < 0) return 1; break;
        case OPT_CONFIG_ONLY: if (bool_flag("network-create", "--config-only", &o->config_only) < 0) return 1; break;
        case OPT_IPV4:
        case OPT_IPV6:
                if (bool_flag("network-create", opt == OPT_IPV4 ? "--ipv4" : "--ipv6", &b) < 0)
                        return 1;
                *(opt == OPT_IPV4 ? &o->ipv4 : &o->ipv6) = b;
                break;
        case CLI_GETOPT_HELP: *rc = 0; return 1;
        default: return 1;
        }
        return 0;
}

int cmd_network_create(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "driver", required_argument, NULL, 'd' },
                { "opt", required_argument, NULL, 'o' },
                { "attachable", optional_argument, NULL, OPT_ATTACHABLE },
                { "aux-address", required_argument, NULL, OPT_AUX },
                { "config-from", required_argument, NULL, OPT_CONFIG_FROM },
                { "config-only", optional_argument, NULL, OPT_CONFIG_ONLY },
                { "gateway", required_argument, NULL, OPT_GATEWAY },
                { "ingress", optional_argument, NULL, OPT_INGRESS },
                { "internal", optional_argument, NULL, OPT_INTERNAL },
                { "ip-range", required_argument, NULL, OPT_IP_RANGE },
                { "ipam-driver", required_argument, NULL, OPT_IPAM_DRIVER },
                { "ipam-opt", required_argument, NULL, OPT_IPAM_OPT },
                { "ipv4", optional_argument, NULL, OPT_IPV4 },
                { "ipv6", optional_argument, NULL, OPT_IPV6 },
                { "label", required_argument, NULL, OPT_LABEL },
                { "scope", required_argument, NULL, OPT_SCOPE },
                { "subnet", required_argument, NULL, OPT_SUBNET },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        struct create_opts o = {
                .driver = "bridge", .ipam_driver = "default", .scope = "", .ipv4 = -1, .ipv6 = -1,
                .opts = json_object(), .labels = json_object(), .ipam_opts = json_object(), .aux = json_object(),
                .subnets = json_array(), .ranges = json_array(), .gateways = json_array(),
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *body = NULL, *res = NULL;
        _cleanup_free_ char *s = NULL;
        int opt, rc = 1;

        while ((opt = cli_getopt(argc, argv, ":d:o:", longopts, "network-create")) != -1)
                if (create_opt(&o, opt, &rc))
                        goto out;
        rc = 1;
        if (argc - optind != 1) {
                rc = cli_usage_error("network-create", "requires 1 argument");
                goto out;
        }
        body = create_body(c, &o, argv[optind], &err);
        if (body)
                s = json_dumps(body, JSON_COMPACT);
        if (body == NULL || cli_call_json(c, "POST", "/networks/create", s, &res, &err) < 0) {
                cli_print_raw(err);
                goto out;
        }
        printf("%s\n", str(res, "Id"));
        rc = 0;
out:
        create_opts_free(&o);
        return rc;
}

/* ---- ls ---- */

/* Go's time.Time.String() of an API timestamp, as docker's CreatedAt:
 * "2026-11-29 14:44:29.985424932 +0000 UTC" (the fraction's trailing
 * zeros dropped). */
static char *created_text(const char *s)
{
        size_t frac = 0, digits = 0;
        const char *p = s + 19, *zone = p;

        if (strlen(s) < 20 || s[10] != 'T')
                return xstrdup("0001-01-01 00:00:00 +0000 UTC");
        if (*p == '.') {
                for (p++; isdigit((unsigned char)p[digits]); digits++)
                        if (p[digits] != '0' && digits < 9)
                                frac = digits + 1;
                zone = p + digits;
        }
        _cleanup_free_ char *fs = frac ? xasprintf(".%.*s", (int)frac, p) : xstrdup("");
        if (*zone == 'Z' || strlen(zone) < 6)
                return xasprintf("%.10s %.8s%s +0000 UTC", s, s + 11, fs);
        return xasprintf("%.10s %.8s%s %c%.2s%.2s %c%.2s%.2s", s, s + 11, fs, zone[0], zone + 1, zone + 4, zone[0],
                         zone + 1, zone + 4);
}

static int cmp_strp(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "k=v,k2=v2" (sorted: Go's map order is random, sorted is stable). */
static char *labels_text(json_t *labels)
{
        size_t n = json_object_size(labels), k = 0;
        _cleanup_strv_ char **v = xcalloc(n + 1, sizeof(char *));
        struct strbuf b = { 0 };
        const char *key;
        json_t *val;

        json_object_foreach(labels, key, val)
                v[k++] = xasprintf("%s=%s", key, json_string_value(val) ?: "");
        qsort(v, k, sizeof(char *), cmp_strp);
        strbuf_adds(&b, "");
        for (size_t i = 0; i < k; i++) {
                if (i)
                        strbuf_adds(&b, ",");
                strbuf_adds(&b, v[i]);
        }
        return b.data;
}

static const char *bool_text(json_t *v)
{
        return json_is_true(v) ? "true" : "false";
}

/* A network as network ls's --format sees it. */
static json_t *network_row(json_t *n, bool trunc)
{
        _cleanup_free_ char *id = trunc ? short_id(str(n, "Id")) : xstrdup(str(n, "Id"));
        _cleanup_free_ char *labels = labels_text(json_object_get(n, "Labels"));
        _cleanup_free_ char *created = created_text(str(n, "Created"));

        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "CreatedAt", created, "Driver",
                         str(n, "Driver"), "ID", id, "IPv4", bool_text(json_object_get(n, "EnableIPv4")), "IPv6",
                         bool_text(json_object_get(n, "EnableIPv6")), "Internal",
                         bool_text(json_object_get(n, "Internal")), "Labels", labels, "Name", str(n, "Name"),
                         "Scope", str(n, "Scope"));
}

static json_t *network_header(void)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "CreatedAt", "CREATED AT", "Driver",
                         "DRIVER", "ID", "NETWORK ID", "IPv4", "IPV4", "IPv6", "IPV6", "Internal", "INTERNAL",
                         "Labels", "LABELS", "Name", "NAME", "Scope", "SCOPE");
}

static int cmp_network(const void *a, const void *b)
{
        return cli_natural_cmp(str(*(json_t *const *)a, "Name"), str(*(json_t *const *)b, "Name"));
}

/* The format docker's network formatter picks for --format and -q. */
static const char *ls_format(const char *format, bool quiet)
{
        if (format == NULL || strcmp(format, "table") == 0)
                return quiet ? "{{.ID}}" : "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
        if (strcmp(format, "raw") == 0)
                return quiet ? "network_id: {{.ID}}"
                             : "network_id: {{.ID}}\nname: {{.Name}}\ndriver: {{.Driver}}\nscope: {{.Scope}}\n";
        return format;
}

static int print_networks(json_t *list, const char *format, bool quiet, bool trunc, berth_error_t **err)
{
        size_t n = json_array_size(list);
        _cleanup_free_ json_t **v = xcalloc(n + 1, sizeof(json_t *));
        _cleanup_json_ json_t *rows = json_array(), *header = network_header();

        for (size_t i = 0; i < n; i++)
                v[i] = json_array_get(list, i);
        qsort(v, n, sizeof(json_t *), cmp_network);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(rows, network_row(v[i], trunc));
        return format_print(ls_format(format, quiet), header, rows, err);
}

int cmd_network_ls(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "filter", required_argument, NULL, 'f' },
                { "format", required_argument, NULL, OPT_FORMAT },
                { "no-trunc", no_argument, NULL, OPT_NO_TRUNC },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *filters = json_object(), *list = NULL;
        _cleanup_free_ char *q = NULL, *path = NULL;
        const char *format = NULL;
        bool quiet = false, trunc = true;
        int o;

        while ((o = cli_getopt(argc, argv, ":qf:", longopts, "network-ls")) != -1) {
                switch (o) {
                case 'q': quiet = true; break;
                case OPT_FORMAT: format = optarg; break;
                case OPT_NO_TRUNC: trunc = false; break;
                case 'f':
                        if (!cli_filter_add(filters, optarg))
                                return cli_flag_error("network-ls", "-f, --filter", optarg,
                                                      "bad format of filter (expected name=value)");
                        break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind < argc)
                return cli_usage_error("network-ls", "accepts no arguments");
        q = cli_filters_query(filters, true);
        path = xasprintf("/networks%s", q);
        if (cli_call_json(c, "GET", path, NULL, &list, &err) < 0 || print_networks(list, format, quiet, trunc, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        return 0;
}

/* ---- inspect ---- */

/* Print what was found: indented JSON as docker re-indents the raw
 * bodies, the compact array for "json", or the template per network. */
static int print_inspect(json_t *found, const char *format)
{
        size_t i;
        json_t *v;

        if (format == NULL || strcmp(format, "json") == 0) {
                _cleanup_free_ char *s = json_dumps(found, format ? JSON_COMPACT : JSON_INDENT(4));
                printf("%s\n", s ? s : "[]");
                return 0;
        }
        json_array_foreach(found, i, v) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_free_ char *out = NULL;
                if (template_render(format, v, &out, &err) < 0) {
                        fflush(stdout);
                        fprintf(stderr, "template parsing error: %s\n", err->msg);
                        /* docker: 64 for a template it cannot parse */
                        return strstr(err->msg, "executing") ? 1 : 64;
                }
                printf("%s\n", out);
        }
        return 0;
}

int cmd_network_inspect(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "format", required_argument, NULL, 'f' },
                { "verbose", no_argument, NULL, 'v' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_json_ json_t *found = json_array();
        struct cli_errors errs = { 0 };
        const char *format = NULL;
        bool verbose = false;
        int o, rc;

        while ((o = cli_getopt(argc, argv, ":f:v", longopts, "network-inspect")) != -1) {
                switch (o) {
                case 'f': format = optarg; break;
                case 'v': verbose = true; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind >= argc)
                return cli_usage_error("network-inspect", "requires at least 1 argument");
        for (int k = optind; k < argc; k++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_free_ char *path = network_path(argv[k], verbose ? "?verbose=true" : "", &err);
                json_t *res = NULL;

                if (path == NULL || cli_call_json(c, "GET", path, NULL, &res, &err) < 0) {
                        cli_errors_add(&errs, err);
                        continue;
                }
                json_array_append_new(found, res);
        }
        rc = print_inspect(found, format);
        if (rc != 0) {
                free(errs.msg);
                return rc;
        }
        return cli_errors_finish(&errs);
}

/* ---- rm ---- */

/* Removing a swarm's routing mesh asks first, as docker does. */
static bool ingress_confirmed(struct cli *c, const char *path)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *n = NULL;

        if (cli_call_json(c, "GET", path, NULL, &n, &err) < 0 || !json_is_true(json_object_get(n, "Ingress")))
                return true;
        return cli_confirm("WARNING! Before removing the routing-mesh network, make sure all the nodes in your swarm "
                           "run the same docker engine version. Otherwise, removal may not be effective and "
                           "functionality of newly create ingress networks will be impaired.\n"
                           "Are you sure you want to continue?");
}

int cmd_network_rm(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "force", no_argument, NULL, 'f' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        bool force = false;
        int o, rc = 0;

        while ((o = cli_getopt(argc, argv, ":f", longopts, "network-rm")) != -1) {
                switch (o) {
                case 'f': force = true; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind >= argc)
                return cli_usage_error("network-rm", "requires at least 1 argument");
        for (int k = optind; k < argc; k++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_response_ struct cli_response resp = { 0 };
                _cleanup_free_ char *path = network_path(argv[k], "", &err);

                if (path && !ingress_confirmed(c, path))
                        continue;
                if (path == NULL || cli_call(c, "DELETE", path, NULL, &resp, &err) < 0 ||
                    (resp.status >= 400 && cli_daemon_error(&resp, &err) < 0)) {
                        if (force && resp.status == 404)
                                continue;
                        cli_print_raw(err);
                        rc = 1;
                        continue;
                }
                printf("%s\n", argv[k]);
                fflush(stdout);
        }
        /* docker's status error without a message prints this */
        if (rc)
                fprintf(stderr, "exit status 1\n");
        return rc;
}

/* ---- connect, disconnect ---- */

struct connect_opts {
        const char *ip, *ip6;
        long long gw_priority;
        json_t *aliases, *links, *link_local_ips, *driver_opts;
};

/* convertDriverOpt: "k=v" with the spaces around both trimmed. */
static int driver_opts(json_t *list, json_t *out, berth_error_t **err)
{
        size_t i;
        json_t *v;

        json_array_foreach(list, i, v) {
                const char *kv = json_string_value(v), *eq = strchr(kv, '=');
                const char *k = kv, *ke = eq ? eq : kv + strlen(kv), *val = eq ? eq + 1 : "";
                while (k < ke && isspace((unsigned char)*k))
                        k++;
                while (ke > k && isspace((unsigned char)ke[-1]))
                        ke--;
                if (eq == NULL || ke == k)
                        return berth_fail(err, 0, "invalid key/value pair format in driver options");
                while (isspace((unsigned char)*val))
                        val++;
                size_t n = strlen(val);
                while (n > 0 && isspace((unsigned char)val[n - 1]))
                        n--;
                _cleanup_free_ char *key = xasprintf("%.*s", (int)(ke - k), k);
                json_object_set_new(out, key, json_stringn(val, n));
        }
        return 0;
}

/* The NetworkConnectRequest docker builds: IPAMConfig always an object,
 * Aliases a list, Links null unless given. */
static json_t *connect_body(const char *ctr, struct connect_opts *o, berth_error_t **err)
{
        _cleanup_json_ json_t *opts = json_object();
        json_t *ipam;

        if (driver_opts(o->driver_opts, opts, err) < 0)
                return NULL;
        ipam = json_object();
        if (o->ip && *o->ip)
                json_object_set_new(ipam, "IPv4Address", json_string(o->ip));
        if (o->ip6 && *o->ip6)
                json_object_set_new(ipam, "IPv6Address", json_string(o->ip6));
        if (json_array_size(o->link_local_ips))
                json_object_set(ipam, "LinkLocalIPs", o->link_local_ips);
        json_t *ep = json_pack("{s:o, s:O, s:O, s:s, s:o, s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:n}",
                               "IPAMConfig", ipam, "Links",
                               json_array_size(o->links) ? o->links : json_null(), "Aliases", o->aliases,
                               "MacAddress", "", "DriverOpts", json_sorted_copy(opts), "GwPriority",
                               (json_int_t)o->gw_priority, "NetworkID", "", "EndpointID", "", "Gateway", "",
                               "IPAddress", "", "IPPrefixLen", 0, "IPv6Gateway", "", "GlobalIPv6Address", "",
                               "GlobalIPv6PrefixLen", 0, "DNSNames");
        return json_pack("{s:s, s:o}", "Container", ctr, "EndpointConfig", ep);
}

/* POST /networks/NET/{connect,disconnect} with the body made for the
 * trimmed container name. */
static int post_endpoint(struct cli *c, const char *net, const char *ctr_arg, const char *action,
                         struct connect_opts *co, bool force)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *tail = xasprintf("/%s", action);
        _cleanup_free_ char *path = network_path(net, tail, &err);
        _cleanup_free_ char *ctr = path ? cli_trim_id("container", ctr_arg, &err) : NULL;
        _cleanup_json_ json_t *body = NULL;
        _cleanup_free_ char *s = NULL;

        if (ctr)
                body = co ? connect_body(ctr, co, &err) : json_pack("{s:s, s:b}", "Container", ctr, "Force", force);
        if (body)
                s = json_dumps(body, JSON_COMPACT);
        if (body == NULL || cli_call_ok(c, "POST", path, s, &resp, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        return 0;
}

static void connect_opts_free(struct connect_opts *o)
{
        json_decref(o->aliases);
        json_decref(o->links);
        json_decref(o->link_local_ips);
        json_decref(o->driver_opts);
}

/* One option of connect; 1 when parsing should stop (the status in *rc). */
static int connect_opt(struct connect_opts *o, int opt, int *rc)
{
        _cleanup_error_ berth_error_t *err = NULL;

        *rc = 125;
        switch (opt) {
        case OPT_IP: o->ip = optarg; break;
        case OPT_IP6: o->ip6 = optarg; break;
        case OPT_ALIAS: add_csv(o->aliases, optarg); break;
        case OPT_LINK_LOCAL_IP: add_csv(o->link_local_ips, optarg); break;
        case OPT_DRIVER_OPT: add_csv(o->driver_opts, optarg); break;
        case OPT_LINK:
                if (cli_check_link(optarg, &err) < 0) {
                        cli_flag_error("network-connect", "--link", optarg, err->msg);
                        return 1;
                }
                json_array_append_new(o->links, json_string(optarg));
                break;
        case OPT_GW_PRIORITY: {
                char *end;
                errno = 0;
                o->gw_priority = strtoll(optarg, &end, 10);
                if (*optarg == '\0' || *end != '\0' || errno) {
                        _cleanup_free_ char *why = xasprintf("strconv.ParseInt: parsing \"%s\": %s", optarg,
                                                             errno ? "value out of range" : "invalid syntax");
                        cli_flag_error("network-connect", "--gw-priority", optarg, why);
                        return 1;
                }
                break;
        }
        case CLI_GETOPT_HELP: *rc = 0; return 1;
        default: return 1;
        }
        return 0;
}

int cmd_network_connect(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "ip", required_argument, NULL, OPT_IP },
                { "ip6", required_argument, NULL, OPT_IP6 },
                { "alias", required_argument, NULL, OPT_ALIAS },
                { "link", required_argument, NULL, OPT_LINK },
                { "link-local-ip", required_argument, NULL, OPT_LINK_LOCAL_IP },
                { "driver-opt", required_argument, NULL, OPT_DRIVER_OPT },
                { "gw-priority", required_argument, NULL, OPT_GW_PRIORITY },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        struct connect_opts o = { .aliases = json_array(), .links = json_array(), .link_local_ips = json_array(),
                                  .driver_opts = json_array() };
        int opt, rc = 1;

        while ((opt = cli_getopt(argc, argv, ":", longopts, "network-connect")) != -1)
                if (connect_opt(&o, opt, &rc))
                        goto out;
        if (argc - optind != 2)
                rc = cli_usage_error("network-connect", "requires 2 arguments");
        else
                rc = post_endpoint(c, argv[optind], argv[optind + 1], "connect", &o, false);
out:
        connect_opts_free(&o);
        return rc;
}

int cmd_network_disconnect(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "force", no_argument, NULL, 'f' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        bool force = false;
        int o;

        while ((o = cli_getopt(argc, argv, ":f", longopts, "network-disconnect")) != -1) {
                switch (o) {
                case 'f': force = true; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind != 2)
                return cli_usage_error("network-disconnect", "requires 2 arguments");
        return post_endpoint(c, argv[optind], argv[optind + 1], "disconnect", NULL, force);
}

/* ---- prune ---- */

int cmd_network_prune(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "force", no_argument, NULL, 'f' },
                { "filter", required_argument, NULL, OPT_FILTER },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *filters = json_object(), *res = NULL;
        bool force = false;
        int o;

        while ((o = cli_getopt(argc, argv, ":f", longopts, "network-prune")) != -1) {
                switch (o) {
                case 'f': force = true; break;
                case OPT_FILTER:
                        if (!cli_filter_add(filters, optarg))
                                return cli_flag_error("network-prune", "--filter", optarg,
                                                      "bad format of filter (expected name=value)");
                        break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind < argc)
                return cli_usage_error("network-prune", "accepts no arguments");
        if (!force && !cli_confirm("WARNING! This will remove all custom networks not used by at least one container.\n"
                                   "Are you sure you want to continue?"))
                return 0;
        if (cli_prune(c, "networks", filters, &res, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        cli_prune_report(res, "NetworksDeleted", "Deleted Networks:");
        return 0;
}
