/* A container's output: logs from the json-file log the shim writes, and
 * attach, a bridge between a hijacked API connection and the shim's
 * attach socket. */
#include "engine/engine-internal.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

/* ---- logs ------------------------------------------------------------ */

void stdcopy_header(unsigned char h[8], int stream, size_t len)
{
        h[0] = (unsigned char)stream;
        h[1] = h[2] = h[3] = 0;
        h[4] = (unsigned char)(len >> 24);
        h[5] = (unsigned char)(len >> 16);
        h[6] = (unsigned char)(len >> 8);
        h[7] = (unsigned char)len;
}

struct log_reader {
        const struct engine_logs_opts *o;
        bool tty;
        engine_write_fn write;
        void *data;
};

/* One json-file line: {"log": "...", "stream": "stdout", "time": "..."}. */
static int emit_line(struct log_reader *r, const char *line, size_t len)
{
        json_t *j = json_loadb(line, len, 0, NULL);
        const char *stream, *time, *text;
        size_t text_len;
        int ret = 0;

        if (j == NULL)
                return 0; /* a torn last line of a crash: skip */
        stream = json_string_value(json_object_get(j, "stream"));
        time = json_string_value(json_object_get(j, "time"));
        text = json_string_value(json_object_get(j, "log"));
        text_len = json_string_length(json_object_get(j, "log"));
        bool is_err = stream && strcmp(stream, "stderr") == 0;
        int64_t t = rfc3339_to_unix(time);
        if (text && (is_err ? r->o->stderr_ : r->o->stdout_) && (r->o->since == 0 || t >= r->o->since) &&
            (r->o->until == 0 || t < r->o->until)) {
                _cleanup_free_ char *payload = r->o->timestamps ? xasprintf("%s %.*s", time ? time : "", (int)text_len, text)
                                                                : NULL;
                const char *p = payload ? payload : text;
                size_t n = payload ? strlen(payload) : text_len;
                if (!r->tty) {
                        unsigned char h[8];
                        stdcopy_header(h, is_err ? 2 : 1, n);
                        ret = r->write(r->data, h, sizeof(h));
                }
                if (ret >= 0)
                        ret = r->write(r->data, p, n);
        }
        json_decref(j);
        return ret;
}

/* Emit complete lines of buf; returns bytes consumed, <0 when the client
 * went away. */
static ssize_t emit_lines(struct log_reader *r, const char *buf, size_t len, int64_t *skip)
{
        size_t off = 0;

        for (;;) {
                const char *nl = memchr(buf + off, '\n', len - off);
                if (nl == NULL)
                        return (ssize_t)off;
                size_t n = (size_t)(nl - (buf + off));
                if (*skip > 0)
                        (*skip)--;
                else if (emit_line(r, buf + off, n) < 0)
                        return -1;
                off += n + 1;
        }
}

static int64_t count_lines(int fd)
{
        char buf[65536];
        int64_t n = 0;
        ssize_t got;

        while ((got = read(fd, buf, sizeof(buf))) > 0)
                for (ssize_t i = 0; i < got; i++)
                        n += buf[i] == '\n';
        lseek(fd, 0, SEEK_SET);
        return n;
}

static bool still_running(struct ctr *c)
{
        pthread_mutex_lock(&c->lock);
        bool r = c->status == CTR_RUNNING || c->status == CTR_PAUSED || c->status == CTR_RESTARTING;
        pthread_mutex_unlock(&c->lock);
        return r;
}

static int follow_file(struct log_reader *r, struct ctr *c, const char *path, int fd, int64_t skip)
{
        char *buf = xmalloc(1 << 16);
        size_t have = 0, cap = 1 << 16;
        int ret = 0;

        for (;;) {
                if (have == cap)
                        buf = xrealloc(buf, cap *= 2);
                ssize_t got = read(fd, buf + have, cap - have);
                if (got > 0) {
                        have += (size_t)got;
                        ssize_t used = emit_lines(r, buf, have, &skip);
                        if (used < 0) {
                                ret = -1;
                                break;
                        }
                        memmove(buf, buf + used, have - (size_t)used);
                        have -= (size_t)used;
                        continue;
                }
                if (!r->o->follow || !still_running(c))
                        break;
                /* rotated: the shim renamed the file and started a new one */
                struct stat a, b;
                if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino != b.st_ino) {
                        int nfd = open(path, O_RDONLY | O_CLOEXEC);
                        if (nfd >= 0) {
                                dup2(nfd, fd);
                                close(nfd);
                                continue;
                        }
                }
                /* the client leaving shows on the next write; poll the
                 * file every 50 ms (inotify would save the wakeups) */
                struct timespec ts = { 0, 50 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        free(buf);
        return ret;
}

int engine_container_logs(struct engine *e, const char *name, const struct engine_logs_opts *o, bool *tty,
                          engine_write_fn write, void *data, berth_error_t **err)
{
        struct ctr *c;
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        int64_t skip = 0;
        int r;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        struct log_reader rd = { .o = o, .tty = c->tty, .write = write, .data = data };
        if (tty)
                *tty = c->tty;
        path = ctr_log_path(e, c);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno != ENOENT) {
                ctr_unref(c);
                return berth_error(err, errno, "open %s", path);
        }
        if (fd < 0) {
                /* never started: no log yet, nothing to show */
                ctr_unref(c);
                return 0;
        }
        if (o->tail >= 0) {
                int64_t total = count_lines(fd);
                skip = total > o->tail ? total - o->tail : 0;
        }
        r = follow_file(&rd, c, path, fd, skip);
        ctr_unref(c);
        return r < 0 ? berth_fail(err, EPIPE, "the client went away") : 0;
}

