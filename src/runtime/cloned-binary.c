#include "runtime/cloned-binary.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static bool running_sealed(int self)
{
        int seals = fcntl(self, F_GET_SEALS);

        return seals >= 0 && (seals & SEALS) == SEALS;
}

static int copy_into_memfd(int self, berth_error_t **err)
{
        _cleanup_close_ int memfd = memfd_create("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        struct stat st;
        off_t off = 0;

        if (memfd < 0)
                return berth_error(err, errno, "memfd_create");
        if (fstat(self, &st) < 0)
                return berth_error(err, errno, "stat /proc/self/exe");
        while (off < st.st_size) {
                ssize_t n = sendfile(memfd, self, &off, (size_t)(st.st_size - off));
                if (n <= 0)
                        return berth_error(err, n < 0 ? errno : EIO, "copy /proc/self/exe");
        }
        if (fcntl(memfd, F_ADD_SEALS, SEALS) < 0)
                return berth_error(err, errno, "seal the runtime copy");
        return steal_fd(&memfd);
}

int cloned_binary_ensure(int argc, char **argv, berth_error_t **err)
{
        _cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int copy = -1;
        extern char **environ;

        (void)argc;
        if (self < 0)
                return berth_error(err, errno, "open /proc/self/exe");
        if (running_sealed(self))
                return 0;
        if ((copy = copy_into_memfd(self, err)) < 0)
                return copy;
        syscall(SYS_execveat, copy, "", argv, environ, AT_EMPTY_PATH);
        return berth_error(err, errno, "re-execute from the sealed copy");
}
