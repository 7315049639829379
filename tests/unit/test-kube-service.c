/* Services' validation, defaults, allocation and environment variables
 * (src/orch/kube-service-spec.c) and what their Endpoints hold
 * (src/orch/kube-endpoints.c), over the real object store (kube-store.c)
 * in a temp dir: no daemon or engine is needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "orch/kube-internal.h"
#include "orch/kube-service.h"
#include "util/util.h"

/* ---- the store ---- */

static struct kube *K;
static char dir[64];
static struct kube_opts opts;   /* the test's view of K->opts */

static void store(json_t *obj)
{
        berth_error_t *err = NULL;

        if (kube_create(K, obj, NULL, &err) < 0)
                fail_msg("store: %s", err->msg);
        json_decref(obj);
}

/* The i-th object stored (the store keeps them in creation order); valid
 * until the test's teardown (each call's list is kept until then). */
static json_t *listed;
static json_t *stored_at(size_t i)
{
        json_t *list = kube_list(K, NULL, NULL, NULL);

        if (listed == NULL)
                listed = json_array();
        json_array_append_new(listed, list);
        return json_array_get(list, i);
}

/* The test changes opts.service_cidr; the store's copy follows. */
#define SYNC_OPTS() (K->opts.service_cidr = opts.service_cidr)

static int setup(void **state)
{
        berth_error_t *err = NULL;
        (void)state;

        snprintf(dir, sizeof(dir), "/tmp/test-kube-service.XXXXXX");
        assert_non_null(mkdtemp(dir));
        K = xcalloc(1, sizeof(*K));
        K->data_root = xstrdup(dir);
        pthread_mutex_init(&K->store_lock, NULL);
        pthread_mutex_init(&K->wake_lock, NULL);
        pthread_mutex_init(&K->events_lock, NULL);
        pthread_cond_init(&K->wake_cond, NULL);
        assert_int_equal(kube_store_open(K, &err), 0);
        opts.service_cidr = "10.43.0.0/16";
        SYNC_OPTS();
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        json_decref(listed);
        listed = NULL;
        kube_store_close(K);
        kube_events_clear(K);
        free(K->data_root);
        free(K);
        K = NULL;
        remove_tree_at(-100 /* AT_FDCWD */, dir);
        return 0;
}

static json_t *parse(const char *text)
{
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);

        if (j == NULL)
                fail_msg("bad JSON in the test: %s: %s", e.text, text);
        return j;
}

/* A Service named name in ns with this spec (JSON text). */
static json_t *service(const char *ns, const char *name, const char *spec)
{
        json_t *s = parse(spec);
        json_t *svc = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:o}", "apiVersion", "v1", "kind", "Service", "metadata",
                                "name", name, "namespace", ns, "creationTimestamp", "2026-01-01T00:00:00Z", "spec", s);

        assert_non_null(svc);
        return svc;
}


/* ---- validation ---- */

static void expect_invalid(const char *ns, const char *name, const char *spec, const json_t *old, const char *msg)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *svc = service(ns, name, spec);
        int r = kube_service_validate(K, svc, old, &err);

        if (r >= 0)
                fail_msg("accepted: %s", spec);
        assert_int_equal(r, -EINVAL);
        assert_int_equal(err->status, EINVAL);
        assert_string_equal(err->msg, msg);
        json_decref(svc);
}

static void expect_valid(const char *spec, const json_t *old)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *svc = service("default", "web", spec);

        if (kube_service_validate(K, svc, old, &err) < 0)
                fail_msg("refused: %s: %s", spec, err->msg);
        json_decref(svc);
}

