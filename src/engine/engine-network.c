/* Networks: the /networks API, their records in berth.db, their bridges
 * and rules (engine-network.h says how the pieces fit). */
#include "engine/daemon-config.h"
#include "engine/engine-network.h"
#include "net/dns.h"
#include "net/netlink.h"
#include "net/nft.h"
#include <sqlite3.h>

#define DEFAULT_BRIDGE "berth0"

static const char schema[] = "CREATE TABLE IF NOT EXISTS networks ("
                             "  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, record TEXT NOT NULL);";

/* ---- daemon.json ------------------------------------------------------- */

static int pools_parse(json_t *given, struct ipam_pool **out, size_t *n, berth_error_t **err)
{
        json_t *pools = json_object_get(given, "default-address-pools"), *p;
        size_t i;

        *out = NULL;
        *n = 0;
        if (json_array_size(pools) == 0) {
                /* dockerd's defaults: 172.17-31.0.0/16, then 192.168.0.0/20s */
                static const struct ipam_pool dflt[] = { { { 0xac110000, 12 }, 16 }, { { 0xc0a80000, 16 }, 20 } };
                *out = xmalloc(sizeof(dflt));
                memcpy(*out, dflt, sizeof(dflt));
                *n = ARRAY_SIZE(dflt);
                return 0;
        }
        *out = xcalloc(json_array_size(pools), sizeof(**out));
        json_array_foreach(pools, i, p) {
                json_t *size = json_object_get(p, "size");
                if (ipam_prefix_parse(json_string_value(json_object_get(p, "base")), false, &(*out)[i].base, err) < 0)
                        return berth_error_wrap(err, "default-address-pools[%zu].base", i);
                if (!json_is_integer(size) || json_integer_value(size) < (json_int_t)(*out)[i].base.len ||
                    json_integer_value(size) > 30)
                        return berth_fail(err, EINVAL,
                                          "default-address-pools[%zu].size: must be an integer from the base's "
                                          "prefix length to 30",
                                          i);
                (*out)[i].size = (unsigned)json_integer_value(size);
                (*n)++;
        }
        return 0;
}

int daemon_net_config_check(json_t *given, const char **key, berth_error_t **err)
{
        _cleanup_free_ struct ipam_pool *pools = NULL;
        struct ipam_prefix p;
        json_t *mtu = json_object_get(given, "mtu"), *v;
        const char *bip = json_string_value(json_object_get(given, "bip"));
        uint32_t a;
        size_t n, i;

        *key = "bip";
        if (bip && ipam_prefix_parse(bip, true, &p, err) < 0)
                return berth_error_wrap(err, "bip");
        *key = "default-address-pools";
        if (pools_parse(given, &pools, &n, err) < 0)
                return -1;
        *key = "mtu";
        if (mtu && (json_integer_value(mtu) < 68 || json_integer_value(mtu) > 65535))
                return berth_fail(err, EINVAL, "mtu: %lld is not between 68 and 65535",
                                  (long long)json_integer_value(mtu));
        *key = "ip";
        if (json_object_get(given, "ip") &&
            ipam_addr_parse(json_string_value(json_object_get(given, "ip")), &a, err) < 0)
                return berth_error_wrap(err, "ip");
        *key = "dns";
        json_array_foreach(json_object_get(given, "dns"), i, v) {
                const char *s = json_string_value(v);
                if (ipam_addr_parse(s, &a, NULL) < 0 && strchr(s, ':') == NULL)
                        return berth_fail(err, EINVAL, "dns: %s is not an IP address", s);
        }
        *key = "ipv6";
        if (json_is_true(json_object_get(given, "ipv6")))
                return berth_fail(err, EINVAL, "ipv6: IPv6 networks are not available in Berth yet");
        return 0;
}

static json_t *config_given(void)
{
        const struct daemon_config *c = daemon_config_current();
        return c ? c->given : NULL;
}

static unsigned config_mtu(void)
{
        json_int_t mtu = json_integer_value(json_object_get(config_given(), "mtu"));
        return mtu > 0 ? (unsigned)mtu : 1500;
}

static bool config_bool(const char *key, bool dflt)
{
        json_t *v = json_object_get(config_given(), key);
        return json_is_boolean(v) ? json_is_true(v) : dflt;
}

char **net_daemon_upstreams(void)
{
        json_t *dns = json_object_get(config_given(), "dns"), *v;
        char **out;
        size_t i, n = 0;

        if (json_array_size(dns) > 0) {
                out = xcalloc(json_array_size(dns) + 1, sizeof(char *));
                json_array_foreach(dns, i, v)
                        out[n++] = xstrdup(json_string_value(v));
                return out;
        }
        _cleanup_fclose_ FILE *f = fopen("/etc/resolv.conf", "re");
        char line[512];
        out = xcalloc(1, sizeof(char *));
        while (f && fgets(line, sizeof(line), f)) {
                char addr[256];
                if (sscanf(line, " nameserver %255s", addr) != 1)
                        continue;
                out = xrealloc(out, (n + 2) * sizeof(char *));
                out[n++] = xstrdup(addr);
                out[n] = NULL;
        }
        return out;
}

/* ---- records ------------------------------------------------------------ */

static const char *opt(json_t *record, const char *key)
{
        return json_string_value(json_object_get(json_object_get(record, "Options"), key));
}

