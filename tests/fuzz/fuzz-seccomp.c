/* libFuzzer target: linux.seccomp as the runtime compiles it (no cache). */
#include "runtime/seccomp.h"
#include "util/util.h"
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_t *seccomp = json_loadb((const char *)data, size, 0, NULL);
        struct seccomp_program prog;
        berth_error_t *err = NULL;

        if (seccomp == NULL)
                return 0;
        (void)seccomp_program_build(seccomp, NULL, &prog, &err);
        seccomp_program_free(&prog);
        berth_error_free(&err);
        json_decref(seccomp);
        return 0;
}
