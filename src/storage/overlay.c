/* Mounting a snapshot: overlayfs through the new mount API (one fsconfig
 * "lowerdir+" per layer) or through mount(2) with short lower paths; the
 * bind and tmpfs mounts for what overlay cannot express; unmounting. */
#include "storage/snapshot.h"
#include "util/util.h"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

bool snapshot_force_legacy_mount;

/* Why each is off: see snapshot.h. */
static const char *const overlay_opts[][2] = {
        { "index", "off" },
        { "redirect_dir", "off" },
        { "metacopy", "off" },
};

/* A path as a mount option takes it: the path itself when it is short
 * and plain, else /proc/self/fd/N of an O_PATH fd on it.  fsconfig
 * refuses strings of 256 bytes or more; overlay unescapes '\' in
 * upperdir/workdir, and mount(2)'s option string splits on ','. */
struct pathref {
        int fd;
        char proc[32];
        const char *s;
};

static void pathref_close(struct pathref *p)
{
        if (p->fd >= 0)
                close(p->fd);
        p->fd = -1;
}

static int pathref_open(struct pathref *p, const char *path, bool always_fd)
{
        p->fd = -1;
        p->s = path;
        if (!always_fd && strlen(path) < 256 && strpbrk(path, ",:\\") == NULL)
                return 0;
        p->fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (p->fd < 0)
                return -1;
        snprintf(p->proc, sizeof(p->proc), "/proc/self/fd/%d", p->fd);
        p->s = p->proc;
        return 0;
}

/* Does overlay take "lowerdir+" through fsconfig (Linux 6.8)?  Asked
 * once: on 6.8+ overlay resolves the path at once (ENOENT for one that
 * cannot exist); 6.5-6.7 do not know the key (EINVAL); before 6.5 the
 * generic legacy context stores any key and fails only at mount time
 * (success here, so: no); no fsopen at all (old kernel, seccomp) is a
 * no too. */
static bool lowerdir_plus_supported(void)
{
        static int cached; /* 0 unknown, 1 yes, -1 no */
        int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
        _cleanup_close_ int fs = -1;

        if (v != 0)
                return v > 0;
        fs = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOMEM))
                return false; /* ask again next time */
        v = -1;
        if (fs >= 0 && fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", "/proc/self/fd/-1", 0) < 0 &&
            errno == ENOENT)
                v = 1;
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
        return v > 0;
}

/* The error for a failed fsconfig/fsmount, with the filesystem's own
 * message from the context's log when it left one ("e overlay: ..."). */
static int fs_error(int fs, int e, berth_error_t **err, const char *what)
{
        char buf[512], last[512] = "";
        ssize_t n;

        while ((n = read(fs, buf, sizeof(buf) - 1)) > 0) {
                buf[n] = '\0';
                buf[strcspn(buf, "\n")] = '\0';
                if (n > 2 && buf[0] == 'e' && buf[1] == ' ')
                        snprintf(last, sizeof(last), "%s", buf + 2);
        }
        if (last[0] != '\0')
                return berth_error(err, e, "%s: %s", what, last);
        return berth_error(err, e, "%s", what);
}

static int fs_set_path(int fs, const char *key, const char *path, berth_error_t **err)
{
        struct pathref ref;
        int r, e;

        if (pathref_open(&ref, path, false) < 0)
                return berth_error(err, errno, "open %s %s", key, path);
        /* overlay resolves the path here: the fd may go right after */
        r = fsconfig(fs, FSCONFIG_SET_STRING, key, ref.s, 0);
        e = errno;
        pathref_close(&ref);
        if (r < 0) {
                _cleanup_free_ char *what = xasprintf("%s %s", key, path);

                return fs_error(fs, e, err, what);
        }
        return 0;
}

/* Errors name what failed; the caller adds the target. */
static int mount_new_api(const struct snapshot_spec *s, const char *target, berth_error_t **err)
{
        _cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC), mnt = -1;

        if (fs < 0)
                return berth_error(err, errno, "fsopen");
        if (fsconfig(fs, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0)
                return fs_error(fs, errno, err, "set source");
        /* each lowerdir+ goes below the ones before it: top layer first */
        for (size_t i = s->nlayers; i-- > 0;)
                if (fs_set_path(fs, "lowerdir+", s->layers[i], err) < 0)
                        return -1;
        if (!s->read_only && (fs_set_path(fs, "upperdir", s->upper, err) < 0 ||
                              fs_set_path(fs, "workdir", s->work, err) < 0))
                return -1;
        for (size_t i = 0; i < ARRAY_SIZE(overlay_opts); i++)
                if (fsconfig(fs, FSCONFIG_SET_STRING, overlay_opts[i][0], overlay_opts[i][1], 0) < 0)
                        return fs_error(fs, errno, err, overlay_opts[i][0]);
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return fs_error(fs, errno, err, "create");
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, s->read_only ? MOUNT_ATTR_RDONLY : 0);
        if (mnt < 0)
                return fs_error(fs, errno, err, "fsmount");
        if (move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return berth_error(err, errno, "move_mount");
        return 0;
}

