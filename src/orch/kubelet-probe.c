/* Liveness, readiness and startup probes (prober/worker.go), run by
 * KL_PROBERS threads that take whichever probe falls due next.  exec runs
 * inside the container through the engine's healthcheck exec (killed at
 * timeoutSeconds); httpGet and tcpSocket go from the host to the pod's
 * IP (prober/http, prober/tcp), so the image needs nothing.  A result
 * that changes started or ready queues the pod for a status write; a
 * liveness or startup failure × failureThreshold kills the container,
 * which the pod's sync then restarts with back-off. */
#include "engine/engine.h"
#include "orch/kubelet.h"
#include "util/log.h"
#include "util/util.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#define PROBE_OUTPUT_MAX 10240
#define USER_AGENT "kube-probe/1.32"

static const char *const KIND_FIELD[KL_PROBE_KINDS] = { "livenessProbe", "readinessProbe", "startupProbe" };
static const char *const KIND_NAME[KL_PROBE_KINDS] = { "Liveness", "Readiness", "Startup" };

static int probe_int(const json_t *probe, const char *key, int dflt)
{
        const json_t *v = json_object_get(probe, key);

        return json_is_integer(v) && json_integer_value(v) > 0 ? (int)json_integer_value(v) : dflt;
}

void kl_probes_arm(struct kubelet *kl, struct kl_pod *p, struct kl_ctr *c)
{
        const json_t *spec = kl_ctr_spec(p, c);
        int64_t now = kl_now_ms();

        for (int k = 0; k < KL_PROBE_KINDS; k++) {
                const json_t *probe = json_object_get(spec, KIND_FIELD[k]);
                struct kl_probe *pr = &c->probes[k];
                pr->configured = json_is_object(probe) && !c->init;
                pr->successes = pr->failures = 0;
                pr->next_ms = pr->configured ? now + probe_int(probe, "initialDelaySeconds", 0) * 1000LL : 0;
        }
        c->started = !c->probes[KL_STARTUP].configured;
        c->ready = c->started && !c->probes[KL_READINESS].configured;
        pthread_cond_broadcast(&kl->probe_cond);
}

/* ---- handlers ----------------------------------------------------------------- */

static int exec_handler(struct kubelet *kl, const char *id, const json_t *exec, int timeout_ms, char **why)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *cmd = json_object_get(exec, "command");
        struct engine_exec_result ep;

        if (engine_exec_timed(kl->e, id, cmd, timeout_ms, PROBE_OUTPUT_MAX, &ep, &err) < 0) {
                *why = xstrdup(err->msg);
                return -1;
        }
        if (ep.timed_out) {
                _cleanup_free_ char *dump = json_dumps(cmd, JSON_COMPACT);
                *why = xasprintf("command %s timed out", dump ? dump : "");
                free(ep.output);
                return -1;
        }
        if (ep.exit_code != 0) {
                size_t n = ep.output ? strlen(ep.output) : 0;
                while (n > 0 && (ep.output[n - 1] == '\n' || ep.output[n - 1] == '\r'))
                        ep.output[--n] = '\0';
                *why = n ? xstrdup(ep.output) : xasprintf("command exited with %d", ep.exit_code);
                free(ep.output);
                return -1;
        }
        free(ep.output);
        return 0;
}

/* A port number, or the name of one of the container's ports. */
static int port_of(const json_t *port, const json_t *ctr_spec)
{
        const json_t *p;
        size_t i;

        if (json_is_integer(port))
                return (int)json_integer_value(port);
        if (!json_is_string(port))
                return -1;
        long long n = parse_ll(json_string_value(port));
        if (n > 0 && n < 65536)
                return (int)n;
        json_array_foreach(json_object_get(ctr_spec, "ports"), i, p) {
                const char *name = json_string_value(json_object_get(p, "name"));
                if (name && strcmp(name, json_string_value(port)) == 0)
                        return (int)json_integer_value(json_object_get(p, "containerPort"));
        }
        return -1;
}

static int64_t left_ms(int64_t deadline)
{
        int64_t l = deadline - kl_now_ms();

        return l > 0 ? l : 0;
}

/* A connected TCP socket to host:port before the deadline, or -1 with
 * *why as Go's dialer says it. */
