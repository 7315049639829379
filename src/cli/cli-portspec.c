/* Ports as docker CLI 28 reads and writes them: the -p specs of run and
 * create (go-connections' nat.ParsePortSpec: [ip:][hostPort:]containerPort
 * [/proto], ranges, "[::1]:8080:80", the long "target=80,published=8080"
 * form), --expose, and the PORTS column of ps (DisplayablePorts), with
 * docker's error texts.  No I/O: the unit test builds this file alone. */
#include "cli/cli.h"
#include <arpa/inet.h>
#include <ctype.h>

/* strconv.ParseUint(s, 10, 16): Go stops at the first overflow, so
 * "70000x" is out of range rather than invalid. */
static int parse_port(const char *s, size_t n, unsigned *out, char **why)
{
        unsigned long v = 0;

        if (n == 0) {
                *why = xstrdup("strconv.ParseUint: parsing \"\": invalid syntax");
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9') {
                        *why = xasprintf("strconv.ParseUint: parsing \"%.*s\": invalid syntax", (int)n, s);
                        return -1;
                }
                v = v * 10 + (unsigned long)(s[i] - '0');
                if (v > 65535) {
                        *why = xasprintf("strconv.ParseUint: parsing \"%.*s\": value out of range", (int)n, s);
                        return -1;
                }
        }
        *out = (unsigned)v;
        return 0;
}

/* nat.ParsePortRange: "80" or "8000-8010"; like Go's strings.Split, a
 * third part ("1-2-3") is ignored. */
static int port_range(const char *s, unsigned *start, unsigned *end, char **why)
{
        const char *dash = strchr(s, '-');

        if (*s == '\0') {
                *why = xstrdup("empty string specified for ports");
                return -1;
        }
        if (dash == NULL) {
                if (parse_port(s, strlen(s), start, why) < 0)
                        return -1;
                *end = *start;
                return 0;
        }
        const char *second = dash + 1, *dash2 = strchr(second, '-');
        if (parse_port(s, (size_t)(dash - s), start, why) < 0 ||
            parse_port(second, dash2 ? (size_t)(dash2 - second) : strlen(second), end, why) < 0)
                return -1;
        if (*end < *start) {
                *why = xasprintf("invalid range specified for port: %s", s);
                return -1;
        }
        return 0;
}

/* nat.SplitProtoPort: "80/udp" -> udp, 80; "80" and "80/" -> tcp, 80;
 * "" and "/udp" -> "", "". */
static void split_proto(char *s, const char **proto, const char **port)
{
        char *slash = strchr(s, '/');

        *port = s;
        *proto = "tcp";
        if (*s == '\0' || s == slash) {
                *port = *proto = "";
                return;
        }
        if (slash == NULL)
                return;
        *slash = '\0';
        char *next = strchr(slash + 1, '/');
        if (next)
                *next = '\0';
        if (slash[1] != '\0')
                *proto = slash + 1;
}

bool cli_valid_ip(const char *s)
{
        unsigned char buf[16];

        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The long form "target=80,published=8080,protocol=udp" as the short one
 * docker's convertToStandardNotation makes of it: "8080:80/udp". */
static char *standard_notation(const char *spec, berth_error_t **err)
{
        _cleanup_free_ char *copy = xstrdup(spec);
        const char *target = "", *published = "", *protocol = "tcp";
        char *save = NULL;

        for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(kv, '=');
                if (eq == NULL || eq == kv) {
                        berth_fail(err, 0, "invalid publish opts format (should be name=value but got '%s')", kv);
                        return NULL;
                }
                *eq = '\0';
                if (strcmp(kv, "target") == 0)
                        target = eq + 1;
                else if (strcmp(kv, "published") == 0)
                        published = eq + 1;
                else if (strcmp(kv, "protocol") == 0)
                        protocol = eq + 1;
        }
        return xasprintf("%s:%s/%s", published, target, protocol);
}

/* "[::1]" -> "::1" as net.SplitHostPort(ip + ":") takes the brackets off. */
static int strip_brackets(char *ip, berth_error_t **err)
{
        char *close = strchr(ip, ']');

        if (close == NULL)
                return berth_fail(err, 0, "invalid IP address %s: address %s:: missing ']' in address", ip, ip);
        if (close[1] != '\0')
                return berth_fail(err, 0, "invalid IP address %s: address %s:: %s", ip, ip,
                                  close[1] == ':' ? "too many colons in address" : "missing port in address");
        *close = '\0';
        memmove(ip, ip + 1, strlen(ip));
        return 0;
}

static bool valid_proto(const char *proto)
{
        return strcasecmp(proto, "tcp") == 0 || strcasecmp(proto, "udp") == 0 || strcasecmp(proto, "sctp") == 0;
}

static void add_binding(json_t *exposed, json_t *bindings, const char *key, const char *ip, const char *host)
{
        json_t *list = json_object_get(bindings, key);

        json_object_set_new(exposed, key, json_object());
        if (list == NULL) {
                list = json_array();
                json_object_set_new(bindings, key, list);
        }
        json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", ip, "HostPort", host));
}

