/* Kubernetes' arithmetic (src/orch/kube-calc.c, kube-quantity.c,
 * kube-hpa-calc.c): each expectation is what Kubernetes computes for the
 * same input; the HPA cases are rows H1-H5 of k8s-semantics.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "orch/kube-calc.h"
#include "util/util.h"

static json_t *J(const char *text)
{
        json_error_t e;
        json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
        if (!j)
                fail_msg("bad test JSON %s: %s", text, e.text);
        return j;
}

/* ---- IntOrString and RollingUpdate ----------------------------------------- */

static int scaled(const char *v, int total, bool up)
{
        json_t *j = J(v);
        int out = -12345;
        _cleanup_error_ berth_error_t *err = NULL;
        int r = kube_intstr_scaled(j, total, up, &out, &err);
        json_decref(j);
        return r < 0 ? -1000 + r : out;
}

static void intstr_values(void **state)
{
        (void)state;
        assert_int_equal(scaled("\"25%\"", 4, true), 1);
        assert_int_equal(scaled("\"25%\"", 4, false), 1);
        assert_int_equal(scaled("\"25%\"", 3, true), 1);
        assert_int_equal(scaled("\"25%\"", 3, false), 0);
        assert_int_equal(scaled("\"25%\"", 10, true), 3);
        assert_int_equal(scaled("\"25%\"", 10, false), 2);
        assert_int_equal(scaled("\"100%\"", 7, false), 7);
        assert_int_equal(scaled("5", 3, true), 5);
        assert_int_equal(scaled("0", 3, true), 0);
}

static void intstr_errors(void **state)
{
        (void)state;
        _cleanup_error_ berth_error_t *err = NULL;
        int out;
        json_t *j = J("\"5\"");
        assert_true(kube_intstr_scaled(j, 4, true, &out, &err) < 0);
        assert_string_equal(err->msg, "invalid value for IntOrString: invalid type: string is not a percentage");
        json_decref(j);
        berth_error_free(&err);
        j = J("\"a%\"");
        assert_true(kube_intstr_scaled(j, 4, true, &out, &err) < 0);
        assert_string_equal(err->msg,
                            "invalid value for IntOrString: invalid value \"a%\": strconv.Atoi: parsing \"a\": "
                            "invalid syntax");
        json_decref(j);
        berth_error_free(&err);
        assert_true(kube_intstr_scaled(NULL, 4, true, &out, &err) < 0);
        assert_string_equal(err->msg, "nil value for IntOrString");
}

static void rolling(const char *strategy, int replicas, int surge, int unavailable)
{
        json_t *j = strategy ? J(strategy) : NULL;
        int s = -1, u = -1;
        _cleanup_error_ berth_error_t *err = NULL;
        if (kube_rolling_params(j, replicas, &s, &u, &err) < 0)
                fail_msg("%s: %s", strategy ? strategy : "NULL", err->msg);
        json_decref(j);
        assert_int_equal(s, surge);
        assert_int_equal(u, unavailable);
}

static void rolling_fails(const char *strategy, const char *msg)
{
        json_t *j = J(strategy);
        int s, u;
        _cleanup_error_ berth_error_t *err = NULL;
        assert_int_equal(kube_rolling_params(j, 4, &s, &u, &err), -EINVAL);
        assert_string_equal(err->msg, msg);
        json_decref(j);
}

static void rolling_params(void **state)
{
        (void)state;
        /* D6: replicas 4 with the defaults -> surge 1, unavailable 1; 3 -> 1 and 0. */
        rolling(NULL, 4, 1, 1);
        rolling("{}", 4, 1, 1);
        rolling("{\"type\":\"RollingUpdate\"}", 3, 1, 0);
        rolling(NULL, 10, 3, 2);
        rolling(NULL, 1, 1, 0);
        rolling(NULL, 0, 0, 1);         /* both 0 -> maxUnavailable 1 */
        rolling("{\"rollingUpdate\":{\"maxSurge\":0,\"maxUnavailable\":1}}", 3, 0, 1);
        rolling("{\"rollingUpdate\":{\"maxSurge\":0,\"maxUnavailable\":\"10%\"}}", 3, 0, 1);
        rolling("{\"rollingUpdate\":{\"maxSurge\":2}}", 8, 2, 2);
        rolling("{\"rollingUpdate\":{\"maxSurge\":\"50%\",\"maxUnavailable\":\"0%\"}}", 3, 2, 0);
        rolling("{\"type\":\"Recreate\"}", 5, 0, 5);
}

static void rolling_validation(void **state)
{
        (void)state;
        rolling_fails("{\"rollingUpdate\":{\"maxSurge\":0,\"maxUnavailable\":0}}",
                      "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: "
                      "may not be 0 when `maxSurge` is 0");
        rolling_fails("{\"rollingUpdate\":{\"maxSurge\":\"0%\",\"maxUnavailable\":\"0%\"}}",
                      "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"0%\": "
                      "may not be 0 when `maxSurge` is 0");
        rolling_fails("{\"rollingUpdate\":{\"maxUnavailable\":\"150%\"}}",
                      "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"150%\": "
                      "must not be greater than 100%");
        rolling_fails("{\"rollingUpdate\":{\"maxSurge\":-1}}",
                      "spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0");
        rolling_fails("{\"rollingUpdate\":{\"maxSurge\":\"1\"}}",
                      "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"1\": a valid percent string must be a "
                      "numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is "
                      "'[0-9]+%')");
        rolling_fails("{\"type\":\"Blue\"}",
                      "spec.strategy.type: Unsupported value: \"Blue\": "
                      "supported values: \"Recreate\", \"RollingUpdate\"");
        rolling_fails("{\"type\":\"Recreate\",\"rollingUpdate\":{}}",
                      "spec.strategy.rollingUpdate: Forbidden: "
                      "may not be specified when strategy `type` is 'Recreate'");
}

/* ---- quantities ------------------------------------------------------------------ */