static int dial(const char *host, int port, int64_t deadline, char **why)
{
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
        char ports[8];
        int fd, r, soerr = 0;
        socklen_t len = sizeof(soerr);

        snprintf(ports, sizeof(ports), "%d", port);
        if ((r = getaddrinfo(host, ports, &hints, &ai)) != 0) {
                *why = xasprintf("dial tcp: lookup %s: %s", host, gai_strerror(r));
                return -1;
        }
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                *why = xasprintf("dial tcp %s:%d: socket: %s", host, port, strerror(errno));
                freeaddrinfo(ai);
                return -1;
        }
        r = connect(fd, ai->ai_addr, ai->ai_addrlen);
        freeaddrinfo(ai);
        if (r < 0 && errno == EINPROGRESS) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                r = poll(&p, 1, (int)left_ms(deadline));
                if (r == 0) {
                        *why = xasprintf("dial tcp %s:%d: i/o timeout", host, port);
                        close(fd);
                        return -1;
                }
                if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
                        r = 0;
                else
                        errno = soerr ? soerr : errno, r = -1;
        }
        if (r < 0) {
                char e[128];
                snprintf(e, sizeof(e), "%s", strerror(errno));
                e[0] = (char)tolower((unsigned char)e[0]);      /* Go's "connection refused" */
                *why = xasprintf("dial tcp %s:%d: connect: %s", host, port, e);
                close(fd);
                return -1;
        }
        return fd;
}

static int tcp_handler(const char *ip, const json_t *tcp, const json_t *ctr_spec, int timeout_ms, char **why)
{
        const char *host = json_string_value(json_object_get(tcp, "host"));
        int port = port_of(json_object_get(tcp, "port"), ctr_spec);
        int fd;

        if (host == NULL || *host == '\0')
                host = ip;
        if (host == NULL || port <= 0) {
                *why = xstrdup(port <= 0 ? "invalid port" : "the pod has no IP");
                return -1;
        }
        if ((fd = dial(host, port, kl_now_ms() + timeout_ms, why)) < 0)
                return -1;
        close(fd);
        return 0;
}

static bool header_given(const json_t *headers, const char *name)
{
        const json_t *h;
        size_t i;

        json_array_foreach(headers, i, h) {
                const char *n = json_string_value(json_object_get(h, "name"));
                if (n && strcasecmp(n, name) == 0)
                        return true;
        }
        return false;
}

static char *http_request(const char *host, int port, const char *path, const json_t *headers)
{
        struct strbuf b = { 0 };
        const json_t *h;
        size_t i;
        char *line;

        line = xasprintf("GET %s HTTP/1.1\r\n", path);
        strbuf_adds(&b, line);
        free(line);
        if (!header_given(headers, "Host")) {
                line = xasprintf(strchr(host, ':') ? "Host: [%s]:%d\r\n" : "Host: %s:%d\r\n", host, port);
                strbuf_adds(&b, line);
                free(line);
        }
        if (!header_given(headers, "User-Agent"))
                strbuf_adds(&b, "User-Agent: " USER_AGENT "\r\n");
        if (!header_given(headers, "Accept"))
                strbuf_adds(&b, "Accept: */*\r\n");
        json_array_foreach(headers, i, h) {
                const char *n = json_string_value(json_object_get(h, "name"));
                const char *v = json_string_value(json_object_get(h, "value"));
                if (n == NULL || strpbrk(n, "\r\n:") || (v && strpbrk(v, "\r\n")))
                        continue;
                line = xasprintf("%s: %s\r\n", n, v ? v : "");
                strbuf_adds(&b, line);
                free(line);
        }
        strbuf_adds(&b, "Connection: close\r\n\r\n");
        return b.data;
}

/* The status code of the response on fd, read before the deadline. */
static int http_status(int fd, int64_t deadline, const char *url, char **why)
{
        char buf[512];
        size_t n = 0;

        while (n < sizeof(buf) - 1 && memchr(buf, '\n', n) == NULL) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int r = poll(&p, 1, (int)left_ms(deadline));
                if (r == 0) {
                        *why = xasprintf("Get \"%s\": context deadline exceeded (Client.Timeout exceeded while "
                                         "awaiting headers)", url);
                        return -1;
                }
                ssize_t got = r > 0 ? recv(fd, buf + n, sizeof(buf) - 1 - n, 0) : -1;
                if (got < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (got <= 0) {
                        *why = xasprintf("Get \"%s\": EOF", url);
                        return -1;
                }
                n += (size_t)got;
        }
        buf[n] = '\0';
        int code = 0;
        if (sscanf(buf, "HTTP/%*d.%*d %d", &code) != 1 && sscanf(buf, "HTTP/%*d %d", &code) != 1) {
                *why = xasprintf("Get \"%s\": malformed HTTP response", url);
                return -1;
        }
        return code;
}

