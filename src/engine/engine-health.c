/* HEALTHCHECK, as dockerd runs it.  The healthcheck in force is the create
 * body's Healthcheck over the image's (a field the body leaves zero comes
 * from the image; Test ["NONE"] turns it off).  While the container runs,
 * a thread of its own runs the test inside it like an exec (the
 * container's user, env and cwd; engine-exec.c), first after Interval and
 * then Interval after each probe ends (StartInterval while "starting"
 * within StartPeriod).  Exit 0 is healthy and resets FailingStreak; any
 * other result, a probe over Timeout (killed) included, adds to the
 * streak, except while still "starting" inside StartPeriod, and Retries
 * failures in a row make it unhealthy.  State.Health keeps the last five
 * results; a change of status is a "health_status: <status>" event; when
 * the container stops the status becomes "unhealthy" (dockerd's choice,
 * kept for clients that rely on it). */
#include "engine/engine-internal.h"
#include "image/image-store.h"
#include "image/store.h"
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>

#define MS 1000000LL                    /* nanoseconds */
#define DEFAULT_INTERVAL (30000 * MS)
#define DEFAULT_TIMEOUT (30000 * MS)
#define DEFAULT_START_INTERVAL (5000 * MS)
#define DEFAULT_RETRIES 3
#define OUTPUT_MAX 4096                 /* dockerd's maxOutputLen */
#define LOG_MAX 5                       /* dockerd's maxLogEntries */

struct health {
        /* guarded by the container's lock */
        const char *status;     /* "starting", "healthy", "unhealthy"; NULL: no healthcheck */
        int failing_streak;
        json_t *log;            /* the last results, oldest first */
        json_t *config;         /* the healthcheck in force (NULL: none) once resolved */
        json_t *shell;          /* the container's Shell for CMD-SHELL (NULL: /bin/sh -c) */
        bool resolved;
        /* the monitor's (health_start, health_stop) */
        pthread_t thread;
        bool thread_running;
        int wake_fd;            /* eventfd: stop waiting, cancel a probe */
};

struct health_cfg {
        json_t *argv;           /* what a probe runs */
        int64_t interval, timeout, start_period, start_interval; /* ns */
        int64_t retries;
};

/* ---- the healthcheck in force --------------------------------------------- */

static int64_t ns_or(json_t *hc, const char *key, int64_t dflt)
{
        json_int_t v = json_integer_value(json_object_get(hc, key));

        return v > 0 ? v : dflt;
}

/* The image's config ("config": {"Healthcheck", "Shell"}), read from
 * the content store.  A pull holds the store's lock for long: give up
 * waiting when the container stops meanwhile. */
static json_t *image_config(struct engine *e, struct ctr *c, int wake_fd)
{
        _cleanup_free_ char *buf = NULL;
        struct pollfd p = { .fd = wake_fd, .events = POLLIN };
        struct timespec t;
        size_t len;
        int r;

        if (c->image_id == NULL)
                return NULL;
        do {
                clock_gettime(CLOCK_REALTIME, &t);
                t.tv_nsec += 100 * MS;
                t.tv_sec += t.tv_nsec / 1000000000;
                t.tv_nsec %= 1000000000;
                r = pthread_mutex_timedlock(&e->images_lock, &t);
        } while (r == ETIMEDOUT && poll(&p, 1, 0) == 0);
        if (r != 0)
                return NULL;
        r = content_read(image_store_content(e->images), c->image_id, &buf, &len, NULL);
        pthread_mutex_unlock(&e->images_lock);
        return r == 0 ? json_loadb(buf, len, 0, NULL) : NULL;
}

/* dockerd's merge: no Healthcheck in the body takes the image's whole;
 * otherwise an empty Test or a zero field comes from the image. */
static json_t *merge(json_t *body_hc, json_t *image_hc)
{
        static const char *const fields[] = { "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries" };
        json_t *m;

        if (!json_is_object(body_hc))
                return json_is_object(image_hc) ? json_deep_copy(image_hc) : NULL;
        m = json_deep_copy(body_hc);
        if (json_array_size(json_object_get(m, "Test")) == 0 && json_object_get(image_hc, "Test"))
                json_object_set(m, "Test", json_object_get(image_hc, "Test"));
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
                if (json_integer_value(json_object_get(m, fields[i])) == 0 && json_object_get(image_hc, fields[i]))
                        json_object_set(m, fields[i], json_object_get(image_hc, fields[i]));
        return m;
}

