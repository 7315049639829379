/* berth kube describe for pods and their templates (deployments, replica
 * sets): containers with their state, resources, probes, environment and
 * mounts, the volumes, conditions and the owning objects, as kubectl's
 * describePod and DescribePodTemplate print them. */
#include "cli/cli-kube-describe.h"
#include <time.h>

static const char *str_or(const json_t *o, const char *path, const char *dflt)
{
        const char *s = kube_str(o, path);
        return s ? s : dflt;
}

static char *port_list(const json_t *ports, const char *field)
{
        struct strbuf b = { 0 };

        strbuf_adds(&b, "");
        for (size_t i = 0; i < json_array_size(ports); i++) {
                const json_t *p = json_array_get(ports, i);
                _cleanup_free_ char *one = xasprintf("%lld/%s", kube_int(p, field, 0), str_or(p, "protocol", "TCP"));
                strbuf_adds(&b, i ? ", " : "");
                strbuf_adds(&b, one);
        }
        return b.data;
}

static void describe_ports(struct tabw *w, const json_t *ctr)
{
        const json_t *ports = json_object_get(ctr, "ports");
        _cleanup_free_ char *p = port_list(ports, "containerPort"), *h = port_list(ports, "hostPort");

        dw(w, 2, "%s:\t%s\n", strchr(p, ',') ? "Ports" : "Port", *p ? p : "<none>");
        dw(w, 2, "%s:\t%s\n", strchr(h, ',') ? "Host Ports" : "Host Port", *h ? h : "<none>");
}

static void describe_lines(struct tabw *w, const char *title, const json_t *arr)
{
        if (json_array_size(arr) == 0)
                return;
        dw(w, 2, "%s:\n", title);
        for (size_t i = 0; i < json_array_size(arr); i++) {
                _cleanup_free_ char *s = kube_scalar(json_array_get(arr, i));
                char *save = NULL;
                if (*s == '\0')
                        dw(w, 3, "\n");
                for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        dw(w, 3, "%s\n", l);
        }
}

static void describe_state(struct tabw *w, const char *title, const json_t *st)
{
        const json_t *run = json_object_get(st, "running"), *wait = json_object_get(st, "waiting");
        const json_t *term = json_object_get(st, "terminated");

        if (run) {
                _cleanup_free_ char *t = kube_time_rfc1123z(kube_str(run, "startedAt"));
                dw(w, 2, "%s:\tRunning\n", title);
                dw(w, 3, "Started:\t%s\n", t);
        } else if (term) {
                _cleanup_free_ char *s = kube_time_rfc1123z(kube_str(term, "startedAt"));
                _cleanup_free_ char *f = kube_time_rfc1123z(kube_str(term, "finishedAt"));
                dw(w, 2, "%s:\tTerminated\n", title);
                if (kube_str(term, "reason") && *kube_str(term, "reason"))
                        dw(w, 3, "Reason:\t%s\n", kube_str(term, "reason"));
                if (kube_str(term, "message") && *kube_str(term, "message"))
                        dw(w, 3, "Message:\t%s\n", kube_str(term, "message"));
                dw(w, 3, "Exit Code:\t%lld\n", kube_int(term, "exitCode", 0));
                if (kube_int(term, "signal", 0) > 0)
                        dw(w, 3, "Signal:\t%lld\n", kube_int(term, "signal", 0));
                dw(w, 3, "Started:\t%s\n", s);
                dw(w, 3, "Finished:\t%s\n", f);
        } else {
                dw(w, 2, "%s:\tWaiting\n", title);
                if (wait && kube_str(wait, "reason") && *kube_str(wait, "reason"))
                        dw(w, 3, "Reason:\t%s\n", kube_str(wait, "reason"));
        }
}

static void describe_resources(struct tabw *w, const json_t *ctr)
{
        static const char *const kinds[][2] = { { "limits", "Limits" }, { "requests", "Requests" } };

        for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
                const json_t *m = kube_at(json_object_get(ctr, "resources"), kinds[k][0]);
                const char *key;
                json_t *v;
                if (json_object_size(m) == 0)
                        continue;
                dw(w, 2, "%s:\n", kinds[k][1]);
                /* kubectl sorts the resource names */
                _cleanup_json_ json_t *sorted = json_sorted_copy((json_t *)m);
                json_object_foreach(sorted, key, v) {
                        _cleanup_free_ char *q = kube_scalar(v);
                        dw(w, 3, "%s:\t%s\n", key, q);
                }
        }
}