static int64_t milli(const char *s)
{
        int64_t v = -77;
        _cleanup_error_ berth_error_t *err = NULL;
        if (kube_quantity_milli(s, &v, &err) < 0)
                fail_msg("%s: %s", s, err->msg);
        return v;
}

static int64_t bytes(const char *s)
{
        int64_t v = -77;
        _cleanup_error_ berth_error_t *err = NULL;
        if (kube_quantity_bytes(s, &v, &err) < 0)
                fail_msg("%s: %s", s, err->msg);
        return v;
}

static void quantity_fails(const char *s, int status)
{
        int64_t v;
        _cleanup_error_ berth_error_t *err = NULL;
        assert_int_equal(kube_quantity_bytes(s, &v, &err), -status);
        assert_non_null(err);
}

static void quantities(void **state)
{
        (void)state;
        assert_int_equal(milli("250m"), 250);
        assert_int_equal(milli("0.5"), 500);
        assert_int_equal(milli(".5"), 500);
        assert_int_equal(milli("1"), 1000);
        assert_int_equal(milli("2"), 2000);
        assert_int_equal(milli("1.5"), 1500);
        assert_int_equal(milli("0.1m"), 1);    /* rounded up */
        assert_int_equal(milli("100n"), 1);
        assert_int_equal(milli("5u"), 1);
        assert_int_equal(milli("1e-3"), 1);
        assert_int_equal(milli("1e3"), 1000000);
        assert_int_equal(milli("0"), 0);
        assert_int_equal(milli("000"), 0);
        assert_int_equal(milli("."), 0);
        assert_int_equal(milli("+1"), 1000);
        assert_int_equal(bytes("64Mi"), 67108864);
        assert_int_equal(bytes("32Mi"), 33554432);
        assert_int_equal(bytes("1Ki"), 1024);
        assert_int_equal(bytes("1.5Gi"), 1610612736);
        assert_int_equal(bytes("1G"), 1000000000);
        assert_int_equal(bytes("1.G"), 1000000000);
        assert_int_equal(bytes("1k"), 1000);
        assert_int_equal(bytes("1e3"), 1000);
        assert_int_equal(bytes("1E3"), 1000);
        assert_int_equal(bytes("1e+3"), 1000);
        assert_int_equal(bytes("1E"), 1000000000000000000LL);
        assert_int_equal(bytes("1.5"), 2);     /* Value() rounds up */
        assert_int_equal(bytes("0.0000001"), 1);
        assert_int_equal(bytes("-1"), -1);
        assert_int_equal(bytes("-1.5"), -2);   /* away from zero */
        assert_int_equal(bytes("8Ei") - 1, INT64_MAX - 1);      /* capped at 2^63-1 */
        assert_int_equal(bytes("16Ei"), INT64_MAX);
        assert_int_equal(bytes("123456789012345678.9e-10"), 12345679);
        quantity_fails("10E", ERANGE);
        quantity_fails("1e100", ERANGE);
        quantity_fails("", EINVAL);
        quantity_fails("abc", EINVAL);
        quantity_fails("1K", EINVAL);
        quantity_fails("1.2.3", EINVAL);
        quantity_fails("1e", EINVAL);
        quantity_fails("1 Gi", EINVAL);
        quantity_fails("1Gi ", EINVAL);
}