static bool opt_bool(json_t *record, const char *key, bool dflt)
{
        const char *v = opt(record, key);
        return v ? strcmp(v, "true") == 0 || strcmp(v, "1") == 0 : dflt;
}

static void network_free(struct network *n)
{
        if (n == NULL)
                return;
        free(n->id);
        free(n->name);
        free(n->driver);
        free(n->created);
        free(n->bridge);
        json_decref(n->record);
        ipam_space_clear(&n->ipam);
        free(n);
}

/* The struct from a record: what the rest of the engine reads. */
static int network_of(json_t *record, struct network **out, berth_error_t **err)
{
        struct network *n = xcalloc(1, sizeof(*n));
        json_t *cfg = json_array_get(json_object_get(json_object_get(record, "IPAM"), "Config"), 0);
        const char *subnet = json_string_value(json_object_get(cfg, "Subnet"));
        const char *range = json_string_value(json_object_get(cfg, "IPRange"));
        const char *gw = json_string_value(json_object_get(cfg, "Gateway"));
        const char *mtu = opt(record, "com.docker.network.driver.mtu");

        n->record = json_incref(record);
        n->id = xstrdup(json_string_value(json_object_get(record, "Id")) ?: "");
        n->name = xstrdup(json_string_value(json_object_get(record, "Name")) ?: "");
        n->driver = xstrdup(json_string_value(json_object_get(record, "Driver")) ?: "bridge");
        n->created = xstrdup(json_string_value(json_object_get(record, "Created")) ?: "");
        n->internal = json_is_true(json_object_get(record, "Internal"));
        n->is_default = opt_bool(record, "com.docker.network.bridge.default_bridge", false);
        n->predefined = n->is_default || strcmp(n->driver, "host") == 0 || strcmp(n->driver, "null") == 0;
        n->masquerade = opt_bool(record, "com.docker.network.bridge.enable_ip_masquerade", true);
        n->icc = opt_bool(record, "com.docker.network.bridge.enable_icc", true);
        n->mtu = mtu ? (unsigned)strtoul(mtu, NULL, 10) : 0;
        if (strcmp(n->driver, "bridge") == 0) {
                const char *br = opt(record, "com.docker.network.bridge.name");
                struct ipam_prefix sp, rp;
                uint32_t gwa;
                n->bridge = br ? xstrdup(br) : xasprintf("br-%.12s", n->id);
                if (ipam_prefix_parse(subnet, false, &sp, err) < 0 ||
                    (range && ipam_prefix_parse(range, false, &rp, err) < 0) || ipam_addr_parse(gw, &gwa, err) < 0) {
                        network_free(n);
                        return berth_error_wrap(err, "network %s", json_string_value(json_object_get(record, "Name")));
                }
                ipam_space_init(&n->ipam, &sp, range ? &rp : NULL, gwa);
                n->has_ipam = true;
                json_t *v;
                const char *key;
                json_object_foreach(json_object_get(cfg, "AuxiliaryAddresses"), key, v) {
                        uint32_t a;
                        if (ipam_addr_parse(json_string_value(v), &a, NULL) == 0)
                                ipam_space_take(&n->ipam, a, NULL);
                }
        }
        *out = n;
        return 0;
}