static char *probe_text(const json_t *p)
{
        _cleanup_free_ char *attrs = xasprintf("delay=%llds timeout=%llds period=%llds #success=%lld #failure=%lld",
                                               kube_int(p, "initialDelaySeconds", 0), kube_int(p, "timeoutSeconds", 1),
                                               kube_int(p, "periodSeconds", 10), kube_int(p, "successThreshold", 1),
                                               kube_int(p, "failureThreshold", 3));
        const json_t *exec = json_object_get(p, "exec"), *http = json_object_get(p, "httpGet");
        const json_t *tcp = json_object_get(p, "tcpSocket");

        if (exec) {
                const json_t *cmd = json_object_get(exec, "command");
                struct strbuf b = { 0 };
                char *s;
                strbuf_adds(&b, "");
                for (size_t i = 0; i < json_array_size(cmd); i++) {
                        strbuf_adds(&b, i ? " " : "");
                        strbuf_adds(&b, json_string_value(json_array_get(cmd, i)) ?: "");
                }
                s = xasprintf("exec [%s] %s", b.data, attrs);
                free(b.data);
                return s;
        }
        if (http) {
                _cleanup_free_ char *port = kube_scalar(json_object_get(http, "port"));
                _cleanup_free_ char *scheme = xstrdup(str_or(http, "scheme", "HTTP"));
                for (char *c = scheme; *c; c++)
                        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
                return xasprintf("http-get %s://%s:%s%s %s", scheme, str_or(http, "host", ""), port,
                                 str_or(http, "path", ""), attrs);
        }
        if (tcp) {
                _cleanup_free_ char *port = kube_scalar(json_object_get(tcp, "port"));
                return xasprintf("tcp-socket %s:%s %s", str_or(tcp, "host", ""), port, attrs);
        }
        return xasprintf("unknown %s", attrs);
}

