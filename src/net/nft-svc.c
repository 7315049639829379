/* Kubernetes Services in nftables (nft-svc.h), after kube-proxy's
 * nftables mode.  The table:
 *
 *   set vips             every cluster IP
 *   map service_ips      vip . proto . port -> goto svc-<port>   (ports with endpoints)
 *   map nodeports        proto . port -> goto svc-<port>         (likewise)
 *   set idle_nodeports   proto . port                            (node ports with none)
 *   chain services       the two maps; jumped to from nat prerouting
 *                        (pods, the outside) and nat output (the host)
 *   chain svc-<port>     marks for masquerade, then picks an endpoint:
 *                        dnat to numgen random mod N map { i : addr . port },
 *                        or, with affinity, goto the endpoint a client is
 *                        pinned to, else numgen random mod N vmap
 *                        { i : goto ep-<port>/<endpoint> }; then the first
 *                        endpoint, for a packet that raced a sync
 *                        (random_rules)
 *   chain ep-<port>/<ep> (affinity only) remembers the client in set
 *                        aff-<port>/<ep>/<timeout> (dynamic, per-element
 *                        timeout), then DNATs to the endpoint
 *   chain postrouting    masquerade what a service chain marked
 *   chain filter-*       a new connection still addressed to a cluster IP
 *                        after DNAT (no endpoint, or a port the service
 *                        does not have), or to an idle node port, is
 *                        refused: TCP reset, ICMP port unreachable (from
 *                        the host: the send fails, EPERM)
 *
 * where <port> is "<id>/<proto>/<port>" and <ep> "<addr>/<port>".
 *
 * A sync renders the desired table as a sorted list of objects (sets,
 * chains with their rules, map and set elements) and sends the kernel
 * only the difference from the list it last applied, as one transaction
 * in five steps so that nothing is referenced before it exists or
 * deleted while still referenced: new sets and chains; flush of the
 * chains that change or go; deletion of elements that change or go; the
 * rules and new elements; deletion of the chains and sets that go.
 * Chains and sets that did not change are left alone, and with them the
 * clients an affinity set remembers.  The first sync, and any after a
 * failure, recreates the whole table in the same one transaction. */
#include "net/nft-svc.h"
#include "util/util.h"
#include <arpa/inet.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdarg.h>

#define TABLE "ip berth-svc"
#define ID_MAX 160
#define ID_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-"
#define AFFINITY_DEFAULT_S 10800
#define AFFINITY_MAX_S 86400           /* Kubernetes' validation */

/* What the table holds, as comparable text.  Sorted by kind, then name. */
enum obj_kind {
        OBJ_SET,                        /* an affinity set: name */
        OBJ_CHAIN,                      /* name, body: its rules, one a line */
        OBJ_VIP,                        /* element of vips: name */
        OBJ_SERVICE_IP,                 /* element of service_ips: name : body */
        OBJ_NODEPORT,                   /* element of nodeports: name : body */
        OBJ_IDLE_NODEPORT,              /* element of idle_nodeports: name */
};

/* The set or map each kind of element lives in. */
static const char *const element_of[] = {
        [OBJ_VIP] = "vips",
        [OBJ_SERVICE_IP] = "service_ips",
        [OBJ_NODEPORT] = "nodeports",
        [OBJ_IDLE_NODEPORT] = "idle_nodeports",
};

struct obj {
        enum obj_kind kind;
        char *name;
        char *body;                     /* NULL for sets and plain elements */
};

struct objs {
        struct obj *v;
        size_t n, cap;
};

/* All under svc_lock. */
static pthread_mutex_t svc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct objs svc_state;           /* what the table holds */
static bool svc_synced;                 /* the table exists and holds svc_state */

static void cmdf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cmdf(struct strbuf *b, const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        strbuf_adds(b, s);
}

static const char *proto_name(int proto)
{
        switch (proto) {
        case IPPROTO_TCP: return "tcp";
        case IPPROTO_UDP: return "udp";
        case IPPROTO_SCTP: return "sctp";
        }
        return NULL;
}

