/* Kubernetes' arithmetic outside the HPA: IntOrString and the
 * RollingUpdate fenceposts, the kubelet's cgroup numbers and QoS, restart
 * back-off, the pod-template-hash and random names, and the ReplicaSet's
 * scale-down order.  Each function follows the Go function named in
 * kube-calc.h. */
#include "orch/kube-calc.h"
#include "util/util.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ---- IntOrString ------------------------------------------------------------ */

/* strconv.Atoi on the part before "%", with Go's error text. */
static int go_atoi(const char *s, size_t n, long long *out, char **why)
{
        size_t i = 0;
        bool neg = false;
        if (i < n && (s[i] == '+' || s[i] == '-'))
                neg = s[i++] == '-';
        if (i == n)
                goto syntax;
        long long v = 0;
        for (; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        goto syntax;
                if (v > (LLONG_MAX - (s[i] - '0')) / 10) {
                        *why = xasprintf("strconv.Atoi: parsing \"%.*s\": value out of range", (int)n, s);
                        return -ERANGE;
                }
                v = v * 10 + (s[i] - '0');
        }
        *out = neg ? -v : v;
        return 0;
syntax:
        *why = xasprintf("strconv.Atoi: parsing \"%.*s\": invalid syntax", (int)n, s);
        return -EINVAL;
}

/* getIntOrPercentValueSafely. */
static int intstr_value(const json_t *v, long long *value, bool *percent, berth_error_t **err)
{
        *percent = false;
        if (json_is_integer(v)) {
                *value = json_integer_value(v);
                return 0;
        }
        if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) && fabs(json_real_value(v)) < 1e15) {
                *value = (long long)json_real_value(v);
                return 0;
        }
        if (!json_is_string(v))
                return berth_fail(err, EINVAL,
                                  "invalid value for IntOrString: invalid type: neither int nor percentage");
        const char *s = json_string_value(v);
        size_t n = strlen(s);
        if (n == 0 || s[n - 1] != '%')
                return berth_fail(err, EINVAL,
                                  "invalid value for IntOrString: invalid type: string is not a percentage");
        _cleanup_free_ char *why = NULL;
        if (go_atoi(s, n - 1, value, &why) < 0) {
                _cleanup_free_ char *q = quote(s);
                return berth_fail(err, EINVAL, "invalid value for IntOrString: invalid value %s: %s", q, why);
        }
        *percent = true;
        return 0;
}

int kube_intstr_scaled(const json_t *v, int total, bool round_up, int *out, berth_error_t **err)
{
        long long value = 0;
        bool percent;
        if (!v || json_is_null(v))
                return berth_fail(err, EINVAL, "nil value for IntOrString");
        if (intstr_value(v, &value, &percent, err) < 0)
                return -EINVAL;
        if (percent) {
                /* Go computes this in float64: math.Ceil(float64(value) * float64(total) / 100). */
                double scaled = (double)value * (double)total / 100;
                value = (long long)(round_up ? ceil(scaled) : floor(scaled));
        }
        if (value > INT_MAX || value < INT_MIN)
                return berth_fail(err, ERANGE, "invalid value for IntOrString: %lld is out of range", value);
        *out = (int)value;
        return 0;
}

/* ---- Deployment strategy ----------------------------------------------------- */

/* field.Invalid's text: "<path>: Invalid value: <value>: <detail>". */
static int field_invalid(berth_error_t **err, const char *path, const json_t *value, const char *detail)
{
        _cleanup_free_ char *shown = value ? json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT) : xstrdup("null");
        return berth_fail(err, EINVAL, "%s: Invalid value: %s: %s", path, shown ? shown : "?", detail);
}

