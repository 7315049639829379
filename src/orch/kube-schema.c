/* Unknown fields: kube-apiserver's field validation (kubectl's default,
 * "Warn") reports each field it does not know, by path:
 *   unknown field "spec.template.spec.containers[0].imagePullPolicyy"
 * The table holds the fields of the types Berth acts on; a field whose
 * type is not described here ("*") is taken as a whole. */
#include "orch/kube.h"
#include "util/util.h"
#include <string.h>

struct field {
        const char *name;
        const char *type;       /* NULL: a scalar or a type taken whole; "[T]": a list of T */
};

struct type {
        const char *name;
        const struct field *fields;
};

#define F(n) { n, NULL }
#define T(n, t) { n, t }
#define END { NULL, NULL }

static const struct field meta[] = { F("name"), F("namespace"), F("labels"), F("annotations"), F("generateName"),
                                     F("uid"), F("resourceVersion"), F("generation"), F("creationTimestamp"),
                                     F("deletionTimestamp"), F("deletionGracePeriodSeconds"), F("ownerReferences"),
                                     F("finalizers"), F("managedFields"), END };
static const struct field deployment_spec[] = { F("replicas"), F("selector"), T("template", "PodTemplate"),
                                                T("strategy", "Strategy"), F("minReadySeconds"),
                                                F("revisionHistoryLimit"), F("progressDeadlineSeconds"), F("paused"),
                                                END };
static const struct field strategy[] = { F("type"), T("rollingUpdate", "RollingUpdate"), END };
static const struct field rolling[] = { F("maxSurge"), F("maxUnavailable"), END };
static const struct field rs_spec[] = { F("replicas"), F("selector"), T("template", "PodTemplate"),
                                        F("minReadySeconds"), END };
static const struct field pod_template[] = { T("metadata", "ObjectMeta"), T("spec", "PodSpec"), END };
static const struct field pod_spec[] = {
        T("containers", "[Container]"), T("initContainers", "[Container]"), T("volumes", "[Volume]"),
        F("restartPolicy"), F("terminationGracePeriodSeconds"), F("activeDeadlineSeconds"), F("dnsPolicy"),
        F("nodeSelector"), F("serviceAccountName"), F("serviceAccount"), F("automountServiceAccountToken"),
        F("nodeName"), F("hostNetwork"), F("hostPID"), F("hostIPC"), F("shareProcessNamespace"), F("securityContext"),
        F("imagePullSecrets"), F("hostname"), F("subdomain"), F("affinity"), F("schedulerName"), F("tolerations"),
        F("hostAliases"), F("priorityClassName"), F("priority"), F("dnsConfig"), F("readinessGates"),
        F("runtimeClassName"), F("enableServiceLinks"), F("preemptionPolicy"), F("overhead"),
        F("topologySpreadConstraints"), F("setHostnameAsFQDN"), F("os"), F("hostUsers"), F("schedulingGates"),
        F("resourceClaims"), END
};
static const struct field container[] = {
        F("name"), F("image"), F("command"), F("args"), F("workingDir"), T("ports", "[ContainerPort]"), F("envFrom"),
        T("env", "[EnvVar]"), T("resources", "Resources"), T("volumeMounts", "[VolumeMount]"), F("volumeDevices"),
        T("livenessProbe", "Probe"), T("readinessProbe", "Probe"), T("startupProbe", "Probe"), F("lifecycle"),
        F("terminationMessagePath"), F("terminationMessagePolicy"), F("imagePullPolicy"), F("securityContext"),
        F("stdin"), F("stdinOnce"), F("tty"), F("resizePolicy"), F("restartPolicy"), END
};
static const struct field container_port[] = { F("name"), F("hostPort"), F("containerPort"), F("protocol"),
                                               F("hostIP"), END };
static const struct field env_var[] = { F("name"), F("value"), F("valueFrom"), END };
static const struct field resources[] = { F("limits"), F("requests"), F("claims"), END };
static const struct field volume_mount[] = { F("name"), F("readOnly"), F("mountPath"), F("subPath"),
                                             F("mountPropagation"), F("subPathExpr"), F("recursiveReadOnly"), END };
static const struct field probe[] = { F("exec"), F("httpGet"), F("tcpSocket"), F("grpc"), F("initialDelaySeconds"),
                                      F("timeoutSeconds"), F("periodSeconds"), F("successThreshold"),
                                      F("failureThreshold"), F("terminationGracePeriodSeconds"), END };