/* The probe's argv: CMD runs its arguments, CMD-SHELL its one string
 * through the container's Shell (/bin/sh -c by default).  NULL: none. */
static json_t *probe_argv(json_t *test, json_t *shell)
{
        const char *kind = json_string_value(json_array_get(test, 0));
        json_t *argv;
        size_t i;

        if (kind == NULL || json_array_size(test) < 2)
                return NULL;
        if (strcmp(kind, "CMD") == 0)
                argv = json_array();
        else if (strcmp(kind, "CMD-SHELL") == 0)
                argv = json_array_size(shell) ? json_deep_copy(shell) : json_pack("[s, s]", "/bin/sh", "-c");
        else
                return NULL; /* NONE, or a kind dockerd ignores too */
        for (i = 1; i < json_array_size(test); i++)
                json_array_append(argv, json_array_get(test, i));
        return argv;
}

static void config_parse(json_t *hc, json_t *shell, struct health_cfg *cfg)
{
        cfg->argv = probe_argv(json_object_get(hc, "Test"), shell);
        cfg->interval = ns_or(hc, "Interval", DEFAULT_INTERVAL);
        cfg->timeout = ns_or(hc, "Timeout", DEFAULT_TIMEOUT);
        cfg->start_period = ns_or(hc, "StartPeriod", 0);
        cfg->start_interval = ns_or(hc, "StartInterval", DEFAULT_START_INTERVAL);
        cfg->retries = ns_or(hc, "Retries", DEFAULT_RETRIES);
}

/* Once per container: the image does not change under it. */
static void resolve(struct engine *e, struct ctr *c, struct health *h, struct health_cfg *cfg)
{
        json_t *image = NULL;

        pthread_mutex_lock(&c->lock);
        bool resolved = h->resolved;
        pthread_mutex_unlock(&c->lock);
        if (!resolved) {
                image = image_config(e, c, h->wake_fd);
                /* stopping while a pull held the store: next start */
                struct pollfd p = { .fd = h->wake_fd, .events = POLLIN };
                if (poll(&p, 1, 0) == 1) {
                        json_decref(image);
                        return;
                }
        }
        pthread_mutex_lock(&c->lock);
        if (!h->resolved) {
                json_t *ic = json_object_get(image, "config");
                h->config = merge(json_object_get(c->body, "Healthcheck"), json_object_get(ic, "Healthcheck"));
                h->shell = json_incref(json_object_get(c->body, "Shell") ?: json_object_get(ic, "Shell"));
                h->resolved = true;
        }
        config_parse(h->config, h->shell, cfg);
        pthread_mutex_unlock(&c->lock);
        json_decref(image);
}

/* ---- one probe ------------------------------------------------------------- */

/* v/unit with the fraction's trailing zeros dropped: "1.5", "30". */
static char *decimal(int64_t v, int64_t unit, int digits)
{
        char frac[16] = "";

        if (v % unit) {
                snprintf(frac, sizeof(frac), ".%0*lld", digits, (long long)(v % unit));
                for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
                        frac[n - 1] = '\0';
        }
        return xasprintf("%lld%s", (long long)(v / unit), frac);
}

/* Go's time.Duration.String(), which dockerd's messages use: "30s",
 * "1m30s", "1.5s", "500ms". */
static char *go_duration(int64_t ns)
{
        const int64_t s = 1000000000;
        _cleanup_free_ char *v = NULL;

        if (ns == 0)
                return xstrdup("0s");
        if (ns < 1000)
                return xasprintf("%lldns", (long long)ns);
        if (ns < 1000000) {
                v = decimal(ns, 1000, 3);
                return xasprintf("%s\xc2\xb5s", v);
        }
        if (ns < s) {
                v = decimal(ns, 1000000, 6);
                return xasprintf("%sms", v);
        }
        v = decimal(ns % (60 * s), s, 9);
        if (ns >= 3600 * s)
                return xasprintf("%lldh%lldm%ss", (long long)(ns / (3600 * s)), (long long)(ns / (60 * s) % 60), v);
        if (ns >= 60 * s)
                return xasprintf("%lldm%ss", (long long)(ns / (60 * s)), v);
        return xasprintf("%ss", v);
}

static bool utf8_valid(const char *s, size_t n)
{
        json_t *j = json_stringn(s, n);
        bool ok = j != NULL;

        json_decref(j);
        return ok;
}

/* Output as JSON wants it: invalid UTF-8 becomes U+FFFD, as Go's
 * encoder does. */