static const char *addr(struct in_addr a, char buf[static INET_ADDRSTRLEN])
{
        return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* ---- the object list ---- */

static void objs_add(struct objs *o, enum obj_kind kind, char *name, char *body)
{
        if (o->n == o->cap) {
                o->cap = o->cap ? 2 * o->cap : 64;
                o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
        }
        o->v[o->n++] = (struct obj){ kind, name, body };
}

static void objs_free(struct objs *o)
{
        for (size_t i = 0; i < o->n; i++) {
                free(o->v[i].name);
                free(o->v[i].body);
        }
        free(o->v);
        *o = (struct objs){ 0 };
}

static int obj_cmp(const void *a, const void *b)
{
        const struct obj *x = a, *y = b;

        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        return strcmp(x->name, y->name);
}

static bool same_body(const struct obj *a, const struct obj *b)
{
        if (a->body == NULL || b->body == NULL)
                return a->body == b->body;
        return strcmp(a->body, b->body) == 0;
}

/* ---- validation: nothing reaches the kernel that it could refuse ---- */

static int check_id(const char *id, berth_error_t **err)
{
        size_t len = id ? strlen(id) : 0;

        if (len == 0 || len > ID_MAX || strspn(id, ID_CHARS) != len) {
                _cleanup_free_ char *q = quote(id ? id : "");
                return berth_fail(err, EINVAL, "nftables: invalid service id %s", q);
        }
        return 0;
}

static int ep_cmp(const void *a, const void *b)
{
        const struct nft_svc_endpoint *x = a, *y = b;
        uint32_t xa = ntohl(x->ip.s_addr), ya = ntohl(y->ip.s_addr);

        if (xa != ya)
                return xa < ya ? -1 : 1;
        return (int)x->port - (int)y->port;
}

/* The endpoints in a canonical order (their order is no change). */
static struct nft_svc_endpoint *sorted_eps(const struct nft_svc_port *p)
{
        struct nft_svc_endpoint *eps = xcalloc(p->n_eps ? p->n_eps : 1, sizeof(*eps));

        if (p->n_eps)
                memcpy(eps, p->eps, p->n_eps * sizeof(*eps));
        qsort(eps, p->n_eps, sizeof(*eps), ep_cmp);
        return eps;
}

static int check_endpoints(const struct nft_svc *s, const struct nft_svc_port *p, berth_error_t **err)
{
        _cleanup_free_ struct nft_svc_endpoint *eps = sorted_eps(p);
        const char *proto = proto_name(p->proto);
        char a[INET_ADDRSTRLEN];

        for (size_t i = 0; i < p->n_eps; i++) {
                if (eps[i].ip.s_addr == htonl(INADDR_ANY) || eps[i].port == 0)
                        return berth_fail(err, EINVAL, "nftables: service %s: port %s/%u: invalid endpoint %s:%u",
                                          s->id, proto, p->port, addr(eps[i].ip, a), eps[i].port);
                if (i > 0 && ep_cmp(&eps[i - 1], &eps[i]) == 0)
                        return berth_fail(err, EINVAL, "nftables: service %s: port %s/%u: endpoint %s:%u twice",
                                          s->id, proto, p->port, addr(eps[i].ip, a), eps[i].port);
        }
        return 0;
}

static int check_port(const struct nft_svc *s, size_t i, berth_error_t **err)
{
        const struct nft_svc_port *p = &s->ports[i];
        const char *proto = proto_name(p->proto);

        if (proto == NULL)
                return berth_fail(err, EINVAL, "nftables: service %s: unsupported protocol %d", s->id, p->proto);
        if (p->port == 0)
                return berth_fail(err, EINVAL, "nftables: service %s: port %s/0", s->id, proto);
        for (size_t j = 0; j < i; j++)
                if (s->ports[j].proto == p->proto && s->ports[j].port == p->port)
                        return berth_fail(err, EINVAL, "nftables: service %s: port %s/%u twice", s->id, proto,
                                          p->port);
        return check_endpoints(s, p, err);
}

static int check_service(const struct nft_svc *s, berth_error_t **err)
{
        if (check_id(s->id, err) < 0)
                return -EINVAL;
        if (s->affinity_client_ip && s->affinity_timeout_s > AFFINITY_MAX_S)
                return berth_fail(err, EINVAL, "nftables: service %s: affinity timeout %u s is over %u s", s->id,
                                  s->affinity_timeout_s, AFFINITY_MAX_S);
        for (size_t i = 0; i < s->n_ports; i++)
                if (check_port(s, i, err) < 0)
                        return -EINVAL;
        return 0;
}

/* Something only one service may have: its id, its cluster IP, a node
 * port.  Sorted, two equal neighbours are a conflict. */
struct claim {
        const char *key;                /* its text, for the sort and the message */
        const char *id;
};

static int claim_cmp(const void *a, const void *b)
{
        return strcmp(((const struct claim *)a)->key, ((const struct claim *)b)->key);
}

static int check_claims(struct claim *c, size_t n, const char *what, berth_error_t **err)
{
        qsort(c, n, sizeof(*c), claim_cmp);
        for (size_t i = 1; i < n; i++) {
                if (strcmp(c[i - 1].key, c[i].key) != 0)
                        continue;
                if (strcmp(c[i - 1].id, c[i].id) == 0)
                        return berth_fail(err, EINVAL, "nftables: service %s: %s %s twice", c[i].id, what, c[i].key);
                return berth_fail(err, EINVAL, "nftables: services %s and %s have the same %s %s", c[i - 1].id,
                                  c[i].id, what, c[i].key);
        }
        return 0;
}

static void claims_free(struct claim *c, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free((char *)c[i].key);
        free(c);
}

static int check_unique(const struct nft_svc *svcs, size_t n, berth_error_t **err)
{
        size_t n_ports = 0, n_ids = 0, n_vips = 0, n_nodeports = 0;
        struct claim *ids, *vips, *nodeports;
        char a[INET_ADDRSTRLEN];
        int r;

        for (size_t i = 0; i < n; i++)
                n_ports += svcs[i].n_ports;
        ids = xcalloc(n + 1, sizeof(*ids));
        vips = xcalloc(n + 1, sizeof(*vips));
        nodeports = xcalloc(n_ports + 1, sizeof(*nodeports));
        for (size_t i = 0; i < n; i++) {
                const struct nft_svc *s = &svcs[i];

                ids[n_ids++] = (struct claim){ xstrdup(s->id), s->id };
                if (s->vip.s_addr != htonl(INADDR_ANY))
                        vips[n_vips++] = (struct claim){ xstrdup(addr(s->vip, a)), s->id };
                for (size_t j = 0; j < s->n_ports; j++)
                        if (s->ports[j].node_port)
                                nodeports[n_nodeports++] = (struct claim){
                                        xasprintf("%s/%u", proto_name(s->ports[j].proto), s->ports[j].node_port),
                                        s->id };
        }
        r = check_claims(ids, n_ids, "id", err);
        if (r == 0)
                r = check_claims(vips, n_vips, "cluster IP", err);
        if (r == 0)
                r = check_claims(nodeports, n_nodeports, "node port", err);
        claims_free(ids, n_ids);
        claims_free(vips, n_vips);
        claims_free(nodeports, n_nodeports);
        return r;
}

static int check_all(const struct nft_svc *svcs, size_t n, berth_error_t **err)
{
        for (size_t i = 0; i < n; i++)
                if (check_service(&svcs[i], err) < 0)
                        return -EINVAL;
        return check_unique(svcs, n, err);
}

/* ---- rendering the desired table ---- */

/* "<addr>/<port>", an endpoint's part of its chain's and set's names. */
static char *ep_name(const struct nft_svc_endpoint *ep)
{
        char a[INET_ADDRSTRLEN];

        return xasprintf("%s/%u", addr(ep->ip, a), ep->port);
}

static uint32_t affinity_timeout(const struct nft_svc *s)
{
        return s->affinity_timeout_s ? s->affinity_timeout_s : AFFINITY_DEFAULT_S;
}

/* An endpoint's set of pinned clients.  Its name carries the timeout:
 * a new timeout is a new set (the clients pinned under the old one are
 * forgotten), never a set changed under the rules that use it. */
static char *affinity_set(const struct nft_svc *s, const char *base, const char *epn)
{
        return xasprintf("aff-%s/%s/%u", base, epn, affinity_timeout(s));
}

/* With affinity, each endpoint has a set of the clients pinned to it
 * and a chain that (re)pins the client, then DNATs. */
static void render_endpoint(struct objs *o, const struct nft_svc *s, const char *base, const char *proto,
                            const struct nft_svc_endpoint *ep)
{
        _cleanup_free_ char *epn = ep_name(ep), *set = affinity_set(s, base, epn);
        char a[INET_ADDRSTRLEN];

        objs_add(o, OBJ_SET, xstrdup(set), NULL);
        objs_add(o, OBJ_CHAIN, xasprintf("ep-%s/%s", base, epn),
                 xasprintf("update @%s { ip saddr timeout %us }\n"
                           "meta l4proto %s dnat to %s:%u\n",
                           set, affinity_timeout(s), proto, addr(ep->ip, a), ep->port));
}

/* Pinned clients first, then a random endpoint's chain. */
/* Pinned clients first, then a random endpoint's chain. */
static void affinity_rules(struct strbuf *b, const struct nft_svc *s, const char *base,
                           const struct nft_svc_endpoint *eps, size_t n)
{
        _cleanup_free_ char *first = ep_name(&eps[0]);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *epn = ep_name(&eps[i]), *set = affinity_set(s, base, epn);
                cmdf(b, "ip saddr @%s goto ep-%s/%s\n", set, base, epn);
        }
        if (n > 1) {
                cmdf(b, "numgen random mod %zu vmap { ", n);
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *epn = ep_name(&eps[i]);
                        cmdf(b, "%s%zu : goto ep-%s/%s", i ? ", " : "", i, base, epn);
                }
                cmdf(b, " }\n");
        }
        /* see random_rules */
        cmdf(b, "goto ep-%s/%s\n", base, first);
}

