/* The kubelet's pure translation (src/orch/kubelet-defaults.c,
 * kubelet-env.c, kubelet-spec.c): apiserver defaults, $(VAR) expansion,
 * env precedence, command/args against ENTRYPOINT/CMD, resources →
 * HostConfig, names and the sandbox. */
#include "orch/kubelet.h"
#include "util/util.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static json_t *J(const char *text)
{
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);

        if (j == NULL)
                fail_msg("bad JSON in test: %s: %s", e.text, text);
        return j;
}

static const char *S(const json_t *o, const char *path)
{
        /* "a.b.c" */
        char buf[256];
        const json_t *cur = o;

        snprintf(buf, sizeof(buf), "%s", path);
        for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
                cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok)) : json_object_get(cur, tok);
        return json_string_value(cur);
}

static long long I(const json_t *o, const char *path)
{
        char buf[256];
        const json_t *cur = o;

        snprintf(buf, sizeof(buf), "%s", path);
        for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
                cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok)) : json_object_get(cur, tok);
        assert_non_null(cur);
        return json_integer_value(cur);
}

/* ---- defaults ------------------------------------------------------------- */

static void test_defaults_pod(void **state)
{
        (void)state;
        berth_error_t *err = NULL;
        json_t *pod = J("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\","
                        "\"image\":\"busybox\",\"livenessProbe\":{\"exec\":{\"command\":[\"true\"]}},"
                        "\"readinessProbe\":{\"httpGet\":{\"port\":8080}},"
                        "\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"64Mi\"}},"
                        "\"ports\":[{\"containerPort\":80}]},"
                        "{\"name\":\"d\",\"image\":\"x:1\"}],\"volumes\":[{\"name\":\"v\",\"configMap\":{\"name\":\"cm\"}},"
                        "{\"name\":\"e\"}]}}");

        assert_int_equal(kubelet_pod_defaults(pod, &err), 0);
        assert_string_equal(S(pod, "spec.restartPolicy"), "Always");
        assert_string_equal(S(pod, "spec.dnsPolicy"), "ClusterFirst");
        assert_int_equal(I(pod, "spec.terminationGracePeriodSeconds"), 30);
        assert_true(json_is_true(json_object_get(json_object_get(pod, "spec"), "enableServiceLinks")));
        assert_string_equal(S(pod, "spec.containers.0.imagePullPolicy"), "Always");
        assert_string_equal(S(pod, "spec.containers.1.imagePullPolicy"), "IfNotPresent");
        assert_string_equal(S(pod, "spec.containers.0.terminationMessagePath"), "/dev/termination-log");
        assert_string_equal(S(pod, "spec.containers.0.terminationMessagePolicy"), "File");
        assert_int_equal(I(pod, "spec.containers.0.livenessProbe.timeoutSeconds"), 1);
        assert_int_equal(I(pod, "spec.containers.0.livenessProbe.periodSeconds"), 10);
        assert_int_equal(I(pod, "spec.containers.0.livenessProbe.successThreshold"), 1);
        assert_int_equal(I(pod, "spec.containers.0.livenessProbe.failureThreshold"), 3);
        /* as kube-apiserver: initialDelaySeconds stays unset (0) */
        assert_null(json_object_get(json_object_get(json_array_get(json_object_get(json_object_get(pod, "spec"),
                                                                                   "containers"), 0), "livenessProbe"),
                                    "initialDelaySeconds"));
        assert_string_equal(S(pod, "spec.containers.0.readinessProbe.httpGet.path"), "/");
        assert_string_equal(S(pod, "spec.containers.0.readinessProbe.httpGet.scheme"), "HTTP");
        assert_string_equal(S(pod, "spec.containers.0.ports.0.protocol"), "TCP");
        /* a Pod's requests default to its limits */
        assert_string_equal(S(pod, "spec.containers.0.resources.requests.cpu"), "500m");
        assert_string_equal(S(pod, "spec.containers.0.resources.requests.memory"), "64Mi");
        assert_int_equal(I(pod, "spec.volumes.0.configMap.defaultMode"), 420);
        assert_non_null(json_object_get(json_array_get(json_object_get(json_object_get(pod, "spec"), "volumes"), 1),
                                        "emptyDir"));
        json_decref(pod);
}

