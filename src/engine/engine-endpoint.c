/* A container's endpoints: its network namespace, a veth per network, its
 * addresses, published ports, resolver and /etc files (engine-network.h). */
#include "engine/engine-network.h"
#include "net/dns.h"
#include "net/netlink.h"

/* ---- modes ------------------------------------------------------------------ */

enum net_kind { NET_OWN, NET_NONE, NET_HOST, NET_CONTAINER };

static const char *mode_of(json_t *body)
{
        const char *m = json_string_value(json_object_get(json_object_get(body, "HostConfig"), "NetworkMode"));
        return m && *m ? m : "default";
}

static enum net_kind kind_of(json_t *body)
{
        const char *m = mode_of(body);

        if (json_is_true(json_object_get(body, "NetworkDisabled")) || strcmp(m, "none") == 0)
                return NET_NONE;
        if (strcmp(m, "host") == 0)
                return NET_HOST;
        if (str_has_prefix(m, "container:"))
                return NET_CONTAINER;
        return NET_OWN;
}

/* "default" is the default bridge */
static const char *mode_network(json_t *body)
{
        const char *m = mode_of(body);
        return strcmp(m, "default") == 0 ? "bridge" : m;
}

static json_t *endpoints_config(json_t *body)
{
        return json_object_get(json_object_get(body, "NetworkingConfig"), "EndpointsConfig");
}

bool ctr_net_bridged(struct ctr *c)
{
        return kind_of(c->body) == NET_OWN;
}

char *ctr_netns_path(struct engine *e, const char *id)
{
        return xasprintf("%s/netns/%s", e->exec_root, id);
}

/* ---- create ------------------------------------------------------------------ */

/* "02:42:ac:11:00:02"; mac stays as it was when s is not one. */
static bool mac_parse(const char *s, unsigned char mac[6])
{
        unsigned v[6];
        char end;

        if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6 ||
            strlen(s) != 17)
                return false;
        for (int i = 0; i < 6; i++)
                mac[i] = (unsigned char)v[i];
        return true;
}

static int check_mac(const char *s, berth_error_t **err)
{
        unsigned char mac[6];

        if (s == NULL || *s == '\0')
                return 0;
        if (!mac_parse(s, mac))
                return berth_fail(err, EINVAL, "invalid MAC address: %s", s);
        if (mac[0] & 1)
                return berth_fail(err, EINVAL, "invalid MAC address %s: a multicast address", s);
        return 0;
}

static int check_endpoint(struct network *n, json_t *cfg, berth_error_t **err)
{
        const char *ip = json_string_value(json_object_get(json_object_get(cfg, "IPAMConfig"), "IPv4Address"));
        const char *ip6 = json_string_value(json_object_get(json_object_get(cfg, "IPAMConfig"), "IPv6Address"));
        uint32_t a;

        if (ip6 && *ip6)
                return berth_fail(err, EINVAL, "IPv6 addresses are not available in Berth yet (--ip6 %s)", ip6);
        if (check_mac(json_string_value(json_object_get(cfg, "MacAddress")), err) < 0)
                return -1;
        if (n->is_default && ip && *ip)
                return berth_fail(err, EINVAL, "user specified IP address is supported on user defined networks only");
        if (n->is_default && json_array_size(json_object_get(cfg, "Aliases")) > 0)
                return berth_fail(err, EINVAL,
                                  "network-scoped alias is supported only for containers in user defined networks");
        if (ip && *ip) {
                if (ipam_addr_parse(ip, &a, err) < 0)
                        return -1;
                if (!ipam_contains(&n->ipam.subnet, a))
                        return berth_fail(err, EINVAL, "Invalid address %s: It does not belong to any of this "
                                                       "network's subnets",
                                          ip);
        }
        return 0;
}

/* The entry of EndpointsConfig for the network the mode names: under its
 * name, its id, or "default" (what the docker CLI sends). */
static json_t *primary_config(json_t *ec, const char *mode, struct network *n)
{
        json_t *cfg = json_object_get(ec, mode);

        if (cfg == NULL)
                cfg = json_object_get(ec, n->name);
        if (cfg == NULL)
                cfg = json_object_get(ec, n->id);
        if (cfg == NULL)
                cfg = json_object_get(ec, "default");
        return json_is_object(cfg) ? json_deep_copy(cfg) : json_object();
}

static int resolve_endpoints(struct engine *e, json_t *body, json_t *out, berth_error_t **err)
{
        const char *mode = mode_network(body);
        json_t *ec = endpoints_config(body), *cfg;
        const char *key;
        struct network *n = net_find_locked(e, mode);

        if (n == NULL)
                return berth_fail(err, ENOENT, "network %s not found", mode);
        if (n->bridge == NULL)
                return berth_fail(err, EINVAL, "network %s is of driver %s: use --network %s", n->name, n->driver,
                                  strcmp(n->driver, "host") == 0 ? "host" : "none");
        json_t *primary = primary_config(ec, mode, n);
        json_object_set_new(out, n->name, primary);
        if (check_endpoint(n, primary, err) < 0)
                return -1;
        json_object_foreach(ec, key, cfg) {
                struct network *other = net_find_locked(e, key);
                if (strcmp(key, "default") == 0 || strcmp(key, mode) == 0 || other == n)
                        continue;
                if (other == NULL)
                        return berth_fail(err, ENOENT, "network %s not found", key);
                if (other->bridge == NULL)
                        return berth_fail(err, EINVAL, "container cannot be connected to network %s of driver %s",
                                          other->name, other->driver);
                json_t *copy = json_is_object(cfg) ? json_deep_copy(cfg) : json_object();
                json_object_set_new(out, other->name, copy);
                if (check_endpoint(other, copy, err) < 0)
                        return -1;
        }
        return 0;
}