/* dnat to numgen random mod N map { i : endpoint i }, and after it a
 * plain dnat to the first endpoint.  The map is anonymous, bound to its
 * rule: when a sync replaces the rule, a packet that began this chain
 * before the commit runs the old rule, but its map lookup may already
 * see the elements of the old map deactivated (the kernel reads the
 * generation again for set lookups) and miss.  The plain rule catches
 * that packet, so no connection is ever left undirected (and refused). */
static void random_rules(struct strbuf *b, const char *proto, const struct nft_svc_endpoint *eps, size_t n)
{
        char a[INET_ADDRSTRLEN];

        if (n > 1) {
                cmdf(b, "meta l4proto %s dnat to numgen random mod %zu map { ", proto, n);
                for (size_t i = 0; i < n; i++)
                        cmdf(b, "%s%zu : %s . %u", i ? ", " : "", i, addr(eps[i].ip, a), eps[i].port);
                cmdf(b, " }\n");
        }
        cmdf(b, "meta l4proto %s dnat to %s:%u\n", proto, addr(eps[0].ip, a), eps[0].port);
}

/* A service port with endpoints: its chain, the elements that lead to
 * it, its endpoints' chains and sets. */
static void render_port(struct objs *o, const struct nft_svc *s, const struct nft_svc_port *p)
{
        const char *proto = proto_name(p->proto);
        _cleanup_free_ char *base = xasprintf("%s/%s/%u", s->id, proto, p->port);
        _cleanup_free_ struct nft_svc_endpoint *eps = sorted_eps(p);
        struct strbuf b = { 0 };
        char a[INET_ADDRSTRLEN];

        if (p->n_eps == 0) {
                if (p->node_port)
                        objs_add(o, OBJ_IDLE_NODEPORT, xasprintf("%s . %u", proto, p->node_port), NULL);
                return;
        }
        cmdf(&b, "meta mark set meta mark or 0x%x\n", NFT_SVC_MASQ_MARK);
        if (s->affinity_client_ip) {
                affinity_rules(&b, s, base, eps, p->n_eps);
                for (size_t i = 0; i < p->n_eps; i++)
                        render_endpoint(o, s, base, proto, &eps[i]);
        } else {
                random_rules(&b, proto, eps, p->n_eps);
        }
        objs_add(o, OBJ_CHAIN, xasprintf("svc-%s", base), b.data);
        if (s->vip.s_addr != htonl(INADDR_ANY))
                objs_add(o, OBJ_SERVICE_IP, xasprintf("%s . %s . %u", addr(s->vip, a), proto, p->port),
                         xasprintf("goto svc-%s", base));
        if (p->node_port)
                objs_add(o, OBJ_NODEPORT, xasprintf("%s . %u", proto, p->node_port), xasprintf("goto svc-%s", base));
}

