/* A pod's volumes, each a directory under
 * <data root>/kubelet/pods/<uid>/volumes/<name> (mode 0700 up to there):
 * - emptyDir: the directory (0777, as the kubelet makes it); medium
 *   Memory: a tmpfs on it, sizeLimit its size;
 * - hostPath: the host's path, checked or made as its type says;
 * - configMap, secret: the AtomicWriter's ..data layout
 *   (kube-projection.h), refreshed every configmap_sync_s; a secret's
 *   directory is a tmpfs, so secret bytes never reach a disk;
 * - persistentVolumeClaim: the engine's named volume <claimName>.
 * Containers get them as bind mounts (read-only for configMap and
 * secret); a subPath binds what is under it, pinned at creation, so a
 * configMap's subPath file never changes (C4).  Teardown unmounts and
 * removes everything. */
#include "orch/kubelet.h"
#include "orch/kube-calc.h"
#include "orch/kube-projection.h"
#include "engine/engine.h"
#include "util/log.h"
#include "util/util.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

char *kl_pod_dir(struct kubelet *kl, const char *uid)
{
        return xasprintf("%s/kubelet/pods/%s", engine_options(kl->e)->data_root, uid);
}

static char *vol_dir(struct kubelet *kl, const char *uid, const char *name)
{
        _cleanup_free_ char *pd = kl_pod_dir(kl, uid);

        return xasprintf("%s/volumes/%s", pd, name);
}