static int db_save(struct engine *e, struct network *n, berth_error_t **err)
{
        _cleanup_free_ char *text = json_dumps(n->record, JSON_COMPACT);
        sqlite3_stmt *st = NULL;
        int r = 0;

        if (sqlite3_prepare_v2(e->db, "INSERT INTO networks VALUES (?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
                return engine_db_fail(e, err, "prepare");
        sqlite3_bind_text(st, 1, n->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, n->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
                r = engine_db_fail(e, err, "save network");
        sqlite3_finalize(st);
        return r;
}

static int db_delete(struct engine *e, const char *id, berth_error_t **err)
{
        sqlite3_stmt *st = NULL;
        int r = 0;

        if (sqlite3_prepare_v2(e->db, "DELETE FROM networks WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
                return engine_db_fail(e, err, "prepare");
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
                r = engine_db_fail(e, err, "delete network");
        sqlite3_finalize(st);
        return r;
}

static void add_locked(struct netmgr *m, struct network *n)
{
        m->nets = xrealloc(m->nets, (m->n + 1) * sizeof(*m->nets));
        m->nets[m->n++] = n;
}

static int db_load(struct engine *e, berth_error_t **err)
{
        sqlite3_stmt *st = NULL;
        int rc;

        if (sqlite3_exec(e->db, schema, NULL, NULL, NULL) != SQLITE_OK)
                return engine_db_fail(e, err, "networks table");
        if (sqlite3_prepare_v2(e->db, "SELECT record FROM networks", -1, &st, NULL) != SQLITE_OK)
                return engine_db_fail(e, err, "prepare");
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                json_t *rec = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
                struct network *n;
                _cleanup_error_ berth_error_t *e2 = NULL;
                if (rec && network_of(rec, &n, &e2) == 0)
                        add_locked(e->net, n);
                else
                        berth_warn("berth.db: a network record is unreadable: %s", e2 ? e2->msg : "bad JSON");
                json_decref(rec);
        }
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : engine_db_fail(e, err, "load networks");
}

/* ---- finding ------------------------------------------------------------ */

struct network *net_find_locked(struct engine *e, const char *name)
{
        struct netmgr *m = e->net;
        struct network *found = NULL;
        size_t len = strlen(name);

        if (len == 0)
                return NULL;
        /* dockerd: the full id, then the name, then a unique id prefix */
        for (size_t i = 0; i < m->n; i++)
                if (strcmp(m->nets[i]->id, name) == 0)
                        return m->nets[i];
        for (size_t i = 0; i < m->n; i++)
                if (strcmp(m->nets[i]->name, name) == 0)
                        return m->nets[i];
        for (size_t i = 0; i < m->n; i++) {
                if (strncmp(m->nets[i]->id, name, len) != 0)
                        continue;
                if (found)
                        return NULL;
                found = m->nets[i];
        }
        return found;
}

static int not_found(const char *name, berth_error_t **err)
{
        return berth_fail(err, ENOENT, "network %s not found", name);
}

/* ---- bringing a bridge up ------------------------------------------------- */

/* The table is made on first need (an idle daemon never loads
 * libnftables); a marker in the exec root says a table may exist, so that
 * a daemon started after one that died removes the stale rules at once. */
static char *nft_marker(struct engine *e)
{
        return xasprintf("%s/nft-active", e->exec_root);
}

int net_nft_ready_locked(struct engine *e, berth_error_t **err)
{
        struct netmgr *m = e->net;
        _cleanup_free_ char *marker = nft_marker(e);

        if (m->nft_ready)
                return 0;
        if (write_file(marker, "", 0, err) < 0 || nft_init(err) < 0)
                return -1;
        m->nft_ready = true;
        return 0;
}

int net_nft_ready(struct engine *e, berth_error_t **err)
{
        pthread_mutex_lock(&e->net->lock);
        int r = net_nft_ready_locked(e, err);
        pthread_mutex_unlock(&e->net->lock);
        return r;
}

int net_up_locked(struct engine *e, struct network *n, berth_error_t **err)
{
        if (n->up || n->bridge == NULL)
                return 0;
        struct nl_bridge b = { .name = n->bridge, .mtu = n->mtu, .gw4 = ipam_in_addr(n->ipam.gateway),
                               .prefix4 = n->ipam.subnet.len };
        struct nft_network rules = { .bridge = n->bridge, .subnet = ipam_in_addr(n->ipam.subnet.addr),
                                     .prefix = n->ipam.subnet.len, .masquerade = n->masquerade && !n->internal,
                                     .internal = n->internal, .icc = n->icc };

        if (nl_bridge_ensure(&b, err) < 0 || net_nft_ready_locked(e, err) < 0 || nft_network_add(&rules, err) < 0)
                return berth_error_wrap(err, "network %s", n->name);
        n->up = true;
        return 0;
}

static void net_down_locked(struct engine *e, struct network *n)
{
        _cleanup_error_ berth_error_t *err = NULL;

        if (n->bridge == NULL)
                return;
        if (e->net->nft_ready && nft_network_remove(n->bridge, &err) < 0)
                berth_warn("network %s: %s", n->name, err->msg);
        berth_error_free(&err);
        if (nl_link_remove(n->bridge, &err) < 0)
                berth_warn("network %s: %s", n->name, err->msg);
        n->up = false;
}

/* ---- creating --------------------------------------------------------------- */

static bool skip_own_routes(struct engine *e, const struct ipam_prefix *route, const char *ifname)
{
        (void)route;
        /* berth0 is ours by its name, also before the default network's
         * record exists (a new data root on a host where it was made) */
        if (strcmp(ifname, DEFAULT_BRIDGE) == 0)
                return true;
        for (size_t i = 0; i < e->net->n; i++)
                if (e->net->nets[i]->bridge && strcmp(e->net->nets[i]->bridge, ifname) == 0)
                        return true;
        return false;
}

/* Subnets in use: every network's, and the host's routes (those of our
 * own bridges excepted: they are the networks'). */
static void used_subnets(struct engine *e, struct ipam_prefix **out, size_t *n)
{
        _cleanup_free_ struct ipam_route *routes = NULL;
        size_t n_routes = 0;

        *out = NULL;
        *n = 0;
        for (size_t i = 0; i < e->net->n; i++) {
                if (!e->net->nets[i]->has_ipam)
                        continue;
                *out = xrealloc(*out, (*n + 1) * sizeof(**out));
                (*out)[(*n)++] = e->net->nets[i]->ipam.subnet;
        }
        if (ipam_host_routes(&routes, &n_routes, NULL) < 0)
                return;
        for (size_t i = 0; i < n_routes; i++) {
                if (skip_own_routes(e, &routes[i].prefix, routes[i].ifname))
                        continue;
                *out = xrealloc(*out, (*n + 1) * sizeof(**out));
                (*out)[(*n)++] = routes[i].prefix;
        }
}

struct create_req {
        const char *name, *driver;
        bool internal, attachable, ipv6;
        json_t *ipam_cfg, *options, *labels, *ipam_options;
};

/* IPAM.Config[0]: Subnet, IPRange, Gateway, each checked against the
 * others and the networks there are; a subnet from the pools if none. */
static int ipam_config(struct engine *e, const struct create_req *q, json_t **cfg_out, berth_error_t **err)
{
        json_t *cfg = json_array_get(q->ipam_cfg, 0);
        const char *subnet = json_string_value(json_object_get(cfg, "Subnet"));
        const char *range = json_string_value(json_object_get(cfg, "IPRange"));
        const char *gw = json_string_value(json_object_get(cfg, "Gateway"));
        _cleanup_free_ struct ipam_prefix *used = NULL;
        _cleanup_free_ struct ipam_pool *pools = NULL;
        struct ipam_prefix sp, rp;
        uint32_t gwa;
        size_t n_used, n_pools;

        if (json_array_size(q->ipam_cfg) > 1)
                return berth_fail(err, EINVAL, "IPAM.Config: one IPv4 subnet per network (Berth has no IPv6 yet)");
        used_subnets(e, &used, &n_used);
        if (subnet && *subnet) {
                if (ipam_prefix_parse(subnet, false, &sp, err) < 0)
                        return -1;
                for (size_t i = 0; i < e->net->n; i++)
                        if (e->net->nets[i]->has_ipam && ipam_overlaps(&sp, &e->net->nets[i]->ipam.subnet))
                                return berth_fail(err, EACCES, "Pool overlaps with other one on this address space");
        } else {
                if (range && *range)
                        return berth_fail(err, EINVAL, "IPAM.Config: an ip-range needs a subnet");
                if (gw && *gw)
                        return berth_fail(err, EINVAL, "IPAM.Config: a gateway needs a subnet");
                if (pools_parse(config_given(), &pools, &n_pools, err) < 0 ||
                    ipam_subnet_pick(pools, n_pools, used, n_used, &sp, err) < 0)
                        return -1;
        }
        if (sp.len > 30)
                return berth_fail(err, EINVAL, "subnet %s is too small for a network (at most /30)", subnet);
        if (range && *range) {
                if (ipam_prefix_parse(range, false, &rp, err) < 0)
                        return -1;
                if (rp.len < sp.len || !ipam_contains(&sp, rp.addr))
                        return berth_fail(err, EINVAL, "ip-range %s is not within subnet %s", range, subnet);
        }
        if (gw && *gw) {
                if (ipam_addr_parse(gw, &gwa, err) < 0)
                        return -1;
                if (!ipam_contains(&sp, gwa))
                        return berth_fail(err, EINVAL, "gateway %s is not within subnet %s", gw,
                                          subnet ? subnet : "");
        } else {
                gwa = sp.addr + 1;
        }
        /* --aux-address: addresses the network must never hand out */
        json_t *aux = json_object_get(cfg, "AuxiliaryAddresses"), *v;
        const char *key;
        json_object_foreach(aux, key, v) {
                uint32_t a;
                if (ipam_addr_parse(json_string_value(v), &a, err) < 0)
                        return berth_error_wrap(err, "auxiliary address %s", key);
                if (!ipam_contains(&sp, a))
                        return berth_fail(err, EINVAL, "auxiliary address %s (%s) is not within subnet %s", key,
                                          json_string_value(v), subnet ? subnet : "");
        }
        _cleanup_free_ char *s = ipam_prefix_format(&sp), *g = ipam_addr_format(gwa);
        *cfg_out = json_pack("{s:s, s:s}", "Subnet", s, "Gateway", g);
        if (range && *range)
                json_object_set_new(*cfg_out, "IPRange", json_string(range));
        if (json_object_size(aux) > 0)
                json_object_set(*cfg_out, "AuxiliaryAddresses", aux);
        return 0;
}

static json_t *strings_object(json_t *o)
{
        return json_is_object(o) ? json_deep_copy(o) : json_object();
}

static json_t *make_record(const char *id, const struct create_req *q, json_t *ipam_cfg)
{
        _cleanup_free_ char *created = now_rfc3339();
        json_t *configs = ipam_cfg ? json_pack("[o]", ipam_cfg) : json_array();

        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:o, s:o}, s:b, s:b, s:b, s:{s:s}, s:b, s:o, "
                         "s:o}",
                         "Name", q->name, "Id", id, "Created", created, "Scope", "local", "Driver", q->driver,
                         "EnableIPv6", q->ipv6, "IPAM", "Driver", "default", "Options",
                         json_is_object(q->ipam_options) ? json_deep_copy(q->ipam_options) : json_null(), "Config",
                         configs, "Internal", q->internal, "Attachable", q->attachable, "Ingress", 0, "ConfigFrom",
                         "Network", "", "ConfigOnly", 0, "Options", strings_object(q->options), "Labels",
                         strings_object(q->labels));
}

static bool valid_name(const char *name)
{
        if (name == NULL || name[0] == '\0' || strlen(name) > 128)
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      ((*p == '_' || *p == '.' || *p == '-') && p != name)))
                        return false;
        return true;
}