static int http_handler(const char *ip, const json_t *hg, const json_t *ctr_spec, int timeout_ms, char **why)
{
        const char *host = json_string_value(json_object_get(hg, "host"));
        const char *path = json_string_value(json_object_get(hg, "path"));
        const char *scheme = json_string_value(json_object_get(hg, "scheme"));
        int port = port_of(json_object_get(hg, "port"), ctr_spec);
        int64_t deadline = kl_now_ms() + timeout_ms;

        if (host == NULL || *host == '\0')
                host = ip;
        if (path == NULL || *path == '\0')
                path = "/";
        if (host == NULL || port <= 0) {
                *why = xstrdup(port <= 0 ? "invalid port" : "the pod has no IP");
                return -1;
        }
        if (scheme && strcasecmp(scheme, "HTTP") != 0) {
                *why = xasprintf("scheme %s is not supported by Berth's prober", scheme);
                return -1;
        }
        _cleanup_free_ char *url = xasprintf("http://%s:%d%s%s", host, port, path[0] == '/' ? "" : "/", path);
        _cleanup_free_ char *req = http_request(host, port, path, json_object_get(hg, "httpHeaders"));
        _cleanup_free_ char *dial_why = NULL;
        _cleanup_close_ int fd = dial(host, port, deadline, &dial_why);
        if (fd < 0) {
                *why = xasprintf("Get \"%s\": %s", url, dial_why);
                return -1;
        }
        if (send_all(fd, req, strlen(req)) < 0) {
                *why = xasprintf("Get \"%s\": write: broken pipe", url);
                return -1;
        }
        int code = http_status(fd, deadline, url, why);
        if (code < 0)
                return -1;
        if (code < 200 || code >= 400) {
                *why = xasprintf("HTTP probe failed with statuscode: %d", code);
                return -1;
        }
        return 0;
}

int kl_handler_run(struct kubelet *kl, const char *ip, const char *ctr_id, const json_t *handler,
                   const json_t *ctr_spec, int timeout_ms, char **why)
{
        const json_t *h;

        *why = NULL;
        if ((h = json_object_get(handler, "exec")) != NULL)
                return exec_handler(kl, ctr_id, h, timeout_ms, why);
        if ((h = json_object_get(handler, "httpGet")) != NULL)
                return http_handler(ip, h, ctr_spec, timeout_ms, why);
        if ((h = json_object_get(handler, "tcpSocket")) != NULL)
                return tcp_handler(ip, h, ctr_spec, timeout_ms, why);
        if ((h = json_object_get(handler, "sleep")) != NULL) {
                int64_t ms = json_integer_value(json_object_get(h, "seconds")) * 1000;
                struct timespec ts;
                if (ms > timeout_ms)
                        ms = timeout_ms;
                ts.tv_sec = ms / 1000;
                ts.tv_nsec = (ms % 1000) * 1000000;
                nanosleep(&ts, NULL);
                return 0;
        }
        *why = xstrdup("unsupported handler");
        return -1;
}

/* ---- the probe threads ----------------------------------------------------------- */

struct due {
        struct kl_pod *p;
        struct kl_ctr *c;
        int kind;
        int64_t next;           /* earliest due time seen */
};

static bool probe_may_run(const struct kl_pod *p, const struct kl_ctr *c, int k)
{
        const struct kl_probe *pr = &c->probes[k];

        if (p->terminating || p->gone || p->finished || c->state != KL_RUNNING || c->killing)
                return false;
        if (!pr->configured || pr->running || pr->next_ms == 0)
                return false;
        return k == KL_STARTUP ? !c->started : c->started;
}

/* kl->lock held: the probe most overdue, or the time the next falls due. */
static void find_due(struct kubelet *kl, int64_t now, struct due *d)
{
        d->p = NULL;
        d->next = now + 1000;
        for (size_t i = 0; i < kl->n_pods; i++) {
                struct kl_pod *p = kl->pods[i];
                for (size_t j = 0; j < p->n_ctrs; j++)
                        for (int k = 0; k < KL_PROBE_KINDS; k++) {
                                struct kl_probe *pr = &p->ctrs[j].probes[k];
                                if (!probe_may_run(p, &p->ctrs[j], k))
                                        continue;
                                if (pr->next_ms <= now && (d->p == NULL || pr->next_ms < d->next)) {
                                        *d = (struct due){ p, &p->ctrs[j], k, pr->next_ms };
                                } else if (d->p == NULL && pr->next_ms < d->next) {
                                        d->next = pr->next_ms;
                                }
                        }
        }
}

