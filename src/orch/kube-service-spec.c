/* Services on their way into the store: validation and defaults with
 * kube-apiserver's rules and messages, cluster IP and node port
 * allocation; and the service environment variables the kubelet gives
 * pods (kube-service.h).
 *
 * Allocation is random within the range, probing upwards from there, as
 * the apiserver's bitmap allocator does (a freed address is not handed
 * straight to the next Service, whose clients might still hold
 * connections to the old one).  What is free is what no stored Service
 * has and no recent allocation has reserved: the apply path allocates
 * before it stores, and one apply may carry several Services. */
#include "orch/kube-service.h"
#include "util/util.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/random.h>
#include <time.h>

#define RESERVE_MS 30000                /* long enough for any apply to store what it allocated */

/* ---- reading a Service ---- */

static json_t *spec_of(const json_t *svc)
{
        return json_object_get(svc, "spec");
}

static const char *spec_str(const json_t *svc, const char *field)
{
        return json_string_value(json_object_get(spec_of(svc), field));
}

static const char *svc_type(const json_t *svc)
{
        const char *t = spec_str(svc, "type");

        return t && *t ? t : "ClusterIP";
}

static bool wants_node_ports(const json_t *svc)
{
        return strcmp(svc_type(svc), "NodePort") == 0 || strcmp(svc_type(svc), "LoadBalancer") == 0;
}

/* spec.clusterIP, else spec.clusterIPs[0] ("" when neither). */
static const char *given_ip(const json_t *svc)
{
        const char *ip = spec_str(svc, "clusterIP");

        if (ip == NULL || *ip == '\0')
                ip = json_string_value(json_array_get(json_object_get(spec_of(svc), "clusterIPs"), 0));
        return ip ? ip : "";
}

const char *kube_service_cluster_ip(const json_t *svc)
{
        const char *ip = given_ip(svc);

        return *ip && strcmp(ip, "None") != 0 ? ip : NULL;
}

bool kube_service_is_headless(const json_t *svc)
{
        return strcmp(given_ip(svc), "None") == 0;
}