int ctr_net_prepare(struct engine *e, json_t *body, bool *bridged, berth_error_t **err)
{
        json_t *hc = json_object_get(body, "HostConfig");

        if (hc == NULL)
                json_object_set_new(body, "HostConfig", hc = json_object());
        if (json_object_get(hc, "NetworkMode") == NULL || json_string_length(json_object_get(hc, "NetworkMode")) == 0)
                json_object_set_new(hc, "NetworkMode", json_string("default"));
        *bridged = kind_of(body) == NET_OWN;
        if (!*bridged)
                return 0;
        if (check_mac(json_string_value(json_object_get(body, "MacAddress")), err) < 0)
                return -1;
        json_t *out = json_object();
        pthread_mutex_lock(&e->net->lock);
        int r = resolve_endpoints(e, body, out, err);
        pthread_mutex_unlock(&e->net->lock);
        if (r < 0) {
                json_decref(out);
                return -1;
        }
        json_t *nc = json_object_get(body, "NetworkingConfig");
        if (!json_is_object(nc))
                json_object_set_new(body, "NetworkingConfig", nc = json_object());
        json_object_set_new(nc, "EndpointsConfig", out);
        return 0;
}

/* ---- one endpoint --------------------------------------------------------------- */

/* What the start of one endpoint took from its network, to give back. */
struct lease {
        char *net_id, *net_name, *bridge;
        bool is_default;
        uint32_t ip, gateway;
        unsigned prefix, mtu;
};

static void lease_clear(struct lease *l)
{
        free(l->net_id);
        free(l->net_name);
        free(l->bridge);
}

static void lease_give_back(struct engine *e, const char *net_id, uint32_t ip)
{
        pthread_mutex_lock(&e->net->lock);
        struct network *n = net_find_locked(e, net_id);
        if (n && strcmp(n->id, net_id) == 0) {
                ipam_space_release(&n->ipam, ip);
                if (n->active > 0)
                        n->active--;
        }
        pthread_mutex_unlock(&e->net->lock);
}

/* The address (given, or the next free one) and the bridge up. */
static int lease_take(struct engine *e, const char *net_name, json_t *cfg, struct lease *l, berth_error_t **err)
{
        const char *want = json_string_value(json_object_get(json_object_get(cfg, "IPAMConfig"), "IPv4Address"));
        int r;

        pthread_mutex_lock(&e->net->lock);
        struct network *n = net_find_locked(e, net_name);
        if (n == NULL || n->bridge == NULL) {
                pthread_mutex_unlock(&e->net->lock);
                return berth_fail(err, ENOENT, "network %s not found", net_name);
        }
        if ((r = net_up_locked(e, n, err)) == 0) {
                if (want && *want)
                        r = ipam_addr_parse(want, &l->ip, err) < 0 ? -1 : ipam_space_take(&n->ipam, l->ip, err);
                else
                        r = ipam_space_alloc(&n->ipam, &l->ip, err);
        }
        if (r == 0) {
                n->active++;
                l->net_id = xstrdup(n->id);
                l->net_name = xstrdup(n->name);
                l->bridge = xstrdup(n->bridge);
                l->is_default = n->is_default;
                l->gateway = n->ipam.gateway;
                l->prefix = n->ipam.subnet.len;
                l->mtu = n->mtu;
        }
        pthread_mutex_unlock(&e->net->lock);
        return r;
}

static json_t *dns_names(struct ctr *c, json_t *cfg)
{
        json_t *names = json_pack("[s]", c->name), *a;
        const char *hostname = json_string_value(json_object_get(c->config, "hostname"));
        char shortid[13];
        size_t i;

        json_array_foreach(json_object_get(cfg, "Aliases"), i, a)
                if (json_is_string(a))
                        json_array_append(names, a);
        snprintf(shortid, sizeof(shortid), "%.12s", c->id);
        json_array_append_new(names, json_string(shortid));
        if (hostname && strcmp(hostname, shortid) != 0 && strcmp(hostname, c->name) != 0)
                json_array_append_new(names, json_string(hostname));
        return names;
}

static void dns_register(struct engine *e, struct ctr *c, json_t *ep)
{
        json_t *names = json_object_get(ep, "DNSNames"), *v;
        const char *net_id = json_string_value(json_object_get(ep, "NetworkID"));
        uint32_t ip;
        size_t i;

        if (json_is_true(json_object_get(ep, "DefaultBridge")) ||
            ipam_addr_parse(json_string_value(json_object_get(ep, "IPAddress")), &ip, NULL) < 0)
                return;
        struct in_addr a = ipam_in_addr(ip);
        json_array_foreach(names, i, v)
                dns_record_add(e->net->dns, net_id, c->id, json_string_value(v), &a, NULL);
}

/* The veth of network number idx ("bv" + the id's first 10 digits + idx):
 * named after the container, so that a daemon that died can find the
 * links of containers it no longer knows. */
static char *host_ifname(const char *id, unsigned idx)
{
        return xasprintf("bv%.10s%x", id, idx);
}

