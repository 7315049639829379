/* The columns and times of berth kube (pure, no I/O, built alone into the
 * unit test): apimachinery's HumanDuration, the values kubectl's printers
 * compute (pkg/printers: printPod's READY, STATUS and RESTARTS, a
 * Service's PORT(S), an Endpoints' addresses, an HPA's TARGETS), and the
 * rollout-status decision of kubectl's DeploymentStatusViewer. */
#include "cli/cli-kube.h"
#include <ctype.h>
#include <time.h>

/* ---- times ---- */

long long kube_time_parse(const char *s)
{
        struct tm tm = { 0 };
        const char *p;
        long long t;

        if (s == NULL || *s == '\0')
                return -1;
        p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (p == NULL)
                return -1;
        if (*p == '.')
                for (p++; isdigit((unsigned char)*p); p++)
                        ;
        t = (long long)timegm(&tm);
        if (*p == 'Z' || *p == 'z')
                return p[1] == '\0' ? t : -1;
        if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) && p[3] == ':' &&
            isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5]) && p[6] == '\0') {
                long off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
                return *p == '+' ? t - off : t + off;
        }
        return -1;
}

long long kube_parse_duration(const char *s)
{
        long long whole = parse_ll(s ? s : "");
        double ns;

        if (whole >= 0)
                return whole * 1000;
        if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || !go_duration_parse(s, &ns))
                return -1;
        return (long long)(ns / 1e6 + 0.5);
}

char *kube_human_duration(long long s)
{
        long long m, h, d;

        if (s < -1)
                return xstrdup("<invalid>");
        if (s < 0)
                return xstrdup("0s");
        if (s < 120)
                return xasprintf("%llds", s);
        m = s / 60;
        if (m < 10)
                return s % 60 ? xasprintf("%lldm%llds", m, s % 60) : xasprintf("%lldm", m);
        if (m < 180)
                return xasprintf("%lldm", m);
        h = s / 3600;
        if (h < 8)
                return m % 60 ? xasprintf("%lldh%lldm", h, m % 60) : xasprintf("%lldh", h);
        if (h < 48)
                return xasprintf("%lldh", h);
        d = h / 24;
        if (h < 24 * 8)
                return h % 24 ? xasprintf("%lldd%lldh", d, h % 24) : xasprintf("%lldd", d);
        if (h < 24 * 365 * 2)
                return xasprintf("%lldd", d);
        if (h < 24 * 365 * 8)
                return d % 365 ? xasprintf("%lldy%lldd", d / 365, d % 365) : xasprintf("%lldy", d / 365);
        return xasprintf("%lldy", d / 365);
}

char *kube_age(const char *ts, long long now)
{
        long long t = kube_time_parse(ts);

        if (t < 0)
                return xstrdup("<unknown>");
        return kube_human_duration(now - t);
}

char *kube_time_rfc1123z(const char *ts)
{
        long long t = kube_time_parse(ts);
        time_t tt = (time_t)t;
        struct tm tm;
        char buf[64];

        if (t < 0 || localtime_r(&tt, &tm) == NULL)
                return xstrdup("<unknown>");
        strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S %z", &tm);
        return xstrdup(buf);
}

/* ---- pods ---- */

static bool condition_true(const json_t *status, const char *type)
{
        const json_t *conds = json_object_get(status, "conditions");

        for (size_t i = 0; i < json_array_size(conds); i++) {
                const json_t *c = json_array_get(conds, i);
                const char *t = kube_str(c, "type"), *s = kube_str(c, "status");
                if (t && s && strcmp(t, type) == 0 && strcmp(s, "True") == 0)
                        return true;
        }
        return false;
}

/* An init container with restartPolicy Always: a sidecar, counted with
 * the containers. */