/* "ns/name": whose allocations are whose. */
static char *svc_key(const json_t *svc)
{
        const char *ns = kube_meta_str(svc, "namespace");

        return xasprintf("%s/%s", ns && *ns ? ns : "default", kube_meta_str(svc, "name") ?: "");
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t random_u32(void)
{
        uint32_t r = 0;

        if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
                r = (uint32_t)now_ms() * 2654435761u;
        return r;
}

/* ---- the range ---- */

int kube_service_cidr(struct kube *k, struct in_addr *net, unsigned *prefix, berth_error_t **err)
{
        const char *cidr = kube_options(k)->service_cidr;
        const char *slash = cidr ? strchr(cidr, '/') : NULL;
        _cleanup_free_ char *addr = slash ? xasprintf("%.*s", (int)(slash - cidr), cidr) : NULL;
        long long len = slash ? parse_ll(slash + 1) : -1;

        if (addr == NULL || inet_pton(AF_INET, addr, net) != 1 || len < 8 || len > 30)
                return berth_fail(err, EINVAL, "service range %s: not an IPv4 CIDR from /8 to /30",
                                  cidr ? cidr : "(none)");
        *prefix = (unsigned)len;
        net->s_addr &= htonl(~0u << (32 - *prefix));
        return 0;
}

/* Where an address is in the range: its offset, or -1 outside. */
static long range_offset(struct in_addr net, unsigned prefix, struct in_addr a)
{
        uint32_t off = ntohl(a.s_addr) - ntohl(net.s_addr);

        return off < (1u << (32 - prefix)) ? (long)off : -1;
}

/* ---- what is taken ---- */

struct reservation {
        char *key;                      /* "ns/name" */
        uint32_t ip;                    /* network order; 0: a node port */
        uint16_t node_port;
        int64_t until;
};

/* The apply path and the controller both allocate. */
static pthread_mutex_t res_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reservation *res;
static size_t n_res;

static void reservations_expire_locked(void)
{
        int64_t now = now_ms();
        size_t k = 0;

        for (size_t i = 0; i < n_res; i++) {
                if (res[i].until > now) {
                        res[k++] = res[i];
                        continue;
                }
                free(res[i].key);
        }
        n_res = k;
}

static void reserve_locked(const char *key, uint32_t ip, uint16_t node_port)
{
        res = xrealloc(res, (n_res + 1) * sizeof(*res));
        res[n_res++] = (struct reservation){ xstrdup(key), ip, node_port, now_ms() + RESERVE_MS };
}

struct taken {
        uint32_t *ips;                  /* network order */
        size_t n_ips;
        unsigned char ports[(KUBE_NODE_PORT_MAX - KUBE_NODE_PORT_MIN + 1 + 7) / 8];
};

static void taken_free(struct taken *t)
{
        free(t->ips);
}

static void take_ip_value(struct taken *t, uint32_t ip)
{
        t->ips = xrealloc(t->ips, (t->n_ips + 1) * sizeof(*t->ips));
        t->ips[t->n_ips++] = ip;
}

static void take_ip(struct taken *t, const char *ip)
{
        struct in_addr a;

        if (ip && inet_pton(AF_INET, ip, &a) == 1)
                take_ip_value(t, a.s_addr);
}

static void take_port(struct taken *t, long long port)
{
        if (port >= KUBE_NODE_PORT_MIN && port <= KUBE_NODE_PORT_MAX) {
                long i = port - KUBE_NODE_PORT_MIN;
                t->ports[i / 8] |= (unsigned char)(1u << (i % 8));
        }
}

static bool ip_taken(const struct taken *t, uint32_t ip)
{
        for (size_t i = 0; i < t->n_ips; i++)
                if (t->ips[i] == ip)
                        return true;
        return false;
}

static bool port_taken(const struct taken *t, long long port)
{
        long i = port - KUBE_NODE_PORT_MIN;

        return port >= KUBE_NODE_PORT_MIN && port <= KUBE_NODE_PORT_MAX && (t->ports[i / 8] & (1u << (i % 8)));
}

static void take_service(struct taken *t, const json_t *svc)
{
        size_t i;
        json_t *p;

        take_ip(t, kube_service_cluster_ip(svc));
        json_array_foreach(json_object_get(spec_of(svc), "ports"), i, p)
                take_port(t, json_integer_value(json_object_get(p, "nodePort")));
}

/* Everything but what belongs to key, res_lock held. */
static void taken_except_locked(struct kube *k, const char *key, struct taken *t)
{
        json_t *all = kube_list(k, "Service", NULL, NULL), *svc;
        size_t i;

        memset(t, 0, sizeof(*t));
        json_array_foreach(all, i, svc) {
                _cleanup_free_ char *other = svc_key(svc);
                if (strcmp(other, key) != 0)
                        take_service(t, svc);
        }
        json_decref(all);
        reservations_expire_locked();
        for (i = 0; i < n_res; i++) {
                if (strcmp(res[i].key, key) == 0)
                        continue;
                if (res[i].ip)
                        take_ip_value(t, res[i].ip);
                take_port(t, res[i].node_port);
        }
}

/* ---- validation ---- */

static int invalid(berth_error_t **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int invalid(berth_error_t **err, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        return berth_fail(err, EINVAL, "%s", msg);
}

static int check_type(const json_t *svc, berth_error_t **err)
{
        static const char *const types[] = { "ClusterIP", "ExternalName", "LoadBalancer", "NodePort" };
        const char *t = svc_type(svc);
        _cleanup_free_ char *q = NULL;

        for (size_t i = 0; i < ARRAY_SIZE(types); i++)
                if (strcmp(t, types[i]) == 0)
                        return 0;
        q = quote(t);
        return invalid(err, "spec.type: Unsupported value: %s: supported values: \"ClusterIP\", \"ExternalName\", "
                            "\"LoadBalancer\", \"NodePort\"",
                       q);
}

static const char *port_protocol(const json_t *p)
{
        const char *proto = json_string_value(json_object_get(p, "protocol"));

        return proto && *proto ? proto : "TCP";
}

/* An IANA service name, as a named targetPort must be: at most 15
 * lowercase letters, digits and inner hyphens, no "--", a letter. */
static bool iana_svc_name(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 15 || s[0] == '-' || s[len - 1] == '-' || strstr(s, "--") ||
            strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != len)
                return false;
        return strpbrk(s, "abcdefghijklmnopqrstuvwxyz") != NULL;
}

static int check_port_number(const json_t *v, const char *field, size_t i, berth_error_t **err)
{
        if (!json_is_integer(v))
                return invalid(err, "spec.ports[%zu].%s: Required value", i, field);
        if (json_integer_value(v) < 1 || json_integer_value(v) > 65535)
                return invalid(err, "spec.ports[%zu].%s: Invalid value: %lld: must be between 1 and 65535, inclusive", i,
                               field, (long long)json_integer_value(v));
        return 0;
}

static int check_target_port(const json_t *p, size_t i, berth_error_t **err)
{
        const json_t *tp = json_object_get(p, "targetPort");
        _cleanup_free_ char *q = NULL;

        if (tp == NULL || json_is_null(tp))
                return 0;
        if (json_is_integer(tp))
                return json_integer_value(tp) == 0 ? 0 : check_port_number(tp, "targetPort", i, err);
        if (json_is_string(tp) && (*json_string_value(tp) == '\0' || iana_svc_name(json_string_value(tp))))
                return 0;
        q = json_is_string(tp) ? quote(json_string_value(tp)) : xstrdup("(not a string or number)");
        return invalid(err, "spec.ports[%zu].targetPort: Invalid value: %s: must contain only alpha-numeric characters "
                            "(a-z, 0-9), and hyphens (-), at most 15, with at least one letter",
                       i, q);
}

/* One port: number, protocol, name (required with several), targetPort,
 * and no earlier port with its name or its number and protocol. */
static int check_port(const json_t *ports, size_t i, berth_error_t **err)
{
        const json_t *p = json_array_get(ports, i);
        const char *name = json_string_value(json_object_get(p, "name")), *proto = port_protocol(p);
        _cleanup_free_ char *q = NULL;

        if (check_port_number(json_object_get(p, "port"), "port", i, err) < 0)
                return -EINVAL;
        if (strcmp(proto, "TCP") != 0 && strcmp(proto, "UDP") != 0 && strcmp(proto, "SCTP") != 0) {
                q = quote(proto);
                return invalid(err, "spec.ports[%zu].protocol: Unsupported value: %s: supported values: \"SCTP\", "
                                    "\"TCP\", \"UDP\"",
                               i, q);
        }
        if (json_array_size(ports) > 1 && (name == NULL || *name == '\0'))
                return invalid(err, "spec.ports[%zu].name: Required value", i);
        for (size_t j = 0; j < i; j++) {
                const json_t *o = json_array_get(ports, j);
                const char *oname = json_string_value(json_object_get(o, "name"));

                if (name && *name && oname && strcmp(name, oname) == 0) {
                        q = quote(name);
                        return invalid(err, "spec.ports[%zu].name: Duplicate value: %s", i, q);
                }
                if (json_equal(json_object_get(o, "port"), json_object_get(p, "port")) &&
                    strcmp(port_protocol(o), proto) == 0)
                        return invalid(err, "spec.ports[%zu]: Duplicate value: \"%lld/%s\"", i,
                                       (long long)json_integer_value(json_object_get(p, "port")), proto);
        }
        return check_target_port(p, i, err);
}

static int check_node_port(const json_t *svc, const json_t *ports, size_t i, const struct taken *t,
                           berth_error_t **err)
{
        const json_t *p = json_array_get(ports, i), *np = json_object_get(p, "nodePort");
        long long port = json_integer_value(np);

        if (np == NULL || json_is_null(np) || (json_is_integer(np) && port == 0))
                return 0;
        if (!json_is_integer(np))
                return invalid(err, "spec.ports[%zu].nodePort: Invalid value: not a number", i);
        if (!wants_node_ports(svc))
                return invalid(err, "spec.ports[%zu].nodePort: Forbidden: may not be used when `type` is '%s'", i,
                               svc_type(svc));
        if (port < KUBE_NODE_PORT_MIN || port > KUBE_NODE_PORT_MAX)
                return invalid(err, "spec.ports[%zu].nodePort: Invalid value: %lld: provided port is not in the valid "
                                    "range. The range of valid ports is %d-%d",
                               i, port, KUBE_NODE_PORT_MIN, KUBE_NODE_PORT_MAX);
        for (size_t j = 0; j < i; j++) {
                const json_t *o = json_array_get(ports, j);
                if (json_integer_value(json_object_get(o, "nodePort")) == port &&
                    strcmp(port_protocol(o), port_protocol(p)) == 0)
                        return invalid(err, "spec.ports[%zu].nodePort: Duplicate value: %lld", i, port);
        }
        if (port_taken(t, port))
                return invalid(err, "spec.ports[%zu].nodePort: Invalid value: %lld: provided port is already allocated",
                               i, port);
        return 0;
}

static int check_ports(struct kube *k, const json_t *svc, berth_error_t **err)
{
        const json_t *ports = json_object_get(spec_of(svc), "ports");
        _cleanup_free_ char *key = svc_key(svc);
        struct taken t;
        int r = 0;

        if (ports && !json_is_array(ports))
                return invalid(err, "spec.ports: Invalid value: must be a list");
        if (json_array_size(ports) == 0 && !kube_service_is_headless(svc) && strcmp(svc_type(svc), "ExternalName") != 0)
                return invalid(err, "spec.ports: Required value");
        for (size_t i = 0; i < json_array_size(ports); i++)
                if (check_port(ports, i, err) < 0)
                        return -EINVAL;
        pthread_mutex_lock(&res_lock);
        taken_except_locked(k, key, &t);
        pthread_mutex_unlock(&res_lock);
        for (size_t i = 0; r == 0 && i < json_array_size(ports); i++)
                r = check_node_port(svc, ports, i, &t, err);
        taken_free(&t);
        return r;
}

/* A cluster IP given: a valid address in the range, free, and never a
 * change of the one the Service has. */
static int check_cluster_ip(struct kube *k, const json_t *svc, const json_t *old, berth_error_t **err)
{
        const char *ip = given_ip(svc), *had = old ? kube_service_cluster_ip(old) : NULL;
        _cleanup_free_ char *key = svc_key(svc), *q = quote(ip), *range = NULL;
        struct in_addr a, net;
        unsigned prefix;
        struct taken t;
        bool busy;

        if (*ip == '\0')
                return 0;
        if (old && (had || kube_service_is_headless(old)) && strcmp(ip, had ? had : "None") != 0)
                return invalid(err, "spec.clusterIPs[0]: Invalid value: []string{%s}: may not change once set", q);
        if (strcmp(ip, "None") == 0) {
                if (wants_node_ports(svc))
                        return invalid(err, "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for "
                                            "%s services",
                                       svc_type(svc));
                return 0;
        }
        if (inet_pton(AF_INET, ip, &a) != 1)
                return invalid(err, "spec.clusterIPs[0]: Invalid value: %s: must be a valid IP address, (e.g. 10.9.8.7 "
                                    "or 2001:db8::ffff)",
                               q);
        if (had && strcmp(ip, had) == 0)
                return 0;
        if (kube_service_cidr(k, &net, &prefix, err) < 0)
                return -EINVAL;
        range = xstrdup(kube_options(k)->service_cidr);
        long off = range_offset(net, prefix, a);
        if (off <= 0 || off >= (1L << (32 - prefix)) - 1)
                return invalid(err, "spec.clusterIPs: Invalid value: []string{%s}: failed to allocate IP %s: the "
                                    "provided IP (%s) is not in the valid range. The range of valid IPs is %s",
                               q, ip, ip, range);
        pthread_mutex_lock(&res_lock);
        taken_except_locked(k, key, &t);
        pthread_mutex_unlock(&res_lock);
        busy = ip_taken(&t, a.s_addr);
        taken_free(&t);
        if (busy)
                return invalid(err, "spec.clusterIPs: Invalid value: []string{%s}: failed to allocate IP %s: provided IP "
                                    "is already allocated",
                               q, ip);
        return 0;
}

static int check_affinity(const json_t *svc, berth_error_t **err)
{
        const char *aff = spec_str(svc, "sessionAffinity");
        const json_t *cfg = json_object_get(json_object_get(spec_of(svc), "sessionAffinityConfig"), "clientIP");
        const json_t *timeout = json_object_get(cfg, "timeoutSeconds");
        _cleanup_free_ char *q = NULL;

        if (aff && *aff && strcmp(aff, "None") != 0 && strcmp(aff, "ClientIP") != 0) {
                q = quote(aff);
                return invalid(err, "spec.sessionAffinity: Unsupported value: %s: supported values: \"ClientIP\", "
                                    "\"None\"",
                               q);
        }
        if (timeout && (!json_is_integer(timeout) || json_integer_value(timeout) <= 0 ||
                        json_integer_value(timeout) > KUBE_AFFINITY_TIMEOUT_MAX))
                return invalid(err, "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: %lld: must be "
                                    "greater than 0 and less than %d",
                               (long long)json_integer_value(timeout), KUBE_AFFINITY_TIMEOUT_MAX);
        return 0;
}

static int check_selector(const json_t *svc, berth_error_t **err)
{
        const json_t *sel = json_object_get(spec_of(svc), "selector");
        const char *key;
        json_t *v;

        if (sel == NULL || json_is_null(sel))
                return 0;
        if (!json_is_object(sel))
                return invalid(err, "spec.selector: Invalid value: must be a map of labels");
        json_object_foreach((json_t *)sel, key, v)
                if (!json_is_string(v))
                        return invalid(err, "spec.selector.%s: Invalid value: must be a string", key);
        return 0;
}

int kube_service_validate(struct kube *k, const json_t *svc, const json_t *old, berth_error_t **err)
{
        if (!json_is_object(spec_of(svc)))
                return invalid(err, "spec: Required value");
        if (check_type(svc, err) < 0 || check_selector(svc, err) < 0 || check_affinity(svc, err) < 0 ||
            check_cluster_ip(k, svc, old, err) < 0 || check_ports(k, svc, err) < 0)
                return -EINVAL;
        return 0;
}

/* ---- allocation ---- */

/* A free address of the range, not its first two nor its last. */
static int pick_ip(struct kube *k, const struct taken *t, struct in_addr *out, berth_error_t **err)
{
        struct in_addr net;
        unsigned prefix;
        uint32_t usable, start;

        if (kube_service_cidr(k, &net, &prefix, err) < 0)
                return -EINVAL;
        usable = (1u << (32 - prefix)) - 3;
        start = random_u32() % usable;
        for (uint32_t i = 0; i < usable; i++) {
                uint32_t ip = htonl(ntohl(net.s_addr) + 2 + (start + i) % usable);
                if (!ip_taken(t, ip)) {
                        out->s_addr = ip;
                        return 0;
                }
        }
        return berth_fail(err, ENOSPC, "Internal error occurred: failed to allocate a serviceIP: range is full");
}

static int pick_node_port(const struct taken *t, long long *out, berth_error_t **err)
{
        const long n = KUBE_NODE_PORT_MAX - KUBE_NODE_PORT_MIN + 1;
        long start = (long)(random_u32() % (uint32_t)n);

        for (long i = 0; i < n; i++) {
                long long port = KUBE_NODE_PORT_MIN + (start + i) % n;
                if (!port_taken(t, port)) {
                        *out = port;
                        return 0;
                }
        }
        return berth_fail(err, ENOSPC, "Internal error occurred: failed to allocate a nodePort: range is full");
}

static void set_cluster_ips(json_t *spec, const char *ip)
{
        json_object_set_new(spec, "clusterIP", json_string(ip));
        json_object_set_new(spec, "clusterIPs", must(json_pack("[s]", ip)));
}

/* clusterIPs (and the families) to match a clusterIP the user gave. */
static bool fill_ip_fields(json_t *spec, const char *ip)
{
        bool changed = false;

        if (!json_is_array(json_object_get(spec, "clusterIPs"))) {
                json_object_set_new(spec, "clusterIPs", must(json_pack("[s]", ip)));
                changed = true;
        }
        if (!json_object_get(spec, "clusterIP")) {
                json_object_set_new(spec, "clusterIP", json_string(ip));
                changed = true;
        }
        if (!json_object_get(spec, "ipFamilies")) {
                json_object_set_new(spec, "ipFamilies", must(json_pack("[s]", "IPv4")));
                json_object_set_new(spec, "ipFamilyPolicy", json_string("SingleStack"));
                changed = true;
        }
        return changed;
}

static int allocate_ip_locked(struct kube *k, json_t *svc, const char *key, struct taken *t, bool *changed,
                              berth_error_t **err)
{
        json_t *spec = spec_of(svc);
        char buf[INET_ADDRSTRLEN];
        struct in_addr a;

        if (strcmp(svc_type(svc), "ExternalName") == 0)
                return 0;
        if (kube_service_is_headless(svc) || kube_service_cluster_ip(svc)) {
                *changed |= fill_ip_fields(spec, given_ip(svc));
                return 0;
        }
        if (pick_ip(k, t, &a, err) < 0)
                return -1;
        inet_ntop(AF_INET, &a, buf, sizeof(buf));
        set_cluster_ips(spec, buf);
        fill_ip_fields(spec, buf);
        take_ip_value(t, a.s_addr);
        reserve_locked(key, a.s_addr, 0);
        *changed = true;
        return 0;
}

static int allocate_node_ports_locked(json_t *svc, const char *key, struct taken *t, bool *changed,
                                      berth_error_t **err)
{
        json_t *ports = json_object_get(spec_of(svc), "ports"), *p;
        size_t i;

        if (!wants_node_ports(svc))
                return 0;
        /* the Service's own given ports first, so none is handed out twice */
        json_array_foreach(ports, i, p) take_port(t, json_integer_value(json_object_get(p, "nodePort")));
        json_array_foreach(ports, i, p) {
                long long port = 0;
                if (json_integer_value(json_object_get(p, "nodePort")) != 0)
                        continue;
                if (pick_node_port(t, &port, err) < 0)
                        return -1;
                json_object_set_new(p, "nodePort", json_integer(port));
                take_port(t, port);
                reserve_locked(key, 0, (uint16_t)port);
                *changed = true;
        }
        return 0;
}

static int allocate(struct kube *k, json_t *svc, bool *changed, berth_error_t **err)
{
        _cleanup_free_ char *key = svc_key(svc);
        struct taken t;
        int r;

        *changed = false;
        if (!json_is_object(spec_of(svc)))
                return 0;
        pthread_mutex_lock(&res_lock);
        taken_except_locked(k, key, &t);
        r = allocate_ip_locked(k, svc, key, &t, changed, err);
        if (r == 0)
                r = allocate_node_ports_locked(svc, key, &t, changed, err);
        pthread_mutex_unlock(&res_lock);
        taken_free(&t);
        return r;
}

int kube_service_allocate(struct kube *k, json_t *svc, bool *changed, berth_error_t **err)
{
        return allocate(k, svc, changed, err);
}

static void default_ports(json_t *spec)
{
        json_t *p;
        size_t i;

        json_array_foreach(json_object_get(spec, "ports"), i, p) {
                const json_t *tp = json_object_get(p, "targetPort");
                if (!json_object_get(p, "protocol"))
                        json_object_set_new(p, "protocol", json_string("TCP"));
                if (tp == NULL || json_is_null(tp) || (json_is_integer(tp) && json_integer_value(tp) == 0) ||
                    (json_is_string(tp) && *json_string_value(tp) == '\0'))
                        json_object_set(p, "targetPort", json_object_get(p, "port"));
        }
}

static void default_affinity(json_t *spec)
{
        const char *aff = json_string_value(json_object_get(spec, "sessionAffinity"));
        json_t *cfg, *cip;

        if (aff == NULL || *aff == '\0') {
                json_object_set_new(spec, "sessionAffinity", json_string("None"));
                return;
        }
        if (strcmp(aff, "ClientIP") != 0)
                return;
        cfg = json_object_get(spec, "sessionAffinityConfig");
        if (!json_is_object(cfg))
                json_object_set_new(spec, "sessionAffinityConfig", cfg = must(json_object()));
        cip = json_object_get(cfg, "clientIP");
        if (!json_is_object(cip))
                json_object_set_new(cfg, "clientIP", cip = must(json_object()));
        if (!json_object_get(cip, "timeoutSeconds"))
                json_object_set_new(cip, "timeoutSeconds", json_integer(KUBE_AFFINITY_TIMEOUT_DEFAULT));
}

/* An update that does not say them keeps the address and node ports the
 * Service has (a port by its number and protocol), never new ones. */
static void keep_allocations(json_t *svc, const json_t *old)
{
        json_t *spec = spec_of(svc), *ospec = spec_of(old), *p, *o;
        size_t i, j;

        if (*given_ip(svc) == '\0' && *given_ip(old) != '\0') {
                json_object_set(spec, "clusterIP", json_object_get(ospec, "clusterIP"));
                json_object_set(spec, "clusterIPs", json_object_get(ospec, "clusterIPs"));
        }
        if (!wants_node_ports(svc))
                return;
        json_array_foreach(json_object_get(spec, "ports"), i, p) {
                if (json_integer_value(json_object_get(p, "nodePort")) != 0)
                        continue;
                json_array_foreach(json_object_get(ospec, "ports"), j, o)
                        if (json_equal(json_object_get(o, "port"), json_object_get(p, "port")) &&
                            strcmp(port_protocol(o), port_protocol(p)) == 0 &&
                            json_integer_value(json_object_get(o, "nodePort")) != 0) {
                                json_object_set(p, "nodePort", json_object_get(o, "nodePort"));
                                break;
                        }
        }
}

int kube_service_default(struct kube *k, json_t *svc, const json_t *old, berth_error_t **err)
{
        json_t *spec = spec_of(svc);
        bool changed;

        if (!json_is_object(spec))
                return 0;
        if (old && json_is_object(spec_of(old)))
                keep_allocations(svc, old);
        if (!json_object_get(spec, "type"))
                json_object_set_new(spec, "type", json_string("ClusterIP"));
        default_affinity(spec);
        default_ports(spec);
        return allocate(k, svc, &changed, err);
}

/* ---- environment variables ---- */

/* "my-svc" -> "MY_SVC" (the kubelet's makeEnvVariableName). */
static char *env_name(const char *s)
{
        char *n = xstrdup(s);

        for (char *p = n; *p; p++)
                *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        return n;
}

static void env_set(json_t *env, char *name, char *value)
{
        json_object_set_new(env, name, json_string(value));
        free(name);
        free(value);
}

/* Docker's link variables, which the kubelet makes too. */
static void link_vars(json_t *env, const char *prefix, const char *ip, const json_t *ports)
{
        const json_t *p;
        size_t i;

        json_array_foreach((json_t *)ports, i, p) {
                _cleanup_free_ char *lower = xstrdup(port_protocol(p)), *upper = env_name(port_protocol(p));
                long long port = json_integer_value(json_object_get(p, "port"));
                _cleanup_free_ char *pp = xasprintf("%s_PORT_%lld_%s", prefix, port, upper);

                for (char *c = lower; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
                if (i == 0)
                        env_set(env, xasprintf("%s_PORT", prefix), xasprintf("%s://%s:%lld", lower, ip, port));
                env_set(env, xstrdup(pp), xasprintf("%s://%s:%lld", lower, ip, port));
                env_set(env, xasprintf("%s_PROTO", pp), xstrdup(lower));
                env_set(env, xasprintf("%s_PORT", pp), xasprintf("%lld", port));
                env_set(env, xasprintf("%s_ADDR", pp), xstrdup(ip));
        }
}

static void service_vars(json_t *env, const json_t *svc)
{
        const char *ip = kube_service_cluster_ip(svc);
        const json_t *ports = json_object_get(spec_of(svc), "ports"), *p;
        _cleanup_free_ char *prefix = env_name(kube_meta_str(svc, "name") ?: "");
        size_t i;

        if (ip == NULL || json_array_size(ports) == 0)
                return;
        env_set(env, xasprintf("%s_SERVICE_HOST", prefix), xstrdup(ip));
        env_set(env, xasprintf("%s_SERVICE_PORT", prefix),
                xasprintf("%lld", (long long)json_integer_value(json_object_get(json_array_get(ports, 0), "port"))));
        json_array_foreach((json_t *)ports, i, p) {
                const char *name = json_string_value(json_object_get(p, "name"));
                _cleanup_free_ char *pn = name && *name ? env_name(name) : NULL;
                if (pn)
                        env_set(env, xasprintf("%s_SERVICE_PORT_%s", prefix, pn),
                                xasprintf("%lld", (long long)json_integer_value(json_object_get(p, "port"))));
        }
        link_vars(env, prefix, ip, ports);
}

json_t *kube_service_env(struct kube *k, const char *ns)
{
        json_t *env = must(json_object()), *all = kube_list(k, "Service", ns, NULL), *svc;
        size_t i;

        json_array_foreach(all, i, svc) service_vars(env, svc);
        json_decref(all);
        return env;
}
