/* Networks and container endpoints, inside the engine (not an API).
 *
 * A network is a record in berth.db (the inspect object dockerd shows,
 * without Containers) and, for the bridge driver, a bridge link, its
 * nftables rules (made when the network is created, or when the daemon
 * first needs them after a restart) and the addresses handed out on it.
 * "bridge" (the default, link berth0), "host" and "none" always exist.
 *
 * A container's endpoints exist while it runs: ctr_net_up at start makes
 * its network namespace (<exec-root>/netns/<id>, named in config.json),
 * one veth per network, its published ports and its resolver; ctr_net_down
 * at exit undoes all of it.  What is up is recorded in c->net (berth.db),
 * so that a restarted daemon takes the running containers' endpoints back
 * and releases those of containers that died meanwhile.
 *
 * Locks: the network manager's lock is taken last, and held only for
 * bookkeeping (and the first making of a bridge); links, rules and sockets
 * are made outside it. */
#pragma once
#include "engine/engine-internal.h"
#include "net/ipam.h"

struct network {
        char *id, *name, *driver, *created;
        char *bridge;           /* its link (bridge driver) */
        json_t *record;         /* as stored and shown, without Containers */
        bool predefined, is_default, internal, masquerade, icc;
        unsigned mtu;
        bool has_ipam;
        struct ipam_space ipam;
        bool up;                /* link and rules made by this daemon */
        unsigned active;        /* endpoints on it now */
};

struct netmgr {
        pthread_mutex_t lock;
        struct network **nets;
        size_t n;
        bool nft_ready;
        struct dns_server *dns;
        struct port_hold *holds;        /* engine-ports.c: reserved host ports */
        size_t n_holds;
};

/* engine-network.c */
int engine_net_open(struct engine *e, berth_error_t **err);
void engine_net_close(struct engine *e);
/* By name, id or unique id prefix (net lock held). */
struct network *net_find_locked(struct engine *e, const char *name);
/* Berth's nftables table, made unless it was (with and without the lock). */
int net_nft_ready_locked(struct engine *e, berth_error_t **err);
int net_nft_ready(struct engine *e, berth_error_t **err);
/* The link and its rules, unless made already (net lock held). */
int net_up_locked(struct engine *e, struct network *n, berth_error_t **err);
/* The daemon's upstream resolvers: daemon.json dns, else the host's
 * nameservers (NULL-terminated; free with cleanup_strvp). */
char **net_daemon_upstreams(void);

/* engine-endpoint.c */
/* At create: NetworkMode resolved ("default" is "bridge"), the network
 * checked, EndpointsConfig keyed by network name, --ip and aliases
 * checked.  *bridged: the container gets endpoints (its own namespace). */
int ctr_net_prepare(struct engine *e, json_t *body, bool *bridged, berth_error_t **err);
bool ctr_net_bridged(struct ctr *c);
char *ctr_netns_path(struct engine *e, const char *id);
/* At start (c->lock held); on failure nothing is left. */
int ctr_net_up(struct engine *e, struct ctr *c, berth_error_t **err);
/* At exit and at removal (c->lock not held); idempotent. */
void ctr_net_down(struct engine *e, struct ctr *c);
/* engine_open: a running container's endpoints taken back, a dead one's
 * released. */
void ctr_net_restore(struct engine *e, struct ctr *c, bool running);
/* /etc/hosts and /etc/resolv.conf of the container, for its mode and
 * endpoints (c->lock held). */
int ctr_write_etc(struct engine *e, struct ctr *c, berth_error_t **err);
/* inspect's NetworkSettings and the list's Ports and NetworkSettings
 * (c->lock held). */
json_t *ctr_net_settings(struct ctr *c);
json_t *ctr_net_ports_summary(struct ctr *c);
json_t *ctr_net_networks_summary(struct ctr *c);
/* ps --filter network=: by name, or by (a prefix of) the id of a network
 * it has an endpoint on (c->lock held). */
bool ctr_net_on(struct ctr *c, const char *name_or_id);
/* After a rename: the resolver answers the new name (c->lock not held). */
void ctr_net_renamed(struct engine *e, struct ctr *c);
/* /networks/{id}/connect and disconnect. */
int ctr_net_connect(struct engine *e, struct ctr *c, const char *net_name, json_t *endpoint_config,
                    berth_error_t **err);
int ctr_net_disconnect(struct engine *e, struct ctr *c, const char *net_name, bool force, berth_error_t **err);

/* engine-ports.c: host ports held (a bound socket each, as dockerd holds
 * them, so that a port in use is an error at start) and their DNAT.
 * Port maps are NetworkSettings.Ports-shaped: {"80/tcp": [{"HostIp",
 * "HostPort"}]}.  ports_wanted: from HostConfig.PortBindings and, with
 * PublishAllPorts, every exposed port (HostPort "": any free one). */
json_t *ports_wanted(struct ctr *c);
/* Reserve and publish to ctr_ip; *bound has the ports chosen.  All or
 * nothing. */
int ports_publish(struct engine *e, const char *id, json_t *wanted, uint32_t ctr_ip, json_t **bound,
                  berth_error_t **err);
void ports_unpublish(struct engine *e, const char *id, json_t *bound, uint32_t ctr_ip);
void ports_close_all(struct engine *e);
