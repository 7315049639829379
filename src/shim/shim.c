/* berth-shim's life: the launch (paths made absolute, detach), the setup
 * reported to the launcher, the event loop, and the end. */
#include "shim/shim-internal.h"
#include "runtime/state.h"
#include "util/log.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <malloc.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>

/* After the init exited: how long the shim waits without progress for the
 * rest of the output and for attach clients to take it. */
#define DRAIN_IDLE_MS 2000
#define READ_CHUNK (16 * 1024)
/* When the shim drops the pages of what it last did (release_ro_pages):
 * after this long without any event, or at most this often while busy. */
#define RELEASE_IDLE_MS 1000
#define RELEASE_EVERY_MS 5000

static char *absolute(const char *path)
{
        char cwd[PATH_MAX];

        if (path == NULL || path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
                return path ? xstrdup(path) : NULL;
        return xasprintf("%s/%s", cwd, path);
}

/* The shim chdirs to /: every path it keeps must not depend on the cwd. */
static void resolve_paths(struct shim_opts *o)
{
        char buf[PATH_MAX];

        o->bundle = realpath(o->bundle, buf) ? xstrdup(buf) : absolute(o->bundle);
        o->runtime_root = absolute(o->runtime_root);
        o->state_dir = absolute(o->state_dir);
        o->log_path = absolute(o->log_path);
        o->exit_file = absolute(o->exit_file);
        o->runtime = absolute(o->runtime);
}

static void shim_init(struct shim *s, const struct shim_opts *o)
{
        memset(s, 0, sizeof(*s));
        s->o = o;
        s->signal_fd = s->control_fd = s->master_fd = -1;
        s->out_fd[0] = s->out_fd[1] = s->out_fd[2] = -1;
        s->log.fd = -1;
        s->attach.listen_fd = -1;
        shim_stdin_init(&s->in, -1);
        s->control_path = xasprintf("%s/control.sock", o->state_dir);
        s->attach_path = xasprintf("%s/attach.sock", o->state_dir);
        s->console_path = xasprintf("%s/console.sock", o->state_dir);
        s->pid_path = xasprintf("%s/shim.pid", o->state_dir);
        s->exit_path = o->exit_file ? xstrdup(o->exit_file) : xasprintf("%s/exit", o->state_dir);
}

/* Files only a live shim may leave: the next shim of this container, or
 * berthd, must not find them. */
static void remove_live_files(struct shim *s)
{
        unlink(s->control_path);
        unlink(s->attach_path);
        unlink(s->console_path);
        unlink(s->pid_path);
}

static int write_pid_file(struct shim *s, berth_error_t **err)
{
        char pid[32];
        int n = snprintf(pid, sizeof(pid), "%d", (int)getpid());

        return write_file_atomic(s->pid_path, pid, (size_t)n, err);
}

/* The code and constants of one-off work (the container's creation:
 * config parsing, seccomp, mounts, much of libc; then each control
 * request) stay mapped, and counted in the shim's RSS, for the
 * container's whole life, although the loop does not run them again:
 * each fault maps 64 KiB around it, so nearly all of the text ends up
 * resident.  So right before the loop blocks after setup or a control
 * request, and once anything else moved (output, a client) after
 * RELEASE_IDLE_MS without events or RELEASE_EVERY_MS of activity, the
 * shim drops its page-table entries for the executable's read-only
 * segments.  The pages stay in the page cache, shared with the other
 * shims; what runs next faults back in (minor faults, no I/O).  Only
 * segments never written qualify (text, rodata; not the RELRO part of
 * the writable one, which relocation wrote), and only whole pages inside
 * them.  Not under a debugger: its breakpoints are written into these
 * pages. */
static struct {
        uintptr_t start, len;
} ro_segs[8];
static size_t n_ro_segs;
static bool release_pending; /* something ran since the last release */
static bool release_due;     /* release before the next poll */
static long long last_release_ms;

static long long now_ms(void);

/* Text relocations would have written read-only segments too. */
static bool has_textrel(const ElfW(Dyn) *d)
{
        for (; d->d_tag != DT_NULL; d++)
                if (d->d_tag == DT_TEXTREL || (d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_TEXTREL)))
                        return true;
        return false;
}

static int find_ro_segments(struct dl_phdr_info *info, size_t size, void *data)
{
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

        (void)size;
        (void)data;
        for (int i = 0; i < info->dlpi_phnum; i++) {
                const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
                uintptr_t start = (info->dlpi_addr + ph->p_vaddr + page - 1) & ~(page - 1);
                uintptr_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) & ~(page - 1);

                if (ph->p_type == PT_DYNAMIC && has_textrel((const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr))) {
                        n_ro_segs = 0;
                        break;
                }
                if (ph->p_type == PT_LOAD && !(ph->p_flags & PF_W) && end > start && n_ro_segs < ARRAY_SIZE(ro_segs)) {
                        ro_segs[n_ro_segs].start = start;
                        ro_segs[n_ro_segs++].len = end - start;
                }
        }
        return 1; /* the executable only: it comes first */
}