static bool sidecar(const json_t *pod, const char *name)
{
        const json_t *inits = kube_at(pod, "spec.initContainers");

        for (size_t i = 0; name && i < json_array_size(inits); i++) {
                const json_t *c = json_array_get(inits, i);
                const char *n = kube_str(c, "name"), *rp = kube_str(c, "restartPolicy");
                if (n && strcmp(n, name) == 0)
                        return rp && strcmp(rp, "Always") == 0;
        }
        return false;
}

/* "Signal:9" / "ExitCode:1" for a terminated state without a reason. */
static char *terminated_reason(const json_t *term, const char *prefix)
{
        const char *r = kube_str(term, "reason");
        long long sig = kube_int(term, "signal", 0);

        if (r && *r)
                return xasprintf("%s%s", prefix, r);
        if (sig)
                return xasprintf("%sSignal:%lld", prefix, sig);
        return xasprintf("%sExitCode:%lld", prefix, kube_int(term, "exitCode", 0));
}

struct pod_counts {
        long long restarts, sidecar_restarts;
        long long last_restart, sidecar_last_restart;  /* Unix seconds, -1 */
        int ready, total;
        char *reason;
        bool initializing;
};

static void note_restart(const json_t *cs, long long *restarts, long long *last)
{
        long long fin = kube_time_parse(kube_str(cs, "lastState.terminated.finishedAt"));

        *restarts += kube_int(cs, "restartCount", 0);
        if (fin > *last)
                *last = fin;
}

static void set_reason(struct pod_counts *p, char *r)
{
        free(p->reason);
        p->reason = r;
}

static void pod_init_containers(const json_t *pod, struct pod_counts *p)
{
        const json_t *st = json_object_get(pod, "status");
        const json_t *ics = json_object_get(st, "initContainerStatuses");
        size_t ninit = json_array_size(kube_at(pod, "spec.initContainers"));

        for (size_t i = 0; i < json_array_size(ics); i++) {
                const json_t *cs = json_array_get(ics, i);
                const json_t *term = kube_at(cs, "state.terminated");
                const char *wr = kube_str(cs, "state.waiting.reason");
                bool side = sidecar(pod, kube_str(cs, "name"));
                note_restart(cs, &p->restarts, &p->last_restart);
                if (side)
                        note_restart(cs, &p->sidecar_restarts, &p->sidecar_last_restart);
                if (term && kube_int(term, "exitCode", 0) == 0)
                        continue;
                if (side && json_is_true(json_object_get(cs, "started"))) {
                        if (json_is_true(json_object_get(cs, "ready")))
                                p->ready++;
                        continue;
                }
                if (term)
                        set_reason(p, terminated_reason(term, "Init:"));
                else if (wr && *wr && strcmp(wr, "PodInitializing") != 0)
                        set_reason(p, xasprintf("Init:%s", wr));
                else
                        set_reason(p, xasprintf("Init:%zu/%zu", i, ninit));
                p->initializing = true;
                break;
        }
}

static void pod_containers(const json_t *pod, struct pod_counts *p)
{
        const json_t *st = json_object_get(pod, "status");
        const json_t *css = json_object_get(st, "containerStatuses");
        bool running = false;

        p->restarts = p->sidecar_restarts;
        p->last_restart = p->sidecar_last_restart;
        /* from the last to the first: the first container's state wins */
        for (size_t i = json_array_size(css); i-- > 0;) {
                const json_t *cs = json_array_get(css, i);
                const json_t *term = kube_at(cs, "state.terminated");
                const char *wr = kube_str(cs, "state.waiting.reason");
                note_restart(cs, &p->restarts, &p->last_restart);
                if (wr && *wr) {
                        set_reason(p, xstrdup(wr));
                } else if (term) {
                        set_reason(p, terminated_reason(term, ""));
                } else if (json_is_true(json_object_get(cs, "ready")) && kube_at(cs, "state.running")) {
                        running = true;
                        p->ready++;
                }
        }
        if (strcmp(p->reason, "Completed") == 0 && running)
                set_reason(p, xstrdup(condition_true(st, "Ready") ? "Running" : "NotReady"));
}