static int check_options(json_t *options, berth_error_t **err)
{
        const char *key, *mtu;
        json_t *v;

        json_object_foreach(options, key, v) {
                if (!json_is_string(v))
                        return berth_fail(err, EINVAL, "Options.%s: must be a string", key);
        }
        const char *br = json_string_value(json_object_get(options, "com.docker.network.bridge.name"));
        if (br && (strlen(br) == 0 || strlen(br) > 15 || strchr(br, '/') || strchr(br, ' ')))
                return berth_fail(err, EINVAL, "com.docker.network.bridge.name: invalid interface name %s", br);
        if ((mtu = json_string_value(json_object_get(options, "com.docker.network.driver.mtu")))) {
                char *end;
                unsigned long m = strtoul(mtu, &end, 10);
                if (*end || m < 68 || m > 65535)
                        return berth_fail(err, EINVAL, "com.docker.network.driver.mtu: invalid MTU %s", mtu);
        }
        return 0;
}

static int create_locked(struct engine *e, const struct create_req *q, bool predefined, char **id,
                         berth_error_t **err)
{
        char new_id[CONTAINER_ID_LEN + 1];
        json_t *ipam_cfg = NULL, *record;
        struct network *n;

        if (net_find_locked(e, q->name) && strcmp(net_find_locked(e, q->name)->name, q->name) == 0)
                return berth_fail(err, EEXIST, "network with name %s already exists", q->name);
        if (strcmp(q->driver, "bridge") == 0 && ipam_config(e, q, &ipam_cfg, err) < 0)
                return -1;
        random_hex_id(new_id);
        record = make_record(new_id, q, ipam_cfg);
        int r = network_of(record, &n, err);
        json_decref(record);
        if (r < 0)
                return -1;
        if (!predefined && n->bridge && nl_link_exists(n->bridge)) {
                r = berth_fail(err, EEXIST, "network %s: a link named %s exists already", q->name, n->bridge);
                network_free(n);
                return r;
        }
        /* user networks get their bridge at once, as dockerd's; the
         * default one when a container first needs it */
        if ((!predefined && n->bridge && net_up_locked(e, n, err) < 0) || db_save(e, n, err) < 0) {
                if (n->up)
                        net_down_locked(e, n);
                network_free(n);
                return -1;
        }
        add_locked(e->net, n);
        *id = xstrdup(n->id);
        return 0;
}