static void validate_ports(void **state)
{
        (void)state;
        expect_valid("{\"selector\": {\"app\": \"web\"}, \"ports\": [{\"port\": 80, \"targetPort\": \"http\"}]}", NULL);
        expect_valid("{\"clusterIP\": \"None\", \"selector\": {\"app\": \"web\"}}", NULL);
        expect_valid("{\"type\": \"ExternalName\", \"externalName\": \"example.com\"}", NULL);
        expect_valid("{\"ports\": [{\"name\": \"a\", \"port\": 80}, {\"name\": \"b\", \"port\": 80, \"protocol\": "
                     "\"UDP\"}]}",
                     NULL);
        expect_invalid("default", "web", "{\"selector\": {}}", NULL, "spec.ports: Required value");
        expect_invalid("default", "web", "{\"ports\": [{\"port\": 0}]}", NULL,
                       "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive");
        expect_invalid("default", "web", "{\"ports\": [{\"targetPort\": 80}]}", NULL, "spec.ports[0].port: Required value");
        expect_invalid("default", "web", "{\"ports\": [{\"port\": 80, \"protocol\": \"ICMP\"}]}", NULL,
                       "spec.ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", "
                       "\"UDP\"");
        expect_invalid("default", "web", "{\"ports\": [{\"name\": \"a\", \"port\": 80}, {\"port\": 81}]}", NULL,
                       "spec.ports[1].name: Required value");
        expect_invalid("default", "web", "{\"ports\": [{\"name\": \"a\", \"port\": 80}, {\"name\": \"a\", \"port\": 81}]}",
                       NULL, "spec.ports[1].name: Duplicate value: \"a\"");
        expect_invalid("default", "web", "{\"ports\": [{\"name\": \"a\", \"port\": 80}, {\"name\": \"b\", \"port\": 80}]}",
                       NULL, "spec.ports[1]: Duplicate value: \"80/TCP\"");
        expect_invalid("default", "web", "{\"ports\": [{\"port\": 80, \"targetPort\": 70000}]}", NULL,
                       "spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive");
        expect_invalid("default", "web", "{\"ports\": [{\"port\": 80, \"targetPort\": \"Bad_Name\"}]}", NULL,
                       "spec.ports[0].targetPort: Invalid value: \"Bad_Name\": must contain only alpha-numeric "
                       "characters (a-z, 0-9), and hyphens (-), at most 15, with at least one letter");
        expect_invalid("default", "web", "{\"type\": \"Magic\", \"ports\": [{\"port\": 80}]}", NULL,
                       "spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", "
                       "\"LoadBalancer\", \"NodePort\"");
        expect_invalid("default", "web", "{\"sessionAffinity\": \"Cookie\", \"ports\": [{\"port\": 80}]}", NULL,
                       "spec.sessionAffinity: Unsupported value: \"Cookie\": supported values: \"ClientIP\", \"None\"");
        expect_invalid("default", "web",
                       "{\"sessionAffinity\": \"ClientIP\", \"sessionAffinityConfig\": {\"clientIP\": "
                       "{\"timeoutSeconds\": 86401}}, \"ports\": [{\"port\": 80}]}",
                       NULL,
                       "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 "
                       "and less than 86400");
        expect_invalid("default", "web", "{\"selector\": [\"app\"], \"ports\": [{\"port\": 80}]}", NULL,
                       "spec.selector: Invalid value: must be a map of labels");
}