static void quantity_json_cmp_format(void **state)
{
        (void)state;
        int64_t v;
        json_t *j = J("2");
        assert_int_equal(kube_quantity_json_milli(j, &v, NULL), 0);
        assert_int_equal(v, 2000);
        json_decref(j);
        j = J("0.1");
        assert_int_equal(kube_quantity_json_milli(j, &v, NULL), 0);
        assert_int_equal(v, 100);
        json_decref(j);
        j = J("\"128Mi\"");
        assert_int_equal(kube_quantity_json_bytes(j, &v, NULL), 0);
        assert_int_equal(v, 134217728);
        json_decref(j);
        j = J("true");
        assert_true(kube_quantity_json_bytes(j, &v, NULL) < 0);
        json_decref(j);

        assert_int_equal(kube_quantity_cmp("1", "1000m"), 0);
        assert_true(kube_quantity_cmp("1Gi", "1G") > 0);
        assert_true(kube_quantity_cmp("1.001m", "1.002m") < 0);
        assert_true(kube_quantity_cmp("1.0001m", "1.0002m") < 0);
        /* both round up to 1000000001n */
        assert_int_equal(kube_quantity_cmp("1.0000000001", "1.0000000002"), 0);
        assert_int_equal(kube_quantity_cmp("0.5", "500m"), 0);

        const struct { int64_t m; const char *s; } fmt[] = {
                { 0, "0" }, { 250, "250m" }, { 1000, "1" }, { 1500, "1500m" }, { 2000000, "2k" }, { -500, "-500m" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(fmt); i++) {
                _cleanup_free_ char *s = kube_quantity_format_milli(fmt[i].m);
                assert_string_equal(s, fmt[i].s);
        }
}

/* ---- cgroups, QoS, OOM -------------------------------------------------------------- */

static void cgroup_numbers(void **state)
{
        (void)state;
        assert_int_equal(kube_cpu_shares(250), 256);   /* R1 */
        assert_int_equal(kube_cpu_shares(0), 2);
        assert_int_equal(kube_cpu_shares(1), 2);
        assert_int_equal(kube_cpu_shares(1000), 1024);
        assert_int_equal(kube_cpu_shares(500), 512);
        assert_int_equal(kube_cpu_shares(300000), 262144);
        assert_int_equal(kube_cpu_quota(500, 100000), 50000);   /* R2 */
        assert_int_equal(kube_cpu_quota(500, 0), 50000);
        assert_int_equal(kube_cpu_quota(1500, 100000), 150000);
        assert_int_equal(kube_cpu_quota(5, 100000), 1000);
        assert_int_equal(kube_cpu_quota(0, 100000), -1);
        assert_int_equal(kube_cpu_weight(2), 1);
        assert_int_equal(kube_cpu_weight(1024), 39);
        assert_int_equal(kube_cpu_weight(262144), 10000);
}

static const char *qos(const char *spec)
{
        json_t *j = J(spec);
        const char *q = kube_qos_class(j);
        json_decref(j);
        return q;
}

static void qos_classes(void **state)
{
        (void)state;
        assert_string_equal(qos("{\"containers\":[{\"name\":\"a\"}]}"), "BestEffort");
        assert_string_equal(qos("{\"containers\":[{\"name\":\"a\",\"resources\":{}}]}"), "BestEffort");
        /* Requests default to limits. */
        assert_string_equal(qos("{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\","
                                "\"memory\":\"64Mi\"}}}]}"), "Guaranteed");
        assert_string_equal(qos("{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\","
                                "\"memory\":\"64Mi\"},\"requests\":{\"cpu\":\"1000m\",\"memory\":\"67108864\"}}}]}"),
                            "Guaranteed");
        assert_string_equal(qos("{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\","
                                "\"memory\":\"64Mi\"},\"requests\":{\"cpu\":\"500m\"}}}]}"), "Burstable");
        assert_string_equal(qos("{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\"}}}]}"),
                            "Burstable");
        assert_string_equal(qos("{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"250m\"}}}]}"),
                            "Burstable");
        assert_string_equal(qos("{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":1,"
                                "\"memory\":\"64Mi\"}}},{\"name\":\"b\"}]}"), "Burstable");
        assert_string_equal(qos("{\"initContainers\":[{\"name\":\"i\"}],\"containers\":[{\"name\":\"a\","
                                "\"resources\":{\"limits\":{\"cpu\":1,\"memory\":\"64Mi\"}}}]}"), "Burstable");
        /* Only ephemeral-storage: no cpu/memory, BestEffort. */
        assert_string_equal(qos("{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":"
                                "{\"ephemeral-storage\":\"1Gi\"}}}]}"), "BestEffort");
        /* Pod-level resources decide alone. */
        assert_string_equal(qos("{\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}},"
                                "\"containers\":[{\"name\":\"a\"}]}"), "Guaranteed");
}

static void oom_scores(void **state)
{
        (void)state;
        const int64_t gib = 1LL << 30;
        assert_int_equal(kube_oom_score_adj("Guaranteed", gib, 8 * gib), -997);
        assert_int_equal(kube_oom_score_adj("BestEffort", 0, 8 * gib), 1000);
        assert_int_equal(kube_oom_score_adj("Burstable", 0, 8 * gib), 999);        /* 1000 -> 999 */
        assert_int_equal(kube_oom_score_adj("Burstable", 1, 8 * gib), 999);
        assert_int_equal(kube_oom_score_adj("Burstable", gib, 10 * gib), 900);
        assert_int_equal(kube_oom_score_adj("Burstable", 4 * gib, 8 * gib), 500);
        assert_int_equal(kube_oom_score_adj("Burstable", 8 * gib, 8 * gib), 3);    /* floor is 1000 + -997 */
        assert_int_equal(kube_oom_score_adj("Burstable", 16 * gib, 8 * gib), 3);
        assert_int_equal(kube_oom_score_adj("Burstable", 8 * gib - 8 * gib / 1000 * 2, 8 * gib), 3);
}

static void backoff(void **state)
{
        (void)state;
        const int expected[] = { 10, 20, 40, 80, 160, 300, 300, 300 };
        int d = 0;
        for (size_t i = 0; i < ARRAY_SIZE(expected); i++) {
                d = kube_backoff_next(d, 10, 300);
                assert_int_equal(d, expected[i]);
        }
        assert_int_equal(kube_backoff_next(0, 1, 8), 1);
        assert_int_equal(kube_backoff_next(5, 1, 8), 8);
}

/* ---- names ------------------------------------------------------------------------ */

static void names(void **state)
{
        (void)state;
        _cleanup_free_ char *enc = kube_safe_encode("0123456789");
        assert_string_equal(enc, "456789bcdf");

        /* FNV-32a of the canonical JSON, SafeEncodeString of the decimal (computed independently). */
        json_t *t = J("{\"a\":1}");
        _cleanup_free_ char *h1 = kube_pod_template_hash(t, 0);
        _cleanup_free_ char *h1c = kube_pod_template_hash(t, 1);
        assert_string_equal(h1, "67868497f7");
        assert_string_equal(h1c, "7499459bfb");
        json_decref(t);
        t = J("{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]},"
              "\"metadata\":{\"labels\":{\"app\":\"web\"}}}");
        _cleanup_free_ char *h2 = kube_pod_template_hash(t, 0);
        assert_string_equal(h2, "686fbf49d8");
        json_decref(t);
        /* Key order does not matter; content does. */
        json_t *a = J("{\"x\":1,\"y\":[1,2]}"), *b = J("{\"y\":[1,2],\"x\":1}"), *c = J("{\"y\":[2,1],\"x\":1}");
        _cleanup_free_ char *ha = kube_pod_template_hash(a, 0), *hb = kube_pod_template_hash(b, 0),
                            *hc = kube_pod_template_hash(c, 0);
        assert_string_equal(ha, hb);
        assert_string_not_equal(ha, hc);
        json_decref(a);
        json_decref(b);
        json_decref(c);

        _cleanup_free_ char *r1 = kube_random_suffix(), *r2 = kube_random_suffix();
        assert_int_equal(strlen(r1), 5);
        assert_int_equal(strspn(r1, "bcdfghjklmnpqrstvwxz2456789"), 5);
        assert_string_not_equal(r1, r2);
}

static void times(void **state)
{
        (void)state;
        struct tm tm = { .tm_year = 126, .tm_mon = 10, .tm_mday = 29, .tm_hour = 17 };
        int64_t base = (int64_t)timegm(&tm) * 1000;
        assert_int_equal(kube_time_ms("2026-11-29T17:00:00Z"), base);
        assert_int_equal(kube_time_ms("2026-11-29T17:00:00.5Z"), base + 500);
        assert_int_equal(kube_time_ms("2026-11-29T17:00:00.123456789Z"), base + 123);
        assert_int_equal(kube_time_ms("2026-11-29T18:00:00+01:00"), base);
        assert_int_equal(kube_time_ms("2026-11-29T16:30:00-00:30"), base);
        assert_int_equal(kube_time_ms("2026-11-29"), -1);
        assert_int_equal(kube_time_ms("2026-11-29T17:00:00"), -1);
        assert_int_equal(kube_time_ms(NULL), -1);
}

/* ---- scale-down order (D4) ------------------------------------------------------------ */

static json_t *pod(const char *name, const char *node, const char *phase, bool ready, const char *ready_since,
                   int restarts, const char *created, const char *cost)
{
        json_t *p = J("{\"metadata\":{},\"spec\":{},\"status\":{\"conditions\":[]}}");
        json_t *meta = json_object_get(p, "metadata"), *status = json_object_get(p, "status");
        json_object_set_new(meta, "name", json_string(name));
        json_object_set_new(meta, "uid", json_string(name));
        if (created)
                json_object_set_new(meta, "creationTimestamp", json_string(created));
        if (cost)
                json_object_set_new(meta, "annotations",
                                    json_pack("{s:s}", "controller.kubernetes.io/pod-deletion-cost", cost));
        if (node)
                json_object_set_new(json_object_get(p, "spec"), "nodeName", json_string(node));
        json_object_set_new(status, "phase", json_string(phase));
        json_array_append_new(json_object_get(status, "conditions"),
                              json_pack("{s:s, s:s, s:s}", "type", "Ready", "status", ready ? "True" : "False",
                                        "lastTransitionTime", ready_since ? ready_since : "2026-01-01T00:00:00Z"));
        json_object_set_new(status, "containerStatuses",
                            json_pack("[{s:s, s:i}]", "name", "c", "restartCount", restarts));
        return p;
}

static const char *name_of(const json_t *p)
{
        return json_string_value(json_object_get(json_object_get(p, "metadata"), "name"));
}

static void delete_order(void **state)
{
        (void)state;
        const char *t0 = "2026-01-01T00:00:00Z", *t1 = "2026-01-01T00:01:00Z", *t2 = "2026-01-01T00:02:00Z";
        json_t *pods[] = {
                pod("ready-old", "n", "Running", true, t0, 0, t0, NULL),
                pod("ready-new", "n", "Running", true, t1, 0, t1, NULL),
                pod("not-ready", "n", "Running", false, NULL, 0, t0, NULL),
                pod("pending", "n", "Pending", false, NULL, 0, t0, NULL),
                pod("unscheduled", NULL, "Pending", false, NULL, 0, t0, NULL),
                pod("costly", "n", "Running", true, t2, 0, t2, "100"),
                pod("cheap", "n", "Running", true, t0, 0, t0, "-5"),
                pod("restarts", "n", "Running", true, t0, 3, t0, NULL),
        };
        qsort(pods, ARRAY_SIZE(pods), sizeof(pods[0]), kube_pod_delete_qsort_cmp);
        const char *expected[] = { "unscheduled", "pending", "not-ready", "cheap", "ready-new", "restarts",
                                   "ready-old", "costly" };
        for (size_t i = 0; i < ARRAY_SIZE(pods); i++)
                assert_string_equal(name_of(pods[i]), expected[i]);
        for (size_t i = 0; i < ARRAY_SIZE(pods); i++)
                json_decref(pods[i]);
}

static void delete_order_details(void **state)
{
        (void)state;
        const char *t0 = "2026-01-01T00:00:00Z", *t1 = "2026-01-01T00:00:10Z";
        /* Same readiness time: more restarts first, then the newer pod. */
        json_t *a = pod("a", "n", "Running", true, t0, 1, t0, NULL);
        json_t *b = pod("b", "n", "Running", true, t0, 0, t1, NULL);
        assert_true(kube_pod_delete_cmp(a, b) < 0);
        json_decref(a);
        a = pod("a", "n", "Running", true, t0, 0, t0, NULL);
        assert_true(kube_pod_delete_cmp(a, b) > 0);     /* b is newer */
        assert_int_equal(kube_pod_delete_cmp(a, a), 0);
        json_decref(b);
        /* Invalid costs ("+5", "007") count as 0. */
        b = pod("b", "n", "Running", true, t0, 0, t0, "+5");
        json_t *c = pod("c", "n", "Running", true, t0, 0, t0, "007");
        assert_int_equal(kube_pod_delete_cmp(b, c), 0);
        json_decref(b);
        b = pod("b", "n", "Running", true, t0, 0, t0, "1");
        assert_true(kube_pod_delete_cmp(c, b) < 0);
        json_decref(b);
        json_decref(c);
        /* Unknown sits between Pending and Running. */
        b = pod("b", "n", "Unknown", false, NULL, 0, t0, NULL);
        c = pod("c", "n", "Pending", false, NULL, 0, t0, NULL);
        json_t *d = pod("d", "n", "Running", false, NULL, 0, t0, NULL);
        assert_true(kube_pod_delete_cmp(c, b) < 0);
        assert_true(kube_pod_delete_cmp(b, d) < 0);
        json_decref(b);
        json_decref(c);
        json_decref(d);
        /* Logarithmic scale-down: ages 100 s and 110 s share a bucket (uid
         * order), 10 s and 100 s do not (newer first). */
        int64_t now = kube_time_ms("2026-01-01T01:00:00Z");
        b = pod("b", "n", "Running", false, NULL, 0, "2026-01-01T00:58:20Z", NULL);   /* 100 s */
        c = pod("c", "n", "Running", false, NULL, 0, "2026-01-01T00:58:10Z", NULL);   /* 110 s */
        d = pod("d", "n", "Running", false, NULL, 0, "2026-01-01T00:59:50Z", NULL);   /* 10 s */
        assert_true(kube_pod_delete_cmp_at(c, b, now) > 0);     /* same bucket: "b" < "c" */
        assert_true(kube_pod_delete_cmp(b, c) < 0);             /* exact: b is newer */
        assert_true(kube_pod_delete_cmp_at(d, b, now) < 0);
        json_decref(a);
        json_decref(b);
        json_decref(c);
        json_decref(d);
}

/* ---- HPA: the replica calculator (H1-H3) ---------------------------------------------- */

static struct kube_hpa_pod busy(int64_t use, int64_t request)
{
        return (struct kube_hpa_pod){ .usage_milli = use, .request_milli = request, .has_metric = true };
}

static int replicas_for(int current, const struct kube_hpa_pod *pods, size_t n, int target, int *util)
{
        int replicas = -1, u;
        int64_t raw;
        _cleanup_error_ berth_error_t *err = NULL;
        if (kube_hpa_resource_replicas(current, pods, n, target, KUBE_HPA_TOLERANCE, &replicas, &u, &raw, &err) < 0)
                fail_msg("%s", err->msg);
        if (util)
                *util = u;
        return replicas;
}

static void hpa_formula(void **state)
{
        (void)state;
        int util;
        /* H1: 2 pods at 200% vs 50% -> 8; 4 at 25% -> 2. */
        struct kube_hpa_pod two[] = { busy(200, 100), busy(200, 100) };
        assert_int_equal(replicas_for(2, two, 2, 50, &util), 8);
        assert_int_equal(util, 200);
        struct kube_hpa_pod four[] = { busy(25, 100), busy(25, 100), busy(25, 100), busy(25, 100) };
        assert_int_equal(replicas_for(4, four, 4, 50, &util), 2);
        /* H2: tolerance. 54% (1.08) stays; 56% (1.12) -> ceil(4.48) = 5; 55% (1.1) is within. */
        for (size_t i = 0; i < 4; i++)
                four[i] = busy(54, 100);
        assert_int_equal(replicas_for(4, four, 4, 50, NULL), 4);
        for (size_t i = 0; i < 4; i++)
                four[i] = busy(56, 100);
        assert_int_equal(replicas_for(4, four, 4, 50, NULL), 5);
        for (size_t i = 0; i < 4; i++)
                four[i] = busy(55, 100);
        assert_int_equal(replicas_for(4, four, 4, 50, NULL), 4);
        for (size_t i = 0; i < 4; i++)
                four[i] = busy(45, 100);
        assert_int_equal(replicas_for(4, four, 4, 50, NULL), 4);
        /* The utilization is total use over total request, truncated. */
        struct kube_hpa_pod mixed[] = { busy(100, 200), busy(300, 400) };
        assert_int_equal(replicas_for(2, mixed, 2, 50, &util), 3);
        assert_int_equal(util, 66);
}

static void hpa_unready_and_missing(void **state)
{
        (void)state;
        /* H3: 3 ready pods at 100% + 1 unready, target 50% -> 300/4/50 = 1.5 -> 6, not 8. */
        struct kube_hpa_pod p[] = { busy(100, 100), busy(100, 100), busy(100, 100), busy(100, 100) };
        p[3].unready = true;
        assert_int_equal(replicas_for(4, p, 4, 50, NULL), 6);
        p[3].unready = false;
        p[3].pending = true;
        p[3].has_metric = false;
        assert_int_equal(replicas_for(4, p, 4, 50, NULL), 6);
        /* A missing metric counts as 0% on a scale-up... */
        p[3].pending = false;
        assert_int_equal(replicas_for(4, p, 4, 50, NULL), 6);
        /* ...and as 100% of the request on a scale-down: (3×10 + 100)/400 = 32% -> ceil(0.64×4) = 3. */
        for (size_t i = 0; i < 3; i++)
                p[i] = busy(10, 100);
        assert_int_equal(replicas_for(4, p, 4, 50, NULL), 3);
        /* Unready pods are left out of a scale-down: ceil(0.2 × 2 ready) = 1. */
        struct kube_hpa_pod q[] = { busy(10, 100), busy(10, 100), busy(90, 100), busy(90, 100) };
        q[2].unready = q[3].unready = true;
        assert_int_equal(replicas_for(4, q, 4, 50, NULL), 1);
        /* The fill-in may not reverse the direction: 1 ready at 60% + 3 missing
         * is a scale-up that becomes 15%: no change. */
        struct kube_hpa_pod r[] = { busy(60, 100), busy(0, 100), busy(0, 100), busy(0, 100) };
        r[1].has_metric = r[2].has_metric = r[3].has_metric = false;
        assert_int_equal(replicas_for(4, r, 4, 50, NULL), 4);
        /* 1 ready at 40% (a scale-down) + 1 missing at 100% -> 70%: no change. */
        struct kube_hpa_pod s[] = { busy(40, 100), busy(0, 100) };
        s[1].has_metric = false;
        assert_int_equal(replicas_for(2, s, 2, 50, NULL), 2);
        /* Deleting or failed pods are not counted at all. */
        struct kube_hpa_pod t[] = { busy(200, 100), busy(0, 100) };
        t[1].ignored = true;
        assert_int_equal(replicas_for(2, t, 2, 50, NULL), 4);
}

static void hpa_calculator_errors(void **state)
{
        (void)state;
        int r, u;
        int64_t raw;
        _cleanup_error_ berth_error_t *err = NULL;
        struct kube_hpa_pod p[] = { busy(0, 100) };
        p[0].unready = true;
        assert_true(kube_hpa_resource_replicas(1, p, 1, 50, 0.1, &r, &u, &raw, &err) < 0);
        assert_string_equal(err->msg, "did not receive metrics for targeted pods (pods might be unready)");
        berth_error_free(&err);
        assert_true(kube_hpa_resource_replicas(1, p, 0, 50, 0.1, &r, &u, &raw, &err) < 0);
        assert_string_equal(err->msg, "no pods returned by selector while calculating replica count");
        berth_error_free(&err);

        json_t *pod_ = J("{\"metadata\":{\"name\":\"web-1\"},\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":"
                         "{\"requests\":{\"cpu\":\"250m\"}}},{\"name\":\"b\"}]}}");
        int64_t m;
        assert_true(kube_pod_cpu_request_milli(pod_, &m, &err) < 0);
        assert_string_equal(err->msg, "missing request for cpu in container b of Pod web-1");
        berth_error_free(&err);
        json_decref(pod_);
        pod_ = J("{\"metadata\":{\"name\":\"web-1\"},\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":"
                 "{\"requests\":{\"cpu\":\"250m\"}}},{\"name\":\"b\",\"resources\":{\"limits\":{\"cpu\":0.5}}}],"
                 "\"initContainers\":[{\"name\":\"side\",\"restartPolicy\":\"Always\",\"resources\":{\"requests\":"
                 "{\"cpu\":\"100m\"}}},{\"name\":\"init\"}]}}");
        assert_int_equal(kube_pod_cpu_request_milli(pod_, &m, &err), 0);
        assert_int_equal(m, 850);
        json_decref(pod_);
}

static json_t *hpa_pod(const char *phase, const char *ready, const char *start, const char *transition,
                       bool deleting)
{
        json_t *p = json_pack("{s:{s:s}, s:{s:s, s:[{s:s, s:s, s:s}]}}", "metadata", "name", "p", "status", "phase",
                              phase, "conditions", "type", "Ready", "status", ready, "lastTransitionTime", transition);
        if (start)
                json_object_set_new(json_object_get(p, "status"), "startTime", json_string(start));
        if (deleting)
                json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp",
                                    json_string("2026-01-01T00:00:00Z"));
        return p;
}

