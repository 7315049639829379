/* Kubernetes Services in nftables, modelled on kube-proxy's nftables
 * mode, in a table of their own ("ip berth-svc") that never touches
 * Berth's container rules ("ip berth", nft.h).
 *
 * A connection to a service's cluster IP and port (from a pod through
 * prerouting, from the host through output) or to a node port on any
 * local address, 127.0.0.1 included, is DNATed to one of the port's
 * endpoints chosen at random per connection, or to the one a client is
 * pinned to (sessionAffinity ClientIP).  Service traffic is masqueraded
 * (a pod reaching itself through its service, a pod on the same bridge
 * as its client, loopback), so pods see the host's address on the
 * bridge as the client.  A connection to a cluster IP with no endpoint
 * for that port, or to a node port with none, is refused at once (TCP
 * reset, ICMP port unreachable), never left to time out.
 *
 * The caller hands the whole desired state to nft_svc_sync each time;
 * the table is changed in one kernel transaction (all of it or none),
 * touching only what differs from the last sync, so that an affinity
 * client's pin survives changes to other services. */
#pragma once
#include "util/error.h"
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The packet mark bit that asks for masquerade (kube-proxy's). */
#define NFT_SVC_MASQ_MARK 0x4000

struct nft_svc_endpoint {
        struct in_addr ip;
        uint16_t port;                  /* the target port on this endpoint */
};

struct nft_svc_port {
        int proto;                      /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
        uint16_t port;                  /* on the cluster IP */
        uint16_t node_port;             /* 0: none */
        const struct nft_svc_endpoint *eps;
        size_t n_eps;                   /* 0: connections are refused */
};

struct nft_svc {
        const char *id;                 /* unique, e.g. "default/web": [A-Za-z0-9_./-], at most 160 */
        struct in_addr vip;             /* INADDR_ANY: no cluster IP (node ports only) */
        bool affinity_client_ip;
        uint32_t affinity_timeout_s;    /* with affinity: 1..86400 (0: 10800, Kubernetes' default) */
        const struct nft_svc_port *ports;
        size_t n_ports;
};

/* Make the table hold exactly these services, in one transaction.  The
 * first call (and any after a failure) recreates the table.  EINVAL for
 * an invalid id, protocol, port or address, and for a cluster IP, node
 * port, service port or endpoint given twice; nothing changes then. */
int nft_svc_sync(const struct nft_svc *svcs, size_t n, berth_error_t **err);
/* Delete the table (shutdown); nothing to do when it does not exist. */
int nft_svc_fini(berth_error_t **err);
/* Whether the table exists now (tests, crash cleanup). */
bool nft_svc_table_exists(void);
