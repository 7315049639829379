/* Whiteouts (`.wh.NAME`) and opaque markers (`.wh..wh..opq`), in the apply
 * model (delete from the union being built in the destination) or the
 * overlay model (0:0 character devices and trusted.overlay.opaque=y for a
 * lowerdir).  A whiteout's directory is resolved without following any
 * symlink: a whiteout reached through one is rejected. */
#include "image/layer-internal.h"
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define OPAQUE_MARKER ".wh..wh..opq"

static int opaque_dir(struct layer_ctx *c, int dirfd, const char *dir, berth_error_t **err)
{
        _cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (fd < 0)
                return berth_error(err, errno, "open its directory");
        if (c->o.overlay_whiteouts) {
                if (fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                        return berth_error(err, errno, "set trusted.overlay.opaque");
                return 0;
        }
        r = layer_remove_lower(c, fd, dir);
        layer_cache_drop(c);
        if (r < 0)
                return berth_error(err, -r, "remove the lower layers' content");
        return 0;
}

int layer_whiteout(struct layer_ctx *c, const char *dir, const char *base, berth_error_t **err)
{
        bool opaque = strcmp(base, OPAQUE_MARKER) == 0;
        const char *name = base + strlen(".wh.");
        _cleanup_free_ char *target = NULL;
        _cleanup_close_ int parent = -1;
        int r;

        if (!opaque && (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0))
                return berth_error(err, 0, "not a valid whiteout");
        r = layer_open_dir(c, dir, true, true);
        if (r == -ELOOP)
                return berth_error(err, 0, "whiteout through a symlink");
        if (r < 0)
                return berth_error(err, -r, "open its directory");
        parent = r;
        /* the directory holding a whiteout is part of this layer */
        layer_pathset_add(&c->mine, dir);
        if (opaque) {
                r = opaque_dir(c, parent, dir, err);
                if (r == 0)
                        c->st->whiteouts++;
                return r;
        }
        target = dir[0] != '\0' ? xasprintf("%s/%s", dir, name) : xstrdup(name);
        if (layer_pathset_has(&c->mine, target))
                return 0; /* the layer's own content wins */
        r = layer_remove_tree(parent, name);
        layer_cache_drop(c);
        if (r < 0)
                return berth_error(err, -r, "remove what it hides");
        if (c->o.overlay_whiteouts && mknodat(parent, name, S_IFCHR, makedev(0, 0)) < 0)
                return berth_error(err, errno, "create the whiteout device");
        c->st->whiteouts++;
        return 0;
}