static int endpoint_up(struct engine *e, struct ctr *c, const char *net_name, json_t *cfg, unsigned idx,
                       json_t **out, berth_error_t **err)
{
        _cleanup_free_ char *netns = ctr_netns_path(e, c->id);
        _cleanup_free_ char *hostif = host_ifname(c->id, idx);
        _cleanup_free_ char *ifname = xasprintf("eth%u", idx);
        struct lease l = { 0 };

        if (lease_take(e, net_name, cfg, &l, err) < 0)
                return -1;
        struct nl_endpoint ep = { .bridge = l.bridge, .host_ifname = hostif, .netns_path = netns,
                                  .ifname = ifname, .mtu = l.mtu, .ip4 = ipam_in_addr(l.ip), .prefix4 = l.prefix,
                                  /* the first network's gateway is the default route */
                                  .gw4 = idx == 0 ? ipam_in_addr(l.gateway) : (struct in_addr){ 0 } };
        /* dockerd's MACs: 02:42 and the IPv4 address, unless --mac-address
         * (the endpoint's since API 1.44, the body's before) names one */
        unsigned char mac[6] = { 0x02, 0x42, l.ip >> 24, (l.ip >> 16) & 0xff, (l.ip >> 8) & 0xff, l.ip & 0xff };
        const char *want_mac = json_string_value(json_object_get(cfg, "MacAddress"));
        if ((want_mac == NULL || *want_mac == '\0') && idx == 0)
                want_mac = json_string_value(json_object_get(c->body, "MacAddress"));
        if (want_mac && *want_mac)
                mac_parse(want_mac, mac);
        memcpy(ep.mac, mac, sizeof(mac));
        if (nl_endpoint_add(&ep, err) < 0) {
                lease_give_back(e, l.net_id, l.ip);
                lease_clear(&l);
                return berth_error_wrap(err, "network %s", net_name);
        }
        _cleanup_free_ char *ip = ipam_addr_format(l.ip), *gw = ipam_addr_format(l.gateway);
        char epid[CONTAINER_ID_LEN + 1];
        random_hex_id(epid);
        _cleanup_free_ char *macs = xasprintf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
                                              mac[5]);
        json_t *ipam = json_object_get(cfg, "IPAMConfig");
        json_t *links = json_object_get(cfg, "Links");
        *out = json_pack("{s:O, s:O, s:O, s:s, s:n, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:o, s:s, s:s, s:b}",
                         "IPAMConfig", ipam ? ipam : json_null(), "Links", links ? links : json_null(), "Aliases",
                         json_object_get(cfg, "Aliases") ? json_object_get(cfg, "Aliases") : json_null(),
                         "MacAddress", macs, "DriverOpts", "NetworkID", l.net_id, "EndpointID", epid, "Gateway", gw,
                         "IPAddress", ip, "IPPrefixLen", (int)l.prefix, "IPv6Gateway", "", "GlobalIPv6Address", "",
                         "GlobalIPv6PrefixLen", 0, "DNSNames", dns_names(c, cfg), "HostIf", hostif, "Interface",
                         ifname, "DefaultBridge", l.is_default);
        dns_register(e, c, *out);
        lease_clear(&l);
        return 0;
}

/* Deleting a link waits for the kernel's RCU grace periods (30 ms here,
 * measured): too long for the path of an exit or an rm, which a `run
 * --rm` client waits for.  The namespace is gone by then, which already
 * detaches the pair; a thread deletes the host side for good. */
static void *delete_links(void *arg)
{
        char **names = arg;

        for (char **n = names; *n; n++) {
                _cleanup_error_ berth_error_t *err = NULL;
                if (nl_endpoint_remove(*n, &err) < 0)
                        berth_warn("%s", err->msg);
        }
        cleanup_strvp(&names);
        return NULL;
}

static void delete_links_later(char **names)
{
        pthread_attr_t attr;
        pthread_t tid;

        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&tid, &attr, delete_links, names) != 0)
                delete_links(names);
        pthread_attr_destroy(&attr);
}

/* The address back, the names gone; the link's name into *links. */
static void endpoint_down(struct engine *e, const char *id, json_t *ep, char ***links, size_t *n_links)
{
        const char *hostif = json_string_value(json_object_get(ep, "HostIf"));
        const char *net_id = json_string_value(json_object_get(ep, "NetworkID"));
        uint32_t ip;

        if (hostif) {
                *links = xrealloc(*links, (*n_links + 2) * sizeof(char *));
                (*links)[(*n_links)++] = xstrdup(hostif);
                (*links)[*n_links] = NULL;
        }
        if (net_id && ipam_addr_parse(json_string_value(json_object_get(ep, "IPAddress")), &ip, NULL) == 0)
                lease_give_back(e, net_id, ip);
        if (net_id)
                dns_records_remove(e->net->dns, net_id, id);
}

/* ---- the resolver ------------------------------------------------------------------ */

/* Containers on a user-defined network ask 127.0.0.11, which knows the
 * names of every network they are on; the default bridge has no names,
 * as dockerd's. */
static bool wants_resolver(json_t *state)
{
        json_t *ep;
        const char *key;

        json_object_foreach(json_object_get(state, "Networks"), key, ep)
                if (!json_is_true(json_object_get(ep, "DefaultBridge")))
                        return true;
        return false;
}