static struct kube_hpa_pod grouped(json_t *p, bool has_metric, int64_t metric_ms, int64_t now_ms)
{
        struct kube_hpa_pod out = { 0 };
        kube_hpa_pod_group(p, has_metric, metric_ms, 15000, now_ms, &out);
        json_decref(p);
        return out;
}

static void hpa_pod_grouping(void **state)
{
        (void)state;
        int64_t now = kube_time_ms("2026-01-01T01:00:00Z");
        struct kube_hpa_pod g;
        g = grouped(hpa_pod("Running", "True", "2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z", true), true, now, now);
        assert_true(g.ignored);
        g = grouped(hpa_pod("Failed", "False", "2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z", false), true, now, now);
        assert_true(g.ignored);
        g = grouped(hpa_pod("Pending", "False", NULL, "2026-01-01T00:00:05Z", false), false, now, now);
        assert_true(g.pending && !g.ignored);
        /* Long-running and Ready: counted. */
        g = grouped(hpa_pod("Running", "True", "2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z", false), true, now, now);
        assert_false(g.unready || g.pending || g.ignored);
        /* Started a minute ago, Ready 10 s ago: the 15 s window predates readiness. */
        g = grouped(hpa_pod("Running", "True", "2026-01-01T00:59:00Z", "2026-01-01T00:59:50Z", false), true, now, now);
        assert_true(g.unready);
        /* Started a minute ago, Ready 30 s ago: a full window since. */
        g = grouped(hpa_pod("Running", "True", "2026-01-01T00:59:00Z", "2026-01-01T00:59:30Z", false), true, now, now);
        assert_false(g.unready);
        /* Past the 5-minute initialization, never ready: set aside. */
        g = grouped(hpa_pod("Running", "False", "2026-01-01T00:00:00Z", "2026-01-01T00:00:10Z", false), true, now, now);
        assert_true(g.unready);
        /* Past it, was ready and then became unready: still counted (Kubernetes' rule). */
        g = grouped(hpa_pod("Running", "False", "2026-01-01T00:00:00Z", "2026-01-01T00:30:00Z", false), true, now, now);
        assert_false(g.unready);
        /* No start time: unready. */
        g = grouped(hpa_pod("Running", "True", NULL, "2026-01-01T00:30:00Z", false), true, now, now);
        assert_true(g.unready);
}