static void test_defaults_template(void **state)
{
        (void)state;
        berth_error_t *err = NULL;
        json_t *t = J("{\"metadata\":{},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"b:1\","
                      "\"resources\":{\"limits\":{\"cpu\":\"1\"}}}]}}");

        assert_int_equal(kubelet_pod_defaults(t, &err), 0);
        assert_null(S(t, "spec.containers.0.resources.requests.cpu"));
        assert_null(json_object_get(json_object_get(t, "spec"), "enableServiceLinks"));
        assert_string_equal(S(t, "spec.restartPolicy"), "Always");
        json_decref(t);
}

static void expect_invalid(const char *doc, const char *msg)
{
        berth_error_t *err = NULL;
        json_t *pod = J(doc);

        assert_true(kubelet_pod_defaults(pod, &err) < 0);
        assert_non_null(err);
        assert_int_equal(err->status, EINVAL);
        assert_string_equal(err->msg, msg);
        berth_error_free(&err);
        json_decref(pod);
}

static void test_defaults_invalid(void **state)
{
        (void)state;
        expect_invalid("{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"b\","
                       "\"livenessProbe\":{\"exec\":{\"command\":[\"x\"]},\"successThreshold\":2}}]}}",
                       "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1");
        expect_invalid("{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"c\"}]}}",
                       "spec.containers[0].image: Required value");
        expect_invalid("{\"kind\":\"Pod\",\"spec\":{\"containers\":[]}}", "spec.containers: Required value");
        expect_invalid("{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"b\"},{\"name\":\"c\",\"image\":\"b\"}]}}",
                       "spec.template.spec.containers[1].name: Duplicate value: \"c\"");
        expect_invalid("{\"kind\":\"Pod\",\"spec\":{\"restartPolicy\":\"Sometimes\",\"containers\":[{\"name\":\"c\","
                       "\"image\":\"b\"}]}}",
                       "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
                       "\"OnFailure\", \"Never\"");
        expect_invalid("{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"b\","
                       "\"readinessProbe\":{}}]}}",
                       "spec.containers[0].readinessProbe: Required value: must specify a handler type");
}

static void test_pull_policy(void **state)
{
        (void)state;
        assert_string_equal(kubelet_default_pull_policy("busybox"), "Always");
        assert_string_equal(kubelet_default_pull_policy("localhost/orch-busybox:latest"), "Always");
        assert_string_equal(kubelet_default_pull_policy("localhost:5000/bb"), "Always");
        assert_string_equal(kubelet_default_pull_policy("localhost:5000/bb:1"), "IfNotPresent");
        assert_string_equal(kubelet_default_pull_policy("bb@sha256:abcd"), "IfNotPresent");
}

/* ---- expansion and env --------------------------------------------------------- */

static void expect_expand(const char *in, const char *out)
{
        json_t *env = J("{\"A\":\"1\",\"B\":\"two\",\"E\":\"\"}");
        char *got = kubelet_expand(in, env);

        assert_string_equal(got, out);
        free(got);
        json_decref(env);
}

static void test_expand(void **state)
{
        (void)state;
        expect_expand("$(A)", "1");
        expect_expand("x$(A)y$(B)z", "x1ytwoz");
        expect_expand("$(MISSING)", "$(MISSING)");
        expect_expand("$$(A)", "$(A)");
        expect_expand("$$$(A)", "$1");
        expect_expand("$(A", "$(A");
        expect_expand("$A", "$A");
        expect_expand("a$", "a$");
        expect_expand("$(E)|", "|");
        expect_expand("", "");
}

struct store {
        json_t *objs;   /* "Kind/ns/name" -> object */
        json_t *warned;
};

static json_t *lookup(void *data, const char *kind, const char *ns, const char *name)
{
        struct store *s = data;
        char key[256];

        snprintf(key, sizeof(key), "%s/%s/%s", kind, ns, name);
        return json_incref(json_object_get(s->objs, key));
}

static void warn(void *data, const char *reason, const char *msg)
{
        struct store *s = data;

        (void)reason;
        json_array_append_new(s->warned, json_string(msg));
}