static int grace_for_kill(const struct kl_pod *p, const json_t *probe)
{
        const json_t *g = json_object_get(probe, "terminationGracePeriodSeconds");

        if (!json_is_integer(g))
                g = json_object_get(json_object_get(p->pod, "spec"), "terminationGracePeriodSeconds");
        return json_is_integer(g) ? (int)json_integer_value(g) : 30;
}

/* kl->lock held; the result of one run of probe kind on c. */
static void record(struct kubelet *kl, struct kl_pod *p, struct kl_ctr *c, int k, const json_t *probe, bool ok,
                   const char *why)
{
        struct kl_probe *pr = &c->probes[k];
        bool changed = false;

        pr->next_ms = kl_now_ms() + probe_int(probe, "periodSeconds", 10) * 1000LL;
        if (ok) {
                pr->successes++;
                pr->failures = 0;
        } else {
                pr->failures++;
                pr->successes = 0;
                kube_event(kl->k, p->pod, "Warning", "Unhealthy", "%s probe failed: %s", KIND_NAME[k], why ? why : "");
        }
        int threshold = probe_int(probe, "failureThreshold", 3);
        if (k == KL_READINESS) {
                bool ready = c->ready;
                if (ok && pr->successes >= probe_int(probe, "successThreshold", 1))
                        ready = true;
                else if (!ok && pr->failures >= threshold)
                        ready = false;
                changed = ready != c->ready;
                c->ready = ready;
        } else if (ok && k == KL_STARTUP) {
                c->started = true;
                c->ready = !c->probes[KL_READINESS].configured;
                changed = true;
        } else if (!ok && pr->failures >= threshold) {
                _cleanup_free_ char *msg = xasprintf("Container %s failed %s probe, will be restarted", c->name,
                                                     k == KL_LIVENESS ? "liveness" : "startup");
                pr->failures = 0;
                kl_ctr_kill(kl, p, c, grace_for_kill(p, probe), msg);
        }
        if (changed)
                kl_pod_queue(kl, p);
}

static void run_one(struct kubelet *kl, struct due *d)
{
        struct kl_pod *p = d->p;
        struct kl_ctr *c = d->c;
        int k = d->kind;
        const json_t *spec = kl_ctr_spec(p, c);
        json_t *probe = json_deep_copy(json_object_get(spec, KIND_FIELD[k]));
        json_t *ctr_spec = json_deep_copy(spec);
        _cleanup_free_ char *id = xstrdup(c->id);
        _cleanup_free_ char *ip = p->ip ? xstrdup(p->ip) : NULL;
        char *why = NULL;

        c->probes[k].running = true;
        kl_pod_ref(p);
        pthread_mutex_unlock(&kl->lock);
        int timeout_ms = probe_int(probe, "timeoutSeconds", 1) * 1000;
        bool ok = kl_handler_run(kl, ip, id, probe, ctr_spec, timeout_ms, &why) == 0;
        pthread_mutex_lock(&kl->lock);
        c->probes[k].running = false;
        /* the instance probed is still the one running */
        if (!p->gone && c->id && strcmp(c->id, id) == 0 && c->state == KL_RUNNING)
                record(kl, p, c, k, probe, ok, why);
        kl_pod_unref(kl, p);
        free(why);
        json_decref(probe);
        json_decref(ctr_spec);
}

static void *prober(void *data)
{
        struct kubelet *kl = data;
        struct due d = { 0 };

        pthread_mutex_lock(&kl->lock);
        while (!kl->stopping) {
                int64_t now = kl_now_ms();
                find_due(kl, now, &d);
                if (d.p) {
                        run_one(kl, &d);
                        continue;
                }
                struct timespec ts;
                int64_t wait = d.next - now;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += wait / 1000;
                ts.tv_nsec += (wait % 1000) * 1000000;
                ts.tv_sec += ts.tv_nsec / 1000000000;
                ts.tv_nsec %= 1000000000;
                pthread_cond_timedwait(&kl->probe_cond, &kl->lock, &ts);
        }
        pthread_mutex_unlock(&kl->lock);
        return NULL;
}

int kl_probers_start(struct kubelet *kl, berth_error_t **err)
{
        for (int i = 0; i < KL_PROBERS; i++) {
                int r = pthread_create(&kl->probers[i], NULL, prober, kl);
                if (r != 0)
                        return berth_error(err, r, "kubelet prober");
        }
        return 0;
}

void kl_probers_stop(struct kubelet *kl)
{
        for (int i = 0; i < KL_PROBERS; i++)
                if (kl->probers[i])
                        pthread_join(kl->probers[i], NULL);
}