int engine_container_tty(struct engine *e, const char *name, bool *tty, berth_error_t **err)
{
        struct ctr *c;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        *tty = c->tty;
        ctr_unref(c);
        return 0;
}

/* ---- attach ------------------------------------------------------------- */

void engine_container_attach_reserve(struct engine *e, const char *id, bool reserve)
{
        struct ctr *c;

        if (ctr_find(e, id, &c, NULL) < 0)
                return;
        pthread_mutex_lock(&c->lock);
        if (reserve)
                c->attach_waiting++;
        else if (c->attach_waiting > 0)
                c->attach_waiting--;
        pthread_cond_broadcast(&c->changed);
        pthread_mutex_unlock(&c->lock);
        ctr_unref(c);
}

/* Wait for the container's shim (docker run attaches before it starts);
 * returns the attach socket.  A start waits while attach_waiting counts
 * us (reserved: counted since before the 101). */
static int wait_for_shim(struct engine *e, struct ctr *c, int client, bool reserved, berth_error_t **err)
{
        int fd = -1;

        pthread_mutex_lock(&c->lock);
        if (c->status == CTR_EXITED || c->status == CTR_DEAD) {
                if (reserved && c->attach_waiting > 0)
                        c->attach_waiting--;
                pthread_cond_broadcast(&c->changed);
                pthread_mutex_unlock(&c->lock);
                return berth_fail(err, EBUSY, "You cannot attach to a stopped container, start it first");
        }
        if (!reserved)
                c->attach_waiting++;
        unsigned failures = c->start_failures;
        while (c->shim_pid <= 0 && !c->removed && c->status == CTR_CREATED && c->start_failures == failures) {
                struct timespec t;
                clock_gettime(CLOCK_REALTIME, &t);
                t.tv_sec += 1;
                pthread_cond_timedwait(&c->changed, &c->lock, &t);
                /* the client hung up while waiting (a half-close of stdin
                 * is not that) */
                struct pollfd p = { .fd = client, .events = 0 };
                if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
                        break;
        }
        if (c->shim_pid > 0)
                fd = shim_connect(e, c, "attach.sock", err);
        else
                berth_fail(err, EBUSY, "container %.12s did not start", c->id);
        c->attach_waiting--;
        pthread_cond_broadcast(&c->changed);
        pthread_mutex_unlock(&c->lock);
        return fd;
}

/* Drop the frames of a stream the client did not ask for.  state keeps
 * a frame split across reads. */
struct demux {
        unsigned char header[8];
        size_t header_have;
        size_t left;            /* payload bytes left in the current frame */
        bool keep;
};

static int forward_filtered(struct demux *d, const struct engine_attach_opts *o, int out, const unsigned char *buf,
                            size_t len)
{
        size_t off = 0;

        while (off < len) {
                if (d->left == 0) {
                        size_t take = MIN(8 - d->header_have, len - off);
                        memcpy(d->header + d->header_have, buf + off, take);
                        d->header_have += take;
                        off += take;
                        if (d->header_have < 8)
                                break;
                        d->header_have = 0;
                        d->left = (size_t)d->header[4] << 24 | (size_t)d->header[5] << 16 |
                                  (size_t)d->header[6] << 8 | d->header[7];
                        d->keep = d->header[0] == 2 ? o->stderr_ : o->stdout_;
                        if (d->keep && write_all(out, d->header, 8) < 0)
                                return -1;
                        continue;
                }
                size_t take = MIN(d->left, len - off);
                if (d->keep && write_all(out, buf + off, take) < 0)
                        return -1;
                d->left -= take;
                off += take;
        }
        return 0;
}