static int resolve(const char *ctr, struct store *s, json_t **env, berth_error_t **err)
{
        json_t *pod = J("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"ns1\",\"uid\":\"u-1\","
                        "\"labels\":{\"app\":\"web\"}},\"spec\":{}}");
        json_t *c = J(ctr);
        json_t *svc = J("{\"WEB_SERVICE_HOST\":\"10.43.0.10\",\"WEB_SERVICE_PORT\":\"80\",\"A\":\"svc\"}");
        struct kl_env_ctx ctx = { .pod = pod, .ctr = c, .pod_ip = "10.42.0.7", .host_ip = "10.42.0.1",
                                  .node_name = "node", .service_env = svc, .lookup = lookup, .warn = warn,
                                  .data = s, .node_cpus_milli = 2000, .node_mem = 1LL << 30 };
        int r = kubelet_env_resolve(&ctx, env, err);

        json_decref(pod);
        json_decref(c);
        json_decref(svc);
        return r;
}

static struct store *store_new(void)
{
        static struct store s;

        s.objs = J("{\"ConfigMap/ns1/cm\":{\"kind\":\"ConfigMap\",\"data\":{\"A\":\"1\",\"B\":\"2\",\"bad key\":\"x\"}},"
                   "\"ConfigMap/ns1/cm2\":{\"kind\":\"ConfigMap\",\"data\":{\"B\":\"22\"}},"
                   "\"Secret/ns1/s\":{\"kind\":\"Secret\",\"data\":{\"P\":\"b3ZlcnJpZGU=\"}}}");
        s.warned = json_array();
        return &s;
}

static void store_free(struct store *s)
{
        json_decref(s->objs);
        json_decref(s->warned);
}

static void test_env_precedence(void **state)
{
        (void)state;
        struct store *s = store_new();
        berth_error_t *err = NULL;
        json_t *env = NULL;

        assert_int_equal(resolve("{\"envFrom\":[{\"configMapRef\":{\"name\":\"cm\"}},{\"configMapRef\":{\"name\":\"cm2\"}},"
                                 "{\"prefix\":\"CFG_\",\"configMapRef\":{\"name\":\"cm\"}}],"
                                 "\"env\":[{\"name\":\"A\",\"value\":\"9\"},{\"name\":\"X\",\"value\":\"$(A)-$(B)-$(WEB_SERVICE_PORT)\"},"
                                 "{\"name\":\"P\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"s\",\"key\":\"P\"}}},"
                                 "{\"name\":\"Q\",\"value\":\"$(P)\"},"
                                 "{\"name\":\"N\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},"
                                 "{\"name\":\"NS\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.namespace\"}}},"
                                 "{\"name\":\"IP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"status.podIP\"}}},"
                                 "{\"name\":\"L\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.labels['app']\"}}},"
                                 "{\"name\":\"R\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.memory\",\"divisor\":\"1Mi\"}}}]}",
                                 s, &env, &err), 0);
        assert_string_equal(S(env, "A"), "9");            /* env wins over envFrom */
        assert_string_equal(S(env, "B"), "22");           /* the later envFrom wins */
        assert_string_equal(S(env, "CFG_A"), "1");        /* prefix */
        assert_null(S(env, "bad key"));                    /* invalid names skipped, with a warning */
        assert_true(json_array_size(s->warned) >= 1);
        assert_string_equal(S(env, "X"), "9-22-80");
        assert_string_equal(S(env, "P"), "override");     /* decoded */
        assert_string_equal(S(env, "Q"), "override");
        assert_string_equal(S(env, "N"), "web-1");
        assert_string_equal(S(env, "NS"), "ns1");
        assert_string_equal(S(env, "IP"), "10.42.0.7");
        assert_string_equal(S(env, "L"), "web");
        assert_string_equal(S(env, "R"), "1024");         /* no limit: the node's memory */
        assert_string_equal(S(env, "WEB_SERVICE_HOST"), "10.43.0.10");
        json_decref(env);
        store_free(s);
}

static void expect_config_error(const char *ctr, const char *msg)
{
        struct store *s = store_new();
        berth_error_t *err = NULL;
        json_t *env = NULL;

        assert_true(resolve(ctr, s, &env, &err) < 0);
        assert_non_null(err);
        assert_string_equal(err->msg, msg);
        berth_error_free(&err);
        store_free(s);
}