static int read_request(json_t *body, struct create_req *q, berth_error_t **err)
{
        json_t *ipam = json_object_get(body, "IPAM");
        const char *ipam_driver = json_string_value(json_object_get(ipam, "Driver"));

        q->name = json_string_value(json_object_get(body, "Name"));
        q->driver = json_string_value(json_object_get(body, "Driver"));
        if (q->driver == NULL || *q->driver == '\0')
                q->driver = "bridge";
        q->internal = json_is_true(json_object_get(body, "Internal"));
        q->attachable = json_is_true(json_object_get(body, "Attachable"));
        q->ipv6 = json_is_true(json_object_get(body, "EnableIPv6"));
        q->ipam_cfg = json_object_get(ipam, "Config");
        q->ipam_options = json_object_get(ipam, "Options");
        q->options = json_object_get(body, "Options");
        q->labels = json_object_get(body, "Labels");
        if (!valid_name(q->name))
                return berth_fail(err, EINVAL, "invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                                               "allowed", q->name ? q->name : "");
        if (strcmp(q->driver, "bridge") != 0)
                return berth_fail(err, ENOENT, "could not find plugin %s in v1 plugin registry: plugin not found",
                                  q->driver);
        if (ipam_driver && *ipam_driver && strcmp(ipam_driver, "default") != 0)
                return berth_fail(err, ENOENT, "could not find plugin %s in v1 plugin registry: plugin not found",
                                  ipam_driver);
        if (q->ipv6)
                return berth_fail(err, EINVAL, "IPv6 networks are not available in Berth yet: create the network "
                                               "without --ipv6");
        if (json_is_true(json_object_get(body, "ConfigOnly")) || json_is_true(json_object_get(body, "Ingress")))
                return berth_fail(err, EINVAL, "config-only and ingress networks are swarm's: Berth has neither");
        return check_options(q->options, err);
}

int engine_network_create(struct engine *e, json_t *body, json_t **out, berth_error_t **err)
{
        struct create_req q = { 0 };
        _cleanup_free_ char *id = NULL;

        if (read_request(body, &q, err) < 0)
                return -1;
        pthread_mutex_lock(&e->net->lock);
        int r = create_locked(e, &q, false, &id, err);
        pthread_mutex_unlock(&e->net->lock);
        if (r < 0)
                return -1;
        engine_event(e, "network", "create", id, json_pack("{s:s, s:s}", "name", q.name, "type", q.driver));
        *out = json_pack("{s:s, s:s}", "Id", id, "Warning", "");
        return 0;
}

/* "bridge" (berth0, from bip or the first free pool subnet), "host" and
 * "none", unless berth.db has them. */
static int predefined(struct engine *e, berth_error_t **err)
{
        const char *bip = json_string_value(json_object_get(config_given(), "bip"));
        _cleanup_free_ char *mtu = xasprintf("%u", config_mtu());
        _cleanup_free_ char *id = NULL;
        struct create_req host = { .name = "host", .driver = "host" }, none = { .name = "none", .driver = "null" };

        if (!net_find_locked(e, "host") && create_locked(e, &host, true, &id, err) < 0)
                return -1;
        free(steal_pointer(&id));
        if (!net_find_locked(e, "none") && create_locked(e, &none, true, &id, err) < 0)
                return -1;
        free(steal_pointer(&id));
        if (net_find_locked(e, "bridge"))
                return 0;
        json_t *options = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "com.docker.network.bridge.default_bridge",
                                    "true", "com.docker.network.bridge.enable_icc",
                                    config_bool("icc", true) ? "true" : "false",
                                    "com.docker.network.bridge.enable_ip_masquerade",
                                    config_bool("ip-masq", true) ? "true" : "false",
                                    "com.docker.network.bridge.host_binding_ipv4",
                                    json_string_value(json_object_get(config_given(), "ip")) ?: "0.0.0.0",
                                    "com.docker.network.bridge.name", DEFAULT_BRIDGE, "com.docker.network.driver.mtu",
                                    mtu);
        json_t *cfg = json_array();
        if (bip) {
                struct ipam_prefix p;
                ipam_prefix_parse(bip, true, &p, NULL);
                struct ipam_prefix net = { p.addr & ipam_mask(p.len), p.len };
                _cleanup_free_ char *s = ipam_prefix_format(&net), *g = ipam_addr_format(p.addr);
                json_array_append_new(cfg, json_pack("{s:s, s:s}", "Subnet", s, "Gateway", g));
        } else {
                /* dockerd's: 172.17.0.0/16 unless the host routes it */
                _cleanup_free_ struct ipam_prefix *used = NULL;
                static const struct ipam_pool first[] = { { { 0xac110000, 16 }, 16 } };
                struct ipam_prefix p;
                size_t n_used;
                used_subnets(e, &used, &n_used);
                if (ipam_subnet_pick(first, 1, used, n_used, &p, NULL) == 0) {
                        _cleanup_free_ char *s = ipam_prefix_format(&p);
                        json_array_append_new(cfg, json_pack("{s:s}", "Subnet", s));
                }
        }
        struct create_req bridge = { .name = "bridge", .driver = "bridge", .ipam_cfg = cfg, .options = options };
        int r = create_locked(e, &bridge, true, &id, err);
        json_decref(options);
        json_decref(cfg);
        return r;
}

