/* libFuzzer target: what a registry or a user's config file hands the
 * registry client: WWW-Authenticate challenges (first byte even) and
 * Docker config.json credential files (first byte odd).  No crash, no
 * leak, and an error is always one line. */
#include "image/auth-config.h"
#include "image/registry.h"
#include "util/util.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(int r, berth_error_t *err)
{
        if (r < 0 && (err == NULL || err->msg == NULL || err->msg[0] == '\0' || strchr(err->msg, '\n') != NULL))
                abort();
}

static void fuzz_challenge(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = xmalloc(size + 1);
        _cleanup_error_ berth_error_t *err = NULL;
        struct registry_challenge ch = { 0 };

        memcpy(s, data, size);
        s[size] = '\0';
        int r = registry_challenge_parse(s, &ch, &err);
        check_error(r, err);
        if (r == 0 && ch.scheme == NULL)
                abort();
        registry_challenge_clear(&ch);
}

static void fuzz_config(const uint8_t *data, size_t size)
{
        static const char *const hosts[] = { "localhost:5000", "docker.io", "registry-1.docker.io", "[::1]:5000" };
        _cleanup_close_ int fd = memfd_create("config.json", MFD_CLOEXEC);
        char path[64];

        if (fd < 0 || write_all(fd, data, size) < 0)
                return;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        for (size_t i = 0; i < ARRAY_SIZE(hosts); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_free_ char *user = NULL;
                _cleanup_free_ char *pass = NULL;
                int r = auth_config_get(path, hosts[i], &user, &pass, &err);
                check_error(r, err);
                if (r == 0 && (user == NULL || pass == NULL))
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size == 0 || size > (1 << 20))
                return 0;
        if (data[0] & 1)
                fuzz_config(data + 1, size - 1);
        else
                fuzz_challenge(data + 1, size - 1);
        return 0;
}