static void pod_count(const json_t *pod, struct pod_counts *p)
{
        const json_t *st = json_object_get(pod, "status");
        const char *phase = kube_str(st, "phase"), *r = kube_str(st, "reason");
        const json_t *inits = kube_at(pod, "spec.initContainers");

        memset(p, 0, sizeof(*p));
        p->last_restart = p->sidecar_last_restart = -1;
        p->reason = xstrdup(r && *r ? r : phase ? phase : "Pending");
        p->total = (int)json_array_size(kube_at(pod, "spec.containers"));
        for (size_t i = 0; i < json_array_size(inits); i++)
                if (sidecar(pod, kube_str(json_array_get(inits, i), "name")))
                        p->total++;
        pod_init_containers(pod, p);
        if (!p->initializing || condition_true(st, "Initialized"))
                pod_containers(pod, p);
        if (kube_at(pod, "metadata.deletionTimestamp") && !json_is_null(kube_at(pod, "metadata.deletionTimestamp"))) {
                if (r && strcmp(r, "NodeLost") == 0)
                        set_reason(p, xstrdup("Unknown"));
                else if (!phase || (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0))
                        set_reason(p, xstrdup("Terminating"));
        }
}

char *kube_pod_status(const json_t *pod)
{
        struct pod_counts p;

        pod_count(pod, &p);
        return p.reason;
}

char *kube_pod_ready(const json_t *pod)
{
        struct pod_counts p;

        pod_count(pod, &p);
        free(p.reason);
        return xasprintf("%d/%d", p.ready, p.total);
}

char *kube_pod_restarts(const json_t *pod, long long now)
{
        struct pod_counts p;
        _cleanup_free_ char *ago = NULL;

        pod_count(pod, &p);
        free(p.reason);
        if (p.restarts == 0 || p.last_restart < 0)
                return xasprintf("%lld", p.restarts);
        ago = kube_human_duration(now - p.last_restart);
        return xasprintf("%lld (%s ago)", p.restarts, ago);
}

/* ---- services, endpoints, autoscalers ---- */

static const char *protocol(const json_t *port)
{
        const char *p = kube_str(port, "protocol");
        return p && *p ? p : "TCP";
}

char *kube_service_ports(const json_t *svc)
{
        const json_t *ports = kube_at(svc, "spec.ports");
        struct strbuf b = { 0 };

        if (json_array_size(ports) == 0)
                return xstrdup("<none>");
        strbuf_adds(&b, "");
        for (size_t i = 0; i < json_array_size(ports); i++) {
                const json_t *p = json_array_get(ports, i);
                long long node = kube_int(p, "nodePort", 0);
                _cleanup_free_ char *s = node > 0 ? xasprintf("%lld:%lld/%s", kube_int(p, "port", 0), node, protocol(p))
                                                  : xasprintf("%lld/%s", kube_int(p, "port", 0), protocol(p));
                if (i)
                        strbuf_adds(&b, ",");
                strbuf_adds(&b, s);
        }
        return b.data;
}

static char *join_strings(const json_t *arr, const char *sep)
{
        struct strbuf b = { 0 };

        strbuf_adds(&b, "");
        for (size_t i = 0; i < json_array_size(arr); i++) {
                _cleanup_free_ char *s = kube_scalar(json_array_get(arr, i));
                if (i)
                        strbuf_adds(&b, sep);
                strbuf_adds(&b, s);
        }
        return b.data;
}