static bool is_mountpoint(const char *path)
{
        _cleanup_free_ char *parent = xasprintf("%s/..", path);
        struct stat a, b;

        return stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

static int mount_tmpfs(const char *dir, long long size, const char *mode, berth_error_t **err)
{
        _cleanup_free_ char *opts = size > 0 ? xasprintf("mode=%s,size=%lld", mode, size) : xasprintf("mode=%s", mode);

        if (is_mountpoint(dir))
                return 0;
        if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
                return berth_error(err, errno, "mount tmpfs on %s", dir);
        return 0;
}

/* ---- sources --------------------------------------------------------------- */

static int empty_dir(const json_t *src, const char *dir, berth_error_t **err)
{
        const char *medium = json_string_value(json_object_get(src, "medium"));
        const json_t *limit = json_object_get(src, "sizeLimit");
        int64_t size = 0;

        if (mkdir_p(dir, 0777, err) < 0)
                return -1;
        chmod(dir, 0777);
        if (medium == NULL || strcmp(medium, "Memory") != 0)
                return 0;
        if (limit && kube_quantity_json_bytes(limit, &size, err) < 0)
                return -1;
        return mount_tmpfs(dir, size, "1777", err);
}

static int host_path(const json_t *src, berth_error_t **err)
{
        const char *path = json_string_value(json_object_get(src, "path"));
        const char *type = json_string_value(json_object_get(src, "type"));
        struct stat st;
        bool exists;

        if (path == NULL || path[0] != '/')
                return berth_fail(err, EINVAL, "hostPath: the path must be absolute");
        if (type == NULL || *type == '\0')
                return 0;
        exists = stat(path, &st) == 0;
        if (strcmp(type, "DirectoryOrCreate") == 0 && !exists)
                return mkdir_p(path, 0755, err);
        if (strcmp(type, "FileOrCreate") == 0 && !exists) {
                int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0)
                        return berth_error(err, errno, "hostPath: create %s", path);
                close(fd);
                return 0;
        }
        static const struct { const char *type; mode_t fmt; const char *what; } checks[] = {
                { "DirectoryOrCreate", S_IFDIR, "a directory" }, { "Directory", S_IFDIR, "a directory" },
                { "FileOrCreate", S_IFREG, "a file" },       { "File", S_IFREG, "a file" },
                { "Socket", S_IFSOCK, "a socket file" },     { "CharDevice", S_IFCHR, "a character device" },
                { "BlockDevice", S_IFBLK, "a block device" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(checks); i++) {
                if (strcmp(type, checks[i].type) != 0)
                        continue;
                if (!exists || (st.st_mode & S_IFMT) != checks[i].fmt)
                        return berth_fail(err, ENOENT, "hostPath type check failed: %s is not %s", path,
                                          checks[i].what);
                return 0;
        }
        return berth_fail(err, EINVAL, "hostPath: unsupported type %s", type);
}

static int project(struct kubelet *kl, struct kl_pod *p, const json_t *src, bool secret, const char *dir,
                   berth_error_t **err)
{
        const char *name = json_string_value(json_object_get(src, secret ? "secretName" : "name"));
        struct kube_projected_file *files = NULL;
        json_t *obj = NULL;
        size_t n = 0;
        int mode = KUBE_PROJECTION_DEFAULT_MODE, r;

        if (name)
                kube_get(kl->k, secret ? "Secret" : "ConfigMap", p->ns, name, &obj, NULL);
        r = kube_volume_source_files(src, obj, &files, &n, &mode, err);
        json_decref(obj);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                r = berth_error(err, errno, "open %s", dir);
        else
                r = kube_projection_write(fd, files, n, mode, err);
        kube_projected_files_free(files, n);
        return r;
}

static int projected_volume(struct kubelet *kl, struct kl_pod *p, const json_t *src, bool secret, const char *dir,
                            berth_error_t **err)
{
        if (mkdir_p(dir, 0755, err) < 0)
                return -1;
        if (secret && mount_tmpfs(dir, 0, "0755", err) < 0)
                return -1;
        return project(kl, p, src, secret, dir, err);
}

static int claim(struct kubelet *kl, const json_t *src, berth_error_t **err)
{
        const char *name = json_string_value(json_object_get(src, "claimName"));
        json_t *out = NULL;
        int r;

        if (name == NULL || *name == '\0')
                return berth_fail(err, EINVAL, "persistentVolumeClaim: claimName is required");
        if (engine_volume_inspect(kl->e, name, &out, NULL) == 0) {
                json_decref(out);
                return 0;
        }
        json_t *body = must(json_pack("{s:s, s:{s:s}}", "Name", name, "Labels", "io.berth.kube.claim", "true"));
        r = engine_volume_create(kl->e, body, &out, err);
        json_decref(body);
        json_decref(out);
        return r;
}

static int setup_one(struct kubelet *kl, struct kl_pod *p, const json_t *v, berth_error_t **err)
{
        const char *name = json_string_value(json_object_get(v, "name"));
        _cleanup_free_ char *dir = NULL;
        const json_t *src;

        if (name == NULL || strchr(name, '/') || name[0] == '.')
                return berth_fail(err, EINVAL, "volume name %s is not valid", name ? name : "");
        dir = vol_dir(kl, p->uid, name);
        if ((src = json_object_get(v, "emptyDir")) != NULL)
                return empty_dir(src, dir, err);
        if ((src = json_object_get(v, "hostPath")) != NULL)
                return host_path(src, err);
        if ((src = json_object_get(v, "configMap")) != NULL)
                return projected_volume(kl, p, src, false, dir, err);
        if ((src = json_object_get(v, "secret")) != NULL)
                return projected_volume(kl, p, src, true, dir, err);
        if ((src = json_object_get(v, "persistentVolumeClaim")) != NULL)
                return claim(kl, src, err);
        return berth_fail(err, EINVAL, "volume %s: unsupported volume type", name);
}

int kl_volumes_setup(struct kubelet *kl, struct kl_pod *p, berth_error_t **err)
{
        const json_t *vols = json_object_get(json_object_get(p->pod, "spec"), "volumes"), *v;
        _cleanup_free_ char *pd = kl_pod_dir(kl, p->uid);
        _cleanup_free_ char *vd = xasprintf("%s/volumes", pd);
        size_t i;

        if (json_array_size(vols) == 0)
                return 0;
        if (mkdir_p(vd, 0700, err) < 0)
                return -1;
        chmod(pd, 0700);
        json_array_foreach(vols, i, v) {
                if (setup_one(kl, p, v, err) < 0) {
                        const char *name = json_string_value(json_object_get(v, "name"));
                        return berth_error_wrap(err, "MountVolume.SetUp failed for volume \"%s\" ", name ? name : "");
                }
        }
        return 0;
}

void kl_volumes_refresh(struct kubelet *kl, struct kl_pod *p)
{
        const json_t *vols = json_object_get(json_object_get(p->pod, "spec"), "volumes"), *v, *src;
        size_t i;

        json_array_foreach(vols, i, v) {
                _cleanup_error_ berth_error_t *err = NULL;
                const char *name = json_string_value(json_object_get(v, "name"));
                bool secret = (src = json_object_get(v, "secret")) != NULL;
                if (!secret && (src = json_object_get(v, "configMap")) == NULL)
                        continue;
                _cleanup_free_ char *dir = vol_dir(kl, p->uid, name);
                /* a missing object keeps the files the pod has, as the kubelet does */
                if (project(kl, p, src, secret, dir, &err) < 0)
                        berth_debug("kubelet: refresh %s/%s volume %s: %s", p->ns, p->name, name, err->msg);
        }
}

/* ---- mounts ----------------------------------------------------------------- */

static const json_t *volume_named(const struct kl_pod *p, const char *name)
{
        const json_t *vols = json_object_get(json_object_get(p->pod, "spec"), "volumes"), *v;
        size_t i;

        json_array_foreach(vols, i, v) {
                const char *n = json_string_value(json_object_get(v, "name"));
                if (n && strcmp(n, name) == 0)
                        return v;
        }
        return NULL;
}

static bool has_dotdot(const char *s)
{
        while (*s) {
                size_t n = strcspn(s, "/");
                if (n == 2 && s[0] == '.' && s[1] == '.')
                        return true;
                s += n;
                s += strspn(s, "/");
        }
        return false;
}

/* dir/sub with sub checked (relative, no ".."); made as a directory
 * when asked (emptyDir, hostPath); symlinks resolved so the bind is
 * pinned to what is there now. */
static int sub_path(const char *dir, const char *sub, bool make, char **out, berth_error_t **err)
{
        _cleanup_free_ char *full = NULL;
        char real[PATH_MAX];

        if (has_dotdot(sub))
                return berth_fail(err, EINVAL, "subPath %s must not contain '..'", sub);
        if (sub[0] == '/')
                return berth_fail(err, EINVAL, "subPath %s must be a relative path", sub);
        full = xasprintf("%s/%s", dir, sub);
        if (make && access(full, F_OK) < 0 && mkdir_p(full, 0755, err) < 0)
                return -1;
        if (realpath(full, real) == NULL)
                return berth_error(err, errno, "subPath %s", sub);
        _cleanup_free_ char *rdir = realpath(dir, NULL);
        if (rdir == NULL || !(str_has_prefix(real, rdir) && (real[strlen(rdir)] == '/' || real[strlen(rdir)] == 0)))
                return berth_fail(err, EINVAL, "subPath %s leaves its volume", sub);
        *out = xstrdup(real);
        return 0;
}

static int one_mount(struct kubelet *kl, struct kl_pod *p, const json_t *vm, json_t *mounts, berth_error_t **err)
{
        const char *name = json_string_value(json_object_get(vm, "name"));
        const char *target = json_string_value(json_object_get(vm, "mountPath"));
        const char *sub = json_string_value(json_object_get(vm, "subPath"));
        bool ro = json_is_true(json_object_get(vm, "readOnly"));
        const json_t *v = name ? volume_named(p, name) : NULL, *src;
        _cleanup_free_ char *dir = NULL, *source = NULL;

        if (v == NULL)
                return berth_fail(err, EINVAL, "volumeMount %s: no such volume", name ? name : "");
        if (target == NULL || target[0] != '/')
                return berth_fail(err, EINVAL, "volumeMount %s: mountPath must be absolute", name);
        if (sub && *sub == '\0')
                sub = NULL;
        if ((src = json_object_get(v, "persistentVolumeClaim")) != NULL) {
                json_t *m = must(json_pack("{s:s, s:s, s:s, s:b}", "Type", "volume", "Source",
                                           json_string_value(json_object_get(src, "claimName")), "Target", target,
                                           "ReadOnly", ro || json_is_true(json_object_get(src, "readOnly"))));
                if (sub)
                        json_object_set_new(m, "VolumeOptions", must(json_pack("{s:s}", "Subpath", sub)));
                json_array_append_new(mounts, m);
                return 0;
        }
        if ((src = json_object_get(v, "hostPath")) != NULL)
                dir = xstrdup(json_string_value(json_object_get(src, "path")) ?: "/");
        else
                dir = vol_dir(kl, p->uid, name);
        bool projected = json_object_get(v, "configMap") || json_object_get(v, "secret");
        if (sub) {
                /* a configMap's key: the file as ..data has it now */
                _cleanup_free_ char *base = projected ? xasprintf("%s/..data", dir) : xstrdup(dir);
                if (sub_path(base, sub, !projected, &source, err) < 0)
                        return -1;
        } else {
                source = xstrdup(dir);
        }
        json_array_append_new(mounts, must(json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source", source,
                                                     "Target", target, "ReadOnly", ro || projected)));
        return 0;
}

