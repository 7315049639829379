/* The Service controller (kube.h: kube_services_init/reconcile/fini).
 *
 * On every pass, level-triggered, from the store alone:
 * - a Service that lacks a cluster IP or node ports gets them
 *   (kube_service_allocate; kube-apiserver would have at create);
 * - a Service with a selector gets an Endpoints object of the same name,
 *   written only when what it should hold changed (kube-endpoints.c);
 *   one without a selector is served from the Endpoints the user wrote;
 * - the services' rules (cluster IP and node ports to ready endpoints,
 *   net/nft-svc.h), synced when they differ from the last sync;
 * - the DNS names <svc>.<ns>.svc.cluster.local, <svc>.<ns>.svc and
 *   <svc>.<ns> on the pod network: the cluster IP, or for a headless
 *   Service every ready endpoint's IP (one record owner per IP:
 *   "svc:<ns>/<name>", "svc:<ns>/<name>@<ip>").
 * init makes cluster.local the pod network's DNS zone (misses are
 * NXDOMAIN at once) and routes the service range into the pod bridge, so
 * that the host's own connections to a cluster IP go through the nat
 * output hook and nothing addressed to the range leaves by the host's
 * default route; fini undoes all of it. */
#include "engine/engine.h"
#include "net/dns.h"
#include "net/netlink.h"
#include "net/nft-svc.h"
#include "orch/kube-service.h"
#include "util/log.h"
#include "util/util.h"
#include <arpa/inet.h>
#include <stdarg.h>
#include <time.h>

#define ROUTE_RECHECK_S 30              /* the bridge may have been made again since */

struct svc_ctl {
        struct in_addr net;             /* the service range */
        unsigned prefix;
        const char *net_id;             /* the pod network our zone and records are in; NULL: none yet */
        char *bridge;                   /* the pod network's, once known */
        int64_t routed_at;              /* when the route was last made; 0: not yet */
        json_t *rules;                  /* id -> service, as nft_svc_sync last took it; NULL: never */
        json_t *dns;                    /* owner -> [[name, ip], ...] as added */
        json_t *said;                   /* warnings given once: text -> true */
};

static struct svc_ctl *ctl_of(struct kube *k)
{
        return *kube_slot(k, KUBE_SLOT_SERVICES);
}

static int64_t now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec;
}

static json_t *spec_of(const json_t *svc)
{
        return json_object_get(svc, "spec");
}

static const char *spec_str(const json_t *svc, const char *field)
{
        return json_string_value(json_object_get(spec_of(svc), field));
}

static bool is_external_name(const json_t *svc)
{
        const char *t = spec_str(svc, "type");

        return t && strcmp(t, "ExternalName") == 0;
}

static bool wants_node_ports(const json_t *svc)
{
        const char *t = spec_str(svc, "type");

        return t && (strcmp(t, "NodePort") == 0 || strcmp(t, "LoadBalancer") == 0);
}

/* Remember a warning given; a daemon up for months forgets them all
 * now and then rather than keep every one. */
static void said(struct svc_ctl *c, const char *what)
{
        if (json_object_size(c->said) >= 1000)
                json_object_clear(c->said);
        json_object_set_new(c->said, what, json_true());
}

/* A warning logged once per distinct text, not on every pass. */
static void warn_once(struct svc_ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn_once(struct svc_ctl *c, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        if (json_object_get(c->said, msg))
                return;
        said(c, msg);
        berth_warn("services: %s", msg);
}

/* A Warning event on the Service, once per reason and text. */
static void event_once(struct kube *k, struct svc_ctl *c, const json_t *svc, const char *reason, const char *msg)
{
        _cleanup_free_ char *key = xasprintf("%s/%s %s %s", kube_meta_str(svc, "namespace"), kube_meta_str(svc, "name"), reason,
                                             msg);

        if (json_object_get(c->said, key))
                return;
        said(c, key);
        kube_event(k, svc, "Warning", reason, "%s", msg);
}

/* ---- the route of the service range ---- */

/* The pod network's bridge link, as the engine names it. */
static char *pod_bridge(struct kube *k)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *net = NULL;
        const char *br, *id;
        char *name = NULL;

        if (kube_engine(k) == NULL || engine_network_inspect(kube_engine(k), kube_pod_network(k), &net, &err) < 0)
                return NULL;
        br = json_string_value(json_object_get(json_object_get(net, "Options"), "com.docker.network.bridge.name"));
        id = json_string_value(json_object_get(net, "Id"));
        if (br && *br)
                name = xstrdup(br);
        else if (id)
                name = xasprintf("br-%.12s", id);
        json_decref(net);
        return name;
}

