/* CVE-2019-5736: a container that makes the runtime execute
 * /proc/self/exe (a "#!/proc/self/exe" entrypoint) could open the host's
 * runtime binary through /proc/<pid>/exe and overwrite it.  So the runtime
 * runs from a sealed memfd copy of itself whenever it starts container
 * processes: /proc/self/exe is then a file nobody can write. */
#pragma once
#include "util/error.h"

/* Re-execute from a sealed memfd unless already running from one.
 * Returns only on failure (or when already sealed: 0). */
int cloned_binary_ensure(int argc, char **argv, berth_error_t **err);