/* What a spec names, once split and checked. */
struct port_spec {
        const char *ip, *host, *proto;
        unsigned start, end, hstart, hend;
};

/* The checks of nat.ParsePortSpec, in its order, on the split spec. */
static int check_spec(const char *raw, char *ip, const char *host, char *cport, struct port_spec *p,
                      berth_error_t **err)
{
        _cleanup_free_ char *why = NULL;
        const char *port;

        split_proto(cport, &p->proto, &port);
        if (ip[0] == '[' && strip_brackets(ip, err) < 0)
                return -1;
        if (ip[0] != '\0' && !cli_valid_ip(ip))
                return berth_fail(err, 0, "invalid IP address: %s", ip);
        if (*port == '\0')
                return berth_fail(err, 0, "no port specified: %s<empty>", raw);
        if (port_range(port, &p->start, &p->end, &why) < 0)
                return berth_fail(err, 0, "invalid containerPort: %s", port);
        p->hstart = p->hend = 0;
        if (*host && port_range(host, &p->hstart, &p->hend, &why) < 0)
                return berth_fail(err, 0, "invalid hostPort: %s", host);
        /* a host range with one container port is the range to pick from */
        if (*host && p->end - p->start != p->hend - p->hstart && p->end != p->start)
                return berth_fail(err, 0, "invalid ranges specified for container and host Ports: %s and %s", port,
                                  host);
        if (!valid_proto(p->proto))
                return berth_fail(err, 0, "invalid proto: %s", p->proto);
        p->ip = ip;
        p->host = host;
        return 0;
}

int cli_publish_add(json_t *exposed, json_t *bindings, const char *spec, berth_error_t **err)
{
        _cleanup_free_ char *s = strchr(spec, '=') ? standard_notation(spec, err) : xstrdup(spec);
        _cleanup_free_ char *raw = NULL, *proto = NULL;
        char *ip = (char *)"", *host = (char *)"", *cport, *colon;
        struct port_spec p;

        if (s == NULL)
                return -1;
        raw = xstrdup(s);
        /* the container port after the last ":", the host port before it,
         * and everything before that is the address (IPv6 has colons) */
        colon = strrchr(s, ':');
        cport = colon ? colon + 1 : s;
        if (colon) {
                *colon = '\0';
                host = s;
                colon = strrchr(s, ':');
                if (colon) {
                        *colon = '\0';
                        ip = s;
                        host = colon + 1;
                }
        }
        if (check_spec(raw, ip, host, cport, &p, err) < 0)
                return -1;
        proto = xstrdup(p.proto);
        for (char *q = proto; *q; q++)
                *q = (char)tolower((unsigned char)*q);
        for (unsigned i = 0; i <= p.end - p.start; i++) {
                _cleanup_free_ char *key = xasprintf("%u/%s", p.start + i, proto);
                _cleanup_free_ char *hp = NULL;
                if (*p.host == '\0')
                        hp = xstrdup("");
                else if (p.start == p.end && p.hstart != p.hend)
                        hp = xasprintf("%u-%u", p.hstart, p.hend);
                else
                        hp = xasprintf("%u", p.hstart + i);
                add_binding(exposed, bindings, key, p.ip, hp);
        }
        return 0;
}

int cli_expose_add(json_t *exposed, const char *spec, berth_error_t **err)
{
        _cleanup_free_ char *s = xstrdup(spec), *why = NULL;
        const char *proto, *port;
        unsigned start, end;

        if (strchr(spec, ':'))
                return berth_fail(err, 0, "invalid port format for --expose: %s", spec);
        split_proto(s, &proto, &port);
        if (port_range(port, &start, &end, &why) < 0)
                return berth_fail(err, 0, "invalid range format for --expose: %s, error: %s", spec, why);
        for (unsigned p = start; p <= end; p++) {
                _cleanup_free_ char *key = xasprintf("%u/%s", p, proto);
                json_object_set_new(exposed, key, json_object());
        }
        return 0;
}

/* ---- ps's PORTS column ---- */

struct port {
        const char *ip, *type;
        unsigned priv, pub;
};

/* docker's comparePorts: private port, then address, public port, type. */
static int cmp_port(const void *a, const void *b)
{
        const struct port *x = a, *y = b;
        int c;

        if (x->priv != y->priv)
                return x->priv < y->priv ? -1 : 1;
        if ((c = strcmp(x->ip, y->ip)) != 0)
                return c;
        if (x->pub != y->pub)
                return x->pub < y->pub ? -1 : 1;
        return strcmp(x->type, y->type);
}

/* net.JoinHostPort: brackets around an IPv6 address. */
static char *join_host_port(const char *ip, const char *port)
{
        return xasprintf(strchr(ip, ':') ? "[%s]:%s" : "%s:%s", ip, port);
}

/* A run of consecutive ports with the same address and type, as docker's
 * portGroup keyed by "ip/type" (or "type" when unpublished). */
struct group {
        char *key;
        unsigned first, last;
};