/* ValidatePositiveIntOrPercent. */
static int validate_int_or_percent(const json_t *v, const char *path, berth_error_t **err)
{
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                size_t n = strlen(s), digits = strspn(s, "0123456789");
                if (n < 2 || digits != n - 1 || s[n - 1] != '%')
                        return field_invalid(err, path, v,
                                             "a valid percent string must be a numeric string followed by an ending "
                                             "'%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
                return 0;
        }
        if (json_is_integer(v)) {
                if (json_integer_value(v) < 0)
                        return field_invalid(err, path, v, "must be greater than or equal to 0");
                return 0;
        }
        return field_invalid(err, path, v, "must be an integer or percentage (e.g '5%')");
}

/* getIntOrPercentValue: the number, percent or not (valid input only). */
static long long int_or_percent_number(const json_t *v)
{
        if (json_is_integer(v))
                return json_integer_value(v);
        return json_is_string(v) ? atoll(json_string_value(v)) : 0;
}

static const json_t *field_or_null(const json_t *obj, const char *key)
{
        const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
        return v && !json_is_null(v) ? v : NULL;
}

/* The values after SetDefaults_Deployment: absent ones are "25%". */
static void rolling_values(const json_t *strategy, json_t **surge, json_t **unavailable)
{
        const json_t *ru = field_or_null(strategy, "rollingUpdate");
        const json_t *s = field_or_null(ru, "maxSurge"), *u = field_or_null(ru, "maxUnavailable");
        *surge = s ? json_deep_copy(s) : json_string("25%");
        *unavailable = u ? json_deep_copy(u) : json_string("25%");
}

static const char *strategy_type(const json_t *strategy)
{
        const json_t *t = field_or_null(strategy, "type");
        return t ? json_string_value(t) : "RollingUpdate";
}

int kube_strategy_validate(const json_t *strategy, berth_error_t **err)
{
        const json_t *type = field_or_null(strategy, "type");
        const char *t = strategy_type(strategy);
        if (strategy && !json_is_object(strategy) && !json_is_null(strategy))
                return berth_fail(err, EINVAL, "spec.strategy: Invalid value: must be an object");
        if (!t || (strcmp(t, "Recreate") != 0 && strcmp(t, "RollingUpdate") != 0)) {
                _cleanup_free_ char *shown = json_dumps(type, JSON_ENCODE_ANY | JSON_COMPACT);
                return berth_fail(err, EINVAL,
                                  "spec.strategy.type: Unsupported value: %s: supported values: \"Recreate\", "
                                  "\"RollingUpdate\"", shown ? shown : "?");
        }
        if (strcmp(t, "Recreate") == 0) {
                if (field_or_null(strategy, "rollingUpdate"))
                        return berth_fail(err, EINVAL,
                                          "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy "
                                          "`type` is 'Recreate'");
                return 0;
        }
        json_t *surge, *unavailable;
        rolling_values(strategy, &surge, &unavailable);
        int r = validate_int_or_percent(unavailable, "spec.strategy.rollingUpdate.maxUnavailable", err);
        if (r == 0)
                r = validate_int_or_percent(surge, "spec.strategy.rollingUpdate.maxSurge", err);
        if (r == 0 && int_or_percent_number(unavailable) == 0 && int_or_percent_number(surge) == 0)
                r = field_invalid(err, "spec.strategy.rollingUpdate.maxUnavailable", unavailable,
                                  "may not be 0 when `maxSurge` is 0");
        if (r == 0 && json_is_string(unavailable) && int_or_percent_number(unavailable) > 100)
                r = field_invalid(err, "spec.strategy.rollingUpdate.maxUnavailable", unavailable,
                                  "must not be greater than 100%");
        json_decref(surge);
        json_decref(unavailable);
        return r;
}