/* S5: the node port range, duplicates, the type. */
static void validate_node_ports(void **state)
{
        (void)state;
        store(service("other", "db", "{\"type\": \"NodePort\", \"clusterIP\": \"10.43.0.20\", "
                                     "\"ports\": [{\"port\": 5432, \"nodePort\": 30432}]}"));
        expect_valid("{\"type\": \"NodePort\", \"ports\": [{\"port\": 80, \"nodePort\": 30080}]}", NULL);
        expect_valid("{\"type\": \"NodePort\", \"ports\": [{\"port\": 80}]}", NULL);
        /* the same port over UDP is another port */
        expect_valid("{\"type\": \"NodePort\", \"ports\": [{\"name\": \"t\", \"port\": 80, \"nodePort\": 30080}, "
                     "{\"name\": \"u\", \"port\": 80, \"protocol\": \"UDP\", \"nodePort\": 30080}]}",
                     NULL);
        expect_invalid("default", "web", "{\"type\": \"NodePort\", \"ports\": [{\"port\": 80, \"nodePort\": 8080}]}", NULL,
                       "spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range "
                       "of valid ports is 30000-32767");
        expect_invalid("default", "web", "{\"type\": \"NodePort\", \"ports\": [{\"port\": 80, \"nodePort\": 32768}]}", NULL,
                       "spec.ports[0].nodePort: Invalid value: 32768: provided port is not in the valid range. The "
                       "range of valid ports is 30000-32767");
        expect_invalid("default", "web", "{\"type\": \"NodePort\", \"ports\": [{\"port\": 80, \"nodePort\": 30432}]}", NULL,
                       "spec.ports[0].nodePort: Invalid value: 30432: provided port is already allocated");
        expect_invalid("default", "web",
                       "{\"type\": \"NodePort\", \"ports\": [{\"name\": \"a\", \"port\": 80, \"nodePort\": 30080}, "
                       "{\"name\": \"b\", \"port\": 81, \"nodePort\": 30080}]}",
                       NULL, "spec.ports[1].nodePort: Duplicate value: 30080");
        expect_invalid("default", "web", "{\"ports\": [{\"port\": 80, \"nodePort\": 30080}]}", NULL,
                       "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'");
        /* the Service itself, applied again, keeps its own port */
        expect_invalid("other", "db2", "{\"type\": \"NodePort\", \"ports\": [{\"port\": 1, \"nodePort\": 30432}]}", NULL,
                       "spec.ports[0].nodePort: Invalid value: 30432: provided port is already allocated");
        {
                _cleanup_error_ berth_error_t *err = NULL;
                json_t *again = service("other", "db", "{\"type\": \"NodePort\", \"ports\": [{\"port\": 5432, "
                                                       "\"nodePort\": 30432}]}");
                assert_int_equal(kube_service_validate(K, again, stored_at(0), &err), 0);
                json_decref(again);
        }
}

/* S1: a cluster IP given must be in the range, free, and stay. */
static void validate_cluster_ip(void **state)
{
        (void)state;
        json_t *old;

        store(service("default", "db", "{\"clusterIP\": \"10.43.0.20\", \"ports\": [{\"port\": 5432}]}"));
        expect_valid("{\"clusterIP\": \"10.43.0.21\", \"ports\": [{\"port\": 80}]}", NULL);
        expect_valid("{\"clusterIP\": \"10.43.0.1\", \"ports\": [{\"port\": 80}]}", NULL);
        expect_invalid("default", "web", "{\"clusterIP\": \"10.0.0.1\", \"ports\": [{\"port\": 80}]}", NULL,
                       "spec.clusterIPs: Invalid value: []string{\"10.0.0.1\"}: failed to allocate IP 10.0.0.1: the "
                       "provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.43.0.0/16");
        expect_invalid("default", "web", "{\"clusterIP\": \"10.43.255.255\", \"ports\": [{\"port\": 80}]}", NULL,
                       "spec.clusterIPs: Invalid value: []string{\"10.43.255.255\"}: failed to allocate IP "
                       "10.43.255.255: the provided IP (10.43.255.255) is not in the valid range. The range of valid IPs "
                       "is 10.43.0.0/16");
        expect_invalid("default", "web", "{\"clusterIP\": \"10.43.0.20\", \"ports\": [{\"port\": 80}]}", NULL,
                       "spec.clusterIPs: Invalid value: []string{\"10.43.0.20\"}: failed to allocate IP 10.43.0.20: "
                       "provided IP is already allocated");
        expect_invalid("default", "web", "{\"clusterIP\": \"ten\", \"ports\": [{\"port\": 80}]}", NULL,
                       "spec.clusterIPs[0]: Invalid value: \"ten\": must be a valid IP address, (e.g. 10.9.8.7 or "
                       "2001:db8::ffff)");
        expect_invalid("default", "web", "{\"type\": \"NodePort\", \"clusterIP\": \"None\", \"ports\": [{\"port\": 80}]}",
                       NULL, "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services");
        /* an update keeps the address; the Service's own is no conflict */
        old = stored_at(0);
        expect_invalid("default", "db", "{\"clusterIP\": \"10.43.0.30\", \"ports\": [{\"port\": 5432}]}", old,
                       "spec.clusterIPs[0]: Invalid value: []string{\"10.43.0.30\"}: may not change once set");
        expect_invalid("default", "db", "{\"clusterIP\": \"None\", \"ports\": [{\"port\": 5432}]}", old,
                       "spec.clusterIPs[0]: Invalid value: []string{\"None\"}: may not change once set");
        {
                _cleanup_error_ berth_error_t *err = NULL;
                json_t *again = service("default", "db", "{\"clusterIP\": \"10.43.0.20\", \"ports\": [{\"port\": 5433}]}");
                assert_int_equal(kube_service_validate(K, again, old, &err), 0);
                json_decref(again);
        }
}

