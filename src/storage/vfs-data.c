/* A regular file's content for the vfs copy: shared extents when the
 * filesystem can (FICLONE: btrfs, xfs), else an in-kernel copy
 * (copy_file_range) of the data segments only, so sparse files stay
 * sparse; read/write where neither works. */
#include "storage/storage-internal.h"
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

static int copy_rw(int in, int out, off_t off, off_t len)
{
        char buf[128 * 1024];

        while (len > 0) {
                ssize_t n = pread(in, buf, len < (off_t)sizeof(buf) ? (size_t)len : sizeof(buf), off);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -1;
                if (n == 0) /* the source shrank: the ftruncate after pads it */
                        return 0;
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = pwrite(out, buf + done, (size_t)(n - done), off + done);

                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return -1;
                        done += w;
                }
                off += n;
                len -= n;
        }
        return 0;
}

static bool cfr_unusable(int e)
{
        /* across filesystems (EXDEV), not implemented, or not for this pair */
        return e == EXDEV || e == ENOSYS || e == EOPNOTSUPP || e == EINVAL;
}

static int copy_range(int in, int out, off_t off, off_t len)
{
        while (len > 0) {
                loff_t i = off, o = off;
                ssize_t n = copy_file_range(in, &i, out, &o, (size_t)len, 0);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && cfr_unusable(errno))
                        return copy_rw(in, out, off, len);
                if (n < 0)
                        return -1;
                if (n == 0)
                        return 0;
                off += n;
                len -= n;
        }
        return 0;
}

int vfs_copy_data(int in, int out, off_t size, berth_error_t **err)
{
        off_t off = 0;

        if (size == 0 || ioctl(out, FICLONE, in) == 0)
                return 0;
        while (off < size) {
                off_t data = lseek(in, off, SEEK_DATA), end;

                if (data < 0 && errno == ENXIO) /* a hole up to the end */
                        break;
                if (data < 0) /* no SEEK_DATA here: all of it is data */
                        data = off;
                if (data >= size)
                        break;
                end = lseek(in, data, SEEK_HOLE);
                if (end <= data || end > size)
                        end = size;
                if (copy_range(in, out, data, end - data) < 0)
                        return berth_error(err, errno, "copy content");
                off = end;
        }
        if (ftruncate(out, size) < 0)
                return berth_error(err, errno, "set size");
        return 0;
}