static json_t *utf8_string(const char *s, size_t n)
{
        _cleanup_free_ char *out = xmalloc(3 * n + 1);
        size_t o = 0;

        for (size_t i = 0; i < n;) {
                unsigned char b = (unsigned char)s[i];
                size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
                bool ok = len > 0 && i + len <= n;
                for (size_t k = 1; ok && k < len; k++)
                        ok = ((unsigned char)s[i + k] >> 6) == 2;
                if (ok && len > 1)
                        ok = utf8_valid(s + i, len); /* not overlong, not a surrogate */
                if (!ok) {
                        memcpy(out + o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                        continue;
                }
                memcpy(out + o, s + i, len);
                o += len;
                i += len;
        }
        return json_stringn(out, o);
}

struct result {
        char *start, *end;
        int exit_code;
        char *output;
        int64_t start_ns;       /* wall clock */
};

static int64_t wall_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* StartedAt to the nanosecond: the start period is measured from it. */
static int64_t started_ns(struct ctr *c)
{
        const char *dot = c->started_at ? strchr(c->started_at, '.') : NULL;
        int64_t ns = rfc3339_to_unix(c->started_at) * 1000000000, unit = 100000000;

        for (const char *p = dot ? dot + 1 : ""; *p >= '0' && *p <= '9' && unit > 0; p++, unit /= 10)
                ns += (*p - '0') * unit;
        return ns;
}

/* false: cancelled (the container is stopping), nothing to record. */
static bool probe(struct engine *e, struct ctr *c, struct health *h, const struct health_cfg *cfg, struct result *r)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct exec_probe p = { .args = cfg->argv, .timeout_ms = cfg->timeout / MS, .max = OUTPUT_MAX,
                                .cancel_fd = h->wake_fd };

        r->start = now_rfc3339();
        r->start_ns = wall_ns();
        int ret = exec_probe_run(e, c, &p, &err);
        r->end = now_rfc3339();
        if (ret < 0 && err->status == ECANCELED) {
                free(p.output);
                return false;
        }
        if (ret < 0) {
                r->exit_code = -1;
                r->output = xstrdup(err->msg);
        } else if (p.timed_out) {
                _cleanup_free_ char *d = go_duration(cfg->timeout);
                r->exit_code = -1;
                r->output = p.output[0] ? xasprintf("Health check exceeded timeout (%s): %s", d, p.output)
                                        : xasprintf("Health check exceeded timeout (%s)", d);
        } else {
                r->exit_code = p.exit_code;
                r->output = xstrdup(p.output);
        }
        free(p.output);
        return true;
}

static void result_clear(struct result *r)
{
        free(r->start);
        free(r->end);
        free(r->output);
}

/* dockerd's handleProbeResult, under the container's lock. */
static void record(struct engine *e, struct ctr *c, struct health *h, const struct health_cfg *cfg,
                   const struct result *r)
{
        const char *old = h->status;
        int64_t since_start = r->start_ns - started_ns(c);

        json_array_append_new(h->log, json_pack("{s:s, s:s, s:i, s:o}", "Start", r->start, "End", r->end, "ExitCode",
                                                r->exit_code, "Output", utf8_string(r->output, strlen(r->output))));
        while (json_array_size(h->log) > LOG_MAX)
                json_array_remove(h->log, 0);
        if (r->exit_code == 0) {
                h->failing_streak = 0;
                h->status = "healthy";
        } else if (strcmp(h->status, "starting") != 0 || since_start >= cfg->start_period) {
                if (++h->failing_streak >= cfg->retries)
                        h->status = "unhealthy";
        }
        if (strcmp(old, h->status) != 0) {
                _cleanup_free_ char *action = xasprintf("health_status: %s", h->status);
                engine_container_event(e, c, action, NULL);
        }
}

/* ---- the thread ------------------------------------------------------------ */

/* dockerd's getInterval: StartInterval while starting within StartPeriod. */
static int64_t next_interval(struct ctr *c, struct health *h, const struct health_cfg *cfg)
{
        pthread_mutex_lock(&c->lock);
        bool starting = h->status && strcmp(h->status, "starting") == 0;
        int64_t since_start = wall_ns() - started_ns(c);
        pthread_mutex_unlock(&c->lock);
        if (cfg->start_period > 0 && starting && since_start <= cfg->start_period)
                return cfg->start_interval;
        return cfg->interval;
}

