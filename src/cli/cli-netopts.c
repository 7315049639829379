/* The networking flags of run and create turned into
 * NetworkingConfig.EndpointsConfig as docker CLI 28 builds it
 * (parseNetworkOpts): --network in its short and its long form
 * ("name=n,alias=a,ip=..."), and the flags that apply to the first
 * network (--ip, --ip6, --network-alias, --link, --link-local-ip,
 * --mac-address); also the client-side checks of --dns, --dns-search,
 * --add-host and --link.  No I/O: the unit test builds this file. */
#include "cli/cli.h"
#include <arpa/inet.h>
#include <ctype.h>

void cli_netopts_init(struct cli_netopts *o)
{
        memset(o, 0, sizeof(*o));
        o->aliases = json_array();
        o->links = json_array();
        o->link_local_ips = json_array();
}

static void attach_free(struct cli_netattach *a)
{
        free(a->target);
        free(a->ipv4);
        free(a->ipv6);
        free(a->mac);
        json_decref(a->aliases);
        json_decref(a->links);
        json_decref(a->link_local_ips);
        json_decref(a->driver_opts);
        memset(a, 0, sizeof(*a));
}

void cli_netopts_free(struct cli_netopts *o)
{
        for (size_t i = 0; i < o->n; i++)
                attach_free(&o->nets[i]);
        free(o->nets);
        json_decref(o->aliases);
        json_decref(o->links);
        json_decref(o->link_local_ips);
        memset(o, 0, sizeof(*o));
}

static bool is_word(char c)
{
        return isalnum((unsigned char)c) || c == '_';
}

/* docker's test for the long form: the regexp \w+=\w+ found anywhere. */
static bool long_syntax(const char *v)
{
        for (const char *p = strchr(v, '='); p; p = strchr(p + 1, '='))
                if (p > v && is_word(p[-1]) && is_word(p[1]))
                        return true;
        return false;
}

char **cli_csv_fields(const char *s, size_t *n)
{
        char **v = xcalloc(strlen(s) + 2, sizeof(char *));
        struct strbuf b = { 0 };

        *n = 0;
        for (;;) {
                bool quoted = *s == '"';
                strbuf_adds(&b, "");
                if (quoted)
                        s++;
                for (; *s && (quoted || *s != ','); s++) {
                        if (quoted && *s == '"') {
                                if (s[1] != '"') {
                                        quoted = false;
                                        continue;
                                }
                                s++;
                        }
                        strbuf_add(&b, s, 1);
                }
                v[(*n)++] = b.data;
                b = (struct strbuf){ 0 };
                if (*s != ',')
                        break;
                s++;
        }
        return v;
}

static char *trim_space(const char *s, size_t n)
{
        while (n > 0 && isspace((unsigned char)*s)) {
                s++;
                n--;
        }
        while (n > 0 && isspace((unsigned char)s[n - 1]))
                n--;
        return xasprintf("%.*s", (int)n, s);
}

static void push_string(json_t **list, const char *s)
{
        if (*list == NULL)
                *list = json_array();
        json_array_append_new(*list, json_string(s));
}

/* One key=value of the long form.  docker lowercases the whole field,
 * value included (its own TODO says so), and so does this. */