static void render(struct objs *o, const struct nft_svc *svcs, size_t n)
{
        char a[INET_ADDRSTRLEN];

        for (size_t i = 0; i < n; i++) {
                if (svcs[i].vip.s_addr != htonl(INADDR_ANY))
                        objs_add(o, OBJ_VIP, xstrdup(addr(svcs[i].vip, a)), NULL);
                for (size_t j = 0; j < svcs[i].n_ports; j++)
                        render_port(o, &svcs[i], &svcs[i].ports[j]);
        }
        if (o->n)
                qsort(o->v, o->n, sizeof(*o->v), obj_cmp);
}

/* ---- the commands ---- */

/* The fixed part, recreated from nothing (a stale table from a daemon
 * that died goes in the same transaction). */
static void table_cmds(struct strbuf *b)
{
        cmdf(b, "add table " TABLE "\ndelete table " TABLE "\ntable " TABLE " {\n");
        cmdf(b, "set vips { type ipv4_addr; }\n");
        cmdf(b, "map service_ips { type ipv4_addr . inet_proto . inet_service : verdict; }\n");
        cmdf(b, "map nodeports { type inet_proto . inet_service : verdict; }\n");
        cmdf(b, "set idle_nodeports { type inet_proto . inet_service; }\n");
        /* node ports on every local address, 127.0.0.1 too: the bridges
         * have route_localnet=1 (netlink.c), and loopback is masqueraded */
        cmdf(b, "chain services {\n"
                "ip daddr . meta l4proto . th dport vmap @service_ips\n"
                "fib daddr type local meta l4proto . th dport vmap @nodeports\n}\n");
        cmdf(b, "chain prerouting { type nat hook prerouting priority dstnat; policy accept;\njump services\n}\n");
        cmdf(b, "chain output { type nat hook output priority -100; policy accept;\njump services\n}\n");
        /* Without br_netfilter, a pod's reply to a client on its own
         * bridge would go straight back, unNATed: every service
         * connection is masqueraded, which also covers hairpin (a pod
         * reaching itself) and loopback. */
        cmdf(b, "chain postrouting { type nat hook postrouting priority srcnat; policy accept;\n"
                "meta mark and 0x%x == 0 return\n"
                "meta mark set meta mark xor 0x%x\n"
                "masquerade fully-random\n}\n",
             NFT_SVC_MASQ_MARK, NFT_SVC_MASQ_MARK);
        cmdf(b, "chain refuse {\nmeta l4proto tcp reject with tcp reset\nreject\n}\n");
        /* Still addressed to a cluster IP after DNAT: no endpoint.
         * Refused in prerouting, before routing sends it back out the
         * bridge it came in by: that costs an ICMP redirect, and the
         * redirect uses up the per-host ICMP allowance (one a second)
         * that the port unreachable needs. */
        cmdf(b, "chain filter-prerouting { type filter hook prerouting priority dstnat + 10; policy accept;\n"
                "ct state new ip daddr @vips jump refuse\n}\n");
        cmdf(b, "chain filter-output { type filter hook output priority -90; policy accept;\n"
                "ct state new ip daddr @vips jump refuse\n}\n");
        cmdf(b, "chain filter-input { type filter hook input priority filter; policy accept;\n"
                "ct state new meta l4proto . th dport @idle_nodeports jump refuse\n}\n");
        cmdf(b, "}\n");
}