/* Made at start and again now and then (the bridge comes with the first
 * pod after a restart, and a network made again drops its routes). */
static void route_ensure(struct kube *k, struct svc_ctl *c)
{
        _cleanup_error_ berth_error_t *err = NULL;

        if (c->routed_at && now_s() - c->routed_at < ROUTE_RECHECK_S)
                return;
        if (c->bridge == NULL && (c->bridge = pod_bridge(k)) == NULL)
                return;
        if (nl_route_to_link_add(c->bridge, c->net, c->prefix, &err) < 0) {
                warn_once(c, "route of the service range %s: %s", kube_options(k)->service_cidr, err->msg);
                c->routed_at = 0;
                return;
        }
        c->routed_at = now_s();
}

/* ---- allocation ---- */

static bool lacks_allocation(const json_t *svc)
{
        const char *ip = spec_str(svc, "clusterIP");
        const json_t *p;
        size_t i;

        if (!json_is_object(spec_of(svc)) || is_external_name(svc))
                return false;
        if (ip == NULL || *ip == '\0' || !json_is_array(json_object_get(spec_of(svc), "clusterIPs")))
                return true;
        if (wants_node_ports(svc))
                json_array_foreach(json_object_get(spec_of(svc), "ports"), i, p)
                        if (json_integer_value(json_object_get(p, "nodePort")) == 0)
                                return true;
        return false;
}

/* Under kube_lock, so that no apply validates against what is about to
 * be taken; a write that lost a race is retried on the next pass. */
static bool allocate_one(struct kube *k, struct svc_ctl *c, const json_t *stale)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *svc = NULL;
        bool changed = false, written = false;

        kube_lock(k);
        if (kube_get(k, "Service", kube_meta_str(stale, "namespace"), kube_meta_str(stale, "name"), &svc, &err) == 0 &&
            kube_service_allocate(k, svc, &changed, &err) == 0 && changed)
                written = kube_update(k, svc, NULL, &err) == 0;
        kube_unlock(k);
        if (err && err->status != EAGAIN && err->status != ENOENT)
                event_once(k, c, stale, "FailedToAllocate", err->msg);
        json_decref(svc);
        return written;
}

/* Whether any Service was written. */
static bool allocate_missing(struct kube *k, struct svc_ctl *c, const json_t *svcs)
{
        const json_t *svc;
        bool written = false;
        size_t i;

        json_array_foreach((json_t *)svcs, i, svc)
                if (lacks_allocation(svc))
                        written |= allocate_one(k, c, svc);
        return written;
}

/* ---- Endpoints objects ---- */

static json_t *endpoints_labels(const json_t *svc)
{
        json_t *labels = json_deep_copy(json_object_get(json_object_get(svc, "metadata"), "labels"));

        if (!json_is_object(labels)) {
                json_decref(labels);
                labels = must(json_object());
        }
        if (kube_service_is_headless(svc))
                json_object_set_new(labels, "service.kubernetes.io/headless", json_string(""));
        return labels;
}

/* What the stored Endpoints lacks of what it should say. */
static bool endpoints_differ(const json_t *cur, const json_t *subsets, const json_t *labels, const json_t *refs)
{
        const json_t *meta = json_object_get(cur, "metadata"), *have = json_object_get(cur, "subsets");
        json_t *empty = must(json_array());
        bool differ = !json_equal(have ? have : empty, subsets) || !json_equal(json_object_get(meta, "labels"), labels) ||
                      !json_equal(json_object_get(meta, "ownerReferences"), refs);

        json_decref(empty);
        return differ;
}