static void bridge(int client, int shim, const struct engine_attach_opts *o, bool tty)
{
        struct pollfd p[2] = { { .fd = client, .events = POLLIN }, { .fd = shim, .events = POLLIN } };
        unsigned char buf[65536];
        struct demux d = { 0 };
        bool filter = !tty && !(o->stdout_ && o->stderr_);

        for (;;) {
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[1].revents) {
                        ssize_t n = read(shim, buf, sizeof(buf));
                        if (n <= 0)
                                break;  /* output ended: the container exited */
                        int w = filter ? forward_filtered(&d, o, client, buf, (size_t)n)
                                       : write_all(client, buf, (size_t)n);
                        if (w < 0)
                                break;
                }
                /* after its EOF only a hang-up wakes us: nobody reads the
                 * output any more (a detach), so the bridge and its shim
                 * client must not wait for the container's next output */
                if (p[0].revents && p[0].events == 0)
                        break;
                if (p[0].revents) {
                        ssize_t n = read(client, buf, sizeof(buf));
                        if (n <= 0) {
                                /* half-close: end of stdin, output goes on */
                                if (o->stdin_)
                                        shutdown(shim, SHUT_WR);
                                p[0].events = 0;
                                if (!o->stdout_ && !o->stderr_)
                                        break;
                                continue;
                        }
                        if (o->stdin_ && write_all(shim, buf, (size_t)n) < 0)
                                p[0].fd = -1;
                }
        }
        shutdown(client, SHUT_WR);
}

static int write_fd(void *data, const void *buf, size_t len)
{
        return write_all(*(int *)data, buf, len);
}

/* attach?logs=1: what the container wrote so far, from its log, framed
 * as the stream that follows (docker-py and compose ask for it; docker
 * attach does not).  Output between the end of the log and the shim's
 * attach socket is not seen twice, though it may be missed, as with
 * dockerd, which reads the log first too. */
static int replay_log(struct engine *e, struct ctr *c, int fd, const struct engine_attach_opts *o)
{
        struct engine_logs_opts lo = { .stdout_ = o->stdout_, .stderr_ = o->stderr_, .tail = -1 };
        struct log_reader rd = { .o = &lo, .tty = c->tty, .write = write_fd, .data = &fd };
        _cleanup_free_ char *path = ctr_log_path(e, c);
        _cleanup_close_ int log = open(path, O_RDONLY | O_CLOEXEC);

        if (log < 0 || (!o->stdout_ && !o->stderr_))
                return 0;       /* never started, or no log (driver none) */
        return follow_file(&rd, c, path, log, 0);
}

/* The live stream, through the shim's attach socket. */
static int attach_stream(struct engine *e, struct ctr *c, int fd, const void *extra, size_t extra_len,
                         const struct engine_attach_opts *o, berth_error_t **err)
{
        int shim = wait_for_shim(e, c, fd, o->reserved, err);

        if (shim >= 0 && o->stdin_ && extra_len > 0)
                (void)write_all(shim, extra, extra_len);
        if (shim >= 0) {
                bridge(fd, shim, o, c->tty);
                close(shim);
        }
        return shim < 0 ? -1 : 0;
}

int engine_container_attach(struct engine *e, const char *name, int fd, const void *extra, size_t extra_len,
                            const struct engine_attach_opts *o, berth_error_t **err)
{
        struct ctr *c;
        int r = 0;

        if (ctr_find(e, name, &c, err) < 0) {
                if (o->reserved)
                        engine_container_attach_reserve(e, name, false);
                return -1;
        }
        /* without stream only the log, which a stopped container has too */
        if (o->logs && replay_log(e, c, fd, o) < 0)
                r = berth_fail(err, EPIPE, "the client went away");
        if (r == 0 && o->stream) {
                r = attach_stream(e, c, fd, extra, extra_len, o, err);
        } else {
                if (o->reserved)
                        engine_container_attach_reserve(e, c->id, false);
                shutdown(fd, SHUT_WR);
        }
        ctr_unref(c);
        return r;
}

int engine_container_logs_readable(struct engine *e, const char *name, berth_error_t **err)
{
        struct ctr *c;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        pthread_mutex_lock(&c->lock);
        json_t *lc = json_object_get(json_object_get(c->body, "HostConfig"), "LogConfig");
        const char *type = json_string_value(json_object_get(lc, "Type"));
        bool none = type && strcmp(type, "none") == 0;
        pthread_mutex_unlock(&c->lock);
        ctr_unref(c);
        return none ? berth_fail(err, ENOSYS, "configured logging driver does not support reading") : 0;
}

int engine_container_resize(struct engine *e, const char *name, int rows, int cols, berth_error_t **err)
{
        struct ctr *c;
        char line[64];
        int r;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        snprintf(line, sizeof(line), "resize %d %d", rows, cols);
        r = c->shim_pid > 0 ? shim_control(e, c, line, NULL, err) : 0;
        ctr_unref(c);
        return r;
}
