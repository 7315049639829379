/* Removing trees without following symlinks: what a whiteout or an
 * opaque directory deletes in a vfs copy, and the overlay probe's
 * scratch directory. */
#include "storage/storage-internal.h"
#include <dirent.h>
#include <fcntl.h>

/* One pass over the directory; *removed tells whether it deleted
 * anything. */
static int clear_pass(int fd, bool *removed)
{
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (dup < 0)
                return -errno;
        d = fdopendir(dup);
        if (d == NULL) {
                r = -errno;
                close(dup);
                return r;
        }
        *removed = false;
        while (r == 0 && (errno = 0, de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                r = storage_remove_tree(fd, de->d_name);
                *removed = true;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(d);
        return r;
}

int storage_clear_dir(int fd)
{
        bool removed;
        int r;

        /* again until a pass finds nothing: POSIX leaves it open whether
         * readdir still sees every entry while others are unlinked */
        do
                r = clear_pass(fd, &removed);
        while (r == 0 && removed);
        return r;
}

int storage_remove_tree(int dirfd, const char *name)
{
        _cleanup_close_ int fd = -1;
        int r;

        if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR)
                return -errno;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        r = storage_clear_dir(fd);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}