static void endpoints_write(struct kube *k, struct svc_ctl *c, const json_t *svc, const json_t *subsets)
{
        _cleanup_error_ berth_error_t *err = NULL;
        const char *ns = kube_meta_str(svc, "namespace"), *name = kube_meta_str(svc, "name");
        json_t *cur = NULL, *labels = endpoints_labels(svc), *refs = must(json_array());
        json_t *meta;

        /* owned, so that the garbage collector takes it with its Service */
        json_array_append_new(refs, kube_owner_ref(svc));
        if (kube_get(k, "Endpoints", ns, name, &cur, &err) < 0) {
                berth_error_free(&err);
                cur = must(json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "Endpoints", "metadata",
                                     "name", name, "namespace", ns));
        } else if (!endpoints_differ(cur, subsets, labels, refs)) {
                json_decref(cur);
                json_decref(labels);
                json_decref(refs);
                return;
        }
        meta = json_object_get(cur, "metadata");
        json_object_set(meta, "labels", labels);
        json_object_set(meta, "ownerReferences", refs);
        if (json_array_size(subsets))
                json_object_set(cur, "subsets", (json_t *)subsets);
        else
                json_object_del(cur, "subsets");
        if ((json_object_get(meta, "uid") ? kube_update(k, cur, NULL, &err) : kube_create(k, cur, NULL, &err)) < 0 &&
            err->status != EAGAIN && err->status != EEXIST)
                warn_once(c, "endpoints %s/%s: %s", ns, name, err->msg);
        json_decref(cur);
        json_decref(labels);
        json_decref(refs);
}

/* What the Service's ports lead to: for a selector, what its pods say
 * (written to its Endpoints); else the Endpoints the user wrote. */
static json_t *service_subsets(struct kube *k, struct svc_ctl *c, const json_t *svc, const json_t *pods)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *ep = NULL, *subsets;

        if (json_object_size(json_object_get(spec_of(svc), "selector")) > 0) {
                subsets = kube_endpoints_subsets(svc, pods);
                endpoints_write(k, c, svc, subsets);
                return subsets;
        }
        if (kube_get(k, "Endpoints", kube_meta_str(svc, "namespace"), kube_meta_str(svc, "name"), &ep, &err) < 0)
                return must(json_array());
        subsets = json_object_get(ep, "subsets");
        subsets = json_is_array(subsets) ? json_incref(subsets) : must(json_array());
        json_decref(ep);
        return subsets;
}

/* ---- rules ---- */

static int proto_number(const char *proto)
{
        if (proto == NULL || strcmp(proto, "TCP") == 0)
                return IPPROTO_TCP;
        if (strcmp(proto, "UDP") == 0)
                return IPPROTO_UDP;
        if (strcmp(proto, "SCTP") == 0)
                return IPPROTO_SCTP;
        return 0;
}

/* A node port no earlier Service holds (two can hold one only when a
 * race slipped past validation): 0 when taken. */
static long long claim_node_port(struct kube *k, struct svc_ctl *c, json_t *claims, const json_t *svc,
                                 const json_t *port, const char *id)
{
        long long np = wants_node_ports(svc) ? json_integer_value(json_object_get(port, "nodePort")) : 0;
        _cleanup_free_ char *key = xasprintf("%s/%lld", json_string_value(json_object_get(port, "protocol")) ?: "TCP", np);
        const char *holder;
        _cleanup_free_ char *msg = NULL;

        if (np <= 0 || np > 65535)
                return 0;
        holder = json_string_value(json_object_get(claims, key));
        if (holder == NULL) {
                json_object_set_new(claims, key, json_string(id));
                return np;
        }
        msg = xasprintf("node port %s is taken by service %s", key, holder);
        event_once(k, c, svc, "PortAlreadyAllocated", msg);
        return 0;
}

/* One Service as nft_svc_sync takes it, as JSON to compare with the
 * last: {vip, affinity, timeout, ports: [{proto, port, nodePort, eps}]}. */