static int resolver_attach(struct engine *e, struct ctr *c, json_t *state, berth_error_t **err)
{
        json_t *nets = json_object_get(state, "Networks"), *ep, *dns = json_object_get(json_object_get(c->body,
                                                                                                      "HostConfig"),
                                                                                      "Dns");
        _cleanup_free_ const char **ids = xcalloc(json_object_size(nets) + 1, sizeof(char *));
        _cleanup_free_ const char **ups = xcalloc(json_array_size(dns) + 1, sizeof(char *));
        _cleanup_free_ char *netns = ctr_netns_path(e, c->id);
        const char *key;
        size_t n = 0, n_up = 0, i;
        json_t *v;

        if (!wants_resolver(state)) {
                dns_client_detach(e->net->dns, c->id);
                return 0;
        }
        json_object_foreach(nets, key, ep)
                ids[n++] = json_string_value(json_object_get(ep, "NetworkID"));
        json_array_foreach(dns, i, v)
                if (json_is_string(v))
                        ups[n_up++] = json_string_value(v);
        struct dns_client dc = { .id = c->id, .netns_path = netns, .networks = ids, .n_networks = n,
                                 .upstreams = ups, .n_upstreams = n_up };
        return dns_client_attach(e->net->dns, &dc, err);
}

/* ---- start and exit -------------------------------------------------------------------- */

static uint32_t first_ip(json_t *state)
{
        json_t *ep;
        const char *key;
        uint32_t ip = 0;

        json_object_foreach(json_object_get(state, "Networks"), key, ep) {
                if (json_integer_value(json_object_get(ep, "Index")) == 0 &&
                    ipam_addr_parse(json_string_value(json_object_get(ep, "IPAddress")), &ip, NULL) == 0)
                        return ip;
        }
        return 0;
}

static void release_state(struct engine *e, const char *id, json_t *state)
{
        _cleanup_free_ char *netns = ctr_netns_path(e, id);
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *ep;
        const char *key;

        char **links = NULL;
        size_t n_links = 0;

        if (state) {
                ports_unpublish(e, id, json_object_get(state, "Ports"), first_ip(state));
                dns_client_detach(e->net->dns, id);
                json_object_foreach(json_object_get(state, "Networks"), key, ep)
                        endpoint_down(e, id, ep, &links, &n_links);
        }
        if (netns_remove(netns, &err) < 0)
                berth_warn("container %.12s: %s", id, err->msg);
        if (links)
                delete_links_later(links);
}

/* Networks in order: the mode's first (its eth0 and default route), then
 * the others as EndpointsConfig lists them. */
static int endpoints_up(struct engine *e, struct ctr *c, json_t *state, berth_error_t **err)
{
        json_t *ec = endpoints_config(c->body), *cfg, *nets = json_object_get(state, "Networks");
        const char *first = mode_network(c->body), *key;
        unsigned idx = 0;

        json_t *pc = json_object_get(ec, first);
        if (pc == NULL) {
                /* the mode's network may go by its id; or it was disconnected */
                pthread_mutex_lock(&e->net->lock);
                struct network *n = net_find_locked(e, first);
                first = n ? n->name : first;
                pthread_mutex_unlock(&e->net->lock);
                pc = json_object_get(ec, first);
        }
        if (pc) {
                json_t *ep;
                _cleanup_free_ char *name = xstrdup(first);
                if (endpoint_up(e, c, name, pc, idx, &ep, err) < 0)
                        return -1;
                json_object_set_new(ep, "Index", json_integer(idx++));
                json_object_set_new(nets, name, ep);
        }
        json_object_foreach(ec, key, cfg) {
                json_t *ep;
                if (json_object_get(nets, key))
                        continue;
                if (endpoint_up(e, c, key, cfg, idx, &ep, err) < 0)
                        return -1;
                json_object_set_new(ep, "Index", json_integer(idx++));
                json_object_set_new(nets, key, ep);
        }
        return 0;
}

int ctr_net_up(struct engine *e, struct ctr *c, berth_error_t **err)
{
        _cleanup_free_ char *netns = ctr_netns_path(e, c->id);
        json_t *bound = NULL;

        if (!ctr_net_bridged(c))
                return 0;
        if (c->net) {
                /* left by a start that did not finish */
                release_state(e, c->id, c->net);
                json_decref(c->net);
                c->net = NULL;
        }
        netns_remove(netns, NULL);
        if (netns_create(netns, err) < 0)
                return berth_error_wrap(err, "container %.12s: network namespace", c->id);
        json_t *state = json_pack("{s:s, s:{}, s:{}}", "SandboxKey", netns, "Networks", "Ports");
        int r = endpoints_up(e, c, state, err);
        if (r == 0 && json_object_size(json_object_get(state, "Networks")) > 0) {
                json_t *wanted = ports_wanted(c);
                r = ports_publish(e, c->id, wanted, first_ip(state), &bound, err);
                json_decref(wanted);
                if (r == 0)
                        json_object_set_new(state, "Ports", bound);
        }
        if (r == 0)
                r = resolver_attach(e, c, state, err);
        if (r < 0) {
                release_state(e, c->id, state);
                json_decref(state);
                return -1;
        }
        c->net = state;
        if (ctr_write_etc(e, c, err) < 0) {
                c->net = NULL;
                release_state(e, c->id, state);
                json_decref(state);
                return -1;
        }
        return 0;
}

/* The exit's monitor and a removal both call this: the second waits
 * until the first has given the endpoints back, so that a removed
 * container holds no address and its network can go at once. */
void ctr_net_down(struct engine *e, struct ctr *c)
{
        pthread_mutex_lock(&c->lock);
        while (c->net_releasing)
                pthread_cond_wait(&c->changed, &c->lock);
        json_t *state = c->net;
        bool bridged = ctr_net_bridged(c);
        c->net = NULL;
        if (state)
                engine_db_save(e, c, NULL);
        c->net_releasing = true;
        pthread_mutex_unlock(&c->lock);
        if (state || bridged)
                release_state(e, c->id, state);
        json_decref(state);
        pthread_mutex_lock(&c->lock);
        c->net_releasing = false;
        pthread_cond_broadcast(&c->changed);
        pthread_mutex_unlock(&c->lock);
}