static bool traced(void)
{
        char buf[2048];
        _cleanup_close_ int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        const char *t;

        if (n <= 0)
                return true;
        buf[n] = '\0';
        t = strstr(buf, "TracerPid:");
        return t == NULL || strtol(t + strlen("TracerPid:"), NULL, 10) != 0;
}

static void release_ro_pages(void)
{
        release_pending = release_due = false;
        last_release_ms = now_ms();
        if (traced())
                return;
        for (size_t i = 0; i < n_ro_segs; i++)
                madvise((void *)ro_segs[i].start, ro_segs[i].len, MADV_DONTNEED);
}

static int setup(struct shim *s, berth_error_t **err)
{
        _cleanup_free_ char *shim_log = xasprintf("%s/shim.log", s->o->state_dir);
        int ret;

        /* the init the runtime forks is our child; its orphans come here too */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return berth_error(err, errno, "PR_SET_CHILD_SUBREAPER");
        if ((ret = mkdir_p(s->o->state_dir, 0700, err)) < 0)
                return ret;
        /* before anything of a live shim's is replaced */
        if (shim_socket_live(s->control_path))
                return berth_error(err, 0, "a shim for container \"%s\" already serves %s", s->o->id,
                                   s->control_path);
        berth_log_set_program("berth-shim");
        if (berth_log_init(shim_log, false, false) < 0)
                return berth_error(err, errno, "open %s", shim_log);
        s->owns_files = true;
        /* a record of an earlier run would say this one already ended */
        if (unlink(s->exit_path) < 0 && errno != ENOENT)
                return berth_error(err, errno, "remove %s", s->exit_path);
        if ((ret = write_pid_file(s, err)) < 0)
                return ret;
        if ((s->signal_fd = shim_signals_setup(err)) < 0)
                return s->signal_fd;
        if ((ret = shim_log_open(&s->log, s->o->log_path, s->o->log_max_size, s->o->log_max_files, err)) < 0)
                return ret;
        if ((ret = shim_control_listen(s, err)) < 0)
                return ret;
        /* a pty has no EOF to give, and Docker never ends a terminal's
         * input when a client leaves (StdinOnce closes a pipe only): a
         * detached client must not leave the next one without input */
        if ((ret = shim_attach_listen(&s->attach, s->attach_path, !s->o->tty, s->o->keep_stdin || s->o->tty,
                                      err)) < 0)
                return ret;
        if ((ret = shim_create(s, err)) < 0)
                return ret;
        /* the config, seccomp program and the like are gone: give back the heap */
        malloc_trim(0);
        dl_iterate_phdr(find_ro_segments, NULL);
        release_due = true;
        return 0;
}

static void output_eof(struct shim *s, enum shim_stream st)
{
        if (s->out_fd[st] != s->master_fd)
                close(s->out_fd[st]);
        s->out_fd[st] = -1;
        shim_log_flush(&s->log, st);
}

/* One read of the container's output into the log and to attach clients;
 * true when something was read. */
static bool read_output(struct shim *s, enum shim_stream st)
{
        static char buf[READ_CHUNK];
        ssize_t n = read(s->out_fd[st], buf, sizeof(buf));

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return false;
        /* a pty master reads EIO once no process has the terminal open */
        if (n <= 0) {
                if (n < 0 && errno != EIO)
                        berth_log(BERTH_LOG_ERROR, "read container %s: %s", st == SHIM_STDOUT ? "stdout" : "stderr",
                                  strerror(errno));
                output_eof(s, st);
                return true;
        }
        shim_log_write(&s->log, st, buf, (size_t)n);
        shim_attach_broadcast(&s->attach, st, buf, (size_t)n);
        return true;
}

static void handle_signals(struct shim *s)
{
        unsigned long seen = shim_signals_take(s->signal_fd);
        static const int forwarded[] = { SIGINT, SIGTERM };

        if (seen & (1UL << SIGCHLD))
                shim_reap(s);
        for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
                if ((seen & (1UL << forwarded[i])) && !s->exited)
                        kill(s->init_pid, forwarded[i]);
}

static bool finished(const struct shim *s)
{
        return s->exited && s->out_fd[SHIM_STDOUT] < 0 && s->out_fd[SHIM_STDERR] < 0 &&
               shim_attach_drained(&s->attach);
}

enum { P_SIGNAL, P_CONTROL, P_STDOUT, P_STDERR, P_STDIN, P_ATTACH };