/* ---- defaults and allocation ---- */

static json_t *defaulted(const char *ns, const char *name, const char *spec)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *svc = service(ns, name, spec);

        if (kube_service_validate(K, svc, NULL, &err) < 0 || kube_service_default(K, svc, NULL, &err) < 0)
                fail_msg("%s: %s", spec, err->msg);
        return svc;
}

static uint32_t host_order(const char *ip)
{
        struct in_addr a;

        assert_int_equal(inet_pton(AF_INET, ip, &a), 1);
        return ntohl(a.s_addr);
}

static void defaults(void **state)
{
        (void)state;
        json_t *svc = defaulted("default", "web", "{\"selector\": {\"app\": \"web\"}, \"sessionAffinity\": \"ClientIP\", "
                                                  "\"ports\": [{\"name\": \"a\", \"port\": 80}, {\"name\": \"x\", \"port\": 81, "
                                                  "\"targetPort\": \"http\"}]}");
        json_t *spec = json_object_get(svc, "spec"), *p0, *p1;
        const char *ip = kube_service_cluster_ip(svc);
        uint32_t v;

        assert_string_equal(json_string_value(json_object_get(spec, "type")), "ClusterIP");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(spec, "sessionAffinityConfig"),
                                                                            "clientIP"),
                                                            "timeoutSeconds")),
                         10800);
        p0 = json_array_get(json_object_get(spec, "ports"), 0);
        p1 = json_array_get(json_object_get(spec, "ports"), 1);
        assert_string_equal(json_string_value(json_object_get(p0, "protocol")), "TCP");
        assert_int_equal(json_integer_value(json_object_get(p0, "targetPort")), 80);
        assert_string_equal(json_string_value(json_object_get(p1, "targetPort")), "http");
        assert_null(json_object_get(p0, "nodePort"));
        /* an address of the range, neither its first two nor its last */
        assert_non_null(ip);
        v = host_order(ip);
        assert_true(v >= host_order("10.43.0.2") && v <= host_order("10.43.255.254"));
        assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "clusterIPs"), 0)), ip);
        assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "ipFamilies"), 0)), "IPv4");
        assert_string_equal(json_string_value(json_object_get(spec, "ipFamilyPolicy")), "SingleStack");
        json_decref(svc);

        /* headless: none, and says so */
        svc = defaulted("default", "hl", "{\"clusterIP\": \"None\", \"selector\": {\"app\": \"web\"}}");
        assert_null(kube_service_cluster_ip(svc));
        assert_true(kube_service_is_headless(svc));
        assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(svc, "spec"), "clusterIPs"), 0)),
                            "None");
        json_decref(svc);
        /* given: kept */
        svc = defaulted("default", "given", "{\"clusterIP\": \"10.43.7.7\", \"ports\": [{\"port\": 80}]}");
        assert_string_equal(kube_service_cluster_ip(svc), "10.43.7.7");
        assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(svc, "spec"), "clusterIPs"), 0)),
                            "10.43.7.7");
        json_decref(svc);
}

