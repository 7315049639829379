/* The end of the container: reaping (the shim is a subreaper, so orphans
 * of the container land here too), removing what is left of it, and the
 * exit record. */
#include "shim/shim-internal.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "util/log.h"
#include "util/util.h"
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

bool shim_reap(struct shim *s)
{
        bool init_exited = false;
        int status;
        pid_t pid;

        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                if (pid != s->init_pid || s->exited)
                        continue;
                s->exited = true;
                s->wait_status = status;
                clock_gettime(CLOCK_REALTIME, &s->finished);
                init_exited = true;
        }
        return init_exited;
}

int shim_exit_code(const struct shim *s)
{
        if (WIFSIGNALED(s->wait_status))
                return 128 + WTERMSIG(s->wait_status);
        return WEXITSTATUS(s->wait_status);
}

/* The memory cgroup counts OOM kills; read before the cgroup goes. */
static bool oom_recorded(struct shim *s)
{
        _cleanup_state_ struct container_state *st = NULL;
        struct cgroup_stats stats = { 0 };
        struct cgroup *cg;
        bool oom;

        /* an external runtime's state is its own (runc's is not ours) */
        if (s->o->runtime || state_read(s->o->runtime_root, s->o->id, &st, NULL) < 0 || st->cgroup_path[0] == '\0')
                return false;
        if ((cg = cgroup_open(st->cgroup_path)) == NULL)
                return false;
        oom = cgroup_stats(cg, &stats, NULL) == 0 && stats.oom_kill_events > 0;
        cgroup_free(cg);
        return oom;
}

/* What is left of the container goes with it (shim_rt_delete). */
void shim_teardown_container(struct shim *s)
{
        _cleanup_error_ berth_error_t *err = NULL;

        s->oom_killed = oom_recorded(s);
        if (shim_rt_delete(s, &err) < 0)
                berth_log(BERTH_LOG_ERROR, "delete container %s: %s", s->o->id, err->msg);
        shim_reap(s);
}

int shim_write_exit(struct shim *s, berth_error_t **err)
{
        char finished[SHIM_TIME_MAX];
        _cleanup_free_ char *text = NULL;
        json_t *record;
        int ret;

        shim_format_time(&s->finished, finished);
        record = json_pack("{s:i, s:i, s:s, s:b}", "exit_code", shim_exit_code(s), "signal",
                           WIFSIGNALED(s->wait_status) ? WTERMSIG(s->wait_status) : 0, "finished_at", finished,
                           "oom_killed", s->oom_killed);
        text = json_dumps(record, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(record);
        ret = write_file_atomic(s->exit_path, text, strlen(text), err);
        return ret < 0 ? berth_error_wrap(err, "exit file") : 0;
}