static void add_rules(struct kube *k, struct svc_ctl *c, json_t *rules, json_t *claims, const json_t *svc,
                      const json_t *subsets)
{
        const char *vip = kube_service_cluster_ip(svc), *aff = spec_str(svc, "sessionAffinity");
        _cleanup_free_ char *id = xasprintf("%s/%s", kube_meta_str(svc, "namespace"), kube_meta_str(svc, "name"));
        _cleanup_free_ char *vip_key = vip ? xasprintf("ip %s", vip) : NULL;
        json_int_t timeout = json_integer_value(json_object_get(
                json_object_get(json_object_get(spec_of(svc), "sessionAffinityConfig"), "clientIP"), "timeoutSeconds"));
        struct in_addr a;
        json_t *ports, *p;
        size_t i;

        if (vip == NULL || inet_pton(AF_INET, vip, &a) != 1)
                return;
        if (json_object_get(claims, vip_key)) {
                event_once(k, c, svc, "ClusterIPAlreadyAllocated", "its cluster IP is another service's");
                return;
        }
        json_object_set_new(claims, vip_key, json_string(id));
        ports = must(json_array());
        json_array_foreach(json_object_get(spec_of(svc), "ports"), i, p) {
                int proto = proto_number(json_string_value(json_object_get(p, "protocol")));
                json_int_t port = json_integer_value(json_object_get(p, "port"));
                if (proto == 0 || port <= 0 || port > 65535)
                        continue;
                json_array_append_new(ports, must(json_pack("{s:i, s:I, s:I, s:o}", "proto", proto, "port", port,
                                                            "nodePort", (json_int_t)claim_node_port(k, c, claims, svc, p, id),
                                                            "eps", kube_endpoints_targets(p, subsets))));
        }
        json_object_set_new(rules, id,
                            must(json_pack("{s:s, s:b, s:I, s:o}", "vip", vip, "affinity",
                                           aff && strcmp(aff, "ClientIP") == 0, "timeout",
                                           timeout > 0 ? timeout : (json_int_t)KUBE_AFFINITY_TIMEOUT_DEFAULT, "ports",
                                           ports)));
}

/* The JSON rules as nft_svc_sync's arrays, all freed by rules_free. */
struct nft_rules {
        struct nft_svc *svcs;
        size_t n;
};

static void rules_free(struct nft_rules *r)
{
        for (size_t i = 0; i < r->n; i++) {
                for (size_t j = 0; j < r->svcs[i].n_ports; j++)
                        free((void *)r->svcs[i].ports[j].eps);
                free((void *)r->svcs[i].ports);
        }
        free(r->svcs);
}

static void port_from_json(struct nft_svc_port *out, const json_t *p)
{
        const json_t *eps = json_object_get(p, "eps"), *e;
        struct nft_svc_endpoint *v = xcalloc(json_array_size(eps) + 1, sizeof(*v));
        size_t i, n = 0;

        json_array_foreach((json_t *)eps, i, e) {
                if (inet_pton(AF_INET, json_string_value(json_array_get(e, 0)) ?: "", &v[n].ip) != 1)
                        continue;
                v[n++].port = (uint16_t)json_integer_value(json_array_get(e, 1));
        }
        *out = (struct nft_svc_port){ .proto = (int)json_integer_value(json_object_get(p, "proto")),
                                      .port = (uint16_t)json_integer_value(json_object_get(p, "port")),
                                      .node_port = (uint16_t)json_integer_value(json_object_get(p, "nodePort")),
                                      .eps = v,
                                      .n_eps = n };
}

static void rules_from_json(struct nft_rules *r, const json_t *rules)
{
        const char *id;
        json_t *s;

        r->svcs = xcalloc(json_object_size(rules) + 1, sizeof(*r->svcs));
        r->n = 0;
        json_object_foreach((json_t *)rules, id, s) {
                const json_t *ports = json_object_get(s, "ports");
                struct nft_svc_port *pv = xcalloc(json_array_size(ports) + 1, sizeof(*pv));
                struct nft_svc *out = &r->svcs[r->n++];

                for (size_t i = 0; i < json_array_size(ports); i++)
                        port_from_json(&pv[i], json_array_get(ports, i));
                *out = (struct nft_svc){ .id = id,
                                         .affinity_client_ip = json_is_true(json_object_get(s, "affinity")),
                                         .affinity_timeout_s = (uint32_t)json_integer_value(json_object_get(s, "timeout")),
                                         .ports = pv,
                                         .n_ports = json_array_size(ports) };
                inet_pton(AF_INET, json_string_value(json_object_get(s, "vip")), &out->vip);
        }
}