int engine_net_open(struct engine *e, berth_error_t **err)
{
        e->net = xcalloc(1, sizeof(*e->net));
        pthread_mutex_init(&e->net->lock, NULL);
        if (db_load(e, err) < 0)
                return -1;
        pthread_mutex_lock(&e->net->lock);
        int r = predefined(e, err);
        pthread_mutex_unlock(&e->net->lock);
        if (r < 0)
                return -1;
        _cleanup_free_ char *marker = nft_marker(e);
        if (access(marker, F_OK) == 0 && net_nft_ready(e, err) < 0)
                return -1;
        if (dns_server_new(&e->net->dns, err) < 0)
                return -1;
        _cleanup_strv_ char **up = net_daemon_upstreams();
        size_t n = 0;
        while (up[n])
                n++;
        _cleanup_error_ berth_error_t *e2 = NULL;
        if (dns_server_set_upstreams(e->net->dns, (const char *const *)up, n, &e2) < 0)
                berth_warn("embedded DNS: %s", e2->msg);
        return 0;
}

void engine_net_close(struct engine *e)
{
        struct netmgr *m = e->net;
        _cleanup_error_ berth_error_t *err = NULL;

        if (m == NULL)
                return;
        _cleanup_free_ char *marker = nft_marker(e);
        ports_close_all(e);
        if (m->nft_ready && nft_fini(&err) < 0)
                berth_warn("nftables: %s", err->msg);
        else
                unlink(marker);
        dns_server_free(m->dns);
        for (size_t i = 0; i < m->n; i++)
                network_free(m->nets[i]);
        free(m->nets);
        pthread_mutex_destroy(&m->lock);
        free(m);
        e->net = NULL;
}

/* ---- inspect, list ---------------------------------------------------------- */

/* Containers: {id: {Name, EndpointID, MacAddress, IPv4Address, IPv6Address}}
 * for those with an endpoint on it now. */
static json_t *containers_on(struct engine *e, const char *net_id)
{
        json_t *out = json_object();

        pthread_mutex_lock(&e->lock);
        for (size_t i = 0; i < e->n_ctrs; i++) {
                struct ctr *c = e->ctrs[i];
                pthread_mutex_lock(&c->lock);
                json_t *nets = json_object_get(c->net, "Networks"), *ep;
                const char *key;
                json_object_foreach(nets, key, ep) {
                        if (strcmp(json_string_value(json_object_get(ep, "NetworkID")) ?: "", net_id) != 0)
                                continue;
                        _cleanup_free_ char *ip = xasprintf("%s/%lld",
                                                            json_string_value(json_object_get(ep, "IPAddress")),
                                                            (long long)json_integer_value(
                                                                    json_object_get(ep, "IPPrefixLen")));
                        json_object_set_new(out, c->id,
                                            json_pack("{s:s, s:O, s:O, s:s, s:s}", "Name", c->name, "EndpointID",
                                                      json_object_get(ep, "EndpointID"), "MacAddress",
                                                      json_object_get(ep, "MacAddress"), "IPv4Address", ip,
                                                      "IPv6Address", ""));
                }
                pthread_mutex_unlock(&c->lock);
        }
        pthread_mutex_unlock(&e->lock);
        return out;
}

static json_t *inspect_of(struct engine *e, json_t *record, const char *id)
{
        json_t *out = json_deep_copy(record);

        json_object_set_new(out, "Containers", containers_on(e, id));
        return out;
}

/* Records copied under the lock: inspect walks the containers, whose
 * locks come before the network manager's. */
static void snapshot(struct engine *e, json_t **records)
{
        *records = json_array();
        pthread_mutex_lock(&e->net->lock);
        for (size_t i = 0; i < e->net->n; i++)
                json_array_append(*records, e->net->nets[i]->record);
        pthread_mutex_unlock(&e->net->lock);
}