/* ---- HPA: the controller's decisions (H1 clamp, H4, H5) -------------------------------- */

struct sim {
        struct kube_hpa_behavior behavior;
        struct kube_hpa_history history;
        int current, min, max, window_s;
};

static void sim_init(struct sim *s, const char *behavior, int current, int min, int max, int window_s)
{
        memset(s, 0, sizeof(*s));
        json_t *b = behavior ? J(behavior) : NULL;
        _cleanup_error_ berth_error_t *err = NULL;
        if (kube_hpa_behavior_parse(b, window_s, &s->behavior, &err) < 0)
                fail_msg("%s", err->msg);
        json_decref(b);
        s->current = current;
        s->min = min;
        s->max = max;
        s->window_s = window_s;
}

/* One sync at t seconds where the metric proposes `proposal`; applies the
 * rescale as the controller would. */
static int sim_sync(struct sim *s, int t, int proposal, struct kube_hpa_result *res)
{
        struct kube_hpa_metric m = { .ok = true, .replicas = proposal, .utilization = 0, .resource = "cpu",
                                     .name = "cpu resource utilization (percentage of request)" };
        struct kube_hpa_input in = { .current = s->current, .min_replicas = s->min, .max_replicas = s->max,
                                     .metrics = &m, .n_metrics = 1, .behavior = &s->behavior,
                                     .downscale_window_s = s->window_s, .now_ms = 1000000 + (int64_t)t * 1000 };
        kube_hpa_decide(&in, &s->history, res);
        if (res->rescale) {
                kube_hpa_store_scale_event(&s->history, &s->behavior, s->current, res->desired, in.now_ms);
                s->current = res->desired;
        }
        return s->current;
}

