/* Services: what the API's apply path and the kubelet call, beside the
 * controller's kube_services_init/reconcile/fini (kube.h).
 *
 * kube-service-spec.c: validation and defaulting with kube-apiserver's
 * rules and words, cluster IP and node port allocation, the service
 * environment variables.  kube-endpoints.c: what a Service's Endpoints
 * hold, from its pods (the endpoints controller's rules), and what its
 * ports lead to.  kube-service.c: the controller (Endpoints objects,
 * nftables rules through net/nft-svc.h, DNS names, the route of the
 * service range). */
#pragma once
#include "orch/kube.h"
#include <netinet/in.h>

#define KUBE_NODE_PORT_MIN 30000
#define KUBE_NODE_PORT_MAX 32767
#define KUBE_AFFINITY_TIMEOUT_DEFAULT 10800
#define KUBE_AFFINITY_TIMEOUT_MAX 86400

/* Check a Service on its way into the store (old: the stored one, NULL on
 * create).  EINVAL with kube-apiserver's detail, which the caller puts
 * after `Service "web" is invalid: `, e.g. "spec.ports[0].nodePort:
 * Invalid value: 8080: provided port is not in the valid range. The
 * range of valid ports is 30000-32767".  A cluster IP or node port given
 * must be free (not another Service's, stored or being applied). */
int kube_service_validate(struct kube *k, const json_t *svc, const json_t *old, berth_error_t **err);

/* Defaults, as kube-apiserver fills them on create and update (after
 * kube_service_validate, under kube_lock): type ClusterIP,
 * sessionAffinity None (ClientIP: timeoutSeconds 10800), ports' protocol
 * TCP and targetPort = port, and what the Service lacks of a cluster IP
 * (clusterIP, clusterIPs, ipFamilies, ipFamilyPolicy) and of node ports
 * (type NodePort or LoadBalancer).  What it hands out is reserved for a
 * while, so that a second Service of the same apply gets others.  The
 * controller allocates what is still missing too (a Service stored
 * before this was called, a daemon with another range). */
int kube_service_default(struct kube *k, json_t *svc, const json_t *old, berth_error_t **err);

/* The service variables of a pod in ns, as the kubelet makes them
 * (FOO_SERVICE_HOST, FOO_SERVICE_PORT, FOO_SERVICE_PORT_<NAME>, FOO_PORT,
 * FOO_PORT_<port>_<PROTO>{,_PROTO,_PORT,_ADDR}) for each Service there
 * with a cluster IP: a new object NAME -> value. */
json_t *kube_service_env(struct kube *k, const char *ns);

/* ---- shared by the two files ---- */

/* The service range (kube_options(k)->service_cidr): its first address
 * and prefix length.  EINVAL when it is no IPv4 CIDR of /8../30. */
int kube_service_cidr(struct kube *k, struct in_addr *net, unsigned *prefix, berth_error_t **err);
/* A cluster IP, or node ports, for a stored Service that lacks them (the
 * controller, under kube_lock): *changed tells whether svc was changed. */
int kube_service_allocate(struct kube *k, json_t *svc, bool *changed, berth_error_t **err);
/* The service's cluster IP when it has one ("None" and "" are none). */
const char *kube_service_cluster_ip(const json_t *svc);
bool kube_service_is_headless(const json_t *svc);

/* ---- kube-endpoints.c ---- */

/* The subsets a selector Service's Endpoints should hold, from every pod
 * of pods (any namespace; only svc's count): each pod with an IP, not
 * finished, matching the selector, as an address (Ready, or any with
 * publishNotReadyAddresses; a terminating pod only then) or a
 * notReadyAddress, under the ports its targetPorts resolve to (a named
 * one through the pod's containers[].ports[].name; a port a pod cannot
 * resolve leaves that pod out of it).  Pods with the same ports share a
 * subset; addresses sorted by IP.  A new array (empty: none). */
json_t *kube_endpoints_subsets(const json_t *svc, const json_t *pods);
/* Where the service port (an element of spec.ports) leads: [[ip, port],
 * ...] from the subsets' ready addresses, sorted, no duplicates. */
json_t *kube_endpoints_targets(const json_t *port, const json_t *subsets);
/* The ready addresses' IPs, sorted, no duplicates (headless DNS). */
json_t *kube_endpoints_ips(const json_t *subsets);