void ctr_net_restore(struct engine *e, struct ctr *c, bool running)
{
        json_t *state = c->net, *ep;
        const char *key;

        if (state == NULL)
                return;
        if (!running) {
                ctr_net_down(e, c);
                return;
        }
        json_object_foreach(json_object_get(state, "Networks"), key, ep) {
                _cleanup_error_ berth_error_t *err = NULL;
                uint32_t ip;
                pthread_mutex_lock(&e->net->lock);
                struct network *n = net_find_locked(e, json_string_value(json_object_get(ep, "NetworkID")) ?: "");
                if (n && n->bridge && net_up_locked(e, n, &err) == 0 &&
                    ipam_addr_parse(json_string_value(json_object_get(ep, "IPAddress")), &ip, NULL) == 0 &&
                    ipam_space_take(&n->ipam, ip, &err) == 0)
                        n->active++;
                else
                        berth_warn("container %.12s: network %s: %s", c->id, key, err ? err->msg : "gone");
                pthread_mutex_unlock(&e->net->lock);
                dns_register(e, c, ep);
        }
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *bound = NULL, *had = json_object_get(state, "Ports");
        if (json_object_size(had) > 0) {
                if (ports_publish(e, c->id, had, first_ip(state), &bound, &err) < 0)
                        berth_warn("container %.12s: published ports: %s", c->id, err->msg);
                json_decref(bound);
        }
        berth_error_free(&err);
        if (resolver_attach(e, c, state, &err) < 0)
                berth_warn("container %.12s: resolver: %s", c->id, err->msg);
}

void ctr_net_renamed(struct engine *e, struct ctr *c)
{
        json_t *ep;
        const char *key;

        pthread_mutex_lock(&c->lock);
        json_object_foreach(json_object_get(c->net, "Networks"), key, ep) {
                const char *net_id = json_string_value(json_object_get(ep, "NetworkID"));
                if (net_id)
                        dns_records_remove(e->net->dns, net_id, c->id);
                json_object_set_new(ep, "DNSNames", dns_names(c, json_object_get(endpoints_config(c->body), key)));
                dns_register(e, c, ep);
        }
        if (c->net)
                engine_db_save(e, c, NULL);
        pthread_mutex_unlock(&c->lock);
}

/* ---- connect, disconnect ------------------------------------------------------------------ */

static bool running(struct ctr *c)
{
        return c->status == CTR_RUNNING || c->status == CTR_PAUSED;
}

static unsigned next_index(json_t *state)
{
        unsigned idx = 0;
        json_t *ep;
        const char *key;

        json_object_foreach(json_object_get(state, "Networks"), key, ep)
                if ((unsigned)json_integer_value(json_object_get(ep, "Index")) >= idx)
                        idx = (unsigned)json_integer_value(json_object_get(ep, "Index")) + 1;
        return idx;
}

static int connect_locked(struct engine *e, struct ctr *c, const char *net_name, json_t *cfg, berth_error_t **err)
{
        json_t *ec = endpoints_config(c->body);
        enum net_kind k = kind_of(c->body);

        if (k == NET_HOST)
                return berth_fail(err, EACCES, "container cannot be disconnected from host network or connected to "
                                               "host network");
        if (k == NET_NONE || k == NET_CONTAINER)
                return berth_fail(err, EINVAL, "container sharing network namespace with another container or host "
                                               "cannot be connected to any other network");
        if (json_object_get(ec, net_name))
                return berth_fail(err, EEXIST, "endpoint with name %s already exists in network %s", c->name,
                                  net_name);
        pthread_mutex_lock(&e->net->lock);
        struct network *n = net_find_locked(e, net_name);
        int r = n ? check_endpoint(n, cfg, err) : berth_fail(err, ENOENT, "network %s not found", net_name);
        pthread_mutex_unlock(&e->net->lock);
        if (r < 0)
                return -1;
        if (running(c) && c->net) {
                json_t *ep;
                unsigned idx = next_index(c->net);
                if (endpoint_up(e, c, net_name, cfg, idx, &ep, err) < 0)
                        return -1;
                json_object_set_new(ep, "Index", json_integer(idx));
                json_object_set_new(json_object_get(c->net, "Networks"), net_name, ep);
                _cleanup_error_ berth_error_t *e2 = NULL;
                if (resolver_attach(e, c, c->net, &e2) < 0 || ctr_write_etc(e, c, &e2) < 0)
                        berth_warn("container %.12s: connect %s: %s", c->id, net_name, e2->msg);
        }
        json_t *nc = json_object_get(c->body, "NetworkingConfig");
        if (!json_is_object(nc))
                json_object_set_new(c->body, "NetworkingConfig", nc = json_object());
        if (!json_is_object(ec))
                json_object_set_new(nc, "EndpointsConfig", ec = json_object());
        json_object_set(ec, net_name, cfg);
        return engine_db_save(e, c, err);
}

int ctr_net_connect(struct engine *e, struct ctr *c, const char *net_name, json_t *endpoint_config,
                    berth_error_t **err)
{
        json_t *cfg = json_is_object(endpoint_config) ? json_deep_copy(endpoint_config) : json_object();

        pthread_mutex_lock(&c->lock);
        int r = connect_locked(e, c, net_name, cfg, err);
        pthread_mutex_unlock(&c->lock);
        json_decref(cfg);
        return r;
}