/* One round of poll; true when anything moved. */
static bool poll_once(struct shim *s, int timeout_ms)
{
        size_t n_pfd = P_ATTACH + 1 + s->attach.n;
        _cleanup_free_ struct pollfd *pfd = xcalloc(n_pfd, sizeof(*pfd));
        bool reading = !shim_attach_congested(&s->attach), progress = false;
        bool input = s->in.fd < 0 || shim_stdin_wants(&s->in);
        int n;

        pfd[P_SIGNAL] = (struct pollfd){ .fd = s->signal_fd, .events = POLLIN };
        pfd[P_CONTROL] = (struct pollfd){ .fd = s->control_fd, .events = POLLIN };
        pfd[P_STDOUT] = (struct pollfd){ .fd = reading ? s->out_fd[SHIM_STDOUT] : -1, .events = POLLIN };
        pfd[P_STDERR] = (struct pollfd){ .fd = reading ? s->out_fd[SHIM_STDERR] : -1, .events = POLLIN };
        pfd[P_STDIN] = (struct pollfd){ .fd = s->in.fd, .events = shim_stdin_events(&s->in) };
        n_pfd = P_ATTACH + shim_attach_pollfds(&s->attach, pfd + P_ATTACH, input);
        if (release_due && !s->exited)
                release_ro_pages();
        n = poll(pfd, (nfds_t)n_pfd, release_pending && timeout_ms < 0 ? RELEASE_IDLE_MS : timeout_ms);
        if (n < 0) {
                if (errno != EINTR)
                        berth_log(BERTH_LOG_ERROR, "poll: %s", strerror(errno));
                return false;
        }
        release_pending |= n > 0;
        release_due |= release_pending && (n == 0 || now_ms() - last_release_ms >= RELEASE_EVERY_MS);
        if (pfd[P_SIGNAL].revents)
                handle_signals(s);
        for (int st = SHIM_STDOUT; st <= SHIM_STDERR; st++)
                if (pfd[P_STDOUT + st - SHIM_STDOUT].revents)
                        progress |= read_output(s, st);
        if (pfd[P_STDIN].revents)
                shim_stdin_writable(&s->in);
        if (pfd[P_CONTROL].revents) {
                shim_control_accept(s);
                release_due = true;
        }
        for (size_t i = P_ATTACH; i < n_pfd; i++)
                progress |= (pfd[i].revents & POLLOUT) != 0;
        shim_attach_handle(&s->attach, pfd + P_ATTACH, n_pfd - P_ATTACH, &s->in);
        return progress;
}

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run(struct shim *s)
{
        long long last_progress = 0;
        bool torn_down = false;

        shim_reap(s);
        for (;;) {
                if (s->exited && !torn_down) {
                        /* input has nobody to go to; what is left of the container goes */
                        shim_stdin_close(&s->in);
                        shim_teardown_container(s);
                        torn_down = true;
                        last_progress = now_ms();
                }
                if (torn_down && finished(s))
                        break;
                if (poll_once(s, s->exited ? 100 : -1))
                        last_progress = now_ms();
                if (torn_down && now_ms() - last_progress >= DRAIN_IDLE_MS) {
                        berth_log(BERTH_LOG_WARNING, "output not drained %d ms after the container exited",
                                  DRAIN_IDLE_MS);
                        break;
                }
        }
}

/* Output a stuck attach client kept us from reading still belongs in the
 * log: take what the pipes hold now, without waiting for more. */
static void drain_to_log(struct shim *s)
{
        for (int st = SHIM_STDOUT; st <= SHIM_STDERR; st++)
                while (s->out_fd[st] >= 0 && read_output(s, st))
                        ;
}

static _Noreturn void finish(struct shim *s)
{
        _cleanup_error_ berth_error_t *err = NULL;

        shim_attach_close(&s->attach);
        drain_to_log(s);
        shim_log_close(&s->log);
        if (shim_write_exit(s, &err) < 0)
                berth_log(BERTH_LOG_ERROR, "%s", err->msg);
        remove_live_files(s);
        _exit(0);
}

int shim_launch(const struct shim_opts *given, berth_error_t **err)
{
        static struct shim_opts o;
        static struct shim s;
        _cleanup_error_ berth_error_t *setup_err = NULL;
        int ready_fd = -1, ret;

        if ((ret = container_id_check(given->id, err)) < 0)
                return ret;
        o = *given;
        resolve_paths(&o);
        if ((ret = shim_detach(&ready_fd, err)) != 0)
                return ret > 0 ? 0 : ret;
        shim_init(&s, &o);
        if (setup(&s, &setup_err) < 0) {
                berth_log(BERTH_LOG_ERROR, "%s", setup_err->msg);
                shim_report_error(ready_fd, setup_err);
                if (s.owns_files)
                        remove_live_files(&s);
                _exit(1);
        }
        shim_report_ready(ready_fd);
        run(&s);
        finish(&s);
}