static void pathrefs_close(struct pathref *refs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                pathref_close(&refs[i]);
}

/* The mount(2) option string; refs[0..n) are the layers, refs[n] and
 * refs[n+1] upper and work when writable. */
static char *legacy_options(const struct snapshot_spec *s, const struct pathref *refs)
{
        size_t cap = 128;
        char *o, *p;

        for (size_t i = 0; i < s->nlayers + (s->read_only ? 0 : 2); i++)
                cap += strlen(refs[i].s) + 16;
        o = p = xmalloc(cap);
        p = stpcpy(p, "lowerdir=");
        for (size_t i = s->nlayers; i-- > 0;)
                p += sprintf(p, "%s%s", refs[i].s, i > 0 ? ":" : "");
        if (!s->read_only)
                p += sprintf(p, ",upperdir=%s,workdir=%s", refs[s->nlayers].s, refs[s->nlayers + 1].s);
        for (size_t i = 0; i < ARRAY_SIZE(overlay_opts); i++)
                p += sprintf(p, ",%s=%s", overlay_opts[i][0], overlay_opts[i][1]);
        return o;
}

static int open_legacy_refs(const struct snapshot_spec *s, struct pathref *refs, berth_error_t **err)
{
        const char *extra[2] = { s->upper, s->work };

        for (size_t i = 0; i < s->nlayers; i++)
                if (pathref_open(&refs[i], s->layers[i], true) < 0)
                        return berth_error(err, errno, "open layer %s", s->layers[i]);
        for (size_t i = 0; !s->read_only && i < 2; i++)
                if (pathref_open(&refs[s->nlayers + i], extra[i], false) < 0)
                        return berth_error(err, errno, "open %s", extra[i]);
        return 0;
}

static int mount_legacy(const struct snapshot_spec *s, const char *target, berth_error_t **err)
{
        size_t nrefs = s->nlayers + 2;
        _cleanup_free_ struct pathref *refs = xcalloc(nrefs, sizeof(*refs));
        _cleanup_free_ char *opts = NULL;
        long page = sysconf(_SC_PAGESIZE);
        int r = -1;

        for (size_t i = 0; i < nrefs; i++)
                refs[i].fd = -1;
        if (open_legacy_refs(s, refs, err) < 0)
                goto out;
        opts = legacy_options(s, refs);
        /* the kernel copies one page and cuts the rest silently */
        if (page > 0 && strlen(opts) >= (size_t)page) {
                r = berth_error(err, E2BIG, "%zu layers need %zu bytes of options, mount(2) takes %ld (%s)",
                                s->nlayers, strlen(opts) + 1, page,
                                snapshot_force_legacy_mount ? "legacy mount forced"
                                                            : "this kernel's overlay has no lowerdir+, Linux 6.8");
                goto out;
        }
        r = mount("overlay", target, "overlay", s->read_only ? MS_RDONLY : 0, opts);
        if (r < 0)
                r = berth_error(err, errno, "mount(2) with %zu layers (the kernel log says why)", s->nlayers);
out:
        pathrefs_close(refs, nrefs);
        return r;
}

static int bind_mount(const char *src, const char *target, bool ro, berth_error_t **err)
{
        int e;

        if (mount(src, target, NULL, MS_BIND, NULL) < 0)
                return berth_error(err, errno, "bind %s at %s", src, target);
        if (!ro || mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0)
                return 0;
        e = errno;
        umount2(target, MNT_DETACH);
        return berth_error(err, e, "make %s read-only", target);
}

int snapshot_mount(const struct snapshot_spec *s, const char *target, berth_error_t **err)
{
        int r;

        if (s->nlayers > SNAPSHOT_MAX_LAYERS)
                return berth_error(err, E2BIG, "mount %s: %zu layers, overlayfs stacks at most %d", target,
                                   s->nlayers, SNAPSHOT_MAX_LAYERS);
        if (!s->read_only && (s->upper == NULL || s->work == NULL))
                return berth_error(err, EINVAL, "mount %s: a writable snapshot needs upper and work", target);
        if (s->read_only && s->nlayers == 0) {
                if (mount("tmpfs", target, "tmpfs", MS_RDONLY, "mode=0755") < 0)
                        return berth_error(err, errno, "mount an empty tmpfs at %s", target);
                return 0;
        }
        if (s->read_only && s->nlayers == 1)
                return bind_mount(s->layers[0], target, true, err);
        if (s->nlayers == 0)
                return bind_mount(s->upper, target, false, err);
        if (!snapshot_force_legacy_mount && lowerdir_plus_supported())
                r = mount_new_api(s, target, err);
        else
                r = mount_legacy(s, target, err);
        return r < 0 ? berth_error_wrap(err, "mount overlay at %s", target) : 0;
}

int snapshot_unmount(const char *target, berth_error_t **err)
{
        if (umount2(target, UMOUNT_NOFOLLOW) == 0 || errno == EINVAL || errno == ENOENT)
                return 0;
        if (errno == EBUSY && umount2(target, UMOUNT_NOFOLLOW | MNT_DETACH) == 0)
                return 0;
        return berth_error(err, errno, "unmount %s", target);
}