static void test_env_errors(void **state)
{
        (void)state;
        expect_config_error("{\"env\":[{\"name\":\"A\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"nope\",\"key\":\"k\"}}}]}",
                            "configmap \"nope\" not found");
        expect_config_error("{\"env\":[{\"name\":\"A\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cm\",\"key\":\"K\"}}}]}",
                            "couldn't find key K in ConfigMap ns1/cm");
        expect_config_error("{\"env\":[{\"name\":\"A\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"s\",\"key\":\"K\"}}}]}",
                            "couldn't find key K in Secret ns1/s");
        expect_config_error("{\"envFrom\":[{\"secretRef\":{\"name\":\"none\"}}]}", "secret \"none\" not found");

        struct store *s = store_new();
        berth_error_t *err = NULL;
        json_t *env = NULL;
        assert_int_equal(resolve("{\"envFrom\":[{\"secretRef\":{\"name\":\"none\",\"optional\":true}}],"
                                 "\"env\":[{\"name\":\"A\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cm\",\"key\":\"K\","
                                 "\"optional\":true}}}]}",
                                 s, &env, &err), 0);
        assert_string_equal(S(env, "A"), "svc");  /* optional and missing: not set, the service's stays */
        json_decref(env);
        store_free(s);
}

/* ---- bodies -------------------------------------------------------------------- */

static json_t *body_for(const char *pod_text, int ctr, bool *clamped)
{
        json_t *pod = J(pod_text), *env = J("{\"A\":\"1\"}");
        berth_error_t *err = NULL;

        assert_int_equal(kubelet_pod_defaults(pod, &err), 0);
        struct kl_body_in in = { .pod = pod, .ctr = json_array_get(json_object_get(json_object_get(pod, "spec"),
                                                                                  "containers"), (size_t)ctr),
                                 .sandbox_id = "sb1", .image = "bb:1", .env = env, .attempt = 2,
                                 .node_mem = 4LL << 30, .cgroup_parent = "kubepods/pod1" };
        json_t *b = kubelet_container_body(&in, clamped);
        json_decref(env);
        json_decref(pod);
        return b;
}