static const struct field volume[] = {
        F("name"), F("emptyDir"), F("hostPath"), F("configMap"), F("secret"), F("persistentVolumeClaim"),
        F("projected"), F("downwardAPI"), F("nfs"), F("csi"), F("ephemeral"), F("image"), END
};
static const struct field service_spec[] = {
        T("ports", "[ServicePort]"), F("selector"), F("clusterIP"), F("clusterIPs"), F("type"), F("externalIPs"),
        F("sessionAffinity"), F("loadBalancerIP"), F("loadBalancerSourceRanges"), F("externalName"),
        F("externalTrafficPolicy"), F("healthCheckNodePort"), F("publishNotReadyAddresses"),
        F("sessionAffinityConfig"), F("ipFamilies"), F("ipFamilyPolicy"), F("allocateLoadBalancerNodePorts"),
        F("loadBalancerClass"), F("internalTrafficPolicy"), F("trafficDistribution"), END
};
static const struct field service_port[] = { F("name"), F("protocol"), F("appProtocol"), F("port"), F("targetPort"),
                                             F("nodePort"), END };
static const struct field hpa_spec[] = { F("scaleTargetRef"), F("minReplicas"), F("maxReplicas"), F("metrics"),
                                         F("behavior"), END };

static const struct type types[] = {
        { "ObjectMeta", meta },
        { "DeploymentSpec", deployment_spec },
        { "Strategy", strategy },
        { "RollingUpdate", rolling },
        { "ReplicaSetSpec", rs_spec },
        { "PodTemplate", pod_template },
        { "PodSpec", pod_spec },
        { "Container", container },
        { "ContainerPort", container_port },
        { "EnvVar", env_var },
        { "Resources", resources },
        { "VolumeMount", volume_mount },
        { "Probe", probe },
        { "Volume", volume },
        { "ServiceSpec", service_spec },
        { "ServicePort", service_port },
        { "HPASpec", hpa_spec },
};

static const struct field *fields_of(const char *type)
{
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
                if (strcmp(types[i].name, type) == 0)
                        return types[i].fields;
        return NULL;
}

static void check(const json_t *v, const char *type, const char *path, json_t *warnings);

static void check_list(const json_t *v, const char *type, const char *path, json_t *warnings)
{
        size_t i;
        json_t *item;

        json_array_foreach(v, i, item) {
                _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);
                check(item, type, p, warnings);
        }
}

static void check(const json_t *v, const char *type, const char *path, json_t *warnings)
{
        const struct field *fields = fields_of(type);
        const char *key;
        json_t *child;

        if (fields == NULL || !json_is_object(v))
                return;
        json_object_foreach((json_t *)v, key, child) {
                const struct field *f = fields;
                while (f->name && strcmp(f->name, key) != 0)
                        f++;
                _cleanup_free_ char *p = *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
                if (f->name == NULL) {
                        json_array_append_new(warnings, json_sprintf("unknown field \"%s\"", p));
                        continue;
                }
                if (f->type == NULL)
                        continue;
                if (f->type[0] == '[') {
                        _cleanup_free_ char *inner = xasprintf("%.*s", (int)strlen(f->type) - 2, f->type + 1);
                        check_list(child, inner, p, warnings);
                } else {
                        check(child, f->type, p, warnings);
                }
        }
}

void kube_schema_warnings(const json_t *obj, json_t *warnings)
{
        static const struct {
                const char *kind, *spec, *extra;
        } kinds[] = {
                { "Deployment", "DeploymentSpec", NULL },
                { "ReplicaSet", "ReplicaSetSpec", NULL },
                { "Pod", "PodSpec", NULL },
                { "Service", "ServiceSpec", NULL },
                { "HorizontalPodAutoscaler", "HPASpec", NULL },
                { "ConfigMap", NULL, "data binaryData immutable" },
                { "Secret", NULL, "data stringData type immutable" },
        };
        const char *kind = json_string_value(json_object_get(obj, "kind"));
        const char *key;
        json_t *v;

        for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                if (strcmp(kind, kinds[i].kind) != 0)
                        continue;
                json_object_foreach((json_t *)obj, key, v) {
                        bool known = strcmp(key, "apiVersion") == 0 || strcmp(key, "kind") == 0 ||
                                     strcmp(key, "metadata") == 0 || strcmp(key, "status") == 0 ||
                                     (kinds[i].spec && strcmp(key, "spec") == 0);
                        if (!known && kinds[i].extra) {
                                const char *at = strstr(kinds[i].extra, key);
                                size_t n = strlen(key);
                                known = at && (at == kinds[i].extra || at[-1] == ' ') && (at[n] == ' ' || !at[n]);
                        }
                        if (!known)
                                json_array_append_new(warnings, json_sprintf("unknown field \"%s\"", key));
                }
                check(json_object_get(obj, "metadata"), "ObjectMeta", "metadata", warnings);
                if (kinds[i].spec)
                        check(json_object_get(obj, "spec"), kinds[i].spec, "spec", warnings);
        }
}