int kube_rolling_params(const json_t *strategy, int replicas, int *max_surge, int *max_unavailable,
                        berth_error_t **err)
{
        if (kube_strategy_validate(strategy, err) < 0)
                return -EINVAL;
        if (strcmp(strategy_type(strategy), "Recreate") == 0) {
                *max_surge = 0;
                *max_unavailable = replicas;
                return 0;
        }
        json_t *surge_v, *unavailable_v;
        rolling_values(strategy, &surge_v, &unavailable_v);
        int surge = 0, unavailable = 0;
        int r = kube_intstr_scaled(surge_v, replicas, true, &surge, err);
        if (r == 0)
                r = kube_intstr_scaled(unavailable_v, replicas, false, &unavailable, err);
        json_decref(surge_v);
        json_decref(unavailable_v);
        if (r < 0)
                return r;
        /* ResolveFenceposts: rounding down may make both 0; surge might not
         * work (quota), so let one pod be unavailable. */
        if (surge == 0 && unavailable == 0)
                unavailable = 1;
        *max_surge = surge;
        *max_unavailable = unavailable;
        return 0;
}

/* ---- cgroup numbers ------------------------------------------------------------ */

uint64_t kube_cpu_shares(int64_t milli)
{
        if (milli <= 0)
                return 2;
        /* The kubelet multiplies in int64; 9e12 cores is not a request. */
        if (milli > INT64_MAX / 1024)
                return 262144;
        int64_t shares = milli * 1024 / 1000;
        return shares < 2 ? 2 : shares > 262144 ? 262144 : (uint64_t)shares;
}

int64_t kube_cpu_quota(int64_t milli, int64_t period)
{
        if (milli <= 0)
                return -1;
        if (period <= 0)
                period = KUBE_CPU_PERIOD_US;
        __int128 quota = (__int128)milli * period / 1000;
        if (quota > INT64_MAX)
                return INT64_MAX;
        return quota < 1000 ? 1000 : (int64_t)quota;
}

uint64_t kube_cpu_weight(uint64_t shares)
{
        if (shares < 2)
                shares = 2;
        if (shares > 262144)
                shares = 262144;
        return 1 + (shares - 2) * 9999 / 262142;
}

/* ---- QoS ---------------------------------------------------------------------- */

static const char *quantity_text(const json_t *v, char *buf, size_t n)
{
        if (json_is_string(v))
                return json_string_value(v);
        if (json_is_integer(v))
                snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else if (json_is_real(v))
                snprintf(buf, n, "%.15g", json_real_value(v));
        else
                return NULL;
        return buf;
}

/* A resource's request, falling back to its limit (API defaulting). */
static const json_t *effective_request(const json_t *resources, const char *name)
{
        const json_t *req = field_or_null(field_or_null(resources, "requests"), name);
        return req ? req : field_or_null(field_or_null(resources, "limits"), name);
}

static bool has_any(const json_t *list)
{
        return json_is_object(list) && json_object_size(list) > 0;
}

/* resourceQOS for one set of requirements. */
static const char *resources_qos(const json_t *resources)
{
        static const char *const names[] = { "cpu", "memory" };
        const char *qos = NULL;
        if (!has_any(field_or_null(resources, "requests")) && !has_any(field_or_null(resources, "limits")))
                return "BestEffort";
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                char b1[64], b2[64];
                const char *req = quantity_text(effective_request(resources, names[i]), b1, sizeof(b1));
                const char *lim = quantity_text(field_or_null(field_or_null(resources, "limits"), names[i]), b2,
                                                sizeof(b2));
                if (kube_quantity_cmp(req ? req : "0", lim ? lim : "0") != 0)
                        return "Burstable";
                bool best_effort = kube_quantity_cmp(req ? req : "0", "0") == 0;
                if (!qos)
                        qos = best_effort ? "BestEffort" : "Guaranteed";
                else if (best_effort != (strcmp(qos, "BestEffort") == 0))
                        return "Burstable";
        }
        return qos;
}

const char *kube_qos_class(const json_t *pod_spec)
{
        const json_t *pod_resources = field_or_null(pod_spec, "resources");
        if (pod_resources)
                return resources_qos(pod_resources);
        static const char *const lists[] = { "initContainers", "containers" };
        const char *pod_qos = NULL;
        for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
                const json_t *list = field_or_null(pod_spec, lists[l]);
                size_t i;
                const json_t *c;
                json_array_foreach(list, i, c) {
                        const char *qos = resources_qos(field_or_null(c, "resources"));
                        if (strcmp(qos, "Burstable") == 0)
                                return qos;
                        if (!pod_qos)
                                pod_qos = qos;
                        else if (strcmp(pod_qos, qos) != 0)
                                return "Burstable";
                }
        }
        return pod_qos ? pod_qos : "BestEffort";
}