static void hpa_clamp(void **state)
{
        (void)state;
        struct sim s;
        struct kube_hpa_result r;
        /* H1: 8 wanted, maxReplicas 5 -> 5. */
        sim_init(&s, "{}", 2, 1, 5, 300);
        assert_int_equal(sim_sync(&s, 0, 8, &r), 5);
        assert_true(r.limited.set && r.limited.status);
        assert_string_equal(r.limited.reason, "TooManyReplicas");
        assert_string_equal(r.reason, "cpu resource utilization (percentage of request) above target");
        assert_string_equal(r.able.reason, "SucceededRescale");
        assert_string_equal(r.able.message, "the HPA controller was able to update the target scale to 5");
        assert_true(r.active.status);
        assert_string_equal(r.active.reason, "ValidMetricFound");
        kube_hpa_history_free(&s.history);
        /* The same without spec.behavior (the legacy limit max(2x, 4) = 8 allows it). */
        sim_init(&s, NULL, 4, 1, 5, 300);
        assert_int_equal(sim_sync(&s, 0, 16, &r), 5);
        assert_string_equal(r.limited.reason, "TooManyReplicas");
        kube_hpa_history_free(&s.history);
        /* Below minReplicas / above maxReplicas: straight to the bound. */
        sim_init(&s, NULL, 1, 2, 5, 300);
        assert_int_equal(sim_sync(&s, 0, 1, &r), 2);
        assert_string_equal(r.reason, "Current number of replicas below Spec.MinReplicas");
        kube_hpa_history_free(&s.history);
        sim_init(&s, NULL, 9, 2, 5, 300);
        assert_int_equal(sim_sync(&s, 0, 9, &r), 5);
        assert_string_equal(r.reason, "Current number of replicas above Spec.MaxReplicas");
        kube_hpa_history_free(&s.history);
}

