/* Berth's packet filtering: one nftables table that Berth owns ("ip
 * berth"; "ip6 berth" when a network has IPv6), through libnftables.
 * Outbound NAT per network, isolation between networks, and published
 * ports as elements of DNAT maps, so publishing and unpublishing touch
 * only their own elements.  Calls serialise on one internal lock. */
#pragma once
#include "util/error.h"
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Delete any table a previous daemon left, make the base table (maps,
 * chains).  Must come before the others. */
int nft_init(berth_error_t **err);
/* Delete the table (daemon shutdown). */
int nft_fini(berth_error_t **err);
/* Whether a table of ours exists now (tests, crash cleanup). */
bool nft_table_exists(void);

struct nft_network {
        const char *bridge;             /* its bridge link */
        struct in_addr subnet;
        unsigned prefix;
        bool masquerade;                /* outbound NAT for traffic leaving by another link */
        bool internal;                  /* no traffic to or from outside the bridge */
        bool icc;                       /* containers on it may talk to each other */
};
/* Rules for one network: masquerade of its subnet leaving by any other
 * link, hairpin NAT (a container reaching a published port of its own
 * network through the host), isolation from every other Berth bridge. */
int nft_network_add(const struct nft_network *n, berth_error_t **err);
int nft_network_remove(const char *bridge, berth_error_t **err);

struct nft_port {
        int proto;                      /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
        struct in_addr host_ip;         /* INADDR_ANY: every local address */
        uint16_t host_port;
        struct in_addr ctr_ip;
        uint16_t ctr_port;
};
/* DNAT for traffic to a local address (from outside, from the host itself
 * including 127.0.0.1, from containers); all or none. */
int nft_ports_add(const struct nft_port *p, size_t n, berth_error_t **err);
/* Ports not published are skipped. */
int nft_ports_remove(const struct nft_port *p, size_t n, berth_error_t **err);