/* An update that leaves them out keeps the address and node ports. */
static void update_keeps(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *old = defaulted("default", "keep", "{\"type\": \"NodePort\", \"ports\": [{\"name\": \"a\", \"port\": 80}, "
                                                   "{\"name\": \"b\", \"port\": 81}]}");
        json_t *ports = json_object_get(json_object_get(old, "spec"), "ports");
        json_int_t np80 = json_integer_value(json_object_get(json_array_get(ports, 0), "nodePort"));
        /* port 81 goes, 82 comes, 80 moves to second place */
        json_t *upd = service("default", "keep", "{\"type\": \"NodePort\", \"ports\": [{\"name\": \"c\", \"port\": 82}, "
                                                 "{\"name\": \"a\", \"port\": 80}]}");
        json_t *uports = json_object_get(json_object_get(upd, "spec"), "ports");

        store(json_incref(old));
        assert_int_equal(kube_service_validate(K, upd, old, &err), 0);
        assert_int_equal(kube_service_default(K, upd, old, &err), 0);
        assert_string_equal(kube_service_cluster_ip(upd), kube_service_cluster_ip(old));
        assert_int_equal(json_integer_value(json_object_get(json_array_get(uports, 1), "nodePort")), np80);
        assert_true(json_integer_value(json_object_get(json_array_get(uports, 0), "nodePort")) >= 30000);
        assert_true(json_integer_value(json_object_get(json_array_get(uports, 0), "nodePort")) != np80);
        json_decref(upd);
        json_decref(old);
}

/* S5: node ports allocated in the range, distinct, the given ones kept. */
static void node_port_allocation(void **state)
{
        (void)state;
        json_t *svc = defaulted("default", "np", "{\"type\": \"NodePort\", \"ports\": [{\"name\": \"a\", \"port\": 80}, "
                                                 "{\"name\": \"b\", \"port\": 81, \"nodePort\": 30081}, {\"name\": \"c\", "
                                                 "\"port\": 82}]}");
        json_t *ports = json_object_get(json_object_get(svc, "spec"), "ports");
        json_int_t a = json_integer_value(json_object_get(json_array_get(ports, 0), "nodePort"));
        json_int_t b = json_integer_value(json_object_get(json_array_get(ports, 1), "nodePort"));
        json_int_t c = json_integer_value(json_object_get(json_array_get(ports, 2), "nodePort"));

        assert_true(a >= 30000 && a <= 32767);
        assert_true(c >= 30000 && c <= 32767);
        assert_int_equal(b, 30081);
        assert_true(a != b && a != c && b != c);
        json_decref(svc);
}

/* Two Services of one apply (neither stored yet) never get the same
 * address; stored ones are never handed out; a full range says so. */
static void allocation_exhaustion(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        /* 10.44.0.0/29: .2 to .6 are handed out */
        char *seen[5] = { 0 };  /* copies: store() hands the Service over */
        json_t *svc;
        bool changed;

        opts.service_cidr = "10.44.0.0/29";

        SYNC_OPTS();
        store(service("default", "old", "{\"clusterIP\": \"10.44.0.4\", \"ports\": [{\"port\": 80}]}"));
        for (int i = 0; i < 4; i++) {
                _cleanup_free_ char *name = xasprintf("s%d", i);
                svc = defaulted("default", name, "{\"ports\": [{\"port\": 80}]}");
                assert_non_null(kube_service_cluster_ip(svc));
                seen[i] = xstrdup(kube_service_cluster_ip(svc));
                assert_string_not_equal(seen[i], "10.44.0.4");
                assert_true(host_order(seen[i]) >= host_order("10.44.0.2") && host_order(seen[i]) <= host_order("10.44.0.6"));
                for (int j = 0; j < i; j++)
                        assert_string_not_equal(seen[i], seen[j]);
                store(svc);
        }
        for (int i = 0; i < 5; i++)
                free(seen[i]);
        svc = service("default", "one-too-many", "{\"ports\": [{\"port\": 80}]}");
        assert_true(kube_service_default(K, svc, NULL, &err) < 0);
        assert_int_equal(err->status, ENOSPC);
        assert_string_equal(err->msg, "Internal error occurred: failed to allocate a serviceIP: range is full");
        json_decref(svc);
        /* the controller's allocation of a stored one that lacks its address */
        berth_error_free(&err);
        svc = service("default", "s0", "{\"ports\": [{\"port\": 80}]}");
        assert_int_equal(kube_service_allocate(K, svc, &changed, &err), 0);
        assert_true(changed);
        json_decref(svc);
        svc = json_deep_copy(stored_at(1));
        assert_int_equal(kube_service_allocate(K, svc, &changed, &err), 0);
        assert_false(changed);
        json_decref(svc);
}