static int disconnect_locked(struct engine *e, struct ctr *c, const char *net_name, bool force, berth_error_t **err)
{
        json_t *ec = endpoints_config(c->body);
        json_t *ep = json_object_get(json_object_get(c->net, "Networks"), net_name);

        if (kind_of(c->body) == NET_HOST)
                return berth_fail(err, EACCES, "container cannot be disconnected from host network or connected to "
                                               "host network");
        if (json_object_get(ec, net_name) == NULL && ep == NULL && !force)
                return berth_fail(err, EINVAL, "container %s is not connected to network %s", c->id, net_name);
        if (ep) {
                json_incref(ep);
                if (json_integer_value(json_object_get(ep, "Index")) == 0) {
                        ports_unpublish(e, c->id, json_object_get(c->net, "Ports"), first_ip(c->net));
                        json_object_set_new(c->net, "Ports", json_object());
                }
                json_object_del(json_object_get(c->net, "Networks"), net_name);
                char **links = NULL;
                size_t n_links = 0;
                endpoint_down(e, c->id, ep, &links, &n_links);
                /* the container lives on: its link must go now */
                delete_links(links ? links : xcalloc(1, sizeof(char *)));
                json_decref(ep);
                _cleanup_error_ berth_error_t *e2 = NULL;
                if (resolver_attach(e, c, c->net, &e2) < 0 || ctr_write_etc(e, c, &e2) < 0)
                        berth_warn("container %.12s: disconnect %s: %s", c->id, net_name, e2->msg);
        }
        json_object_del(ec, net_name);
        return engine_db_save(e, c, err);
}

int ctr_net_disconnect(struct engine *e, struct ctr *c, const char *net_name, bool force, berth_error_t **err)
{
        pthread_mutex_lock(&c->lock);
        int r = disconnect_locked(e, c, net_name, force, err);
        pthread_mutex_unlock(&c->lock);
        return r;
}

/* ---- inspect ------------------------------------------------------------------------------- */

/* An endpoint as inspect shows it: without Berth's own keys. */
static json_t *shown_endpoint(json_t *ep)
{
        json_t *out = json_deep_copy(ep);

        json_object_del(out, "HostIf");
        json_object_del(out, "Interface");
        json_object_del(out, "DefaultBridge");
        json_object_del(out, "Index");
        return out;
}

/* A network the container is configured for but has no endpoint on
 * (stopped): dockerd shows it with empty addresses. */