char *kube_service_external_ip(const json_t *svc)
{
        const char *type = kube_str(svc, "spec.type");
        const json_t *ext = kube_at(svc, "spec.externalIPs");

        if (type && strcmp(type, "ExternalName") == 0)
                return xstrdup(kube_str(svc, "spec.externalName") ? kube_str(svc, "spec.externalName") : "<none>");
        if (type && strcmp(type, "LoadBalancer") == 0) {
                const json_t *ing = kube_at(svc, "status.loadBalancer.ingress");
                struct strbuf b = { 0 };
                strbuf_adds(&b, "");
                for (size_t i = 0; i < json_array_size(ing); i++) {
                        const char *ip = kube_str(json_array_get(ing, i), "ip");
                        if (ip == NULL)
                                ip = kube_str(json_array_get(ing, i), "hostname");
                        if (b.len)
                                strbuf_adds(&b, ",");
                        strbuf_adds(&b, ip ? ip : "");
                }
                if (b.len == 0) {
                        free(b.data);
                        return json_array_size(ext) ? join_strings(ext, ",") : xstrdup("<pending>");
                }
                return b.data;
        }
        if (json_array_size(ext))
                return join_strings(ext, ",");
        return xstrdup("<none>");
}

char *kube_endpoints_string(const json_t *ep, const char *port_name)
{
        const json_t *subsets = json_object_get(ep, "subsets");
        struct strbuf b = { 0 };
        size_t listed = 0, count = 0;
        const size_t max = 3;

        strbuf_adds(&b, "");
        for (size_t s = 0; s < json_array_size(subsets); s++) {
                const json_t *ss = json_array_get(subsets, s);
                const json_t *addrs = json_object_get(ss, "addresses"), *ports = json_object_get(ss, "ports");
                size_t nports = json_array_size(ports);
                for (size_t p = 0; p < (nports ? nports : 1); p++) {
                        const json_t *port = json_array_get(ports, p);
                        const char *pn = kube_str(port, "name");
                        if (nports && port_name && strcmp(pn ? pn : "", port_name) != 0)
                                continue;
                        count += json_array_size(addrs);
                        for (size_t a = 0; a < json_array_size(addrs) && listed < max; a++) {
                                const char *ip = kube_str(json_array_get(addrs, a), "ip");
                                _cleanup_free_ char *one = nports ? xasprintf("%s:%lld", ip ? ip : "", kube_int(port, "port", 0))
                                                                 : xstrdup(ip ? ip : "");
                                if (listed++)
                                        strbuf_adds(&b, ",");
                                strbuf_adds(&b, one);
                        }
                }
        }
        if (listed == 0) {
                free(b.data);
                return xstrdup("<none>");
        }
        if (count > max) {
                char *s = xasprintf("%s + %zu more...", b.data, count - max);
                free(b.data);
                return s;
        }
        return b.data;
}

static char *hpa_metric(const json_t *spec, const json_t *status)
{
        const char *type = kube_str(spec, "type");
        const char *src = type && strcmp(type, "ContainerResource") == 0 ? "containerResource" : "resource";
        const json_t *res = json_object_get(spec, src), *cur = kube_at(json_object_get(status, src), "current");
        const char *name = kube_str(res, "name");
        const json_t *avg_value = kube_at(res, "target.averageValue");
        const json_t *util = kube_at(res, "target.averageUtilization");

        if (type == NULL || (strcmp(type, "Resource") != 0 && strcmp(type, "ContainerResource") != 0))
                return xasprintf("<unknown>/<unknown>");
        if (avg_value) {
                _cleanup_free_ char *t = kube_scalar(avg_value);
                _cleanup_free_ char *c = kube_at(cur, "averageValue") ? kube_scalar(kube_at(cur, "averageValue"))
                                                                    : xstrdup("<unknown>");
                return xasprintf("%s: %s/%s", name ? name : "", c, t);
        }
        _cleanup_free_ char *c = json_is_integer(kube_at(cur, "averageUtilization"))
                                         ? xasprintf("%lld%%", kube_int(cur, "averageUtilization", 0))
                                         : xstrdup("<unknown>");
        _cleanup_free_ char *t = util ? xasprintf("%lld%%", kube_int(res, "target.averageUtilization", 0))
                                      : xstrdup("<auto>");
        return xasprintf("%s: %s/%s", name ? name : "", c, t);
}