static void bad_range(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        struct in_addr net;
        unsigned prefix;

        opts.service_cidr = "10.43.0.0/31";

        SYNC_OPTS();
        assert_int_equal(kube_service_cidr(K, &net, &prefix, &err), -EINVAL);
        assert_string_equal(err->msg, "service range 10.43.0.0/31: not an IPv4 CIDR from /8 to /30");
        berth_error_free(&err);
        opts.service_cidr = "10.43.1.7/16";
        SYNC_OPTS();
        assert_int_equal(kube_service_cidr(K, &net, &prefix, &err), 0);
        assert_int_equal(prefix, 16);
        assert_int_equal(ntohl(net.s_addr), host_order("10.43.0.0"));
}

/* ---- S6: environment variables ---- */

static void environment(void **state)
{
        (void)state;
        json_t *env, *want;

        store(service("default", "my-web", "{\"clusterIP\": \"10.43.0.10\", \"ports\": [{\"name\": \"http\", \"port\": 80, "
                                           "\"protocol\": \"TCP\"}, {\"name\": \"dns-udp\", \"port\": 53, \"protocol\": "
                                           "\"UDP\"}]}"));
        store(service("default", "headless", "{\"clusterIP\": \"None\", \"ports\": [{\"port\": 80}]}"));
        store(service("default", "pending", "{\"ports\": [{\"port\": 80}]}"));
        store(service("other", "elsewhere", "{\"clusterIP\": \"10.43.0.11\", \"ports\": [{\"port\": 80}]}"));
        env = kube_service_env(K, "default");
        want = parse("{"
                     "\"MY_WEB_SERVICE_HOST\": \"10.43.0.10\","
                     "\"MY_WEB_SERVICE_PORT\": \"80\","
                     "\"MY_WEB_SERVICE_PORT_HTTP\": \"80\","
                     "\"MY_WEB_SERVICE_PORT_DNS_UDP\": \"53\","
                     "\"MY_WEB_PORT\": \"tcp://10.43.0.10:80\","
                     "\"MY_WEB_PORT_80_TCP\": \"tcp://10.43.0.10:80\","
                     "\"MY_WEB_PORT_80_TCP_PROTO\": \"tcp\","
                     "\"MY_WEB_PORT_80_TCP_PORT\": \"80\","
                     "\"MY_WEB_PORT_80_TCP_ADDR\": \"10.43.0.10\","
                     "\"MY_WEB_PORT_53_UDP\": \"udp://10.43.0.10:53\","
                     "\"MY_WEB_PORT_53_UDP_PROTO\": \"udp\","
                     "\"MY_WEB_PORT_53_UDP_PORT\": \"53\","
                     "\"MY_WEB_PORT_53_UDP_ADDR\": \"10.43.0.10\"}");
        if (!json_equal(env, want)) {
                char *got = json_dumps(env, JSON_SORT_KEYS | JSON_INDENT(1));
                fail_msg("environment:\n%s", got);
        }
        json_decref(env);
        json_decref(want);
        env = kube_service_env(K, "empty");
        assert_int_equal(json_object_size(env), 0);
        json_decref(env);
}