static char *form_group(const char *key, unsigned first, unsigned last)
{
        const char *slash = strchr(key, '/');
        _cleanup_free_ char *range = first == last ? xasprintf("%u", first) : xasprintf("%u-%u", first, last);

        if (slash == NULL)
                return xasprintf("%s/%s", range, key);
        _cleanup_free_ char *ip = xasprintf("%.*s", (int)(slash - key), key);
        _cleanup_free_ char *hp = join_host_port(ip, range);
        return xasprintf("%s->%s/%s", hp, range, slash + 1);
}

static void strv_push(char ***v, size_t *n, char *s)
{
        *v = xrealloc(*v, (*n + 2) * sizeof(char *));
        (*v)[(*n)++] = s;
        (*v)[*n] = NULL;
}

static char *join_strv(char **v, size_t n, const char *sep)
{
        struct strbuf b = { 0 };

        strbuf_adds(&b, "");
        for (size_t i = 0; i < n; i++) {
                if (i)
                        strbuf_adds(&b, sep);
                strbuf_adds(&b, v[i]);
        }
        return b.data;
}

static struct port *ports_sorted(json_t *ports, size_t *n)
{
        struct port *v = xcalloc(json_array_size(ports) + 1, sizeof(*v));
        size_t i;
        json_t *p;

        json_array_foreach(ports, i, p) {
                const char *ip = json_string_value(json_object_get(p, "IP"));
                const char *type = json_string_value(json_object_get(p, "Type"));
                v[i].ip = ip ? ip : "";
                v[i].type = type ? type : "";
                v[i].priv = (unsigned)json_integer_value(json_object_get(p, "PrivatePort"));
                v[i].pub = (unsigned)json_integer_value(json_object_get(p, "PublicPort"));
        }
        *n = json_array_size(ports);
        qsort(v, *n, sizeof(*v), cmp_port);
        return v;
}

/* The index of the group with key, or n. */
static size_t find_group(struct group *g, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(g[i].key, key) == 0)
                        return i;
        return n;
}

char *cli_ports_display(json_t *ports)
{
        size_t n, ngroups = 0, nresult = 0, nmaps = 0;
        _cleanup_free_ struct port *v = ports_sorted(ports, &n);
        _cleanup_free_ struct group *groups = xcalloc(n + 1, sizeof(*groups));
        _cleanup_strv_ char **result = NULL;
        _cleanup_strv_ char **maps = NULL;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *key = NULL;
                if (*v[i].ip && v[i].pub != v[i].priv) {
                        /* a mapping to another port stands alone */
                        _cleanup_free_ char *port = xasprintf("%u", v[i].pub);
                        _cleanup_free_ char *hp = join_host_port(v[i].ip, port);
                        strv_push(&maps, &nmaps, xasprintf("%s->%u/%s", hp, v[i].priv, v[i].type));
                        continue;
                }
                key = *v[i].ip ? xasprintf("%s/%s", v[i].ip, v[i].type) : xstrdup(v[i].type);
                size_t k = find_group(groups, ngroups, key);
                if (k == ngroups) {
                        groups[ngroups++] = (struct group){ steal_pointer(&key), v[i].priv, v[i].priv };
                } else if (v[i].priv == groups[k].last + 1) {
                        groups[k].last = v[i].priv;
                } else {
                        /* a gap ends the run: it is listed now, the new
                         * run keeps the key's place */
                        strv_push(&result, &nresult, form_group(key, groups[k].first, groups[k].last));
                        groups[k].first = groups[k].last = v[i].priv;
                }
        }
        for (size_t k = 0; k < ngroups; k++) {
                strv_push(&result, &nresult, form_group(groups[k].key, groups[k].first, groups[k].last));
                free(groups[k].key);
        }
        for (size_t i = 0; i < nmaps; i++)
                strv_push(&result, &nresult, xstrdup(maps[i]));
        return join_strv(result, nresult, ", ");
}

/* ---- natural order ---- */

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* fvbommel/sortorder.NaturalLess, by which docker sorts network ls and
 * port: runs of digits compare as numbers ("net2" < "net10"). */
bool cli_natural_less(const char *a, const char *b)
{
        size_t i = 0, j = 0, la = strlen(a), lb = strlen(b);

        while (i < la && j < lb) {
                bool da = is_digit(a[i]), db = is_digit(b[j]);
                if (da != db)
                        return da;
                if (!da) {
                        if (a[i] != b[j])
                                return (unsigned char)a[i] < (unsigned char)b[j];
                        i++;
                        j++;
                        continue;
                }
                while (i < la && a[i] == '0')
                        i++;
                while (j < lb && b[j] == '0')
                        j++;
                size_t nza = i, nzb = j;
                while (i < la && is_digit(a[i]))
                        i++;
                while (j < lb && is_digit(b[j]))
                        j++;
                if (i - nza != j - nzb)
                        return i - nza < j - nzb;
                int c = strncmp(a + nza, b + nzb, i - nza);
                if (c != 0)
                        return c < 0;
                if (nza != nzb)
                        return nza < nzb;
        }
        return la < lb;
}

int cli_natural_cmp(const char *a, const char *b)
{
        return cli_natural_less(a, b) ? -1 : cli_natural_less(b, a) ? 1 : 0;
}