int engine_network_inspect(struct engine *e, const char *name, json_t **out, berth_error_t **err)
{
        json_t *record = NULL;

        pthread_mutex_lock(&e->net->lock);
        struct network *n = net_find_locked(e, name);
        if (n)
                record = json_incref(n->record);
        pthread_mutex_unlock(&e->net->lock);
        if (record == NULL)
                return not_found(name, err);
        *out = inspect_of(e, record, json_string_value(json_object_get(record, "Id")));
        json_decref(record);
        return 0;
}

static bool filter_values(json_t *filters, const char *key, bool (*match)(json_t *rec, const char *v), json_t *rec)
{
        json_t *vals = json_object_get(filters, key), *v;
        const char *s;
        size_t i;

        if (vals == NULL)
                return true;
        if (json_is_object(vals)) {
                json_object_foreach(vals, s, v)
                        if (match(rec, s))
                                return true;
                return json_object_size(vals) == 0;
        }
        json_array_foreach(vals, i, v)
                if (match(rec, json_string_value(v) ?: ""))
                        return true;
        return json_array_size(vals) == 0;
}

static const char *rec_str(json_t *rec, const char *key)
{
        return json_string_value(json_object_get(rec, key)) ?: "";
}

static bool match_name(json_t *rec, const char *v)
{
        return strstr(rec_str(rec, "Name"), v) != NULL;
}

static bool match_id(json_t *rec, const char *v)
{
        return str_has_prefix(rec_str(rec, "Id"), v);
}

static bool match_driver(json_t *rec, const char *v)
{
        return strcmp(rec_str(rec, "Driver"), v) == 0;
}

static bool match_scope(json_t *rec, const char *v)
{
        return strcmp(v, "local") == 0 && rec != NULL;
}

static bool is_predefined(json_t *rec)
{
        const char *d = rec_str(rec, "Driver"), *n = rec_str(rec, "Name");
        return strcmp(d, "host") == 0 || strcmp(d, "null") == 0 || strcmp(n, "bridge") == 0;
}

static bool match_type(json_t *rec, const char *v)
{
        return strcmp(v, "custom") == 0 ? !is_predefined(rec) : strcmp(v, "builtin") == 0 && is_predefined(rec);
}

/* label=KEY or label=KEY=VALUE */
static bool match_label(json_t *rec, const char *v)
{
        json_t *labels = json_object_get(rec, "Labels");
        const char *eq = strchr(v, '=');

        if (eq == NULL)
                return json_object_get(labels, v) != NULL;
        _cleanup_free_ char *key = strndup(v, (size_t)(eq - v));
        const char *have = json_string_value(json_object_get(labels, key));
        return have && strcmp(have, eq + 1) == 0;
}

static int check_filters(json_t *filters, bool prune, berth_error_t **err)
{
        static const char *const list_keys[] = { "name", "id", "driver", "scope", "type", "label", "dangling" };
        const char *key;
        json_t *v;

        json_object_foreach(filters, key, v) {
                bool ok = false;
                if (prune)
                        ok = strcmp(key, "label") == 0 || strcmp(key, "label!") == 0 || strcmp(key, "until") == 0;
                for (size_t i = 0; !prune && i < ARRAY_SIZE(list_keys); i++)
                        ok |= strcmp(key, list_keys[i]) == 0;
                if (!ok)
                        return berth_fail(err, EINVAL, "invalid filter '%s'", key);
        }
        return 0;
}

static bool in_use(json_t *containers)
{
        return json_object_size(containers) > 0;
}

static bool match_dangling(json_t *rec, const char *v)
{
        bool want = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
        /* dangling: a custom network no container is on */
        bool dangling = !is_predefined(rec) && !in_use(json_object_get(rec, "Containers"));
        return want == dangling;
}

int engine_network_list(struct engine *e, json_t *filters, json_t **out, berth_error_t **err)
{
        json_t *records, *rec;
        size_t i;

        if (check_filters(filters, false, err) < 0)
                return -1;
        snapshot(e, &records);
        *out = json_array();
        json_array_foreach(records, i, rec) {
                json_t *full = inspect_of(e, rec, rec_str(rec, "Id"));
                if (filter_values(filters, "name", match_name, full) && filter_values(filters, "id", match_id, full) &&
                    filter_values(filters, "driver", match_driver, full) &&
                    filter_values(filters, "scope", match_scope, full) &&
                    filter_values(filters, "type", match_type, full) &&
                    filter_values(filters, "label", match_label, full) &&
                    filter_values(filters, "dangling", match_dangling, full))
                        json_array_append(*out, full);
                json_decref(full);
        }
        json_decref(records);
        return 0;
}

/* ---- remove, prune ------------------------------------------------------------ */

static int remove_locked(struct engine *e, struct network *n, berth_error_t **err)
{
        struct netmgr *m = e->net;

        if (n->predefined)
                return berth_fail(err, EACCES, "%s is a pre-defined network and cannot be removed", n->name);
        if (n->active > 0)
                return berth_fail(err, EBUSY, "error while removing network: network %s id %s has active endpoints",
                                  n->name, n->id);
        if (db_delete(e, n->id, err) < 0)
                return -1;
        net_down_locked(e, n);
        for (size_t i = 0; i < m->n; i++)
                if (m->nets[i] == n) {
                        memmove(&m->nets[i], &m->nets[i + 1], (m->n - i - 1) * sizeof(*m->nets));
                        m->n--;
                        break;
                }
        return 0;
}