int kl_volume_mounts(struct kubelet *kl, struct kl_pod *p, const json_t *ctr, json_t **out, berth_error_t **err)
{
        const json_t *vms = json_object_get(ctr, "volumeMounts"), *vm;
        json_t *mounts = must(json_array());
        size_t i;

        json_array_foreach(vms, i, vm) {
                if (one_mount(kl, p, vm, mounts, err) < 0) {
                        json_decref(mounts);
                        return -1;
                }
        }
        *out = mounts;
        return 0;
}

void kl_volumes_teardown(struct kubelet *kl, const char *uid)
{
        _cleanup_free_ char *pd = kl_pod_dir(kl, uid);
        _cleanup_free_ char *vd = xasprintf("%s/volumes", pd);
        DIR *d = opendir(vd);
        struct dirent *de;

        if (d) {
                while ((de = readdir(d)) != NULL) {
                        if (de->d_name[0] == '.')
                                continue;
                        _cleanup_free_ char *dir = xasprintf("%s/%s", vd, de->d_name);
                        /* emptyDir Memory and secret volumes are tmpfs mounts */
                        while (umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
                                ;
                }
                closedir(d);
        }
        _cleanup_free_ char *parent = xasprintf("%s/kubelet/pods", engine_options(kl->e)->data_root);
        _cleanup_close_ int fd = open(parent, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                int r = remove_tree_at(fd, uid);
                if (r < 0)
                        berth_warn("kubelet: remove %s: %s", pd, strerror(-r));
        }
}