static void test_command_args(void **state)
{
        (void)state;
        json_t *b = body_for("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"uid\":\"0123456789\"},\"spec\":{\"containers\":["
                             "{\"name\":\"cmd\",\"image\":\"b\",\"command\":[\"sh\",\"-c\",\"echo $(A)\"]},"
                             "{\"name\":\"args\",\"image\":\"b\",\"args\":[\"x\",\"$(A)\"]},"
                             "{\"name\":\"both\",\"image\":\"b\",\"command\":[\"a\"],\"args\":[\"b\"]},"
                             "{\"name\":\"none\",\"image\":\"b\"}]}}", 0, NULL);
        assert_string_equal(S(b, "Entrypoint.2"), "echo 1");
        assert_null(json_object_get(b, "Cmd"));   /* the image's CMD goes with its ENTRYPOINT */
        assert_string_equal(S(b, "HostConfig.NetworkMode"), "container:sb1");
        assert_string_equal(S(b, "HostConfig.IpcMode"), "container:sb1");
        assert_string_equal(S(b, "HostConfig.UTSMode"), "container:sb1");
        assert_null(json_object_get(json_object_get(b, "HostConfig"), "PidMode"));
        assert_string_equal(json_string_value(json_object_get(json_object_get(b, "Labels"), KL_LABEL_CTR)), "cmd");
        assert_string_equal(S(b, "Env.0"), "A=1");
        json_decref(b);
        b = body_for("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":["
                     "{\"name\":\"args\",\"image\":\"b\",\"args\":[\"x\",\"$(A)\"]}]}}", 0, NULL);
        assert_null(json_object_get(b, "Entrypoint"));
        assert_string_equal(S(b, "Cmd.1"), "1");
        json_decref(b);
        b = body_for("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"shareProcessNamespace\":true,"
                     "\"containers\":[{\"name\":\"both\",\"image\":\"b\",\"command\":[\"a\"],\"args\":[\"b\"]}]}}", 0, NULL);
        assert_string_equal(S(b, "Entrypoint.0"), "a");
        assert_string_equal(S(b, "Cmd.0"), "b");
        assert_string_equal(S(b, "HostConfig.PidMode"), "container:sb1");
        json_decref(b);
        b = body_for("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":["
                     "{\"name\":\"none\",\"image\":\"b\"}]}}", 0, NULL);
        assert_null(json_object_get(b, "Entrypoint"));
        assert_null(json_object_get(b, "Cmd"));
        json_decref(b);
}

static void test_resources(void **state)
{
        (void)state;
        bool clamped = true;
        /* Burstable: cpu request 250m, cpu limit 500m, memory limit 64Mi with a 32Mi request */
        json_t *b = body_for("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\","
                             "\"image\":\"b\",\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"32Mi\"},"
                             "\"limits\":{\"cpu\":\"500m\",\"memory\":\"64Mi\"}}}]}}", 0, &clamped);
        assert_int_equal(I(b, "HostConfig.CpuShares"), 256);
        assert_int_equal(I(b, "HostConfig.CpuQuota"), 50000);
        assert_int_equal(I(b, "HostConfig.CpuPeriod"), 100000);
        assert_int_equal(I(b, "HostConfig.Memory"), 67108864);
        assert_int_equal(I(b, "HostConfig.MemorySwap"), 67108864);
        assert_null(json_object_get(json_object_get(b, "HostConfig"), "MemoryReservation"));
        assert_int_equal(I(b, "HostConfig.OomScoreAdj"), 1000 - 1000 * 32 / 4096);
        assert_false(clamped);
        assert_string_equal(S(b, "HostConfig.CgroupParent"), "kubepods/pod1");
        json_decref(b);
        /* BestEffort: shares 2, score 1000, no quota, no memory limit */
        b = body_for("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\","
                     "\"image\":\"b\"}]}}", 0, &clamped);
        assert_int_equal(I(b, "HostConfig.CpuShares"), 2);
        assert_int_equal(I(b, "HostConfig.OomScoreAdj"), 1000);
        assert_null(json_object_get(json_object_get(b, "HostConfig"), "CpuQuota"));
        assert_null(json_object_get(json_object_get(b, "HostConfig"), "Memory"));
        json_decref(b);
        /* Guaranteed: -997 cannot be set without CAP_SYS_RESOURCE: 0 */
        b = body_for("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\","
                     "\"image\":\"b\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"64Mi\"}}}]}}", 0, &clamped);
        assert_int_equal(I(b, "HostConfig.CpuShares"), 1024);
        assert_int_equal(I(b, "HostConfig.CpuQuota"), 100000);
        assert_int_equal(I(b, "HostConfig.OomScoreAdj"), 0);
        assert_true(clamped);
        json_decref(b);
}

static void test_qos_and_names(void **state)
{
        (void)state;
        berth_error_t *err = NULL;
        json_t *pod = J("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"namespace\":\"prod\",\"uid\":\"abcdef0123456\"},"
                        "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"b\",\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}]}}");

        assert_int_equal(kubelet_pod_defaults(pod, &err), 0);
        assert_string_equal(kubelet_qos(pod), "Burstable");
        char *s = kubelet_cgroup_parent(pod);
        assert_string_equal(s, "kubepods/burstable/podabcdef0123456");
        free(s);
        s = kubelet_container_name(pod, "c", 3);
        assert_string_equal(s, "k8s_c_web_prod_abcdef01_3");
        free(s);
        s = kubelet_sandbox_name(pod);
        assert_string_equal(s, "k8s_POD_web_prod_abcdef01");
        free(s);

        json_t *b = kubelet_sandbox_body(pod, "bb:1", "berth-kube", "kubepods/burstable/podabcdef0123456");
        assert_string_equal(S(b, "Hostname"), "web");
        assert_string_equal(S(b, "Entrypoint.0"), "/sbin/docker-init");
        assert_string_equal(S(b, "Cmd.0"), "-p");
        assert_string_equal(S(b, "HostConfig.NetworkMode"), "berth-kube");
        assert_string_equal(S(b, "HostConfig.IpcMode"), "shareable");
        assert_true(json_is_true(json_object_get(json_object_get(b, "HostConfig"), "Init")));
        assert_string_equal(S(b, "HostConfig.DnsSearch.0"), "prod.svc.cluster.local");
        assert_string_equal(S(b, "HostConfig.DnsSearch.1"), "svc.cluster.local");
        assert_string_equal(S(b, "HostConfig.DnsSearch.2"), "cluster.local");
        assert_string_equal(S(b, "HostConfig.DnsOptions.0"), "ndots:5");
        assert_string_equal(json_string_value(json_object_get(json_object_get(b, "Labels"), KL_LABEL_CTR)), "POD");
        json_decref(b);
        json_decref(pod);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults_pod),      cmocka_unit_test(test_defaults_template),
                cmocka_unit_test(test_defaults_invalid),  cmocka_unit_test(test_pull_policy),
                cmocka_unit_test(test_expand),            cmocka_unit_test(test_env_precedence),
                cmocka_unit_test(test_env_errors),        cmocka_unit_test(test_command_args),
                cmocka_unit_test(test_resources),         cmocka_unit_test(test_qos_and_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