int engine_network_remove(struct engine *e, const char *name, berth_error_t **err)
{
        pthread_mutex_lock(&e->net->lock);
        struct network *n = net_find_locked(e, name);
        int r = n ? remove_locked(e, n, err) : not_found(name, err);
        _cleanup_free_ char *id = n && r == 0 ? xstrdup(n->id) : NULL;
        _cleanup_free_ char *nname = n && r == 0 ? xstrdup(n->name) : NULL;
        if (r == 0)
                network_free(n);
        pthread_mutex_unlock(&e->net->lock);
        if (r == 0)
                engine_event(e, "network", "destroy", id, json_pack("{s:s, s:s}", "name", nname, "type", "bridge"));
        return r;
}

static bool prune_label_ok(json_t *filters, json_t *rec)
{
        json_t *neg = json_object_get(filters, "label!"), *v;
        const char *s;
        size_t i;

        if (!filter_values(filters, "label", match_label, rec))
                return false;
        if (json_is_object(neg)) {
                json_object_foreach(neg, s, v)
                        if (match_label(rec, s))
                                return false;
        } else {
                json_array_foreach(neg, i, v)
                        if (match_label(rec, json_string_value(v) ?: ""))
                                return false;
        }
        return true;
}

static bool prune_until_ok(json_t *filters, json_t *rec)
{
        json_t *vals = json_object_get(filters, "until"), *v;
        const char *s = NULL;
        size_t i;

        if (json_is_object(vals)) {
                json_object_foreach(vals, s, v)
                        break;
        } else {
                json_array_foreach(vals, i, v)
                        s = json_string_value(v);
        }
        if (s == NULL)
                return true;
        char *end;
        long long until = strtoll(s, &end, 10);
        if (*end != '\0')
                until = rfc3339_to_unix(s);
        return rfc3339_to_unix(rec_str(rec, "Created")) < until;
}

int engine_network_prune(struct engine *e, json_t *filters, json_t **out, berth_error_t **err)
{
        json_t *records, *rec, *deleted = json_array();
        size_t i;

        if (check_filters(filters, true, err) < 0)
                return -1;
        snapshot(e, &records);
        json_array_foreach(records, i, rec) {
                if (is_predefined(rec) || !prune_label_ok(filters, rec) || !prune_until_ok(filters, rec))
                        continue;
                /* only networks without endpoints go: remove_locked checks */
                _cleanup_error_ berth_error_t *e2 = NULL;
                if (engine_network_remove(e, rec_str(rec, "Id"), &e2) == 0)
                        json_array_append_new(deleted, json_string(rec_str(rec, "Name")));
        }
        json_decref(records);
        engine_event(e, "network", "prune", "", json_pack("{s:s}", "reclaimed", "0"));
        /* dockerd answers null for nothing deleted (a nil slice) */
        *out = json_pack("{s:o}", "NetworksDeleted", json_array_size(deleted) ? deleted : json_null());
        if (json_array_size(deleted) == 0)
                json_decref(deleted);
        return 0;
}

/* ---- connect, disconnect ------------------------------------------------------ */

int engine_network_connect(struct engine *e, const char *name, json_t *body, berth_error_t **err)
{
        const char *ctr_name = json_string_value(json_object_get(body, "Container"));
        json_t *cfg = json_object_get(body, "EndpointConfig");
        _cleanup_free_ char *net_name = NULL;
        struct ctr *c;

        pthread_mutex_lock(&e->net->lock);
        struct network *n = net_find_locked(e, name);
        if (n)
                net_name = xstrdup(n->name);
        pthread_mutex_unlock(&e->net->lock);
        if (net_name == NULL)
                return not_found(name, err);
        if (ctr_find(e, ctr_name ? ctr_name : "", &c, err) < 0)
                return -1;
        int r = ctr_net_connect(e, c, net_name, cfg, err);
        if (r == 0)
                engine_event(e, "network", "connect", n->id, json_pack("{s:s, s:s, s:s}", "container", c->id, "name",
                                                                        net_name, "type", "bridge"));
        ctr_unref(c);
        return r;
}

int engine_network_disconnect(struct engine *e, const char *name, json_t *body, berth_error_t **err)
{
        const char *ctr_name = json_string_value(json_object_get(body, "Container"));
        bool force = json_is_true(json_object_get(body, "Force"));
        _cleanup_free_ char *net_name = NULL, *net_id = NULL;
        struct ctr *c;

        pthread_mutex_lock(&e->net->lock);
        struct network *n = net_find_locked(e, name);
        if (n) {
                net_name = xstrdup(n->name);
                net_id = xstrdup(n->id);
        }
        pthread_mutex_unlock(&e->net->lock);
        if (net_name == NULL)
                return not_found(name, err);
        if (ctr_find(e, ctr_name ? ctr_name : "", &c, err) < 0)
                return -1;
        int r = ctr_net_disconnect(e, c, net_name, force, err);
        if (r == 0)
                engine_event(e, "network", "disconnect", net_id,
                             json_pack("{s:s, s:s, s:s}", "container", c->id, "name", net_name, "type", "bridge"));
        ctr_unref(c);
        return r;
}

struct dns_server *engine_dns(struct engine *e)
{
        return e->net ? e->net->dns : NULL;
}