/* A chain's body, one rule a line. */
static void rule_cmds(struct strbuf *b, const char *chain, const char *body)
{
        for (const char *l = body; *l;) {
                size_t len = strcspn(l, "\n");

                cmdf(b, "add rule " TABLE " %s %.*s\n", chain, (int)len, l);
                l += len + (l[len] == '\n');
        }
}

enum step { ADD_CONTAINERS, FLUSH_CHAINS, DELETE_ELEMENTS, ADD_CONTENT, DELETE_CONTAINERS };

/* What one object that differs (old NULL: new; new NULL: gone) needs
 * at this step. */
static void obj_cmds(struct strbuf *b, enum step step, const struct obj *old, const struct obj *new)
{
        const struct obj *o = new ? new : old;

        switch (o->kind) {
        case OBJ_SET:
                /* its definition never changes: sets only come and go */
                if (step == ADD_CONTAINERS && old == NULL)
                        cmdf(b, "add set " TABLE " %s { type ipv4_addr; flags dynamic,timeout; }\n", o->name);
                if (step == DELETE_CONTAINERS && new == NULL)
                        cmdf(b, "delete set " TABLE " %s\n", o->name);
                return;
        case OBJ_CHAIN:
                if (step == ADD_CONTAINERS && old == NULL)
                        cmdf(b, "add chain " TABLE " %s\n", o->name);
                if (step == FLUSH_CHAINS && old)
                        cmdf(b, "flush chain " TABLE " %s\n", o->name);
                if (step == ADD_CONTENT && new)
                        rule_cmds(b, o->name, new->body);
                if (step == DELETE_CONTAINERS && new == NULL)
                        cmdf(b, "delete chain " TABLE " %s\n", o->name);
                return;
        default:
                if (step == DELETE_ELEMENTS && old)
                        cmdf(b, "delete element " TABLE " %s { %s }\n", element_of[o->kind], o->name);
                if (step == ADD_CONTENT && new)
                        cmdf(b, "add element " TABLE " %s { %s%s%s }\n", element_of[o->kind], o->name,
                             new->body ? " : " : "", new->body ? new->body : "");
                return;
        }
}