static json_t *configured_endpoint(json_t *cfg)
{
        json_t *ipam = json_object_get(cfg, "IPAMConfig"), *aliases = json_object_get(cfg, "Aliases");
        json_t *links = json_object_get(cfg, "Links");

        return json_pack("{s:O, s:O, s:O, s:s, s:n, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:n}", "IPAMConfig",
                         ipam ? ipam : json_null(), "Links", links ? links : json_null(), "Aliases",
                         aliases ? aliases : json_null(), "MacAddress",
                         "", "DriverOpts", "NetworkID", json_string_value(json_object_get(cfg, "NetworkID")) ?: "",
                         "EndpointID", "", "Gateway", "", "IPAddress", "", "IPPrefixLen", 0, "IPv6Gateway", "",
                         "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0, "DNSNames");
}

json_t *ctr_net_networks_summary(struct ctr *c)
{
        json_t *out = json_object(), *v;
        const char *key;
        enum net_kind k = kind_of(c->body);

        if (k == NET_NONE || k == NET_HOST) {
                json_object_set_new(out, k == NET_NONE ? "none" : "host",
                                    json_pack("{s:s, s:s, s:s}", "IPAddress", "", "Gateway", "", "MacAddress", ""));
                return out;
        }
        json_object_foreach(endpoints_config(c->body), key, v)
                json_object_set_new(out, key, configured_endpoint(v));
        json_object_foreach(json_object_get(c->net, "Networks"), key, v)
                json_object_set_new(out, key, shown_endpoint(v));
        return out;
}

json_t *ctr_net_settings(struct ctr *c)
{
        json_t *networks = ctr_net_networks_summary(c);
        json_t *bridge_ep = NULL, *ep;
        const char *key;

        json_object_foreach(json_object_get(c->net, "Networks"), key, ep)
                if (json_is_true(json_object_get(ep, "DefaultBridge")))
                        bridge_ep = ep;
        const char *sandbox = json_string_value(json_object_get(c->net, "SandboxKey"));
        json_t *ports = json_object_get(c->net, "Ports");
        return json_pack("{s:s, s:s, s:b, s:s, s:i, s:o, s:s, s:n, s:n, s:s, s:s, s:s, s:i, s:s, s:i, s:s, s:s, "
                         "s:o}",
                         "Bridge", "", "SandboxID", c->net ? c->id : "", "HairpinMode", 0, "LinkLocalIPv6Address", "",
                         "LinkLocalIPv6PrefixLen", 0, "Ports", ports ? json_incref(ports) : json_object(), "SandboxKey",
                         sandbox ? sandbox : "", "SecondaryIPAddresses", "SecondaryIPv6Addresses", "EndpointID",
                         json_string_value(json_object_get(bridge_ep, "EndpointID")) ?: "", "Gateway",
                         json_string_value(json_object_get(bridge_ep, "Gateway")) ?: "", "GlobalIPv6Address", "",
                         "GlobalIPv6PrefixLen", 0, "IPAddress",
                         json_string_value(json_object_get(bridge_ep, "IPAddress")) ?: "", "IPPrefixLen",
                         (int)json_integer_value(json_object_get(bridge_ep, "IPPrefixLen")), "IPv6Gateway", "",
                         "MacAddress", json_string_value(json_object_get(bridge_ep, "MacAddress")) ?: "", "Networks",
                         networks);
}

/* The list's Ports: [{IP, PrivatePort, PublicPort, Type}], and exposed
 * ports nobody published as {PrivatePort, Type}. */
json_t *ctr_net_ports_summary(struct ctr *c)
{
        json_t *out = json_array(), *bound = json_object_get(c->net, "Ports"), *list, *b, *v;
        json_t *exposed = json_object_get(c->body, "ExposedPorts");
        const char *key;
        size_t i;

        json_object_foreach(bound, key, list) {
                unsigned port = (unsigned)strtoul(key, NULL, 10);
                const char *slash = strchr(key, '/');
                json_array_foreach(list, i, b)
                        json_array_append_new(out, json_pack("{s:s, s:i, s:i, s:s}", "IP",
                                                             json_string_value(json_object_get(b, "HostIp")) ?: "",
                                                             "PrivatePort", (int)port, "PublicPort",
                                                             atoi(json_string_value(json_object_get(b, "HostPort")) ?: "0"),
                                                             "Type", slash ? slash + 1 : "tcp"));
        }
        json_object_foreach(exposed, key, v) {
                if (json_array_size(json_object_get(bound, key)) > 0)
                        continue;
                const char *slash = strchr(key, '/');
                json_array_append_new(out, json_pack("{s:i, s:s}", "PrivatePort", atoi(key), "Type",
                                                     slash ? slash + 1 : "tcp"));
        }
        return out;
}

bool ctr_net_on(struct ctr *c, const char *name_or_id)
{
        json_t *ep;
        const char *key;

        if (*name_or_id == '\0')
                return false;
        if (json_object_get(endpoints_config(c->body), name_or_id) || strcmp(mode_network(c->body), name_or_id) == 0)
                return true;
        json_object_foreach(json_object_get(c->net, "Networks"), key, ep)
                if (strcmp(key, name_or_id) == 0 ||
                    str_has_prefix(json_string_value(json_object_get(ep, "NetworkID")) ?: "", name_or_id))
                        return true;
        return false;
}

/* ---- /etc/hosts, /etc/resolv.conf ------------------------------------------------------------ */

static const char hosts_base[] = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                                 "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
                                 "ff02::2\tip6-allrouters\n";

static const char *first_gateway(struct ctr *c)
{
        json_t *ep;
        const char *key;

        json_object_foreach(json_object_get(c->net, "Networks"), key, ep)
                if (json_integer_value(json_object_get(ep, "Index")) == 0)
                        return json_string_value(json_object_get(ep, "Gateway"));
        return NULL;
}

/* ExtraHosts "name:ip" (ip may be "host-gateway": the first network's
 * gateway, which is the host as the container sees it). */
static int extra_hosts(struct ctr *c, struct strbuf *b, berth_error_t **err)
{
        json_t *list = json_object_get(json_object_get(c->body, "HostConfig"), "ExtraHosts"), *v;
        size_t i;

        json_array_foreach(list, i, v) {
                const char *s = json_string_value(v), *sep = s ? strchr(s, ':') : NULL;
                if (sep == NULL)
                        return berth_fail(err, EINVAL, "invalid extra host entry %s: expected name:ip",
                                          s ? s : "(not a string)");
                const char *ip = sep + 1;
                if (strcmp(ip, "host-gateway") == 0)
                        ip = first_gateway(c) ?: "127.0.0.1";
                _cleanup_free_ char *line = xasprintf("%s\t%.*s\n", ip, (int)(sep - s), s);
                strbuf_add(b, line, strlen(line));
        }
        return 0;
}

static void own_addresses(struct ctr *c, struct strbuf *b)
{
        const char *hostname = json_string_value(json_object_get(c->config, "hostname")) ?: c->id;
        const char *domain = json_string_value(json_object_get(c->config, "domainname"));
        json_t *ep;
        const char *key;

        json_object_foreach(json_object_get(c->net, "Networks"), key, ep) {
                _cleanup_free_ char *line =
                        domain && *domain
                                ? xasprintf("%s\t%s.%s %s\n", json_string_value(json_object_get(ep, "IPAddress")),
                                            hostname, domain, hostname)
                                : xasprintf("%s\t%s\n", json_string_value(json_object_get(ep, "IPAddress")), hostname);
                strbuf_add(b, line, strlen(line));
        }
}

/* The first address of a running container, "" when it has none; its
 * lock is tried only (the caller holds its own container's, and two
 * containers may link to each other). */
static char *linked_address(struct engine *e, const char *name)
{
        struct ctr *t;
        char *ip = NULL;

        if (ctr_find(e, name, &t, NULL) < 0)
                return NULL;
        for (int i = 0; i < 20 && ip == NULL; i++) {
                if (pthread_mutex_trylock(&t->lock) != 0) {
                        usleep(1000);
                        continue;
                }
                const char *a = NULL;
                json_t *ep;
                const char *key;
                json_object_foreach(json_object_get(t->net, "Networks"), key, ep)
                        if (a == NULL)
                                a = json_string_value(json_object_get(ep, "IPAddress"));
                ip = xstrdup(a ? a : "");
                pthread_mutex_unlock(&t->lock);
        }
        ctr_unref(t);
        return ip;
}

static void link_lines(struct engine *e, json_t *links, struct strbuf *b)
{
        json_t *v;
        size_t i;

        json_array_foreach(links, i, v) {
                const char *s = json_string_value(v);
                if (s == NULL)
                        continue;
                /* "name:alias", or dockerd's own "/name:/linker/alias" */
                const char *colon = strchr(s, ':');
                _cleanup_free_ char *name = colon ? strndup(s, (size_t)(colon - s)) : xstrdup(s);
                const char *alias = colon ? colon + 1 : name;
                const char *slash = strrchr(alias, '/');
                alias = slash ? slash + 1 : alias;
                _cleanup_free_ char *ip = linked_address(e, name[0] == '/' ? name + 1 : name);
                if (ip == NULL || *ip == '\0')
                        continue;
                const char *shown = name[0] == '/' ? name + 1 : name;
                _cleanup_free_ char *line = strcmp(alias, shown) == 0 ? xasprintf("%s\t%s\n", ip, shown)
                                                                       : xasprintf("%s\t%s %s\n", ip, alias, shown);
                strbuf_add(b, line, strlen(line));
        }
}

static int hosts_text(struct engine *e, struct ctr *c, struct strbuf *b, berth_error_t **err)
{
        enum net_kind k = kind_of(c->body);
        const char *hostname = json_string_value(json_object_get(c->config, "hostname")) ?: "";
        _cleanup_free_ char *host_hosts = NULL;
        size_t len;

        if (k == NET_HOST && read_file("/etc/hosts", &host_hosts, &len, NULL) == 0) {
                strbuf_add(b, host_hosts, len);
        } else if (k == NET_OWN && c->net) {
                json_t *cfg;
                const char *key;
                strbuf_add(b, hosts_base, strlen(hosts_base));
                own_addresses(c, b);
                /* legacy links: the linked container's address under the alias */
                link_lines(e, json_object_get(json_object_get(c->body, "HostConfig"), "Links"), b);
                json_object_foreach(endpoints_config(c->body), key, cfg)
                        link_lines(e, json_object_get(cfg, "Links"), b);
        } else {
                _cleanup_free_ char *s = xasprintf("127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost "
                                                   "ip6-loopback\n", hostname);
                strbuf_add(b, s, strlen(s));
        }
        return extra_hosts(c, b, err);
}

static void add_line(struct strbuf *b, const char *word, const char *value)
{
        _cleanup_free_ char *s = xasprintf("%s %s\n", word, value);
        strbuf_add(b, s, strlen(s));
}

static void add_list_line(struct strbuf *b, const char *word, json_t *list)
{
        json_t *v;
        size_t i;

        if (json_array_size(list) == 0)
                return;
        strbuf_add(b, word, strlen(word));
        json_array_foreach(list, i, v) {
                strbuf_add(b, " ", 1);
                strbuf_add(b, json_string_value(v) ?: "", strlen(json_string_value(v) ?: ""));
        }
        strbuf_add(b, "\n", 1);
}

/* The host's file, its loopback nameservers dropped (unreachable from
 * another namespace), --dns, --dns-search and --dns-option replacing its
 * lines of their kind; with the embedded resolver, 127.0.0.11 as the
 * nameserver and ndots:0, as dockerd writes it. */
static void resolv_text(struct ctr *c, bool embedded, struct strbuf *b)
{
        json_t *hc = json_object_get(c->body, "HostConfig");
        json_t *dns = json_object_get(hc, "Dns"), *search = json_object_get(hc, "DnsSearch");
        json_t *opts = json_object_get(hc, "DnsOptions");
        _cleanup_fclose_ FILE *f = fopen("/etc/resolv.conf", "re");
        char line[1024];

        if (embedded)
                add_line(b, "nameserver", "127.0.0.11");
        while (f && fgets(line, sizeof(line), f)) {
                char word[32] = "", value[960] = "";
                if (sscanf(line, " %31s %959[^\n]", word, value) < 1 || word[0] == '#' || word[0] == ';')
                        continue;
                if (strcmp(word, "nameserver") == 0) {
                        if (!embedded && json_array_size(dns) == 0 && !str_has_prefix(value, "127.") &&
                            strcmp(value, "::1") != 0)
                                add_line(b, "nameserver", value);
                } else if ((strcmp(word, "search") == 0 || strcmp(word, "domain") == 0) &&
                           json_array_size(search) == 0) {
                        add_line(b, "search", value);
                } else if (strcmp(word, "options") == 0 && json_array_size(opts) == 0 && !embedded) {
                        add_line(b, "options", value);
                }
        }
        if (!embedded) {
                json_t *v;
                size_t i;
                json_array_foreach(dns, i, v)
                        add_line(b, "nameserver", json_string_value(v) ?: "");
        }
        add_list_line(b, "search", search);
        if (embedded && json_array_size(opts) == 0)
                add_line(b, "options", "ndots:0");
        add_list_line(b, "options", opts);
}

int ctr_write_etc(struct engine *e, struct ctr *c, berth_error_t **err)
{
        _cleanup_free_ char *dir = ctr_dir(e, c);
        _cleanup_free_ char *hosts = xasprintf("%s/hosts", dir), *resolv = xasprintf("%s/resolv.conf", dir);
        struct strbuf h = { 0 }, r = { 0 };
        int ret = hosts_text(e, c, &h, err);

        if (ret == 0) {
                _cleanup_free_ char *host_resolv = NULL;
                size_t len;
                if (kind_of(c->body) == NET_HOST && read_file("/etc/resolv.conf", &host_resolv, &len, NULL) == 0)
                        strbuf_add(&r, host_resolv, len);
                else
                        resolv_text(c, c->net && wants_resolver(c->net), &r);
                /* in place: both are bind-mounted into a running container */
                ret = write_file(hosts, h.data ?: "", h.len, err);
                if (ret == 0)
                        ret = write_file(resolv, r.data ?: "", r.len, err);
        }
        free(h.data);
        free(r.data);
        return ret;
}