int kube_oom_score_adj(const char *qos, int64_t mem_request, int64_t node_mem)
{
        const int guaranteed = -997, best_effort = 1000;
        if (qos && strcmp(qos, "Guaranteed") == 0)
                return guaranteed;
        if (qos && strcmp(qos, "BestEffort") == 0)
                return best_effort;
        __int128 adj = node_mem > 0 ? 1000 - (__int128)1000 * mem_request / node_mem : 1000;
        /* A Guaranteed pod using all memory scores about 10: stay above it,
         * and below BestEffort. */
        if (adj < 1000 + guaranteed)
                return 1000 + guaranteed;
        if (adj >= best_effort)
                return best_effort - 1;
        return (int)adj;
}

/* ---- back-off -------------------------------------------------------------------- */

int kube_backoff_next(int prev_s, int base_s, int max_s)
{
        if (prev_s <= 0)
                return base_s;
        if (prev_s > max_s / 2)
                return max_s;
        return prev_s * 2;
}

/* ---- names ------------------------------------------------------------------------ */

static const char alphanums[] = "bcdfghjklmnpqrstvwxz2456789";

char *kube_safe_encode(const char *s)
{
        size_t n = strlen(s);
        char *out = xmalloc(n + 1);
        for (size_t i = 0; i < n; i++)
                out[i] = alphanums[(unsigned char)s[i] % (sizeof(alphanums) - 1)];
        out[n] = '\0';
        return out;
}

static uint32_t fnv32a(uint32_t h, const void *p, size_t n)
{
        const unsigned char *b = p;
        for (size_t i = 0; i < n; i++) {
                h ^= b[i];
                h *= 16777619u;
        }
        return h;
}

char *kube_pod_template_hash(const json_t *tmpl, int collision_count)
{
        _cleanup_free_ char *canonical = json_dumps(tmpl ? tmpl : json_null(),
                                                    JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
        if (!canonical)
                abort();
        uint32_t h = fnv32a(2166136261u, canonical, strlen(canonical));
        if (collision_count > 0) {
                unsigned char bytes[8] = { 0 };
                uint32_t c = (uint32_t)collision_count;
                for (int i = 0; i < 4; i++)
                        bytes[i] = (unsigned char)(c >> (8 * i));
                h = fnv32a(h, bytes, sizeof(bytes));
        }
        char decimal[16];
        snprintf(decimal, sizeof(decimal), "%" PRIu32, h);
        return kube_safe_encode(decimal);
}

char *kube_random_suffix(void)
{
        char *out = xmalloc(6);
        size_t n = 0;
        while (n < 5) {
                unsigned char r[16];
                if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
                        abort();
                /* Reject bytes >= 243 (9 × 27) so every character is equally likely. */
                for (size_t i = 0; i < sizeof(r) && n < 5; i++)
                        if (r[i] < 243)
                                out[n++] = alphanums[r[i] % 27];
        }
        out[5] = '\0';
        return out;
}

/* ---- time --------------------------------------------------------------------------- */

static bool take_int(const char **p, int digits, int *out)
{
        int v = 0;
        for (int i = 0; i < digits; i++) {
                char c = (*p)[i];
                if (c < '0' || c > '9')
                        return false;
                v = v * 10 + (c - '0');
        }
        *p += digits;
        *out = v;
        return true;
}

static bool take_char(const char **p, const char *set)
{
        if (**p && strchr(set, **p)) {
                (*p)++;
                return true;
        }
        return false;
}

int64_t kube_time_ms(const char *s)
{
        int y, mo, d, h, mi, sec, ms = 0;
        const char *p = s;
        if (!s || !take_int(&p, 4, &y) || !take_char(&p, "-") || !take_int(&p, 2, &mo) || !take_char(&p, "-") ||
            !take_int(&p, 2, &d) || !take_char(&p, "Tt ") || !take_int(&p, 2, &h) || !take_char(&p, ":") ||
            !take_int(&p, 2, &mi) || !take_char(&p, ":") || !take_int(&p, 2, &sec))
                return -1;
        if (take_char(&p, ".")) {
                int scale = 100;
                if (*p < '0' || *p > '9')
                        return -1;
                for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
                        ms += (*p - '0') * scale;
        }
        long offset = 0;
        if (!take_char(&p, "Zz")) {
                int oh, om;
                char sign = *p;
                if (!take_char(&p, "+-") || !take_int(&p, 2, &oh) || !take_char(&p, ":") || !take_int(&p, 2, &om))
                        return -1;
                offset = (sign == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
        }
        if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
                return -1;
        struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                         .tm_hour = h, .tm_min = mi, .tm_sec = sec };
        time_t t = timegm(&tm);
        return ((int64_t)t - offset) * 1000 + ms;
}

/* ---- ReplicaSet scale-down order ------------------------------------------------- */

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
        const json_t *v = json_object_get(json_object_get(obj, a), b);
        return json_is_string(v) ? json_string_value(v) : "";
}