/* Sync when the rules changed; a failed sync is tried again next pass. */
static void rules_sync(struct svc_ctl *c, json_t *rules)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct nft_rules r;

        if (c->rules && json_equal(c->rules, rules))
                return;
        rules_from_json(&r, rules);
        if (nft_svc_sync(r.svcs, r.n, &err) == 0) {
                json_decref(c->rules);
                c->rules = json_incref(rules);
        } else {
                warn_once(c, "%s", err->msg);
        }
        rules_free(&r);
}

/* ---- DNS ---- */

static void add_names(json_t *dns, const char *owner, const json_t *svc, const char *ip)
{
        const char *ns = kube_meta_str(svc, "namespace"), *name = kube_meta_str(svc, "name");
        json_t *list = must(json_array());

        char *names[] = { xasprintf("%s.%s.svc.%s", name, ns, KUBE_CLUSTER_DOMAIN), xasprintf("%s.%s.svc", name, ns),
                          xasprintf("%s.%s", name, ns) };

        /* the full name first: it is what a PTR query of the address gets */
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                json_array_append_new(list, must(json_pack("[s, s]", names[i], ip)));
                free(names[i]);
        }
        json_object_set_new(dns, owner, list);
}

static void add_dns(json_t *dns, const json_t *svc, const json_t *subsets)
{
        const char *ns = kube_meta_str(svc, "namespace"), *name = kube_meta_str(svc, "name"), *ip = kube_service_cluster_ip(svc);
        json_t *ips, *v;
        size_t i;

        if (is_external_name(svc))
                return;
        if (ip) {
                _cleanup_free_ char *owner = xasprintf("svc:%s/%s", ns, name);
                add_names(dns, owner, svc, ip);
                return;
        }
        if (!kube_service_is_headless(svc))
                return;
        ips = kube_endpoints_ips(subsets);
        json_array_foreach(ips, i, v) {
                _cleanup_free_ char *owner = xasprintf("svc:%s/%s@%s", ns, name, json_string_value(v));
                add_names(dns, owner, svc, json_string_value(v));
        }
        json_decref(ips);
}

static void dns_owner_add(struct dns_server *s, const char *network, const char *owner, const json_t *names)
{
        const json_t *n;
        size_t i;

        json_array_foreach((json_t *)names, i, n) {
                struct in_addr a;
                if (inet_pton(AF_INET, json_string_value(json_array_get(n, 1)), &a) == 1)
                        dns_record_add(s, network, owner, json_string_value(json_array_get(n, 0)), &a, NULL);
        }
}

/* Owners gone or changed lose their records; new or changed ones get
 * theirs. */
static void dns_sync(struct kube *k, struct svc_ctl *c, json_t *want)
{
        struct dns_server *s = kube_dns(k);
        const char *net = c->net_id, *owner;
        json_t *names, *had;
        void *tmp;

        if (s == NULL || net == NULL)
                return;
        json_object_foreach_safe(c->dns, tmp, owner, had) {
                if (json_equal(had, json_object_get(want, owner)))
                        continue;
                dns_records_remove(s, net, owner);
                json_object_del(c->dns, owner);
        }
        json_object_foreach(want, owner, names) {
                if (json_object_get(c->dns, owner))
                        continue;
                dns_owner_add(s, net, owner, names);
                json_object_set(c->dns, owner, names);
        }
}

/* ---- the controller ---- */

static int by_age(const void *x, const void *y)
{
        const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
        int r = strcmp(kube_meta_str(a, "creationTimestamp") ?: "", kube_meta_str(b, "creationTimestamp") ?: "");
        _cleanup_free_ char *ka = xasprintf("%s/%s", kube_meta_str(a, "namespace"), kube_meta_str(a, "name"));
        _cleanup_free_ char *kb = xasprintf("%s/%s", kube_meta_str(b, "namespace"), kube_meta_str(b, "name"));

        return r ? r : strcmp(ka, kb);
}