static void describe_probes(struct tabw *w, const json_t *ctr)
{
        static const char *const probes[][2] = {
                { "livenessProbe", "Liveness" }, { "readinessProbe", "Readiness" }, { "startupProbe", "Startup" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
                const json_t *p = json_object_get(ctr, probes[i][0]);
                _cleanup_free_ char *t = p ? probe_text(p) : NULL;
                if (t)
                        dw(w, 2, "%s:\t%s\n", probes[i][1], t);
        }
}

/* A fieldRef's value in this pod, for the paths pods use. */
static char *field_value(const json_t *pod, const char *path)
{
        static const char *const plain[] = { "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                                             "spec.serviceAccountName", "status.podIP", "status.hostIP" };
        char key[256];

        if (pod == NULL || path == NULL)
                return xstrdup("");
        for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
                if (strcmp(path, plain[i]) == 0)
                        return xstrdup(str_or(pod, path, ""));
        if (sscanf(path, "metadata.labels['%255[^']']", key) == 1)
                return xstrdup(kube_map_str(pod, "metadata.labels", key) ?: "");
        if (sscanf(path, "metadata.annotations['%255[^']']", key) == 1)
                return xstrdup(kube_map_str(pod, "metadata.annotations", key) ?: "");
        return xstrdup("");
}

static void describe_env_from(struct tabw *w, const json_t *ctr)
{
        const json_t *from = json_object_get(ctr, "envFrom");

        if (json_array_size(from))
                dw(w, 2, "Environment Variables from:\n");
        for (size_t i = 0; i < json_array_size(from); i++) {
                const json_t *e = json_array_get(from, i), *cm = json_object_get(e, "configMapRef");
                const json_t *ref = cm ? cm : json_object_get(e, "secretRef");
                const char *prefix = kube_str(e, "prefix");
                bool optional = json_is_true(json_object_get(ref, "optional"));
                if (prefix && *prefix)
                        dw(w, 3, "%s\t%s with prefix '%s'\tOptional: %s\n", str_or(ref, "name", ""),
                           cm ? "ConfigMap" : "Secret", prefix, optional ? "true" : "false");
                else
                        dw(w, 3, "%s\t%s\tOptional: %s\n", str_or(ref, "name", ""), cm ? "ConfigMap" : "Secret",
                           optional ? "true" : "false");
        }
}

/* Environment: values, and where the others come from (never a
 * Secret's value). */
static void describe_env(struct tabw *w, const json_t *ctr, const json_t *pod)
{
        const json_t *env = json_object_get(ctr, "env");

        dw(w, 2, "Environment:%s\n", json_array_size(env) ? "" : "\t<none>");
        for (size_t i = 0; i < json_array_size(env); i++) {
                const json_t *e = json_array_get(env, i), *vf = json_object_get(e, "valueFrom");
                const char *name = str_or(e, "name", "");
                if (vf == NULL) {
                        _cleanup_free_ char *v = xstrdup(str_or(e, "value", ""));
                        char *nl = strchr(v, '\n');
                        dw(w, 3, "%s:\t%.*s\n", name, nl ? (int)(nl - v) : (int)strlen(v), v);
                        for (char *l = nl; l; l = strchr(l + 1, '\n')) {
                                char *end = strchr(l + 1, '\n');
                                dw(w, 3, "\t%.*s\n", end ? (int)(end - l - 1) : (int)strlen(l + 1), l + 1);
                        }
                } else if (kube_at(vf, "fieldRef")) {
                        _cleanup_free_ char *v = field_value(pod, kube_str(vf, "fieldRef.fieldPath"));
                        dw(w, 3, "%s:\t%s (%s:%s)\n", name, v, str_or(vf, "fieldRef.apiVersion", "v1"),
                           str_or(vf, "fieldRef.fieldPath", ""));
                } else if (kube_at(vf, "resourceFieldRef")) {
                        dw(w, 3, "%s:\t (%s)\n", name, str_or(vf, "resourceFieldRef.resource", ""));
                } else if (kube_at(vf, "secretKeyRef")) {
                        dw(w, 3, "%s:\t<set to the key '%s' in secret '%s'>\tOptional: %s\n", name,
                           str_or(vf, "secretKeyRef.key", ""), str_or(vf, "secretKeyRef.name", ""),
                           json_is_true(kube_at(vf, "secretKeyRef.optional")) ? "true" : "false");
                } else if (kube_at(vf, "configMapKeyRef")) {
                        dw(w, 3, "%s:\t<set to the key '%s' of config map '%s'>\tOptional: %s\n", name,
                           str_or(vf, "configMapKeyRef.key", ""), str_or(vf, "configMapKeyRef.name", ""),
                           json_is_true(kube_at(vf, "configMapKeyRef.optional")) ? "true" : "false");
                }
        }
}

static int cmp_mount(const void *a, const void *b)
{
        return strcmp(str_or(*(json_t *const *)a, "mountPath", ""), str_or(*(json_t *const *)b, "mountPath", ""));
}

static void describe_mounts(struct tabw *w, const json_t *ctr)
{
        const json_t *mounts = json_object_get(ctr, "volumeMounts");
        size_t n = json_array_size(mounts);
        _cleanup_free_ json_t **m = xcalloc(n + 1, sizeof(json_t *));

        dw(w, 2, "Mounts:%s\n", n ? "" : "\t<none>");
        for (size_t i = 0; i < n; i++)
                m[i] = json_array_get(mounts, i);
        qsort(m, n, sizeof(json_t *), cmp_mount);
        for (size_t i = 0; i < n; i++) {
                const char *sub = kube_str(m[i], "subPath");
                _cleanup_free_ char *flags = sub && *sub ? xasprintf("%s,path=\"%s\"",
                                                                     json_is_true(json_object_get(m[i], "readOnly")) ? "ro" : "rw", sub)
                                                         : xstrdup(json_is_true(json_object_get(m[i], "readOnly")) ? "ro" : "rw");
                dw(w, 3, "%s from %s (%s)\n", str_or(m[i], "mountPath", ""), str_or(m[i], "name", ""), flags);
        }
}

static const json_t *status_of(const json_t *statuses, const char *name)
{
        for (size_t i = 0; name && i < json_array_size(statuses); i++) {
                const char *n = kube_str(json_array_get(statuses, i), "name");
                if (n && strcmp(n, name) == 0)
                        return json_array_get(statuses, i);
        }
        return NULL;
}

/* statuses NULL: a template (no ids, no state). */
static void describe_containers(struct tabw *w, const char *label, const json_t *ctrs, const json_t *statuses,
                                const json_t *pod, const char *space)
{
        tabw_printf(w, "%s%s:\n", space, label);
        for (size_t i = 0; i < json_array_size(ctrs); i++) {
                const json_t *ctr = json_array_get(ctrs, i);
                const json_t *st = status_of(statuses, kube_str(ctr, "name"));
                dw(w, 1, "%s%s:\n", *space ? " " : "", str_or(ctr, "name", ""));
                if (st)
                        dw(w, 2, "Container ID:\t%s\n", str_or(st, "containerID", ""));
                dw(w, 2, "Image:\t%s\n", str_or(ctr, "image", ""));
                if (st)
                        dw(w, 2, "Image ID:\t%s\n", str_or(st, "imageID", ""));
                describe_ports(w, ctr);
                describe_lines(w, "Command", json_object_get(ctr, "command"));
                describe_lines(w, "Args", json_object_get(ctr, "args"));
                if (st) {
                        describe_state(w, "State", json_object_get(st, "state"));
                        if (kube_at(st, "lastState.terminated"))
                                describe_state(w, "Last State", json_object_get(st, "lastState"));
                        dw(w, 2, "Ready:\t%s\n", json_is_true(json_object_get(st, "ready")) ? "True" : "False");
                        dw(w, 2, "Restart Count:\t%lld\n", kube_int(st, "restartCount", 0));
                }
                describe_resources(w, ctr);
                describe_probes(w, ctr);
                describe_env_from(w, ctr);
                describe_env(w, ctr, pod);
                describe_mounts(w, ctr);
        }
}

static void describe_volume(struct tabw *w, const json_t *v)
{
        const json_t *s;

        if ((s = json_object_get(v, "hostPath")))
                dw(w, 2, "Type:\tHostPath (bare host directory volume)\n    Path:\t%s\n    HostPathType:\t%s\n",
                   str_or(s, "path", ""), str_or(s, "type", ""));
        else if ((s = json_object_get(v, "emptyDir"))) {
                _cleanup_free_ char *limit = kube_at(s, "sizeLimit") ? kube_scalar(kube_at(s, "sizeLimit")) : xstrdup("<unset>");
                dw(w, 2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t%s\n    SizeLimit:\t%s\n",
                   str_or(s, "medium", ""), limit);
        } else if ((s = json_object_get(v, "configMap")))
                dw(w, 2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t%s\n    Optional:\t%s\n",
                   str_or(s, "name", ""), json_is_true(json_object_get(s, "optional")) ? "true" : "false");
        else if ((s = json_object_get(v, "secret")))
                dw(w, 2, "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t%s\n    Optional:\t%s\n",
                   str_or(s, "secretName", ""), json_is_true(json_object_get(s, "optional")) ? "true" : "false");
        else if ((s = json_object_get(v, "persistentVolumeClaim")))
                dw(w, 2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t%s\n    ReadOnly:\t%s\n",
                   str_or(s, "claimName", ""), json_is_true(json_object_get(s, "readOnly")) ? "true" : "false");
        else
                dw(w, 2, "<unknown>\n");
}

static void describe_volumes(struct tabw *w, const json_t *vols, const char *space)
{
        if (json_array_size(vols) == 0) {
                tabw_printf(w, "%sVolumes:\t<none>\n", space);
                return;
        }
        tabw_printf(w, "%sVolumes:\n", space);
        for (size_t i = 0; i < json_array_size(vols); i++) {
                dw(w, 1, "%s%s:\n", *space ? " " : "", str_or(json_array_get(vols, i), "name", ""));
                describe_volume(w, json_array_get(vols, i));
        }
}

static void describe_tolerations(struct tabw *w, const char *space, const json_t *tols)
{
        tabw_printf(w, "%sTolerations:\t", space);
        if (json_array_size(tols) == 0)
                tabw_printf(w, "<none>\n");
        for (size_t i = 0; i < json_array_size(tols); i++) {
                const json_t *t = json_array_get(tols, i);
                const char *key = kube_str(t, "key"), *val = kube_str(t, "value"), *eff = kube_str(t, "effect");
                const char *op = kube_str(t, "operator");
                if (i)
                        tabw_printf(w, "%s\t", space);
                tabw_printf(w, "%s%s%s%s%s%s\n", key ? key : "", op && strcmp(op, "Exists") == 0 ? "" : "=",
                            op && strcmp(op, "Exists") == 0 ? "" : val ? val : "", eff ? ":" : "", eff ? eff : "",
                            op && strcmp(op, "Exists") == 0 ? " op=Exists" : "");
        }
}

void describe_template(struct tabw *w, const json_t *tpl)
{
        const json_t *spec = json_object_get(tpl, "spec");

        dw(w, 0, "Pod Template:\n");
        describe_labels(w, "  ", "Labels", kube_at(tpl, "metadata.labels"));
        if (json_object_size(kube_at(tpl, "metadata.annotations")))
                describe_annotations(w, "  ", "Annotations", kube_at(tpl, "metadata.annotations"));
        if (kube_str(spec, "serviceAccountName"))
                dw(w, 1, "Service Account:\t%s\n", kube_str(spec, "serviceAccountName"));
        if (json_array_size(json_object_get(spec, "initContainers")))
                describe_containers(w, "Init Containers", json_object_get(spec, "initContainers"), NULL, NULL, "  ");
        describe_containers(w, "Containers", json_object_get(spec, "containers"), NULL, NULL, "  ");
        describe_volumes(w, json_object_get(spec, "volumes"), "  ");
        describe_labels(w, "  ", "Node-Selectors", json_object_get(spec, "nodeSelector"));
        describe_tolerations(w, "  ", json_object_get(spec, "tolerations"));
}

static char *controller_of(const json_t *o)
{
        const json_t *refs = kube_at(o, "metadata.ownerReferences");

        for (size_t i = 0; i < json_array_size(refs); i++) {
                const json_t *r = json_array_get(refs, i);
                if (json_is_true(json_object_get(r, "controller")))
                        return xasprintf("%s/%s", str_or(r, "kind", ""), str_or(r, "name", ""));
        }
        return NULL;
}

static void describe_conditions(struct tabw *w, const json_t *conds, bool reason)
{
        if (json_array_size(conds) == 0)
                return;
        dw(w, 0, "%s", reason ? "Conditions:\n  Type\tStatus\tReason\n" : "Conditions:\n  Type\tStatus\n");
        if (reason)
                dw(w, 1, "----\t------\t------\n");
        for (size_t i = 0; i < json_array_size(conds); i++) {
                const json_t *cd = json_array_get(conds, i);
                if (reason)
                        dw(w, 1, "%s \t%s\t%s\n", str_or(cd, "type", ""), str_or(cd, "status", ""), str_or(cd, "reason", ""));
                else
                        dw(w, 1, "%s \t%s \n", str_or(cd, "type", ""), str_or(cd, "status", ""));
        }
}

static void describe_pod_status(struct tabw *w, const json_t *o)
{
        const char *phase = str_or(o, "status.phase", "");
        const json_t *ips = kube_at(o, "status.podIPs");

        if (kube_str(o, "metadata.deletionTimestamp") && strcmp(phase, "Failed") != 0 && strcmp(phase, "Succeeded") != 0) {
                long long until = kube_time_parse(kube_str(o, "metadata.deletionTimestamp"));
                _cleanup_free_ char *lasts = kube_human_duration(until < 0 ? 0 : until - (long long)time(NULL));
                dw(w, 0, "Status:\tTerminating (lasts %s)\n", lasts);
                dw(w, 0, "Termination Grace Period:\t%llds\n", kube_int(o, "metadata.deletionGracePeriodSeconds", 30));
        } else {
                dw(w, 0, "Status:\t%s\n", phase);
        }
        if (kube_str(o, "status.reason") && *kube_str(o, "status.reason"))
                dw(w, 0, "Reason:\t%s\n", kube_str(o, "status.reason"));
        if (kube_str(o, "status.message") && *kube_str(o, "status.message"))
                dw(w, 0, "Message:\t%s\n", kube_str(o, "status.message"));
        dw(w, 0, "IP:\t%s\n", str_or(o, "status.podIP", ""));
        if (json_array_size(ips) == 0)
                dw(w, 0, "IPs:\t<none>\n");
        else
                dw(w, 0, "IPs:\n");
        for (size_t i = 0; i < json_array_size(ips); i++)
                dw(w, 1, "IP:\t%s\n", str_or(json_array_get(ips, i), "ip", ""));
}

void describe_pod(struct cli *c, struct tabw *w, const json_t *o)
{
        const json_t *spec = json_object_get(o, "spec"), *st = json_object_get(o, "status");
        _cleanup_free_ char *owner = controller_of(o);

        dw(w, 0, "Name:\t%s\n", str_or(o, "metadata.name", ""));
        dw(w, 0, "Namespace:\t%s\n", str_or(o, "metadata.namespace", ""));
        if (kube_at(spec, "priority"))
                dw(w, 0, "Priority:\t%lld\n", kube_int(spec, "priority", 0));
        if (kube_str(spec, "serviceAccountName"))
                dw(w, 0, "Service Account:\t%s\n", kube_str(spec, "serviceAccountName"));
        if (kube_str(spec, "nodeName"))
                dw(w, 0, "Node:\t%s/%s\n", kube_str(spec, "nodeName"), str_or(st, "hostIP", ""));
        else
                dw(w, 0, "Node:\t<none>\n");
        if (kube_str(st, "startTime")) {
                _cleanup_free_ char *t = kube_time_rfc1123z(kube_str(st, "startTime"));
                dw(w, 0, "Start Time:\t%s\n", t);
        }
        describe_labels(w, "", "Labels", kube_at(o, "metadata.labels"));
        describe_annotations(w, "", "Annotations", kube_at(o, "metadata.annotations"));
        describe_pod_status(w, o);
        if (owner)
                dw(w, 0, "Controlled By:\t%s\n", owner);
        if (json_array_size(json_object_get(spec, "initContainers")))
                describe_containers(w, "Init Containers", json_object_get(spec, "initContainers"),
                                    json_object_get(st, "initContainerStatuses"), o, "");
        describe_containers(w, "Containers", json_object_get(spec, "containers"), json_object_get(st, "containerStatuses"),
                            o, "");
        describe_conditions(w, json_object_get(st, "conditions"), false);
        describe_volumes(w, json_object_get(spec, "volumes"), "");
        if (kube_str(st, "qosClass"))
                dw(w, 0, "QoS Class:\t%s\n", kube_str(st, "qosClass"));
        describe_labels(w, "", "Node-Selectors", json_object_get(spec, "nodeSelector"));
        describe_tolerations(w, "", json_object_get(spec, "tolerations"));
        describe_events(c, w, o);
}

/* The replica sets a deployment owns (by uid), by revision. */
static json_t *owned_by(struct cli *c, const char *resource, const json_t *owner)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *items = NULL;
        _cleanup_free_ char *sel = kube_selector_string(kube_at(owner, "spec.selector"));
        const char *uid = kube_str(owner, "metadata.uid");
        json_t *out = json_array();

        if (kube_list(c, kube_res_find(resource), kube_str(owner, "metadata.namespace"), sel, &items, &err) < 0)
                return out;
        for (size_t i = 0; i < json_array_size(items); i++) {
                const json_t *refs = kube_at(json_array_get(items, i), "metadata.ownerReferences");
                for (size_t j = 0; j < json_array_size(refs); j++)
                        if (uid && kube_str(json_array_get(refs, j), "uid") &&
                            strcmp(uid, kube_str(json_array_get(refs, j), "uid")) == 0)
                                json_array_append(out, json_array_get(items, i));
        }
        return out;
}

static char *rs_summary(const json_t *list)
{
        struct strbuf b = { 0 };

        if (json_array_size(list) == 0)
                return xstrdup("<none>");
        strbuf_adds(&b, "");
        for (size_t i = 0; i < json_array_size(list); i++) {
                const json_t *rs = json_array_get(list, i);
                _cleanup_free_ char *one = xasprintf("%s (%lld/%lld replicas created)", str_or(rs, "metadata.name", ""),
                                                     kube_int(rs, "status.replicas", 0), kube_int(rs, "spec.replicas", 1));
                strbuf_adds(&b, i ? ", " : "");
                strbuf_adds(&b, one);
        }
        return b.data;
}

void describe_deployment(struct cli *c, struct tabw *w, const json_t *o)
{
        _cleanup_free_ char *created = kube_time_rfc1123z(kube_str(o, "metadata.creationTimestamp"));
        _cleanup_free_ char *sel = kube_selector_string(kube_at(o, "spec.selector"));
        const char *rev = kube_map_str(o, "metadata.annotations", "deployment.kubernetes.io/revision");
        const json_t *ru = kube_at(o, "spec.strategy.rollingUpdate");
        _cleanup_json_ json_t *rss = owned_by(c, "replicasets", o), *old = json_array(), *cur = json_array();
        _cleanup_free_ char *olds = NULL, *news = NULL;

        dw(w, 0, "Name:\t%s\n", str_or(o, "metadata.name", ""));
        dw(w, 0, "Namespace:\t%s\n", str_or(o, "metadata.namespace", ""));
        dw(w, 0, "CreationTimestamp:\t%s\n", created);
        describe_labels(w, "", "Labels", kube_at(o, "metadata.labels"));
        describe_annotations(w, "", "Annotations", kube_at(o, "metadata.annotations"));
        dw(w, 0, "Selector:\t%s\n", sel);
        dw(w, 0, "Replicas:\t%lld desired | %lld updated | %lld total | %lld available | %lld unavailable\n",
           kube_int(o, "spec.replicas", 1), kube_int(o, "status.updatedReplicas", 0), kube_int(o, "status.replicas", 0),
           kube_int(o, "status.availableReplicas", 0), kube_int(o, "status.unavailableReplicas", 0));
        dw(w, 0, "StrategyType:\t%s\n", str_or(o, "spec.strategy.type", "RollingUpdate"));
        dw(w, 0, "MinReadySeconds:\t%lld\n", kube_int(o, "spec.minReadySeconds", 0));
        if (ru) {
                _cleanup_free_ char *mu = kube_at(ru, "maxUnavailable") ? kube_scalar(kube_at(ru, "maxUnavailable")) : xstrdup("25%");
                _cleanup_free_ char *ms = kube_at(ru, "maxSurge") ? kube_scalar(kube_at(ru, "maxSurge")) : xstrdup("25%");
                dw(w, 0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge\n", mu, ms);
        }
        describe_template(w, kube_at(o, "spec.template"));
        describe_conditions(w, kube_at(o, "status.conditions"), true);
        for (size_t i = 0; i < json_array_size(rss); i++) {
                const json_t *rs = json_array_get(rss, i);
                const char *r = kube_map_str(rs, "metadata.annotations", "deployment.kubernetes.io/revision");
                if (rev && r && strcmp(rev, r) == 0)
                        json_array_append(cur, (json_t *)rs);
                else if (kube_int(rs, "spec.replicas", 0) != 0)
                        json_array_append(old, (json_t *)rs);
        }
        olds = rs_summary(old);
        news = rs_summary(cur);
        dw(w, 0, "OldReplicaSets:\t%s\n", olds);
        dw(w, 0, "NewReplicaSet:\t%s\n", news);
        describe_events(c, w, o);
}

void describe_replicaset(struct cli *c, struct tabw *w, const json_t *o)
{
        _cleanup_free_ char *sel = kube_selector_string(kube_at(o, "spec.selector")), *owner = controller_of(o);
        _cleanup_json_ json_t *pods = owned_by(c, "pods", o);
        long long running = 0, waiting = 0, succeeded = 0, failed = 0;

        for (size_t i = 0; i < json_array_size(pods); i++) {
                const char *phase = str_or(json_array_get(pods, i), "status.phase", "Pending");
                running += strcmp(phase, "Running") == 0;
                waiting += strcmp(phase, "Pending") == 0;
                succeeded += strcmp(phase, "Succeeded") == 0;
                failed += strcmp(phase, "Failed") == 0;
        }
        dw(w, 0, "Name:\t%s\n", str_or(o, "metadata.name", ""));
        dw(w, 0, "Namespace:\t%s\n", str_or(o, "metadata.namespace", ""));
        dw(w, 0, "Selector:\t%s\n", sel);
        describe_labels(w, "", "Labels", kube_at(o, "metadata.labels"));
        describe_annotations(w, "", "Annotations", kube_at(o, "metadata.annotations"));
        if (owner)
                dw(w, 0, "Controlled By:\t%s\n", owner);
        dw(w, 0, "Replicas:\t%lld current / %lld desired\n", kube_int(o, "status.replicas", 0), kube_int(o, "spec.replicas", 1));
        dw(w, 0, "Pods Status:\t%lld Running / %lld Waiting / %lld Succeeded / %lld Failed\n", running, waiting, succeeded,
           failed);
        describe_template(w, kube_at(o, "spec.template"));
        describe_conditions(w, kube_at(o, "status.conditions"), true);
        describe_events(c, w, o);
}