/* Walk the two sorted lists together; each object that differs gets
 * its commands for this step. */
static void step_cmds(struct strbuf *b, enum step step, const struct objs *old, const struct objs *new)
{
        size_t i = 0, j = 0;

        while (i < old->n || j < new->n) {
                int c = i == old->n ? 1 : j == new->n ? -1 : obj_cmp(&old->v[i], &new->v[j]);

                if (c < 0) {
                        obj_cmds(b, step, &old->v[i++], NULL);
                } else if (c > 0) {
                        obj_cmds(b, step, NULL, &new->v[j++]);
                } else {
                        if (!same_body(&old->v[i], &new->v[j]))
                                obj_cmds(b, step, &old->v[i], &new->v[j]);
                        i++;
                        j++;
                }
        }
}

static void diff_cmds(struct strbuf *b, const struct objs *old, const struct objs *new)
{
        static const enum step steps[] = { ADD_CONTAINERS, FLUSH_CHAINS, DELETE_ELEMENTS, ADD_CONTENT,
                                           DELETE_CONTAINERS };

        for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
                step_cmds(b, steps[i], old, new);
}

/* ---- libnftables ---- */

/* Run one batch: 0, or the first line of nft's complaint in *why.  The
 * context lives for the batch only: kept, it would keep libnftables'
 * cache of the host's whole ruleset, about 2 MB (see nft.c). */