/* The Services, oldest first: the older one keeps what two claim. */
static json_t **services_by_age(const json_t *svcs, size_t *n)
{
        json_t **v;

        *n = json_array_size(svcs);
        v = xcalloc(*n + 1, sizeof(*v));
        for (size_t i = 0; i < *n; i++)
                v[i] = json_array_get(svcs, i);
        qsort(v, *n, sizeof(*v), by_age);
        return v;
}

/* The pod network comes with the first pod, and again if someone
 * removed it: the cluster zone and the names move to the new one, and
 * the route to its bridge is made again. */
static void network_follow(struct kube *k, struct svc_ctl *c)
{
        const char *id = kube_pod_network_id(k), *owner;
        struct dns_server *s = kube_dns(k);
        json_t *v;

        if (id == c->net_id)    /* a new network is a new string */
                return;
        if (s && c->net_id) {
                json_object_foreach(c->dns, owner, v) dns_records_remove(s, c->net_id, owner);
                dns_zone_set(s, c->net_id, NULL);
        }
        json_object_clear(c->dns);
        free(c->bridge);
        c->bridge = NULL;
        c->routed_at = 0;
        if (s && id)
                dns_zone_set(s, id, KUBE_CLUSTER_DOMAIN);
        c->net_id = id;
}

int kube_services_init(struct kube *k, berth_error_t **err)
{
        struct svc_ctl *c = xcalloc(1, sizeof(*c));

        if (kube_service_cidr(k, &c->net, &c->prefix, err) < 0) {
                free(c);
                return -EINVAL;
        }
        c->dns = must(json_object());
        c->said = must(json_object());
        *kube_slot(k, KUBE_SLOT_SERVICES) = c;
        network_follow(k, c);
        route_ensure(k, c);
        return 0;
}

void kube_services_reconcile(struct kube *k)
{
        struct svc_ctl *c = ctl_of(k);
        json_t *svcs, *pods, *rules, *dns, *claims, **v;
        size_t n;

        if (c == NULL)
                return;
        network_follow(k, c);
        route_ensure(k, c);
        svcs = kube_list(k, "Service", NULL, NULL);
        if (allocate_missing(k, c, svcs)) {
                json_decref(svcs);
                svcs = kube_list(k, "Service", NULL, NULL);
        }
        pods = kube_list(k, "Pod", NULL, NULL);
        rules = must(json_object());
        dns = must(json_object());
        claims = must(json_object());
        v = services_by_age(svcs, &n);
        for (size_t i = 0; i < n; i++) {
                json_t *subsets;
                if (is_external_name(v[i]))
                        continue;
                subsets = service_subsets(k, c, v[i], pods);
                add_rules(k, c, rules, claims, v[i], subsets);
                add_dns(dns, v[i], subsets);
                json_decref(subsets);
        }
        rules_sync(c, rules);
        dns_sync(k, c, dns);
        free(v);
        json_decref(claims);
        json_decref(dns);
        json_decref(rules);
        json_decref(pods);
        json_decref(svcs);
}

void kube_services_fini(struct kube *k)
{
        struct svc_ctl *c = ctl_of(k);
        _cleanup_error_ berth_error_t *err = NULL;
        const char *owner;
        json_t *v;

        if (c == NULL)
                return;
        if (kube_dns(k) && c->net_id) {
                json_object_foreach(c->dns, owner, v) dns_records_remove(kube_dns(k), c->net_id, owner);
                dns_zone_set(kube_dns(k), c->net_id, NULL);
        }
        if (nft_svc_fini(&err) < 0)
                berth_warn("services: %s", err->msg);
        berth_error_free(&err);
        if (c->bridge && nl_route_to_link_remove(c->bridge, c->net, c->prefix, &err) < 0)
                berth_warn("services: %s", err->msg);
        json_decref(c->rules);
        json_decref(c->dns);
        json_decref(c->said);
        free(c->bridge);
        free(c);
        *kube_slot(k, KUBE_SLOT_SERVICES) = NULL;
}