char *kube_hpa_targets(const json_t *hpa)
{
        const json_t *specs = kube_at(hpa, "spec.metrics"), *stats = kube_at(hpa, "status.currentMetrics");
        struct strbuf b = { 0 };
        size_t n = json_array_size(specs);
        const size_t max = 2;

        if (n == 0)
                return xstrdup("<none>");
        strbuf_adds(&b, "");
        for (size_t i = 0; i < n && i < max; i++) {
                _cleanup_free_ char *m = hpa_metric(json_array_get(specs, i), json_array_get(stats, i));
                if (i)
                        strbuf_adds(&b, ", ");
                strbuf_adds(&b, m);
        }
        if (n > max) {
                char *s = xasprintf("%s + %zu more...", b.data, n - max);
                free(b.data);
                return s;
        }
        return b.data;
}

static char *containers_join(const json_t *containers, const char *field)
{
        struct strbuf b = { 0 };

        strbuf_adds(&b, "");
        for (size_t i = 0; i < json_array_size(containers); i++) {
                const char *v = kube_str(json_array_get(containers, i), field);
                if (i)
                        strbuf_adds(&b, ",");
                strbuf_adds(&b, v ? v : "");
        }
        return b.data;
}

char *kube_container_names(const json_t *containers)
{
        return containers_join(containers, "name");
}

char *kube_container_images(const json_t *containers)
{
        return containers_join(containers, "image");
}

size_t kube_b64_len(const char *s)
{
        size_t n = 0;

        for (; s && *s; s++)
                if (*s != '=' && !isspace((unsigned char)*s))
                        n++;
        /* every 4 characters are 3 bytes; a short tail of 2 or 3 is 1 or 2 */
        return n / 4 * 3 + (n % 4 == 3 ? 2 : n % 4 == 2 ? 1 : 0);
}

/* ---- rollout status ---- */

int kube_rollout_status(const json_t *d, long long revision, char **msg, berth_error_t **err)
{
        const char *name = kube_str(d, "metadata.name") ? kube_str(d, "metadata.name") : "";
        long long replicas = kube_int(d, "spec.replicas", 1);
        long long updated = kube_int(d, "status.updatedReplicas", 0), total = kube_int(d, "status.replicas", 0);
        long long available = kube_int(d, "status.availableReplicas", 0);
        const json_t *conds = kube_at(d, "status.conditions");

        *msg = NULL;
        if (revision > 0) {
                const json_t *ann = kube_at(d, "metadata.annotations");
                const char *rev = json_string_value(json_object_get(ann, "deployment.kubernetes.io/revision"));
                long long have;
                have = rev ? parse_ll(rev) : 0;
                if (have != revision)
                        return berth_error(err, 0, "desired revision (%lld) is different from the running revision (%lld)",
                                           revision, have);
        }
        if (kube_int(d, "metadata.generation", 0) > kube_int(d, "status.observedGeneration", 0)) {
                *msg = xstrdup("Waiting for deployment spec update to be observed...");
                return 0;
        }
        for (size_t i = 0; i < json_array_size(conds); i++) {
                const json_t *c = json_array_get(conds, i);
                const char *type = kube_str(c, "type"), *reason = kube_str(c, "reason");
                if (type && reason && strcmp(type, "Progressing") == 0 && strcmp(reason, "ProgressDeadlineExceeded") == 0)
                        return berth_error(err, 0, "deployment \"%s\" exceeded its progress deadline", name);
        }
        if (updated < replicas)
                *msg = xasprintf("Waiting for deployment \"%s\" rollout to finish: %lld out of %lld new replicas have been updated...",
                                 name, updated, replicas);
        else if (total > updated)
                *msg = xasprintf("Waiting for deployment \"%s\" rollout to finish: %lld old replicas are pending termination...",
                                 name, total - updated);
        else if (available < updated)
                *msg = xasprintf("Waiting for deployment \"%s\" rollout to finish: %lld of %lld updated replicas are available...",
                                 name, available, updated);
        if (*msg)
                return 0;
        *msg = xasprintf("deployment \"%s\" successfully rolled out", name);
        return 1;
}