/* Sleep ns unless woken; true when woken (stop). */
static bool wait_woken(struct health *h, int64_t ns)
{
        struct pollfd p = { .fd = h->wake_fd, .events = POLLIN };
        int64_t ms = ns / MS;

        if (poll(&p, 1, (int)MIN(ms, (int64_t)INT32_MAX)) < 0 && errno != EINTR)
                return true;
        return p.revents != 0;
}

static void monitor(struct engine *e, struct ctr *c, struct health *h, const struct health_cfg *cfg)
{
        pthread_mutex_lock(&c->lock);
        h->status = "starting";
        h->failing_streak = 0;
        pthread_mutex_unlock(&c->lock);
        while (!wait_woken(h, next_interval(c, h, cfg))) {
                struct result r = { 0 };
                pthread_mutex_lock(&c->lock);
                /* a frozen container cannot run a probe: the next interval */
                bool paused = c->status == CTR_PAUSED;
                pthread_mutex_unlock(&c->lock);
                if (paused)
                        continue;
                if (!probe(e, c, h, cfg, &r)) {
                        result_clear(&r);
                        break;
                }
                pthread_mutex_lock(&c->lock);
                record(e, c, h, cfg, &r);
                pthread_mutex_unlock(&c->lock);
                result_clear(&r);
        }
}

struct health_run {
        struct engine *e;
        struct ctr *c;
};

static void *health_thread(void *arg)
{
        struct health_run *run = arg;
        struct health *h = run->c->health;
        struct health_cfg cfg = { 0 };

        resolve(run->e, run->c, h, &cfg);
        if (cfg.argv)
                monitor(run->e, run->c, h, &cfg);
        json_decref(cfg.argv);
        ctr_unref(run->c);
        free(run);
        return NULL;
}

void health_start(struct engine *e, struct ctr *c)
{
        struct health_run *run;
        struct health *h;

        pthread_mutex_lock(&c->lock);
        /* a start that failed after the shim came up: nothing runs */
        if (c->status != CTR_RUNNING && c->status != CTR_PAUSED) {
                pthread_mutex_unlock(&c->lock);
                return;
        }
        if (c->health == NULL) {
                c->health = xcalloc(1, sizeof(*c->health));
                c->health->log = json_array();
                c->health->wake_fd = -1;
        }
        h = c->health;
        bool already = h->thread_running;
        h->thread_running = true;
        pthread_mutex_unlock(&c->lock);
        if (already)
                return;
        h->wake_fd = eventfd(0, EFD_CLOEXEC);
        run = xmalloc(sizeof(*run));
        *run = (struct health_run){ e, c };
        ctr_ref(c);
        if (h->wake_fd < 0 || pthread_create(&h->thread, NULL, health_thread, run) != 0)
                abort();
}

void health_stop(struct ctr *c)
{
        struct health *h;
        uint64_t one = 1;

        pthread_mutex_lock(&c->lock);
        h = c->health;
        bool running = h && h->thread_running;
        pthread_mutex_unlock(&c->lock);
        if (!running)
                return;
        /* stays readable: every wait and the probe in flight end */
        if (write(h->wake_fd, &one, sizeof(one)) < 0)
                abort();
        pthread_join(h->thread, NULL);
        close(h->wake_fd);
        pthread_mutex_lock(&c->lock);
        h->wake_fd = -1;
        h->thread_running = false;
        if (h->status)
                h->status = "unhealthy";
        pthread_mutex_unlock(&c->lock);
}

void health_forget(struct ctr *c)
{
        pthread_mutex_lock(&c->lock);
        struct health *h = steal_pointer(&c->health);
        pthread_mutex_unlock(&c->lock);
        if (h == NULL)
                return;
        json_decref(h->log);
        json_decref(h->config);
        json_decref(h->shell);
        free(h);
}

/* ---- what inspect and ps show ---------------------------------------------- */

json_t *health_state_json(struct ctr *c)
{
        struct health *h = c->health;

        if (h == NULL || h->status == NULL)
                return NULL;
        /* a copy: the thread appends to the log while the reply is written */
        return json_pack("{s:s, s:i, s:o}", "Status", h->status, "FailingStreak", h->failing_streak, "Log",
                         json_deep_copy(h->log));
}

const char *health_status(struct ctr *c)
{
        return c->health ? c->health->status : NULL;
}

json_t *health_config_json(struct ctr *c)
{
        return c->health && c->health->config ? json_deep_copy(c->health->config) : NULL;
}