const json_t *kube_pod_ready_condition(const json_t *pod)
{
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, c) {
                const json_t *type = json_object_get(c, "type");
                if (json_is_string(type) && strcmp(json_string_value(type), "Ready") == 0)
                        return c;
        }
        return NULL;
}

bool kube_pod_is_ready(const json_t *pod)
{
        const json_t *c = kube_pod_ready_condition(pod);
        const json_t *status = c ? json_object_get(c, "status") : NULL;
        return json_is_string(status) && strcmp(json_string_value(status), "True") == 0;
}

/* podPhaseToOrdinal: Pending 0, Unknown 1, Running 2, anything else 0. */
static int phase_ordinal(const json_t *pod)
{
        const char *phase = str_at(pod, "status", "phase");
        return strcmp(phase, "Running") == 0 ? 2 : strcmp(phase, "Unknown") == 0 ? 1 : 0;
}

/* GetDeletionCostFromPodAnnotations: an int32 without "+" or leading
 * zeros; anything else counts as 0. */
static int32_t deletion_cost(const json_t *pod)
{
        const json_t *ann = json_object_get(json_object_get(pod, "metadata"), "annotations");
        const json_t *cost = json_object_get(ann, "controller.kubernetes.io/pod-deletion-cost");
        if (!json_is_string(cost))
                return 0;
        const char *s = json_string_value(cost);
        bool first_ok = s[0] == '-' || strcmp(s, "0") == 0 || (s[0] >= '1' && s[0] <= '9');
        if (!first_ok)
                return 0;
        char *end;
        errno = 0;
        long long n = strtoll(s, &end, 10);
        if (errno || *end || end == s || n < INT32_MIN || n > INT32_MAX)
                return 0;
        return (int32_t)n;
}

static int max_restarts(const json_t *statuses, const json_t *only_names)
{
        int most = 0;
        size_t i;
        const json_t *c;
        json_array_foreach(statuses, i, c) {
                const json_t *name = json_object_get(c, "name");
                if (only_names && (!json_is_string(name) || !json_object_get(only_names, json_string_value(name))))
                        continue;
                json_int_t n = json_integer_value(json_object_get(c, "restartCount"));
                if (n > most)
                        most = n > INT_MAX ? INT_MAX : (int)n;
        }
        return most;
}