static int long_field(struct cli_netattach *a, const char *field, berth_error_t **err)
{
        _cleanup_free_ char *low = xstrdup(field);
        char *eq;

        for (char *p = low; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        eq = strchr(low, '=');
        if (eq == NULL || eq == low)
                return berth_fail(err, 0, "invalid field %s", field);
        _cleanup_free_ char *key = trim_space(low, (size_t)(eq - low));
        _cleanup_free_ char *val = trim_space(eq + 1, strlen(eq + 1));
        if (strcmp(key, "name") == 0) {
                free(a->target);
                a->target = steal_pointer(&val);
        } else if (strcmp(key, "alias") == 0) {
                push_string(&a->aliases, val);
        } else if (strcmp(key, "ip") == 0) {
                free(a->ipv4);
                a->ipv4 = steal_pointer(&val);
        } else if (strcmp(key, "ip6") == 0) {
                free(a->ipv6);
                a->ipv6 = steal_pointer(&val);
        } else if (strcmp(key, "mac-address") == 0) {
                free(a->mac);
                a->mac = steal_pointer(&val);
        } else if (strcmp(key, "link-local-ip") == 0) {
                push_string(&a->link_local_ips, val);
        } else if (strcmp(key, "driver-opt") == 0) {
                char *deq = strchr(val, '=');
                if (deq == NULL || deq == val)
                        return berth_fail(err, 0, "invalid key value pair format in driver options");
                _cleanup_free_ char *dk = trim_space(val, (size_t)(deq - val));
                _cleanup_free_ char *dv = trim_space(deq + 1, strlen(deq + 1));
                if (a->driver_opts == NULL)
                        a->driver_opts = json_object();
                json_object_set_new(a->driver_opts, dk, json_string(dv));
        } else if (strcmp(key, "gw-priority") == 0) {
                char *end;
                errno = 0;
                a->gw_priority = strtoll(val, &end, 10);
                if (*val == '\0' || *end != '\0' || errno)
                        return berth_fail(err, 0, "invalid gw-priority: strconv.Atoi: parsing \"%s\": %s", val,
                                          errno ? "value out of range" : "invalid syntax");
        } else {
                return berth_fail(err, 0, "invalid field key %s", key);
        }
        return 0;
}

int cli_netopts_add_network(struct cli_netopts *o, const char *value, berth_error_t **err)
{
        struct cli_netattach a = { 0 };

        if (long_syntax(value)) {
                size_t n;
                _cleanup_strv_ char **fields = cli_csv_fields(value, &n);
                for (size_t i = 0; i < n; i++) {
                        if (long_field(&a, fields[i], err) < 0) {
                                attach_free(&a);
                                return -1;
                        }
                }
                if (a.target == NULL || *a.target == '\0') {
                        attach_free(&a);
                        return berth_fail(err, 0, "network name/id is not specified");
                }
        } else {
                a.target = xstrdup(value);
        }
        o->nets = xrealloc(o->nets, (o->n + 1) * sizeof(*o->nets));
        o->nets[o->n++] = a;
        return 0;
}

const char *cli_netopts_mode(const struct cli_netopts *o)
{
        return o->n ? o->nets[0].target : "default";
}

/* container.NetworkMode.IsUserDefined on Linux. */
bool cli_network_user_defined(const char *mode)
{
        return strcmp(mode, "default") != 0 && strcmp(mode, "bridge") != 0 && strcmp(mode, "host") != 0 &&
               strcmp(mode, "none") != 0 && !str_has_prefix(mode, "container:");
}

/* applyContainerOptions: the flat flags go to the first network; the
 * same setting in both places is a conflict. */
static int apply_flat(struct cli_netattach *a, const struct cli_netopts *o, berth_error_t **err)
{
        if (json_array_size(a->aliases) && json_array_size(o->aliases))
                return berth_fail(err, 0, "conflicting options: cannot specify both --network-alias and per-network alias");
        if (json_array_size(a->links) && json_array_size(o->links))
                return berth_fail(err, 0, "conflicting options: cannot specify both --link and per-network links");
        if (a->ipv4 && *a->ipv4 && o->ipv4 && *o->ipv4)
                return berth_fail(err, 0, "conflicting options: cannot specify both --ip and per-network IPv4 address");
        if (a->ipv6 && *a->ipv6 && o->ipv6 && *o->ipv6)
                return berth_fail(err, 0, "conflicting options: cannot specify both --ip6 and per-network IPv6 address");
        if (a->mac && *a->mac && o->mac && *o->mac)
                return berth_fail(err, 0, "conflicting options: cannot specify both --mac-address and per-network MAC address");
        if (json_array_size(a->link_local_ips) && json_array_size(o->link_local_ips))
                return berth_fail(err, 0, "conflicting options: cannot specify both --link-local-ip and per-network link-local IP addresses");
        if (json_array_size(o->aliases)) {
                json_decref(a->aliases);
                a->aliases = json_deep_copy(o->aliases);
        }
        /* on a user-defined network --link makes an alias; on the default
         * bridge it is a legacy link, which HostConfig.Links carries */
        if (cli_network_user_defined(a->target) && json_array_size(o->links)) {
                json_decref(a->links);
                a->links = json_deep_copy(o->links);
        }
        if (o->ipv4 && *o->ipv4) {
                free(a->ipv4);
                a->ipv4 = xstrdup(o->ipv4);
        }
        if (o->ipv6 && *o->ipv6) {
                free(a->ipv6);
                a->ipv6 = xstrdup(o->ipv6);
        }
        if (o->mac && *o->mac) {
                free(a->mac);
                a->mac = xstrdup(o->mac);
        }
        if (json_array_size(o->link_local_ips)) {
                json_decref(a->link_local_ips);
                a->link_local_ips = json_deep_copy(o->link_local_ips);
        }
        return 0;
}

static bool set(const char *s)
{
        return s && *s;
}

/* An endpoint with nothing in it: docker leaves the only network's entry
 * out then (the daemon makes it anyway). */
static bool attach_empty(const struct cli_netattach *a)
{
        return !json_array_size(a->aliases) && !json_array_size(a->links) && !set(a->ipv4) && !set(a->ipv6) &&
               !json_array_size(a->link_local_ips) && !set(a->mac) && !json_object_size(a->driver_opts) &&
               a->gw_priority == 0;
}

static json_t *ipam_config(const struct cli_netattach *a)
{
        json_t *ipam;

        if (!set(a->ipv4) && !set(a->ipv6) && !json_array_size(a->link_local_ips))
                return json_null();
        ipam = json_object();
        if (set(a->ipv4))
                json_object_set_new(ipam, "IPv4Address", json_string(a->ipv4));
        if (set(a->ipv6))
                json_object_set_new(ipam, "IPv6Address", json_string(a->ipv6));
        if (json_array_size(a->link_local_ips))
                json_object_set(ipam, "LinkLocalIPs", a->link_local_ips);
        return ipam;
}

static json_t *list_or_null(json_t *a)
{
        return json_array_size(a) ? json_incref(a) : json_null();
}

/* parseNetworkAttachmentOpt: the EndpointSettings of one network. */
static json_t *endpoint(const struct cli_netattach *a, berth_error_t **err)
{
        _cleanup_free_ char *name = trim_space(a->target, strlen(a->target));
        _cleanup_free_ char *mac = set(a->mac) ? trim_space(a->mac, strlen(a->mac)) : NULL;

        if (*name == '\0')
                return berth_fail(err, 0, "no name set for network"), NULL;
        if (!cli_network_user_defined(a->target) && json_array_size(a->aliases))
                return berth_fail(err, 0, "network-scoped aliases are only supported for user-defined networks"), NULL;
        if (!cli_network_user_defined(a->target) && json_array_size(a->links))
                return berth_fail(err, 0, "links are only supported for user-defined networks"), NULL;
        if (mac && !cli_valid_mac(mac))
                return berth_fail(err, 0, "%s is not a valid mac address", a->mac), NULL;
        return json_pack("{s:o, s:o, s:o, s:s, s:o, s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:n}",
                         "IPAMConfig", ipam_config(a), "Links", list_or_null(a->links), "Aliases",
                         list_or_null(a->aliases), "MacAddress", set(a->mac) ? a->mac : "", "DriverOpts",
                         json_object_size(a->driver_opts) ? json_incref(a->driver_opts) : json_null(),
                         "GwPriority", (json_int_t)a->gw_priority, "NetworkID", "", "EndpointID", "", "Gateway",
                         "", "IPAddress", "", "IPPrefixLen", 0, "IPv6Gateway", "", "GlobalIPv6Address", "",
                         "GlobalIPv6PrefixLen", 0, "DNSNames");
}

/* One network's entry into eps; the only network, left without options,
 * gets none. */
static int add_endpoint(json_t *eps, struct cli_netattach *a, bool only, berth_error_t **err)
{
        json_t *ep = endpoint(a, err);

        if (ep == NULL)
                return -1;
        if (json_object_get(eps, a->target)) {
                json_decref(ep);
                return berth_fail(err, 0, "network \"%s\" is specified multiple times", a->target);
        }
        if (only && attach_empty(a)) {
                json_decref(ep);
                return 0;
        }
        json_object_set_new(eps, a->target, ep);
        return 0;
}

json_t *cli_netopts_endpoints(struct cli_netopts *o, berth_error_t **err)
{
        _cleanup_json_ json_t *eps = json_object();
        bool user = false, other = false;

        if (o->n == 0) {
                /* no --network: the flags describe the "default" endpoint */
                struct cli_netattach def = { .target = xstrdup("default") };
                int r = apply_flat(&def, o, err);
                if (r == 0) {
                        json_t *ep = endpoint(&def, err);
                        r = ep ? json_object_set_new(eps, "default", ep) : -1;
                }
                attach_free(&def);
                return r < 0 ? NULL : steal_pointer(&eps);
        }
        for (size_t i = 0; i < o->n; i++) {
                struct cli_netattach *a = &o->nets[i];
                if (cli_network_user_defined(a->target))
                        user = true;
                else
                        other = true;
                if (i == 0 && apply_flat(a, o, err) < 0)
                        return NULL;
                if (add_endpoint(eps, a, o->n == 1, err) < 0)
                        return NULL;
        }
        if (user && other)
                return berth_fail(err, 0, "conflicting options: cannot attach both user-defined and non-user-defined network-modes"), NULL;
        return steal_pointer(&eps);
}

static int hex(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char)tolower((unsigned char)c);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Two hex digits, then sep unless at the end (Go's xtoi2). */
static bool hex2(const char *s, size_t left, char sep)
{
        if (left < 2 || hex(s[0]) < 0 || hex(s[1]) < 0)
                return false;
        return left == 2 || s[2] == sep;
}

/* net.ParseMAC: 6, 8 or 20 octets as 01:23:..., 01-23-... or 0123.4567... */
bool cli_valid_mac(const char *s)
{
        size_t len = strlen(s), n;

        if (len < 14)
                return false;
        if (s[2] == ':' || s[2] == '-') {
                if ((len + 1) % 3 != 0)
                        return false;
                n = (len + 1) / 3;
                if (n != 6 && n != 8 && n != 20)
                        return false;
                for (size_t i = 0, x = 0; i < n; i++, x += 3)
                        if (!hex2(s + x, len - x, s[2]))
                                return false;
                return true;
        }
        if (s[4] != '.' || (len + 1) % 5 != 0)
                return false;
        n = 2 * (len + 1) / 5;
        if (n != 6 && n != 8 && n != 20)
                return false;
        for (size_t x = 0; x < len; x += 5)
                if (!hex2(s + x, 2, 0) || !hex2(s + x + 2, len - x - 2, '.'))
                        return false;
        return true;
}

/* ---- checks docker makes as the flags are read ---- */

/* opts.ParseLink: "name" or "name:alias". */
int cli_check_link(const char *v, berth_error_t **err)
{
        const char *colon = strchr(v, ':');

        if (*v == '\0')
                return berth_fail(err, 0, "empty string specified for links");
        if (colon && strchr(colon + 1, ':'))
                return berth_fail(err, 0, "bad format for links: %s", v);
        return 0;
}

/* opts.ValidateIPAddress for --dns: the address as Go prints it (an
 * IPv4-mapped IPv6 address in dotted form). */
char *cli_dns_ip(const char *v, berth_error_t **err)
{
        _cleanup_free_ char *t = trim_space(v, strlen(v));
        unsigned char buf[16];
        char out[INET6_ADDRSTRLEN];
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

        if (inet_pton(AF_INET, t, buf) == 1)
                return xstrdup(inet_ntop(AF_INET, buf, out, sizeof(out)));
        if (inet_pton(AF_INET6, t, buf) != 1) {
                berth_fail(err, 0, "IP address is not correctly formatted: %s", v);
                return NULL;
        }
        if (memcmp(buf, mapped, sizeof(mapped)) == 0)
                return xstrdup(inet_ntop(AF_INET, buf + 12, out, sizeof(out)));
        return xstrdup(inet_ntop(AF_INET6, buf, out, sizeof(out)));
}

static bool label_ok(const char *s, size_t n)
{
        if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '-')
                        return false;
        return true;
}

/* opts.ValidateDNSSearch: "." or a domain of letters, digits and inner
 * hyphens; the value sent has its trailing dot dropped. */
char *cli_dns_search(const char *v, berth_error_t **err)
{
        const char *s = v, *e;
        size_t n = strlen(v);

        while (*s == ' ')
                s++;
        while (n > (size_t)(s - v) && v[n - 1] == ' ')
                n--;
        n -= (size_t)(s - v);
        if (n == 1 && *s == '.')
                return xstrdup(".");
        e = s + n;
        while (e > s && isspace((unsigned char)e[-1]))
                e--;
        if (e > s && e[-1] == '.')
                e--;
        bool letter = false;
        for (const char *p = s; p < s + n; p++)
                letter |= isalpha((unsigned char)*p) != 0;
        for (const char *p = s; letter && p <= e;) {
                const char *dot = memchr(p, '.', (size_t)(e - p));
                const char *end = dot ? dot : e;
                if (!label_ok(p, (size_t)(end - p)) || e - s >= 255)
                        letter = false;
                p = end + 1;
        }
        if (!letter) {
                berth_fail(err, 0, "%.*s is not a valid domain", (int)n, s);
                return NULL;
        }
        return xasprintf("%.*s", (int)(e - s), s);
}

/* opts.ValidateExtraHost: "name:ip" or "name=ip", [ip] allowed; what the
 * API takes is "name:ip". */
char *cli_extra_host(const char *v, berth_error_t **err)
{
        const char *sep = strchr(v, '=');
        _cleanup_free_ char *ip = NULL;

        if (sep == NULL)
                sep = strchr(v, ':');
        if (sep == NULL || sep == v || memchr(v, ':', (size_t)(sep - v))) {
                berth_fail(err, 0, "bad format for add-host: \"%s\"", v);
                return NULL;
        }
        ip = xstrdup(sep + 1);
        if (strcmp(ip, "host-gateway") != 0) {
                size_t n = strlen(ip);
                if (n > 2 && ip[0] == '[' && ip[n - 1] == ']') {
                        memmove(ip, ip + 1, n - 2);
                        ip[n - 2] = '\0';
                }
                _cleanup_free_ char *t = trim_space(ip, strlen(ip));
                if (!cli_valid_ip(t)) {
                        berth_fail(err, 0, "invalid IP address in add-host: \"%s\"", ip);
                        return NULL;
                }
        }
        return xasprintf("%.*s:%s", (int)(sep - v), v, ip);
}