static int run_locked(const char *cmds, char **why, char **out)
{
        struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        const char *e, *msg;
        int r;

        /* buffered: errors come back to us, never to the daemon's stderr */
        if (ctx == NULL || nft_ctx_buffer_output(ctx) < 0 || nft_ctx_buffer_error(ctx) < 0) {
                if (ctx)
                        nft_ctx_free(ctx);
                *why = xstrdup("cannot make a libnftables context");
                return -1;
        }
        r = nft_run_cmd_from_buffer(ctx, cmds);
        if (out) {
                const char *o = nft_ctx_get_output_buffer(ctx);
                *out = xstrdup(o ? o : "");
        }
        if (r != 0) {
                e = nft_ctx_get_error_buffer(ctx);
                e = e ? e : "";
                msg = strstr(e, "Error: ");
                msg = msg ? msg + strlen("Error: ") : e;
                *why = xasprintf("%.*s", (int)strcspn(msg, "\n"), msg);
                if (**why == '\0') {
                        free(*why);
                        *why = xstrdup("failed, and said nothing");
                }
        }
        nft_ctx_free(ctx);
        return r == 0 ? 0 : -1;
}

/* Apply new: the difference from what the table holds, else (the first
 * time, or when that fails) the whole table. */
static int apply_locked(const struct objs *new, berth_error_t **err)
{
        static const struct objs none;
        _cleanup_free_ char *why = NULL;
        int r = -1;

        if (svc_synced) {
                struct strbuf b = { 0 };

                diff_cmds(&b, &svc_state, new);
                r = b.data ? run_locked(b.data, &why, NULL) : 0;
                free(b.data);
        }
        if (r < 0) {
                struct strbuf b = { 0 };

                svc_synced = false;
                free(why);
                why = NULL;
                table_cmds(&b);
                diff_cmds(&b, &none, new);
                r = run_locked(b.data, &why, NULL);
                free(b.data);
        }
        if (r < 0)
                return berth_fail(err, 0, "nftables: sync table %s: %s", TABLE, why);
        svc_synced = true;
        return 0;
}

int nft_svc_sync(const struct nft_svc *svcs, size_t n, berth_error_t **err)
{
        struct objs new = { 0 };
        int r;

        if (check_all(svcs, n, err) < 0)
                return -EINVAL;
        render(&new, svcs, n);
        pthread_mutex_lock(&svc_lock);
        r = apply_locked(&new, err);
        if (r == 0) {
                objs_free(&svc_state);
                svc_state = new;
        } else {
                objs_free(&new);
        }
        pthread_mutex_unlock(&svc_lock);
        return r;
}

int nft_svc_fini(berth_error_t **err)
{
        _cleanup_free_ char *why = NULL;
        int r;

        pthread_mutex_lock(&svc_lock);
        r = run_locked("add table " TABLE "\ndelete table " TABLE "\n", &why, NULL);
        svc_synced = false;
        objs_free(&svc_state);
        pthread_mutex_unlock(&svc_lock);
        if (why)
                return berth_fail(err, 0, "nftables: delete table %s: %s", TABLE, why);
        return r;
}

bool nft_svc_table_exists(void)
{
        _cleanup_free_ char *out = NULL, *why = NULL;
        bool found = false;

        pthread_mutex_lock(&svc_lock);
        if (run_locked("list tables ip", &why, &out) == 0)
                for (char *sp, *l = strtok_r(out, "\n", &sp); l && !found; l = strtok_r(NULL, "\n", &sp))
                        found = strcmp(l, "table " TABLE) == 0;
        pthread_mutex_unlock(&svc_lock);
        return found;
}