/* ---- S2, S3: Endpoints ---- */

static json_t *pod(const char *ns, const char *name, const char *ip, bool ready, const char *extra_spec)
{
        _cleanup_free_ char *spec = xasprintf("{\"containers\": [{\"name\": \"c\", \"ports\": [{\"name\": \"http\", "
                                              "\"containerPort\": %s}]}]%s%s}",
                                              strcmp(name, "odd") == 0 ? "9090" : "8080", extra_spec ? ", " : "",
                                              extra_spec ? extra_spec : "");
        json_t *p = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s}}, s:o, s:{s:s, s:[{s:s, s:s}]}}", "apiVersion", "v1",
                              "kind", "Pod", "metadata", "name", name, "namespace", ns, "uid", name, "labels", "app",
                              "web", "spec", parse(spec), "status", "phase", "Running", "conditions", "type", "Ready",
                              "status", ready ? "True" : "False");

        assert_non_null(p);
        if (ip)
                json_object_set_new(json_object_get(p, "status"), "podIP", json_string(ip));
        return p;
}

static void endpoints(void **state)
{
        (void)state;
        json_t *pods = json_array(), *svc, *subsets, *want, *targets;

        json_array_append_new(pods, pod("default", "b", "10.42.0.12", true, NULL));
        json_array_append_new(pods, pod("default", "a", "10.42.0.9", true, "\"nodeName\": \"node1\""));
        json_array_append_new(pods, pod("default", "slow", "10.42.0.20", false, NULL));
        json_array_append_new(pods, pod("default", "odd", "10.42.0.30", true, NULL));
        json_array_append_new(pods, pod("default", "noip", NULL, true, NULL));
        json_array_append_new(pods, pod("other", "x", "10.42.0.40", true, NULL));
        json_array_append_new(pods, pod("default", "going", "10.42.0.50", true, NULL));
        json_object_set_new(json_object_get(json_array_get(pods, 6), "metadata"), "deletionTimestamp",
                            json_string("2026-01-01T00:00:00Z"));
        json_array_append_new(pods, pod("default", "done", "10.42.0.60", false, NULL));
        json_object_set_new(json_object_get(json_array_get(pods, 7), "status"), "phase", json_string("Succeeded"));

        /* the named port: 8080 on most pods, 9090 on "odd" */
        svc = service("default", "web", "{\"selector\": {\"app\": \"web\"}, \"ports\": [{\"name\": \"web\", \"port\": 80, "
                                        "\"targetPort\": \"http\", \"protocol\": \"TCP\"}]}");
        subsets = kube_endpoints_subsets(svc, pods);
        want = parse("["
                     "{\"addresses\": ["
                     "{\"ip\": \"10.42.0.9\", \"nodeName\": \"node1\", \"targetRef\": {\"kind\": \"Pod\", \"namespace\": "
                     "\"default\", \"name\": \"a\", \"uid\": \"a\"}},"
                     "{\"ip\": \"10.42.0.12\", \"targetRef\": {\"kind\": \"Pod\", \"namespace\": \"default\", \"name\": "
                     "\"b\", \"uid\": \"b\"}}],"
                     "\"notReadyAddresses\": [{\"ip\": \"10.42.0.20\", \"targetRef\": {\"kind\": \"Pod\", \"namespace\": "
                     "\"default\", \"name\": \"slow\", \"uid\": \"slow\"}}],"
                     "\"ports\": [{\"name\": \"web\", \"port\": 8080, \"protocol\": \"TCP\"}]},"
                     "{\"addresses\": [{\"ip\": \"10.42.0.30\", \"targetRef\": {\"kind\": \"Pod\", \"namespace\": "
                     "\"default\", \"name\": \"odd\", \"uid\": \"odd\"}}],"
                     "\"ports\": [{\"name\": \"web\", \"port\": 9090, \"protocol\": \"TCP\"}]}]");
        if (!json_equal(subsets, want))
                fail_msg("subsets:\n%s", json_dumps(subsets, JSON_INDENT(1) | JSON_SORT_KEYS));
        targets = kube_endpoints_targets(json_array_get(json_object_get(json_object_get(svc, "spec"), "ports"), 0), subsets);
        json_decref(want);
        want = parse("[[\"10.42.0.9\", 8080], [\"10.42.0.12\", 8080], [\"10.42.0.30\", 9090]]");
        assert_true(json_equal(targets, want));
        json_decref(want);
        json_decref(targets);
        /* a port of another protocol leads nowhere */
        want = json_pack("{s:s, s:i, s:s}", "name", "web", "port", 80, "protocol", "UDP");
        targets = kube_endpoints_targets(want, subsets);
        assert_int_equal(json_array_size(targets), 0);
        json_decref(targets);
        json_decref(want);
        json_decref(subsets);
        json_decref(svc);

        /* publishNotReadyAddresses: every pod with an IP, terminating too;
         * targetPort unset = port */
        svc = service("default", "web", "{\"selector\": {\"app\": \"web\"}, \"publishNotReadyAddresses\": true, "
                                        "\"ports\": [{\"port\": 80}]}");
        subsets = kube_endpoints_subsets(svc, pods);
        assert_int_equal(json_array_size(subsets), 1);
        assert_int_equal(json_array_size(json_object_get(json_array_get(subsets, 0), "addresses")), 5);
        assert_null(json_object_get(json_array_get(subsets, 0), "notReadyAddresses"));
        want = parse("[{\"port\": 80, \"protocol\": \"TCP\"}]");
        assert_true(json_equal(json_object_get(json_array_get(subsets, 0), "ports"), want));
        json_decref(want);
        targets = kube_endpoints_ips(subsets);
        want = parse("[\"10.42.0.9\", \"10.42.0.12\", \"10.42.0.20\", \"10.42.0.30\", \"10.42.0.50\"]");
        assert_true(json_equal(targets, want));
        json_decref(want);
        json_decref(targets);
        json_decref(subsets);
        json_decref(svc);

        /* a headless Service without ports: bare addresses */
        svc = service("default", "hl", "{\"clusterIP\": \"None\", \"selector\": {\"app\": \"web\"}}");
        subsets = kube_endpoints_subsets(svc, pods);
        assert_int_equal(json_array_size(subsets), 1);
        assert_null(json_object_get(json_array_get(subsets, 0), "ports"));
        assert_int_equal(json_array_size(json_object_get(json_array_get(subsets, 0), "addresses")), 3);
        json_decref(subsets);
        json_decref(svc);

        /* no selector, or an empty one: nothing (the user's Endpoints) */
        svc = service("default", "manual", "{\"selector\": {}, \"ports\": [{\"port\": 80}]}");
        subsets = kube_endpoints_subsets(svc, pods);
        assert_int_equal(json_array_size(subsets), 0);
        json_decref(subsets);
        json_decref(svc);
        json_decref(pods);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(validate_ports, setup, teardown),
                cmocka_unit_test_setup_teardown(validate_node_ports, setup, teardown),
                cmocka_unit_test_setup_teardown(validate_cluster_ip, setup, teardown),
                cmocka_unit_test_setup_teardown(defaults, setup, teardown),
                cmocka_unit_test_setup_teardown(node_port_allocation, setup, teardown),
                cmocka_unit_test_setup_teardown(update_keeps, setup, teardown),
                cmocka_unit_test_setup_teardown(allocation_exhaustion, setup, teardown),
                cmocka_unit_test_setup_teardown(bad_range, setup, teardown),
                cmocka_unit_test_setup_teardown(environment, setup, teardown),
                cmocka_unit_test_setup_teardown(endpoints, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