static void hpa_scale_up_policies(void **state)
{
        (void)state;
        struct sim s;
        struct kube_hpa_result r;
        /* H4: 2 -> 8 wanted, default policies: max(2 + 100%, 2 + 4) = 6, then 8 one period later. */
        sim_init(&s, "{}", 2, 1, 10, 300);
        assert_int_equal(sim_sync(&s, 0, 8, &r), 6);
        assert_string_equal(r.limited.reason, "ScaleUpLimit");
        assert_true(r.limited.status);
        assert_int_equal(sim_sync(&s, 14, 8, &r), 6);   /* the +4 of t=0 is still inside the period */
        assert_false(r.rescale);
        assert_int_equal(sim_sync(&s, 15, 8, &r), 8);
        assert_string_equal(r.limited.reason, "DesiredWithinRange");
        assert_false(r.limited.status);
        kube_hpa_history_free(&s.history);
        /* Without spec.behavior Kubernetes keeps the old limit max(2x, 4): 4, then 8. */
        sim_init(&s, NULL, 2, 1, 10, 300);
        assert_int_equal(sim_sync(&s, 0, 8, &r), 4);
        assert_string_equal(r.limited.reason, "ScaleUpLimit");
        assert_int_equal(sim_sync(&s, 15, 8, &r), 8);
        kube_hpa_history_free(&s.history);
        /* selectPolicy Min picks the smaller step; Disabled holds. */
        sim_init(&s, "{\"scaleUp\":{\"selectPolicy\":\"Min\"}}", 10, 1, 40, 300);
        assert_int_equal(sim_sync(&s, 0, 30, &r), 14);
        kube_hpa_history_free(&s.history);
        sim_init(&s, "{\"scaleUp\":{\"selectPolicy\":\"Disabled\"}}", 2, 1, 10, 300);
        assert_int_equal(sim_sync(&s, 0, 8, &r), 2);
        kube_hpa_history_free(&s.history);
        /* A scale-up stabilization window applies the lowest recent recommendation. */
        sim_init(&s, "{\"scaleUp\":{\"stabilizationWindowSeconds\":60}}", 2, 1, 10, 300);
        assert_int_equal(sim_sync(&s, 0, 4, &r), 2);    /* the initial 2 is in the window */
        assert_string_equal(r.able.reason, "ScaleUpStabilized");
        assert_int_equal(sim_sync(&s, 61, 4, &r), 4);
        kube_hpa_history_free(&s.history);
}

static void hpa_scale_down_window(void **state)
{
        (void)state;
        struct sim s;
        struct kube_hpa_result r;
        /* H4: after 8 at t=0 and t=15 the load drops; the 300 s window holds 8
         * until the last 8 (t=15) leaves it, then the window's max (2). */
        sim_init(&s, "{}", 8, 1, 10, 300);
        assert_int_equal(sim_sync(&s, 0, 8, &r), 8);
        assert_int_equal(sim_sync(&s, 15, 8, &r), 8);
        for (int t = 30; t <= 315; t += 15) {
                int got = sim_sync(&s, t, 2, &r);
                if (t < 315) {
                        assert_int_equal(got, 8);
                        assert_string_equal(r.able.reason, "ScaleDownStabilized");
                } else {
                        assert_int_equal(got, 2);
                        assert_string_equal(r.reason, "All metrics below target");
                }
        }
        kube_hpa_history_free(&s.history);
        /* A shorter window (the daemon flag, or scaleDown.stabilizationWindowSeconds):
         * 3 when 3 is the highest of the window. */
        sim_init(&s, "{}", 8, 1, 10, 30);
        assert_int_equal(sim_sync(&s, 0, 8, &r), 8);
        assert_int_equal(sim_sync(&s, 15, 3, &r), 8);
        assert_int_equal(sim_sync(&s, 30, 2, &r), 3);   /* window (0, 30]: 3 and 2 */
        assert_int_equal(sim_sync(&s, 45, 2, &r), 2);   /* window (15, 45]: 2 */
        kube_hpa_history_free(&s.history);
        sim_init(&s, "{\"scaleDown\":{\"stabilizationWindowSeconds\":0,\"policies\":[{\"type\":\"Pods\",\"value\":1,"
                     "\"periodSeconds\":60}]}}", 5, 1, 10, 300);
        assert_int_equal(sim_sync(&s, 0, 1, &r), 4);
        assert_string_equal(r.limited.reason, "ScaleDownLimit");
        assert_int_equal(sim_sync(&s, 30, 1, &r), 4);   /* 1 pod per 60 s */
        assert_int_equal(sim_sync(&s, 61, 1, &r), 3);
        kube_hpa_history_free(&s.history);
        /* The legacy path has the same window (the controller flag). */
        sim_init(&s, NULL, 6, 1, 10, 60);
        assert_int_equal(sim_sync(&s, 0, 2, &r), 6);    /* the initial recommendation is 6 */
        assert_int_equal(sim_sync(&s, 59, 2, &r), 6);
        assert_int_equal(sim_sync(&s, 61, 2, &r), 2);
        kube_hpa_history_free(&s.history);
}

