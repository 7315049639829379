#include "runtime/state.h"
#include "runtime/cgroup.h"
#include "oci/config.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>

char *state_dir(const char *root, const char *id)
{
        return xasprintf("%s/%s", root, id);
}

int container_id_check(const char *id, berth_error_t **err)
{
        if (id == NULL || *id == '\0')
                return berth_error(err, 0, "container id cannot be empty");
        if (strlen(id) > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
                return berth_error(err, 0, "invalid container id \"%s\"", id);
        for (const char *p = id; *p; p++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.' || c == '+'))
                        return berth_error(err, 0, "invalid container id \"%s\": only [A-Za-z0-9_.+-] allowed", id);
        }
        return 0;
}

int state_write(const char *root, const struct container_state *st, berth_error_t **err)
{
        _cleanup_free_ char *path = xasprintf("%s/%s/state.json", root, st->id);
        _cleanup_free_ char *text = NULL;
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:o, s:o, s:o, s:o}",
                              "id", st->id, "bundle", st->bundle, "rootfs", st->rootfs, "created", st->created,
                              "ociVersion", st->oci_version, "cgroup_path", st->cgroup_path ? st->cgroup_path : "",
                              "pid", (int)st->pid, "start_time", (json_int_t)st->start_time,
                              "annotations", st->annotations ? json_incref(st->annotations) : json_object(),
                              "poststart", st->poststart ? json_incref(st->poststart) : json_array(),
                              "poststop", st->poststop ? json_incref(st->poststop) : json_array(),
                              "namespaces", st->ns_paths ? json_incref(st->ns_paths) : json_object());

        if (j == NULL)
                return berth_error(err, 0, "encode state of %s", st->id);
        text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        return write_file_atomic(path, text, strlen(text), err);
}

static char *dup_str(json_t *j, const char *key)
{
        return xstrdup(json_path_str(j, "", key, NULL));
}

int state_read(const char *root, const char *id, struct container_state **out, berth_error_t **err)
{
        _cleanup_free_ char *path = NULL;
        struct container_state *st;
        json_error_t jerr;
        json_t *j;
        int ret;

        if ((ret = container_id_check(id, err)) < 0)
                return ret;
        path = xasprintf("%s/%s/state.json", root, id);
        j = json_load_file(path, 0, &jerr);
        if (j == NULL) {
                if (access(path, F_OK) < 0 && errno == ENOENT)
                        return berth_error(err, 0, "container \"%s\" does not exist", id);
                return berth_error(err, 0, "read state of container \"%s\": %s", id, jerr.text);
        }
        st = xcalloc(1, sizeof(*st));
        st->id = dup_str(j, "id");
        st->bundle = dup_str(j, "bundle");
        st->rootfs = dup_str(j, "rootfs");
        st->created = dup_str(j, "created");
        st->oci_version = dup_str(j, "ociVersion");
        st->cgroup_path = dup_str(j, "cgroup_path");
        st->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
        st->start_time = (unsigned long long)json_integer_value(json_object_get(j, "start_time"));
        st->annotations = json_incref(json_object_get(j, "annotations"));
        st->poststart = json_incref(json_object_get(j, "poststart"));
        st->poststop = json_incref(json_object_get(j, "poststop"));
        st->ns_paths = json_incref(json_object_get(j, "namespaces"));
        json_decref(j);
        *out = st;
        return 0;
}

void state_free(struct container_state *st)
{
        free(st->id);
        free(st->bundle);
        free(st->rootfs);
        free(st->created);
        free(st->oci_version);
        free(st->cgroup_path);
        json_decref(st->annotations);
        json_decref(st->poststart);
        json_decref(st->poststop);
        json_decref(st->ns_paths);
        free(st);
}

int proc_stat(pid_t pid, unsigned long long *start_time, char *run_state)
{
        char path[64], buf[1024], *p;
        _cleanup_close_ int fd = -1;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        /* comm may hold spaces and parentheses: fields start after the last ')' */
        p = strrchr(buf, ')');
        if (p == NULL || p[1] == '\0')
                return -1;
        p += 2;
        if (run_state)
                *run_state = *p;
        /* field 3 is the state; start time is field 22 */
        for (int field = 3; field < 22 && p; field++) {
                p = strchr(p, ' ');
                if (p)
                        p++;
        }
        if (p == NULL)
                return -1;
        if (start_time)
                *start_time = strtoull(p, NULL, 10);
        return 0;
}

bool state_init_alive(const struct container_state *st)
{
        unsigned long long start;
        char run_state;

        if (st->pid <= 0 || proc_stat(st->pid, &start, &run_state) < 0)
                return false;
        return start == st->start_time && run_state != 'Z' && run_state != 'X';
}

const char *state_status(const char *root, const struct container_state *st)
{
        _cleanup_free_ char *fifo = NULL;
        struct cgroup *cg;
        bool frozen;

        if (!state_init_alive(st))
                return "stopped";
        if (st->cgroup_path[0]) {
                cg = cgroup_open(st->cgroup_path);
                frozen = cg && cgroup_is_frozen(cg);
                if (cg)
                        cgroup_free(cg);
                if (frozen)
                        return "paused";
        }
        fifo = xasprintf("%s/%s/exec.fifo", root, st->id);
        if (access(fifo, F_OK) == 0)
                return "created";
        return "running";
}

json_t *state_to_oci(const struct container_state *st, const char *status)
{
        json_t *j = json_pack("{s:s?, s:s?, s:s, s:s?, s:s?}", "ociVersion", st->oci_version, "id", st->id,
                              "status", status, "bundle", st->bundle, "rootfs", st->rootfs);

        if (strcmp(status, "stopped") != 0)
                json_object_set_new(j, "pid", json_integer(st->pid));
        else
                json_object_set_new(j, "pid", json_integer(0));
        json_object_set_new(j, "created", json_string(st->created ? st->created : ""));
        json_object_set_new(j, "annotations", st->annotations ? json_incref(st->annotations) : json_object());
        json_object_set_new(j, "owner", json_string(""));
        return j;
}

int state_remove(const char *root, const char *id, berth_error_t **err)
{
        _cleanup_free_ char *dir = state_dir(root, id);
        DIR *d = opendir(dir);
        struct dirent *de;

        if (d == NULL)
                return errno == ENOENT ? 0 : berth_error(err, errno, "open %s", dir);
        while ((de = readdir(d)) != NULL)
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        if (rmdir(dir) < 0 && errno != ENOENT)
                return berth_error(err, errno, "remove %s", dir);
        return 0;
}

char *rfc3339_now(void)
{
        struct timespec now;
        struct tm tm;
        char ts[64];

        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        return xasprintf("%s.%09ldZ", ts, now.tv_nsec);
}

int pid_file_write(const char *path, pid_t pid, berth_error_t **err)
{
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d", (int)pid);

        return write_file_atomic(path, buf, (size_t)n, err);
}
