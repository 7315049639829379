/* libFuzzer target: config.json as the runtime reads it.  Everything the
 * runtime derives from the document before creating anything is exercised:
 * validation, mount option parsing, namespace planning names, signals. */
#include "oci/config.h"
#include "oci/signals.h"
#include "runtime/mount.h"
#include "util/util.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_t *config = json_loadb((const char *)data, size, 0, NULL);
        berth_error_t *err = NULL;
        json_t *m;
        size_t i;

        if (size < 64) {
                char buf[64];
                memcpy(buf, data, size);
                buf[size] = '\0';
                (void)signal_parse(buf);
        }
        if (config == NULL)
                return 0;
        (void)oci_config_validate(config, &err);
        berth_error_free(&err);
        json_array_foreach(json_object_get(config, "mounts"), i, m) {
                struct mount_flags mf;
                mount_flags_parse(json_object_get(m, "options"), &mf);
                free(mf.data);
        }
        (void)mount_propagation_parse(json_path_str(config, "", "linux", "rootfsPropagation", NULL));
        json_decref(config);
        return 0;
}