static void hpa_inactive_and_failures(void **state)
{
        (void)state;
        struct sim s;
        struct kube_hpa_result r;
        /* H5: the target scaled to 0 by hand -> nothing happens. */
        sim_init(&s, "{}", 0, 1, 10, 300);
        assert_int_equal(sim_sync(&s, 0, 8, &r), 0);
        assert_false(r.rescale);
        assert_false(r.active.status);
        assert_string_equal(r.active.reason, "ScalingDisabled");
        assert_string_equal(r.active.message, "scaling is disabled since the replica count of the target is zero");
        kube_hpa_history_free(&s.history);
        /* minReplicas 0 allows 0 -> scaling. */
        sim_init(&s, "{}", 0, 0, 10, 300);
        assert_int_equal(sim_sync(&s, 0, 3, &r), 3);
        kube_hpa_history_free(&s.history);

        /* Pods without cpu requests: FailedGetResourceMetric. */
        struct kube_hpa_history h = { 0 };
        struct kube_hpa_behavior b;
        kube_hpa_behavior_parse(NULL, 300, &b, NULL);
        struct kube_hpa_metric m = { .ok = false, .resource = "cpu", .reason = "FailedGetResourceMetric",
                                     .error = "failed to get cpu utilization: missing request for cpu in container "
                                              "c of Pod web-1" };
        struct kube_hpa_input in = { .current = 2, .min_replicas = 1, .max_replicas = 5, .metrics = &m,
                                     .n_metrics = 1, .behavior = &b, .downscale_window_s = 300, .now_ms = 1000 };
        kube_hpa_decide(&in, &h, &r);
        assert_true(r.failed);
        assert_false(r.rescale);
        assert_false(r.active.status);
        assert_string_equal(r.active.reason, "FailedGetResourceMetric");
        assert_string_equal(r.active.message, "the HPA was unable to compute the replica count: failed to get cpu "
                                              "utilization: missing request for cpu in container c of Pod web-1");
        assert_string_equal(r.error, "invalid metrics (1 invalid out of 1), first error is: failed to get cpu "
                                     "resource metric value: failed to get cpu utilization: missing request for cpu "
                                     "in container c of Pod web-1");
        kube_hpa_history_free(&h);
}

static void hpa_behavior_parse(void **state)
{
        (void)state;
        struct kube_hpa_behavior b;
        _cleanup_error_ berth_error_t *err = NULL;
        assert_int_equal(kube_hpa_behavior_parse(NULL, 300, &b, &err), 0);
        assert_false(b.set);
        json_t *j = J("{\"scaleDown\":{\"selectPolicy\":\"Min\"}}");
        assert_int_equal(kube_hpa_behavior_parse(j, 120, &b, &err), 0);
        json_decref(j);
        assert_true(b.set);
        assert_int_equal(b.up.stabilization_s, 0);
        assert_int_equal(b.up.n_policies, 2);
        assert_int_equal(b.up.select, KUBE_HPA_SELECT_MAX);
        assert_int_equal(b.down.stabilization_s, 120);
        assert_int_equal(b.down.select, KUBE_HPA_SELECT_MIN);
        assert_int_equal(b.down.n_policies, 1);
        assert_int_equal(b.down.policies[0].type, KUBE_HPA_POLICY_PERCENT);
        assert_int_equal(b.down.policies[0].value, 100);
        assert_int_equal(b.down.policies[0].period_s, 15);
        j = J("{\"scaleUp\":{\"selectPolicy\":\"Fast\"}}");
        assert_true(kube_hpa_behavior_parse(j, 300, &b, &err) < 0);
        json_decref(j);
        berth_error_free(&err);
        j = J("{\"scaleUp\":{\"policies\":[]}}");
        assert_true(kube_hpa_behavior_parse(j, 300, &b, &err) < 0);
        assert_string_equal(err->msg,
                            "spec.behavior.scaleUp: policies: Required value: must specify at least one Policy");
        json_decref(j);
        berth_error_free(&err);
        j = J("{\"scaleUp\":{\"policies\":[{\"type\":\"Pods\",\"value\":1,\"periodSeconds\":1801}]}}");
        assert_true(kube_hpa_behavior_parse(j, 300, &b, &err) < 0);
        json_decref(j);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(intstr_values),
                cmocka_unit_test(intstr_errors),
                cmocka_unit_test(rolling_params),
                cmocka_unit_test(rolling_validation),
                cmocka_unit_test(quantities),
                cmocka_unit_test(quantity_json_cmp_format),
                cmocka_unit_test(cgroup_numbers),
                cmocka_unit_test(qos_classes),
                cmocka_unit_test(oom_scores),
                cmocka_unit_test(backoff),
                cmocka_unit_test(names),
                cmocka_unit_test(times),
                cmocka_unit_test(delete_order),
                cmocka_unit_test(delete_order_details),
                cmocka_unit_test(hpa_formula),
                cmocka_unit_test(hpa_unready_and_missing),
                cmocka_unit_test(hpa_calculator_errors),
                cmocka_unit_test(hpa_pod_grouping),
                cmocka_unit_test(hpa_clamp),
                cmocka_unit_test(hpa_scale_up_policies),
                cmocka_unit_test(hpa_scale_down_window),
                cmocka_unit_test(hpa_inactive_and_failures),
                cmocka_unit_test(hpa_behavior_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