/* maxContainerRestarts: regular containers, then restartable init ones. */
static void restarts(const json_t *pod, int *regular, int *sidecar)
{
        const json_t *status = json_object_get(pod, "status");
        json_t *sidecars = json_object();
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(json_object_get(pod, "spec"), "initContainers"), i, c) {
                const json_t *policy = json_object_get(c, "restartPolicy");
                const json_t *name = json_object_get(c, "name");
                if (json_is_string(policy) && strcmp(json_string_value(policy), "Always") == 0 && json_is_string(name))
                        json_object_set_new(sidecars, json_string_value(name), json_true());
        }
        *regular = max_restarts(json_object_get(status, "containerStatuses"), NULL);
        *sidecar = max_restarts(json_object_get(status, "initContainerStatuses"), sidecars);
        json_decref(sidecars);
}

static int64_t ready_time(const json_t *pod)
{
        const json_t *c = kube_pod_ready_condition(pod);
        if (!kube_pod_is_ready(pod) || !c)
                return 0;
        int64_t t = kube_time_ms(json_string_value(json_object_get(c, "lastTransitionTime")));
        return t < 0 ? 0 : t;
}

static int64_t creation_time(const json_t *pod)
{
        int64_t t = kube_time_ms(str_at(pod, "metadata", "creationTimestamp"));
        return t < 0 ? 0 : t;
}

/* afterOrZero as a comparison: a zero time first, then the later one. */
static int later_first(int64_t a, int64_t b)
{
        if (a == b)
                return 0;
        if (a == 0 || b == 0)
                return a == 0 ? -1 : 1;
        return a > b ? -1 : 1;
}

/* logarithmicRankDiff: floor(log2(age in ns)), -1 for no age. */
static int64_t log_rank(int64_t t_ms, int64_t now_ms)
{
        double d = ((double)now_ms - (double)t_ms) * 1e6;
        return d > 0 ? (int64_t)log2(d) : -1;
}

static int time_cmp(int64_t a, int64_t b, int64_t now_ms, const json_t *pa, const json_t *pb)
{
        if (now_ms <= 0 || a == 0 || b == 0)
                return later_first(a, b);
        int64_t diff = log_rank(a, now_ms) - log_rank(b, now_ms);
        if (diff != 0)
                return diff < 0 ? -1 : 1;
        /* Same bucket: by uid, a pseudo-random but stable order. */
        int c = strcmp(str_at(pa, "metadata", "uid"), str_at(pb, "metadata", "uid"));
        return c < 0 ? -1 : c > 0;
}

static int sign_of(int64_t v) { return v < 0 ? -1 : v > 0; }

int kube_pod_delete_cmp_at(const json_t *a, const json_t *b, int64_t now_ms)
{
        const char *na = str_at(a, "spec", "nodeName"), *nb = str_at(b, "spec", "nodeName");
        if (strcmp(na, nb) != 0 && (!*na || !*nb))
                return !*na ? -1 : 1;
        if (phase_ordinal(a) != phase_ordinal(b))
                return sign_of(phase_ordinal(a) - phase_ordinal(b));
        bool ra = kube_pod_is_ready(a), rb = kube_pod_is_ready(b);
        if (ra != rb)
                return ra ? 1 : -1;
        int32_t ca = deletion_cost(a), cb = deletion_cost(b);
        if (ca != cb)
                return ca < cb ? -1 : 1;
        if (ra && rb && ready_time(a) != ready_time(b))
                return time_cmp(ready_time(a), ready_time(b), now_ms, a, b);
        int rega, sida, regb, sidb;
        restarts(a, &rega, &sida);
        restarts(b, &regb, &sidb);
        if (rega != regb)
                return rega > regb ? -1 : 1;
        if (sida != sidb)
                return sida > sidb ? -1 : 1;
        if (creation_time(a) != creation_time(b))
                return time_cmp(creation_time(a), creation_time(b), now_ms, a, b);
        return 0;
}

int kube_pod_delete_cmp(const json_t *a, const json_t *b)
{
        return kube_pod_delete_cmp_at(a, b, 0);
}

int kube_pod_delete_qsort_cmp(const void *a, const void *b)
{
        return kube_pod_delete_cmp(*(const json_t *const *)a, *(const json_t *const *)b);
}
